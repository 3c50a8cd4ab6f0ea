"""How many threads a stage computes with, and thread pools that sleep while they wait.

Example::

    usable_cpus()                      # 2 on a 2-core VM; 4 in a container given 4 CPUs of 64
    with stage_threads(stage) as count:    # 1 for a stage of a tiny backbone
        stage.run(...)                 # torch.get_num_threads() == count meanwhile

Contract:

* :func:`usable_cpus` is what this process may use: its CPU affinity (``taskset``, a batch
  scheduler's binding) and its cgroup quota (a container's ``--cpus``, a Kubernetes limit:
  cgroup v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``/``cpu.cfs_period_us``), never the machine's
  core count, which oversubscribes every shared node.
* :func:`threads_for` is the intra-op thread count of a stage: 1 for a stage whose backbone is
  a tiny one the harness builds (a tiny model gains nothing from a second thread and loses to
  its hand-offs: docs/benchmarks.md, "Threads"), :func:`usable_cpus` otherwise.
  ``UNIBRIDGE_THREADS=N`` sets N for every stage. A result depends on the count (a reduction
  split among more threads adds in another order), never on anything else about the machine:
  the same count gives the same bits, and the count is written into each stage's manifest and
  each job's record (``threads``).
* :func:`passive_waiting` makes the OpenMP pools of torch and of the BLAS libraries sleep when
  they wait instead of spinning (``OMP_WAIT_POLICY=PASSIVE``): a spinning thread burns a core
  another process on a shared machine needs. It must run before torch is imported (OpenMP
  reads its settings once); the command line calls it first thing. Values already in the
  environment win.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol


class Stage(Protocol):
    """What this module reads of a stage (:class:`harness.core.graph.Stage`, which imports it)."""

    kind: str
    config: Any
    inputs: Mapping[str, Any]

#: Environment variable that fixes every stage's thread count.
THREADS_ENV = "UNIBRIDGE_THREADS"
#: Where a process's cgroup (v2) and its v1 CPU controller are mounted.
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: What :func:`passive_waiting` sets when the environment does not say otherwise.
PASSIVE_WAITING = {
    "OMP_WAIT_POLICY": "PASSIVE",   # libgomp and Intel's OpenMP: sleep at once when idle
    "KMP_BLOCKTIME": "0",           # Intel's OpenMP: no spinning before sleeping
    "TOKENIZERS_PARALLELISM": "false",  # the Rust tokenizers' pool (after fork it would deadlock)
}


def passive_waiting() -> None:
    """Ask OpenMP and the tokenizers' pools to sleep rather than spin (see the module)."""
    for name, value in PASSIVE_WAITING.items():
        os.environ.setdefault(name, value)


def usable_cpus(cgroup_root: Path = CGROUP_ROOT) -> int:
    """The CPUs this process may use: min(affinity, cgroup quota), at least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows: no affinity call
        count = os.cpu_count() or 1
    quota = cgroup_quota(cgroup_root)
    if quota is not None:
        count = min(count, max(1, math.floor(quota)))
    return max(1, count)


def cgroup_quota(root: Path = CGROUP_ROOT) -> float | None:
    """The CPU quota of the cgroup, in CPUs (``200000 100000`` → 2.0); None when unlimited.

    Reads cgroup v2's ``cpu.max`` (``max 100000`` is unlimited), else v1's
    ``cpu/cpu.cfs_quota_us`` over ``cpu/cpu.cfs_period_us`` (a quota of -1 is unlimited).
    A file that is missing or says something else is no limit.
    """
    with contextlib.suppress(OSError, ValueError):
        quota, period = (root / "cpu.max").read_text(encoding="ascii").split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    with contextlib.suppress(OSError, ValueError):
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text(encoding="ascii"))
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text(encoding="ascii"))
        return None if quota <= 0 or period <= 0 else quota / period
    return None


class ThreadsSettingError(ValueError):
    """``UNIBRIDGE_THREADS`` holds something that is no thread count."""


def forced_threads() -> int | None:
    """The count ``UNIBRIDGE_THREADS`` sets for every stage, or None when it is unset.

    Raises:
        ThreadsSettingError: a value that is not a whole number from 1 (``run`` says it before
            planning anything).
    """
    return count_from_env(THREADS_ENV, "a thread count",
                          "1 for tiny backbones, else the usable CPUs", ThreadsSettingError)


def count_from_env(variable: str, what: str, unset: str, error: type[ValueError]) -> int | None:
    """The whole number from 1 that ``variable`` holds, or None when it is unset or blank.

    Raises:
        error: any other value, in one line naming the variable, the value and what is valid
            (``unset`` says what leaving it unset gives).
    """
    value = os.environ.get(variable, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise error(f"{variable}={value!r} is not {what}; valid: a whole number from 1, or unset "
                    f"({unset})")
    return int(value)


def threads_for(stage: Stage) -> int:
    """The intra-op thread count ``stage`` runs with (see the module)."""
    forced = forced_threads()
    if forced is not None:
        return forced
    return 1 if uses_tiny_backbone(stage) else usable_cpus()


def uses_tiny_backbone(stage: Stage) -> bool:
    """Whether ``stage`` builds on (or is) a tiny backbone the harness builds itself."""
    seen: set[int] = set()
    pending = [stage]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.kind == "backbone":
            spec = getattr(current.config, "spec", None)
            return bool(spec is not None and spec().tiny)
        pending.extend(current.inputs.values())
    return False


@contextlib.contextmanager
def stage_threads(stage: Stage) -> Iterator[int]:
    """Run the block with torch's intra-op threads at :func:`threads_for`; restore them after."""
    count = threads_for(stage)
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield count
    finally:
        torch.set_num_threads(before)
