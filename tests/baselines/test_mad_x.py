"""MAD-X: what its language stage trains, and which stages it shares with UniBridge."""

import json
import random

import pytest
import torch
from transformers import TrainerCallback

from baselines.mad_x import MadXConfig, UniversalTaskAdapterStage
from harness.core.graph import StageContext
from harness.methods.unibridge.adaptation import ADAPTER_NAME, train_language_adapter
from harness.methods.unibridge.task_adapters import TaskAdapterStage
from harness.models.backbones import BACKBONES, build_tiny_backbone
from harness.suite.schema import SuiteError

WORDS = "the quick brown fox jumps over lazy dog hello world school book read day".split()
CORPUS = [" ".join(random.Random(i).choices(WORDS, k=9)) + "." for i in range(40)]
ARCHS = {"xlmr": "tiny-xlmr", "gpt2": "tiny-mgpt", "mbart": "tiny-mbart"}


class Snapshots(TrainerCallback):
    """Every parameter's value when training starts and when it ends."""

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.before = {name: p.detach().clone() for name, p in model.named_parameters()}

    def on_train_end(self, args, state, control, model=None, **kwargs):
        self.after = {name: p.detach().clone() for name, p in model.named_parameters()}


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_language_stage_changes_exactly_the_language_and_invertible_adapters(tmp_path, arch):
    backbone = tmp_path / "backbone"
    build_tiny_backbone(BACKBONES.get(ARCHS[arch]), CORPUS, backbone / "model", seed=0)
    (backbone / "backbone.json").write_text(json.dumps({"name": ARCHS[arch], "arch": arch,
                                                        "pretrained": "model"}))
    (tmp_path / "corpus.txt").write_text("\n".join(CORPUS), encoding="utf-8")
    config = MadXConfig().adaptation.model_copy(update={
        "max_steps": 3, "batch_size": 4, "max_device_batch_size": 4, "max_length": 24,
        "learning_rate": 1e-2})
    snapshots, out = Snapshots(), tmp_path / "out"
    out.mkdir()
    train_language_adapter(config, backbone, tmp_path / "corpus.txt", None, out, tmp_path / "work",
                           StageContext(progress=False), callbacks=[snapshots])
    changed = {name for name, value in snapshots.after.items()
               if not torch.equal(value, snapshots.before[name])}
    adapter = {name for name in snapshots.before if f".{ADAPTER_NAME}." in name}
    assert any("invertible_adapters" in name for name in adapter)
    assert any("invertible_adapters" not in name for name in adapter)
    # every changed parameter is the language adapter's or its invertible adapter's ...
    assert changed <= adapter
    # ... and the adapter's up-projections all moved (a down-projection may stay put behind ReLU)
    assert {n for n in adapter if "adapter_up.weight" in n} <= changed


def test_madx_standard_defaults():
    config = MadXConfig()
    for adaptation, steps in ((config.adaptation, 50_000), (config.source_adaptation, 250_000)):
        assert adaptation.beta == 0.0 and adaptation.reduction_factor == 2
        assert adaptation.inv_reduction_factor == 2
        assert (adaptation.batch_size, adaptation.learning_rate, adaptation.max_steps) == (64, 1e-4, steps)
    assert config.task_adapter.reduction_factor == 16 and config.task_sources == "all"


def test_an_override_keeps_the_other_standard_settings(plan_of, method_stages):
    plan = plan_of({"mad_x": {"adaptation": {"max_steps": 7}}})
    adapters = [s for s in method_stages(plan, "mad_x").values() if s.kind == "language_adapter"]
    steps = {s.inputs["corpus"].config.langs: (s.config.max_steps, s.config.learning_rate) for s in adapters}
    assert steps == {("amh",): (7, 1e-4), ("eng",): (250_000, 1e-4)}


def test_shares_only_backbones_and_corpora_with_its_standard_schedule(plan_of, method_stages):
    plan = plan_of({"mad_x": {}, "unibridge": {}, "unibridge_no_kl": {}})
    madx, full, no_kl = (method_stages(plan, m) for m in ("mad_x", "unibridge", "unibridge_no_kl"))
    kinds = {key: stage.kind for key, stage in madx.items()}
    assert {kinds[key] for key in madx.keys() & (full.keys() | no_kl.keys())} == {"backbone", "corpus"}


