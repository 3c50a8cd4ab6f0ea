"""What a person reads after ``unibridge-bench run``: a short stderr, a summary, clear errors.

A reduced suite (tiny XLM-R, NER on Amharic with English as the one source, the zero-shot
baseline and UniBridge without multi-source transfer, a few steps each) runs through the CLI in
a subprocess, with stderr a pipe as in a log file. Before this output work the same run wrote
about a hundred lines of bars and warnings to stderr (and the full smoke suite about 2,000).
"""

import re

import pytest

from tests.shared_runs import cli

#: One line per distinct warning the run has reason to give (slack for a few of the harness's
#: own); too little monolingual text is no warning line but one line of the summary on stdout.
#: Bars (stderr is no terminal) and library messages: none. Besides: a line per finished job.
MAX_STDERR_LINES = 4
#: Traces of the model libraries' own output: tqdm bars, Python warnings, transformers' notes.
LEAKS = re.compile(r"it/s\]|step/s|\d+%\||Warning:|Some weights|You should probably|"
                   r"^\s*warnings\.warn|Traceback|\x1b\[")

pytestmark = pytest.mark.slow


@pytest.fixture
def first_run(reduced_run):
    """The session's run of the reduced suite (``tests/conftest.py``): read, never written."""
    return reduced_run


def test_stderr_is_a_few_plain_lines(first_run):
    *_, done = first_run
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    progress = [line for line in lines if line.startswith("INFO harness.run.progress: job ")]
    assert len(progress) == 2, done.stderr  # a line per finished job (harness.run.progress)
    lines = [line for line in lines if line not in progress]
    assert len(lines) <= MAX_STDERR_LINES, done.stderr
    assert not [line for line in lines if LEAKS.search(line)], done.stderr
    assert len(set(lines)) == len(lines), "a warning was said twice"


def test_summary_counts_jobs_and_names_the_tables_written(first_run):
    _, workdir, done = first_run
    assert done.stdout.startswith("2 jobs: 2 finished, 0 failed."), done.stdout
    tables = sorted((workdir / "tables").iterdir())
    per_format = ", ".join(f"{sum(t.suffix == '.' + fmt for t in tables)} {fmt}"
                           for fmt in ("md", "tex", "csv"))
    assert tables and f"Tables in {workdir / 'tables'}: " in done.stdout, done.stdout
    assert f"1 per task (ner); {per_format} files" in done.stdout, done.stdout
    assert f"Page (open it first): {workdir / 'report.html'}" in done.stdout
    assert re.search(r"^Wall time: \d+(\.\d s| min \d\d s)\.$", done.stdout, re.M), done.stdout
    assert len(done.stdout.splitlines()) <= 8, done.stdout


def test_shortfalls_are_one_summary_line_not_warnings(first_run):
    """amh holds 18 samples of 24 words and eng 97, the suite asks 120 of each, and amh's text is too
    small for the vocabulary grid: three shortfalls, said once, on stdout."""
    *_, done = first_run
    assert "fewer than" not in done.stderr, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("Data shortfalls"))
    assert line.startswith("Data shortfalls (3)"), line
    assert "the corpus is too small for the vocabulary search" in line
    # one shortfall per corpus stage that built, naming its languages and counts
    assert re.search(r"text of 1 language\(s\) gives fewer samples of 24 words than the 120 asked "
                     r"for: amh 18;", line), line
    assert re.search(r"fewer samples of 24 words than the 120 asked for: eng 97;", line), line
    assert "vocab_search for unibridge_no_multi_source/tiny-xlmr/ner/amh/" in line, line


def test_the_same_command_again_prints_the_same_shortfall_line(first_run, copy_workdir):
    """Every stage cached, none says anything as it builds: the line comes from the artifacts."""
    suite, workdir, done = first_run
    workdir = copy_workdir(workdir)
    again = cli("run", suite, "--workdir", workdir, "--device", "cpu")
    assert again.returncode == 0 and " 0 run, " in again.stdout, again.stdout
    said = [line for line in again.stdout.splitlines() if line.startswith("Data shortfalls")]
    assert said == [line for line in done.stdout.splitlines() if line.startswith("Data shortfalls")]


def test_truncated_weights_give_one_message_naming_entry_and_fix(first_run, copy_workdir):
    suite, workdir, _ = first_run
    workdir = copy_workdir(workdir)
    weights = sorted((workdir / "cache" / "finetune").glob("*/**/*.safetensors"))
    assert weights, "the finetune entry has a weights file"
    entry = workdir / "cache" / "finetune" / weights[0].relative_to(
        workdir / "cache" / "finetune").parts[0]
    weights[0].write_bytes(weights[0].read_bytes()[:1000])
    done = cli("run", suite, "--workdir", workdir, "--device", "cpu", "--rerun", "evaluation")
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert str(entry) in lines[0] and "--rerun finetune" in lines[0] and "delete" in lines[0]
    assert "Traceback" not in done.stderr and not done.stdout
