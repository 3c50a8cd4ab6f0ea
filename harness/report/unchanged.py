"""Whether a workdir's report already shows what it would be rendered from: then a run keeps it.

Example::

    inputs = report_inputs(run, numbers, formats, merged, provenance(run))   # SHA-256 of all it reads
    kept = kept_report(workdir, inputs)   # the files written from these inputs, if all still intact
    if kept is None:
        written = ...render...
        remember_report(workdir, inputs, written)

Rendering the tables, the figures (matplotlib, PNG and PDF) and the page takes seconds, most of
a warm re-run that finds every stage cached. The inputs are everything the report is rendered
from: every record (as results.jsonl holds it), the ALP thresholds of merged runs, run.json but
its ``finished`` time, the statistics configuration, the tables and formats asked for, and the
code and data that render them: the page's provenance (git commit, package versions, metric
implementation) and the text of ``harness/report/``, ``harness/statistics/`` and the paper's
tables (``reports/paper/``), so an edit there re-renders without a commit, and the stamps of the
plugins' tables (:mod:`harness.core.origins`: a package's version, an included file's hash).
Any difference, or any written file missing or changed since (its SHA-256 is kept), re-renders
the whole report.

A kept page's header keeps the time it was written and the ``finished`` time of the run that
wrote it: the run whose results it shows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from harness.core.graph import hash_payload
from harness.core.manifest import file_sha256
from harness.core.origins import origin_of, plugin_entries
from harness.core.resources import PAPER, package_files, resource_files
from harness.core.workdir import atomic_write_text
from harness.report.build import RunData

#: Where the inputs' hash and the written files' checksums are kept, in the workdir.
INPUTS_FILE = ".report-inputs.json"
#: Code and data the report is rendered from, beside the records (see the module docstring): the
#: packages whose files are read through importlib.resources, in a checkout and a wheel alike.
CODE = ("harness.report", "harness.statistics", PAPER)
#: Provenance facts that are times, not inputs.
TIMES = ("run finished", "report written")


def code_digest(packages: Sequence[str] = CODE) -> str:
    """SHA-256 over the names and contents of the ``.py`` and ``.yaml`` files of ``packages``.

    Names are ``package/relative/name`` (``harness.report/page.py``), so the digest is the same
    wherever the packages are installed.
    """
    return hash_payload({f"{package}/{name}": hashlib.sha256(file.read_bytes()).hexdigest()
                         for package in packages
                         for name, file in resource_files(package_files(package), (".py", ".yaml"))})


def report_inputs(run: RunData, numbers: Sequence[int] | None, formats: Sequence[str],
                  merged: Sequence[Path], provenance_facts: dict[str, str]) -> str:
    """SHA-256 of everything :func:`harness.report.write.write_report` renders from.

    ``provenance_facts``: the page's header (:func:`harness.report.page.provenance` of ``run``),
    its times left out.
    """
    manifest = run.manifest.model_dump(mode="json", exclude={"finished"}) if run.manifest else None
    facts = {name: value for name, value in provenance_facts.items() if name not in TIMES}
    return hash_payload({
        "records": [record.model_dump(mode="json") for record in run.records],
        "thresholds": list(run.thresholds), "manifest": manifest,
        "statistics": dataclasses.asdict(run.statistics),
        "numbers": list(numbers or []), "formats": list(formats),
        "merged": [str(Path(path).resolve()) for path in merged],
        "provenance": facts, "code": code_digest(), "plugin_tables": plugin_table_stamps(),
    })


def plugin_table_stamps() -> dict[str, str]:
    """Each plugin table's stamp (its package's version, its included file's SHA-256)."""
    return {name: origin_of("tables", name).stamp for name in plugin_entries("tables")}


def kept_report(workdir: Path, inputs: str) -> list[Path] | None:
    """The files last written from ``inputs``, in their order, when each is still as written."""
    try:
        kept = json.loads((Path(workdir) / INPUTS_FILE).read_text(encoding="utf-8"))
        if kept["inputs"] != inputs:
            return None
        files = [(Path(workdir) / name, digest) for name, digest in kept["files"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none yet, or unreadable: render
    if all(path.is_file() and file_sha256(path) == digest for path, digest in files):
        return [path for path, _ in files]
    return None


def remember_report(workdir: Path, inputs: str, written: Sequence[Path]) -> None:
    """Keep ``inputs`` and the checksums of the files just written from them."""
    workdir = Path(workdir)
    files = [[path.relative_to(workdir).as_posix(), file_sha256(path)] for path in written]
    atomic_write_text(workdir / INPUTS_FILE, json.dumps({"inputs": inputs, "files": files}, indent=1))
