"""Every data problem validate can see is one clear message (file:line, suite key) before any stage."""

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cli.main import cli
from harness.data import parallel, wikiann
from harness.data.parallel import ParallelCorpus
from harness.data.source import DataError, DataSource
from harness.run.runner import CACHE_DIR

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DATASETS = {"ner": ("wikiann", ".tsv"), "pos": ("ud", ".conllu"), "nli": ("nli", ".tsv")}
TARGET = {"ner": "amh", "pos": "amh", "nli": "aym"}


def copy_suite(tmp_path: Path, task: str = "ner") -> Path:
    """A one-job suite over copies of the fixtures (target amh/aym, source eng) in ``tmp_path``."""
    folder, _ = DATASETS[task]
    (tmp_path / "mono").mkdir(parents=True)
    for lang in (TARGET[task], "eng"):
        shutil.copytree(FIXTURES / folder / lang, tmp_path / folder / lang)
        shutil.copy(FIXTURES / "monolingual" / f"{lang}.txt", tmp_path / "mono" / f"{lang}.txt")
    payload = {
        "name": "mini", "backbones": ["tiny-xlmr"], "methods": {"zero_shot": {}},
        "tasks": {task: {"targets": [TARGET[task]], "sources": ["eng"], "data": {"path": folder}}},
        "monolingual": {"data": {"path": "mono"}},
    }
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return path


def split_path(tmp_path: Path, task: str, lang: str, split: str) -> Path:
    folder, suffix = DATASETS[task]
    return tmp_path / folder / lang / f"{split}{suffix}"


def validate(path: Path):
    return CliRunner().invoke(cli, ["validate", str(path)])


def assert_clear(result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, result.output


def test_the_copied_fixtures_validate(tmp_path):
    for task in DATASETS:
        result = validate(copy_suite(tmp_path / task, task))
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize("task, lang, split, line, text, expected", [
    ("ner", "amh", "test", 2, "x\tB-MISC", "unknown tag 'B-MISC'"),
    ("ner", "eng", "train", 1, "no-tab-here", "expected 'token<TAB>tag'"),
    ("pos", "amh", "test", 3, "1\ta\ta\tNONE\t_\t_\t0\troot\t_\t_", "unknown UPOS 'NONE'"),
    ("pos", "eng", "validation", 3, "1\ta\ta\tNOUN\t_", "expected 10 tab-separated"),
    ("nli", "aym", "test", 2, "a\tb\tyes", "unknown label 'yes'"),
    ("nli", "eng", "validation", 1, "premise\thyp", "expected the header"),
])
def test_bad_line_is_named_by_file_line_and_key(tmp_path, task, lang, split, line, text, expected):
    path = copy_suite(tmp_path, task)
    data = split_path(tmp_path, task, lang, split)
    lines = data.read_text(encoding="utf-8").splitlines()
    lines[line - 1] = text
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_clear(validate(path), f"tasks.{task}.data: {data}:{line}: {expected}")


@pytest.mark.parametrize("task, lang, split", [
    ("ner", "amh", "test"), ("pos", "amh", "test"), ("nli", "eng", "train")])
def test_empty_split_file(tmp_path, task, lang, split):
    path = copy_suite(tmp_path, task)
    data = split_path(tmp_path, task, lang, split)
    data.write_text("" if task != "nli" else "premise\thypothesis\tlabel\n\n", encoding="utf-8")
    assert_clear(validate(path), f"{data}: no ")


@pytest.mark.parametrize("lang, method", [("eng", "zero_shot"), ("amh", "mad_x")])
def test_empty_monolingual_corpus(tmp_path, lang, method):
    """A method that reads the language's text (zero-shot reads no target text) meets the problem."""
    path = copy_suite(tmp_path)
    suite = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**suite, "methods": {method: {}}}), encoding="utf-8")
    (tmp_path / "mono" / f"{lang}.txt").write_text("\n  \n", encoding="utf-8")
    assert_clear(validate(path), f"monolingual.data: {tmp_path / 'mono' / f'{lang}.txt'}: no text",
                 "must not be empty")


def test_every_bad_line_of_a_file_is_listed(tmp_path):
    path = copy_suite(tmp_path)
    data = split_path(tmp_path, "ner", "amh", "test")
    data.write_text("a\tO\nb\tX1\n\nc\tX2\nd\tO\ne\tX3\n", encoding="utf-8")
    result = validate(path)
    assert_clear(result, f"{data}:2: unknown tag 'X1'", f"{data}:4: unknown tag 'X2'",
                 f"{data}:6: unknown tag 'X3'")


def test_problems_per_file_are_capped(tmp_path):
    path = copy_suite(tmp_path)
    data = split_path(tmp_path, "ner", "amh", "test")
    data.write_text("".join(f"w\tBAD{i}\n" for i in range(1, 9)), encoding="utf-8")
    result = validate(path)
    assert_clear(result, f"{data}:5: unknown tag 'BAD5'", f"{data}: … and 3 more problems")
    assert "BAD6" not in result.output


def test_problems_of_several_files_are_all_listed(tmp_path):
    path = copy_suite(tmp_path)
    test = split_path(tmp_path, "ner", "amh", "test")
    test.write_text("", encoding="utf-8")
    train = split_path(tmp_path, "ner", "eng", "train")
    train.write_text("a\tNOPE\n", encoding="utf-8")
    assert_clear(validate(path), f"{test}: no sentences", f"{train}:1: unknown tag 'NOPE'")


