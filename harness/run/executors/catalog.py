"""Where every executor is registered: one line each, imported lazily (``--executor NAME``).

Example::

    from harness.run.executors.catalog import EXECUTORS
    EXECUTORS.get("local")()        # harness.run.executors.local.LocalExecutor

An executor is a :class:`harness.core.executor.Executor` subclass built with no arguments; a new
one is one module plus one line here, or a plugin (docs/extending.md section 6).
"""

from __future__ import annotations

from harness.core.registry import Registry

EXECUTORS: Registry = Registry("executor")
EXECUTORS.register_lazy("local", "harness.run.executors.local:LocalExecutor",
                        "stages one after another in this process")
EXECUTORS.register_lazy("ray", "harness.run.executors.ray_cluster:RayExecutor",
                        "stages as Ray tasks on a cluster sharing the workdir (the [ray] extra)")
