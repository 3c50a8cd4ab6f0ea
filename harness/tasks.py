"""The three tasks: NER (WikiANN), POS (UD) and NLI (XNLI → AmericasNLI).

Example::

    task = get_task("ner")
    examples = task.load(source, "amh", "test")
    encoded = task.encode(examples, tokenizer, max_length=128)
    predictions = task.predict(encoded, logits)       # one logits tensor per example
    task.score(examples, predictions)                  # entity F1 in percent

Tagging choice (PAPER.md "NER scoring"): every word is labelled at one of its subwords, trained
and predicted there, and scored at word level, which keeps scores comparable across tokenizers.
Which subword (``subword`` of :meth:`TaskSpec.encode`, the suite's ``tasks.<task>.label_subword``,
resolved per backbone by :func:`label_subword`):

* encoder backbones (XLM-R, mBERT, and mBART, whose tagging head reads its encoder): the
  **first** subword, as XTREME does;
* causal backbones (mGPT; ``BackboneSpec.causal``): the **last** subword. A causal state sees
  only the tokens up to its own, and with a SentencePiece target tokenizer the first subword is
  often a bare ``▁`` (45 of the 55 test words of the Amharic fixture with the smoke suite's
  target tokenizer; none at the last subword): labelled there, the model has seen nothing of the
  word. At the last subword it has read the whole word.

``first`` or ``last`` may be forced for every backbone (``label_subword: first`` reproduces the
XTREME convention on mGPT). Training labels and predictions use the same positions
(:attr:`Encoded.word_positions`). Words are aligned to subwords through the fast tokenizer's
character offsets, so the same code serves SentencePiece, WordPiece and byte-level BPE without
tokenizer-specific flags. A word that lost all its subwords to truncation gets the task's
``fallback_label`` (``O`` for NER, ``X`` for POS); a word cut by truncation is labelled at its
last surviving subword under ``last``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from transformers import (
    DataCollatorForTokenClassification,
    DataCollatorWithPadding,
    PreTrainedTokenizerBase,
)

from harness.data.examples import NER_LABELS, NLI_LABELS, UPOS_LABELS
from harness.data.source import DataSource
from harness.metrics import accuracy, entity_f1
from harness.registry import Registry

#: Which subword of a word carries its label (see the module docstring).
Subword = Literal["first", "last"]
#: The suite's choice: ``auto`` is ``last`` for causal backbones and ``first`` otherwise.
SubwordChoice = Literal["auto", "first", "last"]


def label_subword(choice: SubwordChoice, causal: bool) -> Subword:
    """The labelled subword for a backbone: ``choice``, with ``auto`` resolved by ``causal``."""
    if choice == "auto":
        return "last" if causal else "first"
    if choice not in ("first", "last"):
        raise ValueError(f"label_subword must be 'auto', 'first' or 'last', got {choice!r}")
    return choice


@dataclass
class Encoded:
    """Model features (for a collator) and, for tagging, each word's labelled position (-1: none)."""

    features: list[dict[str, list[int]]]
    word_positions: list[list[int]] = field(default_factory=list)


