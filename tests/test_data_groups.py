"""Blank-line groups (harness.data.problems.blank_line_groups) and the three readers built on it.

WikiANN's TSV, UD's CoNLL-U and the YAML tasks' conll/conllu formats all cut a file into
sentences at blank lines; these tests pin the edge cases each of them relies on.
"""

from pathlib import Path

import pytest

from harness.data import ud, wikiann
from harness.data.problems import Problems, blank_line_groups, read_numbered
from harness.data.source import DataError
from harness.tasks.from_yaml.formats import read_rows


def _numbered(*lines):
    return list(enumerate(lines, start=1))


def _keep(number, line):
    return number, line


def test_groups_of_a_hand_worked_example():
    lines = _numbered("", "a", "b", "", "", " \t", "c", "", "d")  # leading, several, whitespace
    assert list(blank_line_groups(lines, _keep)) == [
        [(2, "a"), (3, "b")], [(7, "c")], [(9, "d")]]  # the last group needs no blank line after


def test_dropped_lines_neither_split_a_group_nor_leave_an_empty_one():
    lines = _numbered("# only a comment", "", "# note", "x", "# inside", "y", "", "# tail")
    kept = list(blank_line_groups(lines, lambda n, line: None if line.startswith("#") else n))
    assert kept == [[4, 6]]


def test_item_is_called_as_each_line_is_read_not_after_its_group():
    calls = []
    groups = blank_line_groups(_numbered("a", "", "b", "c"), lambda n, line: calls.append(n) or n)
    assert next(groups) == [1] and calls == [1]
    assert next(groups) == [3, 4] and calls == [1, 3, 4]
    assert next(groups, None) is None


def test_crlf_lines_and_blank_crlf_lines_separate_groups(tmp_path):
    path = tmp_path / "crlf.tsv"
    path.write_bytes(b"a\tO\r\nb\tO\r\n\r\n\r\nc\tB-PER\r\n")
    problems = Problems()
    assert list(blank_line_groups(read_numbered(path, problems), _keep)) == [
        [(1, "a\tO"), (2, "b\tO")], [(5, "c\tB-PER")]]
    assert not problems


CONLL = b"-DOCSTART-\tO\r\n\r\nAddis\tB-LOC\r\nAbaba\tI-LOC\r\n\r\n\r\n \r\nAbebe\tB-PER"
CONLLU = (b"# sent_id = 1\r\n1\tAddis\t_\tPROPN\t_\t_\t0\troot\t_\t_\r\n"
          b"2\tAbaba\t_\tPROPN\t_\t_\t1\tflat\t_\t_\r\n\r\n\r\n# sent_id = 2\r\n"
          b"1-2\tdel\t_\t_\t_\t_\t_\t_\t_\t_\r\n1\tde\t_\tADP\t_\t_\t2\tcase\t_\t_\r\n"
          b"2\tel\t_\tDET\t_\t_\t0\troot\t_\t_")


def test_the_readers_agree_on_crlf_several_blanks_and_no_final_newline(tmp_path):
    (tmp_path / "ner.tsv").write_bytes(CONLL.replace(b"-DOCSTART-\tO\r\n\r\n", b""))
    (tmp_path / "ner.conll").write_bytes(CONLL)
    (tmp_path / "pos.conllu").write_bytes(CONLLU)
    ner = [(("Addis", "Ababa"), ("B-LOC", "I-LOC")), (("Abebe",), ("B-PER",))]
    pos = [(("Addis", "Ababa"), ("PROPN", "PROPN")), (("de", "el"), ("ADP", "DET"))]
    assert [(s.tokens, s.tags) for s in wikiann.parse_tsv(tmp_path / "ner.tsv")] == ner
    assert [(s.tokens, s.tags) for s in ud.parse_conllu(tmp_path / "pos.conllu")] == pos
    for name, expected, lines in (("ner.conll", ner, [(3, 4), (8,)]),
                                  ("pos.conllu", pos, [(2, 3), (8, 9)])):
        problems = Problems()
        rows = read_rows(tmp_path / name, Path(name).suffix[1:], {}, problems)
        assert not problems
        assert [(tuple(r.values["tokens"]), tuple(r.values["tags"])) for r in rows] == expected
        assert [r.word_lines for r in rows] == lines


def test_wikiann_reports_problems_in_file_order(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_bytes(b"a\tB-XYZ\n\xff\tO\nb\tO\n\nc\n")
    with pytest.raises(DataError) as error:
        wikiann.parse_tsv(path)
    assert [line.split(": ")[0] for line in str(error.value).splitlines()] == [
        f"{path}:1", f"{path}:2", f"{path}:5"]


@pytest.mark.parametrize(("format", "text"), [
    ("tsv", b"text\tlabel\nhello\tpos\nbad\x00word\tneg\nfine\tneg\n"),
    ("quoted_tsv", b"text\tlabel\nhello\tpos\nbad\x00word\tneg\nfine\tneg\n"),
    ("csv", b"text,label\nhello,pos\nbad\x00word,neg\nfine,neg\n"),
    ("jsonl", b'{"text": "hello", "label": "pos"}\n\n{"text": "bad\x00word", "label": "neg"}\n'
              b'{"text": "fine", "label": "neg"}\n'),
    ("conll", b"hello\tO\n\nbad\x00word\tB-PER\nfine\tO\n"),
    ("conllu", b"1\thello\t_\tNOUN\t_\t_\t0\troot\t_\t_\n\n1\tbad\x00word\t_\tNOUN\t_\t_\t0\troot\t_\t_\n"
               b"2\tfine\t_\tNOUN\t_\t_\t1\tdep\t_\t_\n"),
])
def test_every_yaml_format_refuses_a_nul_byte_naming_file_and_line(tmp_path, format, text):
    """Line 3 holds a NUL: said as file:line, not read as a word with a NUL in it."""
    path = tmp_path / f"data.{format}"
    path.write_bytes(text)
    column = text.splitlines()[2].index(b"\0") + 1
    problems = Problems()
    rows = read_rows(path, format, {"text": "text", "label": "label"}, problems)
    assert problems.messages() == [f"{path}:3: holds a NUL byte (column {column}), which no text has: a "
                                   f"binary or UTF-16 file, or zeros a crash left; save it as UTF-8 text"]
    assert not any("\0" in str(row.values) for row in rows)


@pytest.mark.parametrize(("parse", "text", "column"), [
    (wikiann.parse_tsv, b"a\tO\nb\x00\tO\n", 2),
    (ud.parse_conllu, b"1\ta\t_\tNOUN\t_\t_\t0\troot\t_\t_\n\x00\tb\t_\tNOUN\t_\t_\t1\tdep\t_\t_\n", 1),
], ids=["wikiann", "ud"])
def test_the_dataset_readers_refuse_a_nul_byte_naming_file_and_line(tmp_path, parse, text, column):
    path = tmp_path / "data"
    path.write_bytes(text)
    with pytest.raises(DataError, match=f"^{path}:2: holds a NUL byte \\(column {column}\\)"):
        parse(path)


def test_a_utf16_file_is_refused_as_such_not_as_words_with_nuls(tmp_path):
    path = tmp_path / "utf16.tsv"
    path.write_bytes("a\tO\nb\tO\n".encode("utf-16-le"))
    with pytest.raises(DataError, match="holds a NUL byte.*UTF-16"):
        wikiann.parse_tsv(path)
