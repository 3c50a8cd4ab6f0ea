"""What a worker process needs to build a stage as the driver would: quietness, plugins, the stage.

Example::

    quietness = Quietness.of_this_process()           # in the driver
    init_worker(quietness, included)                  # first thing in each worker
    build_stage(str(cache.root), pickle.dumps(stage), ctx)

Shared by the Ray executor (:mod:`harness.run.executors.ray_cluster`) and the local executor's
worker processes (:mod:`harness.run.executors.local`). A stage travels pickled and is unpickled
only once the driver's plugins are loaded in the worker (``included``: its ``--include`` and the
suite's ``include:`` folders; installed packages' entry points are found as in the driver), so
that a stage class of an included module and the plugins' registry entries exist there too.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from harness.core.graph import Cache, Stage, StageContext
from harness.core.threads import passive_waiting


@dataclass(frozen=True)
class Quietness:
    """The driver's logger levels and warning filters, repeated in each worker.

    So that a worker is as quiet as the driver: library chatter hidden unless ``-v`` asks for it.
    """

    levels: dict[str, int]
    warning_filters: tuple

    @classmethod
    def of_this_process(cls) -> Quietness:
        """The levels set on this process's loggers (root under "") and its warning filters."""
        loggers = logging.root.manager.loggerDict.items()
        levels = {name: logger.level for name, logger in loggers
                  if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET}
        return cls({"": logging.root.level, **levels}, tuple(warnings.filters))

    def apply(self) -> None:
        """Set the same levels and put the same warning filters first, in the same order."""
        for name, level in self.levels.items():
            logging.getLogger(name).setLevel(level)
        for action, message, category, module, line in reversed(self.warning_filters):
            warnings.filterwarnings(action, _pattern(message), category, _pattern(module), line)


def _pattern(text) -> str:
    """A warning filter's regex (compiled, a plain string, or None for any) as a string."""
    return getattr(text, "pattern", text) or ""


def init_worker(quietness: Quietness, included: tuple[str, ...], records=None) -> None:
    """Make a fresh worker process like the driver: wait policy, quietness, plugins.

    With ``records`` (a multiprocessing queue), every log record of the worker goes to it, for
    the driver's handlers to say (:func:`driver_says`): its format, its filters (each warning
    once, data shortfalls held for the run's summary), its place above the bars.
    """
    import signal

    from harness.plugins.loading import activate

    # Ctrl-C reaches the whole process group: the driver decides, and ends the workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    passive_waiting()  # before the worker imports torch, as the command line does
    if records is not None:
        from logging.handlers import QueueHandler

        logging.root.handlers[:] = [QueueHandler(records)]
    quietness.apply()
    activate([Path(folder) for folder in included])


@contextlib.contextmanager
def driver_says(records) -> Iterator[None]:
    """Meanwhile, the workers' log records in ``records`` go to this process's root handlers."""
    from logging.handlers import QueueListener

    listener = QueueListener(records, *logging.root.handlers, respect_handler_level=True)
    listener.start()
    try:
        yield
    finally:
        listener.stop()


def build_stage(cache_root: str, pickled_stage: bytes, ctx: StageContext) -> str:
    """Build one stage (its inputs exist) into the cache at ``cache_root``; its artifact path."""
    stage: Stage = pickle.loads(pickled_stage)
    cache = Cache(Path(cache_root))
    return str(cache.materialize(stage, replace(ctx, cache=cache)))
