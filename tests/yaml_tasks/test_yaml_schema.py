"""A task definition's problems are one message naming the file, the key and the valid choices."""

from pathlib import Path

import pytest
import yaml
from yaml_task_helpers import SENTENCE, TOKEN, fixture_definition, task_entry

from harness.suite.schema import SuiteError, load_suite
from harness.tasks.from_yaml.schema import TaskDefinition

KEYS = "task, kind, description, labels, metric, columns, splits, languages, local, fallback_label"


def write_definition(tmp_path: Path, **changes) -> Path:
    """The sentence fixture's definition with ``changes`` (a None value deletes the key)."""
    definition = fixture_definition(SENTENCE) | changes
    definition = {key: value for key, value in definition.items() if value is not None}
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(definition), encoding="utf-8")
    return path


@pytest.mark.parametrize("changes, key, says", [
    ({"kind": "sentence_classifcation"}, "kind",
     "Did you mean 'sentence_classification'? Valid choices: sentence_classification, "
     "sentence_pair_classification, token_classification"),
    ({"metric": "macro_f1"}, "metric", "Valid choices: accuracy, f1"),
    ({"metric": "f1"}, "(top level)", "metric 'f1' (seqeval entity F1) needs kind token_classification"),
    ({"labels": ["short", "long", "short"]}, "labels", "labels listed twice: short"),
    ({"columns": {"text": "text", "category": "category"}}, "(top level)",
     "unknown role(s) category for kind sentence_classification; valid roles: text, label"),
    ({"splits": {"dev": "dev"}}, "splits.dev.[key]", "'train', 'validation' or 'test'"),
    ({"local": {"format": "conll"}}, "(top level)",
     "local.format 'conll' cannot hold kind sentence_classification; valid: tsv, quoted_tsv, csv, jsonl"),
    ({"local": {"format": "tsv", "file": "{split}.tsv"}}, "local", "must be a relative pattern holding"),
    ({"languages": {"eng": "eng_Latn", "xx1": "x"}}, "languages", "xx1"),
    ({"languages": {"eng": "eng_Latn", "amh": " "}}, "languages", "languages amh name no config"),
    ({"languages": {"eng": "eng_Latn", "amh": None}}, "languages.amh", "Input should be a valid string"),
    ({"label": "short"}, "label", f"unknown key. Did you mean 'labels'? Valid keys: {KEYS}"),
    ({"labels": None, "labls": ["short", "long"]}, "labls",  # not 'labels: Field required' too
     f"unknown key. Did you mean 'labels'? Valid keys: {KEYS}"),
    ({"local": {"format": "tsv", "fle": "{language}.tsv"}}, "local.fle",
     "unknown key. Did you mean 'file'? Valid keys: format, file"),
    ({"zzz": 1}, "zzz", f"unknown key. Valid keys: {KEYS}"),
    ({"labels": None}, "labels", "Field required"),
])
def test_a_bad_definition_file_is_one_message_naming_file_and_key(tmp_path, suite_file, changes,
                                                                 key, says):
    path = write_definition(tmp_path, **changes)
    suite = suite_file({"topics": task_entry(path, SENTENCE)})
    with pytest.raises(SuiteError) as raised:
        load_suite(suite)
    message = str(raised.value)
    assert message.startswith(f"{suite}: tasks.topics.definition: {path}: invalid task definition\n")
    assert f"\n{key}: " in message and says in message
    assert "Traceback" not in message and len(message.splitlines()) == 2


def test_an_inline_definition_is_checked_under_its_suite_key(suite_file):
    definition = fixture_definition(SENTENCE) | {"kind": "text_classification"}
    suite = suite_file({"topics": task_entry(definition, SENTENCE)})
    with pytest.raises(SuiteError, match=r"tasks\.topics\.definition\.kind: .*unknown task kind "
                                         r"'text_classification'.*Valid choices: sentence_class"):
        load_suite(suite)


def test_a_misspelt_key_of_an_inline_definition_names_the_closest_and_the_valid_keys(suite_file):
    definition = fixture_definition(SENTENCE)
    definition["metrc"] = definition.pop("metric")
    suite = suite_file({"topics": task_entry(definition, SENTENCE)})
    with pytest.raises(SuiteError) as raised:
        load_suite(suite)
    assert str(raised.value).splitlines() == [
        f"{suite}: invalid suite",
        f"tasks.topics.definition.metrc: unknown key. Did you mean 'metric'? Valid keys: {KEYS}"]


def test_the_definition_names_the_suites_task_or_nothing(tmp_path, suite_file):
    path = write_definition(tmp_path, task="sib200")
    with pytest.raises(SuiteError, match="says task 'sib200' but the suite names it 'topics'"):
        load_suite(suite_file({"topics": task_entry(path, SENTENCE)}))
    unnamed = write_definition(tmp_path, task=None)
    suite = load_suite(suite_file({"topics": task_entry(unnamed, SENTENCE)}))
    assert suite.tasks["topics"].definition.task == "topics"


def test_a_built_in_task_takes_no_definition(suite_file):
    with pytest.raises(SuiteError, match="'ner' is a built-in task and takes no 'definition'"):
        load_suite(suite_file({"ner": task_entry(TOKEN / "task.yaml", TOKEN)}))


def test_every_target_and_source_is_a_language_of_the_definition(suite_file):
    entry = task_entry(SENTENCE / "task.yaml", SENTENCE, targets=("tgl",), sources=("eng", "zho"))
    with pytest.raises(SuiteError, match=r"tasks\.yaml_topics: .*languages tgl, zho are not in the "
                                         r"definition's languages; valid: eng, rus, amh"):
        load_suite(suite_file({"yaml_topics": entry}))


def test_a_missing_or_broken_file_is_named(tmp_path, suite_file):
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(SuiteError, match=f"{missing}: cannot read task definition"):
        load_suite(suite_file({"topics": task_entry(missing, SENTENCE)}))
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: token_classification\nkind: sentence_classification\n")
    with pytest.raises(SuiteError, match=f"{broken}:2: not valid YAML: key 'kind' given twice"):
        load_suite(suite_file({"topics": task_entry(broken, SENTENCE)}))


def test_entity_f1_needs_iob2_tags():
    with pytest.raises(ValueError, match=r"reads IOB2 tags \(O, B-<type>, I-<type>\); NOUN, VERB are not"):
        TaskDefinition.model_validate({"kind": "token_classification", "labels": ["NOUN", "VERB", "O"],
                                       "metric": "f1", "languages": {"eng": "en"}})


def test_defaults_are_filled_in_so_the_dump_names_everything():
    definition = TaskDefinition.model_validate({
        "kind": "token_classification", "labels": ["O", "B-LOC", "I-LOC"], "metric": "f1",
        "languages": {"en": "english", "amh": "amharic"}})
    assert definition.columns == {"tokens": "tokens", "tags": "tags"}
    assert definition.splits == {"train": "train", "validation": "validation", "test": "test"}
    assert (definition.local.format, definition.local.file) == ("conll", "{language}/{split}.tsv")
    assert definition.languages == {"eng": "english", "amh": "amharic"}  # ISO 639-3 keys
    assert definition.fallback_label == "O"
    assert set(definition.model_dump()) == {"task", "kind", "labels", "metric", "columns", "splits",
                                            "languages", "local", "fallback_label"}
