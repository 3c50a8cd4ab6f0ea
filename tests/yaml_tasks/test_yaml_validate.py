"""``validate`` checks a YAML task's data as the paper tasks': every bad line as ``file:line``."""

import shutil

import pytest
from yaml_task_helpers import SENTENCE, TOKEN, task_entry

from harness.planning import prepare
from harness.suite import SuiteError, load_suite


def problems_of(suite_path) -> list[str]:
    """The lines of the SuiteError ``prepare`` raises (the checks ``validate`` runs)."""
    with pytest.raises(SuiteError) as raised:
        prepare(load_suite(suite_path))
    return str(raised.value).splitlines()[1:]


def copy(folder, tmp_path):
    target = tmp_path / folder.name
    shutil.copytree(folder, target)
    return target


def test_every_bad_line_of_a_sentence_task_is_named(tmp_path, suite_file):
    data = copy(SENTENCE, tmp_path)
    train = data / "eng_Latn" / "train.tsv"
    lines = train.read_bytes().split(b"\n")
    lines[2] = b"1\tpolitics\tsome text"             # line 3: a label outside the label set
    lines[4] = b"3\tshort"                            # line 5: a field missing
    lines[6] = b"5\tshort\tbad \xff byte"             # line 7: not UTF-8
    lines[8] = b"7\tlong\t "                          # line 9: no text
    train.write_bytes(b"\n".join(lines))
    (data / "rus_Cyrl" / "dev.tsv").write_text("index_id\tlabel\ttext\n0\tshort\tx\n", encoding="utf-8")
    problems = problems_of(suite_file({"yaml_topics": task_entry(SENTENCE / "task.yaml", data)}))
    key = "tasks.yaml_topics.data: "
    assert f"{key}{train}:3: unknown label 'politics'; valid: short, medium, long" in problems
    assert f"{key}{train}:5: expected 3 fields like the header (index_id, category, text), got 2" in problems
    assert any(p.startswith(f"{key}{train}:7: not UTF-8 text (byte 0xff") for p in problems)
    assert f"{key}{train}:9: column of 'text' must be non-empty text, got ' '" in problems
    dev = data / "rus_Cyrl" / "dev.tsv"
    assert (f"{key}{dev}:1: missing column(s) 'category'; the header has 'index_id', 'label', 'text'"
            in problems)


def test_every_bad_line_of_a_token_task_is_named(tmp_path, suite_file):
    data = copy(TOKEN, tmp_path)
    test = data / "amh" / "test.txt"
    lines = test.read_text(encoding="utf-8").split("\n")
    lines[0] = "ቦስኒ B-MISC"                         # line 1: a tag outside the label set
    lines[1] = "።"                                  # line 2: no tag
    test.write_text("\n".join(lines), encoding="utf-8")
    problems = problems_of(suite_file({"yaml_ner": task_entry(TOKEN / "task.yaml", data)}))
    key = "tasks.yaml_ner.data: "
    assert any(p.startswith(f"{key}{test}:1: unknown label 'B-MISC'; valid: O, B-PER") for p in problems)
    assert f"{key}{test}:2: expected 'token<TAB>tag' (or 'token tag'), got '።'" in problems


def test_missing_splits_and_languages_are_named_with_what_is_there(tmp_path, suite_file):
    data = copy(SENTENCE, tmp_path)
    (data / "amh_Ethi" / "test.tsv").unlink()
    shutil.rmtree(data / "rus_Cyrl")
    problems = problems_of(suite_file({"yaml_topics": task_entry(SENTENCE / "task.yaml", data)}))
    assert (f"tasks.yaml_topics.data: no file {data / 'amh_Ethi' / 'test.tsv'} for task yaml_topics "
            f"language 'amh' split 'test'; files there: dev, train") in problems
    assert any(p.startswith(f"tasks.yaml_topics.data: no file {data / 'rus_Cyrl' / 'train.tsv'}")
               for p in problems)


def test_the_shipped_fixtures_validate(suite_file):
    suite = suite_file({"yaml_ner": task_entry(TOKEN / "task.yaml", TOKEN),
                        "yaml_topics": task_entry(SENTENCE / "task.yaml", SENTENCE)},
                       methods=("zero_shot", "mad_x", "unibridge"))
    plan = prepare(load_suite(suite))
    assert len(plan.jobs) == 6 and plan.notes == []
