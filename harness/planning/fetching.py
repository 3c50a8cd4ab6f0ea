"""Download what the selected jobs of a suite read, for a node without network.

Example::

    stages, _ = selected_stages(suite, methods, jobs)
    items = fetch_items(graph_reads(stages), stages, Destination.under(Path("offline")))
    for item in items:
        item.run()                      # DataError when it cannot be downloaded or verified

What is fetched is what the stages of the selected jobs read (:mod:`harness.tasks.reads`), so
``--only`` narrows it as it narrows ``validate``:

- **Releases** (:mod:`harness.data.releases`, whatever entries it holds): the loader's own check
  of each language runs with the data cache pointed at the destination, so exactly the files
  that language needs are downloaded and verified against their pinned checksums.
- **Hub datasets**: the loaders are run with :func:`~harness.data._local.recording_hub_splits`,
  which records the hub configs they would read; the files of those configs (the ``configs:``
  metadata of the dataset card at the pinned revision) and the card are downloaded with
  ``huggingface_hub.snapshot_download`` into ``<mirror>/<owner>/<name>/``, the layout
  ``UNIBRIDGE_HUB_MIRROR`` reads; ``hf`` records the commit beside them, which is what
  ``validate`` compares with the pin.
- **Backbone checkpoints** (hub ids of the backbone stages): ``snapshot_download`` at the
  backbone's pinned commit (``BackboneSpec.revision``; the default branch for one without a pin)
  into a Hugging Face hub cache, which the harness reads offline (``HF_HUB_CACHE``;
  :func:`harness.models.backbones.pretrained_path`). Weights of other frameworks (TensorFlow,
  Flax, ONNX…) are left out, and ``*.bin`` when the repository has safetensors
  (:func:`harness.models.backbones.download_ignores`).

``HF_ENDPOINT`` (read at call time) points the hub downloads at a mirror of the hub.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.core.graph import Stage
from harness.data import hub, monolingual, parallel, releases
from harness.data._local import recording_hub_splits
from harness.data.source import DataError, DataSource
from harness.tasks.reads import DataRead, PairRead, TaskRead, TextRead
from harness.tasks.specs import get_task

CARD = "README.md"


@dataclass(frozen=True)
class Destination:
    """Where fetched files go: the data cache, the hub mirror and the model cache."""

    releases: Path
    mirror: Path
    models: Path

    @classmethod
    def under(cls, root: Path) -> Destination:
        """``root/releases``, ``root/hub`` and ``root/models`` (``fetch --to ROOT``)."""
        root = Path(root).resolve()
        return cls(root / "releases", root / "hub", root / "models")

    @classmethod
    def here(cls) -> Destination:
        """Where this machine reads: its data cache, ``$UNIBRIDGE_HUB_MIRROR``, its hub cache."""
        from huggingface_hub import constants

        mirror = os.environ.get(hub.MIRROR_ENV)
        if not mirror:
            raise DataError(f"fetch without --to writes hub datasets into ${hub.MIRROR_ENV}, which "
                            f"is not set; set it to a folder or give --to DIR")
        return cls(releases.cache_dir(), Path(mirror).expanduser(), Path(constants.HF_HUB_CACHE))

    def environment(self) -> dict[str, str]:
        """The variables that make the harness read what was fetched, offline."""
        return {releases.CACHE_ENV: str(self.releases), hub.MIRROR_ENV: str(self.mirror),
                "HF_HUB_CACHE": str(self.models), "HF_HUB_OFFLINE": "1"}


@dataclass(frozen=True)
class FetchItem:
    """One thing to download: what it is (``kind``, ``name``) and how."""

    kind: str  # "release", "hub dataset" or "backbone"
    name: str
    run: Callable[[], None]


def fetch_items(reads: Iterable[DataRead], stages: Iterable[Stage],
                destination: Destination) -> list[FetchItem]:
    """Everything ``reads`` and the backbone ``stages`` need from the network, once each."""
    reads = list(reads)
    items = [FetchItem("release", _describe(read), _release_fetch(read, destination))
             for read in reads if _data_of(read).release is not None]
    for source, configs in hub_configs(reads).items():
        items.append(FetchItem("hub dataset", f"{source.hub} ({', '.join(configs)})",
                               _dataset_fetch(source, configs, destination.mirror)))
    for model, revision in backbone_ids(stages):
        name = f"{model}@{revision[:7]}" if revision else model
        items.append(FetchItem("backbone", name, _model_fetch(model, revision, destination.models)))
    return items


def hub_configs(reads: Iterable[DataRead]) -> dict[DataSource, list[str]]:
    """The hub configs each hub dataset's loader reads for ``reads``, in first-read order."""
    configs: dict[DataSource, list[str]] = {}
    for source, config, _ in recorded_hub_splits(reads):
        named = configs.setdefault(source, [])
        if config not in named:
            named.append(config)
    return configs


def recorded_hub_splits(reads: Iterable[DataRead]) -> list[tuple[DataSource, str | None, str]]:
    """Each (hub dataset, config, split) the loaders of ``reads`` read, in order; nothing is read.

    The loaders run in recording mode (:func:`harness.data._local.recording_hub_splits`), their
    logger quiet meanwhile: they would say "only 0 samples" of the rows they were not given.
    """
    data_log = logging.getLogger("harness.data")
    level = data_log.level
    data_log.setLevel(logging.ERROR)
    try:
        with recording_hub_splits() as recorded:
            for read in reads:
                if _data_of(read).hub is not None:
                    _load(read)
    finally:
        data_log.setLevel(level)
    return recorded


