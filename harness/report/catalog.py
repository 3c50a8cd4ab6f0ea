"""Where every table is registered: the paper's Tables 1–23 and the per-task results table.

Example::

    from harness.report.catalog import TABLES
    TABLES.names()                  # "results", "table01", ..., "table23"
    TABLES.get("table01")           # a TableSpec (harness.report.specs)

Adding a paper table is one declaration in :mod:`harness.report.specs` (registered here by the
loop below) plus its ``reports/paper/tableNN.yaml``; any other table is one function
``table(records) -> Table`` and one line here, or a plugin (docs/extending.md).
"""

from __future__ import annotations

from harness.core.registry import Registry
from harness.report.specs import TABLE_SPECS

TABLES: Registry = Registry("table")
TABLES.register_lazy("results", "harness.report.tables:results_table",
                     "every language and method of a run, per task (tables/results-<task>)")
for _spec in TABLE_SPECS:  # the paper's Tables 1–23: declarations in harness.report.specs
    TABLES.register(_spec.name, _spec)
