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
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse

from harness.data.americasnli_pins import AMERICASNLI_FILES
from harness.data.authors_parallel_checksums import CHECKSUMS as _ALIGNMENT_CHECKSUMS
from harness.data.source import DataError, DataSource
from harness.data.ud_pins import UD_R213_FILES, UD_SINDHI_COMMIT

logger = logging.getLogger(__name__)

CACHE_ENV = "UNIBRIDGE_DATA_CACHE"
_COPY_ADVICE = ("Without network, copy the file there yourself or give a mirror with `url:` "
                "(a local path works); the pinned checksum is {checksum}")
_FETCH_ADVICE = (f"Without network: run `unibridge-bench fetch SUITE` where there is network and "
                 f"copy that folder here (or point ${CACHE_ENV} at the copy), or give a mirror "
                 f"with `url:` (a local path works)")
_FAILED: dict[tuple[str, str], DataError] = {}
"""Remote fetches that failed in this process, so that one unreachable URL is tried once."""


@dataclass(frozen=True)
class Pinned:
    """One downloadable file (or the base of a file set) of a release version."""

    url: str
    checksums: dict[str, str] = field(default_factory=dict)
    """Relative path (``""`` for a single archive) → ``sha256:<hex>`` or ``gitblob:<hex>``."""
    root: str = ""
    """Top folder inside an archive (``ud-treebanks-v2.13``)."""
    mirrors: tuple[str, ...] = ()
    """Further places holding the same bytes, tried in order after ``url``."""
    url_path: str = "{relative}"
    """Where file ``relative`` sits under ``url`` (and each mirror): a format string of
    ``relative``, ``top`` (its first folder) and ``rest`` (the path below it). A git file set
    puts the ref between repository and file (``{top}/r2.13/{rest}``); a suite's ``url:`` (a
    local copy) always holds the plain ``relative`` layout."""

    def file_urls(self, relative: str) -> list[str]:
        """Every URL of file ``relative`` (``""``: the archive itself), in the order to try."""
        top, _, rest = relative.partition("/")
        below = self.url_path.format(relative=relative, top=top, rest=rest) if relative else ""
        return [f"{base.rstrip('/')}/{below if _is_local(base) else quote(below)}" if below
                else base for base in self.bases()]

    def bases(self) -> tuple[str, ...]:
        """``url`` and each mirror: where the files are, in the order to try."""
        return (self.url, *self.mirrors)


@dataclass(frozen=True)
class Release:
    """A published dataset: which loader reads it, its default version, its pinned versions."""

    name: str
    serves: str
    default_version: str
    versions: dict[str, Pinned]
    homepage: str


_AMERICASNLP_COMMIT = "d3f519c6b38299d8149311e65a369047350e6849"
_AMERICASNLI_COMMIT = "be3c351b7e1ae69936c61bfde3e24f30757db9ac"
_UNIBRIDGE_COMMIT = "6a38462b6598325894582ca163ded9a6a99d7c4a"

