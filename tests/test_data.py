"""The data layer: fixtures round-trip, hand-written files parse, every error names its cause."""

import os
import re
from pathlib import Path

import pytest

from harness.data import monolingual, nli, parallel, ud, wikiann
from harness.data.examples import (
    NER_LABELS,
    NLI_LABELS,
    UPOS_LABELS,
    SentencePair,
    TaggedSentence,
)
from harness.data.source import DataError, DataSource

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SOURCES = ("eng", "zho", "rus", "ara", "jpn")
SPLIT_SIZES = {"train": 48, "validation": 16, "test": 16}
TASK_FIXTURES = [
    (wikiann, "wikiann", (*SOURCES, "amh", "tgl"), NER_LABELS),
    (ud, "ud", (*SOURCES, "amh", "tgl"), UPOS_LABELS),
    (nli, "nli", (*SOURCES, "aym", "grn"), NLI_LABELS),
]


def local(path) -> DataSource:
    return DataSource(path=Path(path))


def test_label_inventories_follow_the_datasets():
    assert NER_LABELS == ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
    assert len(UPOS_LABELS) == len(set(UPOS_LABELS)) == 17 and "PROPN" in UPOS_LABELS
    assert NLI_LABELS == ("entailment", "neutral", "contradiction")
    assert SentencePair("a", "b", 0) == SentencePair(premise="a", hypothesis="b", label=0)


@pytest.mark.parametrize("module, folder, langs, labels", TASK_FIXTURES, ids=("ner", "pos", "nli"))
def test_fixtures_round_trip(module, folder, langs, labels):
    source = local(FIXTURES / folder)
    for lang in langs:
        module.check(source, lang, tuple(SPLIT_SIZES))
        for split, size in SPLIT_SIZES.items():
            examples = module.load(source, lang, split)
            assert len(examples) == size, (lang, split)
            if module is nli:
                assert {ex.label for ex in examples} <= set(range(len(labels)))
                assert all(ex.premise and ex.hypothesis for ex in examples)
            else:
                assert {tag for ex in examples for tag in ex.tags} <= set(labels)
                assert all(ex.tokens and len(ex.tokens) == len(ex.tags) for ex in examples)


def test_fixture_text_is_parallel_and_monolingual_is_there():
    langs = (*SOURCES, "amh", "tgl", "aym", "grn")
    for lang in langs:
        monolingual.check(local(FIXTURES / "monolingual"), lang)
        for source_lang in SOURCES:
            parallel.check(local(FIXTURES / "parallel"), lang, source_lang)
        assert len(parallel.load(local(FIXTURES / "parallel"), lang, "eng")) >= 30


def test_conllu_skips_ranges_and_empty_nodes(tmp_path):
    folder = tmp_path / "amh"
    folder.mkdir()
    (folder / "test.conllu").write_text(
        "# sent_id = 1\n# text = don't go\n"
        "1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n"
        "1\tdo\tdo\tAUX\t_\t_\t3\taux\t_\t_\n"
        "2\tn't\tnot\tPART\t_\t_\t3\tadvmod\t_\t_\n"
        "3\tgo\tgo\tVERB\t_\t_\t0\troot\t_\t_\n"
        "3.1\tgo\tgo\tVERB\t_\t_\t_\t_\t3:conj\t_\n"
        "\n# newdoc\n\n"
        "1\tHi\thi\tINTJ\t_\t_\t0\troot\t_\t_\n", encoding="utf-8")
    assert ud.load(local(tmp_path), "amh", "test") == [
        TaggedSentence(("do", "n't", "go"), ("AUX", "PART", "VERB")),
        TaggedSentence(("Hi",), ("INTJ",)),
    ]


def test_wikiann_tsv_parses(tmp_path):
    (tmp_path / "amh").mkdir()
    (tmp_path / "amh" / "validation.tsv").write_text(
        "Addis\tB-LOC\nAbaba\tI-LOC\n\n\nhello\tO\n", encoding="utf-8")
    assert wikiann.load(local(tmp_path), "amh", "validation") == [
        TaggedSentence(("Addis", "Ababa"), ("B-LOC", "I-LOC")), TaggedSentence(("hello",), ("O",))]


