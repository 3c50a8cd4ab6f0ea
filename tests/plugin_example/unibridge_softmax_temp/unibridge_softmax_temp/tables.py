"""The ``source_weights`` table: the weight each job gave each source language."""

from __future__ import annotations

from harness.api import Table


def source_weights_table(records):
    """Each job's weight per source language (UniBridge-style methods record them)."""
    weighted = [record for record in records if record.details.get("weights")]
    if not weighted:
        return None
    sources = list(dict.fromkeys(source for record in weighted for source in record.details["weights"]))
    rows = tuple((record.method, record.backbone, record.task, record.lang, record.seed,
                  *(_rounded(record.details["weights"].get(source)) for source in sources))
                 for record in sorted(weighted, key=lambda r: (r.method, r.backbone, r.task, r.lang, r.seed)))
    return Table("source-weights", ("method", "backbone", "task", "lang", "seed", *sources), rows)


def _rounded(weight):
    return None if weight is None else round(weight, 4)