@dataclass(frozen=True)
class TaskSpec:
    """A task: its labels, data module, encoding and metric."""

    name: str
    kind: Literal["tagging", "pair"]
    labels: tuple[str, ...]
    metric_name: str
    data_module: str
    fallback_label: int = 0

    @property
    def data(self) -> Any:
        """The :mod:`harness.data` module that loads this task's dataset."""
        return importlib.import_module(f"harness.data.{self.data_module}")

    def load(self, source: DataSource, lang: str, split: str) -> list:
        """Examples of ``lang``/``split`` (TaggedSentence or SentencePair)."""
        return self.data.load(source, lang, split)

    def encode(self, examples: Sequence, tokenizer: PreTrainedTokenizerBase,
               max_length: int = 128, subword: Subword = "first") -> Encoded:
        """Tokenize examples into model features with label ids.

        Tagging labels each word at its ``subword`` (``first`` or ``last``; see
        :func:`label_subword`); pair tasks ignore it.
        """
        if self.kind == "pair":
            return Encoded([_encode_pair(ex, tokenizer, max_length) for ex in examples])
        if subword not in ("first", "last"):
            raise ValueError(f"encode needs subword 'first' or 'last', got {subword!r}")
        label_ids = {label: i for i, label in enumerate(self.labels)}
        pairs = [_encode_tagged(ex, tokenizer, max_length, label_ids, subword) for ex in examples]
        return Encoded([p[0] for p in pairs], [p[1] for p in pairs])

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Callable:
        """The data collator that pads a batch of this task's features."""
        if self.kind == "pair":
            return DataCollatorWithPadding(tokenizer)
        return DataCollatorForTokenClassification(tokenizer)

    def predict(self, encoded: Encoded, logits: Sequence[torch.Tensor]) -> list:
        """Label predictions per example from per-example logits ([T, C] tagging, [C] pair).

        A word's prediction is read at the position its training label was put
        (``encoded.word_positions``, from :meth:`encode`).
        """
        if self.kind == "pair":
            return [self.labels[int(row.argmax())] for row in logits]
        predictions = []
        for positions, example_logits in zip(encoded.word_positions, logits):
            best = example_logits.argmax(dim=-1).tolist()
            predictions.append(
                [self.labels[best[p] if 0 <= p < len(best) else self.fallback_label] for p in positions]
            )
        return predictions

    def gold(self, examples: Sequence) -> list:
        """Gold labels in the same shape as :meth:`predict` returns."""
        if self.kind == "pair":
            return [self.labels[ex.label] for ex in examples]
        return [list(ex.tags) for ex in examples]

    def score(self, examples: Sequence, predictions: Sequence) -> float:
        """The task metric in percent: entity F1 for NER, accuracy otherwise."""
        gold = self.gold(examples)
        return entity_f1(gold, predictions) if self.metric_name == "f1" else accuracy(gold, predictions)


def _encode_pair(example: Any, tokenizer: PreTrainedTokenizerBase, max_length: int) -> dict:
    encoding = tokenizer(example.premise, example.hypothesis, truncation=True, max_length=max_length)
    return {"input_ids": encoding["input_ids"], "attention_mask": encoding["attention_mask"],
            "labels": int(example.label)}


def _encode_tagged(example: Any, tokenizer: PreTrainedTokenizerBase, max_length: int,
                   label_ids: dict[str, int], subword: Subword) -> tuple[dict, list[int]]:
    """Label each word's first or last subword; all other positions get -100 (ignored by the loss)."""
    text, char_to_word = _join_words(example.tokens)
    encoding = tokenizer(text, truncation=True, max_length=max_length, return_offsets_mapping=True)
    positions = subword_positions(encoding["offset_mapping"], char_to_word, len(example.tokens),
                                  subword)
    labels = [-100] * len(encoding["input_ids"])
    for word, position in enumerate(positions):
        if position >= 0:
            labels[position] = label_ids[example.tags[word]]
    features = {"input_ids": encoding["input_ids"], "attention_mask": encoding["attention_mask"],
                "labels": labels}
    return features, positions


def subword_positions(offsets: Sequence[tuple[int, int]], char_to_word: Sequence[int],
                      n_words: int, subword: Subword) -> list[int]:
    """Each word's first or last token position (-1 when truncation removed all its tokens)."""
    positions = [-1] * n_words
    for position, (start, end) in enumerate(offsets):
        word = char_to_word[start] if end > start else -1  # special tokens have empty spans
        if word >= 0 and (positions[word] < 0 or subword == "last"):
            positions[word] = position
    return positions


def _join_words(words: Sequence[str]) -> tuple[str, list[int]]:
    """Words joined by single spaces, and the word index of every character.

    A space belongs to the word after it: SentencePiece may emit the word-boundary marker ``▁``
    as a token of its own whose offsets cover only that space, and the library's ``word_ids``
    count it as the first subword of the following word.
    """
    char_to_word: list[int] = []
    for index, word in enumerate(words):
        if index:
            char_to_word.append(index)
        char_to_word.extend([index] * len(word))
    return " ".join(words), char_to_word


TASKS: Registry[TaskSpec] = Registry("task")
TASKS.register("ner", TaskSpec("ner", "tagging", NER_LABELS, "f1", "wikiann"))
TASKS.register("pos", TaskSpec("pos", "tagging", UPOS_LABELS, "accuracy", "ud",
                               fallback_label=UPOS_LABELS.index("X")))
TASKS.register("nli", TaskSpec("nli", "pair", NLI_LABELS, "accuracy", "nli"))


def get_task(name: str) -> TaskSpec:
    """The registered task ``name`` (ner, pos, nli)."""
    return TASKS.get(name)
