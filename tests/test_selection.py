"""``--only``: the data checks cover what the selected jobs read; a value no job has is an error."""

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cli.main import cli
from harness.planning.plan import prepare
from harness.planning.validation import selected_reads
from harness.report.manifest import MANIFEST_FILE
from harness.suite.schema import SuiteError, load_suite
from harness.tasks.reads import PairRead, TaskRead, TextRead

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def suite_file(tmp_path: Path) -> Path:
    """NER on the fixtures and POS on a folder that does not exist; harmony pairs missing too."""
    payload = {
        "name": "mini",
        "backbones": ["tiny-xlmr"],
        "tasks": {
            "ner": {"targets": ["amh"], "sources": ["eng", "zho"],
                    "data": {"path": str(FIXTURES / "wikiann")}},
            "pos": {"targets": ["amh"], "sources": ["eng", "zho"],
                    "data": {"path": str(tmp_path / "no_treebanks")}},
        },
        "methods": {"zero_shot": {}, "unibridge": {}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}},
        "parallel": {"path": str(tmp_path / "no_pairs")},
    }
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return path


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_a_source_the_selected_jobs_never_read_is_not_checked(tmp_path):
    path = suite_file(tmp_path)
    only = ["--only", "task=ner", "--only", "method=zero_shot"]
    result = invoke("validate", str(path), *only)
    assert result.exit_code == 0, result.output
    ok, *notes = result.output.strip().splitlines()
    assert ok == f"{path}: ok (4 jobs, 1 selected)"
    # the fixture text is short: a note about the sources' text (the tiny backbone's), none
    # about the target's, which zero-shot never reads
    assert [note.split(" of ")[0] for note in notes] == ["note: monolingual.data: source text"]
    planned = invoke("plan", str(path), *only)
    assert planned.exit_code == 0, planned.output
    assert "1 jobs" in planned.output and "not readable here" not in planned.output
    dry = invoke("run", str(path), *only, "--dry-run", "--workdir", str(tmp_path / "w"))
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines()[0].strip() == "to run  zero_shot/tiny-xlmr/ner/amh/seed1"


@pytest.mark.parametrize("only, named, unnamed", [
    (("task=pos", "method=zero_shot"), "tasks.pos.data: data folder", "no_pairs"),
    (("task=ner", "method=unibridge"), "parallel (amh-eng, amh-zho): parallel.0.data folder", "no_treebanks"),
])
def test_selecting_a_job_that_reads_it_names_it(tmp_path, only, named, unnamed):
    result = invoke("validate", str(suite_file(tmp_path)), *[f"--only={o}" for o in only])
    assert result.exit_code == 2, result.output
    assert named in result.output and unnamed not in result.output


def test_without_only_every_unreadable_source_is_named(tmp_path):
    result = invoke("validate", str(suite_file(tmp_path)))
    assert result.exit_code == 2
    assert "no_treebanks" in result.output and "no_pairs" in result.output


def test_the_reads_are_what_the_stages_of_the_job_load(tmp_path):
    """zero-shot reads the sources' training splits, the target's test split, the sources' text
    (the tiny backbone's tokenizer) and no target text; UniBridge also reads the pairs."""
    suite = load_suite(suite_file(tmp_path))
    plan = prepare(suite, check_data=False)
    zero_shot = [job for job in plan.jobs if job.method == "zero_shot" and job.task == "ner"]
    reads, problems = selected_reads(suite, plan.methods, zero_shot)
    assert problems == []
    tasks = {(r.task, r.lang, r.splits) for r in reads if isinstance(r, TaskRead)}
    assert tasks == {("ner", "eng", ("train", "validation")), ("ner", "zho", ("train", "validation")),
                     ("ner", "amh", ("test",))}
    assert {r.lang for r in reads if isinstance(r, TextRead)} == {"eng", "zho"}
    assert not [r for r in reads if isinstance(r, PairRead)]
    unibridge = [job for job in plan.jobs if job.method == "unibridge" and job.task == "ner"]
    reads, _ = selected_reads(suite, plan.methods, unibridge)
    assert {r.lang for r in reads if isinstance(r, TextRead)} == {"eng", "zho", "amh"}
    assert sorted((r.target, r.source) for r in reads if isinstance(r, PairRead)) == \
        [("amh", "eng"), ("amh", "zho")]


# -- a value no job has (issue 21.6) ------------------------------------------------------------

