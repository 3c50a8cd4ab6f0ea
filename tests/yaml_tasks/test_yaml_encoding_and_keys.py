"""Sentence classification encoded as by hand, and stage keys that follow a task file's content."""

import pickle

import pytest
import torch
import yaml
from transformers import BertTokenizerFast
from yaml_task_helpers import SENTENCE, TOKEN, fixture_definition, task_entry

from harness.data.examples import LabelledText
from harness.methods.base import Method
from harness.planning.plan import prepare
from harness.suite.schema import load_suite
from harness.tasks.from_yaml.schema import TaskDefinition
from harness.tasks.specs import get_task

WORDS = ["Beijing", "is", "in", "China", "Addis", "Ababa"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]


@pytest.fixture(scope="module")
def wordpiece(tmp_path_factory):
    path = tmp_path_factory.mktemp("wp") / "vocab.txt"
    path.write_text("\n".join(VOCAB))
    return BertTokenizerFast(vocab_file=str(path), do_lower_case=False)


@pytest.fixture(scope="module")
def topics():
    return get_task(TaskDefinition.model_validate(fixture_definition(SENTENCE)))


def test_a_text_is_one_sequence_between_the_special_tokens(wordpiece, topics):
    examples = [LabelledText("Beijing is in China", 2), LabelledText("Addis Ababa", 0)]
    encoded = topics.encode(examples, wordpiece, max_length=8)
    ids = {word: VOCAB.index(word) for word in VOCAB}
    assert encoded.features == [
        {"input_ids": [ids["[CLS]"], ids["Beijing"], ids["is"], ids["in"], ids["China"], ids["[SEP]"]],
         "attention_mask": [1] * 6, "labels": 2},
        {"input_ids": [ids["[CLS]"], ids["Addis"], ids["Ababa"], ids["[SEP]"]],
         "attention_mask": [1] * 4, "labels": 0}]
    truncated = topics.encode(examples[:1], wordpiece, max_length=4).features[0]["input_ids"]
    assert truncated == [ids["[CLS]"], ids["Beijing"], ids["is"], ids["[SEP]"]]
    assert encoded.word_positions == [] and encoded.window_details() == {
        "windowed_words": 0, "windowed_examples": 0}


def test_a_batch_pads_and_predictions_are_one_label_per_text(wordpiece, topics):
    examples = [LabelledText("Beijing is in China", 2), LabelledText("Addis Ababa", 0)]
    encoded = topics.encode(examples, wordpiece)
    batch = topics.collator(wordpiece)([dict(f) for f in encoded.features])
    assert batch["input_ids"].shape == (2, 6) and batch["labels"].tolist() == [2, 0]
    assert batch["attention_mask"][1].tolist() == [1, 1, 1, 1, 0, 0]
    logits = [torch.tensor([0.1, 0.2, 0.9]), torch.tensor([0.3, 0.2, 0.1])]
    assert topics.predict(encoded, logits) == ["long", "short"] == topics.gold(examples)
    assert topics.score(examples, topics.predict(encoded, logits)) == 100.0


def test_the_kinds_of_the_paper_tasks_and_of_yaml_tasks(topics):
    assert (topics.kind, topics.task_kind) == ("sentence", "sentence_classification")
    assert [get_task(name).task_kind for name in ("ner", "pos", "nli")] == [
        "token_classification", "token_classification", "sentence_pair_classification"]


def test_a_method_declares_the_kinds_it_supports(topics):
    class TaggingOnly(Method):
        Config = None
        task_kinds = frozenset({"token_classification"})

        def build(self, job, env):
            raise NotImplementedError

    method = TaggingOnly("tagging_only", None)
    assert method.incompatibility("xlmr", get_task("ner")) is None
    assert method.incompatibility("xlmr", topics) == (
        "method 'tagging_only' does not support task 'yaml_topics' of kind sentence_classification "
        "(supports the kinds token_classification)")


def plan_keys(suite_file, definition_path):
    """The keys of every stage of the zero-shot job of ``yaml_topics``, by stage kind."""
    plan = prepare(load_suite(suite_file({"yaml_topics": task_entry(definition_path, SENTENCE)})),
                   check_data=False)
    final = plan.build(plan.jobs[0])
    stages, todo = {}, [final]
    while todo:
        stage = todo.pop()
        stages[stage.kind] = stage.key
        todo += list(stage.inputs.values())
    return stages


