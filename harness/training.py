"""Hugging Face training arguments shared by every training stage.

Example::

    args = training_arguments(TrainingConfig(epochs=11, batch_size=32, learning_rate=5e-4),
                              output_dir=ctx.partial_dir(stage), ctx=ctx)
    trainer = Trainer(model=model, args=args, ...)
    summary = train_resumably(trainer, args.output_dir)   # {"train_loss": ..., "steps": ...}

Choices: the suite's ``batch_size`` is the *effective* batch; a device holds at most
``max_device_batch_size`` examples and gradient accumulation makes up the rest, so a small card
still follows the paper's batch size. fp16 is used on CUDA (T4-class cards have no bf16).
Checkpoints are written every epoch into the stage's partial directory and only the last is
kept, which is what a killed run resumes from. A checkpoint counts only once the Trainer has
finished writing it (:class:`harness.trainer_callbacks.MarkCheckpointComplete` drops a marker
file after ``on_save``): a kill while one is being written leaves a directory without the marker, which
:func:`last_checkpoint` deletes, so the stage resumes from the previous complete checkpoint or
starts afresh — never from half-written weights. A resumed training reports the loss of the
whole training (:func:`whole_training_loss`), not the Trainer's figure for the steps since the
resume. The Trainer's own metric printing (dicts on
stdout) is replaced by :class:`harness.trainer_callbacks.MetricsToLogging`: metrics go to
``logging`` (shown with ``-v``) and stdout stays clean; its bars (one left on screen per training
and per evaluation) by one step bar that disappears when the training ends
(:class:`harness.trainer_callbacks.StepBar`).
"""

from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from harness.graph import StageContext

if TYPE_CHECKING:
    from transformers import Trainer, TrainingArguments

log = logging.getLogger(__name__)

#: Written into a checkpoint folder once the Trainer has finished writing it (see module).
COMPLETE_MARKER = "checkpoint-complete"


class TrainingConfig(BaseModel):
    """Optimisation hyperparameters common to all training stages."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    epochs: float = Field(gt=0)
    batch_size: int = Field(32, gt=0)
    learning_rate: float = Field(gt=0)
    max_device_batch_size: int = Field(32, gt=0)
    max_steps: int | None = Field(None, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    warmup_ratio: float = Field(0.0, ge=0, lt=1)


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
        fp16=on_cuda,
        use_cpu=not on_cuda,
        seed=ctx.seed,
        data_seed=ctx.seed,
        save_strategy="epoch",
        save_total_limit=1,
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
    from transformers import TrainingArguments

    return TrainingArguments(**kwargs)


def last_checkpoint(output_dir: Path) -> str | None:
    """The newest complete ``checkpoint-*`` under ``output_dir`` (None: start afresh).

    Checkpoints without :data:`COMPLETE_MARKER` were cut off while being written: deleted.
    """
    from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, get_last_checkpoint

    path = Path(output_dir)
    if not path.is_dir():
        return None
    for folder in path.glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
        if folder.is_dir() and not (folder / COMPLETE_MARKER).is_file():
            log.warning("discarding checkpoint %s: it was not completely written", folder)
            shutil.rmtree(folder)
    return get_last_checkpoint(str(path))


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


def train_resumably(trainer: Trainer, work_dir: Path) -> dict:
    """Train from the last complete checkpoint in ``work_dir``; the loss of the whole training."""
    from harness.trainer_callbacks import MarkCheckpointComplete

    trainer.add_callback(MarkCheckpointComplete())
    result = trainer.train(resume_from_checkpoint=last_checkpoint(work_dir))
    return {"train_loss": whole_training_loss(trainer.state.log_history),
            "steps": result.global_step}


def log_metrics_to_logging(trainer: Trainer) -> Trainer:
    """Route ``trainer``'s metric output to ``logging`` and its bars to one step bar; returns it."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from harness.trainer_callbacks import MetricsToLogging, StepBar

    trainer.remove_callback(PrinterCallback)
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(StepBar())
    trainer.add_callback(MetricsToLogging())
    return trainer
