"""What a suite costs, per stage kind, with and without sharing stages between jobs.

Example::

    graph = JobGraph.of(plan, plan.jobs)
    rows = stage_costs(graph.stages, graph.sharing(), measured_hours(workdir / "cache"))
    total_hours(rows, shared=True), total_hours(rows, shared=False)

*With sharing* each distinct stage runs once (what the runner does: stages are deduplicated by
key). *Without sharing* every job would build its whole graph alone: a stage runs once per job
that needs it. In between, :func:`per_method_hours`: each method deduplicates its own stages but
shares none with another method (what sharing *across* methods saves). Hours per stage: the mean
``seconds`` of the finished stages of that kind in the workdir's cache (their manifests), where
there are any; else the paper's T4 figures (Appendix C: about 2.5 hours per language adapter,
0.5 per task adapter); kinds with neither are counted but not costed (``hours`` None).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.graph import Stage, topological_order

#: The paper's T4 hours per stage (Appendix C).
PAPER_T4_HOURS = {"language_adapter": 2.5, "task_adapter": 0.5}
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class KindCost:
    """One stage kind of a suite: how many stages, how many shared, hours each and where from."""

    kind: str
    stages: int  # distinct stages (run once each)
    uses: int  # stages summed over jobs (each job building its own graph)
    shared: int  # distinct stages needed by more than one job
    hours: float | None  # per stage
    source: str  # "measured (n)", "paper T4" or "-"

    def total(self, shared: bool) -> float | None:
        """Hours of this kind with (``shared``) or without sharing; None when not costed."""
        if self.hours is None:
            return None
        return self.hours * (self.stages if shared else self.uses)


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


def stage_costs(stages: Iterable[Stage], sharing: Mapping[str, int],
                measured: Mapping[str, tuple[float, int]]) -> list[KindCost]:
    """One row per stage kind, sorted by kind (``sharing``: jobs per stage key)."""
    counts, uses, shared = Counter(), Counter(), Counter()
    for stage in stages:
        counts[stage.kind] += 1
        uses[stage.kind] += sharing[stage.key]
        shared[stage.kind] += sharing[stage.key] > 1
    rows = []
    for kind in sorted(counts):
        hours, source = None, "-"
        if kind in measured:
            hours, source = measured[kind][0], f"measured ({measured[kind][1]})"
        elif kind in PAPER_T4_HOURS:
            hours, source = PAPER_T4_HOURS[kind], "paper T4"
        rows.append(KindCost(kind, counts[kind], uses[kind], shared[kind], hours, source))
    return rows


def total_hours(rows: Iterable[KindCost], shared: bool) -> float:
    """Hours of every costed kind, with or without sharing."""
    return sum(row.total(shared) for row in rows if row.hours is not None)


def per_method_hours(finals: Mapping[object, Stage], rows: Iterable[KindCost]) -> float:
    """Hours if each method ran its own deduplicated graph, sharing nothing with other methods.

    ``finals``: each job (with a ``method``) and its final stage, as :class:`JobGraph` holds them.
    """
    hours = {row.kind: row.hours for row in rows if row.hours is not None}
    total = 0.0
    for method in {job.method for job in finals}:
        stages = topological_order([final for job, final in finals.items() if job.method == method])
        total += sum(hours.get(stage.kind, 0.0) for stage in stages)
    return total
