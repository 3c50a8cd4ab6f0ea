"""Where a dataset comes from: a local file/folder, a hub dataset id or a published release.

Example (suite YAML)::

    data:
      path: ../fixtures/wikiann        # local form, relative to the suite file
    # or
    data:
      hub: unimelb-nlp/wikiann
      revision: f0a3be6dc5564c0cc4150bb660144800a1f539d4   # a commit: pinned
    # or (UD, AmericasNLI, AmericasNLP 2021 text, the UniBridge authors' parallel files;
    #     harness.data.releases)
    data:
      release: ud
      revision: "2.13"                 # the release's version (a commit for the others)

Every data source has a local and a hub form; the hub form stays real code
(``datasets.load_dataset``, also when it reads a local mirror of the hub repository:
:mod:`harness.data.hub`) and the local form needs nothing but files. The release form
downloads pinned, checksummed files once into a data cache (:mod:`harness.data.releases`);
``url`` points it at a mirror or local copy of the same bytes. ``legacy_upos: map`` (read by
the UD loader in every form) maps UD v1 / Google universal tags to UD v2 instead of failing.
:meth:`DataSource.fingerprint` enters the cache key of every stage that reads the data, so an
edited fixture file invalidates what was built from it.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from harness.core.config import StrictConfig
from harness.data import hub
from harness.data.release_pins import RELEASES, release_version


class DataError(RuntimeError):
    """Data that cannot be loaded; the message says which source and how to fix it."""


def release_names() -> list[str]:
    """The names of the published releases (:data:`harness.data.release_pins.RELEASES`), sorted."""
    return sorted(RELEASES)


class DataSource(StrictConfig):
    """Exactly one of ``path`` (local files), ``hub`` (dataset id) or ``release`` (pinned files).

    ``revision``: the hub revision, or the release version (default: the release's pinned one).
    ``url``: release form only, a mirror URL or local path holding the release's bytes.
    ``legacy_upos``: ``error`` (default) rejects tags outside UD v2; ``map`` does what UD's
    v1→v2 conversion does to UPOS (``CONJ`` → ``CCONJ``, copulas → ``AUX``) and maps the Google
    universal tags ``PRT`` and ``.`` to ``PART`` and ``PUNCT`` (:mod:`harness.data.ud`).
    """

    path: Path | None = None
    hub: str | None = None
    release: str | None = None
    revision: str | None = None
    url: str | None = None
    legacy_upos: Literal["error", "map"] = "error"

    @model_validator(mode="after")
    def _exactly_one_form(self) -> DataSource:
        forms = [self.path, self.hub, self.release]
        if sum(form is not None for form in forms) != 1:
            raise ValueError("give exactly one of 'path' (local files), 'hub' (dataset id) or "
                             f"'release' (a published release: {', '.join(release_names())})")
        if self.url is not None and self.release is None:
            raise ValueError("'url' (a mirror of a release) needs 'release'")
        if self.release is not None:
            release_version(self.release, self.revision)
        return self

    @property
    def is_local(self) -> bool:
        """True for the local-file form."""
        return self.path is not None

    def resolved(self, base: Path) -> DataSource:
        """A copy whose relative ``path`` (or local mirror ``url``) is made absolute against ``base``."""
        if self.url is not None and "://" not in self.url and not Path(self.url).is_absolute():
            return self.model_copy(update={"url": str((base / self.url).resolve())})
        if self.path is None or self.path.is_absolute():
            return self
        return self.model_copy(update={"path": (base / self.path).resolve()})

    def fingerprint(self, langs: tuple[str, ...] = ()) -> str:
        """Content hash of the local files, the hub id and commit, or the release's pin.

        A hub source is keyed by a commit: its pinned revision, the commit its mirror holds, or
        the commit an unpinned revision names now (:meth:`_hub_fingerprint`), so that a dataset
        that changes on the hub never reuses artifacts built from its old content.

        ``langs`` scopes a local folder to the files of those languages (:func:`language_files`),
        so that editing one language's file leaves the keys of stages reading others unchanged.
        """
        # "map-cop": the mapping retags copulas AUX since, so data mapped before gets new keys
        options = "" if self.legacy_upos == "error" else "+legacy_upos=map-cop"
        if self.release is not None:
            release, version = release_version(self.release, self.revision)
            checksums = sorted(release.versions[version].checksums.items())
            digest = hashlib.sha256(repr(checksums).encode()).hexdigest()
            return f"release:{self.release}@{version}:{digest}{options}"
        if self.path is None:
            return self._hub_fingerprint() + options
        files = language_files(self.path, langs)
        if files is None:
            return "sha256:" + hash_tree(self.path) + options
        return "sha256:" + ",".join(hash_tree(file) for file in files) + options

    def _hub_fingerprint(self) -> str:
        """``hub:<id>@<commit>``: the pin, the mirror's commit, or the commit the revision names.

        A mirror that records no commit adds a digest of its files; an unpinned revision that
        cannot be resolved stays by name (``@main``), as before pins existed.
        """
        revision = self.revision or "default"
        mirror = hub.mirror_dir(self.hub)
        if mirror is not None:
            commit = hub.mirror_commit(mirror)
            if commit is not None:
                return f"hub:{self.hub}@{commit}"
            return f"hub:{self.hub}@{revision}+mirror:{hub.mirror_digest(mirror)}"
        if hub.is_commit(self.revision):
            return f"hub:{self.hub}@{self.revision}"
        commit = hub.resolved_commit(self.hub, self.revision)
        return f"hub:{self.hub}@{revision}" + (f"={commit}" if commit else "")


def language_files(path: Path, langs: tuple[str, ...]) -> list[Path] | None:
    """The files under folder ``path`` that belong to ``langs``, in order; None: not scopable.

    A file belongs to ``lang`` when it sits in a top-level folder ``<lang>/`` (the task layouts:
    ``wikiann/amh/test.tsv``) or is a top-level ``<lang>.<ext>`` (``monolingual/amh.txt``). When
    some language has no such file (another layout, a single file), the whole folder is hashed:
    more rebuilding, never a stale artifact.
    """
    if not langs or not Path(path).is_dir():
        return None
    files = []
    for lang in langs:
        own = sorted(p for p in (Path(path) / lang).rglob("*") if p.is_file())
        own += sorted(p for p in Path(path).glob(f"{lang}.*") if p.is_file())
        if not own:
            return None
        files += own
    return files


class DataRef(StrictConfig):
    """A data source as a stage config holds it: only the content fingerprint enters the key.

    The local path is excluded from ``model_dump`` so that moving a checkout (or the fixtures)
    keeps every cached artifact valid, while editing a file invalidates them.
    """

    source: DataSource = Field(exclude=True)
    fingerprint: str

    @classmethod
    def of(cls, source: DataSource, langs: tuple[str, ...] = ()) -> DataRef:
        """Reference ``source`` by its current fingerprint, scoped to ``langs`` when given."""
        return cls(source=source, fingerprint=source.fingerprint(langs))


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


def _root_files(folder: Path) -> list[str]:
    """The names of the files at the top of ``folder`` (a repository's root)."""
    return [path.name for path in folder.iterdir() if path.is_file()]


def _refuse_a_loading_script(source: DataSource, key: str, files: list[str], where: str) -> None:
    """One DataError when hub dataset ``source``'s repository is a loading script (``files``: its root)."""
    script = hub.loading_script(source.hub, files)
    if script is None:
        return
    raise DataError(
        f"hub dataset {source.hub!r} is a loading script ({script} in {where}), which the "
        f"harness's datasets no longer runs (load_dataset refuses any repository holding one): read "
        f"the files the script downloads as local files instead, `{key}: {{path: DIR}}` (a YAML "
        f"task names their layout under `local:`; suites/examples/masakhaner2.yaml reads MasakhaNER "
        f"2.0 so, from its authors' repository)")


def check_hub_reachable(source: DataSource, key: str) -> None:
    """Raise :class:`DataError` unless hub dataset ``source`` is mirrored, cached or downloadable.

    Called once per hub dataset at validation, so that an offline machine stops before any
    training with a message naming the dataset and the local form to use instead (``key`` is the
    suite key that holds it). A dataset counts as present when a mirror folder holds it
    (:mod:`harness.data.hub`; a mirror of another commit than the pinned one is an error) or the
    Hugging Face hub cache has a snapshot of the revision asked for; otherwise the hub is asked
    for its metadata (10 s timeout) unless ``HF_HUB_OFFLINE`` or ``HF_DATASETS_OFFLINE`` is set.
    Where the repository's files are seen (mirror, snapshot, the hub's answer), a repository
    that is a loading script is an error too (:func:`harness.data.hub.loading_script`).
    """
    if source.hub is None:
        return
    mirror = hub.mirror_dir(source.hub)
    if mirror is not None:
        held = hub.mirror_commit(mirror)
        if hub.is_commit(source.revision) and held is not None and held != source.revision:
            raise DataError(f"hub dataset {source.hub!r}: the mirror {mirror} holds commit {held}, "
                            f"but the suite pins revision {source.revision}; download that "
                            f"revision into the mirror or change the pin")
        _refuse_a_loading_script(source, key, _root_files(mirror), f"the mirror {mirror}")
        return
    snapshot = hub.hub_cache_snapshot(source.hub, source.revision)
    if snapshot is not None:
        _refuse_a_loading_script(source, key, _root_files(snapshot), f"the hub cache ({snapshot})")
        return
    reason = hub.offline_reason()
    if reason is None:
        from huggingface_hub import HfApi

        try:
            info = HfApi().dataset_info(source.hub, revision=source.revision, timeout=10)
        except Exception as error:  # noqa: BLE001 - any failure means: not reachable from here
            reason = type(error).__name__
        else:
            files = [sibling.rfilename for sibling in info.siblings or ()]
            _refuse_a_loading_script(source, key, files, "the hub")
            return
    revision = f" at revision {source.revision!r}" if source.revision else ""
    raise DataError(
        f"hub dataset {source.hub!r}{revision} is not in the local cache and not reachable "
        f"({reason}). "
        f"Download it where there is network (`unibridge-bench fetch SUITE --to DIR` fetches "
        f"what the suite reads), point ${hub.MIRROR_ENV} at a folder holding a copy "
        f"of it (docs/data.md), or give local files instead: `{key}: {{path: DIR}}` (the layout "
        f"is in the docstring of the harness.data module that reads it, and in fixtures/README.md).")


def unpinned_warning(source: DataSource, key: str) -> str | None:
    """A warning for a hub source whose revision can move (no full commit id), else None.

    It names the commit the revision stands for now (the mirror's, else the hub's or the
    cache's, as the fingerprint does), ready to be pasted into the suite.
    """
    if source.hub is None or hub.is_commit(source.revision):
        return None
    revision = source.revision or "main"
    mirror = hub.mirror_dir(source.hub)
    if mirror is not None:
        commit = hub.mirror_commit(mirror)
        unknown = f"the mirror {mirror} records no commit"
    else:
        commit = hub.resolved_commit(source.hub, source.revision)
        unknown = "its commit could not be looked up here"
    now = f"it names commit {commit} now; pin it with `revision: {commit}`" if commit else unknown
    return (f"{key}: hub dataset {source.hub!r} is not pinned (revision {revision!r} can move): "
            f"{now}. Each run keys its artifacts by the commit (or mirror content) it reads.")
