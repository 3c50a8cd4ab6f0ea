"""benchmarks/compare_records.py: the CUDA-against-CPU comparer of benchmarks/gpu_check.sh.

Records are written as the harness writes them (ResultRecord -> results.jsonl), shaped like a
smoke-suite UniBridge record, then changed one value at a time.
"""

import copy
import json
import math
import sys
from pathlib import Path

import pytest

from harness.run.records import ResultRecord

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from compare_records import compare_records, main, read_records  # noqa: E402


def record(**changes) -> dict:
    base = ResultRecord(
        method="unibridge", backbone="tiny-xlmr", task="ner", lang="amh", seed=1, metric="f1",
        value=12.5, config_hash="ab" * 32, versions={"torch": "2.13.0"}, seconds={"evaluation": 1.5},
        details={"n_examples": 16, "split_digest": "3bd03446925357fa", "per_example": {"tp": [0, 1]},
                 "weights": {"eng": 0.2, "rus": 0.8}},
        stages={"target": {"kind": "language_adapter", "final_loss": 5.776, "steps": 4},
                "task_eng": {"kind": "task_adapter", "best_validation_score": 9.52, "steps": 8},
                "target/embeddings/tokenizer": {"kind": "vocab_search", "vocab_size": 257}},
    ).model_dump(mode="json")
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        inner = base
        for part in parents:
            inner = inner[part]
        inner[leaf] = value
    return base


def as_run(*records: dict) -> dict:
    return {f"{r['method']}/{r['backbone']}/{r['task']}/{r['lang']}/seed{r['seed']}": r for r in records}


def differences(changed: dict) -> list[str]:
    return [d.where for d in compare_records(as_run(record()), as_run(changed))]


def test_identical_records_agree_and_run_facts_are_not_compared():
    other = record(seconds={"evaluation": 99.0}, versions={"torch": "2.13.0+cu128"})
    other["details"]["per_example"]["tp"] = [1, 1]  # follows the score
    assert differences(other) == []


@pytest.mark.parametrize(("path", "inside", "outside"), [
    ("value", 22.5, 22.6),                                           # 10 metric points
    ("stages__task_eng__best_validation_score", 0.0, -0.49),          # a score: points too
    ("stages__target__final_loss", 5.776 * 1.05, 5.776 * 1.06),     # 5 % of the larger
    ("details__weights__rus", 0.79, 0.75),
])
def test_numbers_within_their_tolerance_pass_and_beyond_it_fail(path, inside, outside):
    assert differences(record(**{path: inside})) == []
    assert differences(record(**{path: outside})) == [path.replace("__", ".")]


@pytest.mark.parametrize(("path", "value"), [
    ("stages__target/embeddings/tokenizer__vocab_size", 258),   # stage 1 runs on the CPU in both
    ("stages__target__steps", 3),
    ("details__split_digest", "0000000000000000"),
    ("metric", "accuracy"),
])
def test_integers_and_strings_must_be_equal(path, value):
    found = compare_records(as_run(record()), as_run(record(**{path: value})))
    assert [(d.where, d.rule) for d in found] == [(path.replace("__", "."), "must be equal")]


def test_a_nan_anywhere_is_a_difference_even_against_nan():
    nan = record(stages__target__final_loss=math.nan)
    found = compare_records(as_run(nan), as_run(copy.deepcopy(nan)))
    assert [(d.where, d.rule) for d in found] == [("stages.target.final_loss", "not finite")]


def test_a_job_or_a_fact_of_one_run_only_is_a_difference():
    pos = record(task="pos", value=40.0)
    found = compare_records(as_run(record(), pos), as_run(record()))
    assert [(d.job, d.rule) for d in found] == [("unibridge/tiny-xlmr/pos/amh/seed1", "in one run only")]
    extra = record()
    extra["stages"]["target"]["note"] = "shortfall"
    assert differences(extra) == ["stages.target.note"]


def write_run(folder: Path, *records: dict) -> Path:
    folder.mkdir()
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


def test_main_reads_workdirs_and_files_and_exits_1_on_a_difference(tmp_path, capsys):
    a = write_run(tmp_path / "cpu", record(), record(task="pos", value=40.0))
    b = write_run(tmp_path / "cuda", record(value=14.0), record(task="pos", value=60.0))
    assert len(read_records(a)) == len(read_records(a / "results.jsonl")) == 2
    assert main([str(a), str(a / "results.jsonl")]) == 0
    out = tmp_path / "diff.json"
    assert main([str(a), str(b), "--json", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "score |B - A|: mean 10.75, max 20.00 points" in printed
    assert "DIFFER: 1 values outside tolerance" in printed
    saved = json.loads(out.read_text())
    assert saved["score_max_abs_delta"] == 20.0
    assert saved["differences"] == ["unibridge/tiny-xlmr/pos/amh/seed1: value: 40.0 vs 60.0 "
                                    "(more than 10 points apart)"]


def test_a_line_that_is_not_a_record_is_named_and_skipped(tmp_path, caplog):
    run = write_run(tmp_path / "cpu", record())
    with (run / "results.jsonl").open("a") as handle:
        handle.write('{"method": "unibridge"}\n')
    assert list(read_records(run)) == ["unibridge/tiny-xlmr/ner/amh/seed1"]
    assert "line 2: not a result record" in caplog.text
