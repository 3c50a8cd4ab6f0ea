"""The loaders and the paper suites against replicas of the real datasets (``fixtures/replicas``).

The replicas (written by ``scripts/make_replicas.py``) have the published layout and schema of
each dataset the paper suites read, with synthetic text: hub repositories (README ``configs``,
parquet files with the real features and ``ClassLabel`` names) read through
``UNIBRIDGE_HUB_MIRROR`` by the very ``datasets.load_dataset`` call of the hub form; the UD
tarball, the AmericasNLI and AmericasNLP files fetched by pooch from the replica with its
checksums pinned in place of the real ones; the UniBridge authors' parallel files (real bytes,
under their real checksums) fetched from the replica in place of GitHub. Then each paper
suite, as shipped, passes ``validate`` against them, pins every hub dataset, and, offline,
names exactly what it cannot reach.
"""

import hashlib
import itertools
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
from harness.planning.plan import prepare
from harness.planning.validation import all_hub_sources
from harness.suite.schema import SuiteError, load_suite

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


def backbone_replicas(cache: Path) -> Path:
    """A Hugging Face cache holding each registered hub backbone at its pin (config.json only).

    What ``validate`` looks for (``models--<id>/snapshots/<pinned commit>/config.json``); the
    weights are not read by any check.
    """
    import json

    from harness.core.archs import MODEL_TYPES
    from harness.models.backbones import BACKBONES

    for name in BACKBONES.names():
        spec = BACKBONES.get(name)
        if spec.tiny:
            continue
        snapshot = cache / f"models--{spec.hub_id.replace('/', '--')}" / "snapshots" / spec.revision
        snapshot.mkdir(parents=True)
        (snapshot / "config.json").write_text(json.dumps({"model_type": MODEL_TYPES[spec.arch]}))
    return cache


@pytest.fixture
def mirror(monkeypatch, tmp_path):
    """The hub replicas as the mirror, the backbones at their pins in a Hugging Face cache;
    arrow caches and the data cache in ``tmp_path``."""
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(backbone_replicas(tmp_path / "hf_hub")))
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
    for name in ("americasnlp2021", "americasnli", "ud_repositories"):
        release = releases.RELEASES[name]
        folder = REPLICAS / "releases" / name
        for version, pin in list(release.versions.items()):  # the files the replica holds
            checksums = {relative: sha256(folder / relative) for relative in pin.checksums
                         if (folder / relative).is_file()}
            monkeypatch.setitem(release.versions, version,
                                releases.Pinned(url=str(folder), checksums=checksums))
    alignment = releases.RELEASES["unibridge_alignment"]  # real bytes: the real checksums stay
    pin = alignment.versions[alignment.default_version]
    monkeypatch.setitem(alignment.versions, alignment.default_version, releases.Pinned(
        url=str(REPLICAS / "unibridge_alignment"), checksums=pin.checksums))


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
    shipped = sorted(p.relative_to(REPLICAS) for p in REPLICAS.rglob("*") if p.is_file()
                     and (p.name != "evidence.yaml" or p.parent.name == "unibridge_alignment"))
    # evidence.yaml is hand-written beside each replica, but the script writes the list of the
    # authors' files it copies
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


def test_the_authors_parallel_files_are_their_real_bytes():
    """Each replica file has the SHA-256 pinned for the real file; evidence.yaml lists exactly them."""
    folder = REPLICAS / "unibridge_alignment"
    release = releases.RELEASES["unibridge_alignment"]
    pins = release.versions[release.default_version].checksums
    held = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.txt"))
    assert len(held) == 130 and all(sha256(folder / relative) == pins[relative] for relative in held)
    evidence = yaml.safe_load((folder / "evidence.yaml").read_text(encoding="utf-8"))
    assert sorted(evidence["files"]) == held and "\n" not in evidence["source"]
    assert evidence["evidence"][0] == f"TokisakiKurumi2001/UniBridge@{release.default_version}:xlm/alignment"


