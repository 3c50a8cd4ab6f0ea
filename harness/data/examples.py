"""Example types and label inventories shared by the task data modules.

Example::

    from harness.data.examples import NER_LABELS, TaggedSentence
    sentence = TaggedSentence(tokens=("Addis", "Ababa"), tags=("B-LOC", "I-LOC"))
    NER_LABELS.index(sentence.tags[0])   # 5

:class:`LabelledText` is the example of a sentence-classification task declared in YAML
(:mod:`harness.tasks.from_yaml`). The label orders are the datasets' own, so the integer labels of
the hub datasets map to these tuples by index: WikiANN's ``ner_tags``, UD's documented UPOS
list, XNLI's ``label``.
"""

from __future__ import annotations

from dataclasses import dataclass

NER_LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
"""WikiANN's tag set, in the order of its ``ner_tags`` class labels."""

UPOS_LABELS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)
"""The 17 Universal POS tags, in the order of universaldependencies.org/u/pos."""

NLI_LABELS = ("entailment", "neutral", "contradiction")
"""XNLI's (and AmericasNLI's) labels, in the order of their integer ``label``."""


@dataclass(frozen=True)
class TaggedSentence:
    """A tokenized sentence with one tag per token (NER or POS)."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.tags):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.tags)} tags")


@dataclass(frozen=True)
class SentencePair:
    """A premise/hypothesis pair with its label's index in :data:`NLI_LABELS`."""

    premise: str
    hypothesis: str
    label: int


@dataclass(frozen=True)
class LabelledText:
    """A text with its label's index in its task's labels (sentence classification)."""

    text: str
    label: int
