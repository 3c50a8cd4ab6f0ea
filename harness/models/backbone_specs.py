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

    @property
    def description(self) -> str:
        """One line for ``unibridge-bench list``: the family and where the weights come from."""
        origin = f"Hugging Face {self.hub_id}" if self.hub_id else "random weights built here (tests, smoke)"
        return f"{self.arch} family; {origin}"

    @property
    def causal(self) -> bool:
        """Whether the backbone is a causal (left-to-right) model: mGPT. mBART tags with its encoder."""
        return self.arch in CAUSAL_ARCHS


BACKBONES: Registry[BackboneSpec] = Registry("backbone")
for _spec in (
    BackboneSpec("xlm-roberta-base", "xlmr", "xlm-roberta-base", tiny=False),
    BackboneSpec("bert-base-multilingual-cased", "bert", "bert-base-multilingual-cased", tiny=False),
    BackboneSpec("mgpt", "gpt2", "ai-forever/mGPT", tiny=False),
    BackboneSpec("mbart", "mbart", "facebook/mbart-large-cc25", tiny=False),
    BackboneSpec("tiny-xlmr", "xlmr", None, tiny=True),
    BackboneSpec("tiny-mbert", "bert", None, tiny=True),
    BackboneSpec("tiny-mgpt", "gpt2", None, tiny=True),
    BackboneSpec("tiny-mbart", "mbart", None, tiny=True),
):
    BACKBONES.register(_spec.name, _spec)
