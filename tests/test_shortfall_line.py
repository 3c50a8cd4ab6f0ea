"""The run's "Data shortfalls" line describes the suite's data, not which stages built this time.

A fake method on the real corpus and vocabulary-search stages (fixtures/monolingual: Amharic and
Tagalog and Guarani give fewer 24-word samples than the 120 asked, and Amharic's text is too small for the
vocabulary grid) runs through ``unibridge-bench run`` in-process: a fresh run, the same command
again with every stage cached, and a run stopped after the corpus and vocabulary stages and then
resumed print the identical line, read from the stages' artifacts (harness/core/shortfalls.py).
"""

import json
from pathlib import Path

from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict

import harness.cli.run as run_command
from harness.cli.main import cli
from harness.core.graph import Stage
from harness.methods.base import Method
from harness.methods.unibridge.vocab import VocabSearchConfig, VocabSearchStage
from harness.planning.plan import Plan
from harness.suite.schema import Suite

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GRID = VocabSearchConfig(start=100, step=100, max_size=800)


class StopConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    lang: str = ""
    stop_flag: str = ""


class Score(Stage):
    """The job's final stage: stopped (like Ctrl-C) while ``stop_flag`` exists, else a score."""

    kind = "evaluation"

    def run(self, ctx, inputs, out):
        if self.config.stop_flag and Path(self.config.stop_flag).exists():
            raise KeyboardInterrupt
        size = json.loads((inputs["vocab"] / "search.json").read_text())["vocab_size"]
        (out / "metrics.json").write_text(json.dumps({"metric": "f1", "value": size / 1000}))


class ShortMethod(Method):
    """A target corpus, the vocabulary search on it, a score."""

    Config = StopConfig

    def build(self, job, env):
        corpus = env.corpus(job.lang, role="target")
        vocab = VocabSearchStage(GRID, corpus=corpus)
        return Score(StopConfig(lang=job.lang, stop_flag=self.config.stop_flag), vocab=vocab)


SUITE = {
    "name": "short", "backbones": ["tiny-xlmr"],
    "tasks": {"ner": {"targets": ["amh", "tgl", "grn"], "sources": ["eng"],
                      "data": {"path": str(FIXTURES / "wikiann")}}},
    "methods": {"short": {}},
    "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}, "target_samples": 120,
                    "words_per_sample": 24},
}


def short_plan(tmp_path: Path, stop_flag: Path) -> Plan:
    """The suite's plan, as ``load_plan`` would make it had ``short`` been registered."""
    suite = Suite.model_validate(SUITE)
    methods = {"short": ShortMethod("short", StopConfig(stop_flag=str(stop_flag)))}
    return Plan(suite, methods, suite.jobs())


def run(monkeypatch, tmp_path: Path, workdir: Path, *options: str):
    """``unibridge-bench run`` of the short suite; (exit code, its "Data shortfalls" line)."""
    plan = short_plan(tmp_path, tmp_path / "stop")
    (tmp_path / "short.yaml").write_text(json.dumps(SUITE))
    monkeypatch.setattr(run_command, "load_plan", lambda *args, **kwargs: plan)
    done = CliRunner().invoke(cli, ["run", str(tmp_path / "short.yaml"), "--workdir", str(workdir),
                                    "--device", "cpu", *options])
    lines = [line for line in done.output.splitlines() if line.startswith("Data shortfalls")]
    return done.exit_code, lines


def test_fresh_warm_and_resumed_runs_print_the_same_shortfall_line(tmp_path, monkeypatch):
    code, fresh = run(monkeypatch, tmp_path, tmp_path / "fresh")
    assert code == 0 and len(fresh) == 1, fresh
    line = fresh[0]
    asked = "text of 1 language(s) gives fewer samples of 24 words than the 120 asked for"
    assert line.startswith("Data shortfalls (4), the run went on with what there is: "), line
    assert f"corpus for short/tiny-xlmr/ner/amh/seed1: {asked}: amh 18; a run uses what there is" in line
    assert ("vocab_search for short/tiny-xlmr/ner/amh/seed1: the corpus is too small for the "
            "vocabulary search") in line
    assert line.endswith("; and 1 more (-v names each)"), line

    assert run(monkeypatch, tmp_path, tmp_path / "fresh") == (0, [line])  # warm: every stage cached

    (tmp_path / "stop").write_text("")  # stopped at the first score, after amh's corpus and search
    code, stopped = run(monkeypatch, tmp_path, tmp_path / "resumed")
    assert code != 0 and stopped == []
    built = (tmp_path / "resumed" / "cache").glob("*/*/manifest.json")
    assert sorted(path.parts[-3] for path in built) == ["corpus", "vocab_search"]
    (tmp_path / "stop").unlink()
    assert run(monkeypatch, tmp_path, tmp_path / "resumed") == (0, [line])


def test_verbose_names_every_shortfall_in_the_line(tmp_path, monkeypatch):
    run(monkeypatch, tmp_path, tmp_path / "work")
    code, [line] = run(monkeypatch, tmp_path, tmp_path / "work", "-v")
    assert code == 0 and line.startswith("Data shortfalls (4)") and "more" not in line, line
    assert "corpus for short/tiny-xlmr/ner/tgl/seed1: text of 1 language(s)" in line, line
