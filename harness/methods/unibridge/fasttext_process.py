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
before. Training in a new interpreter (not a fork, which shares the parent's heap) gives every
run the zeroed memory of a clean start. This module imports only fastText and NumPy, so the child
starts in well under a second.

The child is a plain subprocess (``python -m harness.methods.unibridge.fasttext_process REQUEST``) that
reads its request from a JSON file and writes its answer next to it, in a folder beside the
training file (inside the stage's work folder). Its stderr is captured, not inherited: when a
run is stopped (Ctrl-C, SIGTERM) the parent kills it and no child traceback reaches the
terminal (a ``multiprocessing`` spawn child left half-started printed ``EOFError: Ran out of
input`` after the run's last line); when the child fails, its stderr is in the error raised.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REQUEST, WORDS, VECTORS, MODEL = "request.json", "words.json", "vectors.npy", "model.bin"


class FastTextError(RuntimeError):
    """fastText failed in its own interpreter; the message holds the end of its stderr."""


def train_and_query(path: Path, words: Sequence[str], **options) -> tuple[list[str], np.ndarray]:
    """Train ``fasttext.train_unsupervised(path, **options)`` in a fresh interpreter.

    Returns the words fastText kept and ``get_word_vector`` of each of ``words`` (``[n, dim]``).
    """
    with tempfile.TemporaryDirectory(prefix="fasttext-", dir=Path(path).parent) as folder:
        _run_child(Path(folder), {"path": str(path), "words": list(words), "options": options})
        kept = json.loads((Path(folder) / WORDS).read_text(encoding="utf-8"))
        return kept, np.load(Path(folder) / VECTORS)


def train_model(path: str | Path, **options):
    """``fasttext.train_unsupervised(path, **options)``, trained in a fresh interpreter.

    The child saves the model and this process loads it (``fasttext.load_model`` reads every
    matrix from the file): a drop-in for ``train_unsupervised`` where a library calls it (FOCUS).
    """
    import fasttext

    with tempfile.TemporaryDirectory(prefix="fasttext-", dir=Path(path).parent) as folder:
        _run_child(Path(folder), {"path": str(path), "options": options, "save": True})
        return fasttext.load_model(str(Path(folder) / MODEL))


def _run_child(folder: Path, request: dict) -> None:
    """Write ``request`` into ``folder`` and answer it in a new interpreter; FastTextError if it fails."""
    (folder / REQUEST).write_text(json.dumps(request), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", __name__, str(folder / REQUEST)], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise FastTextError(f"fastText training on {request['path']} failed (exit {done.returncode}): "
                            f"{done.stderr.strip()[-2000:]}")


def _answer(request: Path) -> None:
    """The child: train as ``request`` asks; save the model, or the kept words and queried vectors."""
    import fasttext

    asked = json.loads(request.read_text(encoding="utf-8"))
    model = fasttext.train_unsupervised(asked["path"], verbose=0, **asked["options"])
    if asked.get("save"):
        model.save_model(str(request.parent / MODEL))
        return
    words, dim = asked["words"], model.get_dimension()
    vectors = np.stack([model.get_word_vector(word) for word in words]) if words else np.empty((0, dim))
    np.save(request.parent / VECTORS, vectors.astype(np.float32))
    (request.parent / WORDS).write_text(json.dumps(list(model.get_words())), encoding="utf-8")


if __name__ == "__main__":
    _answer(Path(sys.argv[1]))