def test_nli_tsv_parses(tmp_path):
    (tmp_path / "aym").mkdir()
    (tmp_path / "aym" / "test.tsv").write_text(
        "premise\thypothesis\tlabel\nA b.\tA.\tentailment\nC.\tD.\tcontradiction\n",
        encoding="utf-8")
    assert nli.load(local(tmp_path), "aym", "test") == [
        SentencePair("A b.", "A.", 0), SentencePair("C.", "D.", 2)]


@pytest.mark.parametrize("lang, words", [("eng", "one two three four five six seven"),
                                         ("zho", "一二三四五六七")])
def test_monolingual_samples_have_the_requested_words(tmp_path, lang, words):
    (tmp_path / f"{lang}.txt").write_text(f"{words}\n\n{words}\n", encoding="utf-8")
    samples = monolingual.load(local(tmp_path), lang, n_samples=10, words_per_sample=3, seed=0)
    count = (lambda s: len(s.split())) if lang == "eng" else (lambda s: len(s.replace(" ", "")))
    assert [count(s) for s in samples] == [3, 3, 3, 3, 2]  # 14 words; last sample shorter
    assert "".join(samples).replace(" ", "") == (words * 2).replace(" ", "")


def test_monolingual_sampling_is_deterministic_by_seed(tmp_path):
    (tmp_path / "eng.txt").write_text(
        "\n".join(" ".join(f"w{line}_{i}" for i in range(10)) for line in range(50)), encoding="utf-8")
    source = local(tmp_path)
    first = monolingual.load(source, "eng", n_samples=20, words_per_sample=5, seed=1)
    assert first == monolingual.load(source, "eng", n_samples=20, words_per_sample=5, seed=1)
    assert first != monolingual.load(source, "eng", n_samples=20, words_per_sample=5, seed=2)
    assert len(first) == 20 and all(len(s.split()) == 5 for s in first)
    assert len(set(first)) == 20
    order = [int(re.match(r"w(\d+)_(\d+)", s).group(1)) * 10 + int(s.split("_")[1].split()[0])
             for s in first]
    assert order == sorted(order)  # returned in text order


def test_monolingual_gives_what_there_is_when_text_runs_short(tmp_path):
    """The shortfall is said by validate and the corpus stage (tests/test_validate_notes.py)."""
    (tmp_path / "amh.txt").write_text("a b c d\n", encoding="utf-8")
    samples = monolingual.load(local(tmp_path), "amh", n_samples=5, words_per_sample=2, seed=0)
    assert samples == ["a b", "c d"]


def test_parallel_pairs_align_line_by_line_and_skip_gaps(tmp_path):
    (tmp_path / "amh.txt").write_text("t1\n\nt3\nt4\n", encoding="utf-8")
    (tmp_path / "eng.txt").write_text("s1\ns2\ns3\n\n", encoding="utf-8")
    assert parallel.load(local(tmp_path), "amh", "eng") == [("t1", "s1"), ("t3", "s3")]


