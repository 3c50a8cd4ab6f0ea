"""The loaders and the paper suites against replicas of the real datasets (``fixtures/replicas``).

The replicas (written by ``scripts/make_replicas.py``) have the published layout and schema of
each dataset the paper suites read, with synthetic text: hub repositories (README ``configs``,
parquet files with the real features and ``ClassLabel`` names) read through
``UNIBRIDGE_HUB_MIRROR`` by the very ``datasets.load_dataset`` call of the hub form; the UD
tarball, the AmericasNLI and AmericasNLP files fetched by pooch from the replica with its
checksums pinned in place of the real ones; OPUS Moses files and per-pair files. Then each paper
suite, as shipped, passes ``validate`` against them, pins every hub dataset, and, offline,
names exactly what it cannot reach.
"""

import hashlib
import logging
import shutil
from pathlib import Path

import datasets
import pooch
import pytest
import requests
import yaml
from huggingface_hub import constants

from harness.data import hub, monolingual, nli, parallel, releases, ud, wikiann
from harness.data._local import WIKIPEDIA_CODES
from harness.data.examples import NER_LABELS, NLI_LABELS, UPOS_LABELS
from harness.data.source import DataError, DataSource, check_hub_reachable, unpinned_warning
from harness.planning import prepare
from harness.suite import SuiteError, load_suite
from harness.validation import all_hub_sources

ROOT = Path(__file__).resolve().parents[1]
REPLICAS = ROOT / "fixtures" / "replicas"
SUITES = ("wikiann", "ud", "americasnli")
PINS = {  # hub id -> the commit every paper suite pins (docs/data.md, "Pins")
    "unimelb-nlp/wikiann": "f0a3be6dc5564c0cc4150bb660144800a1f539d4",
    "facebook/xnli": "b8dd5d7af51114dbda02c0e3f6133f332186418e",
    "openlanguagedata/flores_plus": "5fec6c13f9e5a4db2f745d4ec0d7c9721ddc4f06",
    "wikimedia/wikipedia": "3e1f92c331f318af862b87e2319ed5dc26d80f5d",
}


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def mirror(monkeypatch, tmp_path):
    """The hub replicas as the mirror; arrow caches and the data cache in ``tmp_path``."""
    monkeypatch.setenv(hub.MIRROR_ENV, str(REPLICAS / "hub"))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf_datasets")
    monkeypatch.setenv(releases.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(releases, "_FAILED", {})
    datasets.disable_progress_bars()
    return REPLICAS / "hub"


@pytest.fixture
def release_replicas(monkeypatch, mirror):
    """The release replicas pinned (by their own checksums) at the real versions and URLs' place."""
    tarball = REPLICAS / "releases" / "ud" / "ud-treebanks-v2.13.tgz"
    monkeypatch.setitem(releases.RELEASES["ud"].versions, "2.13", releases.Pinned(
        url=str(tarball), checksums={"": sha256(tarball)}, root="ud-treebanks-v2.13"))
    for name in ("americasnlp2021", "americasnli"):
        release = releases.RELEASES[name]
        folder = REPLICAS / "releases" / name
        checksums = {relative: sha256(folder / relative)
                     for relative in release.versions[release.default_version].checksums}
        monkeypatch.setitem(release.versions, release.default_version,
                            releases.Pinned(url=str(folder), checksums=checksums))


def card(hub_id: str) -> dict:
    text = (REPLICAS / "hub" / hub_id / "README.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---")[1])


# -- the replicas have the schema the loaders rely on -------------------------------------------


@pytest.mark.parametrize(("hub_id", "config", "column", "names"), [
    ("unimelb-nlp/wikiann", "am", "ner_tags", NER_LABELS),
    ("facebook/xnli", "en", "label", NLI_LABELS),
    ("nala-cub/americas_nli", "aym", "label", NLI_LABELS),
])
def test_replica_features_are_the_real_ones(mirror, hub_id, config, column, names):
    features = datasets.load_dataset_builder(str(mirror / hub_id), config).info.features
    label = getattr(features[column], "feature", features[column])
    assert tuple(label.names) == names  # ids in the published order


