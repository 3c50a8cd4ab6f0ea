import csv
import io

from harness.report.tables import render, results_table
from harness.run.records import ResultRecord


def record(method, lang, value, seed=1, task="ner"):
    return ResultRecord(method=method, backbone="tiny-xlmr", task=task, lang=lang, seed=seed,
                        metric="f1", value=value, config_hash="x")


def test_mean_over_seeds_and_row_average():
    records = [record("unibridge", "amh", 40.0), record("unibridge", "amh", 50.0, seed=2),
               record("unibridge", "tgl", 60.0), record("zero_shot", "amh", 10.0),
               record("zero_shot", "tgl", 20.0), record("zero_shot", "tgl", 99.0, task="pos")]
    table = results_table(records, "ner")
    assert table.headers == ("backbone", "method", "amh", "tgl", "avg")
    assert table.rows == (("tiny-xlmr", "unibridge", 45.0, 60.0, 52.5),
                          ("tiny-xlmr", "zero_shot", 10.0, 20.0, 15.0))


def test_missing_cell_is_not_averaged():
    table = results_table([record("a", "amh", 40.0), record("b", "amh", 1.0), record("b", "tgl", 3.0)], "ner")
    assert table.rows[0] == ("tiny-xlmr", "a", 40.0, None, None)
    rows = list(csv.reader(io.StringIO(render(table, "csv"))))
    assert rows[1] == ["tiny-xlmr", "a", "40.0", "", ""]
    assert "–" in render(table, "md") and "\\toprule" in render(table, "tex")
