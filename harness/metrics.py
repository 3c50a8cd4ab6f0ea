"""Task metrics, in percent as the paper prints them.

Example::

    entity_f1([["B-LOC", "O"]], [["B-LOC", "O"]])   # 100.0
    accuracy([1, 2, 0], [1, 0, 0])                   # 66.66…

NER uses seqeval's entity-level F1 (the default, conlleval-compatible mode, as XTREME reports
WikiANN); POS and NLI use accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence


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


def _flatten(items: Sequence) -> list:
    if items and isinstance(items[0], (list, tuple)):
        return [item for sequence in items for item in sequence]
    return list(items)


def _check_lengths(gold: Sequence, predicted: Sequence) -> None:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold items but {len(predicted)} predictions")
