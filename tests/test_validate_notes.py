"""What validate says before a run (issue 21.12): monolingual shortfalls, one line per role."""

import logging

import yaml
from click.testing import CliRunner

from harness.cli.main import cli
from harness.data import monolingual
from harness.data.source import DataSource
from tests.test_validate_data import copy_suite


def with_monolingual(path, **settings):
    payload = yaml.safe_load(path.read_text())
    payload["monolingual"].update(settings)
    path.write_text(yaml.safe_dump(payload))
    return path


def samples_of(folder, lang, words_per_sample):
    """How many samples the corpus stage would cut (everything it has)."""
    return len(monolingual.load(DataSource(path=str(folder)), lang, n_samples=10**9,
                                words_per_sample=words_per_sample, seed=0))


def test_validate_names_each_monolingual_shortfall_in_one_line_per_role(tmp_path, caplog):
    suite = with_monolingual(copy_suite(tmp_path), target_samples=500, source_samples=600,
                             words_per_sample=16)
    amh, eng = (samples_of(tmp_path / "mono", lang, 16) for lang in ("amh", "eng"))
    assert amh < 500 and eng < 600
    with caplog.at_level(logging.WARNING):
        done = CliRunner().invoke(cli, ["validate", str(suite)])
    assert done.exit_code == 0, done.output
    said = [m for m in caplog.messages if "fewer samples" in m]
    assert said == [
        f"monolingual.data: target text of 1 language(s) gives fewer samples of 16 words than the "
        f"500 asked for (monolingual.target_samples): amh {amh}; a run uses what there is",
        f"monolingual.data: source text of 1 language(s) gives fewer samples of 16 words than the "
        f"600 asked for (monolingual.source_samples): eng {eng}; a run uses what there is"]


def test_validate_says_nothing_when_the_text_suffices(tmp_path, caplog):
    suite = copy_suite(tmp_path)
    fewest = min(samples_of(tmp_path / "mono", lang, 16) for lang in ("amh", "eng"))
    with_monolingual(suite, target_samples=fewest, source_samples=fewest, words_per_sample=16)
    with caplog.at_level(logging.WARNING):
        done = CliRunner().invoke(cli, ["validate", str(suite)])
    assert done.exit_code == 0 and not [m for m in caplog.messages if "fewer samples" in m]


def test_shortfall_counts_samples_as_the_corpus_stage_cuts_them(tmp_path):
    (tmp_path / "amh.txt").write_text("a b c d e\n\nf g\n", encoding="utf-8")
    words = monolingual.check(DataSource(path=str(tmp_path)), "amh")
    assert words == 7 and samples_of(tmp_path, "amh", 3) == 3  # ⌈7 / 3⌉
    assert monolingual.shortfall("k", "target", {"amh": words}, 3, 3) is None
    assert "amh 3" in monolingual.shortfall("k", "target", {"amh": words, "x": None}, 4, 3)
