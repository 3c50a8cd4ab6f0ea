"""The three tasks: NER (WikiANN), POS (UD) and NLI (XNLI → AmericasNLI).

Example::

    task = get_task("ner")
    examples = task.load(source, "amh", "test")
    encoded = task.encode(examples, tokenizer, max_length=128, overflow="window")
    predictions = task.predict(encoded, logits)       # one logits tensor per feature
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

Long sentences (``overflow="window"``, used for every scored split: evaluation and model
selection; training keeps ``truncate``): a tagging example longer than ``max_length`` subwords
(special tokens included) is cut into overlapping windows, each with the tokenizer's own special
tokens around ``width = max_length - specials`` content subwords, consecutive windows
overlapping by ``width // 2`` (HF's ``stride``). Each word is labelled, and predicted, in the
one window where its labelled subword has the most context (:func:`best_window`, BERT's
"max context" rule), so every word gets a prediction. Windows are cut from the untruncated
encoding rather than by ``return_overflowing_tokens``, whose windows do not say which
subword of the whole sentence each of their tokens is. An example that fits is encoded exactly as
under ``truncate``. Pair tasks (NLI) always truncate: a sentence pair has one label.

``subword_labels="all"`` (the authors' NER convention, :mod:`harness.tasks.subword_labels`) labels
every subword of a word of an IOB task besides; each subword is placed in its own best window.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from harness.core.registry import Registry
from harness.data.examples import NER_LABELS, NLI_LABELS, UPOS_LABELS
from harness.tasks.from_yaml.kinds import SENTENCE_PAIR_CLASSIFICATION, TOKEN_CLASSIFICATION, Shape
from harness.tasks.metrics import Metric, get_metric
from harness.tasks.subword_labels import SubwordLabels, is_iob, tagged_positions

if TYPE_CHECKING:  # pydantic and the data modules: imported when a YAML task or data is used
    import torch
    from transformers import PreTrainedTokenizerBase

    from harness.data.source import DataSource
    from harness.tasks.from_yaml.data import TaskData
    from harness.tasks.from_yaml.schema import TaskDefinition

    TaskRef = str | TaskDefinition  # at run time: from the module's __getattr__ below

#: Which subword of a word carries its label (see the module docstring).
Subword = Literal["first", "last"]
#: The suite's choice: ``auto`` is ``last`` for causal backbones and ``first`` otherwise.
SubwordChoice = Literal["auto", "first", "last"]
#: What happens to a tagging example longer than ``max_length`` (see the module docstring).
Overflow = Literal["truncate", "window"]


def __getattr__(name: str) -> Any:
    """``TaskRef`` (``str | TaskDefinition``), built on first use (PEP 562): ``list`` imports no pydantic.

    ``TaskRef`` is how a stage config names its task: a registered name, or a YAML task's whole
    definition (so that the stage key follows the definition's content and a worker can rebuild
    the task). Example: ``from harness.tasks.specs import TaskRef``.
    """
    if name == "TaskRef":
        from harness.tasks.from_yaml.schema import TaskDefinition

        return str | TaskDefinition
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def overflow_for(split: str) -> Overflow:
    """``truncate`` for the train split, ``window`` for every split that is scored.

    Model selection scores the validation split (``score_function`` of :mod:`harness.stages.finetune`)
    like evaluation scores the test split, so no word beyond ``max_length`` is scored as the
    fallback label there either.
    """
    return "truncate" if split == "train" else "window"


def label_subword(choice: SubwordChoice, causal: bool) -> Subword:
    """The labelled subword for a backbone: ``choice``, with ``auto`` resolved by ``causal``."""
    if choice == "auto":
        return "last" if causal else "first"
    if choice not in ("first", "last"):
        raise ValueError(f"label_subword must be 'auto', 'first' or 'last', got {choice!r}")
    return choice


@dataclass
class Encoded:
    """Model features (for a collator) and, for tagging, where each word is labelled.

    ``features`` has one entry per example, or, under ``overflow="window"``, one per window.
    Per example and word: ``word_features``, the index in ``features`` of the feature the word is
    labelled in, and ``word_positions``, its position there (-1: none). ``windowed_words``: words
    labelled beyond the first window (those truncation would have lost or cut), in
    ``windowed_examples`` examples. Under ``subword_labels="all"``, per example and labelled
    subword: ``subword_tags`` (its gold tag), ``subword_features`` and ``subword_positions``.
    """

    features: list[dict[str, list[int]]]
    word_positions: list[list[int]] = field(default_factory=list)
    word_features: list[list[int]] = field(default_factory=list)
    windowed_words: int = 0
    windowed_examples: int = 0
    subword_tags: list[list[str]] = field(default_factory=list)
    subword_features: list[list[int]] = field(default_factory=list)
    subword_positions: list[list[int]] = field(default_factory=list)

    def window_details(self) -> dict[str, int]:
        """The window counts as ``metrics.json`` details record them."""
        return {"windowed_words": self.windowed_words, "windowed_examples": self.windowed_examples}


class TaggedFeatures(NamedTuple):
    """One tagging example encoded: its features (windows), and per word a window and position."""

    features: list[dict[str, list[int]]]
    windows: list[int]
    positions: list[int]
    windowed_words: int = 0
    #: ``subword_labels="all"``: every labelled subword's (window, position, tag).
    subwords: tuple[tuple[int, int, str], ...] = ()


@dataclass(frozen=True)
class TaskSpec:
    """A task: its labels, data module, encoding and metric.

    ``data_module`` names the :mod:`harness.data` module of a built-in task; a YAML task
    carries its ``reader`` (:class:`~harness.tasks.from_yaml.data.TaskData`) instead.
    """

    name: str
    kind: Shape
    labels: tuple[str, ...]
    metric_name: str
    data_module: str
    task_kind: str
    fallback_label: int = 0
    reader: TaskData | None = field(default=None, compare=False)

    @property
    def description(self) -> str:
        """One line for ``unibridge-bench list``: the kind, labels, metric and data module."""
        return (f"{self.task_kind}, {len(self.labels)} labels, {self.metric_name}; "
                f"data: {self.data_module or 'declared in YAML'}")

    @property
    def data(self) -> Any:
        """What loads and checks this task's dataset: its reader, or its :mod:`harness.data` module."""
        if self.reader is not None:
            return self.reader
        return importlib.import_module(f"harness.data.{self.data_module}")

    def load(self, source: DataSource, lang: str, split: str) -> list:
        """Examples of ``lang``/``split`` (TaggedSentence or SentencePair)."""
        return self.data.load(source, lang, split)

    def encode(self, examples: Sequence, tokenizer: PreTrainedTokenizerBase,
               max_length: int = 128, subword: Subword = "first",
               overflow: Overflow = "truncate", subword_labels: SubwordLabels = "one") -> Encoded:
        """Tokenize examples into model features with label ids.

        Tagging labels each word at its ``subword`` (``first`` or ``last``; see
        :func:`label_subword`); a tagging example longer than ``max_length`` is truncated or,
        with ``overflow="window"``, cut into overlapping windows (module docstring). Pair tasks
        and sentence tasks ignore both and truncate. ``subword_labels="all"`` (IOB tasks only)
        labels every subword of each word instead (:mod:`harness.tasks.subword_labels`).
        """
        if overflow not in ("truncate", "window"):
            raise ValueError(f"encode needs overflow 'truncate' or 'window', got {overflow!r}")
        if self.kind == "pair":
            return Encoded([_encode_pair(ex, tokenizer, max_length) for ex in examples])
        if self.kind == "sentence":
            return Encoded([_encode_text(ex, tokenizer, max_length) for ex in examples])
        if subword not in ("first", "last"):
            raise ValueError(f"encode needs subword 'first' or 'last', got {subword!r}")
        if subword_labels not in ("one", "all") or (subword_labels == "all" and not is_iob(self.labels)):
            raise ValueError(f"subword_labels 'all' needs IOB labels, and 'one' or 'all' is valid; "
                             f"got {subword_labels!r} for labels {self.labels}")
        label_ids = {label: i for i, label in enumerate(self.labels)}
        encode_one = _encode_windowed if overflow == "window" else _encode_tagged
        encoded = Encoded([])
        for example in examples:
            one = encode_one(example, tokenizer, max_length, label_ids, subword, subword_labels == "all")
            offset = len(encoded.features)
            encoded.features.extend(one.features)
            encoded.word_features.append([offset + window for window in one.windows])
            encoded.word_positions.append(one.positions)
            encoded.windowed_words += one.windowed_words
            encoded.windowed_examples += one.windowed_words > 0
            if subword_labels == "all":
                encoded.subword_features.append([offset + window for window, _, _ in one.subwords])
                encoded.subword_positions.append([position for _, position, _ in one.subwords])
                encoded.subword_tags.append([tag for _, _, tag in one.subwords])
        return encoded

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Callable:
        """The data collator that pads a batch of this task's features."""
        from transformers import DataCollatorForTokenClassification, DataCollatorWithPadding

        if self.kind != "tagging":
            return DataCollatorWithPadding(tokenizer)
        return DataCollatorForTokenClassification(tokenizer)

    def predict(self, encoded: Encoded, logits: Sequence[torch.Tensor]) -> list:
        """Label predictions per example from per-feature logits ([T, C] tagging, [C] otherwise).

        A word's prediction is read in the feature (window) and at the position its label was
        put (``encoded.word_features``, ``encoded.word_positions``, from :meth:`encode`).
        """
        if self.kind != "tagging":
            return [self.labels[int(row.argmax())] for row in logits]
        best = [feature_logits.argmax(dim=-1).tolist() for feature_logits in logits]
        predictions = []
        for features, positions in zip(encoded.word_features, encoded.word_positions):
            predictions.append([self.labels[_read(best[f], p, self.fallback_label)]
                                for f, p in zip(features, positions)])
        return predictions

    def gold(self, examples: Sequence) -> list:
        """Gold labels in the same shape as :meth:`predict` returns."""
        if self.kind != "tagging":
            return [self.labels[ex.label] for ex in examples]
        return [list(ex.tags) for ex in examples]

    @property
    def metric(self) -> Metric:
        """The task's metric (:mod:`harness.tasks.metrics`): its score and its per-example counts."""
        return get_metric(self.metric_name)

    def score(self, examples: Sequence, predictions: Sequence) -> float:
        """The task metric in percent: entity F1 for NER, accuracy otherwise."""
        return self.metric.score(self.gold(examples), predictions)


