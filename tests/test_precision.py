"""``run --precision``: fp16 stays the default on CUDA, bf16 and fp32 are options; the plumbing on CPU.

The choice travels CLI -> RunOptions -> StageContext -> TrainingArguments -> the Trainer's
autocast; the last step is checked for real on the CPU with bf16 (the only mixed precision the
CPU has). A CUDA run of it is benchmarks/gpu_check.sh's.
"""

import json

import pytest
import torch
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict
from transformers import Trainer

from harness.cli.common import UserError
from harness.cli.main import cli
from harness.cli.run import check_precision, describe_device
from harness.core.graph import Stage, StageContext
from harness.methods.base import Method
from harness.planning.plan import Plan
from harness.run.runner import RunOptions, run_jobs
from harness.suite.schema import Suite
from harness.training.arguments import PRECISIONS, TrainingConfig, precision_flags, training_arguments


@pytest.mark.parametrize(("device", "precision", "fp16", "bf16"), [
    ("cuda", "auto", True, False),    # the paper's T4 setting
    ("cpu", "auto", False, False),
    ("cuda", "fp16", True, False),
    ("cuda", "bf16", False, True),
    ("cpu", "bf16", False, True),
    ("cuda", "fp32", False, False),
    ("cpu", "fp32", False, False),
])
def test_precision_flags_and_training_arguments(tmp_path, device, precision, fp16, bf16):
    assert precision_flags(device, precision) == {"fp16": fp16, "bf16": bf16}
    if device == "cpu":  # TrainingArguments refuses bf16/fp16 on a CUDA it cannot see
        ctx = StageContext(device=device, precision=precision)
        args = training_arguments(TrainingConfig(epochs=1, learning_rate=0.1), tmp_path, ctx)
        assert (args.fp16, args.bf16, args.use_cpu) == (fp16, bf16, True)


def test_an_unknown_precision_names_the_choices():
    with pytest.raises(ValueError, match="fp8.*auto, fp16, bf16, fp32"):
        precision_flags("cuda", "fp8")


class Probe(torch.nn.Module):
    """Records the dtype its matmul computes in: the Trainer's autocast, if any."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 1)
        self.dtypes: list[torch.dtype] = []

    def forward(self, x, labels):
        y = self.linear(x).squeeze(-1)
        self.dtypes.append(y.dtype)
        return {"loss": ((y.float() - labels) ** 2).mean()}


def train_probe(tmp_path, precision: str) -> set[torch.dtype]:
    data = [{"x": torch.ones(4), "labels": torch.tensor(1.0)} for _ in range(4)]
    model = Probe()
    args = training_arguments(TrainingConfig(epochs=1, batch_size=2, learning_rate=0.1), tmp_path,
                              StageContext(precision=precision), disable_tqdm=True, save_strategy="no")
    Trainer(model=model, args=args, train_dataset=data).train()
    return set(model.dtypes)


def test_the_trainer_computes_in_the_precision_asked_for_one_training_after_another(tmp_path):
    assert train_probe(tmp_path, "bf16") == {torch.bfloat16}
    # transformers keeps bf16 in ACCELERATE_MIXED_PRECISION: the next fp32 training must not
    assert train_probe(tmp_path, "auto") == {torch.float32}
    assert train_probe(tmp_path, "bf16") == {torch.bfloat16}


class SeenConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    lang: str = ""


class SeePrecision(Stage):
    kind = "evaluation"

    def run(self, ctx, inputs, out):
        (out / "metrics.json").write_text(json.dumps({"metric": "f1", "value": 1.0,
                                                      "details": {"precision": ctx.precision}}))


class SeeMethod(Method):
    Config = SeenConfig

    def build(self, job, env):
        return SeePrecision(SeenConfig(lang=job.lang))


@pytest.mark.parametrize("precision", PRECISIONS)
def test_the_run_option_reaches_every_stage(tmp_path, precision):
    suite = Suite.model_validate({
        "name": "p", "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh"], "sources": ["eng"], "data": {"path": str(tmp_path)}}},
        "methods": {"see": {}}, "monolingual": {"data": {"path": str(tmp_path)}},
    })
    plan = Plan(suite, {"see": SeeMethod("see", SeenConfig())}, suite.jobs())
    run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False, precision=precision))
    record = json.loads((tmp_path / "run" / "results.jsonl").read_text())
    assert record["details"]["precision"] == precision


def test_fp16_on_the_cpu_stops_before_anything_runs(tmp_path):
    result = CliRunner().invoke(cli, ["run", "suites/smoke.yaml", "--workdir", str(tmp_path),
                                      "--device", "cpu", "--precision", "fp16"])
    assert result.exit_code == 2
    assert "--precision fp16: mixed fp16 training needs --device cuda" in result.output
    assert not (tmp_path / "cache").exists()


def test_bf16_on_a_card_without_it_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Tesla T4")
    with pytest.raises(UserError, match="Tesla T4 does not support bf16.*--precision fp16"):
        check_precision("cuda", "bf16")
    check_precision("cuda", "fp16")
    check_precision("cpu", "bf16")


def test_the_page_names_the_precision_on_cuda_and_wherever_it_is_not_the_default(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "NVIDIA H200")
    assert describe_device("cpu") == "cpu"
    assert describe_device("cpu", "bf16") == "cpu, bf16"
    assert describe_device("cuda") == "cuda (NVIDIA H200), fp16"
    assert describe_device("cuda", "bf16") == "cuda (NVIDIA H200), bf16"
