"""Task metrics, in percent as the paper prints them, and the per-example counts behind them.

Example::

    entity_f1([["B-LOC", "O"]], [["B-LOC", "O"]])   # 100.0
    accuracy([1, 2, 0], [1, 0, 0])                   # 66.66…
    entity_counts([["B-LOC", "O"]], [["O", "O"]])    # {"tp": [0], "fp": [0], "fn": [1]}
    get_metric("f1").from_sums(np.array([3, 1, 2]))  # F1 of summed tp, fp, fn: 66.66…

NER uses seqeval's entity-level F1 (the default, conlleval-compatible mode, as XTREME reports
WikiANN); POS and NLI use accuracy.

Per-example counts (:class:`Metric` ``counts``) are what a bootstrap over test examples
resamples (:mod:`harness.statistics`): the metric of any multiset of examples is a function of
their summed counts (``from_sums``). NER: true positives, false positives and false negatives
of entities per sentence, as seqeval counts them (its corpus F1 is the F1 of the summed counts,
because seqeval separates sentences by an ``O`` so no entity spans two); POS: correct and total
words per sentence; NLI: correct per example (each example counts once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.core.registry import Registry

if TYPE_CHECKING:
    import numpy as np


def entity_f1(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> float:
    """Entity-level micro F1 × 100 over IOB2 tag sequences (seqeval)."""
    from seqeval.metrics import f1_score  # imports scikit-learn: only when scoring

    _check_lengths(gold, predicted)
    return 100.0 * float(f1_score([list(s) for s in gold], [list(s) for s in predicted]))


def accuracy(gold: Sequence, predicted: Sequence) -> float:
    """Share of equal items × 100; sequences of sequences are flattened (POS word accuracy)."""
    _check_lengths(gold, predicted)
    gold_flat, predicted_flat = _flatten(gold), _flatten(predicted)
    _check_lengths(gold_flat, predicted_flat)
    if not gold_flat:
        raise ValueError("accuracy of an empty evaluation set is undefined")
    return 100.0 * sum(g == p for g, p in zip(gold_flat, predicted_flat)) / len(gold_flat)


def entity_counts(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, list[int]]:
    """Per sentence: entities found and right (tp), found but wrong (fp), missed (fn), as seqeval."""
    from seqeval.metrics.sequence_labeling import get_entities

    _check_lengths(gold, predicted)
    counts: dict[str, list[int]] = {"tp": [], "fp": [], "fn": []}
    for gold_tags, predicted_tags in zip(gold, predicted):
        _check_lengths(gold_tags, predicted_tags)
        true, found = set(get_entities(list(gold_tags))), set(get_entities(list(predicted_tags)))
        counts["tp"].append(len(true & found))
        counts["fp"].append(len(found - true))
        counts["fn"].append(len(true - found))
    return counts


def tag_counts(gold: Sequence[Sequence], predicted: Sequence[Sequence]) -> dict[str, list[int]]:
    """Per sentence: words tagged right, and words."""
    _check_lengths(gold, predicted)
    for gold_tags, predicted_tags in zip(gold, predicted):
        _check_lengths(gold_tags, predicted_tags)
    return {"correct": [sum(g == p for g, p in zip(gs, ps)) for gs, ps in zip(gold, predicted)],
            "total": [len(gs) for gs in gold]}


def example_counts(gold: Sequence, predicted: Sequence) -> dict[str, list[int]]:
    """Per example: 1 when its label is right (NLI); each example weighs one."""
    _check_lengths(gold, predicted)
    return {"correct": [int(g == p) for g, p in zip(gold, predicted)]}


def accuracy_counts(gold: Sequence, predicted: Sequence) -> dict[str, list[int]]:
    """:func:`tag_counts` of sentences (POS), :func:`example_counts` of labels (NLI).

    Told apart as :func:`accuracy` does: by whether the items are sequences.
    """
    if gold and isinstance(gold[0], (list, tuple)):
        return tag_counts(gold, predicted)
    return example_counts(gold, predicted)


def f1_from_sums(sums: np.ndarray) -> np.ndarray:
    """100 · 2tp / (2tp + fp + fn) over the last axis (tp, fp, fn); 0 where nothing is counted.

    Equal to seqeval's 2PR/(P+R), whose zero division also gives 0.
    """
    import numpy as np

    tp, fp, fn = sums[..., 0], sums[..., 1], sums[..., 2]
    denominator = 2 * tp + fp + fn
    return np.divide(200.0 * tp, denominator, out=np.zeros(np.shape(tp)), where=denominator > 0)


def accuracy_from_sums(sums: np.ndarray) -> np.ndarray:
    """100 · correct / total over the last axis (correct, total)."""
    return 100.0 * sums[..., 0] / sums[..., 1]


@dataclass(frozen=True)
class Metric:
    """A task metric: its score, its per-example counts and its value from summed counts.

    ``fields``: the count names, in the order ``from_sums`` reads them; a field absent from
    a record's counts (``total`` of NLI) is one per example.
    """

    name: str
    score: Callable[[Sequence, Sequence], float]
    counts: Callable[[Sequence, Sequence], dict[str, list[int]]]
    fields: tuple[str, ...]
    from_sums: Callable[[np.ndarray], np.ndarray]


METRICS: Registry[Metric] = Registry("metric")
METRICS.register("f1", Metric("f1", entity_f1, entity_counts, ("tp", "fp", "fn"), f1_from_sums))
METRICS.register("accuracy", Metric("accuracy", accuracy, accuracy_counts, ("correct", "total"),
                                    accuracy_from_sums))


def get_metric(name: str) -> Metric:
    """The registered metric ``name`` (``f1``, ``accuracy``): a record's ``metric``."""
    return METRICS.get(name)


def _flatten(items: Sequence) -> list:
    if items and isinstance(items[0], (list, tuple)):
        return [item for sequence in items for item in sequence]
    return list(items)


def _check_lengths(gold: Sequence, predicted: Sequence) -> None:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold items but {len(predicted)} predictions")
