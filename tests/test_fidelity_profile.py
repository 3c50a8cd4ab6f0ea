"""The fidelity profiles (docs/fidelity.md): keys, merge order, ablations, ``extends:``, sharing."""

from pathlib import Path
from typing import Literal

import pytest
import yaml
from click.testing import CliRunner

from harness.cli.main import cli
from harness.core.config import StrictConfig, added_option
from harness.core.graph import topological_order
from harness.methods.unibridge import method as unibridge_method
from harness.methods.unibridge.method import UniBridge, UniBridgeNoKL, UniBridgeNoVocabSearch
from harness.planning.plan import prepare, stages_shared_with
from harness.suite.schema import SuiteError, load_suite, method_config

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
PAPER_SUITES = ("wikiann", "ud", "americasnli", "smoke")


class Options(StrictConfig):
    kept: int = 3
    form: Literal["text", "code"] = added_option("text")
    rate: float = added_option(0.5, gt=0)


def test_an_added_option_leaves_the_dump_only_at_its_default():
    assert Options().model_dump() == {"kept": 3}
    assert Options(form="code").model_dump(mode="json") == {"kept": 3, "form": "code"}
    assert Options(rate=0.25).model_dump() == {"kept": 3, "rate": 0.25}
    with pytest.raises(ValueError):
        Options(rate=0)  # its constraints hold as a Field's


def fake_preset(monkeypatch, per_arch):
    monkeypatch.setattr(unibridge_method, "authors_preset", lambda arch: per_arch.get(arch, {}))


def test_the_preset_is_merged_between_the_defaults_and_the_suites_overrides(monkeypatch):
    fake_preset(monkeypatch, {"xlmr": {"adaptation": {"beta": 0.25, "epochs": 7}}})
    preset = UniBridge.fidelity_preset("authors", "xlmr")
    config = method_config(UniBridge.Config, {"adaptation": {"epochs": 2}}, preset)
    assert (config.adaptation.beta, config.adaptation.epochs) == (0.25, 2)  # the suite wins
    assert config.adaptation.batch_size == UniBridge.Config().adaptation.batch_size
    assert UniBridge.fidelity_preset("paper", "xlmr") == {}


def test_an_ablation_keeps_what_makes_it_one_under_the_authors_profile(monkeypatch):
    fake_preset(monkeypatch, {"bert": {"adaptation": {"beta": 0.5, "epochs": 7},
                                       "vocab": {"fixed_size": 3000, "start": 3000}}})
    no_kl = UniBridgeNoKL.fidelity_preset("authors", "bert")
    assert no_kl["adaptation"] == {"epochs": 7} and no_kl["vocab"]["fixed_size"] == 3000
    assert method_config(UniBridgeNoKL.Config, {}, no_kl).adaptation.beta == 0
    no_search = UniBridgeNoVocabSearch.fidelity_preset("authors", "bert")
    assert no_search["vocab"] == {"start": 3000} and no_search["adaptation"]["beta"] == 0.5


