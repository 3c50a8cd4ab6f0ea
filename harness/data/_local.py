"""Helpers shared by the data modules: local folder layout, split checks, hub loading.

Example::

    path = split_file(source, "amh", "test", ".tsv", dataset="WikiANN")
    rows = load_hub(source, "am", "test", dataset="WikiANN")

Every problem becomes a :class:`~harness.data.source.DataError` whose message names the path or
hub id, the language and the valid choices, so that ``validate`` can print it as it is.
Wikipedia language codes live here because two datasets use them: WikiANN (built from
Wikipedia) and the Wikipedia dumps of the monolingual data.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from harness.core.languages import LANGUAGES
from harness.data.problems import Problems, collecting, read_numbered
from harness.data.source import DataError, DataSource

SPLITS = ("train", "validation", "test")

_NO_WIKIPEDIA = {"bzd", "cni", "hch", "oto", "shp", "tar"}
_WIKI_CODE_OVERRIDES = {"quy": "qu"}
WIKIPEDIA_CODES: dict[str, str] = {
    code: _WIKI_CODE_OVERRIDES.get(code, lang.iso1 or code)
    for code, lang in LANGUAGES.items() if code not in _NO_WIKIPEDIA
}
"""Canonical code → Wikipedia (and WikiANN) code: ISO 639-1 where one exists, else the
wiki's own code (``ang``, ``cdo``, ``crh``, ``eml``, ``frr``, ``lij``, ``olo``, ``nah``).
Six AmericasNLI languages have no Wikipedia."""


def mapped_code(lang: str, codes: Mapping[str, Any], dataset: str) -> Any:
    """The dataset's own code for canonical ``lang``, or a DataError listing the valid ones."""
    if lang not in codes:
        raise DataError(f"{dataset} has no language {lang!r}; valid: {', '.join(sorted(codes))}. "
                        f"For another language give local files instead (`path:`)")
    return codes[lang]


def check_split(split: str, valid: Iterable[str] = SPLITS, where: str = "") -> None:
    """Raise a DataError unless ``split`` is one of ``valid``."""
    valid = tuple(valid)
    if split not in valid:
        place = f" in {where}" if where else ""
        raise DataError(f"unknown split {split!r}{place}; valid: {', '.join(valid)}")


def local_root(source: DataSource) -> Path:
    """The folder of a local source, or a DataError naming the missing path."""
    if source.path is None:
        raise DataError(f"expected a local data source, got hub {source.hub!r}")
    root = Path(source.path)
    if not root.is_dir():
        raise DataError(f"data folder {root} {not_a('folder', root) or 'does not exist'}")
    return root


def language_dir(source: DataSource, lang: str) -> Path:
    """``<path>/<lang>``, or a DataError listing the language folders that exist."""
    root = local_root(source)
    folder = root / lang
    problem = not_a("folder", folder)
    if problem:
        raise DataError(f"folder {folder} of language {lang!r} {problem}")
    if not folder.is_dir():
        present = sorted(p.name for p in root.iterdir() if p.is_dir())
        raise DataError(f"no language {lang!r} in {root} (expected folder {folder}); "
                        f"languages there: {', '.join(present) or 'none'}")
    return folder


def split_file(source: DataSource, lang: str, split: str, suffix: str) -> Path:
    """``<path>/<lang>/<split><suffix>``, or a DataError listing the splits that exist."""
    check_split(split, where=f"{source.path} ({lang})")
    folder = language_dir(source, lang)
    return existing_file(folder / f"{split}{suffix}", f"language {lang!r} split {split!r}", "splits")


def check_local_splits(source: DataSource, lang: str, splits: Iterable[str], suffix: str) -> None:
    """Raise a DataError unless every split file of ``lang`` exists."""
    for split in splits:
        split_file(source, lang, split, suffix)