def backbone_ids(stages: Iterable[Stage]) -> list[tuple[str, str | None]]:
    """(hub id, pinned commit or None) of the pretrained backbones among ``stages``.

    Not tiny ones, not a local folder; once each.
    """
    from harness.models.backbones import BackboneConfig, hub_pin

    ids: list[tuple[str, str | None]] = []
    for stage in stages:
        if not isinstance(stage.config, BackboneConfig) or stage.config.spec().tiny:
            continue
        spec = stage.config.spec()
        model = stage.config.pretrained or spec.hub_id
        entry = (model, hub_pin(spec, stage.config.pretrained))
        if model and not Path(model).is_dir() and entry not in ids:
            ids.append(entry)
    return ids


def _data_of(read: DataRead) -> DataSource:
    return read.corpus.data if isinstance(read, PairRead) else read.source


def _describe(read: DataRead) -> str:
    name = _data_of(read).release
    if isinstance(read, PairRead):
        return f"{name} ({read.target}-{read.source})"
    return f"{name} ({read.lang})"


def _load(read: DataRead) -> None:
    """Run the loader of ``read`` as its stage would (within recording: no rows come back)."""
    try:
        if isinstance(read, TaskRead):
            for split in read.splits:
                get_task(read.task).load(read.source, read.lang, split)
        elif isinstance(read, TextRead):
            monolingual.load(read.source, read.lang, 1, 1, seed=0)
        else:
            parallel.load(read.corpus, read.target, read.source)
    except DataError:  # no rows: a loader that found nothing to read complains; it was recorded
        pass


def _check(read: DataRead) -> None:
    """The loader's check of ``read``: for a release it downloads and verifies the files."""
    if isinstance(read, TaskRead):
        get_task(read.task).data.check(read.source, read.lang, read.splits)
    elif isinstance(read, TextRead):
        monolingual.check(read.source, read.lang)
    else:
        parallel.check(read.corpus, read.target, read.source, read.k)


def _release_fetch(read: DataRead, destination: Destination) -> Callable[[], None]:
    def run() -> None:
        with _environment(releases.CACHE_ENV, str(destination.releases)):
            _check(read)

    return run


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """``os.environ[name] = value`` for the duration (the release module reads it per call)."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _dataset_fetch(source: DataSource, configs: list[str], mirror: Path) -> Callable[[], None]:
    def run() -> None:
        from huggingface_hub import hf_hub_download, snapshot_download

        folder = mirror / source.hub
        common = dict(repo_id=source.hub, repo_type="dataset", revision=source.revision,
                      local_dir=folder, endpoint=os.environ.get("HF_ENDPOINT"))
        card = _hub_call(source.hub, lambda: hf_hub_download(filename=CARD, **common))
        patterns = config_files(Path(card), configs, source.hub)
        _hub_call(source.hub, lambda: snapshot_download(allow_patterns=[CARD, *patterns], **common))

    return run


def config_files(card: Path, configs: list[str], hub_id: str) -> list[str]:
    """The data file patterns of ``configs`` in a dataset card's ``configs:`` metadata.

    Raises:
        DataError: the card has no such metadata (a dataset with a loading script) or lacks a
            config.
    """
    text = card.read_text(encoding="utf-8")
    parts = text.split("---", 2)
    metadata = yaml.safe_load(parts[1]) if text.startswith("---") and len(parts) == 3 else None
    listed = {entry.get("config_name", "default"): entry.get("data_files")
              for entry in (metadata or {}).get("configs") or []}
    missing = [config for config in configs if listed.get(config or "default") is None]
    if missing:
        raise DataError(f"hub dataset {hub_id!r}: its card lists no data files for config(s) "
                        f"{', '.join(map(str, missing))} (configs listed: "
                        f"{', '.join(map(str, listed)) or 'none'}); download the repository with "
                        f"`hf download --repo-type dataset {hub_id} --local-dir DIR` instead")
    patterns: list[str] = []
    for config in configs:
        patterns += _paths(listed[config or "default"])
    return list(dict.fromkeys(patterns))


def _paths(data_files: object) -> list[str]:
    """File patterns of one ``data_files`` value.

    A path, a list of paths or of ``{split, path}``, or a split → path(s) mapping.
    """
    if isinstance(data_files, str):
        return [data_files]
    if isinstance(data_files, dict):
        return [p for value in data_files.values() for p in _paths(value)]
    paths: list[str] = []
    for entry in data_files or []:
        paths += _paths(entry["path"] if isinstance(entry, dict) else entry)
    return paths


def _model_fetch(model: str, revision: str | None, cache: Path) -> Callable[[], None]:
    def run() -> None:
        from huggingface_hub import HfApi, snapshot_download

        from harness.models.backbones import download_ignores

        endpoint = os.environ.get("HF_ENDPOINT")
        info = _hub_call(model, lambda: HfApi(endpoint=endpoint).model_info(model, revision=revision))
        files = [sibling.rfilename for sibling in info.siblings or []]
        # at the pin: the cache's snapshots/<commit> folder is what the harness reads
        _hub_call(model, lambda: snapshot_download(model, revision=revision, cache_dir=cache,
                                                   ignore_patterns=download_ignores(files),
                                                   endpoint=endpoint))

    return run


def _hub_call(repo: str, call: Callable[[], object]) -> object:
    """``call()``, a hub failure (network, gated, missing file) as one DataError naming ``repo``."""
    try:
        return call()
    except DataError:
        raise
    except Exception as error:  # noqa: BLE001 - any hub library failure becomes one message
        first_line = next(iter(str(error).splitlines()), "")
        raise DataError(f"{repo}: {type(error).__name__}: {first_line}") from None
