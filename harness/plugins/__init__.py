"""Plugins: methods, tables, backbones and tasks from outside the repository.

Two ways in (docs/extending.md walks through both):

* **An installed package** declares Python entry points, one per entry, in the groups of
  :data:`harness.plugins.registries.REGISTRIES` (``unibridge_bench.methods``,
  ``unibridge_bench.tables``, ``unibridge_bench.backbones``, ``unibridge_bench.tasks``); the
  entry point's name is the registered name and its value the object
  (``softmax_temp = "unibridge_softmax_temp.method:TemperedUniBridge"``).
* **An included folder** (``--include DIR`` on the commands, or the suite key ``include:``)
  holds modules, each with a module-level hook ``register(registries)``; ``registries.methods``,
  ``registries.tables``, ... register with ``register(name, obj, description=None)`` or as a
  decorator ``@registries.methods.decorator("name")``.

Everything is loaded by :func:`harness.plugins.loading.activate`, which the commands call once
they know the suite (never at import: ``--help`` stays light). A plugin that fails to import,
shadows a built-in name or declares an entry that cannot work (:mod:`harness.plugins.checks`)
becomes one :class:`~harness.plugins.loading.PluginError` naming the plugin, raised before
anything trains. :mod:`harness.core.origins` remembers where each entry came from (``list``
prints it) and stamps the stage cache keys of plugin code (:meth:`harness.core.graph.Stage.key`).

This package's ``__init__`` imports nothing: :mod:`harness.core.graph` reads
:mod:`harness.core.origins` on every key, and must not pull in the registries.
"""