def scan_local_splits(source: DataSource, lang: str, splits: Iterable[str], suffix: str,
                      parse: Callable[[Path, Problems], object],
                      problems: Problems | None = None) -> None:
    """Parse every split file of a local source, reporting each bad line to ``problems``.

    Without a collector, raise one DataError listing them all.
    """
    if not source.is_local:
        return
    with collecting(problems) as found:
        for split in splits:
            parse(split_file(source, lang, split, suffix), found)


def check_splits(source: DataSource, lang: str, splits: Iterable[str], suffix: str,
                 codes: Mapping[str, Any], dataset: str) -> None:
    """Raise a DataError unless ``lang`` has every split in ``splits`` (cheap, no parsing).

    Local: the split files exist. Hub: ``codes`` (the dataset's language codes) has ``lang`` and
    the splits are valid ones.
    """
    if source.is_local:
        check_local_splits(source, lang, splits, suffix)
        return
    no_release(source, dataset)
    mapped_code(lang, codes, f"{dataset} {source.hub}")
    for split in splits:
        check_split(split, where=f"{source.hub} ({lang})")


def language_file(source: DataSource, lang: str, suffix: str = ".txt") -> Path:
    """``<path>/<lang><suffix>``, or a DataError listing the languages that have a file."""
    root = local_root(source)
    return existing_file(root / f"{lang}{suffix}", f"language {lang!r}", "languages")


def existing_file(path: Path, wanted: str, kind: str) -> Path:
    """``path`` if it is a file, else a DataError naming ``wanted`` and what is there.

    A path that exists but is no file is said as what it is (:func:`not_a`); a missing one is
    listed with what is there: the stems of the files beside ``path`` with its suffix, called
    ``kind``.

    Example::

        existing_file(root / "amh" / "test.tsv", "language 'amh' split 'test'", "splits")
        # DataError: .../amh/test.tsv for language 'amh' split 'test' is a directory, not a file
    """
    problem = not_a("file", path)
    if problem:
        raise DataError(f"{path} for {wanted} {problem}")
    if not path.is_file():
        present = sorted(p.stem for p in path.parent.glob(f"*{path.suffix}") if p.is_file())
        raise DataError(f"no file {path} for {wanted}; {kind} there: {', '.join(present) or 'none'}")
    return path


#: What a path that exists is, by its file type (``stat.S_IFMT``), where it is not what was wanted.
_FILE_TYPES = {stat.S_IFDIR: "a directory", stat.S_IFREG: "a file", stat.S_IFIFO: "a named pipe",
               stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
               stat.S_IFBLK: "a block device"}


def not_a(wanted: str, path: Path) -> str | None:
    """Why ``path`` cannot be read as a ``wanted`` ("file" or "folder"); None if it is one or is missing.

    Says what is there instead: ``is a directory, not a file``, ``is a symbolic link loop``,
    ``is a symbolic link to <target>, which does not exist``, ``cannot be read (Permission
    denied)``. A missing path is the caller's to say (it lists what is there).

    Example::

        not_a("file", Path("data/amh/test.tsv"))   # "is a directory, not a file" for a folder
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "is a symbolic link loop"
        if os.path.islink(path):
            return f"is a symbolic link to {os.readlink(path)}, which does not exist"
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        return f"cannot be read ({error.strerror or error})"
    wanted_type = stat.S_IFDIR if wanted == "folder" else stat.S_IFREG
    if stat.S_IFMT(mode) == wanted_type:
        return None
    return f"is {_FILE_TYPES.get(stat.S_IFMT(mode), 'no file or folder')}, not a {wanted}"


def read_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 file (a BOM is dropped) without line endings.

    Lines that are not UTF-8 become one DataError naming each (up to a limit).
    """
    problems = Problems()
    lines = [line for _, line in read_numbered(path, problems)]
    problems.raise_if_any()
    return lines


