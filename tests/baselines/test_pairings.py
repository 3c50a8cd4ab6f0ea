"""Method × backbone pairings: a method's ``backbones:`` entry, and impossible pairings at validate."""

import pytest

from harness.methods.base import ALL_ARCHS
from harness.methods.catalog import METHODS
from harness.suite.schema import SuiteError
from harness.tasks.specs import get_task

BASELINES = ("mad_x", "unibridge_lang2vec", "focus", "extend")


def test_method_backbones_limit_the_jobs_and_are_not_hyperparameters(plan_of):
    plan = plan_of({"mad_x": {}, "extend": {"backbones": ["tiny-mbert"]}},
                   backbones=("tiny-xlmr", "tiny-mbert"))
    pairs = sorted({(job.method, job.backbone) for job in plan.jobs})
    assert pairs == [("extend", "tiny-mbert"), ("mad_x", "tiny-mbert"), ("mad_x", "tiny-xlmr")]


@pytest.mark.parametrize("chosen", [["tiny-mgpt"], [], "tiny-xlmr"])
def test_method_backbones_must_be_the_suites(plan_of, chosen):
    with pytest.raises(SuiteError, match=r"methods\.mad_x\.backbones.*valid: tiny-xlmr"):
        plan_of({"mad_x": {"backbones": chosen}})


@pytest.mark.parametrize("method, archs", [
    ("mad_x", ALL_ARCHS), ("unibridge_lang2vec", ALL_ARCHS),
    ("focus", {"xlmr", "bert"}), ("extend", {"bert"})])
def test_each_baseline_runs_where_the_paper_uses_it(method, archs):
    cls = METHODS.get(method)
    instance = cls(method, cls.Config())
    for arch in ALL_ARCHS:
        reason = instance.incompatibility(arch, get_task("ner"))
        assert (reason is None) == (arch in archs), (arch, reason)
        if reason:
            assert method in reason and arch in reason


def test_paper_suites_pair_the_baselines_as_the_paper(tmp_path):
    from pathlib import Path

    from harness.suite.schema import load_suite

    suite = load_suite(Path(__file__).resolve().parents[2] / "suites" / "wikiann.yaml")
    arch_of = {"xlm-roberta-base": "xlmr", "bert-base-multilingual-cased": "bert", "mgpt": "gpt2",
               "mbart": "mbart"}
    pairs = {m: {arch_of[b] for b in suite.method_backbones(m)} for m in suite.methods}
    assert pairs["mad_x"] == ALL_ARCHS
    assert pairs["unibridge"] == ALL_ARCHS
    assert pairs["unibridge_no_kl"] == {"xlmr", "bert", "mbart"}  # Table 18
    assert pairs["extend"] == {"bert"}  # Table 19
    assert pairs["focus"] == pairs["unibridge_lang2vec"] == {"xlmr", "bert"}  # Tables 14-15, 21-22
