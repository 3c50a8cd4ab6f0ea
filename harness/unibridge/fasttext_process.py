"""FastText training in a fresh interpreter, so that its vectors depend only on its inputs.

Example::

    words, vectors = train_and_query(Path("work/target.txt"), ["▁the", "ing"],
                                     model="cbow", dim=300, epoch=5, minCount=1, neg=10, thread=1)

fastText 0.9.3 (the PyPI wheel) does not zero its input matrix: it initialises only the first
``thread``/10 of the rows (``DenseMatrix::uniform``) and leaves the rest of the
``nwords + bucket`` rows as the allocator hands them over. In a fresh process that memory comes
straight from the operating system and is zero; in a long-lived one (the runner, a test session)
it may be reused heap, and the n-gram rows then start from whatever another library left there:
measured here, vectors of 1e17–1e38 or fastText's own "Encountered NaN", depending on what ran
before. Training in a spawned interpreter (not a fork, which shares the parent's heap) gives every
run the zeroed memory of a clean start. This module imports only fastText and NumPy, so the child
starts in well under a second.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def train_and_query(path: Path, words: Sequence[str], **options) -> tuple[list[str], np.ndarray]:
    """Train ``fasttext.train_unsupervised(path, **options)`` in a fresh process.

    Returns the words fastText kept and ``get_word_vector`` of each of ``words`` (``[n, dim]``).
    """
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_train_and_query, (str(path), list(words), options))


def _train_and_query(path: str, words: list[str], options: dict) -> tuple[list[str], np.ndarray]:
    import fasttext

    model = fasttext.train_unsupervised(path, verbose=0, **options)
    dim = model.get_dimension()
    vectors = np.stack([model.get_word_vector(word) for word in words]) if words else np.empty((0, dim))
    return list(model.get_words()), vectors.astype(np.float32)