def _encode_pair(example: Any, tokenizer: PreTrainedTokenizerBase, max_length: int) -> dict:
    encoding = tokenizer(example.premise, example.hypothesis, truncation=True, max_length=max_length)
    return {"input_ids": encoding["input_ids"], "attention_mask": encoding["attention_mask"],
            "labels": int(example.label)}


def _encode_text(example: Any, tokenizer: PreTrainedTokenizerBase, max_length: int) -> dict:
    """One text as the tokenizer encodes a single sequence (its special tokens around it)."""
    encoding = tokenizer(example.text, truncation=True, max_length=max_length)
    return {"input_ids": encoding["input_ids"], "attention_mask": encoding["attention_mask"],
            "labels": int(example.label)}


def _read(best: Sequence[int], position: int, fallback: int) -> int:
    return best[position] if 0 <= position < len(best) else fallback


def _encode_tagged(example: Any, tokenizer: PreTrainedTokenizerBase, max_length: int,
                   label_ids: dict[str, int], subword: Subword, every: bool = False) -> TaggedFeatures:
    """Label each word's first or last subword (``every``: all its subwords); others get -100."""
    text, char_to_word = _join_words(example.tokens)
    encoding = tokenizer(text, truncation=True, max_length=max_length, return_offsets_mapping=True)
    return _single_feature(example, encoding, char_to_word, label_ids, subword, every)


