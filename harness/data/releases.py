"""Published data releases, pinned by version and checksum, fetched once into a data cache.

Example (suite YAML)::

    data: {release: ud}                                    # UD v2.13 from LINDAT (the default)
    data: {release: ud, revision: "2.13", url: /mirror/ud-treebanks-v2.13.tgz}
    data: {release: ud_repositories, revision: r2.13}      # the same treebanks, file by file
    data: {release: ud_repositories, revision: 625e88d50fafef92a4e33f19252d39b8eabe554b}
    monolingual:
      target_data: {release: americasnlp2021}              # pinned commit of AmericasNLP 2021
    tasks: {nli: {data: {release: americasnli}}}           # AmericasNLI at its authors' commit
    parallel: [{format: unibridge, data: {release: unibridge_alignment}}]  # the authors' K pairs

Why: the paper's treebanks (UD v2.13) are not on the hub in a loadable form, six AmericasNLI
languages have no Wikipedia, no commit of the hub's AmericasNLI could be verified here, and the
exact parallel sentences of the harmony weights are only in the UniBridge authors' repository;
all four come from files their authors publish, pinned by content. Each release version
is pinned by content: a SHA-256 (checked by ``pooch``) or, for a file of a git repository whose
bytes we could not download here, its git blob id (checked by :func:`_check_git_blob`). A file
is downloaded once into :func:`cache_dir` (``$UNIBRIDGE_DATA_CACHE``, else the user cache folder
``unibridge-bench``) and re-verified on every use; a changed or partial file is an error, never
silently reused.

A release is an archive (checksum key ``""``) or a file set: files of a git repository at a
pinned tag or commit, fetched from ``raw.githubusercontent.com`` (``ud_repositories``: each UD
treebank repository at its ``r2.13`` tag, the way the authors' loader reads them, and Sindhi at
the ``dev`` commit the authors read, since it is in no release). A pin may name mirrors: URLs
of the same bytes tried in order when the first fails.

``url`` (suite key) replaces where the bytes come from: a mirror URL or a local path, for the
archive itself (UD) or for the folder holding the release's files in their relative layout
(AmericasNLP; ``UD_<Treebank>/<file>`` for ``ud_repositories``). The pinned
checksums still apply, so a mirror must hold the very same bytes. Archives are unpacked member
by member (``pooch.Untar``), so only the treebanks a suite reads are extracted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path
from urllib.parse import quote, urlparse

from harness.data.release_pins import RELEASES, Pinned, Release, is_local_url, release_version
from harness.data.source import DataError, DataSource

logger = logging.getLogger(__name__)

CACHE_ENV = "UNIBRIDGE_DATA_CACHE"
_COPY_ADVICE = ("Without network, copy the file there yourself or give a mirror with `url:` "
                "(a local path works); the pinned checksum is {checksum}")
_FETCH_ADVICE = (f"Without network: run `unibridge-bench fetch SUITE` where there is network and "
                 f"copy that folder here (or point ${CACHE_ENV} at the copy), or give a mirror "
                 f"with `url:` (a local path works)")
_FAILED: dict[tuple[str, str], DataError] = {}
"""Remote fetches that failed in this process, so that one unreachable URL is tried once."""


def pinned(source: DataSource, serves: str) -> tuple[Release, str, Pinned]:
    """The release of ``source``, its version and pin; DataError unless it serves ``serves``."""
    if source.release is None:
        raise DataError(f"expected a release data source, got {source!r}")
    release, version = release_version(source.release, source.revision)
    if release.serves != serves:
        valid = sorted(name for name, r in RELEASES.items() if r.serves == serves)
        raise DataError(f"release {release.name!r} holds {release.serves}, not {serves}; "
                        f"releases of {serves}: {', '.join(valid) or 'none'}")
    return release, version, release.versions[version]


def cache_dir() -> Path:
    """Where releases are kept: ``$UNIBRIDGE_DATA_CACHE``, else the user cache folder."""
    import pooch

    return Path(os.environ.get(CACHE_ENV) or pooch.os_cache("unibridge-bench"))


def fetch_archive_members(source: DataSource, serves: str, members: list[str]) -> Path:
    """Download the archive once, unpack ``members`` (folders under its root); its root folder."""
    import pooch

    release, version, pin = pinned(source, serves)
    urls = [source.url] if source.url else pin.file_urls("")
    inside = [f"{pin.root}/{member}" for member in members]
    archive = _retrieve(urls, pin.checksums[""], _cache_folder(release, version),
                        _file_name(urls[0]), processor=pooch.Untar(members=inside))
    return Path(f"{archive}.untar") / pin.root


def fetch_file(source: DataSource, serves: str, relative: str) -> Path:
    """Download file ``relative`` of the release once; its verified local path."""
    release, version, pin = pinned(source, serves)
    if relative not in pin.checksums:
        raise DataError(f"release {release.name!r} {version} pins no file {relative!r}; "
                        f"pinned: {', '.join(sorted(pin.checksums))}")
    if source.url:  # a local copy or mirror: the plain layout
        base = source.url.rstrip("/")
        urls, bases = [f"{base}/{relative}" if is_local_url(base) else f"{base}/{quote(relative)}"], [base]
    else:
        urls, bases = pin.file_urls(relative), [base.rstrip("/") for base in pin.bases()]
    folder = _cache_folder(release, version) / Path(relative).parent
    return _retrieve(urls, pin.checksums[relative], folder, Path(relative).name, bases=bases)


def fetch_pinned(source: DataSource) -> list[Path]:
    """Every file the version of release ``source`` pins, downloaded once and verified.

    The generic download (e.g. staging a suite's data for an offline node): an archive is
    fetched whole and not unpacked; a file set file by file. Failures: one DataError each.
    """
    release, version, pin = pinned(source, RELEASES[source.release].serves)
    if "" in pin.checksums:
        urls = [source.url] if source.url else pin.file_urls("")
        return [_retrieve(urls, pin.checksums[""], _cache_folder(release, version),
                          _file_name(urls[0]))]
    return [fetch_file(source, release.serves, relative) for relative in sorted(pin.checksums)]


def pinned_files(source: DataSource, serves: str) -> list[str]:
    """The relative paths a file-set release pins (empty for an archive), sorted."""
    return sorted(relative for relative in pinned(source, serves)[2].checksums if relative)


def _retrieve(urls: list[str], checksum: str, folder: Path, name: str, processor=None,
              bases: list[str] | None = None) -> Path:
    """The verified file from the first of ``urls`` that serves it (all failing: one DataError).

    ``bases``: the folder URL each of ``urls`` is under (default: the URL itself). A base that
    cannot be reached at all (no connection, a timeout) fails every file under it with one and
    the same message, tried once per process, so that ``validate`` says it once for all the
    languages it affects; the message names every URL tried.
    """
    failures = []
    for url, base in zip(urls, bases or urls, strict=True):
        try:
            return _retrieve_one(url, checksum, folder, name, processor, base)
        except DataError as error:
            failures.append(error)
    if len(failures) == 1:
        raise failures[0]
    tried = "; ".join(str(error).split(" Without network")[0].rstrip(".") for error in failures)
    if all(isinstance(error, _Unreachable) for error in failures):  # the same for every file
        raise DataError(f"{tried}. {_FETCH_ADVICE}")
    raise DataError(f"{tried}. {_COPY_ADVICE.format(checksum=checksum)}")


def _retrieve_one(url: str, checksum: str, folder: Path, name: str, processor=None,
                  base: str | None = None) -> Path:
    """``pooch.retrieve`` with a local-path downloader; the verified file (failures: DataError).

    pooch's "Downloading data from …" lines show from ``-v`` on (this module's INFO level).
    """
    import pooch

    kind, _, digest = checksum.partition(":")
    known = checksum if kind == "sha256" else None
    downloader = _copy_local if is_local_url(url) else None
    for attempt in ((url, str(folder)), (base or url, "")):  # a file, or its unreachable host
        if attempt in _FAILED:
            raise _FAILED[attempt]
    pooch.get_logger().setLevel(logging.INFO if logger.isEnabledFor(logging.INFO) else logging.WARNING)
    try:
        pooch.retrieve(url, known, fname=name, path=folder, downloader=downloader,
                       processor=None if known is None else processor)
    except Exception as error:  # noqa: BLE001 - download, hash or archive failure: one message
        if _unreachable(error) and not is_local_url(url):
            _FAILED[(base or url, "")] = _unreachable_failure(base or url, url, error)
            raise _FAILED[(base or url, "")] from None
        failure = DataError(f"cannot fetch {url} into {folder} ({_reason(error)}). "
                            f"{_COPY_ADVICE.format(checksum=checksum)}")
        if not is_local_url(url):
            _FAILED[(url, str(folder))] = failure
        raise failure from None
    path = folder / name
    if kind == "gitblob":
        _check_git_blob(path, digest, url)
        if processor is not None:
            processor(str(path), "fetch", None)
    return path


def _unreachable(error: Exception) -> bool:
    """Whether ``error`` says the host could not be reached (not: a missing file, a bad hash)."""
    import requests

    return isinstance(error, (requests.ConnectionError, requests.Timeout))


class _Unreachable(DataError):
    """A base URL that cannot be reached from here (said the same for every file under it)."""


def _unreachable_failure(base: str, url: str, error: Exception) -> DataError:
    """The one message for release files under ``base`` when trying ``url`` found no host."""
    tried = "" if url == base else f"; tried {url}"
    return _Unreachable(f"cannot reach {base} ({_reason(error)}{tried}) to download the pinned "
                        f"files into {cache_dir()}. {_FETCH_ADVICE}")


def _reason(error: Exception) -> str:
    """What went wrong, short: a network failure by its kind alone (no connection-pool dump)."""
    import requests

    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return f"{type(error).__name__}: no connection to {urlparse(error.request.url).netloc}" \
            if getattr(error, "request", None) is not None else type(error).__name__
    return f"{type(error).__name__}: {error}"


def _check_git_blob(path: Path, digest: str, url: str) -> None:
    """Raise (and delete the file) unless its git blob id is ``digest``."""
    data = path.read_bytes()
    actual = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # noqa: S324 - git's id
    if actual != digest:
        path.unlink()
        raise DataError(f"{url}: git blob id {actual} does not match the pinned {digest}; "
                        f"the downloaded file was removed")


def _cache_folder(release: Release, version: str) -> Path:
    return cache_dir() / release.name / version


def _file_name(url: str) -> str:
    return Path(urlparse(url).path).name


def _copy_local(url: str, output_file, pooch_instance) -> None:
    """A pooch downloader that copies a local path (or ``file://`` URL) into the cache."""
    path = Path(urlparse(url).path if url.startswith("file://") else url)
    if not path.is_file():
        raise FileNotFoundError(f"no file {path}")
    if isinstance(output_file, (str, Path)):
        shutil.copyfile(path, output_file)
    else:
        with path.open("rb") as handle:
            shutil.copyfileobj(handle, output_file)
    logger.info("copied %s into the data cache", path)
