"""Per-example predictions and gold labels of an evaluation, kept in its artifact.

Example::

    store_predictions(out, task, examples, predictions)    # out/predictions.npz
    kept = read_predictions(artifact)                      # Predictions(ids, gold, predicted)
    get_metric("f1").score(kept.gold, kept.predicted)      # the stage's score, from the cache

So any statistic is recomputed from the cache, never by re-running a model. The file is a
compressed numpy archive: ``kind`` (``tagging``, ``pair`` or ``sentence``), ``labels`` (the task's label
names), ``gold`` and ``predicted`` (label indices, int16; tagging: every sentence's words one
after the other), ``lengths`` (words per sentence; one per example for the other kinds) and
``example_ids``: per example of the split, the first 8 bytes of the SHA-256 of its content
(tokens and tags, or premise, hypothesis and label) as uint64. Two evaluations on the same
examples in the same order have equal ids; :func:`split_digest` of the ids is what result
records carry to pair two methods' counts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from harness.tasks.specs import TaskSpec

PREDICTIONS_FILE = "predictions.npz"


@dataclass(frozen=True)
class Predictions:
    """What :func:`read_predictions` returns: ids, and labels in :meth:`TaskSpec.gold`'s shape."""

    example_ids: np.ndarray
    gold: list
    predicted: list


def example_ids(examples: Sequence) -> np.ndarray:
    """One uint64 content id per example (the first 8 bytes of the SHA-256 of its fields)."""
    import numpy as np

    digests = [hashlib.sha256(json.dumps(dataclasses.astuple(ex), ensure_ascii=False).encode("utf-8"))
               .digest()[:8] for ex in examples]
    return np.frombuffer(b"".join(digests), dtype=">u8").astype(np.uint64)


def split_digest(ids: np.ndarray) -> str:
    """A short digest of the example ids in order: equal for evaluations on the same examples."""
    return hashlib.sha256(ids.astype(">u8").tobytes()).hexdigest()[:16]


def store_predictions(out: Path, task: TaskSpec, ids: np.ndarray, gold: Sequence,
                      predicted: Sequence) -> Path:
    """Write ``out/predictions.npz`` (module docstring)."""
    import numpy as np

    index = {label: i for i, label in enumerate(task.labels)}
    if task.kind != "tagging":
        lengths, gold_flat, predicted_flat = [1] * len(gold), list(gold), list(predicted)
    else:
        lengths = [len(sentence) for sentence in gold]
        gold_flat = [tag for sentence in gold for tag in sentence]
        predicted_flat = [tag for sentence in predicted for tag in sentence]
    path = Path(out) / PREDICTIONS_FILE
    with open(path, "wb") as handle:
        np.savez_compressed(handle, kind=np.array(task.kind), labels=np.array(task.labels),
                            example_ids=ids,
                            lengths=np.array(lengths, dtype=np.int32),
                            gold=np.array([index[t] for t in gold_flat], dtype=np.int16),
                            predicted=np.array([index[t] for t in predicted_flat], dtype=np.int16))
    return path


def read_predictions(artifact: Path) -> Predictions:
    """The ids, gold labels and predictions an evaluation artifact keeps."""
    import numpy as np

    with np.load(Path(artifact) / PREDICTIONS_FILE) as kept:
        labels = [str(label) for label in kept["labels"]]
        lengths, ids, kind = kept["lengths"], kept["example_ids"], str(kept["kind"])
        gold = [labels[i] for i in kept["gold"]]
        predicted = [labels[i] for i in kept["predicted"]]
    if kind != "tagging":
        return Predictions(ids, gold, predicted)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return Predictions(ids, [gold[a:b] for a, b in zip(bounds[:-1], bounds[1:])],
                       [predicted[a:b] for a, b in zip(bounds[:-1], bounds[1:])])
