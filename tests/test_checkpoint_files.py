"""What a training stage keeps on disk: one complete checkpoint, the selected epoch's weights.

Every write and delete the Trainer and the harness make in the work directory is followed by a
look at it (torch.save, safetensors, os.replace, unlink, rmtree are wrapped), so "at every
moment" means after each of those calls: between them the folders do not change. The last test
runs real stages (the Trainer and adapters' AdapterTrainer) killed after their last checkpoint.
"""

from __future__ import annotations

import os
import pathlib
import shutil
from pathlib import Path

import pytest
import safetensors.torch
import torch
from transformers import Trainer, TrainerCallback

from harness.core.graph import Cache, Stage, StageContext
from harness.training.arguments import TrainingConfig, last_checkpoint, train_resumably, training_arguments
from harness.training.callbacks import MarkCheckpointComplete
from harness.training.kept_checkpoints import (
    BEST_MARKER,
    COMPLETE_MARKER,
    RESUME_ONLY_FILES,
    checkpoint_folders,
    is_resumable,
    prune_checkpoints,
)

STEPS_PER_EPOCH = 3  # 12 examples, batch 4
#: The scripted validation score after each epoch: the second epoch is the best.
SCORES = {3: 0.1, 6: 0.5, 9: 0.3, 12: 0.2}


class _Regression(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, labels):
        prediction = self.weight * x
        return {"loss": ((prediction - labels) ** 2).mean(), "logits": prediction}


class _Snapshots(TrainerCallback):
    """Records each epoch's weights (to check which ones the selection returns)."""

    def __init__(self):
        self.weights: dict[int, torch.Tensor] = {}

    def on_epoch_end(self, args, state, control, model=None, **kwargs):
        self.weights[state.global_step] = model.weight.detach().clone()


def selecting_trainer(work_dir: Path, *callbacks) -> Trainer:
    """4 epochs of 3 steps, evaluated each epoch, the best epoch by :data:`SCORES` loaded at the end."""
    torch.manual_seed(0)
    data = [{"x": torch.randn(1), "labels": torch.tensor([2.0])} for _ in range(12)]
    config = TrainingConfig(epochs=4, batch_size=4, learning_rate=0.1)
    args = training_arguments(config, work_dir, StageContext(progress=False, seed=3),
                              eval_strategy="epoch", load_best_model_at_end=True,
                              metric_for_best_model="score", greater_is_better=True)
    trainer = Trainer(model=_Regression(), args=args, train_dataset=data, eval_dataset=data[:4],
                      callbacks=list(callbacks))
    trainer.compute_metrics = lambda prediction: {"score": SCORES[trainer.state.global_step]}
    return trainer


def watch_writes(monkeypatch, work_dir: Path) -> list[dict]:
    """After every write or delete anywhere, what ``work_dir`` holds (appended to the list returned)."""
    seen: list[dict] = []

    def look():
        folders = checkpoint_folders(work_dir)
        seen.append({
            "newest": folders[-1].name if folders else None,
            "resumable": [f.name for f in folders if is_resumable(f)],
            "best": [f.name for f in folders if (f / BEST_MARKER).is_file()],
            "unmarked": [f.name for f in folders
                         if not (f / COMPLETE_MARKER).is_file() and not (f / BEST_MARKER).is_file()],
            "optimizer": [f.name for f in folders if (f / "optimizer.pt").is_file()],
        })

    def wrap(owner, name):
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            result = original(*args, **kwargs)
            look()
            return result

        monkeypatch.setattr(owner, name, wrapped)

    for owner, name in ((torch, "save"), (safetensors.torch, "save_file"), (os, "replace"),
                        (shutil, "rmtree"), (pathlib.Path, "unlink"), (pathlib.Path, "write_text")):
        wrap(owner, name)
    return seen


def test_at_every_moment_one_complete_checkpoint_besides_the_one_being_written(tmp_path, monkeypatch):
    seen = watch_writes(monkeypatch, tmp_path)
    snapshots = _Snapshots()
    trainer = selecting_trainer(tmp_path, snapshots)
    train_resumably(trainer, tmp_path)
    assert len(seen) > 20  # every checkpoint's files, markers and deletions were watched
    for moment in seen:
        older = [name for name in moment["resumable"] if name != moment["newest"]]
        assert len(older) <= 1, moment
        assert len(moment["best"]) <= 1, moment
        assert len(moment["optimizer"]) <= 2, moment  # the one being written, the previous one
    # the end: the best epoch's weights (no resume files) and the last step's trainer state only
    best, last = tmp_path / "checkpoint-6", tmp_path / "checkpoint-12"
    assert [f.name for f in checkpoint_folders(tmp_path)] == ["checkpoint-6", "checkpoint-12"]
    assert (best / BEST_MARKER).is_file() and (best / "model.safetensors").is_file()
    assert not any((best / name).exists() for name in RESUME_ONLY_FILES)
    assert sorted(p.name for p in last.iterdir()) == [COMPLETE_MARKER, "trainer_state.json"]
    assert torch.equal(trainer.model.weight, snapshots.weights[6])


@pytest.mark.parametrize("step", [3, 6, 9, 12])
def test_a_selecting_training_stopped_after_any_checkpoint_resumes_to_the_same_model(
        tmp_path, monkeypatch, step):
    whole = selecting_trainer(tmp_path / "whole")
    expected = train_resumably(whole, tmp_path / "whole")
    mark = MarkCheckpointComplete.on_save

    def stop_after(self, args, state, control, **kwargs):  # marked and pruned, then killed
        mark(self, args, state, control, **kwargs)
        if state.global_step == step:
            raise KeyboardInterrupt

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(MarkCheckpointComplete, "on_save", stop_after)
        train_resumably(selecting_trainer(tmp_path / "cut"), tmp_path / "cut")
    assert last_checkpoint(tmp_path / "cut").endswith(f"checkpoint-{step}")
    resumed = selecting_trainer(tmp_path / "cut")
    assert train_resumably(resumed, tmp_path / "cut") == expected
    assert torch.equal(resumed.model.weight, whole.model.weight)
    assert resumed.state.best_metric == whole.state.best_metric == 0.5


