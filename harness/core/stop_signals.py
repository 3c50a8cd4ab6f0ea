"""Ctrl-C and SIGTERM as exceptions, and a stop that cannot be swallowed.

Example::

    with stop_requests():      # SIGTERM raises Terminated, Ctrl-C KeyboardInterrupt
        ...
        raise_pending_stop()   # at safe points: a stop whose exception was lost is raised here

Python runs a signal handler between two bytecodes of the main thread, wherever that thread is.
When it is inside a weakref callback, a ``__del__`` or a garbage-collector callback, the
handler's exception is printed as "Exception ignored in ..." and dropped, and the run would carry
on as though never asked to stop (it happened: a SIGTERM landed in ``WeakKeyDictionary``'s
callback and the run finished with exit code 0). So the handler also records the request, and
:func:`raise_pending_stop` raises it again at points where an exception always propagates:
before each stage (:meth:`harness.core.graph.Cache.materialize`), after each optimisation step
(:class:`harness.training.callbacks.StopAtPendingRequest`), after each recorded job and once the
executor is done (the last two in :func:`harness.run.runner.run_jobs`, so every caller of it
stops alike).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as a kind of Ctrl-C so that every cleanup path treats the two alike."""


#: The signal numbers received within :func:`stop_requests` (empty outside it).
_received: list[int] = []


def _stop(signum: int) -> KeyboardInterrupt:
    """The exception that stands for ``signum``."""
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _on_signal(signum, frame):
    _received.append(signum)
    raise _stop(signum)


@contextmanager
def stop_requests() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` and Ctrl-C KeyboardInterrupt."""
    _received.clear()
    previous = {signum: signal.signal(signum, _on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _received.clear()


def raise_pending_stop() -> None:
    """Raise the first stop received within :func:`stop_requests`, if any.

    A no-op when none was received, and in processes that never entered the block (Ray workers).
    """
    if _received:
        raise _stop(_received[0])
