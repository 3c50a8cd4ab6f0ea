"""What a suite costs, per stage kind, with and without sharing stages between jobs.

Example::

    graph = JobGraph.of(plan, plan.jobs)
    rows = stage_costs(graph.stages, graph.sharing(), measured_hours(workdir / "cache"))
    total_hours(rows, shared=True), total_hours(rows, shared=False)

*With sharing* each distinct stage runs once (what the runner does: stages are deduplicated by
key). *Without sharing* every job would build its whole graph alone: a stage runs once per job
that needs it. In between, :func:`per_method_hours`: each method deduplicates its own stages but
shares none with another method (what sharing *across* methods saves).

Hours per stage: the mean ``seconds`` of the finished stages of that kind in the workdir's cache
(their manifests), where there are any; else the paper's T4 figure for the kind (Appendix C:
about 2.5 hours per language adapter, 0.5 per task adapter) **scaled to the stage's own
schedule**: by the examples it trains on, its optimisation steps times its batch, against the
paper's schedule for the kind (:data:`REFERENCES`; hours linear in steps × batch). A stage's
steps are its ``max_steps`` where set (the Trainer's cap overrides epochs), else its epochs over
the paper's data size for the kind (the plan reads no data). A suite at the paper's schedule
gets the paper's figures unchanged. Kinds with neither are counted but not costed (``hours``
None). ``plan --calibrate`` (:mod:`harness.planning.calibration`) puts seconds per step measured on
this machine in place of the T4 rate.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from harness.core.graph import Stage, topological_order
from harness.core.manifest import MANIFEST
from harness.training.arguments import TrainingConfig


@dataclass(frozen=True)
class Reference:
    """The paper's schedule of one stage kind and its T4 hours there (None: the paper gives none).

    ``examples``: the data size the figure is taken for, also what a stage's epochs are counted
    over (the plan reads no data).
    """

    examples: int
    epochs: float
    batch_size: int
    t4_hours: float | None
    note: str

    @cached_property
    def schedule(self) -> TrainingConfig:
        """The paper's schedule as a training config (its learning rate is irrelevant here)."""
        return TrainingConfig(epochs=self.epochs, batch_size=self.batch_size, learning_rate=1.0)

    @cached_property
    def steps(self) -> int:
        """Optimisation steps of the paper's schedule (asked once per costed stage: computed once)."""
        return planned_steps(self.schedule, self.examples)


#: Per costed stage kind, the paper's schedule (PAPER.md) and T4 hours (Appendix C).
REFERENCES = {
    "language_adapter": Reference(10_000, 50, 32, 2.5, "a target's 10,000 samples (the figure "
                                                       "is flat: sources' 50,000 too)"),
    "task_adapter": Reference(20_000, 11, 32, 0.5, "a WikiANN source's 20,000 sentences"),
    "finetune": Reference(100_000, 10, 32, None, "5 WikiANN sources' 20,000 sentences each"),
    "continued_pretraining": Reference(10_000, 50, 32, None, "a target's 10,000 samples"),
}


def planned_steps(schedule: TrainingConfig, examples: int) -> int:
    """Optimisation steps of ``schedule`` over ``examples`` (``max_steps`` overrides epochs)."""
    if schedule.max_steps:
        return schedule.max_steps
    return math.ceil(schedule.epochs * math.ceil(examples / schedule.batch_size))


def stage_schedule(stage: Stage) -> TrainingConfig | None:
    """The optimisation schedule of a training stage (its ``schedule()``), else None."""
    schedule = getattr(stage, "schedule", None)
    return schedule() if callable(schedule) else None


def paper_scaled_hours(stage: Stage) -> float | None:
    """The paper's T4 hours of ``stage``'s kind scaled to its steps × batch (None: not costed)."""
    reference = REFERENCES.get(stage.kind)
    if reference is None or reference.t4_hours is None:
        return None
    schedule = stage_schedule(stage)
    if schedule is None:
        return None
    examples = planned_steps(schedule, reference.examples) * schedule.batch_size
    return reference.t4_hours * examples / (reference.steps * reference.batch_size)