@pytest.mark.parametrize("only, said", [
    ("lang=xyz", "--only lang=xyz: no job of {path} has lang 'xyz' (valid: amh)"),
    ("task=NER", "--only task=NER: no job of {path} has task 'NER'; did you mean 'ner'? "
                 "(valid: ner, pos)"),
    ("method=unibrige", "--only method=unibrige: no job of {path} has method 'unibrige'; did you "
                        "mean 'unibridge'? (valid: unibridge, zero_shot)"),
    ("seed=2", "--only seed=2: no job of {path} has seed '2' (valid: 1)"),
])
@pytest.mark.parametrize("command", ["run", "validate", "plan"])
def test_an_unknown_only_value_stops_with_the_valid_ones(tmp_path, command, only, said):
    path = suite_file(tmp_path)
    workdir = tmp_path / "work"
    workdir.mkdir()
    manifest = workdir / MANIFEST_FILE
    manifest.write_text(json.dumps({"selected": ["zero_shot/tiny-xlmr/ner/amh/seed1"]}))
    before = manifest.read_bytes()
    extra = ["--workdir", str(workdir)] if command in ("run", "plan") else []
    result = invoke(command, str(path), "--only", only, *extra)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == "Error: " + said.format(path=path)
    assert manifest.read_bytes() == before
    assert sorted(p.name for p in workdir.iterdir()) == [MANIFEST_FILE]


def test_valid_values_that_no_job_has_together_are_an_error(tmp_path):
    path = suite_file(tmp_path)
    payload = yaml.safe_load(path.read_text())
    payload["backbones"] = ["tiny-xlmr", "tiny-mbert"]
    payload["methods"]["zero_shot"] = {"backbones": ["tiny-mbert"]}
    path.write_text(yaml.safe_dump(payload))
    with pytest.raises(SuiteError, match="no job of .* has all of these together"):
        prepare(load_suite(path), check_data=False,
                only={"method": {"zero_shot"}, "backbone": {"tiny-xlmr"}})


def _holds_data(value) -> bool:
    """Whether a config value holds a DataRef or ParallelRef anywhere inside it."""
    from pydantic import BaseModel

    from harness.data.parallel import ParallelRef
    from harness.data.source import DataRef

    if isinstance(value, DataRef | ParallelRef):
        return True
    if isinstance(value, BaseModel):
        return any(_holds_data(getattr(value, name)) for name in type(value).model_fields)
    if isinstance(value, dict):
        return any(_holds_data(v) for v in value.values())
    return isinstance(value, list | tuple) and any(_holds_data(v) for v in value)


@pytest.mark.parametrize("name", ["smoke", "smoke_baselines"])
def test_every_stage_that_holds_data_declares_what_it_reads(name):
    """Otherwise validate would not check, nor fetch download, what that stage loads."""
    from harness.planning.validation import selected_stages
    from harness.tasks.reads import ReadsData

    plan = prepare(load_suite(Path(__file__).resolve().parents[1] / "suites" / f"{name}.yaml"),
                   check_data=False)
    stages, problems = selected_stages(plan.suite, plan.methods, plan.jobs)
    assert not problems
    holding = {type(stage.config).__name__ for stage in stages if _holds_data(stage.config)}
    assert len(holding) >= 5, holding
    undeclared = {type(stage.config).__name__ for stage in stages
                  if _holds_data(stage.config) and not isinstance(stage.config, ReadsData)}
    assert undeclared == set()


def test_sindhi_is_read_and_named_from_its_own_source(monkeypatch):
    """suites/ud.yaml: the POS job on Sindhi reads tasks.pos.language_data.snd (its pinned commit),
    the other targets the UD release; validate names each by that key."""
    from harness.planning.validation import task_key

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    suite = load_suite(Path(__file__).resolve().parents[1] / "suites" / "ud.yaml")
    plan = prepare(suite, check_data=False, only={"lang": {"snd", "amh"}, "method": {"zero_shot"}})
    reads, _ = selected_reads(suite, plan.methods, plan.selected)
    sources = {read.lang: read.source for read in reads if isinstance(read, TaskRead)}
    spec = suite.tasks["pos"]
    assert sources["snd"] == spec.language_data["snd"] != spec.data == sources["amh"]
    assert sources["snd"].release == "ud_repositories"
    assert task_key(suite, "pos", "snd") == "tasks.pos.language_data.snd"
    assert task_key(suite, "pos", "amh") == "tasks.pos.data"
