"""The transcribed paper numbers against an independent parse of the paper's text."""

import math
import re
from pathlib import Path

import numpy as np
import pytest

from harness.report.paper import (
    PaperRow,
    PaperTable,
    average_disagreements,
    paper_dir,
    paper_table,
    rounding_bound,
)

PAPER_TEXT = Path("/work/shared/paper/unibridge-paper.txt")
if not PAPER_TEXT.is_file():
    PAPER_TEXT = Path(__file__).resolve().parents[2] / "shared" / "paper" / "unibridge-paper.txt"
NUMBER = re.compile(r"\d+(?:\.\d+)?")
TABLES = range(1, 24)


def printed_rows(number: int) -> list[str]:
    """The tab-separated lines printed just above the caption 'Table <number>:'."""
    text = PAPER_TEXT.read_text(encoding="utf-8")
    before = text[: text.index(f"\nTable {number}: ")].rstrip("\n").split("\n")
    rows = []
    for line in reversed(before):
        if "\t" not in line:
            break
        rows.insert(0, line)
    return rows[1:]  # the first line is the header


def label_and_numbers(line: str) -> tuple[str, list[float]]:
    label, _, rest = line.partition("\t")
    return label.strip(), [float(x) for x in NUMBER.findall(rest.replace("[†]", ""))]


def normalised(label: str) -> str:
    return label.strip().removeprefix("-").strip()


needs_text = pytest.mark.skipif(not PAPER_TEXT.is_file(), reason="the paper's text is not on this machine")


@needs_text
@pytest.mark.parametrize("number", [n for n in TABLES if n not in range(5, 12)])
def test_every_results_cell_matches_the_text(number):
    table = paper_table(number)
    lines = printed_rows(number)
    assert len(lines) == len(table.rows)
    for line, row in zip(lines, table.rows):
        label, numbers = label_and_numbers(line)
        assert normalised(label) == normalised(row.label)
        expected = [c * 1000 for c in numbers] if number == 20 else numbers  # Table 20 prints "19k"
        ours = [*row.cells, *([row.average] if row.average is not None else [])]
        assert ours == expected, (number, row.label)
        underlined = [NUMBER.search(u).group() for u in re.findall(r"<u>(.*?)</u>", line)]
        columns = [*table.columns, "Average"]
        assert sorted(float(u) for u in underlined) == sorted(
            ours[columns.index(code)] for code in row.underlined)


@needs_text
def test_table5_mean_and_std_match_the_text():
    table = paper_table(5)
    for line, row in zip(printed_rows(5), table.rows, strict=True):
        label, numbers = label_and_numbers(line)
        assert normalised(label) == normalised(row.label)
        assert numbers == [x for cell in row.cells for x in (cell.mean, cell.std)]


@needs_text
@pytest.mark.parametrize("number", range(6, 12))
def test_hyperparameter_tables_match_the_text(number):
    lines = printed_rows(number)
    assert [tuple(line.split("\t")) for line in lines] == [
        (row.hyperparameter, row.value) for row in paper_table(number).rows]


def test_every_table_has_a_file():
    files = sorted(p.name for p in paper_dir().iterdir() if p.name.startswith("table"))
    assert files == [f"table{n:02d}.yaml" for n in TABLES]


def test_paper_averages_that_disagree_are_found():
    found = [check for n in TABLES for check in average_disagreements(paper_table(n))]
    labels = {(check.table, check.label) for check in found}
    assert (14, "lang2vec (XLM-R)") in labels and (4, "mBERT") in labels  # PAPER.md; 37.82 vs 43.82
    for check in found:  # each one really is off, recomputed with math.fsum
        row = paper_table(check.table).row(check.label)
        assert abs(math.fsum(row.cells) / len(row.cells) - row.average) > 0.01
    # off by 0.006 and -0.006: within the cells' and the average's rounding, not flagged
    assert (1, "UniBridge (XLM-R)") not in labels and (4, "UniBridge (mBERT)") not in labels


def test_a_rounded_average_is_not_flagged_and_a_wrong_one_is():
    table = PaperTable(table=99, caption="", columns=("a", "b"), rows=(
        PaperRow(label="ok", cells=(1.0, 2.005), average=1.5),
        PaperRow(label="rounding", cells=(1.0, 2.0), average=1.509),
        PaperRow(label="off", cells=(1.0, 2.0), average=1.511),
        PaperRow(label="wrong", cells=(1.0, 2.0), average=1.6)))
    assert [check.label for check in average_disagreements(table)] == ["off", "wrong"]


def test_the_rounding_bound_holds_for_rounded_cells_and_half_a_unit_would_not():
    """Random true values rounded to two decimals never exceed the bound; a worked case exceeds 0.005."""
    import random

    rng, worst = random.Random(0), 0.0
    for _ in range(20_000):
        true = [rng.uniform(0, 100) for _ in range(14)]
        printed = round(math.fsum(true) / 14, 2)
        worst = max(worst, abs(printed - math.fsum(round(v, 2) for v in true) / 14))
    bound = rounding_bound([0.01] * 14, 0.01)
    assert bound == pytest.approx(0.01) and worst <= bound
    true = [10.0049] * 13 + [10.0149]  # every cell rounded down by 0.0049; the mean 10.005614 up
    cells = [round(v, 2) for v in true]
    off = round(math.fsum(true) / 14, 2) - math.fsum(cells) / 14
    assert cells[0] == 10.0 and off == pytest.approx(0.01 - 0.01 / 14) and 0.005 < off <= bound


@pytest.mark.parametrize("column, per_language", [(0, 16), (1, 17)])
def test_table5_is_the_sample_mean_and_std_of_tables_16_and_17(column, per_language):
    """Which std the paper means: n − 1 (numpy ddof=1), within its printing (45.956 printed 45.95)."""
    for row in paper_table(per_language).rows:
        label = "UniBridge" if row.label.startswith("UniBridge") else row.label
        printed = paper_table(5).row(label).cells[column]
        assert printed.mean == pytest.approx(np.mean(row.cells), abs=0.0061)
        assert printed.std == pytest.approx(np.std(row.cells, ddof=1), abs=0.0051)
        assert abs(printed.std - np.std(row.cells)) > 0.1  # the population std would not match
