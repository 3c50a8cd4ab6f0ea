"""The workdir's filesystem: writable before anything runs, full disks, file modes.

Example::

    check_writable(workdir)                       # WorkdirError before any stage, not a traceback
    with out_of_space_stops(workdir, "writing results.jsonl"):
        aggregate(workdir)                        # ENOSPC -> one NoSpaceError naming both
    follow_umask(artifact_dir)                    # 0600 files from safetensors -> 0644 (umask 022)

A full disk stops the run (every later stage would fail the same way, each with a different
library's message) with one :class:`NoSpaceError` naming the directory and what was being
written; the writer's partial files are removed by their owners (the stage's temporary
directory, :func:`harness.graph.atomic_write_text`'s temporary file), checkpoints cut off by it are
discarded on resume, so the same command resumes to the same records once space is freed.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: errno values that mean "the filesystem is full": no space, or the user's quota.
OUT_OF_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: torch.save writes through C++ (``PyTorchStreamWriter``), which reports a short write as a
#: RuntimeError with no errno; on a local disk a short write is a full disk.
TORCH_SHORT_WRITE = ("unexpected pos", "PytorchStreamWriter failed")


class NoSpaceError(RuntimeError):
    """The workdir's filesystem is full: the run stops, the same command resumes it."""


class WorkdirError(RuntimeError):
    """The workdir cannot be written (read-only, no permission): said before any stage runs."""


def is_out_of_space(error: BaseException) -> bool:
    """Whether ``error`` or an exception it was raised from is a full filesystem."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in OUT_OF_SPACE_ERRNOS:
            return True
        if isinstance(current, RuntimeError) and any(s in str(current) for s in TORCH_SHORT_WRITE):
            return True
        current = current.__cause__ or current.__context__
    return False


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


def check_writable(workdir: Path) -> None:
    """Create ``workdir`` if needed and create and delete a file in it.

    Probing by creating a file (not by ``os.access`` or the mode bits) gives the answer the run
    would get, also as root, on a read-only mount and under ACLs.

    Raises:
        WorkdirError: the directory cannot be created or written.
    """
    try:
        Path(workdir).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=workdir, prefix=".write-probe-"):
            pass
    except OSError as error:
        raise WorkdirError(
            f"workdir {workdir} is not writable ({error.strerror or error}): the run writes its "
            f"cache and results there; fix its permissions or choose another --workdir") from error


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
    """Give every file under ``folder`` the mode a plain ``open`` would: 0666 minus the umask.

    Some writers create files 0600 whatever the umask (safetensors' ``save_file``, which
    ``save_pretrained`` uses for weights), so on a shared workdir other users could not read the
    weights while they can read everything else. Execute bits are left as they are.
    """
    wanted = 0o666 & ~process_umask()
    for path in Path(folder).rglob("*"):
        if path.is_file() and not path.is_symlink():
            mode = path.stat().st_mode & 0o777
            if mode & 0o666 != wanted:
                path.chmod((mode & 0o111) | wanted)
