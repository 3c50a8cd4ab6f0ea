"""Shared training set-up: effective batch split, and Trainer metrics routed to logging."""

import logging

import pytest
import torch
from transformers import Trainer, TrainerCallback

from harness.core.graph import StageContext
from harness.training.arguments import (
    COMPLETE_MARKER,
    TrainingConfig,
    last_checkpoint,
    log_metrics_to_logging,
    split_batch,
    train_resumably,
    training_arguments,
    whole_training_loss,
)


@pytest.mark.parametrize(("batch", "limit", "expected"), [(32, 32, (32, 1)), (32, 8, (8, 4)),
                                                           (30, 8, (8, 4)), (5, 32, (5, 1))])
def test_split_batch_reaches_the_effective_batch(batch, limit, expected):
    per_device, steps = split_batch(batch, limit)
    assert (per_device, steps) == expected and per_device <= limit and per_device * steps >= batch


class _Regression(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, labels):
        return {"loss": ((self.weight * x - labels) ** 2).mean()}


@pytest.mark.parametrize("progress", [True, False])
def test_trainer_metrics_go_to_logging_not_stdout(tmp_path, capsys, caplog, progress):
    data = [{"x": torch.tensor([1.0]), "labels": torch.tensor([2.0])} for _ in range(8)]
    args = training_arguments(TrainingConfig(epochs=2, batch_size=4, learning_rate=0.1),
                              tmp_path, StageContext(progress=progress), save_strategy="no")
    trainer = log_metrics_to_logging(Trainer(model=_Regression(), args=args, train_dataset=data))
    with caplog.at_level(logging.INFO, logger="harness.training.arguments"):
        trainer.train()
    assert "'loss'" not in capsys.readouterr().out
    assert any("loss=" in record.getMessage() for record in caplog.records)


def test_whole_training_loss_weights_each_log_entry_by_its_steps():
    history = [{"loss": 2.0, "step": 3}, {"eval_score": 0.5, "step": 3}, {"loss": 1.0, "step": 4}]
    assert whole_training_loss(history) == pytest.approx((2.0 * 3 + 1.0 * 1) / 4)
    assert whole_training_loss([]) is None


class _StopAfter(TrainerCallback):
    """Dies as the step after ``step`` begins (a checkpoint was saved at ``step``)."""

    def __init__(self, step):
        self.step = step

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            raise KeyboardInterrupt


def regression_trainer(work_dir, *callbacks, max_steps=None):
    torch.manual_seed(0)
    data = [{"x": torch.randn(1), "labels": torch.tensor([2.0])} for _ in range(12)]
    config = TrainingConfig(epochs=4, batch_size=4, learning_rate=0.1, max_steps=max_steps)
    args = training_arguments(config, work_dir, StageContext(progress=False, seed=3))
    return Trainer(model=_Regression(), args=args, train_dataset=data, callbacks=list(callbacks))


def test_resumed_training_equals_an_uninterrupted_one(tmp_path):
    whole = regression_trainer(tmp_path / "whole")
    expected = train_resumably(whole, tmp_path / "whole")
    interrupted = regression_trainer(tmp_path / "cut", _StopAfter(6))
    with pytest.raises(KeyboardInterrupt):
        train_resumably(interrupted, tmp_path / "cut")
    assert last_checkpoint(tmp_path / "cut").endswith("checkpoint-6")
    resumed = regression_trainer(tmp_path / "cut")
    summary = train_resumably(resumed, tmp_path / "cut")
    assert summary == expected and summary["steps"] == 12
    assert torch.equal(resumed.model.weight, whole.model.weight)


def test_a_finished_training_resumed_from_its_last_checkpoint_trains_no_further(tmp_path):
    """12 examples in batches of 4 are 3 steps an epoch: the cap of 4 steps falls mid-epoch, and
    the Trainer, resumed from checkpoint-4, would run a fifth step before it checks the cap."""
    whole = regression_trainer(tmp_path, max_steps=4)
    expected = train_resumably(whole, tmp_path)
    assert expected["steps"] == 4
    assert last_checkpoint(tmp_path).endswith("checkpoint-4")  # killed before it was published
    resumed = regression_trainer(tmp_path, max_steps=4)
    assert train_resumably(resumed, tmp_path) == expected
    assert torch.equal(resumed.model.weight, whole.model.weight)


def test_a_half_written_checkpoint_is_discarded_not_resumed(tmp_path):
    complete = tmp_path / "checkpoint-3"
    complete.mkdir()
    (complete / COMPLETE_MARKER).write_text("3")
    (complete / "trainer_state.json").write_text("{}")
    torn = tmp_path / "checkpoint-6"
    torn.mkdir()
    (torn / "pytorch_model_head.bin").write_bytes(b"")  # killed while writing
    assert last_checkpoint(tmp_path) == str(complete)
    assert not torn.exists()


def test_without_a_complete_checkpoint_training_starts_afresh(tmp_path):
    torn = tmp_path / "checkpoint-3"
    torn.mkdir()
    (torn / "model.safetensors").write_bytes(b"")
    assert last_checkpoint(tmp_path) is None
    summary = train_resumably(regression_trainer(tmp_path), tmp_path)
    assert summary["steps"] == 12