def mini_suite(tmp_path: Path, **extra) -> Path:
    payload = {
        "name": "mini",
        "backbones": ["tiny-xlmr", "tiny-mbert"],
        "tasks": {"ner": {"targets": ["amh"], "sources": ["eng", "zho"],
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "methods": {"zero_shot": {}, "unibridge": {}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}},
        "parallel": {"path": str(FIXTURES / "parallel")},
        **extra,
    }
    path = tmp_path / f"{payload['name']}.yaml"
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return path


def adapter_stages(plan, backbone: str) -> list:
    job = next(j for j in plan.jobs if j.method == "unibridge" and j.backbone == backbone)
    return [s for s in topological_order([plan.build(job)]) if s.kind == "language_adapter"]


def test_each_backbone_family_gets_its_trees_values_and_keys_follow_them(monkeypatch, tmp_path):
    fake_preset(monkeypatch, {"bert": {"adaptation": {"beta": 0.5}}})
    paper = prepare(load_suite(mini_suite(tmp_path)), check_data=False)
    authors = prepare(load_suite(mini_suite(tmp_path, fidelity="authors")), check_data=False)
    assert set(authors.methods["unibridge"].per_backbone) == {"tiny-mbert"}
    assert authors.methods["zero_shot"].per_backbone == {}
    mbert = adapter_stages(authors, "tiny-mbert")
    assert {s.config.beta for s in mbert} == {0.5}
    assert {s.key for s in mbert}.isdisjoint(s.key for s in adapter_stages(paper, "tiny-mbert"))
    # the xlm/ tree sets nothing here: XLM-R's stages are the paper profile's, key for key
    assert [s.key for s in adapter_stages(authors, "tiny-xlmr")] == \
        [s.key for s in adapter_stages(paper, "tiny-xlmr")]
    shared, total = stages_shared_with(authors, "paper")
    assert 0 < shared < total
    moved = {s.key for s in mbert} | {s.key for job in authors.jobs if job.backbone == "tiny-mbert"
                                      and job.method == "unibridge"
                                      for s in topological_order([authors.build(job)])
                                      if any(i.kind == "language_adapter" for i in s.inputs.values())}
    assert total - shared >= len({s.key for s in mbert})
    assert total - shared <= len(moved) + 1  # the adapters and what is built on them, no more


def test_plan_says_how_many_stages_the_profiles_share(monkeypatch, tmp_path):
    fake_preset(monkeypatch, {})
    result = CliRunner().invoke(cli, ["plan", str(mini_suite(tmp_path, fidelity="authors"))])
    assert result.exit_code == 0, result.output
    total = result.output.split(" jobs, ")[1].split(" stages")[0]
    assert f"fidelity authors: {total} of {total} stages are the same under the paper profile" \
        in result.output


def test_extends_starts_from_the_other_suite_with_its_paths(tmp_path):
    base = load_suite(ROOT / "suites" / "smoke.yaml")
    child = tmp_path / "elsewhere" / "child.yaml"
    child.parent.mkdir()
    child.write_text(f"extends: {ROOT / 'suites' / 'smoke.yaml'}\nname: child\nfidelity: authors\n"
                     "tasks: {ner: {targets: [amh]}}\n", encoding="utf-8")
    suite = load_suite(child)
    assert (suite.name, suite.fidelity, suite.pipeline_check) == ("child", "authors", True)
    assert suite.tasks["ner"].data == base.tasks["ner"].data  # resolved against smoke.yaml's folder
    assert suite.tasks["ner"].sources == base.tasks["ner"].sources  # mappings merge
    assert [j.job_id for j in suite.jobs()] == [j.job_id for j in base.jobs()]


@pytest.mark.parametrize(("text", "says"), [
    ("extends: smoke.yaml\nfidelity: authors\n", "needs a name of its own"),
    ("extends: missing.yaml\nname: x\n", "no such suite file"),
    ("extends: [a]\nname: x\n", "is not a suite file"),
    ("extends: loop.yaml\nname: x\n", "closes a loop"),
])
def test_extends_problems_are_one_line_each(tmp_path, text, says):
    (tmp_path / "smoke.yaml").write_text((ROOT / "suites" / "smoke.yaml").read_text(encoding="utf-8")
                                         .replace("../fixtures", str(FIXTURES)), encoding="utf-8")
    path = tmp_path / "loop.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SuiteError, match=says):
        load_suite(path)


@pytest.mark.parametrize("name", PAPER_SUITES)
def test_each_paper_suite_has_an_authors_counterpart_with_the_same_jobs(name):
    paper = load_suite(ROOT / "suites" / f"{name}.yaml")
    authors = load_suite(ROOT / "suites" / f"{name}_authors.yaml")
    assert (paper.fidelity, authors.fidelity) == ("paper", "authors")
    assert authors.name == f"{paper.name}-authors".replace("_", "-")
    assert authors.jobs() == paper.jobs()
    assert authors.pipeline_check == paper.pipeline_check == (name == "smoke")


@pytest.mark.slow
def test_a_counterpart_whose_cache_links_to_the_papers_builds_no_shared_stage_again(tmp_path):
    only = ["--only", "method=zero_shot", "--only", "backbone=tiny-xlmr", "--only", "task=ner"]
    paper, authors = tmp_path / "smoke", tmp_path / "smoke-authors"
    first = CliRunner().invoke(cli, ["run", "suites/smoke.yaml", "--workdir", str(paper), *only])
    assert first.exit_code == 0, first.output
    authors.mkdir()
    (authors / "cache").symlink_to(paper / "cache", target_is_directory=True)
    second = CliRunner().invoke(cli, ["run", "suites/smoke_authors.yaml", "--workdir", str(authors),
                                      *only])
    assert second.exit_code == 0, second.output
    assert " 0 run" in second.output and "cached" in second.output, second.output
    assert len(list((authors / "results").rglob("*.json"))) == 1


@pytest.mark.parametrize(("line", "says"), [
    ("pipeline_check: 1", "pipeline_check: Input should be a valid boolean"),
    ("pipeline_check: 'no'", "pipeline_check: Input should be a valid boolean"),
    ("fidelity: author", "fidelity: Input should be 'paper' or 'authors'"),
    ("fidelity: 3", "fidelity: Input should be 'paper' or 'authors'"),
])
def test_the_new_suite_keys_refuse_what_is_not_theirs_in_one_line(tmp_path, line, says):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {ROOT / 'suites' / 'smoke.yaml'}\nname: bad\n{line}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.splitlines()[1:] == [says]


def test_extends_with_a_nul_byte_is_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text('extends: "a\\0b"\nname: bad\n', encoding="utf-8")
    with pytest.raises(SuiteError, match="holds a NUL byte"):
        load_suite(path)


TINY_UNIBRIDGE = {
    "vocab": {"start": 100, "step": 100, "max_size": 800},
    "embeddings": {"fasttext_dim": 16},
    "adaptation": {"max_steps": 2, "batch_size": 4, "max_device_batch_size": 4,
                   "source": {"batch_size": 4}},
    "task_adapter": {"max_steps": 3, "batch_size": 4, "max_device_batch_size": 4},
}


@pytest.mark.slow
def test_both_profiles_run_and_their_records_differ_where_the_options_say(tmp_path):
    """One job per method on tiny mBERT (the mbert/ tree), both profiles over one cache."""
    def suite(fidelity: str) -> Path:
        return mini_suite(tmp_path, name=f"e2e-{fidelity}", fidelity=fidelity,
                          backbones=["tiny-mbert"],
                          monolingual={"data": {"path": str(FIXTURES / "monolingual")},
                                       "target_samples": 120, "source_samples": 120,
                                       "words_per_sample": 24},
                          methods={"zero_shot": {"training": {"max_steps": 3, "batch_size": 4,
                                                              "max_device_batch_size": 4}},
                                   "unibridge": TINY_UNIBRIDGE})
    paper, authors = tmp_path / "paper", tmp_path / "authors"
    assert CliRunner().invoke(cli, ["run", str(suite("paper")), "--workdir", str(paper)]).exit_code == 0
    authors.mkdir()
    (authors / "cache").symlink_to(paper / "cache", target_is_directory=True)
    done = CliRunner().invoke(cli, ["run", str(suite("authors")), "--workdir", str(authors)])
    assert done.exit_code == 0, done.output
    from harness.run.records import load_records

    before = {r.job_id: r for r in load_records(paper)}
    after = {r.job_id: r for r in load_records(authors)}
    zero_shot = "zero_shot/tiny-mbert/ner/amh/seed1"
    assert after[zero_shot].model_dump() == before[zero_shot].model_dump()  # no code of theirs
    job = "unibridge/tiny-mbert/ner/amh/seed1"
    assert after[job].config_hash != before[job].config_hash
    assert after[job].details["scoring_unit"] == "subword" and "scoring_unit" not in before[job].details
    tasks = after[job].facts("task_adapter")
    assert tasks and {facts["selection"] for facts in tasks.values()} == {"last"}
    assert all("selection" not in facts for facts in before[job].facts("task_adapter").values())
    assert after[job].details["distances"] != before[job].details["distances"]  # raw last layer