@dataclass(frozen=True)
class KindCost:
    """One stage kind of a suite: how many stages, how many shared, their hours and where from."""

    kind: str
    stages: int  # distinct stages (run once each)
    uses: int  # stages summed over jobs (each job building its own graph)
    shared: int  # distinct stages needed by more than one job
    hours_shared: float | None  # all distinct stages of the kind
    hours_unshared: float | None  # each stage once per job that needs it
    source: str  # "measured (n)", "paper T4 x steps" or "-"

    @property
    def hours(self) -> float | None:
        """Mean hours per distinct stage."""
        return None if self.hours_shared is None else self.hours_shared / self.stages

    def total(self, shared: bool) -> float | None:
        """Hours of this kind with (``shared``) or without sharing; None when not costed."""
        return self.hours_shared if shared else self.hours_unshared


def stage_seconds(cache_root: Path, since: float | None = None) -> dict[str, list[float]]:
    """Per kind, the seconds of each finished stage under ``cache_root`` (started at ``since`` or later)."""
    seconds: dict[str, list[float]] = defaultdict(list)
    for manifest in Path(cache_root).glob(f"*/*/{MANIFEST}"):
        try:
            record = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if since is None or float(record.get("started", 0.0)) >= since:
            seconds[record["kind"]].append(float(record["seconds"]))
    return seconds


def measured_hours(cache_root: Path) -> dict[str, tuple[float, int]]:
    """Per kind, the mean hours of the finished stages under ``cache_root`` and their number."""
    seconds = stage_seconds(cache_root)
    return {kind: (sum(values) / len(values) / 3600, len(values)) for kind, values in seconds.items()}


def stage_hours(measured: Mapping[str, tuple[float, int]]) -> Callable[[Stage], tuple[float | None, str]]:
    """Hours of one stage and where they come from: ``measured`` for its kind, else the paper's."""

    def hours(stage: Stage) -> tuple[float | None, str]:
        if stage.kind in measured:
            return measured[stage.kind][0], f"measured ({measured[stage.kind][1]})"
        scaled = paper_scaled_hours(stage)
        return (None, "-") if scaled is None else (scaled, "paper T4 x steps")

    return hours


def stage_costs(stages: Iterable[Stage], sharing: Mapping[str, int],
                measured: Mapping[str, tuple[float, int]] | None = None,
                hours_of: Callable[[Stage], tuple[float | None, str]] | None = None) -> list[KindCost]:
    """One row per stage kind, sorted by kind (``sharing``: jobs per stage key).

    ``hours_of``: hours per stage (default :func:`stage_hours` of ``measured``).
    """
    hours_of = hours_of or stage_hours(measured or {})
    by_kind: dict[str, list[Stage]] = defaultdict(list)
    for stage in stages:
        by_kind[stage.kind].append(stage)
    rows = []
    for kind in sorted(by_kind):
        members = by_kind[kind]
        costed = [(stage, *hours_of(stage)) for stage in members]
        known = all(hours is not None for _, hours, _ in costed)
        rows.append(KindCost(
            kind, len(members), sum(sharing[s.key] for s in members),
            sum(sharing[s.key] > 1 for s in members),
            sum(h for _, h, _ in costed) if known else None,
            sum(h * sharing[s.key] for s, h, _ in costed) if known else None,
            costed[0][2] if known else "-"))
    return rows


def total_hours(rows: Iterable[KindCost], shared: bool) -> float:
    """Hours of every costed kind, with or without sharing."""
    return sum(row.total(shared) for row in rows if row.total(shared) is not None)


def per_method_hours(finals: Mapping[object, Stage],
                     hours_of: Callable[[Stage], tuple[float | None, str]]) -> float:
    """Hours if each method ran its own deduplicated graph, sharing nothing with other methods.

    ``finals``: each job (with a ``method``) and its final stage, as :class:`JobGraph` holds them.
    """
    total = 0.0
    for method in {job.method for job in finals}:
        stages = topological_order([final for job, final in finals.items() if job.method == method])
        total += sum(hours_of(stage)[0] or 0.0 for stage in stages)
    return total