RELEASES: dict[str, Release] = {
    "ud": Release(
        name="ud", serves="Universal Dependencies", default_version="2.13",
        homepage="http://hdl.handle.net/11234/1-5287",
        versions={"2.13": Pinned(
            url="https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234/1-5287/"
                "ud-treebanks-v2.13.tgz",
            # As registered for the same LINDAT file by pyconll's corpus tests (tests/int).
            checksums={"": "sha256:d6538ed4c05508be3bb7d9c3448de1062f6f9958c833b93558df300e4b1d3781"},
            root="ud-treebanks-v2.13",
            # the same item through LINDAT's download parameters (public scripts use both)
            mirrors=("https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234/1-5287/"
                     "ud-treebanks-v2.13.tgz?sequence=1&isAllowed=y",))}),
    "ud_repositories": Release(
        name="ud_repositories", serves="Universal Dependencies", default_version="r2.13",
        homepage="https://github.com/UniversalDependencies",
        versions={
            "r2.13": Pinned(  # each treebank repository's release tag, file by file
                url="https://raw.githubusercontent.com/UniversalDependencies",
                url_path="{top}/r2.13/{rest}", checksums=UD_R213_FILES),
            UD_SINDHI_COMMIT: Pinned(  # in no release: its dev branch, 2023-07-25
                url="https://raw.githubusercontent.com/UniversalDependencies",
                url_path=f"{{top}}/{UD_SINDHI_COMMIT}/{{rest}}",
                checksums={"UD_Sindhi-MazharDootio/sd_mazhardootio-ud-test.conllu":
                           "sha256:ea7f7454e5b2bb80a2e86eb1cf2ee4abb4dcd46ea2de78e62bc74b3706ad7c2f"}),
        }),
    "americasnlp2021": Release(
        name="americasnlp2021", serves="monolingual text", default_version=_AMERICASNLP_COMMIT,
        homepage="https://github.com/AmericasNLP/americasnlp2021",
        versions={_AMERICASNLP_COMMIT: Pinned(
            url=f"https://raw.githubusercontent.com/AmericasNLP/americasnlp2021/{_AMERICASNLP_COMMIT}",
            checksums={  # sha256 of each file at the commit; train.quy (JW300) by its git blob id
                "data/ashaninka-spanish/train.cni":
                    "sha256:dd528a5b61284dde62d1c957a8e7bdbad296f40cb9ed128b592e5aaa9bdf6d84",
                "data/aymara-spanish/train.aym":
                    "sha256:42235fe66489bb6314bd1019e02d9b8d382e6c7f651298f0a1c8e4011a6714b9",
                "data/bribri-spanish/train.bzd":
                    "sha256:22f1a52e3300d1565d455e6fd8c2f0a381709009123695117b16946cfbe7e783",
                "data/guarani-spanish/train.gn":
                    "sha256:26b918183bf3129ed930eb59c1fbeec7e82326ad7e6b90ac9cd3c1d48b751c4b",
                "data/hñähñu-spanish/train.oto":
                    "gitblob:dded1c0096c05cf6935fec9a179ea25ec8918c17",
                "data/nahuatl-spanish/train.nah":
                    "sha256:f41df0f2227eca674cac761e0926ac5e0fd1449ee70022a698e0cb0a0f9ea3d2",
                "data/quechua-spanish/train.quy":
                    "gitblob:086357e5b1d09127bfa6b51801a9e9365ccc904e",
                "data/raramuri-spanish/train_nontok.tar":  # untokenized: monolingual.py
                    "sha256:32db933b4317d87cda1af0c50dc6a75914c29d6a5b63322fb246073e439b4fa3",
                "data/shipibo_konibo-spanish/train.shp":
                    "sha256:50e4c69406ebe3410ac31730c550df3fa15434f52a0a92193211ab8216ea88d5",
                "data/wixarika-spanish/train.hch":
                    "sha256:f5cd835f25e11bb9f23a628c2b40e739cd36395d34054c16bf2c76b42585dc03",
            })}),
    "americasnli": Release(
        name="americasnli", serves="AmericasNLI", default_version=_AMERICASNLI_COMMIT,
        homepage="https://github.com/nala-cub/AmericasNLI",
        versions={_AMERICASNLI_COMMIT: Pinned(
            url=f"https://raw.githubusercontent.com/nala-cub/AmericasNLI/{_AMERICASNLI_COMMIT}",
            checksums=AMERICASNLI_FILES)}),
    "unibridge_alignment": Release(
        name="unibridge_alignment", serves="parallel sentences", default_version=_UNIBRIDGE_COMMIT,
        homepage="https://github.com/TokisakiKurumi2001/UniBridge",
        versions={_UNIBRIDGE_COMMIT: Pinned(  # the authors' K = 10 pairs (harness.data.authors_parallel)
            url=f"https://raw.githubusercontent.com/TokisakiKurumi2001/UniBridge/{_UNIBRIDGE_COMMIT}",
            checksums=_ALIGNMENT_CHECKSUMS)}),
}
"""Release name → definition. Adding a version is one entry with its URL and checksums."""


def release_version(name: str, version: str | None) -> tuple[Release, str]:
    """The release ``name`` and its version (default when ``None``); ValueError names the choices."""
    if name not in RELEASES:
        raise ValueError(f"unknown release {name!r}; valid: {', '.join(sorted(RELEASES))}")
    release = RELEASES[name]
    version = version or release.default_version
    if version not in release.versions:
        raise ValueError(f"release {name!r} has no pinned version {version!r}; "
                         f"pinned: {', '.join(sorted(release.versions))}")
    return release, version


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
        urls, bases = [f"{base}/{relative}" if _is_local(base) else f"{base}/{quote(relative)}"], [base]
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
    downloader = _copy_local if _is_local(url) else None
    for attempt in ((url, str(folder)), (base or url, "")):  # a file, or its unreachable host
        if attempt in _FAILED:
            raise _FAILED[attempt]
    pooch.get_logger().setLevel(logging.INFO if logger.isEnabledFor(logging.INFO) else logging.WARNING)
    try:
        pooch.retrieve(url, known, fname=name, path=folder, downloader=downloader,
                       processor=None if known is None else processor)
    except Exception as error:  # noqa: BLE001 - download, hash or archive failure: one message
        if _unreachable(error) and not _is_local(url):
            _FAILED[(base or url, "")] = _unreachable_failure(base or url, url, error)
            raise _FAILED[(base or url, "")] from None
        failure = DataError(f"cannot fetch {url} into {folder} ({_reason(error)}). "
                            f"{_COPY_ADVICE.format(checksum=checksum)}")
        if not _is_local(url):
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


def _is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


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
