"""The whole product through its CLI: a mini suite on tiny backbones and the shipped fixtures.

One NER target, two sources, the zero-shot baseline, UniBridge and its multi-source ablation on
a tiny XLM-R: every stage runs for real (vocabulary search, FastText + alignment, adapter
training with KL, task adapters, harmony-weighted inference), then a second run must find every
job cached and the report command must render the results table.
"""

import json
from pathlib import Path

import pytest
import sentencepiece
import yaml
from click.testing import CliRunner

from harness.cli.main import cli
from harness.run.records import read_results

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
UNIBRIDGE = {
    "vocab": {"start": 100, "step": 100, "max_size": 800},
    "embeddings": {"fasttext_dim": 16},
    "adaptation": {"max_steps": 2, "batch_size": 4, "max_device_batch_size": 4},
    "task_adapter": {"max_steps": 3, "batch_size": 4, "max_device_batch_size": 4},
}

pytestmark = pytest.mark.slow


def mini_suite(tmp_path: Path) -> Path:
    payload = {
        "name": "e2e",
        "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh"], "sources": ["eng", "zho"],
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}, "target_samples": 120,
                        "source_samples": 120, "words_per_sample": 24},
        "parallel": {"path": str(FIXTURES / "parallel")},
        "methods": {"zero_shot": {"training": {"max_steps": 3, "batch_size": 4,
                                               "max_device_batch_size": 4}},
                    "unibridge": UNIBRIDGE, "unibridge_no_multi_source": UNIBRIDGE},
    }
    path = tmp_path / "e2e.yaml"
    path.write_text(yaml.safe_dump(payload))
    return path


def run(*args: object):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("e2e")
    suite, workdir = mini_suite(tmp_path), tmp_path / "work"
    run("run", suite, "--workdir", workdir, "--device", "cpu")
    return suite, workdir


def test_every_job_has_a_score(finished_run):
    _, workdir = finished_run
    records = {r.method: r for r in read_results(workdir / "results.jsonl")}
    assert set(records) == {"zero_shot", "unibridge", "unibridge_no_multi_source"}
    assert all(r.metric == "f1" and 0.0 <= r.value <= 100.0 for r in records.values())


def test_harmony_weights_are_recorded_and_form_a_distribution(finished_run):
    _, workdir = finished_run
    [record] = [r for r in read_results(workdir / "results.jsonl") if r.method == "unibridge"]
    weights = record.details["weights"]
    assert set(weights) == {"eng", "zho"} and sum(weights.values()) == pytest.approx(1.0)
    [ablation] = [r for r in read_results(workdir / "results.jsonl")
                  if r.method == "unibridge_no_multi_source"]
    assert ablation.details["weights"] == {"eng": 1.0}


def test_vocabulary_search_result_is_in_the_cache(finished_run):
    _, workdir = finished_run
    searches = list(workdir.glob("**/search.json"))
    assert len(searches) == 1  # shared by both UniBridge variants
    search = json.loads(searches[0].read_text())
    pieces = sentencepiece.SentencePieceProcessor(model_file=str(searches[0].parent / "spm.model"))
    assert search["vocab_size"] == pieces.get_piece_size() <= 800
    assert any("too small" in note for note in search["notes"])  # Ge'ez script needs > 100 pieces


def test_second_run_is_fully_cached_and_report_renders(finished_run):
    suite, workdir = finished_run
    dry = run("run", suite, "--workdir", workdir, "--dry-run")
    assert dry.output.count("cached  ") == 3 and dry.output.rstrip().endswith(", 0 to run")
    run("report", workdir)
    assert "unibridge" in (workdir / "tables" / "results-ner.md").read_text()
    assert "UniBridge (XLM-R)" in (workdir / "tables" / "table01.md").read_text()  # the paper's Table 1
    assert (workdir / "run.json").is_file() and (workdir / "report.html").is_file()
