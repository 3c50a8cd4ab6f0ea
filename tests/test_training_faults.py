"""Training faults on the GPU path, simulated on CPU: CUDA out of memory backs off to a smaller
per-device batch with the same effective batch; a NaN loss stops only its own job; fp16 on CUDA."""

import json

import pytest
import torch
from pydantic import BaseModel, ConfigDict
from transformers import Trainer

from harness.core.graph import Cache, Stage, StageContext
from harness.methods.base import Method
from harness.planning.plan import Plan
from harness.run.records import read_results
from harness.run.runner import RunOptions, run_jobs
from harness.suite.schema import Suite
from harness.training.arguments import (
    DEVICE_BATCH_FILE,
    DeviceMemoryError,
    NonFiniteLossError,
    TrainingConfig,
    train_resumably,
    training_arguments,
)


class FitConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    batch_size: int = 8
    epochs: float = 2
    fits: int = 8  # the most examples one forward pass holds before "CUDA" runs out of memory
    oom_after: int = 0  # forward passes that fit whatever their size (a later, longer batch OOMs)
    nan_lang: str | None = None  # the job whose loss turns NaN
    lang: str = ""


class Regression(torch.nn.Module):
    """y = w·x with a simulated device memory: a batch above ``fits`` raises CUDA's OOM error."""

    def __init__(self, config: FitConfig, seen: list):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.config, self.seen, self.calls = config, seen, 0

    def forward(self, x, labels):
        self.calls += 1
        if len(x) > self.config.fits and self.calls > self.config.oom_after:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB")
        self.seen.append(len(x))
        loss = ((self.weight * x.squeeze(-1) - labels) ** 2).mean()
        return {"loss": loss * float("nan") if self.config.lang == self.config.nan_lang else loss}


DATA = [{"x": torch.tensor([float(i % 5) + 1]), "labels": torch.tensor(2.0 * (i % 5) + 1)}
        for i in range(16)]


class Fit(Stage):
    """A training stage: fits the regression with the shared training set-up."""

    kind = "fit"
    uses_device = True

    def run(self, ctx, inputs, out):
        seen: list[int] = []
        model = Regression(self.config, seen)
        config = TrainingConfig(epochs=self.config.epochs, batch_size=self.config.batch_size,
                                learning_rate=0.01, max_device_batch_size=8)
        work_dir = ctx.partial_dir(self)
        args = training_arguments(config, work_dir, ctx, disable_tqdm=True)
        train_resumably(Trainer(model=model, args=args, train_dataset=DATA), work_dir)
        (out / "fit.json").write_text(json.dumps({
            "weight": model.weight.item(), "seen": seen,
            "device_batch": args.per_device_train_batch_size,
            "accumulation": args.gradient_accumulation_steps}))
        (out / "metrics.json").write_text(json.dumps({"metric": "weight", "value": model.weight.item()}))


def fit(tmp_path, **changes) -> dict:
    cache = Cache(tmp_path / "cache")
    path = cache.materialize(Fit(FitConfig(**changes), seed=1), StageContext(cache=cache, progress=False))
    return json.loads((path / "fit.json").read_text())


@pytest.mark.parametrize("oom_after", [0, 2], ids=["at the first step", "after a checkpoint"])
def test_out_of_memory_halves_the_device_batch_and_keeps_the_effective_batch(tmp_path, oom_after):
    reference = fit(tmp_path / "fits", fits=8)
    assert (reference["device_batch"], reference["accumulation"]) == (8, 1)
    backed_off = fit(tmp_path / "oom", fits=2, oom_after=oom_after)
    assert (backed_off["device_batch"], backed_off["accumulation"]) == (2, 4)
    assert backed_off["device_batch"] * backed_off["accumulation"] == 8
    # the last attempt's forward passes: both epochs, or the second one resumed from the checkpoint
    assert backed_off["seen"] == [2] * (16 if oom_after == 0 else 8)
    # the same updates: the gradient of 4 accumulated means of 2 is the mean over the 8
    assert backed_off["weight"] == pytest.approx(reference["weight"], rel=1e-5)
    assert not list((tmp_path / "oom").rglob(DEVICE_BATCH_FILE))  # scratch removed with the stage


def test_out_of_memory_with_one_example_per_device_is_a_clear_error(tmp_path):
    with pytest.raises(DeviceMemoryError, match="per-device batch of 1.*does not fit"):
        fit(tmp_path, fits=0)


def test_a_nan_loss_stops_its_training_with_a_clear_error(tmp_path):
    with pytest.raises(NonFiniteLossError, match="loss is nan at step 1"):
        fit(tmp_path, nan_lang="amh", lang="amh")


class FitMethod(Method):
    Config = FitConfig

    def build(self, job, env):
        return Fit(self.config.model_copy(update={"lang": job.lang}), seed=job.seed)


def test_a_nan_loss_stops_only_its_job(tmp_path):
    suite = Suite.model_validate({
        "name": "nan", "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh", "khm"], "sources": ["eng"], "data": {"path": str(tmp_path)}}},
        "methods": {"fit": {}}, "monolingual": {"data": {"path": str(tmp_path)}},
    })
    plan = Plan(suite, {"fit": FitMethod("fit", FitConfig(nan_lang="khm", epochs=1))}, suite.jobs())
    report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / "run", progress=False))
    assert [f.stage.config.lang for f in report.failures] == ["khm"]
    assert "NonFiniteLossError: training loss is nan" in report.failures[0].reason
    assert [r.lang for r in read_results(tmp_path / "run" / "results.jsonl")] == ["amh"]


@pytest.mark.parametrize(("device", "fp16"), [("cuda", True), ("cpu", False)])
def test_fp16_mixed_precision_on_cuda_only(tmp_path, device, fp16):
    config = TrainingConfig(epochs=1, learning_rate=0.1)
    args = training_arguments(config, tmp_path, StageContext(device=device))
    assert args.fp16 is fp16 and args.bf16 is False and args.use_cpu is not fp16