def _single_feature(example: Any, encoding, char_to_word: Sequence[int], label_ids: dict[str, int],
                    subword: Subword, every: bool = False) -> TaggedFeatures:
    """One feature from ``encoding`` of the whole (or truncated) example, labelled per word."""
    offsets = encoding["offset_mapping"]
    positions = subword_positions(offsets, char_to_word, len(example.tokens), subword)
    labels = [-100] * len(encoding["input_ids"])
    placed = (tagged_positions(offsets, char_to_word, example.tags) if every
              else [(p, example.tags[w]) for w, p in enumerate(positions) if p >= 0])
    for position, tag in placed:
        labels[position] = label_ids[tag]
    features = {"input_ids": encoding["input_ids"], "attention_mask": encoding["attention_mask"],
                "labels": labels}
    subwords = tuple((0, p, tag) for p, tag in placed) if every else ()
    return TaggedFeatures([features], [0] * len(positions), positions, 0, subwords)


def _encode_windowed(example: Any, tokenizer: PreTrainedTokenizerBase, max_length: int,
                     label_ids: dict[str, int], subword: Subword, every: bool = False) -> TaggedFeatures:
    """Windows of the untruncated encoding; each word (``every``: subword) in its :func:`best_window`."""
    text, char_to_word = _join_words(example.tokens)
    encoding = tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True)
    ids = encoding["input_ids"]
    if len(ids) <= max_length:  # fits: the same encoding truncation would give
        return _single_feature(example, encoding, char_to_word, label_ids, subword, every)
    full = subword_positions(encoding["offset_mapping"], char_to_word, len(example.tokens), subword)
    head, tail = _special_ends(encoding["special_tokens_mask"])
    spans = window_spans(head, len(ids) - tail, max_length - head - tail)
    windows = [best_window(position, spans) for position in full]
    positions = [p - spans[w][0] + head if w >= 0 else -1 for p, w in zip(full, windows)]
    windows = [max(window, 0) for window in windows]
    features = [_window_feature(ids, head, tail, span) for span in spans]
    placed = [(w, p, example.tags[word]) for word, (w, p) in enumerate(zip(windows, positions)) if p >= 0]
    if every:
        tagged = tagged_positions(encoding["offset_mapping"], char_to_word, example.tags)
        placed = [(w, p - spans[w][0] + head, tag) for w, p, tag in
                  ((best_window(p, spans), p, tag) for p, tag in tagged)]
    for window, position, tag in placed:
        features[window]["labels"][position] = label_ids[tag]
    windowed = sum(p >= spans[0][1] for p in full)
    return TaggedFeatures(features, windows, positions, windowed, tuple(placed) if every else ())


