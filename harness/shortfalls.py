"""Data shortfalls: a suite asks for more than its data holds. Said once, in the run's summary.

Example::

    log.warning("%s: only %d samples of text, fewer than the %d asked for", lang, n, asked,
                extra=SHORTFALL)
    # at the end of ``run``: "Data shortfalls (2): amh: only 14 samples ...; tgl: ..."

A shortfall is no fault (the run goes on with what there is), but printed as it happens, one
WARNING line per language, it reads as a broken install. So the stderr handler holds such
records back below ``-v`` and :class:`ShortfallLog` collects them for one summary line;
with ``-v`` they are printed as they happen as well. Other warnings are untouched.
"""

from __future__ import annotations

import logging

#: ``extra=`` of a log call that reports a shortfall.
SHORTFALL = {"shortfall": True}
#: How many shortfalls the summary line spells out before "and N more".
SHOWN = 3


def is_shortfall(record: logging.LogRecord) -> bool:
    """True for a record logged with ``extra=SHORTFALL``."""
    return bool(getattr(record, "shortfall", False))


class ShortfallLog(logging.Handler):
    """Collects the distinct shortfall messages of this process (attached to the root logger)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message of a shortfall record, once."""
        if is_shortfall(record) and (message := record.getMessage()) not in self.messages:
            self.messages.append(message)

    def summary(self) -> str | None:
        """One line naming the first few shortfalls and how many more; None when there were none."""
        if not self.messages:
            return None
        shown = "; ".join(self.messages[:SHOWN])
        more = len(self.messages) - SHOWN
        rest = f"; and {more} more (-v shows each as it happens)" if more > 0 else ""
        return f"Data shortfalls ({len(self.messages)}), the run went on with what there is: {shown}{rest}"


def shortfall_log() -> ShortfallLog:
    """The root logger's :class:`ShortfallLog`, attached on first use."""
    root = logging.getLogger()
    found = next((h for h in root.handlers if isinstance(h, ShortfallLog)), None)
    if found is None:
        found = ShortfallLog()
        root.addHandler(found)
    return found
