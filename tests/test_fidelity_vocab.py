"""Stage 1 under ``fidelity: authors``: the harness's search against the authors' ``train``.

Their search is ``UniBridge/MultiTok/train.py``'s ``train(use_alp=True)`` at commit 6a38462
(the same in ``xlm/`` and ``mbert/``). Two forms of one comparison, on fixture corpora with
sizes scaled down (their v_i = 3000 needs far more text than a fixture holds):

- recorded: ``tests/fixtures/authors/vocab_search.json`` holds the sizes and ALP their function
  returned, with the commit and the command that wrote it; runs everywhere (CI has no checkout),
  for the SentencePiece version recorded (the trained pieces depend on it).
- live: with ``UNIBRIDGE_AUTHORS_REPO`` set to a checkout, their ``train`` itself runs, loaded
  from its file with ``ast`` (the module imports ``datasets`` and ``loguru``; ``load_dataset``
  is replaced by the corpus's lines, ``logger`` and ``tqdm`` by no-ops).

Re-record (writes the JSON for the installed SentencePiece; give a path with another version
first on ``PYTHONPATH`` to add its values)::

    UNIBRIDGE_AUTHORS_REPO=/path/to/UniBridge python3 tests/test_fidelity_vocab.py --record
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import sys
import tempfile
import types
from pathlib import Path

import pytest
import sentencepiece

from harness.methods.unibridge.authors import AUTHORS_COMMIT
from harness.methods.unibridge.vocab import VocabSearchConfig, authors_options, run_search

ROOT = Path(__file__).resolve().parents[1]
MONOLINGUAL = ROOT / "fixtures" / "monolingual"
RECORDED = ROOT / "tests" / "fixtures" / "authors" / "vocab_search.json"
THEIR_FILE = "mbert/UniBridge/MultiTok/train.py"

#: name → (fixture files concatenated, v_i, δ_v, v_m, ε_s). ``tgl_cap`` ends at the corpus's
#: limit (766 pieces): their code steps back to the grid (750), the paper's reading takes 766.
#: ``tgl_long_line`` joins the first :data:`JOINED` lines into one line of 6,098 bytes, which their
#: SentencePiece default (4192 bytes) leaves out of training.
CASES = {
    "latin4_scan": (("tgl", "aym", "grn", "eng"), 500, 250, 6000, 1.0),
    "tgl_threshold": (("tgl",), 300, 100, 6000, 5.0),
    "tgl_cap": (("tgl",), 500, 250, 6000, 1.0),
    "tgl_long_line": (("tgl",), 300, 100, 6000, 2.0),
}
JOINED = 150


def case_corpus(name: str, directory: Path) -> Path:
    """The case's corpus: its fixture files, concatenated."""
    path = directory / f"{name}.txt"
    text = "".join((MONOLINGUAL / f"{lang}.txt").read_text(encoding="utf-8") for lang in CASES[name][0])
    if name == "tgl_long_line":
        lines = text.split("\n")
        text = "\n".join([" ".join(lines[:JOINED])] + lines[JOINED:])
    path.write_text(text, encoding="utf-8")
    return path


def our_search(name: str, directory: Path, tree: str = "mbert", lookahead: int = 1) -> dict:
    """The harness's search on the case under the authors' options of ``tree``."""
    _, start, step, max_size, threshold = CASES[name]
    config = VocabSearchConfig(**authors_options(tree) | dict(
        start=start, step=step, max_size=max_size, threshold=threshold))
    report = run_search(case_corpus(name, directory), config, directory / f"out-{name}",
                        directory / "cache", lookahead=lookahead)
    return {"size": report["size"], "alp": {int(v): a for v, a in report["alp"].items()}}


def their_train(repo: Path):
    """``train`` of their ``train.py``, its module's functions exec'd with stand-ins for imports."""
    source = (repo / THEIR_FILE).read_text(encoding="utf-8")
    body = [node for node in ast.parse(source).body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    namespace = {"math": math, "re": re, "os": os, "json": json, "spm": sentencepiece,
                 "List": list, "tqdm": lambda items, **_: items,
                 "logger": types.SimpleNamespace(info=lambda *_, **__: None)}
    exec(compile(ast.Module(body=body, type_ignores=[]), str(repo / THEIR_FILE), "exec"), namespace)
    return namespace


def their_search(name: str, repo: Path, directory: Path) -> dict:
    """Their ``train(use_alp=True, debug=True)`` on the case; its ``study_alp`` trajectory."""
    _, start, step, max_size, threshold = CASES[name]
    lines = [line for line in case_corpus(name, directory).read_text(encoding="utf-8").split("\n")
             if line]
    namespace = their_train(repo)
    namespace["load_dataset"] = lambda *_: {"train": {"text": lines}}
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)  # their train writes into the working directory
        try:
            namespace["train"]("xx", "data", "tok", use_alp=True, min_vocab=start,
                               max_vocab=max_size, vocab_step=step, alp_threshold=threshold,
                               debug=True, is_bpe=False)
            study = json.loads(Path("study_alp_xx.json").read_text())
        finally:
            os.chdir(cwd)
    return {"size": study[-1]["vocab_size"], "alp": {s["vocab_size"]: s["alp"] for s in study}}


def recorded_cases() -> dict:
    """The recorded values of the installed SentencePiece version, {} when none were recorded."""
    return json.loads(RECORDED.read_text())["results"].get(sentencepiece.__version__, {})


