"""Collect every problem of a data file with its line, instead of stopping at the first.

Example::

    problems = Problems()
    for number, line in read_numbered(path, problems):   # BOM stripped, bad UTF-8 reported
        if line.count(" ") > 9:
            problems.add(path, number, "too many words")
    problems.raise_if_any()          # one DataError listing them all, up to LIMIT per file
    problems.notice(path, 7, "with an empty token")   # read, but worth saying: no error
    problems.notices()   # ["<path>: 1 line with an empty token (line 7)"]

``validate`` hands one collector to every data check of a suite, so that a user sees every
problem of every file at once, each as ``file:line: message``; a file with more than
:data:`LIMIT` problems shows the first ones and ``… and N more``. Loaders use a collector of
their own and raise when they are done reading.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from harness.data.source import DataError

Item = TypeVar("Item")

LIMIT = 5
"""Problems shown per file; the rest are counted."""


class Problems:
    """Problems per file, in the order they were found."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._shown: dict[str, list[str]] = {}
        self._counts: dict[str, int] = {}
        self._noticed: dict[tuple[str, str], list[int]] = {}

    def add(self, file: Path | str, line: int | None, message: str) -> None:
        """Record ``message`` about ``file`` (at ``line`` when there is one)."""
        key = str(file)
        self._counts[key] = self._counts.get(key, 0) + 1
        shown = self._shown.setdefault(key, [])
        if len(shown) < self.limit:
            shown.append(f"{key}:{line}: {message}" if line is not None else f"{key}: {message}")

    def count(self, file: Path | str) -> int:
        """How many problems ``file`` has so far."""
        return self._counts.get(str(file), 0)

    def __bool__(self) -> bool:
        return bool(self._counts)

    def messages(self) -> list[str]:
        """One line per shown problem, then ``file: … and N more problems`` where some were cut."""
        lines = []
        for key, shown in self._shown.items():
            lines += shown
            hidden = self._counts[key] - len(shown)
            if hidden:
                lines.append(f"{key}: … and {hidden} more problem{'s' if hidden > 1 else ''}")
        return lines

    def notice(self, file: Path | str, line: int, what: str) -> None:
        """Record line ``line`` of ``file`` as read, but worth a note (no problem): ``what`` it is.

        Example: ``problems.notice(path, 44520, "with an empty token")``; see :meth:`notices`.
        """
        self._noticed.setdefault((str(file), what), []).append(line)

    def notices(self) -> list[str]:
        """One line per (file, what was noticed): how many lines, and which (up to the limit).

        Example: ``["xho/train.txt: 2 lines with an empty token (lines 44520, 74513)"]``.
        """
        lines = []
        for (key, what), numbers in self._noticed.items():
            shown = ", ".join(map(str, numbers[:self.limit])) + (", …" if len(numbers) > self.limit else "")
            plural = "s" if len(numbers) > 1 else ""
            lines.append(f"{key}: {len(numbers)} line{plural} {what} (line{plural} {shown})")
        return lines

    def require(self, file: Path | str, count: int, what: str) -> None:
        """Report ``file`` as empty when ``count`` is 0 and nothing else is wrong with it."""
        if count == 0 and not self.count(file):
            self.add(file, None, f"no {what} (the file is empty or has only blank lines)")

    def raise_if_any(self) -> None:
        """Raise one DataError listing every problem (up to the limit per file)."""
        if self:
            raise DataError("\n".join(self.messages()))


def read_numbered(path: Path, problems: Problems) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line of ``path``, streamed, without line endings.

    Every reader of a data file (UD, WikiANN, NLI, monolingual and parallel text, the YAML
    tasks' formats) reads through here, so what text is refused is decided once: a UTF-8 byte
    order mark at the start is dropped; a line that holds a NUL byte (a binary file, or text
    saved as UTF-16) or is not UTF-8 is reported to ``problems`` with the offending byte and
    skipped.

    Example::

        for number, line in read_numbered(path, problems):  # line 3 of path is a, NUL, b:
            ...                                             # "path:3: holds a NUL byte (column 2)..."
    """
    with Path(path).open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            text = _text(raw, path, number, problems)
            if text is not None:
                yield number, text.rstrip("\r\n")


def _text(raw: bytes, path: Path, number: int, problems: Problems) -> str | None:
    """The line ``raw`` as text, or None with its problem reported (a NUL byte, not UTF-8)."""
    nul = raw.find(b"\0")
    if nul >= 0:
        problems.add(path, number, f"holds a NUL byte (column {nul + 1}), which no text has: a binary "
                                   f"or UTF-16 file, or zeros a crash left; save it as UTF-8 text")
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        problems.add(path, number, f"not UTF-8 text (byte {raw[error.start]:#04x} at column "
                                   f"{error.start + 1}); save the file as UTF-8")
        return None


def blank_line_groups(lines: Iterable[tuple[int, str]],
                      item: Callable[[int, str], Item | None]) -> Iterator[list[Item]]:
    """The items of each group of lines that blank lines separate (sentences of CoNLL formats).

    ``lines`` are (number, text) pairs as :func:`read_numbered` gives them; a line is blank
    when it holds only whitespace, and several blank lines separate as one does. ``item`` is
    called on each other line as soon as it is read, so that what it reports keeps the file's
    order; it returns None to drop the line (a comment, a bad line it reported). A group with
    no item is not yielded; the last group needs no blank line after it.
    """
    group: list[Item] = []
    for number, line in lines:
        if not line.strip():
            if group:
                yield group
            group = []
            continue
        parsed = item(number, line)
        if parsed is not None:
            group.append(parsed)
    if group:
        yield group


@contextmanager
def collecting(problems: Problems | None) -> Iterator[Problems]:
    """``problems`` itself, or a fresh collector that raises its DataError on exit."""
    own = Problems() if problems is None else problems
    yield own
    if problems is None:
        own.raise_if_any()
