"""Compare the result records of two runs of one suite (e.g. CUDA fp16 against CPU) within tolerances.

Usage::

    python benchmarks/compare_records.py runs/cpu runs/cuda          # workdirs or results.jsonl files
    python benchmarks/compare_records.py A B --score-tol 10 --rel-tol 0.05 --json diff.json

What must agree, job by job (jobs are matched by id; a job in one run only is a difference):

* **exactly**: the metric's name, and every integer, string and boolean among the record's
  ``details`` and stage facts (vocabulary sizes, stage-2 rule counts, optimisation steps, corpus
  lines, example counts, the test split's digest). These do not depend on the device: stages 1–2
  run on the CPU in both runs, and the step counts are the suite's;
* **within ``--score-tol`` points** (default 10): the job's score and every ``*score*`` fact
  (validation scores). The smoke suite's test splits hold 16 examples, so one changed prediction
  moves NER F1 by several points; dropout masks come from a different generator on CUDA, and
  fp16 rounds activations, so two correct runs differ by a few points, not by tens;
* **within ``--rel-tol`` relatively** (default 5 %): every other number (training losses,
  harmony distances and weights): training 4–8 steps from the same initialisation moves them by
  far less, a device or precision bug (fp16 overflow, a wrong label alignment) far more;
* **finite**: no NaN or infinity anywhere in either run.

Lists (per-example counts) follow the score and are not compared element by element; ``seconds``
and ``versions`` are not compared. Exit status 1 when anything is outside its tolerance.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.run.records import RESULTS_FILE, read_results

SCORE_TOL = 10.0
REL_TOL = 0.05
SKIPPED = ("seconds", "versions", "config_hash")


@dataclass(frozen=True)
class Difference:
    """One value outside its tolerance: which job, where in the record, both values, the rule."""

    job: str
    where: str
    a: Any
    b: Any
    rule: str

    def line(self) -> str:
        """One line for the summary."""
        return f"{self.job}: {self.where}: {self.a!r} vs {self.b!r} ({self.rule})"


def read_records(path: Path) -> dict[str, dict[str, Any]]:
    """Job id -> record, from a workdir (its ``results.jsonl``) or a ``results.jsonl`` file.

    The file is read by :func:`harness.run.records.read_results`: a line that is not a record is
    named in a warning and skipped.
    """
    path = Path(path)
    file = path / RESULTS_FILE if path.is_dir() else path
    return {record.job_id: record.model_dump(mode="json") for record in read_results(file)}


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted path -> leaf of nested dicts; lists are kept as leaves."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def is_score(where: str) -> bool:
    """The job's score or a validation score: compared in metric points."""
    return where == "value" or "score" in where.rsplit(".", 1)[-1]


def compare_value(job: str, where: str, a: Any, b: Any, score_tol: float,
                  rel_tol: float) -> Difference | None:
    """The difference between two leaves of the same path, if outside its rule (module docstring)."""
    for value in (a, b):
        if isinstance(value, float) and not math.isfinite(value):
            return Difference(job, where, a, b, "not finite")
    if isinstance(a, list) and isinstance(b, list):
        return None
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    if numbers and (isinstance(a, float) or isinstance(b, float)):
        if is_score(where):
            if abs(a - b) > score_tol:
                return Difference(job, where, a, b, f"more than {score_tol:g} points apart")
        elif abs(a - b) > rel_tol * max(abs(a), abs(b)):
            return Difference(job, where, a, b, f"more than {rel_tol:.0%} apart")
        return None
    if a != b:
        return Difference(job, where, a, b, "must be equal")
    return None


def compare_records(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]],
                    score_tol: float = SCORE_TOL, rel_tol: float = REL_TOL) -> list[Difference]:
    """Every difference between the records of two runs outside its tolerance."""
    differences = []
    for job in sorted(a.keys() | b.keys()):
        if job not in a or job not in b:
            differences.append(Difference(job, "record", job in a, job in b, "in one run only"))
            continue
        flat_a, flat_b = (flatten({k: v for k, v in r[job].items() if k not in SKIPPED})
                          for r in (a, b))
        for where in sorted(flat_a.keys() | flat_b.keys()):
            if where not in flat_a or where not in flat_b:
                differences.append(Difference(job, where, flat_a.get(where), flat_b.get(where),
                                              "in one record only"))
                continue
            found = compare_value(job, where, flat_a[where], flat_b[where], score_tol, rel_tol)
            if found:
                differences.append(found)
    return differences


def score_deltas(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]) -> list[float]:
    """|score B − score A| of every job in both runs."""
    return [abs(b[job]["value"] - a[job]["value"]) for job in sorted(a.keys() & b.keys())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="reference run (workdir or results.jsonl), e.g. CPU")
    parser.add_argument("b", type=Path, help="run to check against it, e.g. CUDA")
    parser.add_argument("--score-tol", type=float, default=SCORE_TOL, help="metric points")
    parser.add_argument("--rel-tol", type=float, default=REL_TOL, help="other numbers, relative")
    parser.add_argument("--json", type=Path, help="write the figures and differences here")
    options = parser.parse_args(argv)
    a, b = read_records(options.a), read_records(options.b)
    differences = compare_records(a, b, options.score_tol, options.rel_tol)
    deltas = score_deltas(a, b)
    mean = sum(deltas) / len(deltas) if deltas else float("nan")
    print(f"records: {len(a)} in A ({options.a}), {len(b)} in B ({options.b}), {len(deltas)} in both")
    print(f"score |B - A|: mean {mean:.2f}, max {max(deltas, default=float('nan')):.2f} points "
          f"(tolerance {options.score_tol:g}); other numbers within {options.rel_tol:.0%}")
    for difference in differences[:20]:
        print(f"  {difference.line()}")
    if len(differences) > 20:
        print(f"  ... and {len(differences) - 20} more")
    print(f"{'agree' if not differences else 'DIFFER'}: {len(differences)} values outside tolerance")
    if options.json:
        options.json.write_text(json.dumps({
            "records_a": len(a), "records_b": len(b), "score_mean_abs_delta": mean,
            "score_max_abs_delta": max(deltas, default=None), "score_tol": options.score_tol,
            "rel_tol": options.rel_tol, "differences": [d.line() for d in differences]}, indent=2))
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
