"""Loading a YAML task's data: the local formats, the hub form through a mirror, and its checks."""

import json

import datasets
import pytest
import yaml
from yaml_task_helpers import SENTENCE, TOKEN, fixture_definition

from harness.data import wikiann
from harness.data.examples import LabelledText, SentencePair, TaggedSentence
from harness.data.hub import MIRROR_ENV
from harness.data.problems import Problems
from harness.data.source import DataError, DataSource
from harness.tasks.from_yaml.schema import TaskDefinition
from harness.tasks.specs import get_task

FIXTURES = TOKEN.parents[1]


def task_of(mapping: dict, **changes):
    """The TaskSpec of a definition mapping with ``changes``, named ``t``."""
    return get_task(TaskDefinition.model_validate({**mapping, **changes, "task": "t"}))


def test_the_token_fixture_holds_the_wikiann_fixtures_sentences():
    task = task_of(fixture_definition(TOKEN))
    for lang in ("eng", "rus", "amh"):
        for split in ("train", "validation", "test"):  # validation is the file dev.txt
            expected = wikiann.load(DataSource(path=FIXTURES / "wikiann"), lang, split)
            assert task.load(DataSource(path=TOKEN), lang, split) == expected


def test_the_sentence_fixture_reads_its_columns_by_header():
    task = task_of(fixture_definition(SENTENCE))
    examples = task.load(DataSource(path=SENTENCE), "amh", "test")
    lines = (SENTENCE / "amh_Ethi" / "test.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "index_id\tcategory\ttext" and len(examples) == len(lines) - 1 == 16
    _, category, text = lines[1].split("\t")
    assert examples[0] == LabelledText(text, ("short", "medium", "long").index(category))
    assert task.gold(examples)[0] == category


PAIR = {"kind": "sentence_pair_classification", "labels": ["entailment", "neutral", "contradiction"],
        "metric": "accuracy", "languages": {"eng": "en"},
        "columns": {"premise": "sentence1", "hypothesis": "sentence2", "label": "gold"}}


def test_csv_records_may_quote_commas_and_newlines(tmp_path):
    folder = tmp_path / "en"
    folder.mkdir()
    (folder / "test.csv").write_text('gold,sentence1,sentence2\nneutral,"a, b","c\nd"\n'
                                     'entailment,e,f\n', encoding="utf-8")
    task = task_of(PAIR, local={"format": "csv"})
    assert task.load(DataSource(path=tmp_path), "eng", "test") == [
        SentencePair("a, b", "c\nd", 1), SentencePair("e", "f", 0)]


def test_jsonl_labels_may_be_ids_in_the_order_of_labels(tmp_path):
    folder = tmp_path / "en"
    folder.mkdir()
    rows = [{"tokens": ["Addis", "Ababa"], "tags": [1, 2]}, {"tokens": ["x"], "tags": ["O"]}]
    (folder / "test.jsonl").write_text("\n".join(
        json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    task = task_of({"kind": "token_classification", "labels": ["O", "B-LOC", "I-LOC"],
                    "metric": "f1", "languages": {"eng": "en"}, "local": {"format": "jsonl"}})
    assert task.load(DataSource(path=tmp_path), "eng", "test") == [
        TaggedSentence(("Addis", "Ababa"), ("B-LOC", "I-LOC")), TaggedSentence(("x",), ("O",))]


def test_conllu_words_skip_comments_ranges_and_empty_nodes(tmp_path):
    folder = tmp_path / "en"
    folder.mkdir()
    lines = ["# sent_id = 1", "1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_", "1\tdo\tdo\tAUX\t_\t_\t0\troot\t_\t_",
             "2\tn't\tnot\tPART\t_\t_\t1\tadvmod\t_\t_", "2.1\tgo\tgo\tVERB\t_\t_\t_\t_\t_\t_", ""]
    (folder / "test.conllu").write_text("\n".join(lines) + "\n", encoding="utf-8")
    task = task_of({"kind": "token_classification", "labels": ["AUX", "PART", "VERB"],
                    "metric": "accuracy", "languages": {"eng": "en"}, "local": {"format": "conllu"}})
    assert task.load(DataSource(path=tmp_path), "eng", "test") == [
        TaggedSentence(("do", "n't"), ("AUX", "PART"))]


def write_mirror(root, definition: dict, names: list[str]) -> None:
    """A hub repository ``org/topics`` of the sentence fixture: parquet with ClassLabel ``names``."""
    repo = root / "org" / "topics"
    features = datasets.Features({"index_id": datasets.Value("int64"), "text": datasets.Value("string"),
                                  "category": datasets.ClassLabel(names=names)})
    configs = []
    for config in definition["languages"].values():
        files = []
        for split in ("train", "dev", "test"):
            lines = (SENTENCE / config / f"{split}.tsv").read_text(encoding="utf-8").splitlines()[1:]
            rows = [line.split("\t") for line in lines]
            table = datasets.Dataset.from_dict(
                {"index_id": [int(r[0]) for r in rows], "category": [names.index(r[1]) for r in rows],
                 "text": [r[2] for r in rows]}, features=features)
            (repo / config).mkdir(parents=True, exist_ok=True)
            table.to_parquet(str(repo / config / f"{split}.parquet"))
            files.append({"split": split, "path": f"{config}/{split}.parquet"})
        configs.append({"config_name": config, "data_files": files})
    (repo / "README.md").write_text(f"---\n{yaml.safe_dump({'configs': configs})}---\n", encoding="utf-8")


def test_the_hub_form_through_a_mirror_reads_class_label_names(tmp_path, monkeypatch):
    definition = fixture_definition(SENTENCE)
    write_mirror(tmp_path, definition, ["long", "short", "medium"])  # not the task's order
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    task = task_of(definition)
    hub = DataSource(hub="org/topics", revision="0" * 40)
    for lang, split in (("amh", "test"), ("eng", "validation")):
        assert task.load(hub, lang, split) == task.load(DataSource(path=SENTENCE), lang, split)


def test_a_hub_dataset_without_a_column_is_one_message(tmp_path, monkeypatch):
    definition = fixture_definition(SENTENCE)
    write_mirror(tmp_path, definition, ["short", "medium", "long"])
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    task = task_of(definition, columns={"text": "sentence", "label": "category"})
    with pytest.raises(DataError, match=r"hub dataset 'org/topics' \(config 'amh_Ethi', split 'test'\): "
                                        r"no column\(s\) 'sentence' for task t; its columns: index_id"):
        task.load(DataSource(hub="org/topics"), "amh", "test")


def test_hub_class_labels_outside_the_task_labels_are_refused(tmp_path, monkeypatch):
    definition = fixture_definition(SENTENCE)
    write_mirror(tmp_path, definition, ["short", "medium", "long", "other"])
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataError, match="class labels 'other' outside the task's labels"):
        task_of(definition).load(DataSource(hub="org/topics"), "amh", "test")


def test_hub_check_names_languages_and_splits_without_reading():
    task = task_of(fixture_definition(SENTENCE))
    hub = DataSource(hub="org/topics")
    task.data.check(hub, "amh", ("test",))
    with pytest.raises(DataError, match=r"task t \(org/topics\) has no language 'tgl'; valid: amh, eng, rus"):
        task.data.check(hub, "tgl", ("test",))
    problems = Problems()
    with pytest.raises(DataError, match="release 'ud' cannot serve task t"):
        task.data.check(DataSource(release="ud"), "amh", ("test",), problems)


def test_fetch_learns_the_hub_configs_a_yaml_task_reads_without_reading():
    from harness.data._local import recording_hub_reads

    task = task_of(fixture_definition(SENTENCE))
    hub = DataSource(hub="org/topics", revision="0" * 40)
    with recording_hub_reads() as recorded:
        assert task.load(hub, "amh", "test") == []
        assert task.load(hub, "eng", "train") == []
    assert recorded == [(hub, "amh_Ethi"), (hub, "eng_Latn")]


def test_a_hub_string_label_column_holds_label_names(monkeypatch):
    rows = datasets.Dataset.from_dict({"text": ["a b", "c"], "category": ["long", "politics"]})
    monkeypatch.setattr(datasets, "load_dataset", lambda *args, **kwargs: rows)
    task = task_of(fixture_definition(SENTENCE))
    with pytest.raises(DataError, match=r"config 'amh_Ethi', split 'test'\), row 1: unknown label "
                                        r"'politics'; valid: short, medium, long"):
        task.load(DataSource(hub="org/topics"), "amh", "test")
    monkeypatch.setattr(datasets, "load_dataset", lambda *args, **kwargs: rows.select([0]))
    assert task.load(DataSource(hub="org/topics"), "amh", "test") == [LabelledText("a b", 2)]


def test_quoted_tsv_undoes_the_quotes_pandas_writes(tmp_path):
    import pandas

    rows = pandas.DataFrame({"index_id": [0, 1], "category": ["long", "short"],
                             "text": ['He said "go"\tnow', "plain text"]})
    (tmp_path / "eng_Latn").mkdir()
    rows.to_csv(tmp_path / "eng_Latn" / "test.tsv", sep="\t", index=False)
    definition = fixture_definition(SENTENCE)
    quoted = task_of(definition, local={"format": "quoted_tsv"})
    assert quoted.load(DataSource(path=tmp_path), "eng", "test") == [
        LabelledText('He said "go"\tnow', 2), LabelledText("plain text", 0)]
    with pytest.raises(DataError, match="test.tsv:2: expected 3 fields like the header"):
        task_of(definition).load(DataSource(path=tmp_path), "eng", "test")  # plain tsv: no quoting


def test_a_pair_task_in_yaml_reads_the_nli_fixture_as_the_built_in_task():
    from harness.data import nli

    task = task_of(fixture_definition(FIXTURES / "yaml_tasks" / "pair"))
    source = DataSource(path=FIXTURES / "nli")
    for lang in ("eng", "grn"):
        for split in ("train", "validation", "test"):
            assert task.load(source, lang, split) == nli.load(source, lang, split)
    assert (task.kind, task.labels) == ("pair", get_task("nli").labels)
