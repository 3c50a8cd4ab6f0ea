"""Parallel sentences per (target, source) pair, checked at validate; language codes of any language."""

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cli.main import cli
from harness.core.languages import UnknownLanguageError, canonical_code, get_language
from harness.data import authors_parallel, opus, parallel
from harness.data.parallel import FLORES_CODES, ParallelCorpus, ParallelRef
from harness.data.source import DataError, DataSource
from harness.planning.plan import prepare
from harness.suite.schema import SuiteError, load_suite

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
K = 10  # the paper's (InferenceConfig.k)


def suite_file(tmp_path, parallel_value=None, targets=("amh",), methods=None, folders=None) -> Path:
    folders = folders or {}
    payload = {
        "name": "mini",
        "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": list(targets), "sources": ["eng", "zho"],
                          "data": {"path": str(folders.get("wikiann", FIXTURES / "wikiann"))}}},
        "methods": methods or {"unibridge": {}},
        "monolingual": {"data": {"path": str(folders.get("monolingual", FIXTURES / "monolingual"))}},
    }
    if parallel_value is not None:
        payload["parallel"] = parallel_value
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return path


def copy_parallel(tmp_path, amh_text=None) -> Path:
    folder = tmp_path / "parallel"
    shutil.copytree(FIXTURES / "parallel", folder)
    if amh_text is not None:
        n_lines = len((folder / "eng.txt").read_text(encoding="utf-8").splitlines())
        lines = amh_text.splitlines()
        (folder / "amh.txt").write_text("\n".join(lines + [""] * (n_lines - len(lines))) + "\n",
                                        encoding="utf-8")
    return folder


# --- language codes ----------------------------------------------------------------------------

def test_any_iso_639_3_code_and_two_letter_codes_map_to_three_letters():
    assert canonical_code("tur") == "tur" and get_language("tur").name == "Turkish"
    assert canonical_code("am") == "amh" and canonical_code("tl") == "tgl"
    assert canonical_code("nah") == "nah" and canonical_code("oto") == "oto"  # ISO 639-5, in the paper
    assert get_language("amh").script == "Ethiopic"  # the paper's metadata is kept


@pytest.mark.parametrize("code", ["xx1", "Turkish", "und", "amhh"])
def test_non_codes_are_refused_with_the_code_table(code):
    with pytest.raises(UnknownLanguageError, match=f"unknown language '{code}'.*ISO 639-3"):
        canonical_code(code)


def test_suite_accepts_turkish_and_maps_am(tmp_path):
    suite = load_suite(suite_file(tmp_path, targets=("tur", "am")))
    assert suite.tasks["ner"].targets == ("tur", "amh")


def test_non_code_in_a_suite_is_one_message_naming_the_key(tmp_path):
    with pytest.raises(SuiteError) as error:
        load_suite(suite_file(tmp_path, targets=("amh", "xx1")))
    message = str(error.value)
    assert "tasks.ner.targets: " in message and "unknown language 'xx1'" in message
    assert message.count("unknown language") == 1 and "Did you mean 'tam'" not in message


def test_turkish_target_validates_from_local_files(tmp_path):
    wikiann = tmp_path / "wikiann"
    shutil.copytree(FIXTURES / "wikiann", wikiann)
    shutil.copytree(wikiann / "amh", wikiann / "tur")
    mono = tmp_path / "monolingual"
    shutil.copytree(FIXTURES / "monolingual", mono)
    shutil.copy(mono / "amh.txt", mono / "tur.txt")
    folder = copy_parallel(tmp_path)
    shutil.copy(folder / "amh.txt", folder / "tur.txt")
    path = suite_file(tmp_path, {"path": str(folder)}, targets=("tur",),
                      folders={"wikiann": wikiann, "monolingual": mono})
    plan = prepare(load_suite(path))
    assert [job.lang for job in plan.jobs] == ["tur"]
    assert "tur.txt" in str(parallel.files(plan.suite.parallel_for("tur", "eng"), "tur", "eng")[0])


# --- too few pairs: validate, not stage 5 ------------------------------------------------------

@pytest.mark.parametrize("amh_text, expected", [("", ": 0 of the k = 10 sentence pairs"),
                                                ("one\ntwo\nthree\n", ": 3 of the k = 10 sentence pairs")])