def assert_same(ours: dict, theirs: dict) -> None:
    assert ours["size"] == theirs["size"]
    assert sorted(ours["alp"]) == sorted(int(v) for v in theirs["alp"])
    for size, alp in theirs["alp"].items():
        assert ours["alp"][int(size)] == pytest.approx(alp, rel=1e-12, abs=0)


@pytest.mark.parametrize("name", sorted(CASES))
def test_search_equals_the_recorded_authors_search(name, tmp_path):
    recorded = recorded_cases()
    if name not in recorded:
        pytest.skip(f"no values recorded for sentencepiece {sentencepiece.__version__}")
    assert_same(our_search(name, tmp_path), recorded[name])


def test_the_lookahead_does_not_change_the_authors_search(tmp_path):
    recorded = recorded_cases().get("tgl_cap")
    if recorded is None:
        pytest.skip(f"no values recorded for sentencepiece {sentencepiece.__version__}")
    assert_same(our_search("tgl_cap", tmp_path, lookahead=3), recorded)


@pytest.mark.skipif(not os.environ.get("UNIBRIDGE_AUTHORS_REPO"),
                    reason="UNIBRIDGE_AUTHORS_REPO (a checkout of their code) is not set")
@pytest.mark.parametrize("name", sorted(CASES))
def test_search_equals_their_train_run_now(name, tmp_path):
    theirs = their_search(name, Path(os.environ["UNIBRIDGE_AUTHORS_REPO"]), tmp_path)
    assert_same(our_search(name, tmp_path), theirs)


def test_the_recording_names_its_commit_and_command():
    recorded = json.loads(RECORDED.read_text())
    assert recorded["commit"] == AUTHORS_COMMIT
    assert "--record" in recorded["command"] and recorded["function"].endswith(":train")
    assert {name: list(case[1:]) for name, case in CASES.items()} == {
        name: [case["start"], case["step"], case["max_size"], case["threshold"]]
        for name, case in recorded["cases"].items()}


def test_authors_options_are_their_code_s_and_the_paper_s_keys_stay():
    for tree in ("xlm", "mbert"):
        config = VocabSearchConfig(**authors_options(tree))
        assert (config.start, config.step, config.max_size, config.threshold) == (3000, 1000, 60000, 5.0)
        assert (config.character_coverage, config.num_threads, config.max_sentence_length) == (1.0, 16, 4192)
        assert (config.stop_rule, config.cap_rule) == ("abs_delta_lt", "last_grid_size")
    assert "stop_rule" not in VocabSearchConfig().model_dump()
    assert "cap_rule" not in VocabSearchConfig().model_dump()


@pytest.mark.parametrize(("rule", "deltas", "stop_at"), [
    ("delta_le", [8.0, -7.0, 1.0], 2),       # Algorithm 1: a fall of ALP ends the search
    ("abs_delta_lt", [8.0, -7.0, 1.0], 3),   # their |Δ| < ε goes on past the fall
    ("delta_le", [8.0, 5.0, 1.0], 2),        # Δ = ε stops the paper's rule ...
    ("abs_delta_lt", [8.0, 5.0, 1.0], 3),    # ... but not theirs
])
def test_stop_rule_on_hand_worked_curves(rule, deltas, stop_at):
    from harness.methods.unibridge.size_search import search_vocab_size

    config = VocabSearchConfig(start=100, step=10, max_size=1000, threshold=5.0, stop_rule=rule)
    alp = [0.0]
    for delta in deltas + [0.0] * 100:
        alp.append(alp[-1] + delta)
    outcome = search_vocab_size(lambda sizes: {s: alp[(s - 100) // 10] for s in sizes}, config, 1)
    assert outcome.size == 100 + 10 * stop_at


@pytest.mark.parametrize(("top", "floor", "cap", "grid"), [
    (766, 0, 766, 750), (1000, 0, 1000, 1000), (60_000, 0, 60_000, 60_000),
    (320, 0, 320, 250),   # below v_i: their code steps back once, to v_i − δ_v
    (240, 0, 240, 240),   # below v_i − δ_v: their code fails; the corpus's limit stands
    (300, 280, 300, 300),  # v_i − δ_v = 250 is below the smallest trainable size
])
def test_cap_rule_by_hand(top, floor, cap, grid):
    assert VocabSearchConfig(start=500, step=250).capped(top, floor) == cap
    config = VocabSearchConfig(start=500, step=250, cap_rule="last_grid_size")
    assert config.capped(top, floor) == grid


def record(repo: Path) -> None:
    """Run their ``train`` on every case and add its values to the JSON, by SentencePiece version."""
    recorded = json.loads(RECORDED.read_text()) if RECORDED.is_file() else {"results": {}}
    with tempfile.TemporaryDirectory() as scratch:
        results = {name: their_search(name, repo, Path(scratch)) for name in CASES}
    recorded.update({
        "commit": AUTHORS_COMMIT, "file": THEIR_FILE,
        "function": f"{THEIR_FILE}:train",
        "command": "UNIBRIDGE_AUTHORS_REPO=<checkout> python3 tests/test_fidelity_vocab.py --record",
        "cases": {name: {"corpus": [f"fixtures/monolingual/{lang}.txt" for lang in case[0]],
                         "start": case[1], "step": case[2], "max_size": case[3],
                         "threshold": case[4]} for name, case in CASES.items()},
    })
    recorded["results"][sentencepiece.__version__] = results
    RECORDED.parent.mkdir(parents=True, exist_ok=True)
    RECORDED.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps({name: r["size"] for name, r in results.items()}))


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    record(Path(os.environ["UNIBRIDGE_AUTHORS_REPO"]))
