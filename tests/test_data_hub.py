"""The hub form and the local form of the same records give the same examples.

``datasets.load_dataset`` is replaced by a function that serves real ``datasets.Dataset`` objects
in each hub dataset's own schema (WikiANN integer tags, UD class-label UPOS with ``_`` for
multi-word ranges, XNLI integer labels, FLORES+ rows with ids, Wikipedia ``text``), built from
the shipped fixtures, so the hub code path runs for real without a network.
"""

from pathlib import Path

import datasets
import pytest

from harness.data import monolingual, nli, parallel, ud, wikiann
from harness.data.examples import NER_LABELS, NLI_LABELS, UPOS_LABELS
from harness.data.source import DataError, DataSource

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LOCAL = {name: DataSource(path=FIXTURES / name) for name in ("wikiann", "ud", "nli", "parallel",
                                                              "monolingual")}
HUB = DataSource(hub="some/hub-dataset")


@pytest.fixture
def hub(monkeypatch):
    """Install a fake ``load_dataset`` serving ``tables[(config, split)]``; returns the dict."""
    tables: dict[tuple[str, str], datasets.Dataset] = {}
    calls = []

    def load_dataset(path, name=None, split=None, revision=None, **kwargs):
        calls.append((path, name, split, revision))
        if (name, split) not in tables:
            raise FileNotFoundError(f"no config {name} / split {split}")
        return tables[(name, split)]

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    tables["calls"] = calls
    return tables


def test_wikiann(hub):
    records = wikiann.load(LOCAL["wikiann"], "amh", "test")
    hub[("am", "test")] = datasets.Dataset.from_dict({
        "tokens": [list(r.tokens) for r in records],
        "ner_tags": [[NER_LABELS.index(t) for t in r.tags] for r in records]})
    assert wikiann.load(HUB, "amh", "test") == records
    assert hub["calls"][-1] == ("some/hub-dataset", "am", "test", None)


def test_ud_skips_multiword_ranges(hub):
    records = ud.load(LOCAL["ud"], "tgl", "test")
    names = [*UPOS_LABELS, "_"]
    features = datasets.Features({"tokens": datasets.Sequence(datasets.Value("string")),
                                  "upos": datasets.Sequence(datasets.ClassLabel(names=names))})
    rows = {"tokens": [], "upos": []}
    for record in records:  # a multi-word range "a-b" before the first word, as UD writes it
        rows["tokens"].append(["range", *record.tokens])
        rows["upos"].append([names.index("_"), *(names.index(t) for t in record.tags)])
    half = len(records) // 2  # tgl concatenates two treebanks, as the paper does
    hub[("tl_trg", "test")] = datasets.Dataset.from_dict(
        {key: value[:half] for key, value in rows.items()}, features=features)
    hub[("tl_ugnayan", "test")] = datasets.Dataset.from_dict(
        {key: value[half:] for key, value in rows.items()}, features=features)
    assert ud.load(HUB, "tgl", "test") == records


def test_nli(hub):
    records = nli.load(LOCAL["nli"], "eng", "validation")
    hub[("en", "validation")] = datasets.Dataset.from_dict({
        "premise": [r.premise for r in records], "hypothesis": [r.hypothesis for r in records],
        "label": [r.label for r in records]})
    assert nli.load(HUB, "eng", "validation") == records
    assert all(0 <= r.label < len(NLI_LABELS) for r in records)


def test_parallel_rows_are_aligned_by_id(hub):
    records = parallel.load(LOCAL["parallel"], "amh", "eng")
    for lang, column in (("amh_Ethi", 0), ("eng_Latn", 1)):
        texts = [pair[column] for pair in records]
        ids = list(range(len(texts)))[::-1]  # served in reverse order: the loader sorts by id
        hub[(lang, "dev")] = datasets.Dataset.from_dict({"id": ids, "text": texts[::-1]})
    assert parallel.load(HUB, "amh", "eng") == records


def test_monolingual(hub):
    lines = (FIXTURES / "monolingual" / "amh.txt").read_text(encoding="utf-8").splitlines()
    hub[("20231101.am", "train")] = datasets.Dataset.from_dict({"text": lines})
    expected = monolingual.load(LOCAL["monolingual"], "amh", 20, 16, seed=3)
    assert monolingual.load(HUB, "amh", 20, 16, seed=3) == expected


def test_hub_failure_is_one_clear_message(hub):
    with pytest.raises(DataError, match=r"cannot load hub dataset 'some/hub-dataset' \(config 'am'"):
        wikiann.load(HUB, "amh", "train")
