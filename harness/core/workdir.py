"""The workdir's filesystem: writable before anything runs, full disks, file modes.

Example::

    check_writable(workdir)                       # WorkdirError before any stage, not a traceback
    with out_of_space_stops(workdir, "writing results.jsonl"):
        aggregate(workdir)                        # ENOSPC -> one NoSpaceError naming both
    follow_umask(artifact_dir)                    # 0600 files from safetensors -> 0644 (umask 022)

A full disk stops the run (every later stage would fail the same way, each with a different
library's message) with one :class:`NoSpaceError` naming the directory and what was being
written; the writer's partial files are removed by their owners (the stage's temporary
directory, :func:`atomic_write_text`'s temporary file), checkpoints cut off by it are
discarded on resume, so the same command resumes to the same records once space is freed.
A full disk is recognised whichever library met it (:func:`is_out_of_space`): by errno, and
by the OS's words where a library (tokenizers, in Rust) kept only the message.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: errno values that mean "the filesystem is full": no space, or the user's quota.
OUT_OF_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: How the OS words those errnos (``os.strerror``: "No space left on device", "Disk quota
#: exceeded"), and the same words where this platform's differ: libraries written in Rust or C++
#: (tokenizers: ``Exception("No space left on device (os error 28)")``) flatten the OSError
#: into a plain exception that keeps only this text.
OUT_OF_SPACE_TEXTS = tuple(dict.fromkeys(
    [os.strerror(code) for code in sorted(OUT_OF_SPACE_ERRNOS)]
    + ["No space left on device", "Disk quota exceeded"]))
#: torch.save writes through C++ (``PyTorchStreamWriter``), which reports a short write as a
#: RuntimeError with no errno; on a local disk a short write is a full disk.
TORCH_SHORT_WRITE = ("unexpected pos", "PytorchStreamWriter failed")


class NoSpaceError(RuntimeError):
    """The workdir's filesystem is full: the run stops, the same command resumes it."""


class WorkdirError(RuntimeError):
    """The workdir cannot be written (read-only, no permission): said before any stage runs."""


def is_out_of_space(error: BaseException) -> bool:
    """Whether ``error`` or an exception it was raised from is a full filesystem.

    Every exception of the chain counts (``__cause__`` and ``__context__``, both followed): an
    OSError whose errno is in :data:`OUT_OF_SPACE_ERRNOS`, or one with no errno (a library
    flattened the OSError) whose message holds one of :data:`OUT_OF_SPACE_TEXTS`, matched
    case-insensitively, or a RuntimeError with torch's :data:`TORCH_SHORT_WRITE`. An OSError
    with another errno is that other error, whatever its text.

    Example::

        is_out_of_space(Exception("No space left on device (os error 28)"))   # True (tokenizers)
        is_out_of_space(OSError(errno.EACCES, "Permission denied"))          # False
    """
    seen: set[int] = set()
    chain: list[BaseException | None] = [error]
    while chain:
        current = chain.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        code = current.errno if isinstance(current, OSError) else None
        if code in OUT_OF_SPACE_ERRNOS or (code is None and _says_out_of_space(current)):
            return True
        chain += [current.__context__, current.__cause__]
    return False


def _says_out_of_space(error: BaseException) -> bool:
    """Whether the message of ``error`` is the OS's words for a full filesystem, or torch's short write."""
    message = str(error)
    folded = message.casefold()
    if any(text.casefold() in folded for text in OUT_OF_SPACE_TEXTS):
        return True
    return isinstance(error, RuntimeError) and any(text in message for text in TORCH_SHORT_WRITE)


@contextmanager
def out_of_space_stops(where: Path, doing: str) -> Iterator[None]:
    """Turn a full-filesystem error raised inside into one :class:`NoSpaceError`."""
    try:
        yield
    except NoSpaceError:
        raise
    except Exception as error:
        if not is_out_of_space(error):
            raise
        raise NoSpaceError(
            f"no space left on the device of {where} while {doing} ({type(error).__name__}: "
            f"{error}). Free space there (or use a --workdir on a larger disk) and run the same "
            f"command again: finished stages are kept, and a training resumes from its last "
            f"complete checkpoint") from error


def check_writable(workdir: Path, *folders: str) -> None:
    """Create ``workdir`` if needed; create and delete a file in it and in its existing ``folders``.

    Probing by creating a file (not by ``os.access`` or the mode bits) gives the answer the run
    would get, also as root, on a read-only mount and under ACLs.

    Raises:
        WorkdirError: a directory cannot be created or written.
    """
    root = where = Path(workdir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        for where in [root, *(root / name for name in folders)]:
            if where.is_dir():
                with tempfile.TemporaryFile(dir=where, prefix=".write-probe-"):
                    pass
    except OSError as error:
        inside = "" if where == root else f"{where.name}/ in "
        raise WorkdirError(
            f"{inside}workdir {root} is not writable ({error.strerror or error}): the run writes "
            f"its cache and results there; fix its permissions or choose another --workdir") from error


def process_umask() -> int:
    """The umask of this process: from /proc on Linux, else by setting it and putting it back."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(folder: Path) -> None:
    """Give everything under ``folder`` the mode a plain ``open``/``mkdir`` would under the umask.

    Some writers create files 0600 whatever the umask (safetensors' ``save_file``, which
    ``save_pretrained`` uses for weights), and ``tempfile.mkdtemp`` makes directories 0700, so
    on a shared workdir other users could not read the weights while they read everything
    else. Files get 0666 minus the umask (execute bits kept), directories 0777 minus it.
    """
    umask = process_umask()
    for path in Path(folder).rglob("*"):
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        wanted = (0o777 if path.is_dir() else (mode & 0o111) | 0o666) & ~umask
        if mode != wanted:
            path.chmod(wanted)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:  # a full disk, a kill: no temporary file left behind
        tmp.unlink(missing_ok=True)
        raise
