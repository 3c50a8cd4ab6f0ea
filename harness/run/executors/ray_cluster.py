"""Run stages as Ray tasks, on a local Ray instance or an existing cluster.

Example::

    unibridge-bench run suites/wikiann.yaml --executor ray --device cuda
    RAY_ADDRESS=ray://head:10001 unibridge-bench run suites/wikiann.yaml --executor ray

    failures = RayExecutor(max_retries=2).execute(stages, cache, ctx, on_done)

Every pending stage becomes one task, submitted up front with the object refs of its pending
inputs as arguments: Ray starts a stage only once its inputs exist and runs independent stages
(other languages, seeds, methods) side by side. Each task asks for ``cpus_per_stage`` CPUs and,
when the run is on CUDA and the stage puts a model on the device (:attr:`Stage.uses_device`),
one GPU; vocabulary search, FastText and the corpus stages ask for CPUs only.

The task is :meth:`Cache.materialize` itself, so the content-addressed cache, its per-stage lock
and its atomic publish behave as in a local run and the artifacts are the same: the workdir must
be on a filesystem that every node mounts at the same path. A task whose worker dies (a lost
node, a process killed for memory) is retried up to ``max_retries`` times and resumes from the
stage's last checkpoint; an exception raised by the stage's code is not retried, since it would
raise again. ``on_done`` runs in the driver, in the order stages finish.

Ray is an optional extra (``pip install 'unibridge-bench[ray]'``), imported only when this
executor runs. Without ``RAY_ADDRESS`` and without an initialised Ray, a local instance is
started for the run and stopped after it. Connecting to ``RAY_ADDRESS`` takes at most about
:data:`RAY_CONNECT_TIMEOUT_S` (Ray's own default tries for some 13 minutes); a cluster that does
not answer, or a Ray that cannot start, stops the run with one message of the harness's own
(which address, what to do), Ray's log lines and tracebacks shown only with ``-v``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from harness.core.executor import (
    Executor,
    ExecutorUnavailableError,
    Failure,
    failed_input,
    failure_reason,
    split_cached,
)
from harness.core.graph import Cache, Stage, StageContext
from harness.core.workdir import NoSpaceError
from harness.run.executors.workers import Quietness

log = logging.getLogger(__name__)


#: Seconds connecting to an existing Ray cluster (``RAY_ADDRESS``) may take before the run stops
#: with one message. A live cluster answers within a second; Ray's own defaults try 20 times
#: for about 40 s each against an address where nothing listens. See docs/choices.md, "Timeouts".
RAY_CONNECT_TIMEOUT_S = 30


class RayConnectionError(ExecutorUnavailableError):
    """Ray could not connect to ``RAY_ADDRESS`` or start a local instance (one message, no traceback)."""


def connect_settings(timeout: float) -> dict[str, str]:
    """Ray's settings (environment variables) that bound connecting to a cluster to ``timeout`` s.

    One try of Ray's connect loop (``RAY_gcs_server_port_wait_time_s``; 20 by default) whose
    three waits (the GCS connection, its pubsub channel, the cluster id) take a third each.
    Example::

        connect_settings(30) == {"RAY_gcs_server_port_wait_time_s": "1",
                                 "RAY_gcs_rpc_server_connect_timeout_s": "10",
                                 "RAY_py_gcs_connect_timeout_s": "10"}
    """
    step = str(max(1, round(timeout / 3)))
    return {"RAY_gcs_server_port_wait_time_s": "1", "RAY_gcs_rpc_server_connect_timeout_s": step,
            "RAY_py_gcs_connect_timeout_s": step}


@contextlib.contextmanager
def _environment(settings: dict[str, str]):
    """Set those of ``settings`` the user did not set; restore the environment afterwards."""
    added = {name: value for name, value in settings.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@contextlib.contextmanager
def _stderr_aside(aside: bool):
    """Send this process's stderr (file descriptor 2: Ray's C++ lines too) to a file meanwhile.

    What was written is logged at DEBUG afterwards; with ``aside`` False nothing changes.
    """
    if not aside:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            said = held.read().decode("utf-8", "replace").strip()
            if said:
                log.debug("Ray said while connecting:\n%s", said)


def start_ray() -> tuple[Any, bool]:
    """Import Ray and, unless it is initialised, ``ray.init`` it bounded and quiet.

    Returns Ray and whether this call initialised it (then the caller shuts it down). With
    ``RAY_ADDRESS`` set the connection takes at most about :data:`RAY_CONNECT_TIMEOUT_S`
    (:func:`connect_settings`, set before Ray is imported: its C++ core reads them then), and
    below ``-v`` Ray's own lines are set aside. Example::

        RAY_ADDRESS=127.0.0.1:6399 unibridge-bench run suites/smoke.yaml --executor ray
        Error: --executor ray: no Ray cluster answered at 127.0.0.1:6399 (RAY_ADDRESS) within 30 s …

    Raises:
        ExecutorUnavailableError: Ray is not installed.
        RayConnectionError: no cluster answered at ``RAY_ADDRESS``, or Ray could not start.
    """
    address = os.environ.get("RAY_ADDRESS", "").strip()
    verbose = log.isEnabledFor(logging.INFO)
    settings = connect_settings(RAY_CONNECT_TIMEOUT_S) if address else {}
    with _environment(settings):
        ray = _import_ray()
        if ray.is_initialized():
            return ray, False
        try:
            with _stderr_aside(bool(address) and not verbose):
                ray.init(logging_level=logging.INFO if verbose else logging.ERROR)
        except Exception as error:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ...
            log.info("ray.init failed", exc_info=True)
            with contextlib.suppress(Exception):
                ray.shutdown()
            raise _connection_error(address, failure_reason(error)) from error
    return ray, True


def _connection_error(address: str, reason: str) -> RayConnectionError:
    """The one message for a failed ``ray.init``: which address, what to do."""
    if address:
        return RayConnectionError(
            f"--executor ray: no Ray cluster answered at {address} (RAY_ADDRESS) within "
            f"{RAY_CONNECT_TIMEOUT_S} s ({reason}). Start the cluster there or correct RAY_ADDRESS "
            f"(`ray status --address {address}` checks it), unset RAY_ADDRESS to start a local "
            f"Ray instance, or use --executor local; -v shows Ray's own messages.")
    return RayConnectionError(f"--executor ray: Ray could not start a local instance ({reason}); "
                              f"-v shows Ray's own messages, or use --executor local.")


def _import_ray():
    try:
        import ray
    except ImportError as error:
        raise ExecutorUnavailableError(
            "--executor ray needs Ray, which is not installed: "
            "pip install 'unibridge-bench[ray]' (or use --executor local)") from error
    return ray


def _materialize(cache_root: str, pickled_stage: bytes, ctx: StageContext, quietness: Quietness,
                 included: tuple[str, ...], *ready_inputs: str) -> str:
    """The body of one Ray task: build the stage (its inputs exist) and return its artifact path.

    ``ready_inputs`` are the input tasks' results; Ray passes them only once they succeeded.
    The stage comes pickled and is unpickled only once the driver's plugins are loaded here
    (``included``: its ``--include`` and suite ``include:`` folders; installed packages' entry
    points are found as in the driver), so that a stage class of an included module and the
    plugins' registry entries exist in the worker too.
    """
    from ray import cloudpickle

    from harness.plugins.loading import activate

    quietness.apply()
    activate([Path(folder) for folder in included])
    stage: Stage = cloudpickle.loads(pickled_stage)
    cache = Cache(Path(cache_root))
    return str(cache.materialize(stage, replace(ctx, cache=cache)))


class RayExecutor(Executor):
    """Stages as Ray tasks with resource requests; see the module docstring."""

    def __init__(self, keep_going: bool = True, max_retries: int = 2, cpus_per_stage: float = 1,
                 gpus_per_stage: float = 1):
        self.keep_going = keep_going
        self.max_retries = max_retries
        self.cpus_per_stage = cpus_per_stage
        self.gpus_per_stage = gpus_per_stage

    def resources(self, stage: Stage, device: str) -> dict[str, Any]:
        """Ray task options for ``stage``: CPUs always, a GPU for a device stage on CUDA."""
        gpus = self.gpus_per_stage if stage.uses_device and device == "cuda" else 0
        return {"num_cpus": self.cpus_per_stage, "num_gpus": gpus, "max_retries": self.max_retries,
                "retry_exceptions": False, "name": stage.label}

    def execute(self, stages: Sequence[Stage], cache: Cache, ctx: StageContext,
                on_done: Callable[[Stage], None]) -> list[Failure]:
        """Submit every pending stage, then collect them as they finish; see :class:`Executor`."""
        ray, started = start_ray()  # Ray's own start-up notices only with -v
        try:
            return self._run(ray, stages, cache, ctx, on_done)
        finally:
            if started:
                ray.shutdown()

    def _submit(self, ray, pending: list[Stage], cache: Cache, ctx: StageContext) -> dict:
        """One task per stage, inputs' refs as arguments; returns ref -> stage, in stage order."""
        from harness.plugins.loading import included_folders

        task = ray.remote(_materialize)
        worker_ctx = replace(ctx, cache=None, progress=False)  # bars of parallel tasks would interleave
        root, quietness = str(cache.root.resolve()), Quietness.of_this_process()
        included = tuple(str(folder) for folder in included_folders())
        refs: dict[str, Any] = {}
        for stage in pending:
            inputs = [refs[s.key] for s in stage.inputs.values() if s.key in refs]
            options = self.resources(stage, ctx.device)
            pickled = ray.cloudpickle.dumps(stage)
            refs[stage.key] = task.options(**options).remote(root, pickled, worker_ctx, quietness,
                                                             included, *inputs)
        return dict(zip(refs.values(), pending))

    def _run(self, ray, stages, cache, ctx, on_done) -> list[Failure]:
        pending = split_cached(stages, cache, on_done)
        stage_of = self._submit(ray, pending, cache, ctx)
        waiting = list(stage_of)  # in stage order: of two finished at once, the input comes first
        failed: dict[str, Failure] = {}
        try:
            with tqdm(total=len(waiting), desc="stages", unit="stage", disable=not ctx.progress) as bar:
                while waiting:
                    [ref], waiting = ray.wait(waiting, num_returns=1)
                    self._collect(ray, ref, stage_of[ref], failed, on_done)
                    bar.update()
        except BaseException:  # interrupted or not keep_going: stop what is still queued or running
            for ref in waiting:
                ray.cancel(ref, force=True)
            raise
        return list(failed.values())

    def _collect(self, ray, ref, stage: Stage, failed: dict[str, Failure],
                 on_done: Callable[[Stage], None]) -> None:
        """Record the outcome of one finished task."""
        try:
            ray.get(ref)
        except ray.exceptions.RayError as error:
            cause = getattr(error, "cause", None) or error
            if not self.keep_going or isinstance(cause, NoSpaceError):
                raise cause from error
            failure = failed_input(stage, failed)
            if failure is None:
                log.info("%s failed: %s", stage.title, error)  # the summary says it once
                failure = Failure(stage, failure_reason(cause))
            failed[stage.key] = failure
            return
        log.info("finished %s", stage.label)
        on_done(stage)
