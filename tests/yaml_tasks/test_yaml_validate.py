"""``validate`` checks a YAML task's data as the paper tasks': every bad line as ``file:line``."""

import shutil

import pytest
from yaml_task_helpers import SENTENCE, TOKEN, fixture_definition, task_entry

from harness.data.source import DataError, DataSource
from harness.planning.plan import prepare
from harness.suite.schema import SuiteError, load_suite
from harness.tasks.from_yaml.data import TaskData
from harness.tasks.from_yaml.formats import EMPTY_TOKEN
from harness.tasks.from_yaml.schema import TaskDefinition


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


def test_an_empty_token_line_is_read_as_the_loader_reads_it_and_is_one_note(tmp_path, suite_file):
    """`` O`` (MasakhaNER 2.0's xho/train.txt has two): the word '' tagged O, as the dataset's
    loader's ``line.split(" ")`` reads it; no problem, one note naming the file and the line."""
    data = copy(TOKEN, tmp_path)
    train = data / "eng" / "train.txt"
    lines = train.read_text(encoding="utf-8").split("\n")
    first = [(line.split(" ")[0], line.split(" ")[-1]) for line in lines[:lines.index("")]]
    lines.insert(2, " O")                             # line 3, inside the first sentence
    train.write_text("\n".join(lines), encoding="utf-8")
    definition = TaskDefinition.model_validate(fixture_definition(TOKEN))
    sentence = TaskData(definition).load(DataSource(path=str(data)), "eng", "train")[0]
    expected = [*first[:2], ("", "O"), *first[2:]]
    assert list(zip(sentence.tokens, sentence.tags, strict=True)) == expected
    plan = prepare(load_suite(suite_file({"yaml_ner": task_entry(TOKEN / "task.yaml", data)})))
    assert plan.notes == [f"tasks.yaml_ner.data: {train}: 1 line {EMPTY_TOKEN} (line 3)"]
    assert "read as the dataset's own loader reads it" in EMPTY_TOKEN


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
    pair = TOKEN.parent / "pair" / "task.yaml"  # over fixtures/nli
    suite = suite_file({"yaml_ner": task_entry(TOKEN / "task.yaml", TOKEN),
                        "yaml_topics": task_entry(SENTENCE / "task.yaml", SENTENCE),
                        "yaml_nli": task_entry(pair, TOKEN.parents[1] / "nli", targets=("grn",))},
                       methods=("zero_shot", "mad_x", "unibridge"))
    plan = prepare(load_suite(suite))
    assert len(plan.jobs) == 9 and plan.notes == []


def test_a_hub_task_validates_against_its_mirror_and_names_what_is_missing(tmp_path, suite_file,
                                                                          monkeypatch):
    from harness.data.hub import MIRROR_ENV

    mirror = tmp_path / "mirror"
    (mirror / "org" / "topics").mkdir(parents=True)
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    entry = task_entry(SENTENCE / "task.yaml", SENTENCE) | {
        "data": {"hub": "org/topics", "revision": "a" * 40}}
    plan = prepare(load_suite(suite_file({"yaml_topics": entry})))
    assert len(plan.jobs) == 1
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    problems = problems_of(suite_file({"yaml_topics": entry}))
    assert "tasks.yaml_topics.data (hub org/topics@aaaaaaa): not here, and not downloadable here " \
        "(HF_HUB_OFFLINE is set)" in problems


def test_a_bad_tag_is_named_at_its_own_line_not_its_sentences(tmp_path, suite_file):
    """conll: a sentence's second word (line 2), two words of the next sentence (8 and 9)."""
    data = copy(TOKEN, tmp_path)
    test = data / "amh" / "test.txt"
    lines = test.read_text(encoding="utf-8").split("\n")
    assert lines[5] == "" and lines[6:9] == ["የፊደል O", "ቅርጽ B-ORG", "ቤተሰብ O"]
    lines[1] = "። B-MISC"
    lines[7], lines[8] = "ቅርጽ B-ORGG", "ቤተሰብ X"
    test.write_text("\n".join(lines), encoding="utf-8")
    problems = problems_of(suite_file({"yaml_ner": task_entry(TOKEN / "task.yaml", data)}))
    labels = "valid: O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC, B-DATE, I-DATE"
    assert [p for p in problems if str(test) in p] == [
        f"tasks.yaml_ner.data: {test}:{line}: unknown label {tag!r}; {labels}"
        for line, tag in ((2, "B-MISC"), (8, "B-ORGG"), (9, "X"))]


CONLLU_WORD = "{}\t{}\t_\t{}\t_\t_\t0\t_\t_\t_"
#: Per format: the task's kind and labels, the file's lines, and the lines a problem is named at.
FORMAT_CASES = {
    "conllu": ("token_classification", ["AUX", "PART"], [
        "# sent_id = 1", CONLLU_WORD.format("1-2", "don't", "_"), CONLLU_WORD.format(1, "do", "AUX"),
        CONLLU_WORD.format(2, "n't", "ADV"), CONLLU_WORD.format("2.1", "go", "VERB"),
        CONLLU_WORD.format(3, "go", "NOUN"), ""], [4, 6]),
    "jsonl": ("token_classification", ["O", "B-LOC"], [
        '{"tokens": ["a"], "tags": ["O"]}', "", '{"tokens": ["a", "b"], "tags": ["O", "I-LOC"]}'],
        [3]),
    "tsv": ("sentence_classification", ["short", "long"], [
        "index_id\tcategory\ttext", "0\tshort\ta", '1\tlong\t"b', '2\tmedium\tc"'], [4]),
    "quoted_tsv": ("sentence_classification", ["short", "long"], [
        "index_id\tcategory\ttext", "0\tshort\ta", '1\tmedium\t"b', 'c"', "2\tlong\td", "3\tx\te"],
        [3, 6]),  # a record spanning lines 3-4 is named at its first line
    "csv": ("sentence_classification", ["short", "long"], [
        "index_id,category,text", '0,medium,"a', 'b"', "1,long,c", "2,x,d"], [2, 5]),
}


@pytest.mark.parametrize("format", sorted(FORMAT_CASES))
def test_every_local_format_names_the_line_of_each_problem(tmp_path, format):
    kind, labels, lines, bad = FORMAT_CASES[format]
    columns = {"tokens": "tokens", "tags": "tags"} if kind == "token_classification" else {
        "text": "text", "label": "category"}
    data = TaskData(TaskDefinition.model_validate({
        "task": "t", "kind": kind, "labels": labels, "metric": "accuracy", "columns": columns,
        "languages": {"eng": "en"}, "local": {"format": format, "file": "{language}/{split}.txt"}}))
    path = tmp_path / "en" / "test.txt"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        data.load(DataSource(path=str(tmp_path)), "eng", "test")
    named = [int(line.split(f"{path}:")[1].split(":")[0]) for line in str(caught.value).splitlines()
             if f"{path}:" in line]
    assert named == bad
