"""Labels on every subword of a word, and entity F1 over them: the authors' NER convention.

Example::

    subword_tags(["B-PER", "I-PER", "O"], [-1, 0, 0, 1, 2, 2, -1])
    # [None, "B-PER", "I-PER", "I-PER", "O", "O", None]
    encoded = task.encode(examples, tokenizer, 128, subword_labels="all")
    predicted = predict_subwords(task, encoded, logits)   # per example, one tag per subword
    entity_f1(encoded.subword_tags, predicted)           # what their pinference_ner.py prints

The harness labels one subword per word and scores words (:mod:`harness.tasks.specs`). The
authors' NER code (``UniBridgeSrc/NER/dataloader.py`` and ``UniBridge/NER/dataloader.py``,
``__align_labels_with_tokens``, at 6a38462) labels *every* subword of a word: the first with the
word's tag, each further one with the tag's continuation (``B-X`` → ``I-X``, any other tag kept);
their ``pinference_ner.py`` then scores entity F1 (seqeval) over those subword sequences. Their
POS code labels the first subword only (``UniBridge/POS/dataloader.py``), so ``all`` applies to
tasks with IOB labels (:func:`is_iob`) and leaves the others at one subword.

``SubwordLabels`` (``one`` | ``all``): where training labels go; ``ScoringUnit`` (``word`` |
``subword``): what the target's score counts. docs/fidelity.md, "Stage 4" and "Scoring".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # harness.tasks.specs imports this module: its types are named in words only
    import torch

#: ``one``: each word's label at one subword (the harness); ``all``: at every subword (theirs).
SubwordLabels = Literal["one", "all"]
#: ``word``: one prediction per word is scored; ``subword``: every labelled subword is (theirs).
ScoringUnit = Literal["word", "subword"]


def is_iob(labels: Sequence[str]) -> bool:
    """Whether ``labels`` are IOB tags (``O``, ``B-X``, ``I-X``, with at least one ``B-``)."""
    return any(label.startswith("B-") for label in labels) and all(
        label == "O" or label[:2] in ("B-", "I-") for label in labels)


def continuation(tag: str) -> str:
    """The tag of a word's second and later subwords: ``B-X`` → ``I-X``, any other tag kept."""
    return "I-" + tag[2:] if tag.startswith("B-") else tag


def position_words(offsets: Sequence[tuple[int, int]], char_to_word: Sequence[int]) -> list[int]:
    """The word of each token position (-1 for special tokens, whose spans are empty)."""
    return [char_to_word[start] if end > start else -1 for start, end in offsets]


def subword_tags(tags: Sequence[str], words: Sequence[int]) -> list[str | None]:
    """Per position: its word's tag at the word's first subword, the continuation after it.

    ``words``: the word of each position (-1: none; :func:`position_words`). A position without a
    word gets None (not scored, -100 for the loss).
    """
    labelled: list[str | None] = []
    previous = -1
    for word in words:
        if word < 0:
            labelled.append(None)
        else:
            labelled.append(tags[word] if word != previous else continuation(tags[word]))
        previous = word
    return labelled


def tagged_positions(offsets: Sequence[tuple[int, int]], char_to_word: Sequence[int],
                     tags: Sequence[str]) -> list[tuple[int, str]]:
    """(position, tag) of every subword of a word, in order (:func:`subword_tags`)."""
    labelled = subword_tags(tags, position_words(offsets, char_to_word))
    return [(position, tag) for position, tag in enumerate(labelled) if tag is not None]


def predict_subwords(task: Any, encoded: Any, logits: Sequence[torch.Tensor]) -> list:
    """Per example, the predicted tag at each labelled subword (``encoded.subword_positions``).

    ``task``: a :class:`~harness.tasks.specs.TaskSpec`; ``encoded``: its
    :class:`~harness.tasks.specs.Encoded` under ``subword_labels="all"``.
    """
    best = [feature_logits.argmax(dim=-1).tolist() for feature_logits in logits]
    return [[task.labels[best[f][p]] for f, p in zip(features, positions)]
            for features, positions in zip(encoded.subword_features, encoded.subword_positions)]


def subword_score_function(task: Any, encoded: Any) -> Callable:
    """A Trainer ``compute_metrics``: the task metric over every labelled subword (their validation).

    The subword counterpart of :func:`harness.stages.finetune.score_function`.
    """
    import torch

    def compute(prediction) -> dict[str, float]:
        logits = prediction.predictions
        logits = logits[0] if isinstance(logits, tuple) else logits
        per_feature = [torch.from_numpy(row[: len(feature["input_ids"])])
                       for row, feature in zip(logits, encoded.features)]
        predicted = predict_subwords(task, encoded, per_feature)
        return {"score": task.metric.score(encoded.subword_tags, predicted)}

    return compute
