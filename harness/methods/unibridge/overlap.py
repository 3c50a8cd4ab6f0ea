"""Eq. 2's lexical overlap O^L = V^T ∩ V^S across word-boundary conventions.

Example::

    pairs = lexical_overlap(target_tokenizer, source_tokenizer)   # [(target_id, source_id), ...]
    folded = casefold_overlap(target_tokenizer, source_tokenizer, [t for t, _ in pairs])

Tokenizers mark word boundaries differently: SentencePiece writes ``▁word`` for a word-initial
piece and ``word`` for a continuation; WordPiece writes ``word`` (initial) and ``##word``
(continuation); byte-level BPE writes ``Ġword`` (initial: the ``Ġ`` is the space byte) with every
byte shown as a printable character of GPT-2's byte-to-unicode table, so ``ሰላም`` is stored as
``áĪ°áĪĭáĪĿ``. Every token is normalised to ``(is_word_initial, surface string)`` — byte-level
tokens are decoded to their UTF-8 text first, and a token that is not whole UTF-8 characters
(a piece of a multi-byte character) has no surface string — and tokens match when those pairs are
equal. Special tokens never match by string: they match the other tokenizer's special token of
the same role (``unk``, ``pad``, ``bos`` ...), or an additional special token of the same string
(e.g. mBART's language codes).

After the exact matches, :func:`casefold_overlap` matches the remaining target tokens
case-insensitively (``str.lower``), as the paper's authors do (FASE's ``fuzzy_search``; the
paper is silent):
``▁Addis`` in the target vocabulary copies ``▁addis`` of the source when the source has no
``▁Addis``. The word-initial flag must still agree. When several source tokens fold to the same
key (``▁the``, ``▁The``, ``▁THE``), the one with the lowest id wins: SentencePiece and BPE number
tokens by score or merge order, so that is the most frequent form (FASE keeps whichever string
sorts last, an accident of its dict building). A source token may serve several target tokens,
including one it already matched exactly (FASE does the same): the rows are copies, nothing is
lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from transformers import PreTrainedTokenizerBase, PreTrainedTokenizerFast
from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

log = logging.getLogger(__name__)

#: Special-token roles of a transformers tokenizer, matched role to role.
ROLES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
         "mask_token")
Key = tuple[bool, str]


@dataclass(frozen=True)
class Convention:
    """How a tokenizer marks word boundaries in its vocabulary.

    Attributes:
        kind: ``"metaspace"`` (SentencePiece-style prefix marker), ``"wordpiece"`` (continuation
            prefix), ``"bytelevel"`` (GPT-2 byte-level BPE) or ``"plain"`` (no marker: every
            token counts as a continuation).
        marker: the word-initial marker (``▁``) for metaspace, the continuation prefix (``##``)
            for wordpiece, empty otherwise.

    """

    kind: str
    marker: str = ""


def detect_convention(tokenizer: PreTrainedTokenizerFast) -> Convention:
    """Read the word-boundary convention from the fast tokenizer's pipeline definition."""
    if not isinstance(tokenizer, PreTrainedTokenizerFast):
        raise TypeError(f"lexical overlap needs fast tokenizers, got {type(tokenizer).__name__}")
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    parts = [spec.get("pre_tokenizer"), spec.get("decoder")]
    if _find(parts, "ByteLevel"):
        return Convention("bytelevel")
    metaspace = _find(parts, "Metaspace")
    if metaspace:
        return Convention("metaspace", metaspace.get("replacement", "\u2581"))
    prefix = spec["model"].get("continuing_subword_prefix")
    if prefix:
        return Convention("wordpiece", prefix)
    return Convention("plain")


def _find(node, type_name: str) -> dict | None:
    """Find the first component of type ``type_name`` in a (nested) tokenizer JSON node."""
    if isinstance(node, list):
        return next((hit for item in node if (hit := _find(item, type_name))), None)
    if isinstance(node, dict):
        if node.get("type") == type_name:
            return node
        return _find(list(node.values()), type_name)
    return None


def normalise_token(token: str, convention: Convention) -> Key | None:
    """``(is_word_initial, surface)`` of a vocabulary entry, or None if it has no text form."""
    if convention.kind == "metaspace":
        if token.startswith(convention.marker):
            return True, token[len(convention.marker):]
        return False, token
    if convention.kind == "wordpiece":
        if token.startswith(convention.marker) and len(token) > len(convention.marker):
            return False, token[len(convention.marker):]
        return True, token
    if convention.kind == "bytelevel":
        return _bytelevel_key(token)
    return False, token


def _bytelevel_key(token: str) -> Key | None:
    decoder = _unicode_to_bytes()
    try:
        raw = bytes(decoder[char] for char in token).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return None
    if raw.startswith(" "):
        return True, raw[1:]
    return False, raw


@cache
def _unicode_to_bytes() -> dict[str, int]:
    """Inverse of GPT-2's byte-to-unicode table."""
    return {char: byte for byte, char in bytes_to_unicode().items()}


def vocabulary_keys(tokenizer: PreTrainedTokenizerFast) -> dict[Key, int]:
    """Normalised key -> lowest token id with that key, over the non-special vocabulary."""
    convention = detect_convention(tokenizer)
    special = set(tokenizer.all_special_ids)
    keys: dict[Key, int] = {}
    for token, token_id in sorted(tokenizer.get_vocab().items(), key=lambda item: item[1]):
        if token_id in special:
            continue
        key = normalise_token(token, convention)
        if key is not None and (key[0] or key[1]):  # (True, "") is a bare "▁" or "Ġ"
            keys.setdefault(key, token_id)
    return keys


def special_pairs(target: PreTrainedTokenizerBase,
                  source: PreTrainedTokenizerBase) -> dict[int, int]:
    """Target special-token id -> source special-token id, by role, then by identical string."""
    pairs: dict[int, int] = {}
    for role in ROLES:
        t_token, s_token = getattr(target, role), getattr(source, role)
        if t_token is not None and s_token is not None:
            pairs.setdefault(target.convert_tokens_to_ids(str(t_token)),
                             source.convert_tokens_to_ids(str(s_token)))
    source_specials = dict(zip(source.all_special_tokens, source.all_special_ids, strict=True))
    for token, token_id in zip(target.all_special_tokens, target.all_special_ids, strict=True):
        if token in source_specials:
            pairs.setdefault(token_id, source_specials[token])
    return pairs


def lexical_overlap(target_tokenizer: PreTrainedTokenizerFast,
                    source_tokenizer: PreTrainedTokenizerFast) -> list[tuple[int, int]]:
    """Eq. 2's O^L: ``(target_id, source_id)`` pairs of the same token, sorted by target id.

    Ordinary tokens match on :func:`normalise_token` keys, special tokens by role
    (:func:`special_pairs`). Each target id appears once; each ordinary source id at most once,
    while one source special token may serve two target roles (GPT-2's ``<|endoftext|>`` is its
    eos, bos and unk).
    """
    pairs = special_pairs(target_tokenizer, source_tokenizer)
    source_keys = vocabulary_keys(source_tokenizer)
    taken = set(pairs.values())
    for key, target_id in vocabulary_keys(target_tokenizer).items():
        source_id = source_keys.get(key)
        if source_id is not None and source_id not in taken and target_id not in pairs:
            pairs[target_id] = source_id
            taken.add(source_id)
    log.info("lexical overlap: %d of %d target tokens", len(pairs), len(target_tokenizer))
    return sorted(pairs.items())


def casefold_overlap(target_tokenizer: PreTrainedTokenizerFast,
                     source_tokenizer: PreTrainedTokenizerFast,
                     matched: Iterable[int]) -> list[tuple[int, int]]:
    """Case-insensitive pairs for the target tokens not in ``matched``, sorted by target id.

    Keys are compared after ``str.lower`` of the surface string, as the authors' ``fuzzy_search``
    compares them (the word-initial flag is kept; ``str.casefold`` would also match ``ss`` to
    ``ß`` and ``ς`` to ``σ``, which theirs does not). Among source tokens with the same lowered
    key the lowest id wins; a source token may serve several target tokens (module docstring).
    Special tokens never match here.
    """
    folded: dict[Key, int] = {}
    for (initial, surface), source_id in sorted(vocabulary_keys(source_tokenizer).items(),
                                                key=lambda item: item[1]):
        folded.setdefault((initial, surface.lower()), source_id)
    matched = set(matched)
    pairs = []
    for (initial, surface), target_id in vocabulary_keys(target_tokenizer).items():
        source_id = folded.get((initial, surface.lower()))
        if source_id is not None and target_id not in matched:
            pairs.append((target_id, source_id))
    log.info("case-insensitive overlap: %d more target tokens", len(pairs))
    return sorted(pairs)
