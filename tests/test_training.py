"""Shared training set-up: effective batch split, and Trainer metrics routed to logging."""

import logging

import pytest
import torch
from transformers import Trainer

from harness.graph import StageContext
from harness.training import TrainingConfig, log_metrics_to_logging, split_batch, training_arguments


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
    with caplog.at_level(logging.INFO, logger="harness.training"):
        trainer.train()
    assert "'loss'" not in capsys.readouterr().out
    assert any("loss=" in record.getMessage() for record in caplog.records)