def test_the_last_checkpoint_of_a_training_without_selection_holds_weights_but_no_optimizer(tmp_path):
    from tests.test_training import regression_trainer

    train_resumably(regression_trainer(tmp_path), tmp_path)
    (last,) = checkpoint_folders(tmp_path)
    names = {p.name for p in last.iterdir()}
    assert last.name == "checkpoint-12" and "model.safetensors" in names
    assert not names & set(RESUME_ONLY_FILES)


def test_pruning_keeps_the_newest_and_strips_the_best(tmp_path):
    for step in (3, 6, 9):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        for name in (COMPLETE_MARKER, "model.safetensors", *RESUME_ONLY_FILES):
            (folder / name).write_text("x")
    prune_checkpoints(tmp_path, tmp_path / "checkpoint-9", best="elsewhere/checkpoint-3")
    assert [f.name for f in checkpoint_folders(tmp_path)] == ["checkpoint-3", "checkpoint-9"]
    assert sorted(p.name for p in (tmp_path / "checkpoint-3").iterdir()) == [BEST_MARKER,
                                                                            "model.safetensors"]
    assert last_checkpoint(tmp_path) == str(tmp_path / "checkpoint-9")


class _SelectingStage(Stage):
    """A training stage as the harness's are: checkpoints in its partial directory, weights out."""

    kind = "selecting"

    def run(self, ctx, inputs, out):
        trainer = selecting_trainer(ctx.partial_dir(self))
        train_resumably(trainer, ctx.partial_dir(self))
        torch.save(trainer.model.state_dict(), out / "weights.pt")
        (out / "seen.txt").write_text(str(len(checkpoint_folders(ctx.partial_dir(self)))))


def test_a_published_stage_leaves_no_checkpoint_behind(tmp_path):
    """The artifact reads no checkpoint, so the partial directory goes once it is published."""
    cache = Cache(tmp_path)
    stage = _SelectingStage(seed=1)
    artifact = cache.materialize(stage, StageContext(cache=cache, progress=False))
    assert (artifact / "seen.txt").read_text() == "2"  # the best epoch's weights, the last step
    assert not (tmp_path / "selecting" / f".partial-{stage.key}").exists()
    assert torch.load(artifact / "weights.pt")["weight"].shape == (1,)


def selecting_suite():
    """Zero-shot fine-tuning (the Trainer) and MAD-X's task adapter (adapters' AdapterTrainer), 2
    epochs each with model selection, on tiny XLM-R."""
    from harness.suite.schema import Suite

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    small = {"batch_size": 8, "max_device_batch_size": 8}
    adaptation = {"beta": 0.0, "max_steps": 2, **small}
    return Suite.model_validate({
        "name": "selecting", "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh"], "sources": ["eng"],
                          "data": {"path": str(fixtures / "wikiann")}}},
        "monolingual": {"data": {"path": str(fixtures / "monolingual")}, "target_samples": 24,
                        "source_samples": 24, "words_per_sample": 16},
        "methods": {"zero_shot": {"training": {"epochs": 2, "learning_rate": 1e-5, **small}},
                    "mad_x": {"adaptation": adaptation, "source_adaptation": adaptation,
                              "task_adapter": {"epochs": 2, **small}}},
    })


def first_epoch_best(monkeypatch):
    """Validation scores that fall with each evaluation, so the first epoch is selected."""
    import harness.stages.finetune

    def scripted(task, examples, encoded):
        calls = []

        def compute(prediction):
            calls.append(1)
            return {"score": 1.0 / len(calls)}

        return compute

    monkeypatch.setattr(harness.stages.finetune, "score_function", scripted)


def test_selecting_stages_killed_after_their_last_checkpoint_resume_to_the_same_records(
        tmp_path, monkeypatch):
    """The last checkpoint of a stage whose first epoch is selected holds its trainer state only;
    a run killed right after it loads the first epoch's weights and gives the same records."""
    from harness.planning.plan import prepare
    from harness.run.records import read_results
    from harness.run.runner import RunOptions, run_jobs

    first_epoch_best(monkeypatch)
    plan = prepare(selecting_suite())

    def records(workdir):
        return [r.model_dump(exclude={"seconds"}) for r in read_results(workdir / "results.jsonl")]

    assert run_jobs(plan, plan.jobs, RunOptions(tmp_path / "whole", progress=False)).failures == []
    mark, killed, final_files = MarkCheckpointComplete.on_save, [], []

    def kill_after_the_last(self, args, state, control, **kwargs):
        mark(self, args, state, control, **kwargs)
        selecting = ("/finetune/" in args.output_dir or "/task_adapter/" in args.output_dir)
        if selecting and state.global_step == state.max_steps and args.output_dir not in killed:
            killed.append(args.output_dir)
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            final_files.append(sorted(p.name for p in folder.iterdir()))
            raise KeyboardInterrupt

    monkeypatch.setattr(MarkCheckpointComplete, "on_save", kill_after_the_last)
    for _ in range(3):
        try:
            report = run_jobs(plan, plan.jobs, RunOptions(tmp_path / "cut", progress=False))
            break
        except KeyboardInterrupt:
            continue
    assert report.failures == [] and len(killed) == 2
    assert final_files == [[COMPLETE_MARKER, "trainer_state.json"]] * 2
    assert records(tmp_path / "cut") == records(tmp_path / "whole")