def test_replica_configs_cover_the_codes_the_loaders_ask_for():
    configs = {h: {c["config_name"] for c in card(h)["configs"]} for h in
               ("unimelb-nlp/wikiann", "facebook/xnli", "nala-cub/americas_nli",
                "openlanguagedata/flores_plus", "wikimedia/wikipedia")}
    assert set(nli.XNLI_CODES.values()) == configs["facebook/xnli"]
    assert set(nli.AMERICASNLI_CODES.values()) | {"all_languages"} == configs["nala-cub/americas_nli"]
    flores = configs["openlanguagedata/flores_plus"]
    assert {"fil_Latn", "gug_Latn", "cmn_Hans", "arb_Arab", "default"} <= flores
    assert {"am", "ps", "km", "eml"} <= configs["unimelb-nlp/wikiann"]
    assert {f"{monolingual.WIKIPEDIA_DUMP}.{WIKIPEDIA_CODES[lang]}" for lang in ("olo", "tgl", "eng")} \
        <= configs["wikimedia/wikipedia"]
    files = {c["config_name"]: c["data_files"] for c in card("openlanguagedata/flores_plus")["configs"]}
    assert files["amh_Ethi"] == [{"split": "dev", "path": "dev/amh_Ethi.jsonl"},
                                 {"split": "devtest", "path": "devtest/amh_Ethi.jsonl"}]


def test_flores_plus_replica_has_the_columns_and_types_of_the_pinned_commit(mirror):
    """At 5fec6c1 FLORES+ is JSON lines with string flags and `variant`, `split` (docs/data.md)."""
    rows = datasets.load_dataset(str(mirror / "openlanguagedata/flores_plus"), "amh_Ethi", split="dev")
    assert list(rows.features) == ["id", "iso_639_3", "iso_15924", "glottocode", "variant", "text",
                                   "url", "domain", "topic", "has_image", "has_hyperlink",
                                   "last_updated", "split"]
    assert rows.features["id"].dtype == "int64"
    assert {rows.features[c].dtype for c in rows.features if c != "id"} == {"string"}
    assert set(rows["split"]) == {"dev"} and set(rows["has_image"]) <= {"yes", "no"}


def test_replicas_are_what_the_script_writes(tmp_path):
    """The shipped replicas are up to date with scripts/make_replicas.py (run here, no network)."""
    import subprocess
    import sys

    import pyarrow.parquet as pq

    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_replicas.py"), "--out",
                    str(tmp_path)], check=True, capture_output=True)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(REPLICAS) for p in REPLICAS.rglob("*") if p.is_file())
    assert made == shipped
    for relative in made:
        if relative.suffix == ".parquet":  # bytes embed the pyarrow version: compare tables
            assert pq.read_table(tmp_path / relative).equals(pq.read_table(REPLICAS / relative),
                                                             check_metadata=True), relative
        else:
            assert (tmp_path / relative).read_bytes() == (REPLICAS / relative).read_bytes(), relative


# -- each loader against its replica ------------------------------------------------------------


def test_wikiann_through_the_mirror(mirror):
    source = DataSource(hub="unimelb-nlp/wikiann", revision=PINS["unimelb-nlp/wikiann"])
    for lang in ("pbt", "eml", "eng"):
        for split in ("train", "validation", "test"):
            sentences = wikiann.load(source, lang, split)
            assert sentences and all(set(s.tags) <= set(NER_LABELS) for s in sentences)
    assert wikiann.load(source, "khm", "test")[0].tags == ("O", "B-LOC", "I-LOC", "O", "B-PER")
    assert wikiann.load(source, "khm", "test")[0].tokens[0] == "km0w0"  # config `km`


def test_label_ids_are_read_through_the_datasets_own_class_labels(mirror, tmp_path, monkeypatch):
    """Ids mean what the ClassLabel says, whatever its order; a foreign label name is refused."""
    def write(names, tags):
        folder = tmp_path / "mirror" / "org" / "ner" / "am"
        folder.mkdir(parents=True, exist_ok=True)
        features = datasets.Features({
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names))})
        datasets.Dataset.from_dict({"tokens": [["Addis", "Ababa"]], "ner_tags": [tags]},
                                   features=features).to_parquet(folder / "test-00000-of-00001.parquet")
        (folder.parent / "README.md").write_text(
            "---\nconfigs:\n- config_name: am\n  data_files:\n  - split: test\n"
            "    path: am/test-*\n---\n", encoding="utf-8")

    monkeypatch.setenv(hub.MIRROR_ENV, str(tmp_path / "mirror"))
    write(["B-LOC", "I-LOC", "O"], [0, 1])
    assert wikiann.load(DataSource(hub="org/ner"), "amh", "test")[0].tags == ("B-LOC", "I-LOC")
    shutil.rmtree(tmp_path / "hf_datasets")
    write(["O", "B-LOC", "B-MISC"], [1, 2])
    with pytest.raises(DataError, match=r"class labels 'B-MISC' outside the task's labels"):
        wikiann.load(DataSource(hub="org/ner"), "amh", "test")


