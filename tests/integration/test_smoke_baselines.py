"""End to end: `run suites/smoke_baselines.yaml`, every baseline on the tiny backbones it pairs with."""

import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli.main import cli
from harness.run.records import read_results

SUITE = Path(__file__).resolve().parents[2] / "suites" / "smoke_baselines.yaml"
PAIRS = {"mad_x": {"tiny-xlmr", "tiny-mbert", "tiny-mgpt", "tiny-mbart"},
         "unibridge_lang2vec": {"tiny-xlmr", "tiny-mbert"}, "focus": {"tiny-xlmr", "tiny-mbert"},
         "extend": {"tiny-mbert"}}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke-baselines")
    result = CliRunner().invoke(cli, ["run", str(SUITE), "--workdir", str(workdir), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    return read_results(workdir / "results.jsonl")


def test_every_baseline_runs_on_its_backbones_for_every_task(records):
    found = {}
    for record in records:
        found.setdefault(record.method, set()).add(record.backbone)
        assert math.isfinite(record.value)
    assert found == PAIRS
    assert len(records) == 3 * sum(len(backbones) for backbones in PAIRS.values())


def test_lang2vec_weights_are_recorded_uniform_for_guarani(records):
    lang2vec = [r for r in records if r.method == "unibridge_lang2vec"]
    for record in lang2vec:
        weights = record.details["weights"]
        assert math.isclose(sum(weights.values()), 1.0, abs_tol=1e-9)
        distances = record.facts("lang2vec_distance")
        assert len(distances) == len(weights)
        if record.lang == "grn":  # lang2vec lacks Guarani (grn): uniform, as the paper's pbt
            assert all(not facts["known"] for facts in distances.values())
            assert all(math.isclose(w, 1 / len(weights)) for w in weights.values())


def test_extend_and_focus_record_their_stage_facts(records):
    for record in records:
        if record.method == "extend":
            [extension] = record.facts("vocab_extension").values()
            assert extension["new_tokens"] > 0
            assert extension["size"] == extension["old_size"] + extension["new_tokens"]
        if record.method == "focus":
            [focus] = record.facts("focus_init").values()
            assert 0 < focus["overlapping"] <= focus["total"]
