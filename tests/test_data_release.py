"""Release sources (UD tarball, AmericasNLP 2021 files) against local replicas with the real layout.

No network: each test builds a replica of the published files (UD: a tarball laid out as
``ud-treebanks-v2.13/UD_<Language>-<TB>/<tb>-ud-<split>.conllu``; AmericasNLP: the repository's
``data/<pair>/train.<code>`` files), pins the replica's checksums in place of the real ones, and
points the source's ``url`` at it, so pooch's download, checksum and unpacking run for real.
"""

import hashlib
import io
import tarfile
from pathlib import Path

import datasets
import pytest
import yaml

from harness.data import monolingual, releases, ud
from harness.data.examples import UPOS_LABELS
from harness.data.source import DataError, DataSource
from harness.planning.plan import prepare
from harness.suite.schema import load_suite

ROOT = "ud-treebanks-v2.13"


def row(i, form, upos, head="1"):
    return f"{i}\t{form}\t{form}\t{upos}\t_\t_\t{head}\tdep\t_\t_"


TRG_TEST = "\n".join([  # a multi-word range and an empty node, as UD writes them
    "# sent_id = trg-1", "1-2\tkumain\t_\t_\t_\t_\t_\t_\t_\t_", row(1, "kumain", "VERB", "0"),
    row(2, "na", "PART"), "2.1\tkumain\tkumain\tVERB\t_\t_\t_\t_\t1:conj\t_", row(3, "ako", "PRON"),
    "", "# sent_id = trg-2", row(1, "Oo", "INTJ", "0"), "", ""])