def test_parallel_files_of_different_length_are_refused(tmp_path):
    (tmp_path / "amh.txt").write_text("t1\nt2\n", encoding="utf-8")
    (tmp_path / "eng.txt").write_text("s1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"amh\.txt has 2 lines but .*eng\.txt has 1"):
        parallel.check(local(tmp_path), "amh", "eng")


@pytest.mark.parametrize("module", [wikiann, ud, nli])
def test_missing_folder_names_the_path(tmp_path, module):
    with pytest.raises(DataError, match="nowhere.* does not exist"):
        module.check(local(tmp_path / "nowhere"), "amh", ("test",))


@pytest.mark.parametrize("module, folder", [(wikiann, "wikiann"), (ud, "ud"), (nli, "nli")])
def test_unknown_language_lists_those_present(module, folder):
    with pytest.raises(DataError) as error:
        module.check(local(FIXTURES / folder), "som", ("test",))
    assert "'som'" in str(error.value) and "ara, " in str(error.value) and "eng, " in str(error.value)
    assert str(FIXTURES / folder) in str(error.value)


@pytest.mark.parametrize("module, folder", [(wikiann, "wikiann"), (ud, "ud"), (nli, "nli")])
def test_bad_split_names_the_choices(module, folder):
    with pytest.raises(DataError, match="'dev'.*eng.*valid: train, validation, test"):
        module.load(local(FIXTURES / folder), "eng", "dev")


def test_missing_split_file_lists_the_splits_present(tmp_path):
    (tmp_path / "amh").mkdir()
    (tmp_path / "amh" / "test.tsv").write_text("a\tO\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"validation\.tsv.*'amh'.*splits there: test"):
        wikiann.check(local(tmp_path), "amh", ("validation", "test"))


def test_a_missing_split_lists_only_the_splits_that_are_files(tmp_path):
    (tmp_path / "amh" / "test.tsv").mkdir(parents=True)  # a folder named like a split
    (tmp_path / "amh" / "train.tsv").write_text("a\tO\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"no file .*validation\.tsv.*'amh'.*splits there: train$"):
        wikiann.check(local(tmp_path), "amh", ("validation",))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this OS")
def test_a_split_that_is_a_named_pipe_says_so_and_is_not_read(tmp_path):
    (tmp_path / "amh").mkdir()
    os.mkfifo(tmp_path / "amh" / "test.tsv")  # reading it would wait for a writer forever
    with pytest.raises(DataError, match=r"test\.tsv for language 'amh' split 'test' is a named pipe, "
                                        r"not a file"):
        wikiann.check(local(tmp_path), "amh", ("test",))


def test_a_data_folder_or_language_folder_that_is_no_folder_says_what_it_is(tmp_path):
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=r"^data folder .*file is a file, not a folder$"):
        wikiann.check(local(tmp_path / "file"), "amh", ("test",))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "amh").symlink_to("amh")
    with pytest.raises(DataError, match=r"^folder .*amh of language 'amh' is a symbolic link loop$"):
        wikiann.check(local(tmp_path / "data"), "amh", ("test",))


@pytest.mark.parametrize("module, name, text, expected", [
    (wikiann, "test.tsv", "a\tO\nb O\n", r"test\.tsv:2: expected 'token<TAB>tag'"),
    (wikiann, "test.tsv", "a\tB-MISC\n", r"test\.tsv:1: unknown tag 'B-MISC'.*B-PER"),
    (ud, "test.conllu", "# c\n1\ta\ta\tNOUN\t_\t_\t0\n", r"test\.conllu:2: expected 10 .*got 7"),
    (ud, "test.conllu", "1\ta\ta\tNOUN\t_\t_\t0\troot\t_\t_\n\n1\tb\tb\tNONE\t_\t_\t0\troot\t_\t_\n",
     r"test\.conllu:3: unknown UPOS 'NONE'.*VERB"),
    (ud, "test.conllu", "x\ta\ta\tNOUN\t_\t_\t0\troot\t_\t_\n", r"test\.conllu:1: cannot parse"),
    (nli, "test.tsv", "premise\thyp\tlabel\n", r"test\.tsv:1: expected the header"),
    (nli, "test.tsv", "premise\thypothesis\tlabel\na\tb\n", r"test\.tsv:2: expected 3 .*got 2"),
    (nli, "test.tsv", "premise\thypothesis\tlabel\na\tb\tyes\n", r"test\.tsv:2: unknown label 'yes'"),
])
def test_malformed_lines_name_file_and_line(tmp_path, module, name, text, expected):
    (tmp_path / "amh").mkdir()
    (tmp_path / "amh" / name).write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=expected):
        module.load(local(tmp_path), "amh", "test")


def test_missing_monolingual_file_lists_languages(tmp_path):
    (tmp_path / "eng.txt").write_text("x\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"amh\.txt.*'amh'.*languages there: eng"):
        monolingual.check(local(tmp_path), "amh")


@pytest.mark.parametrize("check, expected", [
    (lambda s: wikiann.check(s, "bzd", ("test",)), "WikiANN .*'bzd'.*valid: .*amh"),
    (lambda s: ud.check(s, "som", ("test",)), "'som'.*valid: .*amh"),
    (lambda s: nli.check(s, "aym", ("train",)), "'train'.*aym.*valid: validation, test"),
    (lambda s: nli.check(s, "jpn", ("train",)), "'jpn'.*valid: .*aym"),
    (lambda s: monolingual.check(s, "shp"), "Wikipedia .*'shp'"),
    (lambda s: parallel.check(s, "ang", "eng"), "FLORES.*'ang'.*valid: .*amh"),
])
def test_hub_checks_name_the_language_and_choices_without_network(check, expected):
    with pytest.raises(DataError, match=expected):
        check(DataSource(hub="some/dataset"))