def test_the_authors_parallel_files_come_from_vinai_when_the_authors_repository_fails(
        tmp_path, monkeypatch):
    """The dev head's host unreachable: VinAIResearch/UniBridge serves the same pinned bytes."""
    release = releases.RELEASES["unibridge_alignment"]
    relative = "xlm/alignment/flores/am/amh_Ethi-eng_Latn.txt"
    vinai = "https://raw.githubusercontent.com/VinAIResearch/UniBridge/" \
            "c7b0d4ef43918cb9814d109a07a83954c04ab2f9/"
    assert release.versions[release.default_version].file_urls(relative) == [
        f"https://raw.githubusercontent.com/TokisakiKurumi2001/UniBridge/"
        f"{release.default_version}/{relative}", vinai + relative]
    tried = []

    def only_vinai(self, url, output_file, pooch_instance, check_only=False):
        tried.append(url)
        if not url.startswith(vinai):
            raise requests.ConnectionError(f"no network for {url}")
        Path(output_file).write_bytes(
            (REPLICAS / "unibridge_alignment" / url.removeprefix(vinai)).read_bytes())

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", only_vinai)
    monkeypatch.setattr(releases, "_FAILED", {})
    monkeypatch.setenv(releases.CACHE_ENV, str(tmp_path / "cache"))
    path = releases.fetch_file(DataSource(release="unibridge_alignment"), "parallel sentences",
                               relative)
    assert tried[-1] == vinai + relative and len(tried) == 2
    assert path.read_bytes() == (REPLICAS / "unibridge_alignment" / relative).read_bytes()


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
    suite["tasks"]["nli"]["targets"] = ["bzd"]
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    with caplog.at_level(logging.WARNING, logger="harness.planning.validation"):
        prepare(load_suite(path))
    warnings = [r.getMessage() for r in caplog.records if "not pinned" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith("tasks.nli.source_data: hub dataset "
                                                         "'facebook/xnli' is not pinned")


# -- the paper suites ---------------------------------------------------------------------------


def suite_copy(tmp_path, name):
    """The shipped suite in ``tmp_path/suites`` (the paper suites read no local folder)."""
    (tmp_path / "suites").mkdir(exist_ok=True)
    shutil.copy(ROOT / "suites" / f"{name}.yaml", tmp_path / "suites")
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
    """Validate passes as shipped, no pair lacking (the authors' files); every file it names is read."""
    with caplog.at_level(logging.WARNING):
        plan = prepare(load_suite(suite_copy(tmp_path, name)))
    assert plan.jobs
    assert not [r for r in caplog.records if "not pinned" in r.getMessage()]
    read_every_file(plan.suite, missing={})


def read_every_file(suite, missing: dict[str, str]) -> None:
    """Each task, monolingual and parallel file the suite names is read by its loader.

    Parallel: every (target, source) pair but those in ``missing`` (``target-source``).
    """
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
        for target, source in itertools.product(spec.targets, spec.sources):
            if f"{target}-{source}" not in missing:  # every pair the sources have, read
                assert parallel.load(suite.parallel_for(target, source), target, source)


FLORES_PLUS = "{format: flores_plus, data: {hub: openlanguagedata/flores_plus, " \
              "revision: 5fec6c13f9e5a4db2f745d4ec0d7c9721ddc4f06}, "
PUBLIC_PARALLEL = {  # per paper suite: its parallel block on the public sources (before the
    # authors' files; the suites list these entries as commented alternatives)
    "wikiann": [FLORES_PLUS + "targets: [amh, crh, khm, kan, lij, pbt, san, snd, sin, som]}",
                "{format: opus, corpus: Tatoeba, data: {path: ../data/opus}, targets: [ang]}",
                "{format: opus, corpus: wikimedia, data: {path: ../data/opus}, targets: [cdo, eml]}",
                "{format: opus, corpus: Tatoeba, data: {path: ../data/opus}, targets: [frr]}"],
    "ud": [FLORES_PLUS + "targets: [amh, lij, san, snd, sin, tam, tgl, tat]}",
           "{format: pairs, data: {path: ../data/parallel_pairs}, targets: [olo]}"],
    "americasnli": [
        FLORES_PLUS + "targets: [grn, quy]}",
        "{format: opus, corpus: GlobalVoices, data: {path: ../data/opus}, targets: [aym], "
        "codes: {aym: aym}}",
        "{format: opus, corpus: bible-uedin, data: {path: ../data/opus}, targets: [cni]}",
        "{format: opus, corpus: QED, data: {path: ../data/opus}, targets: [hch]}",
        "{format: opus, corpus: Tatoeba, data: {path: ../data/opus}, targets: [nah]}",
        "{format: pairs, data: {path: ../data/parallel_pairs}, targets: [bzd, oto, shp, tar]}"],
}


def _gaps(pairs: str, text: str) -> dict[str, str]:
    return dict.fromkeys(pairs.split(), text)


NO_FOLDER = "data folder"  # the suite's per-pair folder: no public source fills it
REAL_SOURCE_GAPS = {  # per paper suite on PUBLIC_PARALLEL: (target-source) -> what validate says
    # Counts from the OPUS index (fixtures/replicas/opus/evidence.yaml); harmony weights need
    # K = 10 pairs. The authors' alignment files, the suites' default, fill every one of them.
    "wikiann": {
        **_gaps("ang-zho ang-jpn frr-zho frr-rus frr-ara frr-jpn", "no OPUS Tatoeba files"),
        **_gaps("cdo-rus cdo-ara cdo-jpn eml-zho eml-rus eml-ara eml-jpn", "no OPUS wikimedia files"),
        "ang-ara": "4 of the k = 10 sentence pairs", "cdo-eng": "2 of the k = 10 sentence pairs",
        "eml-eng": "2 of the k = 10 sentence pairs",
    },
    "ud": _gaps("olo-eng olo-zho olo-rus olo-ara olo-jpn", NO_FOLDER),
    "americasnli": {
        "aym-zho": "no OPUS GlobalVoices files", "hch-zho": "no OPUS QED files",
        **_gaps("nah-zho nah-ara nah-rus", "no OPUS Tatoeba files"),
        "hch-eng": "0 of the k = 10 sentence pairs", "hch-ara": "1 of the k = 10 sentence pairs",
        "hch-rus": "1 of the k = 10 sentence pairs",
        **_gaps(" ".join(f"{t}-{s}" for t in ("bzd", "oto", "shp", "tar")
                         for s in ("eng", "zho", "ara", "rus")), NO_FOLDER),
    },
}


def problems_by_key(error: SuiteError) -> dict[str, list[str]]:
    """The lines of a validate error, grouped by the suite key each names."""
    found: dict[str, list[str]] = {}
    for line in str(error).splitlines()[1:]:
        key, _, message = line.partition(": ")
        found.setdefault(key, []).append(message)
    return found


@pytest.mark.parametrize("name", SUITES)
def test_the_suites_list_their_public_parallel_entries_as_alternatives(name):
    """Each OPUS and FLORES+ entry of PUBLIC_PARALLEL is a commented line of the shipped suite."""
    text = (ROOT / "suites" / f"{name}.yaml").read_text(encoding="utf-8")
    commented = [yaml.safe_load(line.removeprefix("# - ")) for line in text.splitlines()
                 if line.startswith("# - {format:")]
    public = [yaml.safe_load(entry) for entry in PUBLIC_PARALLEL[name]]
    assert commented == [entry for entry in public if entry["format"] != "pairs"]


@pytest.mark.parametrize("name", SUITES)
def test_paper_suite_on_the_public_sources_names_exactly_what_they_lack(name, release_replicas,
                                                                        tmp_path):
    """FLORES+ and OPUS (replicas with the real pair counts), no per-pair folder (no public source
    fills one): validate names exactly REAL_SOURCE_GAPS; every pair they have is read."""
    suite = yaml.safe_load(suite_copy(tmp_path, name).read_text(encoding="utf-8"))
    suite["parallel"] = [yaml.safe_load(entry.replace("../data/", f"{REPLICAS}/"))
                         for entry in PUBLIC_PARALLEL[name]]
    path = tmp_path / "suites" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    with pytest.raises(SuiteError) as caught:
        prepare(load_suite(path))
    said: dict[str, str] = {}  # pair -> the one message about it
    for key, messages in problems_by_key(caught.value).items():
        assert key.startswith("parallel (") and len(messages) == 1, (key, messages)
        for pair in key.removeprefix("parallel (").removesuffix(")").split(", "):
            assert pair not in said, pair
            said[pair] = messages[0]
    missing = REAL_SOURCE_GAPS[name]
    assert sorted(said) == sorted(missing)
    for pair, text in missing.items():
        assert text in said[pair], (pair, said[pair])
    read_every_file(load_suite(path), missing)


def test_the_ud_suite_reaches_sindhi_from_its_pinned_commit(release_replicas, tmp_path):
    spec = load_suite(suite_copy(tmp_path, "ud")).tasks["pos"]
    sentences = ud.load(spec.data_for("snd"), "snd", "test")
    assert sentences[0].tokens == ("sdmazhardootio0w0", "sdmazhardootio0w1", "sdmazhardootio0w2")
    cached = list((tmp_path / "cache" / "ud_repositories").rglob("*.conllu"))
    assert [p.relative_to(tmp_path / "cache").as_posix() for p in cached] == [
        "ud_repositories/625e88d50fafef92a4e33f19252d39b8eabe554b/UD_Sindhi-MazharDootio/"
        "sd_mazhardootio-ud-test.conllu"]
    untar = tmp_path / "cache" / "ud" / "2.13" / "ud-treebanks-v2.13.tgz.untar"
    ud.load(spec.data_for("tgl"), "tgl", "test")
    assert not list(untar.rglob("sd_mazhardootio*"))  # not looked for in the release


AUTHORS = "raw.githubusercontent.com/TokisakiKurumi2001/UniBridge/"
GITHUB = "(no connection to raw.githubusercontent.com)"
OFFLINE = "(HF_HUB_OFFLINE is set)"
#: What each shipped suite cannot reach here: key -> the text of its one line, and the text of
#: its full message (logged at INFO, ``validate -v``), for the data sources.
EXPECTED_OFFLINE = {
    "wikiann": {
        "tasks.ner.data": ("hub unimelb-nlp/wikiann@f0a3be6): ", "'unimelb-nlp/wikiann' at revision"),
        "monolingual.data": ("hub wikimedia/wikipedia@3e1f92c): ", "'wikimedia/wikipedia' at revision"),
        "parallel.0.data": ("unibridge release unibridge_alignment, 70 pairs): ", AUTHORS),
        **{f"backbones.{i}": (f"{name}): ", None) for i, name in enumerate((
            "xlm-roberta-base@e73636d", "bert-base-multilingual-cased@3f076fd",
            "ai-forever/mGPT@cb99dd4", "facebook/mbart-large-cc25@e84f32f"))},
    },
    "ud": {
        "tasks.pos.data": ("release ud@2.13, 13 languages): ",
                           "ud-treebanks-v2.13.tgz?sequence=1&isAllowed=y"),
        "tasks.pos.language_data.snd": ("release ud_repositories@625e88d, snd): ",
                                        "UD_Sindhi-MazharDootio/625e88d"),
        "monolingual.data": ("hub wikimedia/wikipedia@3e1f92c): ", "'wikimedia/wikipedia' at revision"),
        "parallel.0.data": ("unibridge release unibridge_alignment, 45 pairs): ", AUTHORS),
        "backbones.0": ("xlm-roberta-base@e73636d): ", None),
        "backbones.1": ("bert-base-multilingual-cased@3f076fd): ", None),
    },
    "americasnli": {
        "tasks.nli.data": ("release americasnli, 10 languages): ",
                           "raw.githubusercontent.com/nala-cub/AmericasNLI/"),
        "tasks.nli.source_data": ("hub facebook/xnli@b8dd5d7): ", "'facebook/xnli' at revision"),
        "monolingual.data": ("hub wikimedia/wikipedia@3e1f92c): ", "'wikimedia/wikipedia' at revision"),
        # one line for the ten languages: their files are under one unreachable folder
        "monolingual.target_data": ("release americasnlp2021, 10 languages): ",
                                    "raw.githubusercontent.com/AmericasNLP/americasnlp2021/"),
        "parallel.0.data": ("unibridge release unibridge_alignment, 40 pairs): ", AUTHORS),
        "backbones.0": ("xlm-roberta-base@e73636d): ", None),
        "backbones.1": ("bert-base-multilingual-cased@3f076fd): ", None),
    },
}


@pytest.mark.parametrize("name", SUITES)
def test_shipped_suite_offline_names_exactly_what_it_cannot_reach(name, tmp_path, monkeypatch, caplog):
    """One line per source (its key, what it is, why), one 'to do'; the full messages at INFO."""
    monkeypatch.delenv(hub.MIRROR_ENV, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub_cache"))
    monkeypatch.setenv(releases.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(releases, "_FAILED", {})

    def no_network(self, url, output_file, pooch_instance, check_only=False):
        raise requests.ConnectionError(f"no network for {url}")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", no_network)
    caplog.set_level("INFO", logger="harness.planning.validation")
    with pytest.raises(SuiteError) as caught:
        prepare(load_suite(suite_copy(tmp_path, name)))
    *lines, to_do = str(caught.value).splitlines()[1:]
    found: dict[str, list[str]] = {}
    for line in lines:
        key, _, rest = line.partition(" (")
        found.setdefault(key, []).append(rest)
    assert set(found) == set(EXPECTED_OFFLINE[name])
    full = {record.getMessage().partition(": ")[0].replace("parallel", "parallel.0.data"):
            record.getMessage() for record in caplog.records}
    for key, (text, detail) in EXPECTED_OFFLINE[name].items():
        assert len(found[key]) == 1, (key, found[key])
        line = found[key][0]
        reason = OFFLINE if "@" in text and "release" not in text else \
            "(no connection to lindat.mff.cuni.cz)" if "ud@" in text else GITHUB
        assert line == f"{text}not here, and not downloadable here {reason}", line
        if detail:
            assert detail in full[key], (key, full)
    hub_messages = [m for m in full.values() if "hub dataset" in m]
    assert hub_messages and all(hub.MIRROR_ENV in m for m in hub_messages)
    authors = full["parallel.0.data"]
    assert "`url:`" in authors and "no other file of the release is tried" in authors
    assert to_do.startswith("to do: run `unibridge-bench fetch ")
