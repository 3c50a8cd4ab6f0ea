"""Where a dataset comes from: a local file/folder or a hub dataset id.

Example (suite YAML)::

    data:
      path: ../fixtures/wikiann        # local form, relative to the suite file
    # or
    data:
      hub: unimelb-nlp/wikiann
      revision: main

Every data source has both forms; the hub form stays real code (``datasets.load_dataset``) and
the local form needs nothing but files. :meth:`DataSource.fingerprint` enters the cache key of
every stage that reads the data, so an edited fixture file invalidates what was built from it.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DataError(RuntimeError):
    """Data that cannot be loaded; the message says which source and how to fix it."""


class DataSource(BaseModel):
    """Exactly one of ``path`` (local file or folder) or ``hub`` (dataset id on the hub)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path | None = None
    hub: str | None = None
    revision: str | None = None

    @model_validator(mode="after")
    def _exactly_one_form(self) -> DataSource:
        if (self.path is None) == (self.hub is None):
            raise ValueError("give exactly one of 'path' (local files) or 'hub' (dataset id)")
        return self

    @property
    def is_local(self) -> bool:
        """True for the local-file form."""
        return self.path is not None

    def resolved(self, base: Path) -> DataSource:
        """A copy whose relative ``path`` is made absolute against ``base``."""
        if self.path is None or self.path.is_absolute():
            return self
        return self.model_copy(update={"path": (base / self.path).resolve()})

    def fingerprint(self) -> str:
        """Content hash of the local files, or the hub id and revision."""
        if self.path is None:
            return f"hub:{self.hub}@{self.revision or 'default'}"
        return "sha256:" + hash_tree(self.path)


class DataRef(BaseModel):
    """A data source as a stage config holds it: only the content fingerprint enters the key.

    The local path is excluded from ``model_dump`` so that moving a checkout (or the fixtures)
    keeps every cached artifact valid, while editing a file invalidates them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: DataSource = Field(exclude=True)
    fingerprint: str

    @classmethod
    def of(cls, source: DataSource) -> DataRef:
        """Reference ``source`` by its current fingerprint."""
        return cls(source=source, fingerprint=source.fingerprint())


@lru_cache(maxsize=256)
def hash_tree(path: Path) -> str:
    """SHA-256 over the relative names and bytes of every file under ``path`` (or one file)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"data path {path} does not exist")
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(path) if file != path else file.name).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def check_hub_reachable(source: DataSource, key: str) -> None:
    """Raise :class:`DataError` unless hub dataset ``source`` is cached here or downloadable.

    Called once per hub dataset at validation, so that an offline machine stops before any
    training with a message naming the dataset and the local form to use instead (``key`` is the
    suite key that holds it). A dataset counts as present when the Hugging Face hub cache has a
    folder for it; otherwise the hub is asked for its metadata (10 s timeout) unless
    ``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE`` is set.
    """
    if source.hub is None or _in_hub_cache(source.hub):
        return
    from huggingface_hub import HfApi, constants

    reason = "HF_HUB_OFFLINE is set"
    if not constants.HF_HUB_OFFLINE:
        try:
            HfApi().dataset_info(source.hub, revision=source.revision, timeout=10)
            return
        except Exception as error:  # noqa: BLE001 - any failure means: not reachable from here
            reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    raise DataError(
        f"hub dataset {source.hub!r} is not in the local cache and not reachable ({reason}). "
        f"Download it where there is network, or give local files instead: "
        f"`{key}: {{path: DIR}}` (the layout is in the docstring of the harness.data module "
        f"that reads it, and in fixtures/README.md).")


def _in_hub_cache(hub: str) -> bool:
    from huggingface_hub import constants

    return (Path(constants.HF_HUB_CACHE) / f"datasets--{hub.replace('/', '--')}").is_dir()
