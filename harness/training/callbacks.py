"""Trainer callbacks of the training stages (kept apart so that importing a stage imports no torch).

Example::

    trainer.add_callback(MarkCheckpointComplete())
    trainer.add_callback(StepBar())        # the current stage's own bar, under the run's bar

:mod:`harness.training.arguments` adds these; this module imports transformers, so only code that trains
imports it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm
from transformers import TrainerCallback

from harness.core.stop_signals import raise_pending_stop
from harness.core.workdir import atomic_write_text
from harness.training.kept_checkpoints import CHECKPOINT_PREFIX, COMPLETE_MARKER, prune_checkpoints

log = logging.getLogger("harness.training.arguments")


class MarkCheckpointComplete(TrainerCallback):
    """Marks each checkpoint complete once written, then deletes what resuming no longer needs.

    See :mod:`harness.training.kept_checkpoints`.
    """

    def on_save(self, args, state, control, **kwargs):
        """Write the marker into the checkpoint just saved; prune the older ones."""
        folder = Path(args.output_dir) / f"{CHECKPOINT_PREFIX}{state.global_step}"
        if folder.is_dir():
            atomic_write_text(folder / COMPLETE_MARKER, str(state.global_step))
            prune_checkpoints(Path(args.output_dir), folder, state.best_model_checkpoint)


class StopAtPendingRequest(TrainerCallback):
    """Raises a Ctrl-C or SIGTERM whose exception code inside the step swallowed.

    See :mod:`harness.core.stop_signals`; the checkpoints written so far stay, so resuming loses at
    most the steps since the last one.
    """

    def on_step_end(self, args, state, control, **kwargs):
        """After each optimisation step."""
        raise_pending_stop()


class MetricsToLogging(TrainerCallback):
    """Logs the Trainer's metrics (loss, learning rate, validation score) through ``logging``."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        """One INFO line per Trainer log event."""
        if logs and state.is_world_process_zero:
            values = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in logs.items())
            log.info("step %d: %s", state.global_step, values)


class StepBar(TrainerCallback):
    """One labelled bar of optimisation steps that disappears when training ends.

    Replaces the Trainer's own bars (one left on screen per training, unlabelled, plus one per
    evaluation), so that a run shows its overall bar and the current stage's bar only.
    """

    def __init__(self, desc: str = "training"):
        self.desc = desc
        self.bar: tqdm | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        """Open the bar at the resumed step."""
        if state.is_world_process_zero:
            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=self.desc,
                            unit="step", leave=False, dynamic_ncols=True)

    def on_step_end(self, args, state, control, **kwargs):
        """Advance to the Trainer's step."""
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_train_end(self, args, state, control, **kwargs):
        """Close (and erase) the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class StepClock(TrainerCallback):
    """Seconds of each optimisation step, ``on_step_begin`` to ``on_step_end`` (``plan --calibrate``).

    That span is forward, backward and the optimizer update of one effective batch (gradient
    accumulation included); the batches were loaded and collated before it, evaluation and
    checkpoints come after. On CUDA both ends wait for the device to finish its queued work.
    """

    def __init__(self):
        self.seconds: list[float] = []
        self._started: float | None = None

    def on_step_begin(self, args, state, control, **kwargs):
        """Start the step's clock."""
        self._started = _now()

    def on_step_end(self, args, state, control, **kwargs):
        """Record the step's seconds."""
        if self._started is not None:
            self.seconds.append(_now() - self._started)
            self._started = None


def _now() -> float:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
    return time.perf_counter()
