"""Published data releases, pinned by version and checksum, fetched once into a data cache.

Example (suite YAML)::

    data: {release: ud}                                    # UD v2.13 from LINDAT (the default)
    data: {release: ud, revision: "2.13", url: /mirror/ud-treebanks-v2.13.tgz}
    monolingual:
      target_data: {release: americasnlp2021}              # pinned commit of AmericasNLP 2021
    tasks: {nli: {data: {release: americasnli}}}           # AmericasNLI at its authors' commit

Why: the paper's treebanks (UD v2.13) are not on the hub in a loadable form, six AmericasNLI
languages have no Wikipedia, and no commit of the hub's AmericasNLI could be verified here; all
three come from files their authors publish, pinned by content. Each release version
is pinned by content: a SHA-256 (checked by ``pooch``) or, for a file of a git repository whose
bytes we could not download here, its git blob id (checked by :func:`_check_git_blob`). A file
is downloaded once into :func:`cache_dir` (``$UNIBRIDGE_DATA_CACHE``, else the user cache folder
``unibridge-bench``) and re-verified on every use; a changed or partial file is an error, never
silently reused.

``url`` (suite key) replaces where the bytes come from: a mirror URL or a local path, for the
archive itself (UD) or for the folder holding the release's files (AmericasNLP). The pinned
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

from harness.data.source import DataError, DataSource

logger = logging.getLogger(__name__)

CACHE_ENV = "UNIBRIDGE_DATA_CACHE"
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

RELEASES: dict[str, Release] = {
    "ud": Release(
        name="ud", serves="Universal Dependencies", default_version="2.13",
        homepage="http://hdl.handle.net/11234/1-5287",
        versions={"2.13": Pinned(
            url="https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234/1-5287/"
                "ud-treebanks-v2.13.tgz",
            # As registered for the same LINDAT file by pyconll's corpus tests (tests/int).
            checksums={"": "sha256:d6538ed4c05508be3bb7d9c3448de1062f6f9958c833b93558df300e4b1d3781"},
            root="ud-treebanks-v2.13")}),
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
                "data/raramuri-spanish/train.tar":
                    "sha256:6b65d3dc3384fe901032d4cfef83bba09df548f9d00421b9268d0e73684e8402",
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
            checksums={  # sha256 of each file at the commit (the repository's head, 2021-04-20)
                "dev/aym.tsv":
                    "sha256:6f2ec5464654504632632f6db16326c34e4d8f98dccc237fed81405f1ec862e8",
                "dev/bzd.tsv":
                    "sha256:4916a7cac460ce5768546c7e803cdbb9af7818f064e92762c482cfd712936149",
                "dev/cni.tsv":
                    "sha256:e8160554467fa7bbb676d611a6fbc17f90175da1ea3e66390b442131c43381c6",
                "dev/gn.tsv":
                    "sha256:0ba815a4d3d41ad7cfbd9ffdaa494f3ca7cb55d71a728d3b1dfd1a3a377fe811",
                "dev/hch.tsv":
                    "sha256:fc5595639be321f7c2014917f00a25d79404ab8fa5e363f51f6ec4f85eb25a60",
                "dev/nah.tsv":
                    "sha256:98379975a835d8632eb1b9321235f90810b137f1a585e41b3339a6dda2036208",
                "dev/oto.tsv":
                    "sha256:5e219200138680723e571ece3f2c035a2e56d14c1e747fc5ba99f1c2a55d2235",
                "dev/quy.tsv":
                    "sha256:e38ac9b9d837b3a264874fd8d6199febf9c0ce66194b5c20e7d4d7306c447fdf",
                "dev/shp.tsv":
                    "sha256:538f823dc01c71216d9e24379067d6031fce18bfbbc471e577a436800327257a",
                "dev/tar.tsv":
                    "sha256:57717326e6730cb695ec9ca04451848264e60cee14bd175a27ff5806d00e7bb6",
                "test/aym.tsv":
                    "sha256:54968e3c336e01df6d948ec1b4c2aa6750a4650abb5e4275291514b5675f985b",
                "test/bzd.tsv":
                    "sha256:c99e37e8061ed3c724d93a57e7429489ed274b81bf97963cec1008a18a6896e0",
                "test/cni.tsv":
                    "sha256:168a06b9906e5f680af61333e0414aff2d2f0c3f2f21f2a54c6514fe6ea9fa6b",
                "test/gn.tsv":
                    "sha256:3e3c5c29ea6be0794a19c8823f6149f0c6ff3a33d5016ddb36b40c9bfd3d995d",
                "test/hch.tsv":
                    "sha256:4ee55a1e584c5e49645e7572ee46624daefebeaf51b654f99319441087756671",
                "test/nah.tsv":
                    "sha256:349dcd4beeba0939f949904174f73dfab4654e4e8ef28b9415162c9c84946da4",
                "test/oto.tsv":
                    "sha256:041d50e21cd0c53524179cf41c0b5d5e86a7655b3a1c12df52a2d571eb5d929c",
                "test/quy.tsv":
                    "sha256:b78a4cefbedf0e29e837c7eebe78122cfe379979f97bdf185f5e7479c967a419",
                "test/shp.tsv":
                    "sha256:6d4d928d252c9759735b5db02161ea5f49c6d9974c57bada3b628d95a62a47c6",
                "test/tar.tsv":
                    "sha256:f3e59ddc2579eaa37532dc832d3d0854b464da692ab9e6fa3e59ed02b515bea5",
            })}),
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
    url = source.url or pin.url
    checksum = pin.checksums[""]
    inside = [f"{pin.root}/{member}" for member in members]
    archive = _retrieve(url, checksum, _cache_folder(release, version), _file_name(url),
                        processor=pooch.Untar(members=inside))
    return Path(f"{archive}.untar") / pin.root


def fetch_file(source: DataSource, serves: str, relative: str) -> Path:
    """Download file ``relative`` of the release once; its verified local path."""
    release, version, pin = pinned(source, serves)
    if relative not in pin.checksums:
        raise DataError(f"release {release.name!r} {version} pins no file {relative!r}; "
                        f"pinned: {', '.join(sorted(pin.checksums))}")
    base = (source.url or pin.url).rstrip("/")
    url = f"{base}/{relative}" if _is_local(base) else f"{base}/{quote(relative)}"
    folder = _cache_folder(release, version) / Path(relative).parent
    return _retrieve(url, pin.checksums[relative], folder, Path(relative).name, base=base)


def _retrieve(url: str, checksum: str, folder: Path, name: str, processor=None,
              base: str | None = None) -> Path:
    """``pooch.retrieve`` with a local-path downloader; the verified file (failures: DataError).

    ``base``: the folder URL the file is under. When it cannot be reached at all (no
    connection, a timeout), every file under it fails with one and the same message, tried
    once per process, so that ``validate`` says it once for all the languages it affects.
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
            _FAILED[(base or url, "")] = _unreachable_failure(base or url, error)
            raise _FAILED[(base or url, "")] from None
        failure = DataError(f"cannot fetch {url} into {folder} ({_reason(error)}). "
                            f"Without network, copy the file there yourself or give a mirror with "
                            f"`url:` (a local path works); the pinned checksum is {checksum}")
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


def _unreachable_failure(base: str, error: Exception) -> DataError:
    """The one message for release files whose host cannot be reached from here."""
    return DataError(f"cannot reach {base} ({_reason(error)}) to download the pinned files into "
                     f"{cache_dir()}. Without network: run `unibridge-bench fetch SUITE` where "
                     f"there is network and copy that folder here (or point ${CACHE_ENV} at the "
                     f"copy), or give a mirror with `url:` (a local path works)")


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
