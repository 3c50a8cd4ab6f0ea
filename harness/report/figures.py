"""Figures with matplotlib (Agg backend, no display): Figure 3 and one chart per task.

Example::

    write_figures(run, workdir / "figures")      # figure3.png/.pdf, languages-ner.png/.pdf, …

Figure 3 plots UniBridge's mean WikiANN F1 against the ALP threshold ε_s of the run that
produced each record (runs at 5, 10 and 15 are merged into one report with ``--merge``), one
line per backbone family; a mean is over the languages present at that threshold. The paper
prints Figure 3 only as an image: its one known point is ε_s = 5, Tables 1–2's UniBridge
averages, drawn as open markers. The per-task charts put our UniBridge score beside the
paper's for each language of the task's tables (Tables 1–2, 3–4, 12–13); a score of 0 is drawn
(a thick line on the axis, "0"), a missing one is labelled "n/a".

What the paper argues, drawn per task and backbone family (:func:`method_chart`, one chart per
table of :data:`TASK_TABLES`, ``methods-tableNN``): every method of the table side by side per
language, ours as bars with their intervals, the paper's number of the same method as a black
tick on each bar; a method with no result of ours is left out, a missing cell is an empty slot.
A pipeline check's charts say in their titles that the scores mean nothing.

Interval bars (where the records carry per-example counts, :mod:`harness.statistics`): each of
our bars has its cell's 95 % bootstrap interval; each Figure 3 point the interval of its mean
over languages (:func:`figure3_intervals`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from harness.report.build import FilledRow, FilledTable, RunData, backbone_arch, fill
from harness.report.paper import PaperRow, paper_table
from harness.report.specs import ARCH_NAMES, table_spec

#: The tables whose UniBridge rows each task's chart shows, per backbone family.
TASK_TABLES = {"ner": (1, 2), "pos": (3, 4), "nli": (12, 13)}
TASK_METRICS = {"ner": "F1", "pos": "accuracy", "nli": "accuracy"}
FIGURE3_ARCHS = {"xlmr": 1, "bert": 2}  # family -> the table holding its ε_s = 5 average
SAVE = {"png": {"dpi": 110, "metadata": {"Software": None}},
        "pdf": {"metadata": {"CreationDate": None, "Creator": None, "Producer": None}}}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, directory: Path, stem: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, options in SAVE.items():
        path = directory / f"{stem}.{fmt}"
        figure.savefig(path, format=fmt, bbox_inches="tight", **options)
        paths.append(path)
    _pyplot().close(figure)
    return paths


def figure3_points(run: RunData) -> dict[str, dict[float, float]]:
    """Family -> ALP threshold -> mean over languages of UniBridge's NER F1 (seeds averaged first)."""
    scores: dict[tuple[str, float], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record, threshold in zip(run.records, run.thresholds):
        arch = backbone_arch(record)
        if record.method == "unibridge" and record.task == "ner" and arch in FIGURE3_ARCHS and threshold:
            scores[(arch, threshold)][record.lang].append(record.value)
    points: dict[str, dict[float, float]] = defaultdict(dict)
    for (arch, threshold), by_lang in sorted(scores.items()):
        points[arch][threshold] = statistics.fmean(statistics.fmean(v) for v in by_lang.values())
    return dict(points)


def figure3_intervals(run: RunData) -> dict[str, dict[float, tuple[float, float]]]:
    """Family -> threshold -> 95 % interval of Figure 3's mean over languages, where counts allow."""
    from harness.report.annotate import mean_interval

    groups: dict[tuple[str, float], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for record, threshold in zip(run.records, run.thresholds):
        arch = backbone_arch(record)
        if record.method == "unibridge" and record.task == "ner" and arch in FIGURE3_ARCHS and threshold:
            groups[(arch, threshold)][record.lang].append(record)
    intervals: dict[str, dict[float, tuple[float, float]]] = defaultdict(dict)
    for (arch, threshold), by_lang in groups.items():
        found = mean_interval(list(by_lang.values()), run.statistics)
        if found is not None:
            intervals[arch][threshold] = found
    return dict(intervals)


def _error_bars(axes, xs: list[float], ys: list[float], intervals: list, color) -> None:
    """Interval bars at the points that have an interval, each drawn as the interval is given.

    A bar spans ``low`` to ``high`` whatever the point's value: a record whose value lies
    outside its own interval (or an interval given high to low) is drawn as it is, never refused.
    Example::

        _error_bars(axes, [0.0], [50.0], [(52.0, 58.0)], "black")   # a bar from 52 to 58
    """
    have = [(x, min(i), max(i)) for x, i in zip(xs, intervals) if i is not None]
    if have:
        axes.errorbar([x for x, _, _ in have], [(low + high) / 2 for _, low, high in have],
                      yerr=[(high - low) / 2 for _, low, high in have],
                      fmt="none", ecolor=color, capsize=3, linewidth=1)


def figure3(run: RunData, directory: Path) -> list[Path]:
    """Figure 3 as PNG and PDF; nothing when no UniBridge NER record has a known threshold."""
    points = figure3_points(run)
    if not points:
        return []
    intervals = figure3_intervals(run)
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(4.5, 3.2))
    for arch, table in FIGURE3_ARCHS.items():
        row = paper_table(table).row(f"UniBridge ({ARCH_NAMES[arch]})")
        line = None
        if arch in points:
            xs = sorted(points[arch])
            (line,) = axes.plot(xs, [points[arch][x] for x in xs], marker="o",
                                label=f"{ARCH_NAMES[arch]} (ours)")
            _error_bars(axes, xs, [points[arch][x] for x in xs],
                        [intervals.get(arch, {}).get(x) for x in xs], line.get_color())
        axes.plot([5.0], [row.average], linestyle="none", marker="s", fillstyle="none",
                  color=line.get_color() if line else None, label=f"{ARCH_NAMES[arch]} (paper, ε=5)")
    axes.set(xlabel="ALP threshold ε_s", ylabel="mean F1 (WikiANN)", xticks=[5, 10, 15],
             title="Figure 3: mean F1 against the ALP threshold")
    axes.legend(fontsize="small")
    return _save(figure, directory, "figure3")


def _unibridge_row(run: RunData, number: int) -> tuple[FilledRow, PaperRow, tuple[str, ...]]:
    table = fill(table_spec(number), run)
    row = next(r for r in table.rows if r.method == "unibridge")
    return row, paper_table(number).row(row.label), paper_table(number).columns


def task_chart(run: RunData, task: str, directory: Path) -> list[Path]:
    """Ours vs the paper's UniBridge score per language, one panel per backbone family.

    A score of 0 is drawn as a thick line on the axis, labelled "0"; a language without a result
    of ours has no bar and an "n/a" label, so the two never look alike. The legend sits right of
    the panel, clear of the bars.
    """
    panels = [_unibridge_row(run, number) for number in TASK_TABLES[task]]
    panels = [p for p in panels if any(cell.mean is not None for cell in p[0].cells)]
    if not panels:
        return []
    plt = _pyplot()
    figure, axes = plt.subplots(len(panels), 1, figsize=(10, 2.8 * len(panels)), squeeze=False)
    for ax, (row, paper, columns) in zip(axes[:, 0], panels):
        draw_panel(ax, row, paper, columns)
        ax.set(ylabel=f"{task} {TASK_METRICS[task]}", title=chart_title(row))
    figure.tight_layout()
    return _save(figure, directory, f"languages-{task}")


def chart_title(row: FilledRow) -> str:
    """``UniBridge on tiny-xlmr (XLM-R family)``: the backbone once, its family once."""
    family = row.label.removeprefix("UniBridge (").removesuffix(")")
    return f"UniBridge on {row.backbone} ({family} family)"


def draw_panel(ax, row: FilledRow, paper: PaperRow, columns: tuple[str, ...]) -> None:
    """One family's bars: ours (0 as a thick line and "0", missing as "n/a") and the paper's.

    Our bars carry their cells' 95 % interval where the records allow one.
    """
    xs = list(range(len(columns)))
    ours = [cell.mean for cell in row.cells]
    bars = ax.bar([x - 0.2 for x, v in zip(xs, ours) if v is not None], [v for v in ours if v is not None],
                  width=0.4, label="ours")
    _error_bars(ax, [x - 0.2 for x in xs], [0.0 if v is None else v for v in ours],
                [cell.interval for cell in row.cells], "black")
    ax.bar([x + 0.2 for x in xs], list(paper.cells), width=0.4, label="paper", alpha=0.6)
    tops = [high for cell in row.cells if cell.interval is not None for high in cell.interval[1:]]
    top = max([*paper.cells, *(v for v in ours if v is not None), *tops], default=1.0) or 1.0
    for x, value in zip(xs, ours):
        if value is None:
            ax.text(x - 0.2, 0.01 * top, "n/a", ha="center", va="bottom", fontsize="x-small", rotation=90)
        elif value == 0:
            ax.plot([x - 0.38, x - 0.02], [0, 0], color=bars.patches[0].get_facecolor(), linewidth=4,
                    solid_capstyle="butt", clip_on=False)
            ax.text(x - 0.2, 0.01 * top, "0", ha="center", va="bottom", fontsize="x-small")
    ax.set_xticks(xs, columns)
    ax.set_ylim(0, top * 1.08)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


PIPELINE_CHECK_TITLE = " (pipeline check: scores mean nothing)"


def method_chart(table: FilledTable, directory: Path) -> list[Path]:
    """Every method of ``table`` with a result, side by side per language (module docstring)."""
    shown = [row for row in table.rows if any(cell.mean is not None for cell in row.cells)]
    if not shown:
        return []
    plt = _pyplot()
    columns = table.headers[:len(table.spec.languages)]
    figure, ax = plt.subplots(figsize=(min(16.0, max(6.0, 2 + 0.3 * len(columns) * len(shown))), 3.4))
    paper = paper_table(table.spec.number)
    draw_methods(ax, shown, [paper.row(row.label) for row in shown], columns)
    metric = TASK_METRICS.get(table.spec.task or "", "score")
    ax.set(ylabel=f"{table.spec.task} {metric}",
           title=f"Table {table.spec.number}: {table.spec.title}, every method"
                 + (PIPELINE_CHECK_TITLE if table.pipeline_check else ""))
    figure.tight_layout()
    return _save(figure, directory, f"methods-{table.spec.name}")


def draw_methods(ax, rows: Sequence[FilledRow], papers: Sequence[PaperRow], columns: Sequence[str]) -> None:
    """Grouped bars: per language one bar per row (ours, with its interval), the paper's as a tick."""
    width = 0.8 / len(rows)
    xs = list(range(len(columns)))
    for k, (row, paper) in enumerate(zip(rows, papers)):
        offsets = [x - 0.4 + width * (k + 0.5) for x in xs]
        ours = [cell.mean for cell in row.cells]
        ax.bar([x for x, v in zip(offsets, ours) if v is not None], [v for v in ours if v is not None],
               width=width * 0.95, label=row.label)
        _error_bars(ax, offsets, [0.0 if v is None else v for v in ours],
                    [cell.interval for cell in row.cells], "black")
        ax.plot(offsets, list(paper.cells), linestyle="none", marker="_", markersize=max(4.0, 40 * width),
                markeredgewidth=2, color="black", label="paper" if k == 0 else None, gid="paper")
    ax.set_xticks(xs, columns)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def write_figures(run: RunData, directory: Path, tables: Sequence[FilledTable] = ()) -> list[Path]:
    """Figure 3, every task chart and every per-method chart the records allow.

    ``tables``: tables already filled (the report's), reused for the per-method charts; a
    table of :data:`TASK_TABLES` not among them is filled here.
    """
    filled = {table.spec.number: table for table in tables}
    paths = figure3(run, directory) + [p for task in TASK_TABLES for p in task_chart(run, task, directory)]
    for number in (n for numbers in TASK_TABLES.values() for n in numbers):
        table = filled.get(number) or fill(table_spec(number), run)
        paths += method_chart(table, directory)
    return paths