UGNAYAN_TEST = "\n".join(["# sent_id = ug-1", row(1, "Bahay", "NOUN", "0"), row(2, ".", "PUNCT"),
                          "", ""])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_tarball(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{ROOT}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(releases.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def ud_replica(tmp_path, monkeypatch, cache):
    """A UD 2.13 replica tarball, pinned as version 2.13; returns its path."""
    tarball = make_tarball(tmp_path / "ud-treebanks-v2.13.tgz", {
        "UD_Tagalog-TRG/tl_trg-ud-test.conllu": TRG_TEST,
        "UD_Tagalog-Ugnayan/tl_ugnayan-ud-test.conllu": UGNAYAN_TEST,
        "UD_Amharic-ATT/am_att-ud-test.conllu": "\n".join([row(1, "ሰላም", "INTJ", "0"), "", ""]),
        "UD_Sanskrit-Vedic/sa_vedic-ud-train.conllu": "\n".join([row(1, "अग्निम्", "NOUN", "0"), "", ""]),
        "UD_Sanskrit-Vedic/sa_vedic-ud-test.conllu": "\n".join([row(1, "इन्द्रः", "PROPN", "0"), "", ""]),
    })
    pin = releases.Pinned(url="https://example.invalid/ud-treebanks-v2.13.tgz",
                          checksums={"": f"sha256:{sha256(tarball)}"}, root=ROOT)
    monkeypatch.setitem(releases.RELEASES["ud"].versions, "2.13", pin)
    return tarball


def test_ud_release_concatenates_treebanks_and_skips_ranges_and_empty_nodes(ud_replica):
    source = DataSource(release="ud", url=str(ud_replica))
    sentences = ud.load(source, "tgl", "test")
    assert [s.tokens for s in sentences] == [("kumain", "na", "ako"), ("Oo",), ("Bahay", ".")]
    assert sentences[0].tags == ("VERB", "PART", "PRON")


def test_ud_release_is_cached_once_and_unpacks_only_what_is_read(ud_replica, cache):
    source = DataSource(release="ud", url=str(ud_replica))
    first = ud.load(source, "amh", "test")
    ud_replica.unlink()  # the cached, checksummed copy serves from now on
    assert ud.load(source, "amh", "test") == first
    unpacked = {p.name for p in cache.rglob("*.conllu")}
    assert unpacked == {"am_att-ud-test.conllu"}


def test_ud_release_file_url_and_validation_split_name(ud_replica):
    source = DataSource(release="ud", url=ud_replica.as_uri())
    assert ud.load(source, "san", "train")[0].tokens == ("अग्निम्",)  # sa_ufal has no train split
    with pytest.raises(DataError, match=r"no 'validation' split for 'tgl'.*tl_trg-ud-dev\.conllu"):
        ud.check(source, "tgl", ("validation",))
    ud.check(source, "tgl", ("test",))


def test_ud_release_checksum_mismatch_is_one_clear_message(ud_replica, monkeypatch):
    pin = releases.Pinned(url="x", checksums={"": "sha256:" + "0" * 64}, root=ROOT)
    monkeypatch.setitem(releases.RELEASES["ud"].versions, "2.13", pin)
    with pytest.raises(DataError, match=r"cannot fetch .*ud-treebanks-v2\.13\.tgz.*sha256:0000"):
        ud.load(DataSource(release="ud", url=str(ud_replica)), "tgl", "test")


def test_ud_release_unreachable_names_url_and_fix(cache):
    source = DataSource(release="ud", url="/nowhere/ud-treebanks-v2.13.tgz")
    with pytest.raises(DataError, match=r"/nowhere/ud-treebanks-v2\.13\.tgz.*give a mirror with `url:`"):
        ud.check(source, "amh", ("test",))


def test_release_source_validation():
    with pytest.raises(ValueError, match=r"no pinned version '2\.7'; pinned: 2\.13"):
        DataSource(release="ud", revision="2.7")
    with pytest.raises(ValueError, match=r"unknown release 'udx'; valid: americasnli, americasnlp2021, ud"):
        DataSource(release="udx")
    with pytest.raises(ValueError, match="'url' .* needs 'release'"):
        DataSource(hub="x", url="y")
    assert DataSource(release="ud").fingerprint().startswith("release:ud@2.13:")
    with pytest.raises(DataError, match="holds Universal Dependencies, not monolingual text"):
        monolingual.check(DataSource(release="ud"), "aym")


def test_real_pins_are_the_published_ones():
    pin = releases.RELEASES["ud"].versions["2.13"]
    assert pin.url.endswith("/11234/1-5287/ud-treebanks-v2.13.tgz") and pin.root == ROOT
    # LINDAT's API first (the old xmlui links answer browsers only: ufal/clarin-dspace#1383),
    # then the old links as mirrors of the same bytes; one checksum for all three
    lindat = "https://lindat.mff.cuni.cz/repository"
    assert pin.file_urls("") == [
        f"{lindat}/server/api/core/bitstreams/handle/11234/1-5287/ud-treebanks-v2.13.tgz",
        f"{lindat}/xmlui/bitstream/handle/11234/1-5287/ud-treebanks-v2.13.tgz",
        f"{lindat}/xmlui/bitstream/handle/11234/1-5287/ud-treebanks-v2.13.tgz?sequence=1&isAllowed=y"]
    assert list(pin.checksums) == [""]
    assert set(ud.FOLDERS) == {tb for tbs in ud.TREEBANKS.values() for tb in tbs}
    commit = releases.RELEASES["americasnlp2021"].default_version
    files = releases.RELEASES["americasnlp2021"].versions[commit].checksums
    assert set(files) == set(monolingual.AMERICASNLP_FILES.values())


# -- UD tags and empty nodes in the local and hub forms ----------------------------------------


def test_legacy_upos_maps_by_option_else_fails_naming_it(tmp_path):
    (tmp_path / "tgl").mkdir()
    (tmp_path / "tgl" / "test.conllu").write_text(
        "\n".join([row(1, "at", "CONJ", "0"), row(2, "nga", "PRT"), row(3, ".", "."), "", ""]))
    with pytest.raises(DataError, match=r"test\.conllu:1: unknown UPOS 'CONJ'.*legacy_upos: map"):
        ud.load(DataSource(path=tmp_path), "tgl", "test")
    mapped = ud.load(DataSource(path=tmp_path, legacy_upos="map"), "tgl", "test")
    assert mapped[0].tags == ("CCONJ", "PART", "PUNCT")
    assert DataSource(path=tmp_path, legacy_upos="map").fingerprint() != \
        DataSource(path=tmp_path).fingerprint()


@pytest.fixture
def hub(monkeypatch):
    tables = {}
    monkeypatch.setattr(datasets, "load_dataset",
                        lambda path, name=None, split=None, revision=None, **kw: tables[(name, split)])
    return tables


def hub_rows(lines: list[str], names: list[str]) -> datasets.Dataset:
    """One sentence in the schema of ``universal_dependencies`` (every CoNLL-U line a token)."""
    cols = [line.split("\t") for line in lines]
    features = datasets.Features({
        "idx": datasets.Value("string"), "tokens": datasets.Sequence(datasets.Value("string")),
        "upos": datasets.Sequence(datasets.ClassLabel(names=names)),
        "head": datasets.Sequence(datasets.Value("string"))})
    return datasets.Dataset.from_dict({
        "idx": ["1"], "tokens": [[c[1] for c in cols]],
        "upos": [[names.index(c[3]) for c in cols]],
        "head": [["None" if c[6] == "_" else c[6] for c in cols]]}, features=features)


def test_hub_form_skips_empty_nodes_and_ranges(hub):
    names = [*UPOS_LABELS, "_"]
    lines = [line for line in TRG_TEST.split("\n\n")[0].splitlines() if not line.startswith("#")]
    hub[("tl_trg", "test")] = hub_rows(lines, names)
    hub[("tl_ugnayan", "test")] = hub_rows(UGNAYAN_TEST.strip().splitlines()[1:], names)
    sentences = ud.load(DataSource(hub="some/ud"), "tgl", "test")
    assert [s.tokens for s in sentences] == [("kumain", "na", "ako"), ("Bahay", ".")]


def test_hub_form_maps_legacy_tags_by_option(hub):
    names = [*UPOS_LABELS, "CONJ", "_"]
    hub[("am_att", "test")] = hub_rows([row(1, "እና", "CONJ", "0")], names)
    with pytest.raises(DataError, match="some/ud am_att test row 0: unknown UPOS 'CONJ'"):
        ud.load(DataSource(hub="some/ud"), "amh", "test")
    assert ud.load(DataSource(hub="some/ud", legacy_upos="map"), "amh", "test")[0].tags == ("CCONJ",)


# -- AmericasNLP 2021 text --------------------------------------------------------------------


@pytest.fixture
def americasnlp(tmp_path, monkeypatch, cache):
    """A replica of the repository's data folders; returns its root (a mirror for ``url``)."""
    root = tmp_path / "americasnlp2021"
    texts = {path: f"{Path(path).suffix[1:]} line one\n{Path(path).suffix[1:]} line two\n"
             for path in monolingual.AMERICASNLP_FILES.values()}
    checksums = {}
    for relative, text in texts.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        data = path.read_bytes()
        checksums[relative] = f"sha256:{sha256(path)}"
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    checksums[relative] = f"gitblob:{blob}"  # the last file (tar) by its git blob id, as train.quy
    commit = releases.RELEASES["americasnlp2021"].default_version
    monkeypatch.setitem(releases.RELEASES["americasnlp2021"].versions, commit,
                        releases.Pinned(url="https://example.invalid/x", checksums=checksums))
    return root


@pytest.mark.parametrize("lang, word", [("oto", "oto"), ("grn", "gn"), ("hch", "hch"), ("tar", "tar")])
def test_americasnlp_reads_the_language_side(americasnlp, lang, word):
    source = DataSource(release="americasnlp2021", url=str(americasnlp))
    monolingual.check(source, lang)
    assert monolingual.load(source, lang, 10, 3, seed=0) == [f"{word} line one", f"{word} line two"]


def test_americasnlp_errors(americasnlp):
    source = DataSource(release="americasnlp2021", url=str(americasnlp))
    with pytest.raises(DataError, match=r"no language 'eng'; valid: aym, bzd, cni, grn, hch"):
        monolingual.check(source, "eng")
    (americasnlp / "data/raramuri-spanish/train_nontok.tar").write_text("changed\n")
    with pytest.raises(DataError, match="git blob id .* does not match the pinned"):
        monolingual.load(source, "tar", 10, 3, seed=0)
    (americasnlp / "data/wixarika-spanish/train.hch").write_text("changed\n")
    with pytest.raises(DataError, match=r"cannot fetch .*train\.hch.*sha256:"):
        monolingual.load(source, "hch", 10, 3, seed=0)


# -- validate: only the splits that are read are required ---------------------------------------


def test_validate_requires_no_target_validation_split(tmp_path, ud_replica, americasnlp):
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    suite = {
        "name": "ud-release", "backbones": ["tiny-xlmr"],
        "methods": {"mad_x": {}},  # reads the target's text (zero-shot reads none)
        "tasks": {"pos": {"targets": ["amh"], "sources": ["eng"],
                          "data": {"release": "ud", "url": str(ud_replica)},
                          "source_data": {"path": str(fixtures / "ud")}}},
        "monolingual": {"data": {"path": str(fixtures / "monolingual")},
                        "target_data": {"release": "americasnlp2021", "url": str(americasnlp)}},
    }
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    with pytest.raises(Exception, match=r"monolingual\.target_data: .*no language 'amh'"):
        prepare(load_suite(path))  # amh (am_att: test split only) is no AmericasNLP language
    suite["monolingual"]["target_data"] = {"path": str(fixtures / "monolingual")}
    path.write_text(yaml.safe_dump(suite))
    prepare(load_suite(path))  # am_att has no dev split: nothing asks for one


# -- mirrors, file-set releases (ud_repositories) and per-language sources ----------------------


def test_mirrors_are_tried_in_order_under_the_same_checksum(ud_replica, monkeypatch, tmp_path):
    pin = releases.Pinned(url=str(tmp_path / "gone" / "ud-treebanks-v2.13.tgz"),
                          mirrors=(str(ud_replica),), checksums={"": f"sha256:{sha256(ud_replica)}"},
                          root=ROOT)
    monkeypatch.setitem(releases.RELEASES["ud"].versions, "2.13", pin)
    assert ud.load(DataSource(release="ud"), "amh", "test")[0].tokens == ("ሰላም",)
    bad = releases.Pinned(url=pin.url, mirrors=(str(tmp_path / "also-gone.tgz"),),
                          checksums=pin.checksums, root=ROOT)
    monkeypatch.setitem(releases.RELEASES["ud"].versions, "2.13", bad)
    monkeypatch.setenv(releases.CACHE_ENV, str(tmp_path / "fresh"))  # nothing cached yet
    with pytest.raises(DataError) as caught:
        ud.check(DataSource(release="ud"), "tgl", ("test",))
    message = str(caught.value)
    assert message.index("gone/ud-treebanks-v2.13.tgz") < message.index("also-gone.tgz")
    assert message.count("Without network") == 1 and "give a mirror with `url:`" in message


def test_unreachable_mirrors_are_one_message_for_every_file_naming_each_url(cache, monkeypatch):
    import pooch
    import requests

    tried = []

    def no_network(self, url, output_file, pooch_instance, check_only=False):
        tried.append(url)
        raise requests.ConnectionError(f"no network for {url}")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", no_network)
    monkeypatch.setattr(releases, "_FAILED", {})
    files = ("UD_A/a-ud-test.conllu", "UD_B/b-ud-test.conllu")
    monkeypatch.setitem(releases.RELEASES["ud_repositories"].versions, "r2.13", releases.Pinned(
        url="https://first.example/UD", mirrors=("https://second.example/UD",),
        url_path="{top}/r2.13/{rest}", checksums={name: "sha256:" + "0" * 64 for name in files}))
    messages = set()
    for name in files:
        with pytest.raises(DataError) as caught:
            releases.fetch_file(DataSource(release="ud_repositories"), "Universal Dependencies", name)
        messages.add(str(caught.value))
    [message] = messages  # the same for both files: validate says it once
    assert tried == ["https://first.example/UD/UD_A/r2.13/a-ud-test.conllu",
                     "https://second.example/UD/UD_A/r2.13/a-ud-test.conllu"]  # once per host
    assert message.index("cannot reach https://first.example/UD (") < \
        message.index("cannot reach https://second.example/UD (")
    assert all(f"tried {url}" in message for url in tried)
    assert message.count("Without network") == 1 and "unibridge-bench fetch" in message


def test_git_file_urls_put_the_ref_between_repository_and_file():
    pin = releases.RELEASES["ud_repositories"].versions["r2.13"]
    assert pin.file_urls("UD_Livvi-KKPP/olo_kkpp-ud-test.conllu") == [
        "https://raw.githubusercontent.com/UniversalDependencies/UD_Livvi-KKPP/r2.13/"
        "olo_kkpp-ud-test.conllu"]
    sindhi = releases.RELEASES["ud_repositories"].versions["625e88d50fafef92a4e33f19252d39b8eabe554b"]
    assert sindhi.file_urls("UD_Sindhi-MazharDootio/sd_mazhardootio-ud-test.conllu") == [
        "https://raw.githubusercontent.com/UniversalDependencies/UD_Sindhi-MazharDootio/"
        "625e88d50fafef92a4e33f19252d39b8eabe554b/sd_mazhardootio-ud-test.conllu"]


@pytest.fixture
def repositories(tmp_path, monkeypatch, cache):
    """A local copy of UD repositories' files (``UD_<TB>/<file>``), pinned as version r2.13."""
    def one(form, upos):
        return "\n".join([row(1, form, upos, "0"), "", ""])

    russian = "UD_Russian-SynTagRus/ru_syntagrus-ud"
    files = {f"{russian}-train-a.conllu": one("Мы", "PRON"), f"{russian}-train-b.conllu": one("шли", "VERB"),
             f"{russian}-dev.conllu": one("Да", "INTJ"), "UD_Tagalog-TRG/tl_trg-ud-test.conllu": TRG_TEST}
    folder = tmp_path / "repositories"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    pin = releases.Pinned(url="https://example.invalid/UniversalDependencies",
                          url_path="{top}/r2.13/{rest}",
                          checksums={name: f"sha256:{sha256(folder / name)}" for name in files})
    monkeypatch.setitem(releases.RELEASES["ud_repositories"].versions, "r2.13", pin)
    return folder


def test_ud_file_set_reads_split_parts_in_order_and_fetches_only_the_split(repositories, cache):
    source = DataSource(release="ud_repositories", revision="r2.13", url=str(repositories))
    assert [s.tokens for s in ud.load(source, "rus", "train")] == [("Мы",), ("шли",)]
    assert {p.name for p in cache.rglob("*.conllu")} == {"ru_syntagrus-ud-train-a.conllu",
                                                         "ru_syntagrus-ud-train-b.conllu"}
    with pytest.raises(DataError, match=r"no 'validation' split for 'tgl': none of "
                                        r"UD_Tagalog-TRG/tl_trg-ud-dev\.conllu, "
                                        r"UD_Tagalog-Ugnayan/tl_ugnayan-ud-dev\.conllu; files there: "
                                        r"UD_Tagalog-TRG/tl_trg-ud-test\.conllu"):
        ud.check(source, "tgl", ("validation",))


def test_r2_13_pins_every_file_the_paper_suite_reads():
    """Targets' test and sources' train, dev and test files, as each repository's r2.13 tag has them."""
    pinned = set(releases.RELEASES["ud_repositories"].versions["r2.13"].checksums)
    suite = load_suite(Path(__file__).resolve().parents[1] / "suites" / "ud.yaml")
    spec = suite.tasks["pos"]
    needs = [(lang, ("test",)) for lang in spec.targets if lang != "snd"]
    needs += [(lang, ("train", "validation", "test")) for lang in spec.sources]
    for lang, splits in needs:
        for split in splits:
            assert any(ud._is_split_file(name, ud.FOLDERS[tb], tb, split)
                       for tb in ud.TREEBANKS[lang] for name in pinned), (lang, split)
    assert not any(name.startswith("UD_Sindhi") for name in pinned)  # no r2.13 tag there
    assert spec.data_for("snd") == DataSource(release="ud_repositories",
                                              revision="625e88d50fafef92a4e33f19252d39b8eabe554b")


def test_language_data_must_name_a_language_of_the_task(tmp_path):
    path = tmp_path / "suite.yaml"
    suite = yaml.safe_load((Path(__file__).resolve().parents[1] / "suites" / "ud.yaml").read_text())
    suite["tasks"]["pos"]["language_data"] = {"xho": {"path": "x"}}
    path.write_text(yaml.safe_dump(suite))
    with pytest.raises(Exception, match=r"language_data names xho, not a target or source .*valid: amh"):
        load_suite(path)
    suite["tasks"]["pos"]["language_data"] = {"tl": {"path": "local"}}  # two-letter: canonical
    path.write_text(yaml.safe_dump(suite))
    spec = load_suite(path).tasks["pos"]
    assert spec.data_for("tgl").path == tmp_path / "local" and spec.data_key("tgl") == "language_data.tgl"
    assert spec.data_key("eng") == "data"


def test_fetch_pinned_downloads_every_pinned_file_of_a_version(ud_replica, repositories, cache):
    archive = releases.fetch_pinned(DataSource(release="ud", url=str(ud_replica)))
    assert archive == [cache / "ud" / "2.13" / "ud-treebanks-v2.13.tgz"]
    assert not list(cache.rglob("*.untar"))  # fetched, not unpacked
    files = releases.fetch_pinned(DataSource(release="ud_repositories", url=str(repositories)))
    assert [p.relative_to(cache / "ud_repositories" / "r2.13").as_posix() for p in files] == [
        "UD_Russian-SynTagRus/ru_syntagrus-ud-dev.conllu",
        "UD_Russian-SynTagRus/ru_syntagrus-ud-train-a.conllu",
        "UD_Russian-SynTagRus/ru_syntagrus-ud-train-b.conllu",
        "UD_Tagalog-TRG/tl_trg-ud-test.conllu"]