def test_short_parallel_file_fails_validate_naming_pair_and_file(tmp_path, amh_text, expected):
    folder = copy_parallel(tmp_path, amh_text)
    path = suite_file(tmp_path, {"path": str(folder)})
    with pytest.raises(SuiteError) as error:
        prepare(load_suite(path))
    message = str(error.value)
    assert "parallel (amh-eng)" in message and "parallel (amh-zho)" in message
    assert expected in message and str(folder / "amh.txt") in message and f"k = {K}" in message

    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2 and expected in result.output and "amh-eng" in result.output
    assert str(folder / "amh.txt") in result.output and "Traceback" not in result.output


def test_k_follows_the_method_config(tmp_path):
    folder = copy_parallel(tmp_path, "one\ntwo\nthree\n")
    methods = {"unibridge": {"inference": {"k": 3}}}
    prepare(load_suite(suite_file(tmp_path, {"path": str(folder)}, methods=methods)))


def test_methods_without_harmony_weights_need_no_parallel_data(tmp_path):
    prepare(load_suite(suite_file(tmp_path, methods={"zero_shot": {}, "unibridge_lang2vec": {}})))
    methods = {"zero_shot": {}, "unibridge_lang2vec": {}, "unibridge": {}}
    with pytest.raises(SuiteError, match=r"with harmony weights \(unibridge\);"):
        prepare(load_suite(suite_file(tmp_path, methods=methods)))


# --- formats and which corpus serves which pair ------------------------------------------------

