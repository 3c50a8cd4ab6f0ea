"""What a training stage keeps on disk: one complete checkpoint, the selected epoch's weights.

Every write and delete the Trainer and the harness make in the work directory is followed by a
look at it (torch.save, safetensors, os.replace, unlink, rmtree are wrapped), so "at every
moment" means after each of those calls: between them the folders do not change.
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

from harness.checkpoint_files import (
    BEST_MARKER,
    COMPLETE_MARKER,
    RESUME_ONLY_FILES,
    checkpoint_folders,
    is_resumable,
    prune_checkpoints,
)
from harness.graph import Cache, Stage, StageContext
from harness.trainer_callbacks import MarkCheckpointComplete
from harness.training import TrainingConfig, last_checkpoint, train_resumably, training_arguments

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