def test_the_stage_key_follows_the_task_files_content_not_its_path(tmp_path, suite_file):
    original = plan_keys(suite_file, SENTENCE / "task.yaml")
    definition = fixture_definition(SENTENCE)
    moved = tmp_path / "elsewhere" / "topics.yaml"
    moved.parent.mkdir()
    moved.write_text(yaml.safe_dump(definition | {"description": "edited"}))
    assert plan_keys(suite_file, moved) == original  # another path, another description
    moved.write_text(yaml.safe_dump(definition | {"labels": ["short", "long", "medium"]}))
    changed = plan_keys(suite_file, moved)
    assert changed["finetune"] != original["finetune"]
    assert changed["evaluation"] != original["evaluation"]
    assert changed["backbone"] == original["backbone"]  # what does not read the task is shared


def test_a_stage_config_rebuilds_the_task_from_its_dump(suite_file):
    plan = prepare(load_suite(suite_file({"yaml_ner": task_entry(TOKEN / "task.yaml", TOKEN)})),
                   check_data=False)
    config = plan.build(plan.jobs[0]).config
    again = type(config).model_validate({**config.model_dump(mode="json"), "data": config.data})
    assert again.model_dump(mode="json") == config.model_dump(mode="json")
    assert get_task(again.task).labels == get_task(config.task).labels  # everything but the description
    assert isinstance(config.task, TaskDefinition) and config.task.task == "yaml_ner"
    assert pickle.loads(pickle.dumps(config)) == config  # how a Ray worker receives it


def test_a_paper_tasks_stage_config_still_names_it():
    from harness.data.source import DataRef, DataSource
    from harness.stages.evaluation import EvaluationConfig

    config = EvaluationConfig(task="ner", lang="amh", data=DataRef(source=DataSource(path="x"),
                                                                     fingerprint="f"))
    assert config.model_dump(mode="json")["task"] == "ner"


def test_a_kind_a_plugin_registers_is_declared_and_run_like_the_others(tmp_path, monkeypatch):
    from harness.data.source import DataSource
    from harness.methods.catalog import METHODS
    from harness.tasks.from_yaml.kinds import TASK_KINDS, TaskKind

    def review(values, labels):  # a review's title and body, read as one text
        return LabelledText(f"{values['title']}. {values['body']}", list(labels).index(values["stars"]))

    kind = TaskKind("review_classification", "sentence", ("title", "body", "stars"), "stars",
                    ("jsonl",), review)
    monkeypatch.setitem(TASK_KINDS._entries, kind.name, kind)
    monkeypatch.setitem(TASK_KINDS._descriptions, kind.name, "")
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "test.jsonl").write_text('{"title": "Good", "body": "I liked it", "stars": 1}\n')
    task = get_task(TaskDefinition.model_validate({
        "task": "reviews", "kind": "review_classification", "labels": ["bad", "good"],
        "metric": "accuracy", "languages": {"eng": "en"}}))
    assert task.load(DataSource(path=tmp_path), "eng", "test") == [LabelledText("Good. I liked it", 1)]
    zero_shot = METHODS.get("zero_shot")
    assert zero_shot("zero_shot", zero_shot.Config()).incompatibility("xlmr", task) is None


def test_a_languages_files_key_only_the_stages_reading_them(tmp_path, suite_file):
    import shutil

    from harness.data.source import hash_tree

    data = tmp_path / "sentence"
    shutil.copytree(SENTENCE, data)

    def stages():
        hash_tree.cache_clear()  # the data's hashes are remembered per process
        plan = prepare(load_suite(suite_file({"yaml_topics": task_entry(data / "task.yaml", data)})),
                       check_data=False)
        final = plan.build(plan.jobs[0])
        return final, final.inputs["model"]

    evaluation, finetune = stages()
    train = data / "eng_Latn" / "train.tsv"  # a source's file, in its config name's folder
    train.write_text(train.read_text(encoding="utf-8").replace("\tshort\t", "\tlong\t", 1),
                     encoding="utf-8")
    edited_evaluation, edited_finetune = stages()
    assert edited_finetune.config.data["eng"] != finetune.config.data["eng"]
    assert edited_finetune.config.data["rus"] == finetune.config.data["rus"]
    assert edited_evaluation.config.data == evaluation.config.data  # the target's amh_Ethi/
    assert edited_finetune.key != finetune.key and edited_evaluation.key != evaluation.key
