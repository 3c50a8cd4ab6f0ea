"""Tables of plugins: functions of a run's result records, written beside the harness's own.

Example (a plugin's table)::

    def weights_table(records):
        \"\"\"Each source's harmony weight per job.\"\"\"
        rows = [(r.method, r.lang, s, w) for r in records for s, w in r.details.get("weights", {}).items()]
        return Table("weights", ("method", "lang", "source", "weight"), tuple(rows)) if rows else None

A table plugin takes the run's records (:class:`harness.run.records.ResultRecord`, every job's
metric and details) and returns a :class:`harness.report.tables.Table`, or None when the
records hold nothing it shows (then no file is written). ``report`` and ``run`` write it as
``tables/<its Table.name>.{md,tex,csv}`` and put it on report.html.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.core.origins import origin_of, plugin_entries

if TYPE_CHECKING:  # the CLI imports TablePluginError at start-up: keep the report code out of it
    from harness.report.tables import Table
    from harness.run.records import ResultRecord


class TablePluginError(ValueError):
    """A table plugin raised or returned something other than a Table or None."""


def plugin_tables(records: Sequence[ResultRecord]) -> list[Table]:
    """Every plugin table that has something to show for ``records``, in name order.

    Raises:
        TablePluginError: naming the table and its plugin.
    """
    from harness.report.catalog import TABLES
    from harness.report.tables import Table

    tables = []
    for name in plugin_entries("tables"):
        where = f"table {name!r} of plugin {origin_of('tables', name).where}"
        try:
            table = TABLES.get(name)(list(records))
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM: the command stops, not a plugin's problem
            raise
        except BaseException as error:  # noqa: BLE001 - a plugin's table may raise (or exit) anything
            what = (f"calls sys.exit({error.code!r})" if isinstance(error, SystemExit)
                    else f"{type(error).__name__}: {error}")
            raise TablePluginError(f"{where}: failed on the run's records: {what}") from error
        if table is not None and not isinstance(table, Table):
            raise TablePluginError(f"{where}: returned {type(table).__name__}, not a "
                                   f"harness.report.tables.Table or None")
        if table is not None:
            tables.append(table)
    return tables
