"""The target tokenizer: stage 1's SentencePiece vocabulary in the backbone's conventions.

Example::

    backbone = AutoTokenizer.from_pretrained("xlm-roberta-base")
    target = build_target_tokenizer(Path("spm.model"), backbone)
    target("ሰላም ዓለም")["input_ids"]        # <s> ... </s>, as the backbone frames text
    target.save_pretrained("tokenizer/")     # AutoTokenizer.from_pretrained("tokenizer/") loads it

The ordinary vocabulary is the SentencePiece model's pieces, tokenized exactly as SentencePiece
does (Unigram model, the model's own normalisation rules, ``▁`` word-boundary marker). What the
model around the tokenizer expects comes from the backbone: the same special-token strings
(placed first, in the backbone's id order) and the same framing of a text or a text pair, found
by asking the backbone's ``build_inputs_with_special_tokens`` to frame placeholder sequences.
So XLM-R gives ``<s> X </s>``, BERT ``[CLS] X [SEP]``, GPT-2 ``X`` and mBART ``X </s> <lang>``
(its source-language code, as mBART's own tokenizer does).

Where the backbone lacks a role (decisions of this harness, the paper is silent):

- ``unk``: the backbone's unknown token, unless it has none or it doubles as another special
  token (GPT-2's ``<|endoftext|>``); then SentencePiece's own unknown piece (``<unk>``), so
  that unknown characters do not read as end of text.
- ``pad``: the backbone's, else its ``eos`` (GPT-2 convention), else a new ``<pad>``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tokenizers import (
    AddedToken,
    Tokenizer,
    processors,
)
from transformers import PreTrainedTokenizerBase, PreTrainedTokenizerFast

from harness.methods.unibridge.overlap import ROLES
from harness.models.spm import UNIGRAM, read_spm_model, unigram_backend

log = logging.getLogger(__name__)

_PLACEHOLDER_A, _PLACEHOLDER_B = -1, -2


def build_target_tokenizer(spm_model: Path,
                           backbone_tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerFast:
    """Build a fast tokenizer with ``spm_model``'s pieces and ``backbone_tokenizer``'s conventions.

    Args:
        spm_model: SentencePiece unigram model from stage 1 (``spm.model``).
        backbone_tokenizer: the backbone's tokenizer (fast or slow), whose special tokens and
            framing of text the result copies.

    Returns:
        A :class:`PreTrainedTokenizerFast` that round-trips through ``save_pretrained`` and
        ``AutoTokenizer.from_pretrained``.

    """
    spm = read_spm_model(spm_model)
    if spm.model_type != UNIGRAM:
        raise ValueError(f"{spm_model}: expected a SentencePiece unigram model, "
                         f"got model_type {spm.model_type}")
    roles = special_roles(backbone_tokenizer, spm.unk_piece)
    specials = _special_tokens(backbone_tokenizer, roles)
    tokenizer = unigram_backend(spm, specials, roles["unk_token"])
    tokenizer.post_processor = _post_processor(backbone_tokenizer, tokenizer)
    extra = [token.content for token in specials if token.content not in roles.values()]
    log.info("target tokenizer: %d tokens, %d of them special", tokenizer.get_vocab_size(),
             len(specials))
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, **roles, additional_special_tokens=extra,
        model_max_length=backbone_tokenizer.model_max_length,
        padding_side=backbone_tokenizer.padding_side,
        model_input_names=list(backbone_tokenizer.model_input_names),
    )


def special_roles(backbone: PreTrainedTokenizerBase, spm_unk: str) -> dict[str, str]:
    """Role -> token string for the target tokenizer (see the module docstring for unk and pad)."""
    roles = {role: str(getattr(backbone, role)) for role in ROLES
             if getattr(backbone, role) is not None}
    others = {token for role, token in roles.items() if role != "unk_token"}
    if roles.get("unk_token") in (None, *others):
        roles["unk_token"] = spm_unk
    if "pad_token" not in roles:
        roles["pad_token"] = roles.get("eos_token", "<pad>")
    return roles


def _special_tokens(backbone: PreTrainedTokenizerBase, roles: dict[str, str]) -> list[AddedToken]:
    """All special tokens, backbone ones first in id order, keeping their strip/normalise flags."""
    added = {token.content: token for token in backbone.added_tokens_decoder.values()}
    ordered = sorted(backbone.all_special_tokens, key=backbone.convert_tokens_to_ids)
    names = list(dict.fromkeys(ordered + list(roles.values())))
    return [_as_special(added.get(name, name)) for name in names]


def _as_special(token: AddedToken | str) -> AddedToken:
    if isinstance(token, str):
        return AddedToken(token, special=True, normalized=False)
    return AddedToken(token.content, single_word=token.single_word, lstrip=token.lstrip,
                      rstrip=token.rstrip, normalized=False, special=True)


def _post_processor(backbone: PreTrainedTokenizerBase,
                    target: Tokenizer) -> processors.PostProcessor:
    """Frame one text and a pair as the backbone does, with ids of the target vocabulary."""
    single = _template(backbone, [_PLACEHOLDER_A], None)
    pair = _template(backbone, [_PLACEHOLDER_A], [_PLACEHOLDER_B])
    used = {piece.split(":")[0] for piece in (single + " " + pair).split()} - {"$A", "$B"}
    return processors.TemplateProcessing(
        single=single, pair=pair,
        special_tokens=[(token, target.token_to_id(token)) for token in sorted(used)])


def _template(backbone: PreTrainedTokenizerBase, ids_a: list[int], ids_b: list[int] | None) -> str:
    """Frame placeholder ids with the backbone and write the result as a template string."""
    framed = backbone.build_inputs_with_special_tokens(ids_a, ids_b)
    types = backbone.create_token_type_ids_from_sequences(ids_a, ids_b)
    if len(types) != len(framed):  # tokenizers without token types
        types = [0] * len(framed)
    pieces = []
    for token_id, type_id in zip(framed, types, strict=True):
        if token_id == _PLACEHOLDER_A:
            pieces.append(f"$A:{type_id}")
        elif token_id == _PLACEHOLDER_B:
            pieces.append(f"$B:{type_id}")
        else:
            pieces.append(f"{backbone.convert_ids_to_tokens(token_id)}:{type_id}")
    return " ".join(pieces)
