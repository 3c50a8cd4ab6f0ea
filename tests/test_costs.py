"""Stage costs with and without sharing, and the `plan` command's figures."""

import json
import re
from collections import Counter, namedtuple
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from harness.cli.main import cli
from harness.planning.costs import (
    REFERENCES,
    measured_hours,
    paper_scaled_hours,
    planned_steps,
    stage_costs,
    total_hours,
)
from harness.training.arguments import TrainingConfig

PAPER_SCHEDULES = {"language_adapter": TrainingConfig(epochs=50, batch_size=32, learning_rate=5e-4),
                   "task_adapter": TrainingConfig(epochs=11, batch_size=32, learning_rate=5e-4)}


def Fake(kind, key, schedule=None):  # noqa: N802  (stands in for a Stage: costs read kind, key, schedule)
    schedule = schedule or PAPER_SCHEDULES.get(kind)
    return SimpleNamespace(kind=kind, key=key, **({"schedule": lambda: schedule} if schedule else {}))


def test_costs_count_each_stage_once_with_sharing_and_once_per_job_without():
    stages = [Fake("language_adapter", "la-eng"), Fake("language_adapter", "la-amh"),
              Fake("task_adapter", "ta-eng"), Fake("corpus", "c")]
    sharing = Counter({"la-eng": 3, "la-amh": 1, "ta-eng": 3, "c": 4})
    rows = {row.kind: row for row in stage_costs(stages, sharing, {})}
    la = rows["language_adapter"]
    assert (la.stages, la.uses, la.shared, la.hours, la.source) == (2, 4, 1, 2.5, "paper T4 x steps")
    assert la.total(True) == 5.0 and la.total(False) == 10.0
    assert rows["corpus"].hours is None and rows["corpus"].total(True) is None
    assert total_hours(rows.values(), True) == 2 * 2.5 + 1 * 0.5
    assert total_hours(rows.values(), False) == 4 * 2.5 + 3 * 0.5


def test_measured_timings_replace_the_paper_figures(tmp_path):
    for key, seconds in (("a", 1800), ("b", 5400)):
        (tmp_path / "task_adapter" / key).mkdir(parents=True)
        (tmp_path / "task_adapter" / key / "manifest.json").write_text(
            json.dumps({"kind": "task_adapter", "seconds": seconds}))
    measured = measured_hours(tmp_path)
    assert measured == {"task_adapter": (1.0, 2)}
    rows = stage_costs([Fake("task_adapter", "t"), Fake("language_adapter", "l")],
                       Counter({"t": 2, "l": 1}), measured)
    assert [(r.kind, r.hours, r.source) for r in rows] == [
        ("language_adapter", REFERENCES["language_adapter"].t4_hours, "paper T4 x steps"),
        ("task_adapter", 1.0, "measured (2)")]


