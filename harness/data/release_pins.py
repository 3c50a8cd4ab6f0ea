"""The published releases the harness reads, pinned by version and checksum: a table, no I/O.

Example::

    release, version = release_version("ud", None)      # the default (pinned) version
    release.versions[version].checksums                  # file name -> SHA-256

:mod:`harness.data.releases` fetches them (once, into the data cache) and
:class:`harness.data.source.DataSource` checks a suite's ``release:``/``revision:`` against this
table when the suite loads; this module imports neither, so both can import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from harness.data.americasnli_pins import AMERICASNLI_FILES
from harness.data.authors_parallel_checksums import CHECKSUMS as _ALIGNMENT_CHECKSUMS
from harness.data.ud_pins import UD_R213_FILES, UD_SINDHI_COMMIT


def is_local_url(url: str) -> bool:
    """True for a mirror that is a local path or a ``file://`` URL (copied, not downloaded)."""
    return "://" not in url or url.startswith("file://")


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
        return [f"{base.rstrip('/')}/{below if is_local_url(base) else quote(below)}" if below
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
"""The head of the authors' ``dev`` branch (TokisakiKurumi2001/UniBridge); their ``main`` later
deleted the code and points to VinAIResearch/UniBridge."""
_UNIBRIDGE_VINAI_COMMIT = "c7b0d4ef43918cb9814d109a07a83954c04ab2f9"
"""VinAIResearch/UniBridge's "Upload content" (2024-08-21): ``xlm/alignment/`` holds the same 137
files as :data:`_UNIBRIDGE_COMMIT`, git blob for git blob (unchanged up to its head ``bf2d63f``)."""

RELEASES: dict[str, Release] = {
    "ud": Release(
        name="ud", serves="Universal Dependencies", default_version="2.13",
        homepage="http://hdl.handle.net/11234/1-5287",
        versions={"2.13": Pinned(
            # LINDAT's repository API, the form for programs: its old ``xmlui/bitstream`` links
            # answer browsers only since its move to DSpace 7 (ufal/clarin-dspace#1383, #1385)
            url="https://lindat.mff.cuni.cz/repository/server/api/core/bitstreams/handle/"
                "11234/1-5287/ud-treebanks-v2.13.tgz",
            # As registered for the same LINDAT file by pyconll's corpus tests (tests/int).
            checksums={"": "sha256:d6538ed4c05508be3bb7d9c3448de1062f6f9958c833b93558df300e4b1d3781"},
            root="ud-treebanks-v2.13",
            # the same item through the old links, with and without the handle page's download
            # parameters (public scripts use both): tried after the API, under the same checksum
            mirrors=("https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234/1-5287/"
                     "ud-treebanks-v2.13.tgz",
                     "https://lindat.mff.cuni.cz/repository/xmlui/bitstream/handle/11234/1-5287/"
                     "ud-treebanks-v2.13.tgz?sequence=1&isAllowed=y"))}),
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
            checksums=_ALIGNMENT_CHECKSUMS,
            # the official release of the same code: the same bytes, the same layout
            mirrors=(f"https://raw.githubusercontent.com/VinAIResearch/UniBridge/"
                     f"{_UNIBRIDGE_VINAI_COMMIT}",))}),
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