UNIBRIDGE_SCHEDULE = {"epochs": 50, "batch_size": 32, "learning_rate": 5.0e-4, "max_steps": None}


def test_shares_source_adapters_with_unibridge_without_kl_only(plan_of, method_stages):
    plan = plan_of({"mad_x": {"source_adaptation": UNIBRIDGE_SCHEDULE}, "unibridge": {},
                    "unibridge_no_kl": {}})
    madx, full, no_kl = (method_stages(plan, m) for m in ("mad_x", "unibridge", "unibridge_no_kl"))
    kinds = {key: stage.kind for key, stage in madx.items()}
    shared_no_kl = {kinds[key] for key in madx.keys() & no_kl.keys()}
    shared_full = {kinds[key] for key in madx.keys() & full.keys()}
    # corpora and backbone with every UniBridge variant; the English language adapter (β = 0) with
    # the KL-free ablation only; the universal task adapter and the evaluation with nobody
    assert shared_full == {"backbone", "corpus"}
    assert shared_no_kl == {"backbone", "corpus", "language_adapter"}
    english = [s for s in madx.values() if s.kind == "language_adapter" and s.key in no_kl]
    assert len(english) == 1
    assert english[0].inputs["corpus"].config.langs == ("eng",)
    universal = [s for s in madx.values() if s.kind == "task_adapter"]
    assert len(universal) == 1 and isinstance(universal[0], UniversalTaskAdapterStage)
    assert universal[0].config.sources == ("eng", "zho", "rus", "ara", "jpn")


def test_english_task_adapter_option_shares_unibridge_no_kl_task_adapter(plan_of, method_stages):
    plan = plan_of({"mad_x": {"task_sources": "english", "source_adaptation": UNIBRIDGE_SCHEDULE},
                    "unibridge_no_kl": {}})
    madx, no_kl = method_stages(plan, "mad_x"), method_stages(plan, "unibridge_no_kl")
    task = [s for s in madx.values() if s.kind == "task_adapter"]
    assert len(task) == 1 and type(task[0]) is TaskAdapterStage and task[0].key in no_kl
    target = [s for s in madx.values() if s.kind == "language_adapter" and s.key not in no_kl]
    assert len(target) == 1 and "embeddings" not in target[0].inputs


def test_a_task_without_english_sits_on_its_first_sources_adapter(plan_of, method_stages):
    """MAD-X's source language need not be English: with none, the first source's adapter
    (source_adaptation's schedule) carries the universal task adapter, and no English is read."""
    plan = plan_of({"mad_x": {}}, sources=("zho", "rus"))
    stages = method_stages(plan, "mad_x").values()
    adapters = {s.inputs["corpus"].config.langs: s.config.max_steps
                for s in stages if s.kind == "language_adapter"}
    assert adapters == {("amh",): 50_000, ("zho",): 250_000}
    (task,) = [s for s in stages if s.kind == "task_adapter"]
    assert task.config.sources == ("zho", "rus") and task.inputs["language"].config.max_steps == 250_000
    (evaluation,) = [s for s in stages if s.kind == "evaluation"]
    assert evaluation.config.sources == ("zho",)
    assert set(evaluation.inputs) == {"backbone", "target", "language_zho", "task_zho"}
    assert not [s for s in stages if s.kind == "corpus" and "eng" in s.config.langs]


def test_english_stays_its_source_language_wherever_it_is_listed(plan_of, method_stages):
    plan = plan_of({"mad_x": {}}, sources=("zho", "eng", "rus"))
    (evaluation,) = [s for s in method_stages(plan, "mad_x").values() if s.kind == "evaluation"]
    assert evaluation.config.sources == ("eng",)
    assert evaluation.inputs["language_eng"].inputs["corpus"].config.langs == ("eng",)


def test_the_english_task_adapter_on_a_task_without_english_stops_validate(plan_of):
    with pytest.raises(SuiteError) as caught:
        plan_of({"mad_x": {"task_sources": "english"}}, sources=("zho", "rus"))
    assert str(caught.value).splitlines()[1:] == [
        "methods.mad_x × tasks.ner.sources: task_sources 'english' (MAD-X's original English-only "
        "task adapter) needs eng among the sources, which are zho, rus; valid: task_sources 'all' "
        "(the universal task adapter, on zho's language adapter), or add eng to the sources"]
