"""Where every method is registered: one line each, imported lazily.

Example::

    from harness.methods.catalog import METHODS
    METHODS.names()                 # lists without importing torch
    METHODS.get("unibridge")        # imports harness.methods.unibridge.method now

Adding a method is one new module plus one line here (tables: :mod:`harness.report.catalog`;
executors: :mod:`harness.run.executors.catalog`). Backbones are registered in
:mod:`harness.models.backbone_specs`, tasks in :mod:`harness.tasks.specs` (both are small
tables, not code). From outside the repository, entries come from plugins
(:mod:`harness.plugins`, docs/extending.md).
"""

from __future__ import annotations

from harness.core.registry import Registry

METHODS: Registry = Registry("method")
METHODS.register_lazy("zero_shot", "baselines.zero_shot:ZeroShot",
                      "fine-tune the whole backbone on the source languages (baseline)")
METHODS.register_lazy("mad_x", "baselines.mad_x:MadX",
                      "MAD-X: language adapters (with invertible adapters) and a task adapter (baseline)")
METHODS.register_lazy("unibridge", "harness.methods.unibridge.method:UniBridge",
                      "UniBridge: searched vocabulary, aligned embeddings, KL, multi-source")
METHODS.register_lazy("unibridge_no_kl", "harness.methods.unibridge.method:UniBridgeNoKL",
                      "ablation: UniBridge without the KL term (β = 0)")
METHODS.register_lazy("unibridge_no_embedding_init",
                      "harness.methods.unibridge.method:UniBridgeNoEmbeddingInit",
                      "ablation: UniBridge with Xavier-random new embeddings")
METHODS.register_lazy("unibridge_no_vocab_search", "harness.methods.unibridge.method:UniBridgeNoVocabSearch",
                      "ablation: UniBridge with a fixed 10K vocabulary")
METHODS.register_lazy("unibridge_no_multi_source", "harness.methods.unibridge.method:UniBridgeNoMultiSource",
                      "ablation: UniBridge with the English task adapter only")
METHODS.register_lazy("unibridge_uniform_weights", "harness.methods.unibridge.method:UniBridgeUniformWeights",
                      "variant: UniBridge weighting every source equally")
METHODS.register_lazy("unibridge_lang2vec", "baselines.lang2vec_weights:UniBridgeLang2Vec",
                      "UniBridge with lang2vec distances as source weights (Tables 14-15)")
METHODS.register_lazy("focus", "baselines.focus:Focus",
                      "FOCUS embedding initialisation in place of UniBridge's own (Tables 21-22)")
METHODS.register_lazy("extend", "baselines.extend:Extend",
                      "EXTEND: extended mBERT vocabulary, MLM pretraining, fine-tuning (Table 19)")
