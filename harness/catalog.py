"""Where every method and table is registered: one line each, imported lazily.

Example::

    from harness.catalog import METHODS
    METHODS.names()                 # lists without importing torch
    METHODS.get("unibridge")        # imports harness.unibridge.method now

Adding a method or a table is one new module plus one line here. Backbones are registered in
:mod:`harness.backbones`, tasks in :mod:`harness.tasks` (both are small tables, not code).
"""

from __future__ import annotations

from harness.registry import Registry
from harness.report.specs import TABLE_SPECS

METHODS: Registry = Registry("method")
METHODS.register_lazy("zero_shot", "baselines.zero_shot:ZeroShot")
METHODS.register_lazy("mad_x", "baselines.mad_x:MadX")
METHODS.register_lazy("unibridge", "harness.unibridge.method:UniBridge")
METHODS.register_lazy("unibridge_no_kl", "harness.unibridge.method:UniBridgeNoKL")
METHODS.register_lazy("unibridge_no_embedding_init", "harness.unibridge.method:UniBridgeNoEmbeddingInit")
METHODS.register_lazy("unibridge_no_vocab_search", "harness.unibridge.method:UniBridgeNoVocabSearch")
METHODS.register_lazy("unibridge_no_multi_source", "harness.unibridge.method:UniBridgeNoMultiSource")
METHODS.register_lazy("unibridge_uniform_weights", "harness.unibridge.method:UniBridgeUniformWeights")
METHODS.register_lazy("unibridge_lang2vec", "baselines.lang2vec_weights:UniBridgeLang2Vec")
METHODS.register_lazy("focus", "baselines.focus:Focus")
METHODS.register_lazy("extend", "baselines.extend:Extend")

TABLES: Registry = Registry("table")
TABLES.register_lazy("results", "harness.report.tables:results_table")
for _spec in TABLE_SPECS:  # the paper's Tables 1–23: declarations in harness.report.specs
    TABLES.register(_spec.name, _spec)

EXECUTORS: Registry = Registry("executor")
EXECUTORS.register_lazy("local", "harness.executors.local:LocalExecutor")
EXECUTORS.register_lazy("ray", "harness.executors.ray_cluster:RayExecutor")  # needs the [ray] extra