def test_xnli_and_americas_nli_through_the_mirror(mirror):
    xnli = DataSource(hub="facebook/xnli", revision=PINS["facebook/xnli"])
    for lang in nli.XNLI_CODES:
        for split in ("train", "validation", "test"):
            pairs = nli.load(xnli, lang, split)
            assert [p.label for p in pairs] == [0, 1, 2]
    americas = DataSource(hub="nala-cub/americas_nli")
    for lang in nli.AMERICASNLI_CODES:
        assert len(nli.load(americas, lang, "test")) == 3
    assert nli.load(americas, "grn", "validation")[0].premise.startswith("gn0")  # config `gn`
    with pytest.raises(DataError, match=r"unknown split 'train' in AmericasNLI"):
        nli.load(americas, "aym", "train")


def test_flores_plus_through_the_mirror_is_aligned_by_id(mirror):
    corpus = parallel.ParallelCorpus(format="flores_plus", data=DataSource(
        hub="openlanguagedata/flores_plus", revision=PINS["openlanguagedata/flores_plus"]))
    pairs = parallel.load(corpus, "tgl", "eng")  # fil_Latn, rows stored in reverse id order
    assert [t.split()[2] for t, _ in pairs] == ["0", "1", "2", "3", "4"]
    assert pairs[0] == ("flores dev 0 " + " ".join(f"fil_Latn0w{j}" for j in range(4)),
                        "flores dev 0 " + " ".join(f"eng_Latn0w{j}" for j in range(4)))
    assert parallel.load(corpus, "grn", "zho")  # gug_Latn, cmn_Hans


def test_wikipedia_through_the_mirror(mirror):
    source = DataSource(hub="wikimedia/wikipedia", revision=PINS["wikimedia/wikipedia"])
    samples = monolingual.load(source, "olo", n_samples=2, words_per_sample=8, seed=0)
    assert len(samples) == 2 and all(word.startswith("olo") for s in samples for word in s.split())


def test_releases_from_their_replicas(release_replicas):
    ud_source = DataSource(release="ud")
    assert [s.tokens for s in ud.load(ud_source, "san", "test")][:1] == [("saufal0w0", "saufal0w1",
                                                                         "saufal0w2")]
    sentences = ud.load(ud_source, "tgl", "test")  # tl_trg then tl_ugnayan; no range, no 1.1
    assert len(sentences) == 6 and all(len(s.tokens) == 3 for s in sentences)
    assert all(set(s.tags) <= set(UPOS_LABELS) for s in sentences)
    assert len(ud.load(ud_source, "eng", "validation")) == 3  # en_ewt-ud-dev.conllu
    anli = DataSource(release="americasnli")
    assert [p.label for p in nli.load(anli, "grn", "validation")] == [0, 1, 2]  # dev/gn.tsv
    assert monolingual.load(DataSource(release="americasnlp2021"), "oto", 2, 8, seed=0)


# -- mirrors, pins and the commits that enter the keys ------------------------------------------


def copy_mirror(tmp_path, hub_id="facebook/xnli"):
    folder = tmp_path / "mirror" / hub_id
    shutil.copytree(REPLICAS / "hub" / hub_id, folder)
    return folder


def test_a_mirror_without_a_recorded_commit_is_keyed_by_its_files(mirror, tmp_path, monkeypatch):
    pinned = DataSource(hub="facebook/xnli", revision=PINS["facebook/xnli"])
    key = pinned.fingerprint()
    assert key.startswith(f"hub:facebook/xnli@{PINS['facebook/xnli']}+mirror:")
    monkeypatch.setenv(hub.MIRROR_ENV, str(tmp_path / "mirror"))
    folder = copy_mirror(tmp_path)
    before = pinned.fingerprint()
    (folder / "en" / "test-00000-of-00001.parquet").write_bytes(b"changed")
    assert pinned.fingerprint() != before