def test_per_pair_files(tmp_path):
    (tmp_path / "amh-eng.tsv").write_text("t1\ts1\n\nt2\t\nt3\ts3\n", encoding="utf-8")
    corpus = ParallelCorpus(format="pairs", data=DataSource(path=tmp_path))
    assert parallel.load(corpus, "amh", "eng") == [("t1", "s1"), ("t3", "s3")]
    (tmp_path / "amh-eng.tsv").write_text("t1\ts1\nbroken\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"amh-eng\.tsv:2: expected 'target<TAB>source'"):
        parallel.load(corpus, "amh", "eng")
    with pytest.raises(DataError, match=r"amh-zho\.tsv.*pairs there: amh-eng"):
        parallel.check(corpus, "amh", "zho")


@pytest.mark.parametrize("order", [("en", "frr"), ("frr", "en")])
def test_opus_moses_files_in_either_order(tmp_path, order):
    stem = f"Tatoeba.{order[0]}-{order[1]}"
    (tmp_path / f"{stem}.frr").write_text("t1\n\nt3\n", encoding="utf-8")
    (tmp_path / f"{stem}.en").write_text("s1\ns2\ns3\n", encoding="utf-8")
    corpus = ParallelCorpus(format="opus", corpus="Tatoeba", data=DataSource(path=tmp_path))
    assert parallel.load(corpus, "frr", "eng") == [("t1", "s1"), ("t3", "s3")]


def test_missing_opus_files_say_which_and_how_to_get_them(tmp_path):
    corpus = ParallelCorpus(format="opus", corpus="Tatoeba", codes={"aym": "aym"},
                            data=DataSource(path=tmp_path))
    with pytest.raises(DataError) as error:
        parallel.check(corpus, "aym", "eng", K)
    message = str(error.value)
    assert message.startswith(f"parallel pair aym-eng: 0 of the k = {K} sentence pairs")
    assert "Tatoeba.aym-en.aym" in message and "Tatoeba.aym-en.en" in message
    assert "opus_get --directory CORPUS" in message and "--preprocess moses" in message
    assert opus.opus_code("amh", {}) == "am" and opus.opus_code("ang", {}) == "ang"


def test_flores_plus_codes_and_what_it_lacks(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # codes only: the hub is not asked for its files
    assert FLORES_CODES["tgl"] == "fil_Latn" and FLORES_CODES["grn"] == "gug_Latn"
    lacking = "ang cdo eml frr olo bzd cni hch nah oto shp tar".split()
    assert not set(lacking) & set(FLORES_CODES)
    corpus = ParallelCorpus(format="flores_plus", data=DataSource(hub=parallel.FLORES_HUB))
    with pytest.raises(DataError, match=r"FLORES\+.*'ang'.*format opus, folder or pairs"):
        parallel.check(corpus, "ang", "eng")
    named = corpus.model_copy(update={"codes": {"tur": "tur_Latn"}})
    parallel.check(named, "tur", "eng")


def test_suite_says_which_corpus_serves_which_pair(tmp_path):
    value = [
        {"format": "flores_plus", "data": {"hub": parallel.FLORES_HUB, "revision": "abc"},
         "targets": ["amh", "tl"]},
        {"format": "opus", "corpus": "Tatoeba", "data": {"path": "opus"}, "targets": ["frr"]},
        {"format": "pairs", "data": {"path": "pairs"}, "targets": ["frr"], "sources": ["zho"]},
    ]
    suite = load_suite(suite_file(tmp_path, value, targets=("amh", "frr")))
    assert suite.parallel_for("tgl", "eng").format == "flores_plus"
    assert suite.parallel_for("frr", "zho").format == "opus"  # the first entry that lists the pair
    assert suite.parallel[1].data.path == (tmp_path / "opus").resolve()
    with pytest.raises(DataError, match="no parallel corpus serves the pair som-eng"):
        suite.parallel_for("som", "eng")


def test_bad_parallel_entry_names_the_key(tmp_path):
    value = [{"format": "opus", "data": {"path": "opus"}}]
    with pytest.raises(SuiteError, match=r"parallel\.0.*'corpus'"):
        load_suite(suite_file(tmp_path, value))


def test_fingerprint_covers_only_the_pairs_files(tmp_path):
    folder = copy_parallel(tmp_path)
    corpus = ParallelCorpus(format="folder", data=DataSource(path=folder))
    before = ParallelRef.of(corpus, "amh", "eng").fingerprint
    parallel.hash_tree.cache_clear()
    (folder / "rus.txt").write_text("changed\n", encoding="utf-8")
    assert ParallelRef.of(corpus, "amh", "eng").fingerprint == before
    (folder / "eng.txt").write_text("changed\n", encoding="utf-8")
    parallel.hash_tree.cache_clear()
    assert ParallelRef.of(corpus, "amh", "eng").fingerprint != before
    assert "path" not in ParallelRef.of(corpus, "amh", "rus").model_dump_json()


PAPER_FLORES = {"amh", "crh", "grn", "khm", "kan", "lij", "pbt", "quy", "san", "snd", "sin", "som",
                "tam", "tgl", "tat"}  # weight.py's from_flores=True targets


@pytest.mark.parametrize("name", ["wikiann", "ud", "americasnli"])
def test_paper_suites_read_the_authors_files_from_their_flores_or_opus_tree(name):
    """Every pair from the authors' files; FLORES targets from alignment/flores/ as in weight.py."""
    suite = load_suite(ROOT / "suites" / f"{name}.yaml")
    for spec in suite.tasks.values():
        for target in spec.targets:
            for source in spec.sources:
                corpus = suite.parallel_for(target, source)
                assert corpus.format == "unibridge" and corpus.data.release == "unibridge_alignment"
                tree = "flores" if target in PAPER_FLORES else "opus"
                for lang in (source, "eng"):
                    relative = authors_parallel.relative_path(corpus.data, target, lang)
                    assert relative.startswith(f"xlm/alignment/{tree}/"), (target, lang, relative)


def test_a_pair_the_authors_lack_names_the_sources_they_have():
    source = DataSource(release="unibridge_alignment")
    with pytest.raises(DataError, match=r"no pair grn-jpn \(file grn_Latn-jpn_Jpan.txt\); they hold "
                                        r"for grn: sources ara, eng, rus, zho\. Serve this pair"):
        authors_parallel.relative_path(source, "grn", "jpn")
    with pytest.raises(DataError, match=r"no target 'tur'"):
        authors_parallel.relative_path(source, "tur", "eng")
    assert authors_parallel.relative_path(source, "tgl", "zho") == \
        "xlm/alignment/flores/tl/tgl_Latn-zho_Hant.txt"  # tgl_Latn, not FLORES+'s fil_Latn


def test_authors_file_without_code_prefixes_is_refused(tmp_path):
    path = tmp_path / "amh_Ethi-eng_Latn.txt"
    path.write_text("eng_Latn: hello\namh_Ethi: selam\n\nhello again\namh_Ethi: x\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"amh_Ethi-eng_Latn.txt: no '<code>: ' prefix on line 4;"):
        authors_parallel.read_side(path, "target")
    path.write_text("eng_Latn: hello\n", encoding="utf-8")
    with pytest.raises(DataError, match="an odd line count"):
        authors_parallel.read_side(path, "source")


def test_a_missing_folder_names_its_suite_key_and_how_to_fill_it(tmp_path):
    value = [{"format": "opus", "corpus": "Tatoeba", "data": {"path": "no_such_opus"}}]
    with pytest.raises(SuiteError) as error:
        prepare(load_suite(suite_file(tmp_path, value)))
    lines = [line for line in str(error.value).splitlines() if line.startswith("parallel (")]
    assert len(lines) == 1 and lines[0].startswith("parallel (amh-eng, amh-zho): parallel.0.data "
                                                   "opus Tatoeba")
    assert f"data folder {tmp_path / 'no_such_opus'} does not exist" in lines[0]
    assert "opus_get --directory CORPUS" in lines[0]


def test_opus_says_per_pair_how_many_sentences_exist(tmp_path):
    folder = tmp_path / "opus"
    folder.mkdir()
    (folder / "Tatoeba.am-en.am").write_text("t\n" * 4, encoding="utf-8")
    (folder / "Tatoeba.am-en.en").write_text("s\n" * 4, encoding="utf-8")
    value = [{"format": "opus", "corpus": "Tatoeba", "data": {"path": str(folder)}}]
    with pytest.raises(SuiteError) as error:
        prepare(load_suite(suite_file(tmp_path, value)))
    message = str(error.value)
    assert f"parallel (amh-eng): parallel.0.data opus Tatoeba ({folder}): parallel pair amh-eng: " \
           f"4 of the k = {K} sentence pairs" in message
    assert f"parallel (amh-zho): parallel.0.data opus Tatoeba ({folder}): parallel pair amh-zho: " \
           f"0 of the k = {K} sentence pairs" in message


@pytest.fixture
def online_hub(tmp_path, monkeypatch):
    """No mirror, an empty hub cache, not offline: the hub would be asked (the test patches it)."""
    from huggingface_hub import constants

    from harness.data import hub

    monkeypatch.delenv(hub.MIRROR_ENV, raising=False)
    for name in hub.OFFLINE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub_cache"))
    monkeypatch.setattr(hub, "_ACCESS", {})
    return hub


def test_gated_flores_plus_says_how_to_accept_its_terms(online_hub, monkeypatch):
    import huggingface_hub
    from huggingface_hub.errors import GatedRepoError

    asked = []

    def refuse(url, **kwargs):
        asked.append(url)
        raise GatedRepoError(f"403 Client Error. Cannot access gated repo for url {url}.")

    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", refuse)
    revision = "5fec6c13f9e5a4db2f745d4ec0d7c9721ddc4f06"
    corpus = ParallelCorpus(format="flores_plus", data=DataSource(hub=parallel.FLORES_HUB,
                                                                  revision=revision))
    messages = set()
    for target, source in (("amh", "eng"), ("tgl", "zho"), ("amh", "rus")):
        with pytest.raises(DataError) as error:
            parallel.check(corpus, target, source, K)
        messages.add(str(error.value))
    assert asked == [f"https://huggingface.co/datasets/{parallel.FLORES_HUB}/resolve/{revision}/"
                     f"dev/amh_Ethi.jsonl"]  # one file the suite reads, asked once
    (message,) = messages  # the same line for every pair: validate prints it once
    assert "is gated" in message and f"https://huggingface.co/datasets/{parallel.FLORES_HUB}" in message
    assert "accept its terms" in message and "huggingface-cli login" in message


def test_readable_flores_plus_passes_and_network_failures_are_left_to_reachability(online_hub,
                                                                                    monkeypatch):
    import huggingface_hub
    import requests

    corpus = ParallelCorpus(format="flores_plus", data=DataSource(hub=parallel.FLORES_HUB))
    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", lambda url, **kwargs: None)
    parallel.check(corpus, "amh", "eng", K)
    monkeypatch.setattr(online_hub, "_ACCESS", {})

    def no_network(url, **kwargs):
        raise requests.ConnectionError("no network")

    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", no_network)
    parallel.check(corpus, "amh", "eng", K)


def test_each_format_reads_its_own_form_of_data(tmp_path):
    with pytest.raises(ValueError, match=r"format 'unibridge' reads a release \(data: \{release: "):
        ParallelCorpus(format="unibridge", data=DataSource(path=tmp_path))
    with pytest.raises(ValueError, match=r"format 'pairs' reads local files"):
        ParallelCorpus(format="pairs", data=DataSource(release="unibridge_alignment"))
    corpus = ParallelCorpus(format="unibridge", data=DataSource(release="americasnli"))
    with pytest.raises(DataError, match=r"holds AmericasNLI, not parallel sentences; releases of "
                                        r"parallel sentences: unibridge_alignment"):
        parallel.check(corpus, "amh", "eng", K)
