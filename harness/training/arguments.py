"""Hugging Face training arguments shared by every training stage.

Example::

    args = training_arguments(TrainingConfig(epochs=11, batch_size=32, learning_rate=5e-4),
                              output_dir=ctx.partial_dir(stage), ctx=ctx)
    trainer = Trainer(model=model, args=args, ...)
    summary = train_resumably(trainer, args.output_dir)   # {"train_loss": ..., "steps": ...}

Choices: the suite's ``batch_size`` is the *effective* batch; a device holds at most
``max_device_batch_size`` examples and gradient accumulation makes up the rest, so a small card
still follows the paper's batch size. fp16 is used on CUDA (T4-class cards have no bf16), with
the Trainer's gradient scaler; ``--precision`` chooses bf16 (cards that have it, and the CPU) or
fp32 instead (:func:`precision_flags`). When CUDA runs out of memory, :func:`train_resumably` halves the
per-device batch, doubles the accumulation steps (the effective batch stays the paper's) and has
the stage start again from its last complete checkpoint; a NaN or infinite step loss stops the
stage with :class:`NonFiniteLossError` instead of training on with NaN weights.
Checkpoints are written every epoch into the stage's partial directory; only what resuming
and the result need is kept (:mod:`harness.training.kept_checkpoints`: the newest complete checkpoint,
the selected epoch's weights, a last-step checkpoint without optimizer state). A checkpoint
counts only once the Trainer has finished writing it
(:class:`harness.training.callbacks.MarkCheckpointComplete` drops a marker file after ``on_save``
and then deletes the previous one): a kill while one is being written leaves a directory
without the marker, which :func:`last_checkpoint` deletes, so the stage resumes from the
previous complete checkpoint or starts afresh — never from half-written weights. A checkpoint
saved at the last step (the stage was stopped before its artifact was published) is loaded,
not resumed: the Trainer would run one more step (:func:`training_finished`). A resumed
training reports the loss of the whole training (:func:`whole_training_loss`), not the
Trainer's figure for the steps since the resume. The Trainer's own metric printing (dicts on
stdout) is replaced by :class:`harness.training.callbacks.MetricsToLogging`: metrics go to
``logging`` (shown with ``-v``) and stdout stays clean; its bars (one left on screen per training
and per evaluation) by one step bar that disappears when the training ends
(:class:`harness.training.callbacks.StepBar`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from harness.core.config import StrictConfig, added_option
from harness.core.graph import RetryStageError, StageContext
from harness.core.workdir import atomic_write_text
from harness.training.kept_checkpoints import (
    BEST_MARKER,
    COMPLETE_MARKER,
    checkpoint_folders,
    resumable_checkpoints,
)

if TYPE_CHECKING:
    from transformers import Trainer, TrainerCallback, TrainingArguments

log = logging.getLogger(__name__)


class PlateauSchedule(StrictConfig):
    """A learning rate cut by ``factor`` once the validation score stops rising.

    PyTorch's ``ReduceLROnPlateau`` (the Trainer's ``reduce_lr_on_plateau``), stepped after each
    evaluation (every epoch) on the score the Trainer's ``metric_for_best_model`` names, in mode
    ``max`` when greater is better: an epoch counts as an improvement only when it beats the best
    score by more than ``threshold`` × best (relative threshold), and after more than
    ``patience`` epochs without one the rate is multiplied by ``factor``. Defaults: the authors'
    task adapters (``UniBridgeSrc/{NER,POS,NLI}/pl_wrapper.py``, ``configure_optimizers``, at 6a38462).
    """

    patience: int = Field(2, ge=0)
    threshold: float = Field(0.1, ge=0)
    factor: float = Field(0.1, gt=0, lt=1)


class TrainingConfig(StrictConfig):
    """Optimisation hyperparameters common to all training stages.

    ``plateau``: None (default) decays the rate linearly to zero (the Trainer's default); a
    :class:`PlateauSchedule` keeps it constant and cuts it on a plateau of the validation score
    (the stage must evaluate every epoch and name ``metric_for_best_model``).
    """

    epochs: float = Field(gt=0)
    batch_size: int = Field(32, gt=0)
    learning_rate: float = Field(gt=0)
    max_device_batch_size: int = Field(32, gt=0)
    max_steps: int | None = Field(None, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    warmup_ratio: float = Field(0.0, ge=0, lt=1)
    plateau: PlateauSchedule | None = added_option(None)


#: ``--precision`` choices; ``auto``: fp16 on CUDA (the paper's T4 setting), fp32 on the CPU.
PRECISIONS = ("auto", "fp16", "bf16", "fp32")


def precision_flags(device: str, precision: str) -> dict[str, bool]:
    """TrainingArguments' ``fp16`` and ``bf16`` for ``precision`` (:data:`PRECISIONS`) on ``device``.

    Whether the device supports it is checked before a run starts (``unibridge-bench run``);
    fp16 on the CPU is refused there, as the Trainer has no CPU fp16 autocast.

    Raises:
        ValueError: ``precision`` is not one of :data:`PRECISIONS`.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: valid choices: {', '.join(PRECISIONS)}")
    if precision == "auto":
        precision = "fp16" if device == "cuda" else "fp32"
    return {"fp16": precision == "fp16", "bf16": precision == "bf16"}


def split_batch(batch_size: int, max_device_batch_size: int) -> tuple[int, int]:
    """(per-device batch, accumulation steps) whose product is ``batch_size`` or just above."""
    steps = math.ceil(batch_size / max_device_batch_size)
    return math.ceil(batch_size / steps), steps


def training_arguments(
    config: TrainingConfig, output_dir: Path, ctx: StageContext, **overrides
) -> TrainingArguments:
    """TrainingArguments for ``config`` on ``ctx.device``; ``overrides`` win over the defaults."""
    per_device, accumulation = split_batch(config.batch_size, config.max_device_batch_size)
    on_cuda = ctx.device == "cuda"
    kwargs = dict(
        output_dir=str(output_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1,
        per_device_train_batch_size=per_device,
        per_device_eval_batch_size=per_device,
        gradient_accumulation_steps=accumulation,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_ratio=config.warmup_ratio,
        **precision_flags(ctx.device, ctx.precision),
        use_cpu=not on_cuda,
        seed=ctx.seed,
        data_seed=ctx.seed,
        save_strategy="epoch",
        save_total_limit=None,  # harness.training.kept_checkpoints keeps what resuming needs (its docstring)
        logging_strategy="epoch",
        report_to="none",
        disable_tqdm=not ctx.progress,
        dataloader_num_workers=0,
        remove_unused_columns=False,
        # adapters' flex-head models take labels through **kwargs, so the Trainer cannot find
        # them in forward's signature and would skip compute_metrics without this
        label_names=["labels"],
    )
    kwargs.update(overrides)
    kwargs.update(plateau_arguments(config.plateau, kwargs))
    from transformers import TrainingArguments

    # TrainingArguments leaves its mixed precision in this variable and takes it up again when
    # neither fp16 nor bf16 is set: an fp32 training after an fp16 one would autocast to fp16
    os.environ.pop("ACCELERATE_MIXED_PRECISION", None)
    return TrainingArguments(**kwargs)


def plateau_arguments(plateau: PlateauSchedule | None, kwargs: dict) -> dict:
    """The Trainer's scheduler arguments for ``plateau`` (none for the linear default).

    Raises:
        ValueError: a plateau schedule without ``metric_for_best_model`` in ``kwargs``.
    """
    if plateau is None:
        return {}
    if not kwargs.get("metric_for_best_model"):
        raise ValueError("a plateau schedule needs a validation score (metric_for_best_model)")
    mode = "max" if kwargs.get("greater_is_better", True) else "min"
    return {"lr_scheduler_type": "reduce_lr_on_plateau",
            "lr_scheduler_kwargs": {"mode": mode, **plateau.model_dump()}}


def last_checkpoint(output_dir: Path) -> str | None:
    """The newest complete ``checkpoint-*`` under ``output_dir`` (None: start afresh).

    Checkpoints with neither :data:`COMPLETE_MARKER` nor :data:`BEST_MARKER` were cut off while
    being written: deleted. A best epoch's weights are kept for model selection, not resumed.
    """
    path = Path(output_dir)
    if not path.is_dir():
        return None
    for folder in checkpoint_folders(path):
        if not (folder / COMPLETE_MARKER).is_file() and not (folder / BEST_MARKER).is_file():
            log.warning("discarding checkpoint %s: it was not completely written", folder)
            shutil.rmtree(folder)
    complete = resumable_checkpoints(path)
    return str(complete[-1]) if complete else None


def whole_training_loss(log_history: list[dict]) -> float | None:
    """Mean training loss over every step, from the Trainer's per-epoch log entries.

    Each entry's ``loss`` is the mean over the steps since the previous entry, so the entries are
    weighted by their step spans. The log history travels in checkpoints, so a resumed training
    gives the same figure as an uninterrupted one.
    """
    total, previous = 0.0, 0
    for entry in log_history:
        if "loss" in entry:
            total += entry["loss"] * (entry["step"] - previous)
            previous = entry["step"]
    return total / previous if previous else None


#: Callbacks that :func:`observing_training` adds to every training of this process.
_observers: list[TrainerCallback] = []


@contextmanager
def observing_training(*callbacks: TrainerCallback) -> Iterator[None]:
    """Add ``callbacks`` to each training :func:`train_resumably` runs in this block.

    How ``plan --calibrate`` times the steps of a stage it builds through the cache, without a
    timing argument on every stage's ``run``.
    """
    _observers.extend(callbacks)
    try:
        yield
    finally:
        for callback in callbacks:
            _observers.remove(callback)


def train_resumably(trainer: Trainer, work_dir: Path) -> dict:
    """Train from the last complete checkpoint in ``work_dir``; the loss of the whole training.

    Raises:
        RetryStageError: CUDA ran out of memory; the per-device batch was halved (see
            :func:`lower_device_batch`) and the stage must start again.
        NonFiniteLossError: a step's loss was NaN or infinite.
    """
    import torch

    from harness.training.callbacks import MarkCheckpointComplete, StopAtPendingRequest

    trainer.add_callback(MarkCheckpointComplete())
    trainer.add_callback(StopAtPendingRequest())
    for observer in _observers:
        trainer.add_callback(observer)
    stop_on_non_finite_loss(trainer)
    save_lean_final_checkpoint(trainer)
    checkpoint = last_checkpoint(work_dir)
    use_device_batch(trainer.args, work_dir, checkpoint)
    if checkpoint is not None and training_finished(checkpoint):
        load_finished_training(trainer, checkpoint)
    else:
        try:
            trainer.train(resume_from_checkpoint=checkpoint)
        except torch.cuda.OutOfMemoryError as error:
            raise lower_device_batch(trainer.args, work_dir) from error
    return {"train_loss": whole_training_loss(trainer.state.log_history),
            "steps": trainer.state.global_step}


def training_finished(checkpoint: str) -> bool:
    """Whether ``checkpoint`` was saved at the last step (the stage stopped before publishing).

    The Trainer must not resume from such a checkpoint when the step cap falls mid-epoch:
    transformers 4.57 re-enters the unfinished epoch (``global_step // steps per epoch`` epochs
    are done) and checks ``max_steps`` only in ``on_step_end``, after a step, so it would train
    one step more and change the weights and the loss of a finished training. (At a cap on an
    epoch's end no epoch is left to enter, which is why only mid-epoch caps showed it.)
    """
    from transformers.trainer import TRAINER_STATE_NAME

    state = json.loads((Path(checkpoint) / TRAINER_STATE_NAME).read_text(encoding="utf-8"))
    return state["global_step"] >= state["max_steps"]


def load_finished_training(trainer: Trainer, checkpoint: str) -> None:
    """Leave ``trainer`` as its :meth:`train` would have ended: weights, state, best model.

    Uses the Trainer's own loading steps (``_load_from_checkpoint``, ``_load_best_model``, as
    :meth:`Trainer.train` does), so adapter-only checkpoints load as they do on a resume. With
    model selection the best epoch's weights are all that is loaded (the last step's checkpoint
    holds none when it is not the best: :func:`save_lean_final_checkpoint`).
    """
    from transformers.trainer import TRAINER_STATE_NAME
    from transformers.trainer_callback import TrainerState

    log.info("training already finished in %s: loading it instead of resuming", checkpoint)
    trainer.state = TrainerState.load_from_json(str(Path(checkpoint) / TRAINER_STATE_NAME))
    if trainer.args.load_best_model_at_end and trainer.state.best_model_checkpoint is not None:
        trainer._load_best_model()
    else:
        trainer._load_from_checkpoint(checkpoint)


def save_lean_final_checkpoint(trainer: Trainer) -> None:
    """Make the checkpoint of ``trainer``'s last step hold only what loading a finished training reads.

    No optimizer, scheduler, scaler or RNG state (a finished training is never continued), and
    no weights when the Trainer selects a best epoch and the last step is not it. The Trainer
    saves a checkpoint's weights (``save_model``) before deciding on its optimizer state
    (``args.save_only_model``), so both are settled in ``save_model``.
    """
    save_model = trainer.save_model

    def lean_save_model(output_dir: str | None = None, _internal_call: bool = False):
        state, args = trainer.state, trainer.args
        final = _internal_call and state.global_step >= state.max_steps
        args.save_only_model = final
        if final and args.load_best_model_at_end and state.best_global_step not in (None, state.global_step):
            Path(output_dir).mkdir(parents=True, exist_ok=True)  # trainer state only
            return
        save_model(output_dir, _internal_call=_internal_call)

    trainer.save_model = lean_save_model


DEVICE_BATCH_FILE = "device-batch.json"


class DeviceMemoryError(RuntimeError):
    """CUDA ran out of memory with a per-device batch of one example: the model does not fit."""


class NonFiniteLossError(RuntimeError):
    """A training step's loss was NaN or infinite: this job stops, the others go on."""


def set_device_batch(args: TrainingArguments, effective: int, max_device_batch: int) -> None:
    """Split ``effective`` into at most ``max_device_batch`` per device times accumulation steps."""
    per_device, accumulation = split_batch(effective, max_device_batch)
    args.per_device_train_batch_size = args.per_device_eval_batch_size = per_device
    args.gradient_accumulation_steps = accumulation


def lower_device_batch(args: TrainingArguments, work_dir: Path) -> RetryStageError:
    """After CUDA ran out of memory: halve the per-device batch and keep the effective batch.

    The new limit is written to ``work_dir`` (the stage's partial directory), where
    :func:`use_device_batch` finds it when the stage starts again, also after a kill.

    Raises:
        DeviceMemoryError: the per-device batch was already one example.
    """
    per_device = args.per_device_train_batch_size
    effective = per_device * args.gradient_accumulation_steps
    if per_device == 1:
        raise DeviceMemoryError(
            "CUDA out of memory with a per-device batch of 1: the model does not fit on this GPU; "
            "use a GPU with more memory or --device cpu")
    limit = per_device // 2
    atomic_write_text(Path(work_dir) / DEVICE_BATCH_FILE, json.dumps({"max_device_batch_size": limit}))
    set_device_batch(args, effective, limit)
    return RetryStageError(
        f"CUDA out of memory with {per_device} examples per device; starting again with "
        f"{args.per_device_train_batch_size} x {args.gradient_accumulation_steps} accumulation "
        f"steps (effective batch {effective})")


def use_device_batch(args: TrainingArguments, work_dir: Path, checkpoint: str | None) -> None:
    """Apply a per-device limit that an earlier out-of-memory error left in ``work_dir``.

    The Trainer resumes with the batch size stored in the checkpoint's state, whatever ``args``
    say, so the checkpoint is told the current per-device batch too.
    """
    from transformers.trainer import TRAINER_STATE_NAME

    path = Path(work_dir) / DEVICE_BATCH_FILE
    if path.is_file():
        limit = json.loads(path.read_text(encoding="utf-8"))["max_device_batch_size"]
        effective = args.per_device_train_batch_size * args.gradient_accumulation_steps
        set_device_batch(args, effective, min(limit, args.per_device_train_batch_size))
    if checkpoint is not None:
        state_file = Path(checkpoint) / TRAINER_STATE_NAME
        state = json.loads(state_file.read_text(encoding="utf-8"))
        if state.get("train_batch_size") != args.per_device_train_batch_size:
            state["train_batch_size"] = args.per_device_train_batch_size
            atomic_write_text(state_file, json.dumps(state, indent=2, sort_keys=True))


def stop_on_non_finite_loss(trainer: Trainer) -> None:
    """Make ``trainer`` raise :class:`NonFiniteLossError` at the first NaN or infinite step loss.

    Left alone, the Trainer leaves such steps out of its logged loss (``logging_nan_inf_filter``)
    and goes on updating the weights with NaN gradients for the rest of the run. It already
    reads each step's loss for that filter, so the check costs no extra device sync.
    """
    import torch

    step = trainer.training_step

    def checked_step(model, inputs, *args, **kwargs):
        loss = step(model, inputs, *args, **kwargs)
        if not torch.isfinite(loss).all():
            raise NonFiniteLossError(
                f"training loss is {loss.item()} at step {trainer.state.global_step + 1}: the "
                f"training diverged; lower the learning rate (on CUDA, --device cpu rules out "
                f"fp16 overflow)")
        return loss

    trainer.training_step = checked_step


def log_metrics_to_logging(trainer: Trainer) -> Trainer:
    """Route ``trainer``'s metric output to ``logging`` and its bars to one step bar; returns it."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from harness.training.callbacks import MetricsToLogging, StepBar

    trainer.remove_callback(PrinterCallback)
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(StepBar())
    trainer.add_callback(MetricsToLogging())
    return trainer
