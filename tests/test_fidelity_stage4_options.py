"""Stage 4's and stage 5's ``authors`` options: resolution per job, the adapter, the schedule, a tiny run.

The parity of their labelling and scoring is in ``tests/test_fidelity_task_adapters.py``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from harness.core.graph import Cache, StageContext
from harness.data.source import DataRef, DataSource
from harness.methods.unibridge.inference import InferenceConfig, MultiSourceEvaluationStage
from harness.methods.unibridge.method import UniBridge, UniBridgeConfig
from harness.methods.unibridge.task_adapters import (
    LANGUAGE,
    TASK,
    TaskAdapterConfig,
    TaskAdapterStage,
    add_task_adapter,
)
from harness.tasks.specs import get_task
from harness.training.arguments import TrainingConfig, training_arguments

ROOT = Path(__file__).resolve().parents[1]
WIKIANN = DataRef.of(DataSource(path=ROOT / "fixtures" / "wikiann"))
CORPUS = ["the cat sat on the mat", "a dog ran in the park", "Beijing is in China",
          "public key algorithm", "the river flows through the old city"] * 4


def authors(arch: str = "xlmr") -> UniBridgeConfig:
    return UniBridgeConfig(**UniBridge.fidelity_preset("authors", arch))


def test_profile_values_per_tree():
    xlm, mbert = authors("xlmr"), authors("bert")
    assert (xlm.task_adapter.batch_size, mbert.task_adapter.batch_size) == (32, 16)
    for config in (xlm, mbert):
        adapter = config.task_adapter
        assert (adapter.non_linearity, adapter.leave_out_last_layer, adapter.stack_language_adapter) \
            == ("gelu", True, False)
        assert (adapter.epochs, adapter.max_length, adapter.weight_decay) == (10, 510, 0.01)
        assert (adapter.lr_schedule, adapter.selection, adapter.subword_labels) == ("plateau", "last", "all")
        assert config.inference.ner_scoring == "subword"
    paper = TaskAdapterConfig()
    assert (paper.non_linearity, paper.selection, paper.subword_labels, paper.lr_schedule) \
        == ("relu", "best", "one", "linear")
    assert set(paper.model_dump()) == {"reduction_factor", "epochs", "batch_size", "learning_rate",
                                       "max_length", "max_device_batch_size", "max_steps"}
    assert "ner_scoring" not in InferenceConfig().model_dump()


def test_jobs_resolve_rates_and_units_per_task_and_source():
    adapter = authors().task_adapter
    rate = {(task, source): adapter.for_task(task, source, WIKIANN).adapter.learning_rate
            for task, source in [("ner", "eng"), ("ner", "ara"), ("ner", "jpn"), ("pos", "ara"),
                                 ("nli", "eng"), ("nli", "rus")]}
    assert rate == {("ner", "eng"): 1e-3, ("ner", "ara"): 5e-4, ("ner", "jpn"): 5e-4,
                    ("pos", "ara"): 1e-3, ("nli", "eng"): 1e-4, ("nli", "rus"): 5e-4}
    assert adapter.for_task("ner", "eng", WIKIANN).adapter.learning_rates is None
    assert adapter.for_task("ner", "eng", WIKIANN).adapter.subword_labels == "all"
    assert adapter.for_task("pos", "eng", WIKIANN).adapter.subword_labels == "one"
    # an option that leaves a task alone leaves its key alone
    paper, all_labels = TaskAdapterConfig(), TaskAdapterConfig(subword_labels="all")
    assert TaskAdapterStage(paper.for_task("pos", "eng", WIKIANN), seed=1).key == \
        TaskAdapterStage(all_labels.for_task("pos", "eng", WIKIANN), seed=1).key
    assert TaskAdapterStage(paper.for_task("ner", "eng", WIKIANN), seed=1).key != \
        TaskAdapterStage(all_labels.for_task("ner", "eng", WIKIANN), seed=1).key
    subword = InferenceConfig(ner_scoring="subword")
    assert subword.for_job("ner", "amh", ("eng",), "test", WIKIANN).inference.ner_scoring == "subword"
    assert subword.for_job("pos", "amh", ("eng",), "test", WIKIANN).inference == InferenceConfig()
    with pytest.raises(ValueError, match="IOB"):
        get_task("pos").encode([], None, subword_labels="all")


@pytest.fixture(scope="module")
def tiny(build_backbones):
    """A tiny XLM-R backbone artifact and a source language artifact (its tokenizer, an adapter)."""
    from adapters import AutoAdapterModel
    from transformers import AutoTokenizer

    from harness.models.loading import language_adapter_config

    root = build_backbones(["tiny-xlmr"], CORPUS, place=lambda name: f"backbone/{name}", vocab_size=200)
    backbone = root / "backbone"
    (backbone / "backbone.json").write_text(json.dumps({"pretrained": "tiny-xlmr", "arch": "xlmr"}))
    model = AutoAdapterModel.from_pretrained(backbone / "tiny-xlmr")
    model.add_adapter(LANGUAGE, config=language_adapter_config(model))
    language = root / "language"
    (language / "adapter").mkdir(parents=True)
    model.save_adapter(str(language / "adapter"), LANGUAGE)
    AutoTokenizer.from_pretrained(backbone / "tiny-xlmr").save_pretrained(language / "tokenizer")
    return backbone, language


def test_task_adapter_set_up_as_their_code(tiny):
    from adapters import AutoAdapterModel
    from adapters.composition import Stack

    from harness.models.loading import language_adapter_config

    def model_with(settings):
        model = AutoAdapterModel.from_pretrained(tiny[0] / "tiny-xlmr")
        model.add_adapter(LANGUAGE, config=language_adapter_config(model))
        add_task_adapter(model, get_task("ner"), 16, settings=settings)
        return model

    def task_layers(model):
        return {int(name.split(".layer.")[1].split(".")[0]) for name, _ in model.named_parameters()
                if f"adapters.{TASK}." in name}

    paper, theirs = model_with(None), model_with(authors().task_adapter)
    depth = paper.config.num_hidden_layers
    assert task_layers(paper) == set(range(depth)) and task_layers(theirs) == set(range(depth - 1))
    assert paper.adapters_config.match(TASK, type(paper.adapters_config.get(TASK))).non_linearity == "relu"
    assert theirs.adapters_config.get(TASK)["non_linearity"] == "gelu"
    assert paper.active_adapters == Stack(LANGUAGE, TASK)
    assert theirs.active_adapters == Stack(TASK)


def test_plateau_schedule_arguments(tmp_path):
    config = TrainingConfig(epochs=1, learning_rate=1e-3, plateau=authors().task_adapter.training().plateau)
    args = training_arguments(config, tmp_path, StageContext(), metric_for_best_model="score",
                              eval_strategy="epoch")
    assert args.lr_scheduler_type.value == "reduce_lr_on_plateau"
    assert args.lr_scheduler_kwargs == {"mode": "max", "patience": 2, "threshold": 0.1, "factor": 0.1}
    assert training_arguments(TrainingConfig(epochs=1, learning_rate=1e-3), tmp_path,
                              StageContext()).lr_scheduler_type.value == "linear"
    with pytest.raises(ValueError, match="metric_for_best_model"):
        training_arguments(config, tmp_path, StageContext())


def test_tiny_authors_run_trains_the_last_epoch_and_scores_subwords(tiny, tmp_path):
    """Stage 4 (authors options, two short epochs) then stage 5 scored over subwords."""
    logging.getLogger("transformers").setLevel(logging.ERROR)
    backbone, language = tiny
    adapter = authors().task_adapter.model_copy(update={"epochs": 2, "max_length": 64, "batch_size": 8})
    stage4 = TaskAdapterStage(adapter.for_task("ner", "eng", WIKIANN), seed=0)
    ctx = StageContext(cache=Cache(tmp_path / "cache"), progress=False)
    out4 = tmp_path / "task"
    (out4 / "adapter").mkdir(parents=True)
    stage4.run(ctx, {"backbone": backbone, "language": language}, out4)
    training = json.loads((out4 / "training.json").read_text())
    assert training["selection"] == "last" and training["last_validation_score"] is not None

    inference = authors().inference.model_copy(update={"weighting": "uniform", "max_length": 64})
    config = inference.for_job("ner", "amh", ("eng",), "test", WIKIANN)
    out5 = tmp_path / "evaluation"
    out5.mkdir()
    inputs = {"backbone": backbone, "target": language, "language_eng": language, "task_eng": out4}
    MultiSourceEvaluationStage(config, seed=0).run(ctx, inputs, out5)
    metrics = json.loads((out5 / "metrics.json").read_text())
    assert metrics["details"]["scoring_unit"] == "subword"
    from harness.tasks.predictions import read_predictions

    kept = read_predictions(out5)
    examples = get_task("ner").load(WIKIANN.source, "amh", "test")
    assert sum(map(len, kept.gold)) > sum(len(ex.tokens) for ex in examples)  # subwords, not words
    assert metrics["value"] == pytest.approx(get_task("ner").metric.score(kept.gold, kept.predicted))
    assert np.isfinite(metrics["value"])