@pytest.mark.parametrize("suite", ["smoke_baselines"])
def test_plan_prints_shared_stages_and_hours(suite, tmp_path):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "suites" / f"{suite}.yaml"
    result = CliRunner().invoke(cli, ["plan", str(path), "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    language = next(line.split() for line in lines if line.startswith("language_adapter"))
    stages, shared, uses = map(int, language[1:4])
    assert shared <= stages < uses
    assert "paper T4 x steps" in result.output and "sharing saves" in result.output
    assert "sharing across methods saves" in result.output


@pytest.mark.parametrize("suite", ["wikiann", "ud", "americasnli"])
def test_plan_of_a_paper_suite_needs_no_data_and_sharing_saves_40_percent(suite, tmp_path, monkeypatch):
    """Plan keys every stage offline without reading data: the authors' parallel files by their pins."""
    from pathlib import Path

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = Path(__file__).resolve().parents[1] / "suites" / f"{suite}.yaml"
    result = CliRunner().invoke(cli, ["plan", str(path), "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    missing = [line for line in result.stderr.splitlines() if line.startswith("not readable here")]
    assert missing == []
    saved = next(line for line in result.stdout.splitlines() if line.startswith("GPU-hours"))
    hours = re.fullmatch(r"GPU-hours \(costed kinds\): ([\d.]+) with sharing, ([\d.]+) without; .*", saved)
    with_sharing, without = float(hours[1]), float(hours[2])
    assert 0 < with_sharing and 1 - with_sharing / without >= 0.40, saved


def test_per_method_hours_share_within_a_method_only():
    from harness.planning.costs import per_method_hours

    shared = SimpleNamespace(kind="language_adapter", key="eng", inputs={})
    job = namedtuple("Job", "method n")
    finals = {job(m, n): SimpleNamespace(kind="evaluation", key=f"{m}{n}",
                                                               inputs={"la": shared})
              for m in ("a", "b") for n in (1, 2)}
    assert per_method_hours(finals, lambda stage: (2.5 if stage is shared else None, "")) == 2 * 2.5
    # once per method, not once per job


def test_paper_hours_scale_with_the_stages_steps_times_batch_by_hand():
    """The paper's schedule: 10,000 samples / 32 = 313 steps an epoch, 50 epochs = 15,650 steps,
    2.5 T4-hours. MAD-X's 50,000 steps of 64: 2.5 x 50,000 x 64 / (15,650 x 32) = 15.974 h;
    a smoke cap of 40 steps of 8: 2.5 x 320 / 500,800 = 0.0015974 h; 5 epochs of 16 over the
    same 10,000 samples: 5 x 625 = 3,125 steps x 16 = 50,000 examples, 2.5 x 50,000 / 500,800."""
    assert REFERENCES["language_adapter"].steps == 15_650
    mad_x = TrainingConfig(epochs=50, batch_size=64, learning_rate=1e-4, max_steps=50_000)
    smoke = TrainingConfig(epochs=2, batch_size=8, learning_rate=5e-4, max_steps=40)
    short = TrainingConfig(epochs=5, batch_size=16, learning_rate=5e-4)
    assert planned_steps(short, 10_000) == 3_125 and planned_steps(mad_x, 10) == 50_000
    hours = {name: paper_scaled_hours(Fake("language_adapter", name, schedule))
             for name, schedule in (("paper", None), ("mad_x", mad_x), ("smoke", smoke), ("short", short))}
    assert hours["paper"] == 2.5  # a suite at the paper's schedule keeps the paper's figure
    assert hours["mad_x"] == pytest.approx(15.974441, rel=1e-6)
    assert hours["smoke"] == pytest.approx(0.0015974441, rel=1e-6)
    assert hours["short"] == pytest.approx(2.5 * 50_000 / 500_800)
    assert paper_scaled_hours(Fake("finetune", "f", short)) is None  # no paper figure
    rows = stage_costs([Fake("language_adapter", "a", mad_x), Fake("language_adapter", "b", smoke)],
                       Counter({"a": 2, "b": 1}), {})
    assert rows[0].total(True) == pytest.approx(hours["mad_x"] + hours["smoke"])
    assert rows[0].total(False) == pytest.approx(2 * hours["mad_x"] + hours["smoke"])


def calibration_suite() -> dict:
    """A tiny suite with every costed kind: zero-shot fine-tuning, MAD-X's adapters, EXTEND's MLM."""
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    small = {"batch_size": 4, "max_device_batch_size": 4}
    return {
        "name": "calibration", "backbones": ["tiny-xlmr", "tiny-mbert"],
        "tasks": {"ner": {"targets": ["amh"], "sources": ["eng"],
                          "data": {"path": str(fixtures / "wikiann")}}},
        "monolingual": {"data": {"path": str(fixtures / "monolingual")}, "target_samples": 24,
                        "source_samples": 24, "words_per_sample": 16},
        "methods": {
            "zero_shot": {"training": {"epochs": 1, "learning_rate": 1e-5, "max_steps": 30, **small},
                          "backbones": ["tiny-xlmr"]},
            "mad_x": {"adaptation": {"max_steps": 40, **small},
                      "source_adaptation": {"max_steps": 50, **small},
                      "task_adapter": {"max_steps": 20, **small}, "backbones": ["tiny-xlmr"]},
            "extend": {"vocab": {"start": 200, "step": 100, "max_size": 400},
                       "pretraining": {"max_steps": 60, **small}, "finetuning": {"max_steps": 10, **small},
                       "backbones": ["tiny-mbert"]},
        },
    }


def test_calibrate_times_each_costed_kind_and_costs_the_grid_from_it(tmp_path):
    """A tiny suite with every costed kind (zero-shot fine-tuning, MAD-X's adapters, EXTEND's
    MLM): 2 timed steps each; every stage's hours are its group's s/step x its steps."""

    import yaml

    path = tmp_path / "calibration.yaml"
    path.write_text(yaml.safe_dump(calibration_suite()))
    workdir = tmp_path / "work"
    result = CliRunner().invoke(cli, ["plan", str(path), "--workdir", str(workdir), "--calibrate",
                                      "--device", "cpu", "--steps", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("calibrated on cpu")))
    blank = lines.index("", start)
    timed = {}
    for line in lines[start + 3:blank]:
        kind, backbone, batch, seconds, steps = line.split()
        timed[(kind, backbone)] = float(seconds)
        assert (int(batch), int(steps)) == (4, 2) and float(seconds) > 0
    assert set(timed) == {("finetune", "tiny-xlmr"), ("language_adapter", "tiny-xlmr"),
                          ("task_adapter", "tiny-xlmr"), ("continued_pretraining", "tiny-mbert"),
                          ("finetune", "tiny-mbert")}
    assert lines[blank + 1].split()[:5] == ["stage", "stages", "uses", "h", "shared"]
    measured = {line.split()[0]: line.split() for line in lines[blank + 3:]
                if len(line.split()) == 7}
    assert set(measured) == {"finetune", "language_adapter", "task_adapter", "continued_pretraining"}
    # by hand: MAD-X's two language adapters (40 and 50 steps) at one s/step, summed; the paper's
    # T4 figure for them: 2.5 h x (40 + 50) x 4 / (15,650 x 32); printed to 3 and 4 digits
    language = measured["language_adapter"]
    assert float(language[3]) == pytest.approx(timed[("language_adapter", "tiny-xlmr")] * 90 / 3600,
                                               rel=6e-3)
    assert float(language[5]) == pytest.approx(2.5 * 90 * 4 / (15_650 * 32), rel=6e-3)
    pretraining = measured["continued_pretraining"]
    assert float(pretraining[3]) == pytest.approx(timed[("continued_pretraining", "tiny-mbert")] * 60 / 3600,
                                                  rel=6e-3)
    assert pretraining[5] == "-"  # the paper gives no figure for EXTEND's MLM
    finetune = timed[("finetune", "tiny-xlmr")] * 30 + timed[("finetune", "tiny-mbert")] * 10
    assert float(measured["finetune"][3]) == pytest.approx(finetune / 3600, rel=6e-3)
    assert "paper T4 x steps" in result.stdout and "linear in steps" in result.stdout
    assert not (workdir / "cache").exists()  # timed stages stay out of the suite's cache


def test_calibration_groups_costed_stages_and_builds_no_schedule_for_the_others():
    from harness.planning.calibration import group_of

    def never() -> TrainingConfig:
        raise AssertionError("the schedule of an uncosted stage was built")

    backbone = SimpleNamespace(kind="backbone", config=SimpleNamespace(name="tiny-xlmr"), inputs={})
    adapter = SimpleNamespace(kind="task_adapter", inputs={"backbone": backbone},
                              schedule=lambda: PAPER_SCHEDULES["task_adapter"])
    assert group_of(adapter) == ("task_adapter", "tiny-xlmr", 32)
    assert group_of(SimpleNamespace(kind="evaluation", inputs={}, schedule=never)) is None
    assert group_of(SimpleNamespace(kind="task_adapter", inputs={})) is None  # no schedule
