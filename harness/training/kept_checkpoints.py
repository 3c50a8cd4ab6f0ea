"""Which training checkpoints a stage's partial directory keeps, and what each one holds.

Example::

    prune_checkpoints(work_dir, newest=work_dir / "checkpoint-60", best=state.best_model_checkpoint)
    resumable_checkpoints(work_dir)   # [Path(".../checkpoint-60")]: at most one outside a save

A real-scale checkpoint is large (zero-shot fine-tuning of XLM-R: the weights plus AdamW's two
moments of every parameter, three times the model), so a stage keeps only what resuming it and
its result need (docs/choices.md, "Checkpoints"):

- **the newest complete checkpoint** (:data:`COMPLETE_MARKER`): weights, optimizer, scheduler,
  gradient scaler, RNG and trainer state (and stage 3's KL teacher states), what the Trainer
  resumes from. The previous one is deleted once the new one is marked complete
  (:func:`prune_checkpoints`, called from the marking callback), never before: while a
  checkpoint is being written the previous complete one is still there, and nothing else.
  (The Trainer's own rotation, ``save_total_limit``, deletes
  the previous checkpoint before the new one is marked, keeps the best checkpoint whole, and at
  the end of training deletes the last one, so that a kill before publishing retrained from the
  best epoch: it is switched off.)
- **the best epoch's weights** (:data:`BEST_MARKER`), for stages that select a checkpoint on
  validation data, while that epoch is not the newest: its optimizer, scheduler, scaler and RNG
  files are deleted (:func:`keep_weights_only`); model selection loads only weights.
- **the last step's checkpoint** holds no optimizer, scheduler, scaler or RNG state, since a
  finished training is loaded, never continued (:func:`harness.training.arguments.training_finished`),
  and no weights either when a stage selects a best epoch and the last one is not it: the
  result is the best epoch's weights (:func:`harness.training.arguments.save_lean_final_checkpoint`).

Folders with neither marker were cut off while being written:
:func:`harness.training.arguments.last_checkpoint` deletes them. Once the stage's artifact is
published, the whole partial directory goes (:meth:`harness.core.graph.Cache.discard_partial`):
no artifact reads a checkpoint.
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: Written into a checkpoint folder once the Trainer has finished writing it.
COMPLETE_MARKER = "checkpoint-complete"
#: Written into the best epoch's folder once its resume-only files are to go (weights kept).
BEST_MARKER = "best-weights"
CHECKPOINT_PREFIX = "checkpoint-"
#: Stage 3's KL teacher states computed so far
#: (:class:`harness.methods.unibridge.adaptation_trainer.TeacherStates`).
TEACHER_STATES_FILE = "teacher_states.pt"
#: The files of a checkpoint that only resuming reads (transformers' names, and the teacher's).
RESUME_ONLY_FILES = ("optimizer.pt", "scheduler.pt", "scaler.pt", "rng_state.pth", TEACHER_STATES_FILE)


def checkpoint_folders(work_dir: Path) -> list[Path]:
    """The ``checkpoint-<step>`` folders under ``work_dir``, oldest step first."""
    folders = [path for path in Path(work_dir).glob(f"{CHECKPOINT_PREFIX}*") if path.is_dir()
               and path.name[len(CHECKPOINT_PREFIX):].isdigit()]
    return sorted(folders, key=lambda path: int(path.name[len(CHECKPOINT_PREFIX):]))


def is_resumable(folder: Path) -> bool:
    """Whether ``folder`` is a complete checkpoint the Trainer can resume (or load) from."""
    return (folder / COMPLETE_MARKER).is_file() and not (folder / BEST_MARKER).is_file()


def resumable_checkpoints(work_dir: Path) -> list[Path]:
    """The complete checkpoints under ``work_dir``, oldest first."""
    return [folder for folder in checkpoint_folders(work_dir) if is_resumable(folder)]


def prune_checkpoints(work_dir: Path, newest: Path, best: str | None) -> None:
    """Delete every checkpoint but ``newest`` (complete) and the weights of ``best``.

    ``best``: the Trainer's ``state.best_model_checkpoint`` (None without model selection);
    compared by folder name, so a moved work directory still finds it.
    """
    best_name = Path(best).name if best else None
    for folder in checkpoint_folders(work_dir):
        if folder.name == newest.name:
            continue
        if folder.name == best_name:
            keep_weights_only(folder)
        else:
            (folder / COMPLETE_MARKER).unlink(missing_ok=True)  # never resumed from, half deleted
            shutil.rmtree(folder, ignore_errors=True)


def keep_weights_only(folder: Path) -> None:
    """Turn a complete checkpoint into best-epoch weights: marked first, then the resume files go."""
    if not (folder / BEST_MARKER).is_file():
        (folder / BEST_MARKER).write_text(folder.name, encoding="utf-8")
    (folder / COMPLETE_MARKER).unlink(missing_ok=True)
    for name in RESUME_ONLY_FILES:
        (folder / name).unlink(missing_ok=True)
    for rng in folder.glob("rng_state_*.pth"):  # one per process in distributed training
        rng.unlink()
