"""Stage 4 and NER scoring under ``fidelity: authors``, against the authors' own functions.

Their functions (TokisakiKurumi2001/UniBridge at 6a38462, ``xlm/``) are read from the checkout in
``UNIBRIDGE_AUTHORS_REPO`` (the repository root, holding ``xlm/``) with ``ast`` and run in a
namespace this test provides: ``__align_labels_with_tokens`` of ``UniBridge/NER/dataloader.py``
(the target test split's labels in ``pinference_ner.py``) and of ``UniBridgeSrc/NER/dataloader.py``
(the source training labels), ``LabelConverter`` (``UniBridge/NER/label_converter.py``),
``postprocess`` (``pinference_ner.py``) and ``Seqeval._compute`` (``metrics/seqeval.py``). Without the
checkout the same comparisons run against the values they gave, recorded in
``tests/fixtures/authors/ner_subword_scoring.json`` by::

    UNIBRIDGE_AUTHORS_REPO=/path/to/UniBridge PYTHONPATH=. python3 tests/test_fidelity_task_adapters.py
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import random
import sys
import typing
from pathlib import Path

import pytest
import torch

from harness.data.examples import TaggedSentence
from harness.models.tiny_tokenizers import train_tiny_tokenizer
from harness.tasks.metrics import entity_f1
from harness.tasks.specs import get_task
from harness.tasks.subword_labels import predict_subwords, subword_tags

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "tests" / "fixtures" / "authors" / "ner_subword_scoring.json"
COMMIT = "6a38462b6598325894582ca163ded9a6a99d7c4a"
CORPUS = ["Maria Lopez visited the Amazonas river near Manaus",
          "The United Nations office in Geneva hired Kwame Nkrumah",
          "Ethiopia and Eritrea signed an agreement in Addis Ababa",
          "Tokyo Metropolitan Government"] * 3
SENTENCES = [
    ("Maria Lopez visited Manaus".split(), ["B-PER", "I-PER", "O", "B-LOC"]),
    ("The United Nations office in Geneva".split(), ["O", "B-ORG", "I-ORG", "O", "O", "B-LOC"]),
    ("Kwame Nkrumah signed in Addis Ababa".split(), ["B-PER", "I-PER", "O", "O", "B-LOC", "I-LOC"]),
    ("Ethiopia and Eritrea".split(), ["B-LOC", "O", "B-LOC"]),
    ("Tokyo Metropolitan Government hired Maria".split(), ["B-ORG", "I-ORG", "I-ORG", "O", "B-PER"]),
]
ERROR_RATE, PREDICTION_SEED = 0.08, 7


def tokenizer():
    """A 160-piece XLM-R-style tokenizer: most of the test's words split into several subwords."""
    return train_tiny_tokenizer("xlmr", CORPUS, 160)


def simulated_predictions(gold_ids: list[list[int]], n_labels: int) -> list[list[int]]:
    """Per sentence and position: the gold id, or with probability ERROR_RATE a random one."""
    rng = random.Random(PREDICTION_SEED)
    return [[rng.randrange(n_labels) if rng.random() < ERROR_RATE else max(g, 0) for g in row]
            for row in gold_ids]


# ---------------------------------------------------------------- their functions, via ast


