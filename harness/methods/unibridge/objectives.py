"""Language-modelling objectives of stage 3, one per architecture family, and corpus encoding.

Example::

    examples = encode_corpus(lines, tokenizer, max_length=128)     # features + teacher text
    collator = AdaptationCollator(objective_collator("xlmr", tokenizer, 0.15))
    batch = collator(examples[:8])      # input_ids, attention_mask, labels, example_index

Objectives (PAPER.md stage 3 says MLM; the paper's mGPT and mBART runs do not say more):

- ``xlmr``, ``bert``: masked LM, 15 % of the non-special tokens, BERT's 80/10/10 replacement
  (transformers' ``DataCollatorForLanguageModeling``).
- ``gpt2``: causal LM on the unmasked text.
- ``mbart``: denoising by token masking: 15 % of the non-special tokens of the encoder input are
  replaced by ``<mask>`` and the decoder reconstructs the whole original sequence, teacher-forced
  with mBART's shifted targets (the language code first). mBART's own pretraining used span
  infilling and sentence permutation; plain token masking keeps the objective comparable with
  MLM at the same mask probability.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase


EXAMPLE_INDEX = "example_index"


@dataclass(frozen=True)
class EncodedCorpus:
    """Model features of each kept line and the text span the model actually reads."""

    features: list[dict[str, Any]]
    texts: list[str]


def encode_corpus(lines: Sequence[str], tokenizer: PreTrainedTokenizerBase,
                  max_length: int) -> EncodedCorpus:
    """Tokenize ``lines`` (truncated to ``max_length``), dropping lines with no ordinary token.

    ``texts`` holds, for each kept line, its prefix that survived truncation (up to the end of
    its last token), so that the KL teacher reads the same text as the student.
    """
    encoding = tokenizer(list(lines), truncation=True, max_length=max_length,
                         return_special_tokens_mask=True, return_offsets_mapping=True)
    features, texts = [], []
    for row, line in enumerate(lines):
        offsets = encoding["offset_mapping"][row]
        end = max((stop for start, stop in offsets if stop > start), default=0)
        if end == 0:
            continue
        feature = {key: encoding[key][row] for key in encoding if key != "offset_mapping"}
        feature[EXAMPLE_INDEX] = len(features)
        features.append(feature)
        texts.append(line[:end])
    return EncodedCorpus(features, texts)


@dataclass
class TokenMaskingCollator:
    """mBART denoising: mask tokens of the encoder input, reconstruct the original sequence."""

    tokenizer: PreTrainedTokenizerBase
    mask_probability: float = 0.15

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """Pad, mask and build ``labels`` and ``decoder_input_ids``."""
        import torch
        from transformers.models.mbart.modeling_mbart import shift_tokens_right

        pad = self.tokenizer.pad_token_id
        batch = self.tokenizer.pad(
            [{"input_ids": f["input_ids"], "special_tokens_mask": f["special_tokens_mask"]}
             for f in features], return_tensors="pt")
        original = batch["input_ids"]
        keep = batch["special_tokens_mask"].bool() | (batch["attention_mask"] == 0)
        chance = torch.full(original.shape, self.mask_probability).masked_fill(keep, 0.0)
        masked = torch.bernoulli(chance).bool()
        labels = original.masked_fill(batch["attention_mask"] == 0, -100)
        return {
            "input_ids": original.masked_fill(masked, self.tokenizer.mask_token_id),
            "attention_mask": batch["attention_mask"],
            "labels": labels,
            "decoder_input_ids": shift_tokens_right(original, pad),
        }


def objective_collator(arch: str, tokenizer: PreTrainedTokenizerBase,
                       mask_probability: float) -> Callable[[list[dict]], dict]:
    """The collator implementing ``arch``'s objective (see the module docstring)."""
    from transformers import DataCollatorForLanguageModeling

    if arch in ("xlmr", "bert"):
        return DataCollatorForLanguageModeling(tokenizer, mlm=True,
                                               mlm_probability=mask_probability)
    if arch == "gpt2":
        return DataCollatorForLanguageModeling(tokenizer, mlm=False)
    if arch == "mbart":
        return TokenMaskingCollator(tokenizer, mask_probability)
    raise ValueError(f"no adaptation objective for arch {arch!r} (xlmr, bert, gpt2, mbart)")


@dataclass
class AdaptationCollator:
    """Applies an objective collator and passes each example's index along (for the KL teacher)."""

    objective: Callable[[list[dict]], dict]

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """The objective's batch plus ``example_index`` [batch]."""
        import torch

        index = torch.tensor([f[EXAMPLE_INDEX] for f in features])
        batch = self.objective([{k: v for k, v in f.items() if k != EXAMPLE_INDEX}
                                for f in features])
        batch[EXAMPLE_INDEX] = index
        return batch
