"""What a run and a report say at the end: shortfalls in one line, wall time, what was written."""

import logging
from pathlib import Path

import pytest

from harness.cli.run import format_seconds
from harness.core.graph import Cache, Stage, StageContext
from harness.core.shortfalls import SHORTFALL, SHORTFALL_KEY, run_shortfalls, summary_line
from harness.report.write import written_summary


def test_the_summary_line_names_the_first_three_and_counts_the_rest():
    messages = ["amh: only 14 samples", "tgl: only 58 samples", "grn: only 66 samples",
                "eng: only 73 samples"]
    assert summary_line(messages) == ("Data shortfalls (4), the run went on with what there is: amh: "
                                      "only 14 samples; tgl: only 58 samples; grn: only 66 samples; "
                                      "and 1 more (-v names each)")
    assert summary_line(messages, shown=None).endswith("grn: only 66 samples; eng: only 73 samples")
    assert summary_line(messages[:3]).endswith("grn: only 66 samples")
    assert summary_line([]) is None


class Short(Stage):
    """A stage whose summary keeps the shortfall its config names."""

    kind = "short"

    def __init__(self, name, short="", **inputs):
        super().__init__(None, **inputs)
        self.name, self.short = name, short

    def identity(self):
        return {**super().identity(), "name": self.name}

    def run(self, ctx, inputs, out):
        (out / "short.txt").write_text(self.short)

    def summary(self, artifact):
        short = (artifact / "short.txt").read_text()
        return {"n": 1, **({SHORTFALL_KEY: short} if short else {})}


def test_run_shortfalls_reads_finished_stages_in_order_each_message_once(tmp_path):
    cache = Cache(tmp_path / "cache")
    first, plain = Short("a", "amh: 14 samples"), Short("b")
    twin, later = Short("c", "amh: 14 samples"), Short("d", "tgl: 58 samples")
    first.needed_by = twin.needed_by = "job/1"
    later.needed_by = "job/2"
    for stage in (first, plain, twin):
        cache.materialize(stage, StageContext(cache=cache))
    assert run_shortfalls([later, first, plain, twin], cache) == ["short for job/1: amh: 14 samples"]
    cache.materialize(later, StageContext(cache=cache))  # finished later (another run): said too
    assert run_shortfalls([later, first, plain, twin], cache) == [
        "short for job/2: tgl: 58 samples", "short for job/1: amh: 14 samples"]


def test_the_stderr_handler_holds_shortfalls_back_below_verbose(capsys):
    from harness.cli.common import setup_logging

    root = logging.getLogger()
    saved = root.handlers[:]
    for verbose in (0, 1):
        root.handlers = []
        try:
            setup_logging(verbose)
            logging.getLogger("harness.stages.corpus").warning("amh: only 14", extra=SHORTFALL)
            logging.getLogger("harness.core.graph").warning("something else")
        finally:
            root.handlers = saved
        err = capsys.readouterr().err
        assert "something else" in err and ("amh: only 14" in err) == bool(verbose), err


@pytest.mark.parametrize("seconds, text", [(4.26, "4.3 s"), (65, "1 min 05 s"), (3599.6, "1 h 00 min"),
                                           (7390, "2 h 03 min")])
def test_wall_time_reads_as_a_person_would_write_it(seconds, text):
    assert format_seconds(seconds) == text


def test_written_summary_counts_tables_per_format_and_names_figures_and_page():
    work = Path("runs/x")
    tables = [work / "tables" / f"{stem}.{fmt}" for stem in ("table01", "table02", "table05", "table06",
                                                             "results-ner", "results-pos")
              for fmt in ("md", "tex", "csv")]
    figures = [work / "figures" / f"{stem}.{fmt}" for stem in ("figure3", "languages-ner")
               for fmt in ("png", "pdf")]
    lines = written_summary(work, [*tables, *figures, work / "report.html"])
    assert lines == [
        f"Tables in {work / 'tables'}: 4 of the paper's (1–2, 5–6) and 2 per task (ner, pos); "
        "6 md, 6 tex, 6 csv files",
        f"Figures in {work / 'figures'}: figure3, languages-ner (png/pdf)",
        f"Page (open it first): {work / 'report.html'}"]
    assert written_summary(work, []) == ["Nothing written: no result allows a table or figure."]


def test_the_smoke_suite_asks_for_no_more_text_than_its_fixtures_hold():
    """Each language's fixture, cut as the suite cuts it, holds at least the samples it asks for."""
    from harness.data import monolingual
    from harness.suite.schema import load_suite

    suite = load_suite(Path(__file__).resolve().parents[1] / "suites" / "smoke.yaml")
    corpora = suite.monolingual
    targets = {lang for task in suite.tasks.values() for lang in task.targets}
    sources = {lang for task in suite.tasks.values() for lang in task.sources}
    for lang in sorted(targets | sources):
        text = (Path(corpora.data.path) / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
        held = len(monolingual.cut_samples(text, corpora.words_per_sample))
        asked = corpora.target_samples if lang in targets else corpora.source_samples
        assert held >= asked, f"{lang}: the fixture holds {held} samples, the suite asks {asked}"


def test_stage_time_per_kind_counts_only_the_stages_this_run_built(tmp_path):
    import json

    from harness.planning.costs import stage_seconds

    for kind, key, started, seconds in [("corpus", "a", 100.0, 1.5), ("corpus", "b", 200.0, 2.0),
                                        ("evaluation", "c", 250.0, 4.0), ("finetune", "d", 50.0, 9.0)]:
        (tmp_path / kind / key).mkdir(parents=True)
        (tmp_path / kind / key / "manifest.json").write_text(
            json.dumps({"kind": kind, "started": started, "seconds": seconds}))
    assert stage_seconds(tmp_path, since=150.0) == {"corpus": [2.0], "evaluation": [4.0]}
    assert sorted(stage_seconds(tmp_path)) == ["corpus", "evaluation", "finetune"]
