"""The task kinds a YAML task can declare: a registry, so that a plugin can add one.

Example::

    kind = TASK_KINDS.get("sentence_classification")
    kind.roles                                   # ('text', 'label')
    kind.example({"text": "Addis Ababa", "label": "travel"}, LABELS)   # LabelledText(..., label=1)

A kind says which columns (roles) a row of its data has, which of them hold labels, which
local file formats can hold it, the shape its models predict (``shape``: the
:attr:`harness.tasks.specs.TaskSpec.kind` that picks the encoding, the head and the stored
predictions: ``tagging`` one label per word, ``sentence`` one per text, ``pair`` one per pair of
texts) and how a row becomes an example of :mod:`harness.data.examples`. The paper's tasks
belong to two of them: NER and POS are token classification, NLI is sentence-pair
classification. A method supports kinds by these names (:attr:`harness.methods.base.Method.task_kinds`;
by default every registered kind). A plugin adds a kind with ``TASK_KINDS.register(name,
TaskKind(...))``; its ``shape`` must be one of the three, which every stage can encode and predict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harness.core.registry import Registry
from harness.data.examples import LabelledText, SentencePair, TaggedSentence

TOKEN_CLASSIFICATION = "token_classification"
SENTENCE_CLASSIFICATION = "sentence_classification"
SENTENCE_PAIR_CLASSIFICATION = "sentence_pair_classification"

Shape = Literal["tagging", "sentence", "pair"]


@dataclass(frozen=True)
class TaskKind:
    """What a kind of task is made of (module docstring).

    ``label_role``: the role holding the label (a sequence of them for tagging kinds).
    ``build``: the example of a row whose label values are already label names; a ValueError
    says what is wrong with the row. ``formats``: the local formats that can hold the kind
    (:mod:`harness.tasks.from_yaml.formats`), the first being the default.
    """

    name: str
    shape: Shape
    roles: tuple[str, ...]
    label_role: str
    formats: tuple[str, ...]
    build: Callable[[Mapping[str, Any], Sequence[str]], Any]
    description: str = ""

    def example(self, values: Mapping[str, Any], labels: Sequence[str]) -> Any:
        """The example of one row (``values``: role → value, labels as names from ``labels``)."""
        return self.build(values, labels)


def _text(values: Mapping[str, Any], role: str) -> str:
    value = values[role]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"column of {role!r} must be non-empty text, got {value!r}")
    return value


def _tagged(values: Mapping[str, Any], labels: Sequence[str]) -> TaggedSentence:
    tokens, tags = values["tokens"], values["tags"]
    if not isinstance(tokens, Sequence) or isinstance(tokens, str) or not tokens:
        raise ValueError(f"tokens must be a non-empty list of words, got {tokens!r}")
    # an empty token is a word, as the datasets' own loaders keep it (a conll line " O":
    # harness.tasks.from_yaml.formats, where it is counted as a note of validate)
    if any(not isinstance(token, str) for token in tokens):
        raise ValueError(f"every token must be text, got {list(tokens)!r}")
    if len(tokens) != len(tags):
        raise ValueError(f"{len(tokens)} tokens but {len(tags)} tags")
    return TaggedSentence(tuple(tokens), tuple(tags))


def _labelled_text(values: Mapping[str, Any], labels: Sequence[str]) -> LabelledText:
    return LabelledText(_text(values, "text"), list(labels).index(values["label"]))


def _pair(values: Mapping[str, Any], labels: Sequence[str]) -> SentencePair:
    return SentencePair(_text(values, "premise"), _text(values, "hypothesis"),
                        list(labels).index(values["label"]))


TASK_KINDS: Registry[TaskKind] = Registry("task kind")
TASK_KINDS.register(TOKEN_CLASSIFICATION, TaskKind(
    TOKEN_CLASSIFICATION, "tagging", ("tokens", "tags"), "tags", ("conll", "conllu", "jsonl"),
    _tagged, "one label per word: a tokens column and a tags column (NER, POS)"))
TASK_KINDS.register(SENTENCE_CLASSIFICATION, TaskKind(
    SENTENCE_CLASSIFICATION, "sentence", ("text", "label"), "label",
    ("tsv", "quoted_tsv", "csv", "jsonl"),
    _labelled_text, "one label per text: a text column and a label column (SIB-200, Taxi1500)"))
TASK_KINDS.register(SENTENCE_PAIR_CLASSIFICATION, TaskKind(
    SENTENCE_PAIR_CLASSIFICATION, "pair", ("premise", "hypothesis", "label"), "label",
    ("tsv", "quoted_tsv", "csv", "jsonl"), _pair,
    "one label per pair of texts: premise, hypothesis and label columns (NLI)"))
