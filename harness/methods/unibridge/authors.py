"""The ``authors`` fidelity profile of UniBridge: the options their code sets (docs/fidelity.md).

The paper's numbers were produced by the authors' code, TokisakiKurumi2001/UniBridge at
:data:`AUTHORS_COMMIT` (the head of its ``dev`` branch; the same files are in
VinAIResearch/UniBridge), in two trees: ``xlm/`` (XLM-R) and ``mbert/`` (mBERT). Their code
differs from the paper's text in many places; each difference is an option of a stage config of
its own, whose default is the text's reading, and this module only gathers the values their
code sets, per tree. mGPT and mBART, which their code does not cover, take the ``xlm/`` values
(:func:`code_tree`).

Example::

    authors_preset("bert")["adaptation"]       # the mbert/ tree's stage-3 options
    UniBridge.fidelity_preset("authors", "xlmr") == authors_preset("xlmr")
"""

from __future__ import annotations

from typing import Any, Literal

from harness.methods.unibridge.adaptation import authors_options as adaptation_options
from harness.methods.unibridge.embedding_config import authors_options as embedding_options
from harness.methods.unibridge.inference import authors_options as inference_options
from harness.methods.unibridge.task_adapters import authors_options as task_adapter_options
from harness.methods.unibridge.vocab import authors_options as vocab_options

#: The commit of the authors' code the profile follows (docs/fidelity.md cites its lines).
AUTHORS_COMMIT = "6a38462b6598325894582ca163ded9a6a99d7c4a"
AUTHORS_REPOSITORY = "TokisakiKurumi2001/UniBridge"

#: One of the two trees of their repository.
CodeTree = Literal["xlm", "mbert"]


def code_tree(arch: str) -> CodeTree:
    """The tree of their code a backbone family follows: ``mbert/`` for BERT, else ``xlm/``."""
    return "mbert" if arch == "bert" else "xlm"


def authors_preset(arch: str) -> dict[str, Any]:
    """Overrides of :class:`UniBridgeConfig`'s defaults that their code sets on ``arch``."""
    tree = code_tree(arch)
    preset = {
        "vocab": vocab_options(tree),
        "embeddings": embedding_options(tree),
        "adaptation": adaptation_options(tree),
        "task_adapter": task_adapter_options(tree),
        "inference": inference_options(tree),
    }
    return {stage: options for stage, options in preset.items() if options}
