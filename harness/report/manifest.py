"""What a run was asked to do, kept beside its results so that reports can say why a cell is empty.

Example::

    write_manifest(workdir, manifest_of(plan, jobs, report.failed_jobs))   # at the end of ``run``
    manifest = read_manifest(workdir)       # None for a workdir written before manifests existed
    manifest.why_missing("mad_x", "tiny-xlmr", "ner", "amh")

``run.json`` holds the suite's name, backbones (name -> family), tasks and targets, seeds, each
method's *effective* hyperparameters (defaults < preset < suite overrides: what Tables 6–11
render), the job ids the last run selected (``--only``), the jobs that failed with why, and the device the
last run trained on (``cpu``, ``cuda (NVIDIA H200)``; empty in a run.json older than the field),
the plugins its methods, backbones and tasks came from (package and version, or file), and the
suite's ``fidelity`` profile and ``pipeline_check`` flag (a run.json older than them reads as
``paper`` and ``false``, what every suite ran before the keys existed).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.config import StrictConfig
from harness.core.origins import used_plugins
from harness.core.workdir import atomic_write_text
from harness.suite.schema import Fidelity

if TYPE_CHECKING:
    from harness.planning.plan import Plan
    from harness.suite.schema import Job

MANIFEST_FILE = "run.json"


class RunManifest(StrictConfig):
    """The suite side of a run (see the module docstring)."""

    suite: str
    backbones: dict[str, str]
    tasks: dict[str, tuple[str, ...]]
    seeds: tuple[int, ...]
    hyperparameters: dict[str, dict[str, Any]]
    selected: tuple[str, ...]
    failed: dict[str, str] = {}
    finished: str = ""
    device: str = ""
    #: The plugins the run used: ``methods.<name>`` (also backbones, tasks) -> origin.
    plugins: dict[str, str] = {}
    #: The suite's reading of the paper (``paper``: its text; ``authors``: their code).
    fidelity: Fidelity = "paper"
    #: The suite only checks that the pipeline runs (tiny random models): its scores mean nothing.
    pipeline_check: bool = False

    def why_missing(self, method: str, backbone: str | None, task: str, lang: str) -> str:
        """Why job (method, backbone — None: any —, task, lang) has no result.

        Not run (method, language or task not in the suite), filtered out (not selected by the
        last run's ``--only``) or failed (with the failure's reason).
        """
        if method not in self.hyperparameters:
            return f"not run: method {method} is not in suite {self.suite}"
        if lang not in self.tasks.get(task, ()):
            return f"not run: not a {task} target language of suite {self.suite}"

        def same_job(job_id: str) -> bool:
            m, b, t, lg, _ = job_id.split("/")
            return (m, t, lg) == (method, task, lang) and backbone in (None, b)

        failed = [reason for job_id, reason in self.failed.items() if same_job(job_id)]
        if failed:
            return f"failed: {failed[0]}"
        if not any(same_job(job_id) for job_id in self.selected):
            return "filtered out: not selected by the last run's --only"
        return "no result record (run interrupted?)"


def manifest_of(plan: Plan, jobs: Iterable[Job], failed_jobs: Mapping[str, str],
                device: str = "") -> RunManifest:
    """The manifest of a run of ``jobs`` from ``plan`` on ``device``; ``failed_jobs``: job id -> reason."""
    suite = plan.suite
    return RunManifest(
        suite=suite.name,
        backbones={b.name: plan.env.spec(b.name).arch for b in suite.backbones},
        tasks={task: spec.targets for task, spec in suite.tasks.items()},
        seeds=suite.seeds,
        hyperparameters={name: method.config.model_dump(mode="json")
                         for name, method in plan.methods.items()},
        selected=tuple(job.job_id for job in jobs),
        failed=dict(failed_jobs),
        finished=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        device=device,
        plugins=used_plugins({"methods": plan.methods, "backbones": [b.name for b in suite.backbones],
                              "tasks": suite.tasks}),
        fidelity=suite.fidelity,
        pipeline_check=suite.pipeline_check,
    )


def write_manifest(workdir: Path, manifest: RunManifest) -> Path:
    """Store ``manifest`` as ``<workdir>/run.json`` (atomic)."""
    path = Path(workdir) / MANIFEST_FILE
    atomic_write_text(path, manifest.model_dump_json(indent=2))
    return path


def read_manifest(workdir: Path) -> RunManifest | None:
    """The manifest of ``workdir``, or None when the run wrote none."""
    path = Path(workdir) / MANIFEST_FILE
    if not path.is_file():
        return None
    return RunManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