def no_release(source: DataSource, dataset: str) -> None:
    """Raise a DataError if ``source`` is a release, which ``dataset``'s loader cannot read."""
    if source.release is not None:
        raise DataError(f"release {source.release!r} cannot serve {dataset}: give 'path' or 'hub' "
                        f"(releases serve Universal Dependencies, AmericasNLI, monolingual text "
                        f"and parallel sentences)")


_HUB_READS: ContextVar[list[tuple[DataSource, str | None]] | None] = ContextVar("hub_reads",
                                                                              default=None)


@contextmanager
def recording_hub_reads() -> Iterator[list[tuple[DataSource, str | None]]]:
    """Within it, :func:`load_hub` records each (source, config) and returns no rows.

    So a loader tells which hub configs it reads for a language without reading them
    (``unibridge-bench fetch`` downloads those configs' files, :mod:`harness.planning.fetching`).
    """
    token = _HUB_READS.set([])
    try:
        yield _HUB_READS.get()
    finally:
        _HUB_READS.reset(token)


_HUB_SPLITS: ContextVar[list[tuple[DataSource, str | None, str]] | None] = ContextVar("hub_splits",
                                                                                  default=None)


@contextmanager
def recording_hub_splits() -> Iterator[list[tuple[DataSource, str | None, str]]]:
    """As :func:`recording_hub_reads`, recording each (source, config, split) read.

    ``validate`` checks those against the dataset's listing at its pin (:mod:`harness.data.hub_listings`).
    """
    token = _HUB_SPLITS.set([])
    try:
        with recording_hub_reads():
            yield _HUB_SPLITS.get()
    finally:
        _HUB_SPLITS.reset(token)


def load_hub(source: DataSource, config: str | None, split: str, **kwargs: Any) -> Any:
    """``datasets.load_dataset(hub, config, split=..., revision=...)`` with errors as DataError.

    With ``$UNIBRIDGE_HUB_MIRROR`` holding a copy of the dataset (:mod:`harness.data.hub`), the
    same call reads that folder instead of the hub. Within :func:`recording_hub_reads`, nothing
    is read: the call is recorded and gives no rows.
    """
    recorded = _HUB_READS.get()
    if recorded is not None:
        recorded.append((source, config))
        splits = _HUB_SPLITS.get()
        if splits is not None:
            splits.append((source, config, split))
        return []
    import datasets  # heavy: imported only when a hub dataset is read

    from harness.data import hub

    no_release(source, f"hub config {config!r}")
    mirror = hub.mirror_dir(source.hub)
    path, revision = (source.hub, source.revision) if mirror is None else (str(mirror), None)
    where = source.hub if mirror is None else f"{source.hub} (mirror {mirror})"
    try:
        return datasets.load_dataset(path, config, split=split, revision=revision, **kwargs)
    except Exception as error:  # noqa: BLE001 - any library failure becomes one clear message
        raise DataError(f"cannot load hub dataset {where!r} (config {config!r}, split "
                        f"{split!r}, revision {source.revision or 'default'}): "
                        f"{type(error).__name__}: {error}") from None


def label_names(rows: Any, column: str, valid: Sequence[str], where: str) -> Sequence[str]:
    """The label names of ``column`` by integer id: the dataset's class labels, checked.

    Hub datasets store labels as integers with their names in a ``ClassLabel`` feature (for a
    sequence column, its element feature). Those names are what the ids mean, so they are read
    from the data rather than assumed to follow ``valid``'s order; a name outside ``valid`` is
    a DataError. A column without class labels is taken to count in ``valid``'s order.
    """
    feature = getattr(rows, "features", None) and rows.features.get(column)
    feature = getattr(feature, "feature", feature)
    names = getattr(feature, "names", None)
    if names is None:
        return tuple(valid)
    unknown = [name for name in names if name not in valid]
    if unknown:
        raise DataError(f"{where}: column {column!r} has class labels {', '.join(map(repr, unknown))} "
                        f"outside the task's labels ({', '.join(valid)})")
    return tuple(names)