def _function(path: Path, name: str, namespace: dict, owner: str | None = None):
    """The function ``name`` (a method of class ``owner``) of ``path``, run in ``namespace``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    scope = tree.body
    if owner is not None:
        scope = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == owner).body
    node = next(n for n in scope if isinstance(n, ast.FunctionDef) and n.name == name)
    exec(compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec"), namespace)
    return namespace[name]


def authors_functions(repo: Path) -> dict:
    """Their labelling, label names, post-processing and seqeval metric (``xlm/`` tree)."""
    from seqeval.metrics import accuracy_score, classification_report

    xlm = repo / "xlm"
    converter: dict = {}
    exec(compile((xlm / "UniBridge/NER/label_converter.py").read_text(), "label_converter", "exec"),
         converter)
    # their annotations name typing's List, Optional and Union
    namespace = {name: getattr(typing, name) for name in ("List", "Optional", "Union")}
    return {
        "align_target": _function(xlm / "UniBridge/NER/dataloader.py", "__align_labels_with_tokens",
                                  {}, owner="TagAncDataLoader"),
        "align_source": _function(xlm / "UniBridgeSrc/NER/dataloader.py", "__align_labels_with_tokens",
                                  {}, owner="NERAdapterDataLoader"),
        "labels": converter["LabelConverter"](),
        "postprocess": _function(xlm / "pinference_ner.py", "postprocess", {}),
        "seqeval": _function(xlm / "metrics/seqeval.py", "_compute",
                             {"classification_report": classification_report, "importlib": importlib,
                              "accuracy_score": accuracy_score, **namespace}, owner="Seqeval"),
    }


def authors_values(repo: Path) -> dict:
    """What their functions give on :data:`SENTENCES`: labels, and F1 of the simulated predictions."""
    functions = authors_functions(repo)
    converter = functions["labels"]
    tok = tokenizer()
    encodings = [tok(words, is_split_into_words=True) for words, _ in SENTENCES]
    word_ids = [encoding.word_ids() for encoding in encodings]
    label_ids = [[converter.label2id[t] for t in tags] for _, tags in SENTENCES]
    labels = [functions["align_target"](None, ids, words) for ids, words in zip(label_ids, word_ids)]
    source_labels = [functions["align_source"](None, ids, words) for ids, words in zip(label_ids, word_ids)]
    predictions = simulated_predictions(labels, len(converter.id2label))
    width = max(len(row) for row in labels)  # their padding="max_length": -100 beyond each sentence
    padded = torch.tensor([row + [-100] * (width - len(row)) for row in labels])
    padded_predictions = torch.tensor([row + [0] * (width - len(row)) for row in predictions])
    # pinference_ner.py:85 unpacks postprocess's (labels, predictions) as (predictions, labels)
    decoded_preds, decoded_labels = functions["postprocess"](converter, padded_predictions, padded)
    scores = functions["seqeval"](None, predictions=decoded_preds, references=decoded_labels)
    return {"input_ids": [e["input_ids"] for e in encodings], "word_ids": word_ids, "labels": labels,
            "source_labels": source_labels, "predictions": predictions,
            "f1": 100 * scores["overall_f1"], "precision": 100 * scores["overall_precision"],
            "recall": 100 * scores["overall_recall"]}


def record(repo: Path) -> None:
    """Write :data:`RECORDED` from the checkout ``repo`` (the module docstring's command)."""
    values = authors_values(repo)
    values = {"commit": COMMIT, "repository": "TokisakiKurumi2001/UniBridge",
              "functions": ["xlm/UniBridge/NER/dataloader.py TagAncDataLoader.__align_labels_with_tokens",
                            "xlm/UniBridgeSrc/NER/dataloader.py "
                            "NERAdapterDataLoader.__align_labels_with_tokens",
                            "xlm/UniBridge/NER/label_converter.py LabelConverter",
                            "xlm/pinference_ner.py postprocess", "xlm/metrics/seqeval.py Seqeval._compute"],
              "command": "UNIBRIDGE_AUTHORS_REPO=/path/to/UniBridge PYTHONPATH=. "
                         "python3 tests/test_fidelity_task_adapters.py",
              "sentences": [{"tokens": w, "tags": t} for w, t in SENTENCES], **values}
    RECORDED.parent.mkdir(parents=True, exist_ok=True)
    RECORDED.write_text(json.dumps(values, indent=1) + "\n", encoding="utf-8")


def _sources():
    yield pytest.param("recorded", id="recorded")
    yield pytest.param("live", id="live", marks=pytest.mark.skipif(
        not os.environ.get("UNIBRIDGE_AUTHORS_REPO"), reason="needs UNIBRIDGE_AUTHORS_REPO"))


@pytest.fixture(scope="module", params=list(_sources()))
def theirs(request):
    if request.param == "live":
        return authors_values(Path(os.environ["UNIBRIDGE_AUTHORS_REPO"]))
    return json.loads(RECORDED.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- ours


def ours(predictions: list[list[int]]) -> tuple:
    """The harness's ``authors`` path on :data:`SENTENCES`: all-subword encoding, subword F1."""
    task = get_task("ner")
    examples = [TaggedSentence(tuple(w), tuple(t)) for w, t in SENTENCES]
    encoded = task.encode(examples, tokenizer(), 510, "first", overflow="window", subword_labels="all")
    logits = [torch.nn.functional.one_hot(torch.tensor(row[: len(f["input_ids"])]), len(task.labels)).float()
              for row, f in zip(predictions, encoded.features)]
    predicted = predict_subwords(task, encoded, logits)
    return encoded, predicted, task.metric.score(encoded.subword_tags, predicted)


def test_the_tokenizer_splits_words_as_theirs_does(theirs):
    encoded, _, _ = ours(theirs["predictions"])
    assert [f["input_ids"] for f in encoded.features] == theirs["input_ids"]
    assert sum(len(words) for words, _ in SENTENCES) < sum(len(ids) - 2 for ids in theirs["input_ids"])


def test_all_subword_labels_equal_their_dataloaders(theirs):
    encoded, _, _ = ours(theirs["predictions"])
    assert [f["labels"] for f in encoded.features] == theirs["labels"] == theirs["source_labels"]
    # and the rule on its own, on their word ids: B-X continued as I-X, specials unlabelled
    labels = get_task("ner").labels
    for (_, tags), words, expected in zip(SENTENCES, theirs["word_ids"], theirs["labels"]):
        ids = [-1 if w is None else w for w in words]
        assert [-100 if t is None else labels.index(t) for t in subword_tags(tags, ids)] == expected


def test_subword_f1_equals_their_scoring(theirs):
    _, _, f1 = ours(theirs["predictions"])
    assert f1 == pytest.approx(theirs["f1"], abs=1e-9)
    assert 0 < f1 < 100


def test_word_scoring_of_the_same_predictions_differs():
    """The unit matters: the same subword predictions read at first subwords give another F1."""
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    encoded, _, subword_f1 = ours(recorded["predictions"])
    task = get_task("ner")
    logits = [torch.nn.functional.one_hot(torch.tensor(row[: len(f["input_ids"])]), len(task.labels)).float()
              for row, f in zip(recorded["predictions"], encoded.features)]
    word_f1 = entity_f1([t for _, t in SENTENCES], task.predict(encoded, logits))
    assert word_f1 != pytest.approx(subword_f1)


if __name__ == "__main__":
    record(Path(os.environ.get("UNIBRIDGE_AUTHORS_REPO") or sys.exit("set UNIBRIDGE_AUTHORS_REPO")))
    print(f"wrote {RECORDED}")