def test_data_file_not_utf8_names_the_line(tmp_path):
    path = copy_suite(tmp_path)
    data = split_path(tmp_path, "ner", "eng", "validation")
    data.write_bytes(b"a\tO\n" + "é\tO\n".encode("latin-1"))
    assert_clear(validate(path), f"{data}:2: not UTF-8 text (byte 0xe9")


def test_utf8_bom_is_accepted_and_stripped(tmp_path):
    path = copy_suite(tmp_path)
    data = split_path(tmp_path, "ner", "amh", "test")
    data.write_bytes(b"\xef\xbb\xbf" + data.read_bytes())
    mono = tmp_path / "mono" / "eng.txt"
    mono.write_bytes(b"\xef\xbb\xbf" + mono.read_bytes())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = validate(path)
    assert result.exit_code == 0, result.output
    first = wikiann.load(DataSource(path=tmp_path / "wikiann"), "amh", "test")[0]
    assert not first.tokens[0].startswith("\ufeff")


def test_suite_file_not_utf8(tmp_path):
    path = copy_suite(tmp_path)
    path.write_bytes(path.read_bytes() + "# café\n".encode("latin-1"))
    lines = path.read_bytes().count(b"\n")
    assert_clear(validate(path), f"{path}:{lines}: not UTF-8 text")


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\ntasks: [a\nmethods: {}\n", encoding="utf-8")
    assert_clear(validate(path), f"{path}:3: not valid YAML")


def test_run_validates_the_data_before_any_stage(tmp_path):
    path = copy_suite(tmp_path)
    data = split_path(tmp_path, "ner", "amh", "test")
    data.write_text("a\tB-MISC\n", encoding="utf-8")
    workdir = tmp_path / "work"
    result = CliRunner().invoke(cli, ["run", str(path), "--workdir", str(workdir), "--device", "cpu"])
    assert_clear(result, f"{data}:1: unknown tag 'B-MISC'")
    assert not (workdir / CACHE_DIR).exists()


def test_parallel_pairs_file_lists_every_malformed_line(tmp_path):
    (tmp_path / "amh-eng.tsv").write_bytes(b"\xef\xbb\xbfa\tb\nno tab\nc\td\none\ttwo\tthree\n")
    corpus = ParallelCorpus(format="pairs", data=DataSource(path=tmp_path))
    with pytest.raises(DataError, match=r"(?s)amh-eng\.tsv:2: .*got 1 fields.*amh-eng\.tsv:4: .*got 3"):
        parallel.check(corpus, "amh", "eng")


NUL = "holds a NUL byte (column 2), which no text has"


@pytest.mark.parametrize("task, lang, split", [
    ("ner", "amh", "test"), ("pos", "eng", "train"), ("nli", "aym", "test")])
def test_a_nul_byte_in_a_split_file_is_named_by_file_line_and_key(tmp_path, task, lang, split):
    path = copy_suite(tmp_path, task)
    data = split_path(tmp_path, task, lang, split)
    lines = data.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1][:1] + b"\0" + lines[1][1:]
    data.write_bytes(b"".join(lines))
    assert_clear(validate(path), f"tasks.{task}.data: {data}:2: {NUL}")


def test_a_nul_byte_in_monolingual_text_is_named_by_file_line_and_key(tmp_path):
    path = copy_suite(tmp_path)
    text = tmp_path / "mono" / "eng.txt"
    text.write_bytes(b"some words\nw\0rds\nmore words\n")
    assert_clear(validate(path), f"monolingual.data: {text}:2: {NUL}")


def directory(path: Path) -> str:
    path.unlink()
    path.mkdir()
    (path / "inside.txt").write_text("a\tO\n", encoding="utf-8")
    return "is a directory, not a file"


def link_loop(path: Path) -> str:
    path.unlink()
    path.symlink_to(path.name)  # a link to itself
    return "is a symbolic link loop"


def two_link_loop(path: Path) -> str:
    path.unlink()
    other = path.with_name("other.tsv")
    path.symlink_to(other.name)
    other.symlink_to(path.name)
    return "is a symbolic link loop"


def dangling_link(path: Path) -> str:
    path.unlink()
    path.symlink_to("gone.tsv")
    return "is a symbolic link to gone.tsv, which does not exist"


@pytest.mark.parametrize("replace", [directory, link_loop, two_link_loop, dangling_link],
                         ids=lambda replace: replace.__name__)
def test_a_split_path_that_is_no_file_says_what_it_is(tmp_path, replace):
    """Not "no file ...; splits there: test, ..." naming as missing the split it lists."""
    path = copy_suite(tmp_path)
    data = split_path(tmp_path, "ner", "amh", "test")
    what = replace(data)
    result = validate(path)
    assert_clear(result, f"tasks.ner.data: {data} for language 'amh' split 'test' {what}")
    assert "no file" not in result.output


def test_a_monolingual_path_that_is_a_directory_says_so(tmp_path):
    path = copy_suite(tmp_path)
    text = tmp_path / "mono" / "eng.txt"
    what = directory(text)
    assert_clear(validate(path), f"monolingual.data: {text} for language 'eng' {what}")
