"""One typed result record per job, written the moment the job's evaluation finishes.

Example::

    record = make_record(job, final_stage, cache)
    write_record(workdir, record)          # <workdir>/results/<job id>.json, atomic
    aggregate(workdir)                     # <workdir>/results.jsonl from every record file
    load_records(workdir)                  # the records; results.jsonl rebuilt from results/ first

``results.jsonl`` is derived from ``results/``: whoever reads a workdir's records rebuilds it from
the record files first (:func:`load_records`), so a damaged line there costs nothing. A record
file that cannot be read (garbage, a half-edited file, a record of another schema) is named in
one warning line and left out; the other records are kept. The next run of that job writes its
record again.

Records carry provenance (config hash = the evaluation stage's key, package versions, the
summaries of every stage in the job's graph, e.g. the vocabulary size Table 20 needs, and the
seconds spent per stage kind), so tables never need to re-open the cache.

Each stage's summary is kept apart under its *role* in the job (:func:`stage_roles`): the path of
input names from the job's final stage, e.g. ``target`` (the target language adapter),
``language_rus`` (the Russian one), ``distance_rus`` (the target–Russian harmony distance),
``target/embeddings/tokenizer`` (the vocabulary search). Two stages of one kind never merge;
``record.facts("language_adapter")`` gives every stage of a kind by role.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.core.graph import Cache, Stage
from harness.core.workdir import atomic_write_text
from harness.stages.evaluation import METRICS_FILE
from harness.suite.schema import Job

log = logging.getLogger(__name__)

RESULTS_DIR = "results"
RESULTS_FILE = "results.jsonl"
_PACKAGES = ("unibridge-bench", "torch", "transformers", "adapters", "sentencepiece", "datasets",
             "lang2vec", "deepfocus")


class ResultRecord(BaseModel):
    """The outcome of one job."""

    model_config = ConfigDict(extra="forbid")

    method: str
    backbone: str
    task: str
    lang: str
    seed: int
    metric: str
    value: float
    details: dict[str, Any] = {}
    stages: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}
    config_hash: str
    versions: dict[str, str] = {}
    #: Stage kind → the intra-op threads its stages ran with (:mod:`harness.core.threads`);
    #: several counts of one kind are listed once each, in ascending order. Empty in records
    #: written before the count was kept.
    threads: dict[str, list[int]] = {}

    @property
    def job_id(self) -> str:
        """Same identifier as :attr:`harness.suite.schema.Job.job_id`."""
        return f"{self.method}/{self.backbone}/{self.task}/{self.lang}/seed{self.seed}"

    def facts(self, kind: str) -> dict[str, dict[str, Any]]:
        """Role -> summary of every stage of ``kind`` in this job."""
        return {role: {k: v for k, v in facts.items() if k != "kind"}
                for role, facts in self.stages.items() if facts.get("kind") == kind}


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that decide a result (looked up once per process).

    Reading a distribution's metadata parses its METADATA file: 8 packages for each of a suite's
    records would be most of a warm re-run's time. Callers get a copy to change at will.
    """
    return dict(_installed_versions())


@cache
def _installed_versions() -> dict[str, str]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def stage_roles(final: Stage) -> dict[str, Stage]:
    """Every stage of ``final``'s graph under its role: the input names leading to it.

    The final stage's role is its kind; a stage reached by several paths (the backbone) keeps
    the shortest, the first in input-name order among equals.
    """
    roles = {final.kind: final}
    seen = {final.key}
    queue = deque([("", final)])
    while queue:
        prefix, stage = queue.popleft()
        for name, upstream in sorted(stage.inputs.items()):
            if upstream.key not in seen:
                seen.add(upstream.key)
                roles[prefix + name] = upstream
                queue.append((prefix + name + "/", upstream))
    return roles