def _special_ends(special_mask: Sequence[int]) -> tuple[int, int]:
    """How many special tokens open and close the encoding (every window repeats them)."""
    head = next((i for i, special in enumerate(special_mask) if not special), len(special_mask))
    tail = next((i for i, special in enumerate(reversed(special_mask)) if not special), 0)
    return head, tail


def _window_feature(ids: Sequence[int], head: int, tail: int, span: tuple[int, int]) -> dict:
    window_ids = list(ids[:head]) + list(ids[span[0]:span[1]]) + list(ids[len(ids) - tail:])
    return {"input_ids": window_ids, "attention_mask": [1] * len(window_ids),
            "labels": [-100] * len(window_ids)}


def window_spans(start: int, stop: int, width: int) -> list[tuple[int, int]]:
    """Content spans ``[a, b)`` of ``width`` tokens covering ``[start, stop)``, overlapping by ``width // 2``.

    The last span may be shorter; consecutive starts are ``width - width // 2`` apart.
    """
    if width < 1:
        raise ValueError(f"max_length leaves no room for any subword besides the special tokens "
                         f"(content width {width})")
    step = width - width // 2
    spans = [(start, min(start + width, stop))]
    while spans[-1][1] < stop:
        begin = spans[-1][0] + step
        spans.append((begin, min(begin + width, stop)))
    return spans


def best_window(position: int, spans: Sequence[tuple[int, int]]) -> int:
    """The span in which ``position`` has the most context (-1: in none), max of min(left, right).

    BERT's "max context" rule (``_check_is_max_context`` of its SQuAD code), except that the
    sentence's own ends do not count as cuts: the first span has unlimited left context and the
    last unlimited right context. Ties go to the earlier span.
    """
    first, stop = spans[0][0], spans[-1][1]
    best, best_score = -1, -1.0
    for index, (begin, end) in enumerate(spans):
        if not begin <= position < end:
            continue
        left = position - begin if begin > first else float("inf")
        right = end - 1 - position if end < stop else float("inf")
        if min(left, right) > best_score:
            best, best_score = index, min(left, right)
    return best


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
TASKS.register("ner", TaskSpec("ner", "tagging", NER_LABELS, "f1", "wikiann", TOKEN_CLASSIFICATION))
TASKS.register("pos", TaskSpec("pos", "tagging", UPOS_LABELS, "accuracy", "ud", TOKEN_CLASSIFICATION,
                               fallback_label=UPOS_LABELS.index("X")))
TASKS.register("nli", TaskSpec("nli", "pair", NLI_LABELS, "accuracy", "nli",
                               SENTENCE_PAIR_CLASSIFICATION))


def get_task(task: TaskRef) -> TaskSpec:
    """The registered task ``task`` (ner, pos, nli), or the task a YAML definition declares."""
    if isinstance(task, str):
        return TASKS.get(task)
    return _declared_task(task)


@lru_cache(maxsize=64)
def _declared_task(definition: TaskDefinition) -> TaskSpec:
    from harness.tasks.from_yaml.data import TaskData

    kind = definition.task_kind
    return TaskSpec(definition.task or "", kind.shape, definition.labels, definition.metric, "",
                    kind.name, definition.labels.index(definition.fallback_label),
                    TaskData(definition))


def task_name(task: TaskRef) -> str:
    """The name of a task reference: the suite's key of a YAML task, or the registered name."""
    return task if isinstance(task, str) else task.task or ""
