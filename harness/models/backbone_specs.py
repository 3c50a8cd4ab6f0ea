"""The backbone registry: each backbone's architecture family and where its weights come from.

Example::

    BACKBONES.get("tiny-xlmr").arch          # "xlmr"
    BACKBONES.describe("mgpt")               # "gpt2 family; Hugging Face ai-forever/mGPT"

Kept free of pydantic and the engine so that ``unibridge-bench list`` reads it quickly; the
backbone stage, the tiny builders and declared backbones are in :mod:`harness.models.backbones`,
which re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.archs import Arch
from harness.core.registry import Registry

#: Families whose token states see only the tokens before them (tagging labels the last subword).
CAUSAL_ARCHS = frozenset({"gpt2"})


@dataclass(frozen=True)
class BackboneSpec:
    """A registered backbone: its architecture family and where its weights come from."""

    name: str
    arch: Arch
    hub_id: str | None
    tiny: bool
    #: The hub commit the weights and tokenizer are read at (None: the default branch, warned
    #: about at ``validate``); only for ``hub_id``, never for a ``pretrained:`` of a suite.
    revision: str | None = None
    #: Where the pin was seen in public (or why there is none): docs/data.md, "Backbones".
    evidence: str = ""

    @property
    def description(self) -> str:
        """One line for ``unibridge-bench list``: the family and where the weights come from."""
        origin = f"Hugging Face {self.hub_id}" if self.hub_id else "random weights built here (tests, smoke)"
        return f"{self.arch} family; {origin}"

    @property
    def causal(self) -> bool:
        """Whether the backbone is a causal (left-to-right) model: mGPT. mBART tags with its encoder."""
        return self.arch in CAUSAL_ARCHS


#: Changing a pin changes what a backbone stage reads while its key stays (the pin is kept out of
#: :class:`~harness.models.backbones.BackboneConfig`, so that the keys of workdirs made before the
#: pins hold): bump ``BackboneStage.version`` with it and rewrite tests/stage_keys.json on purpose.
#: Each pin is a commit id that public files name for that repository (an HF cache snapshot folder,
#: a /resolve/ or /blob/ URL, a pinned revision); docs/data.md lists them, with the date seen.
BACKBONES: Registry[BackboneSpec] = Registry("backbone")
for _spec in (
    # FacebookAI/xlm-roberta-base (the id xlm-roberta-base redirects there): public pins, cache
    # snapshot folders and /resolve/<commit>/sentencepiece.bpe.model URLs (seen 2026-12-07)
    BackboneSpec("xlm-roberta-base", "xlmr", "xlm-roberta-base", tiny=False,
                 revision="e73636d4f797dec63c3081bb6ed5c7b0bb3f2089",
                 evidence="FacebookAI/xlm-roberta-base@e73636d: pinned revision and "
                          "/resolve/<commit>/ URLs in public code, seen 2026-12-07"),
    # google-bert/bert-base-multilingual-cased (redirected from bert-base-multilingual-cased)
    BackboneSpec("bert-base-multilingual-cased", "bert", "bert-base-multilingual-cased", tiny=False,
                 revision="3f076fdb1ab68d5b2880cb87a0886f315b8146f8",
                 evidence="google-bert/bert-base-multilingual-cased@3f076fd: MODEL_REVISION pins "
                          "and models--google-bert--…/snapshots/<commit> paths in public code, "
                          "seen 2026-12-07"),
    BackboneSpec("mgpt", "gpt2", "ai-forever/mGPT", tiny=False,
                 revision="cb99dd42d3486c2ed9c14f92ed22e9bc7bbc6ac4",
                 evidence="ai-forever/mGPT@cb99dd4: models--ai-forever--mGPT/snapshots/<commit>/"
                          "pytorch_model.bin in public code, seen 2026-12-07"),
    BackboneSpec("mbart", "mbart", "facebook/mbart-large-cc25", tiny=False,
                 revision="e84f32f3b320dcc2ee3d0c0d257c978137d10c25",
                 evidence="facebook/mbart-large-cc25@e84f32f: /blob/<commit>/sentencepiece.bpe.model "
                          "links in public READMEs, seen 2026-12-07"),
    BackboneSpec("tiny-xlmr", "xlmr", None, tiny=True),
    BackboneSpec("tiny-mbert", "bert", None, tiny=True),
    BackboneSpec("tiny-mgpt", "gpt2", None, tiny=True),
    BackboneSpec("tiny-mbart", "mbart", None, tiny=True),
):
    BACKBONES.register(_spec.name, _spec)