def make_record(job: Job, final: Stage, cache: Cache) -> ResultRecord:
    """Read the finished evaluation artifact of ``job`` and its graph's summaries, by role."""
    metrics = json.loads((cache.path(final) / METRICS_FILE).read_text(encoding="utf-8"))
    stages: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}
    threads: dict[str, set[int]] = {}
    for role, stage in stage_roles(final).items():
        summary = cache.summary(stage)
        if summary:
            stages[role] = {"kind": stage.kind, **summary}
        manifest = cache.manifest(stage)
        seconds[stage.kind] = seconds.get(stage.kind, 0.0) + manifest["seconds"]
        if "threads" in manifest:
            threads.setdefault(stage.kind, set()).add(manifest["threads"])
    return ResultRecord(
        method=job.method, backbone=job.backbone, task=job.task, lang=job.lang, seed=job.seed,
        metric=metrics["metric"], value=metrics["value"], details=metrics.get("details", {}),
        stages=stages, seconds=seconds, config_hash=final.key, versions=package_versions(),
        threads={kind: sorted(counts) for kind, counts in sorted(threads.items())},
    )


def record_path(workdir: Path, job_id: str) -> Path:
    """Where the record of ``job_id`` is stored."""
    return Path(workdir) / RESULTS_DIR / (job_id.replace("/", "__") + ".json")


def write_record(workdir: Path, record: ResultRecord) -> Path:
    """Store one record atomically; an existing record of the same job is replaced.

    A record file that already holds these very bytes (a warm re-run) is left as it is.
    """
    path = record_path(workdir, record.job_id)
    write_if_changed(path, record.model_dump_json(indent=2))
    return path


def write_if_changed(path: Path, text: str) -> None:
    """:func:`atomic_write_text`, unless ``path`` already holds ``text`` (then left untouched).

    A warm re-run then changes no file's modification time: a tool that watches the results
    (``make``, rsync, a dashboard) sees nothing new when nothing is.
    """
    try:
        unchanged = path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        unchanged = False
    if not unchanged:
        atomic_write_text(path, text)


def aggregate(workdir: Path) -> Path:
    """Write ``results.jsonl`` from every readable record file, sorted by job id.

    A record file that cannot be read is named in a warning and left out (:func:`read_record`);
    a ``results.jsonl`` that already says exactly this is left as it is.
    """
    records = [record for record in map(read_record, record_files(workdir)) if record is not None]
    lines = [json.dumps(r.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
             for r in records]
    target = Path(workdir) / RESULTS_FILE
    write_if_changed(target, "".join(line + "\n" for line in lines))
    return target


def record_files(workdir: Path) -> list[Path]:
    """The record files of ``workdir``, sorted by name (= by job id)."""
    return sorted((Path(workdir) / RESULTS_DIR).glob("*.json"))


def read_record(path: Path) -> ResultRecord | None:
    """The record stored in ``path``, or None (after one warning naming it) when unreadable."""
    try:
        return ResultRecord.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as error:
        log.warning("%s: not a readable result record (%s); left out of %s until a run of its "
                    "job writes it again", path, first_problem(error), RESULTS_FILE)
        return None


def first_problem(error: Exception) -> str:
    """One line for why a record could not be read (pydantic's first error, not all forty)."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}" if where else first["msg"]
    return str(error)


def load_records(workdir: Path) -> list[ResultRecord]:
    """The records of ``workdir``: ``results.jsonl`` rebuilt from ``results/`` first when it exists.

    A workdir that holds only ``results.jsonl`` (copied without its record files) is read as it is.
    """
    workdir = Path(workdir)
    if (workdir / RESULTS_DIR).is_dir():
        aggregate(workdir)
    path = workdir / RESULTS_FILE
    return read_results(path) if path.is_file() else []


def read_results(path: Path) -> list[ResultRecord]:
    """Records from a ``results.jsonl`` file; a line that is not a record is named and skipped."""
    records = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                records.append(ResultRecord.model_validate_json(line))
            except ValidationError as error:
                log.warning("%s, line %d: not a result record (%s); skipped", path, number,
                            first_problem(error))
    return records