def test_a_mirror_made_by_hf_download_is_keyed_by_its_commit(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv(hub.MIRROR_ENV, str(tmp_path / "mirror"))
    folder = copy_mirror(tmp_path)
    meta = folder / ".cache" / "huggingface" / "download" / "en"
    meta.mkdir(parents=True)
    commit = PINS["facebook/xnli"]
    (meta / "test-00000-of-00001.parquet.metadata").write_text(f"{commit}\netag\n1.0\n")
    pinned = DataSource(hub="facebook/xnli", revision=commit)
    check_hub_reachable(pinned, "tasks.nli.source_data")
    assert pinned.fingerprint() == f"hub:facebook/xnli@{commit}"  # the hub's key: artifacts shared
    assert DataSource(hub="facebook/xnli").fingerprint() == f"hub:facebook/xnli@{commit}"
    other = DataSource(hub="facebook/xnli", revision="0" * 40)
    with pytest.raises(DataError, match=rf"mirror .* holds commit {commit}, but the suite pins "):
        check_hub_reachable(other, "tasks.nli.source_data")


def test_a_git_clone_mirror_is_keyed_by_its_head(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv(hub.MIRROR_ENV, str(tmp_path / "mirror"))
    git = copy_mirror(tmp_path) / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text("a" * 40 + "\n")
    assert DataSource(hub="facebook/xnli").fingerprint() == "hub:facebook/xnli@" + "a" * 40


@pytest.fixture
def no_hub(tmp_path, monkeypatch):
    """No mirror, an empty hub cache, offline; the commit lookups forgotten."""
    monkeypatch.delenv(hub.MIRROR_ENV, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub_cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.resolved_commit.cache_clear()
    yield tmp_path / "hub_cache"
    hub.resolved_commit.cache_clear()


def test_an_unpinned_source_is_keyed_by_the_commit_it_resolves_to(no_hub):
    assert DataSource(hub="org/data").fingerprint() == "hub:org/data@default"  # unknown: by name
    hub.resolved_commit.cache_clear()
    commit = "c" * 40
    snapshot = no_hub / "datasets--org--data" / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "README.md").write_text("x")
    (no_hub / "datasets--org--data" / "refs").mkdir()
    (no_hub / "datasets--org--data" / "refs" / "main").write_text(commit)
    assert DataSource(hub="org/data").fingerprint() == f"hub:org/data@default={commit}"
    warning = unpinned_warning(DataSource(hub="org/data"), "monolingual.data")
    assert warning.startswith("monolingual.data: hub dataset 'org/data' is not pinned (revision 'main'")
    assert f"pin it with `revision: {commit}`" in warning
    assert DataSource(hub="org/data", revision="0" * 40).fingerprint() == "hub:org/data@" + "0" * 40


def test_validate_warns_about_an_unpinned_hub_source_naming_its_commit(release_replicas, tmp_path,
                                                                       caplog):
    suite = yaml.safe_load((ROOT / "suites" / "americasnli.yaml").read_text())
    suite["tasks"]["nli"]["source_data"] = {"hub": "facebook/xnli"}  # no revision
    suite["parallel"] = [{"format": "pairs", "data": {"path": str(REPLICAS / "parallel_pairs")}}]
    suite["tasks"]["nli"]["targets"] = ["bzd"]
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    with caplog.at_level(logging.WARNING, logger="harness.validation"):
        prepare(load_suite(path))
    warnings = [r.getMessage() for r in caplog.records if "not pinned" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith("tasks.nli.source_data: hub dataset "
                                                         "'facebook/xnli' is not pinned")


# -- the paper suites ---------------------------------------------------------------------------


def suite_copy(tmp_path, name, data=True):
    """The shipped suite in ``tmp_path/suites`` (its ``../data`` is then ``tmp_path/data``)."""
    (tmp_path / "suites").mkdir(exist_ok=True)
    shutil.copy(ROOT / "suites" / f"{name}.yaml", tmp_path / "suites")
    if data and not (tmp_path / "data").exists():
        shutil.copytree(REPLICAS / "opus", tmp_path / "data" / "opus")
        shutil.copytree(REPLICAS / "parallel_pairs", tmp_path / "data" / "parallel_pairs")
    return tmp_path / "suites" / f"{name}.yaml"


@pytest.mark.parametrize("name", SUITES)
def test_paper_suites_pin_every_hub_dataset(name):
    sources = all_hub_sources(load_suite(ROOT / "suites" / f"{name}.yaml"))
    assert sources, name
    for key, source in sources.items():
        assert source.revision == PINS[source.hub], key
        assert source.revision in source.fingerprint(), key


@pytest.mark.parametrize("name", SUITES)
def test_paper_suite_validates_against_the_replicas(name, release_replicas, tmp_path, caplog):
    """Validate passes as shipped; then every file it names is read by its loader."""
    with caplog.at_level(logging.WARNING):
        plan = prepare(load_suite(suite_copy(tmp_path, name)))
    assert plan.jobs
    assert not [r for r in caplog.records if "not pinned" in r.getMessage()]
    suite = plan.suite
    for task, spec in suite.tasks.items():
        loader = {"ner": wikiann, "pos": ud, "nli": nli}[task]
        for lang in spec.targets:
            assert loader.load(spec.data_for(lang), lang, "test"), (task, lang)
        for lang in spec.sources:
            for split in ("train", "validation"):
                assert loader.load(spec.data_for(lang), lang, split), (task, lang, split)
        for role in ("source", "target"):
            for lang in getattr(spec, f"{role}s"):
                assert monolingual.load(suite.monolingual.data_for(role), lang, 2, 4, seed=0), lang
        pairs = {(t, spec.sources[0]) for t in spec.targets} | {(spec.targets[0], s) for s in spec.sources}
        for target, source in sorted(pairs):  # every target and source once, through its corpus
            assert len(parallel.load(suite.parallel_for(target, source), target, source)) >= 5


EXPECTED_OFFLINE = {  # what each shipped suite cannot reach here: key -> (lines, text in each)
    "wikiann": {
        "tasks.ner.data": (1, "'unimelb-nlp/wikiann' at revision"),
        "monolingual.data": (1, "'wikimedia/wikipedia' at revision"),
        "parallel.0.data": (1, "'openlanguagedata/flores_plus' at revision"),
        "parallel (ang-eng, ang-zho, ang-rus, ang-ara, ang-jpn, frr-eng, frr-zho, frr-rus, frr-ara, "
        "frr-jpn)": (1, "opus Tatoeba"),
        "parallel (cdo-eng, cdo-zho, cdo-rus, cdo-ara, cdo-jpn, eml-eng, eml-zho, eml-rus, eml-ara, "
        "eml-jpn)": (1, "opus wikimedia"),
    },
    "ud": {
        "tasks.pos.data": (1, "ud-treebanks-v2.13.tgz"),
        "monolingual.data": (1, "'wikimedia/wikipedia' at revision"),
        "parallel.0.data": (1, "'openlanguagedata/flores_plus' at revision"),
        "parallel (olo-eng, olo-zho, olo-rus, olo-ara, olo-jpn)": (1, "pairs"),
    },
    "americasnli": {
        "tasks.nli.data": (1, "raw.githubusercontent.com/nala-cub/AmericasNLI/"),
        "tasks.nli.source_data": (1, "'facebook/xnli' at revision"),
        "monolingual.data": (1, "'wikimedia/wikipedia' at revision"),
        "monolingual.target_data": (1, "raw.githubusercontent.com/AmericasNLP/americasnlp2021/"),
        "parallel.0.data": (1, "'openlanguagedata/flores_plus' at revision"),
        "parallel (aym-eng, aym-zho, aym-ara, aym-rus)": (1, "opus GlobalVoices"),
        "parallel (cni-eng, cni-zho, cni-ara, cni-rus)": (1, "opus bible-uedin"),
        "parallel (hch-eng, hch-zho, hch-ara, hch-rus)": (1, "opus QED"),
        "parallel (nah-eng, nah-zho, nah-ara, nah-rus)": (1, "opus Tatoeba"),
        "parallel (bzd-eng, bzd-zho, bzd-ara, bzd-rus, oto-eng, oto-zho, oto-ara, oto-rus, shp-eng, "
        "shp-zho, shp-ara, shp-rus, tar-eng, tar-zho, tar-ara, tar-rus)": (1, "pairs"),
    },
}


@pytest.mark.parametrize("name", SUITES)
def test_shipped_suite_offline_names_exactly_what_it_cannot_reach(name, tmp_path, monkeypatch):
    monkeypatch.delenv(hub.MIRROR_ENV, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub_cache"))
    monkeypatch.setenv(releases.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(releases, "_FAILED", {})

    def no_network(self, url, output_file, pooch_instance, check_only=False):
        raise requests.ConnectionError(f"no network for {url}")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", no_network)
    with pytest.raises(SuiteError) as caught:
        prepare(load_suite(suite_copy(tmp_path, name, data=False)))
    lines = str(caught.value).splitlines()[1:]
    found: dict[str, list[str]] = {}
    for line in lines:
        key, _, message = line.partition(": ")
        found.setdefault(key, []).append(message)
    assert set(found) == set(EXPECTED_OFFLINE[name])
    for key, (count, text) in EXPECTED_OFFLINE[name].items():
        assert len(found[key]) == count, (key, found[key])
        assert all(text in message for message in found[key]), (key, found[key])
    hub_lines = [m for ms in found.values() for m in ms if "hub dataset" in m]
    assert all("(HF_HUB_OFFLINE is set)" in m and hub.MIRROR_ENV in m for m in hub_lines)
    folders = [m for ms in found.values() for m in ms if "data folder" in m]
    assert all(str(tmp_path / "data") in m and "does not exist" in m for m in folders)
