"""``plan --calibrate``: seconds per optimisation step of each costed stage kind, timed here.

Example::

    timings = calibrate(graph.stages, workdir / CALIBRATION_CACHE, device="cpu", steps=2)
    hours = calibrated_hours(timings)       # a stage -> (hours, "measured here") function

One stage of each costed kind (:data:`harness.planning.costs.REFERENCES`) per backbone and batch size of
the suite (the first in the graph's order) trains for one warm-up step and ``steps`` timed
steps: a copy of it, and of every training stage upstream of it, with ``max_steps`` capped
(:func:`capped`), built in a cache of their own (``<workdir>/calibration``, so that ``plan``
never takes them for finished stages of the suite; the stages upstream that do not train —
backbone, corpus, vocabulary, embeddings — are built there as a run builds them). A step is
what :class:`harness.training.callbacks.StepClock` times: forward, backward and optimizer update
of one effective batch, gradient accumulation included; loading the model and data, collation,
evaluation and checkpoints are not in it. The warm-up step is left out and the median of the
others taken. Every stage of that kind, backbone and batch size then costs that median times
its planned steps (:func:`harness.planning.costs.planned_steps`): linear in steps, and other
differences between those stages (the target vocabulary's size, β) are taken as the timed
stage's.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from harness.core.graph import Cache, Stage, StageContext, topological_order
from harness.planning.costs import REFERENCES, planned_steps, stage_schedule

log = logging.getLogger(__name__)

CALIBRATION_CACHE = "calibration"
WARMUP_STEPS = 1


@dataclass(frozen=True)
class Timing:
    """The timed stage of one (kind, backbone, batch) group and its seconds per step."""

    kind: str
    backbone: str
    batch_size: int
    seconds_per_step: float
    steps: int  # timed steps (warm-up excluded)


def group_of(stage: Stage) -> tuple[str, str, int] | None:
    """(kind, backbone, batch size) of a costed training stage; None for the others."""
    if stage.kind not in REFERENCES:
        return None
    schedule = stage_schedule(stage)
    if schedule is None:
        return None
    backbone = stage.inputs.get("backbone")
    return stage.kind, backbone_name(backbone), schedule.batch_size


def backbone_name(stage: Stage | None) -> str:
    """The suite's name of the backbone under ``stage`` (through models built on it, as EXTEND's)."""
    while stage is not None:
        name = getattr(stage.config, "name", None)
        if isinstance(name, str):
            return name
        stage = stage.inputs.get("backbone")
    return "-"


def capped_config(config: BaseModel, max_steps: int) -> BaseModel:
    """``config`` with every ``max_steps`` in it (also nested) set to ``max_steps``."""
    updates = {}
    for field in type(config).model_fields:
        value = getattr(config, field)
        if field == "max_steps":
            updates[field] = max_steps
        elif isinstance(value, BaseModel):
            updates[field] = capped_config(value, max_steps)
    return config.model_copy(update=updates)


def capped(stage: Stage, max_steps: int) -> Stage:
    """A copy of ``stage`` and its inputs in which every training stage stops at ``max_steps``."""
    inputs = {name: capped(upstream, max_steps) for name, upstream in stage.inputs.items()}
    config = stage.config
    if stage_schedule(stage) is not None:
        if config is None:
            raise ValueError(f"{stage.label}: a training stage without a config cannot be capped")
        config = capped_config(config, max_steps)
    copy = type(stage)(config, seed=stage.seed, **inputs)
    copy.needed_by = stage.needed_by
    return copy


def calibrate(stages: Iterable[Stage], cache_root: Path, device: str, steps: int) -> list[Timing]:
    """Time ``steps`` steps (after a warm-up step) of one stage per costed group of ``stages``."""
    from tqdm.auto import tqdm

    from harness.training.arguments import observing_training
    from harness.training.callbacks import StepClock

    representatives: dict[tuple[str, str, int], Stage] = {}
    for stage in stages:
        group = group_of(stage)
        if group is not None:
            representatives.setdefault(group, stage)
    cache = Cache(cache_root)
    ctx = StageContext(device=device, cache=cache, progress=False)
    timings = []
    for (kind, backbone, batch), stage in tqdm(representatives.items(), desc="calibrating",
                                               unit="stage kind", leave=False):
        timed = capped(stage, WARMUP_STEPS + steps)
        for upstream in topological_order([timed])[:-1]:
            cache.materialize(upstream, ctx)
        cache.invalidate(timed)  # timed afresh each time
        clock = StepClock()
        log.info("calibrating %s on %s (batch %d): %d steps", kind, backbone, batch, steps)
        with observing_training(clock):
            cache.materialize(timed, ctx)
        measured = clock.seconds[WARMUP_STEPS:]
        if not measured:
            raise RuntimeError(f"{timed.title}: no step was timed (it trained {len(clock.seconds)})")
        timings.append(Timing(kind, backbone, batch, statistics.median(measured), len(measured)))
    return timings


def calibrated_hours(timings: Iterable[Timing]) -> Callable[[Stage], tuple[float | None, str]]:
    """Hours of a stage from the timing of its group: seconds per step × its planned steps."""
    per_step = {(t.kind, t.backbone, t.batch_size): t.seconds_per_step for t in timings}

    def hours(stage: Stage) -> tuple[float | None, str]:
        group = group_of(stage)
        if group not in per_step:
            return None, "-"
        steps = planned_steps(stage_schedule(stage), REFERENCES[stage.kind].examples)
        return per_step[group] * steps / 3600, "measured here"

    return hours
