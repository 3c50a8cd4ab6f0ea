"""Fixtures of the baseline tests: small suites over the shipped fixtures, planned not run."""

import json
import random
import shutil
from pathlib import Path

import pytest
import yaml

from harness.planning.plan import Plan, prepare
from harness.suite.schema import load_suite

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SOURCE_WORDS = "the quick brown fox jumps over lazy dog hello world school book read day".split()
TARGET_WORDS = "the school dog ሰላም ዓለም ይህ የአማርኛ ዓረፍተ ነገር ነው ዛሬ ጥሩ ቀን ትምህርት ቤት".split()
SOURCE = [" ".join(random.Random(i).choices(SOURCE_WORDS, k=9)) + "." for i in range(80)]
TARGET = [" ".join(random.Random(-i).choices(TARGET_WORDS, k=8)) + "." for i in range(200)]


def smoke_like(methods: dict, backbones=("tiny-xlmr",), ner_targets=("amh",),
               sources=("eng", "zho", "rus", "ara", "jpn")) -> dict:
    """A suite over the fixtures with ``methods`` (name -> overrides)."""
    return {
        "name": "baselines-test", "seeds": [1], "backbones": list(backbones),
        "tasks": {"ner": {"targets": list(ner_targets), "sources": list(sources),
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}, "target_samples": 40,
                        "source_samples": 40, "words_per_sample": 16},
        "parallel": {"path": str(FIXTURES / "parallel")},
        "methods": methods,
    }


@pytest.fixture
def plan_of(tmp_path):
    """``plan_of(methods, **suite options)``: the validated Plan of a fixture suite."""

    def make(methods: dict, **options) -> Plan:
        path = tmp_path / "suite.yaml"
        path.write_text(yaml.safe_dump(smoke_like(methods, **options)), encoding="utf-8")
        return prepare(load_suite(path), check_data=False)

    return make


def stages_of(plan: Plan, method: str) -> dict[str, object]:
    """Every stage of ``method``'s jobs by key."""
    found = {}

    def visit(stage):
        found[stage.key] = stage
        for child in stage.inputs.values():
            visit(child)

    for job in plan.jobs:
        if job.method == method:
            visit(plan.build(job))
    return found


@pytest.fixture
def method_stages():
    """``method_stages(plan, method)``: every stage of the method's jobs by key."""
    return stages_of


def stage_inputs(root: Path, backbone: str, arch: str) -> Path:
    """Stage inputs under ``root``: ``backbone/`` (tiny ``backbone`` trained on English-like text),
    ``corpus/`` (an Amharic-like target corpus that shares a few English words) and ``tokenizer/``
    (a 50-piece SentencePiece unigram model of that corpus, as stage 1 writes it)."""
    import sentencepiece as spm

    from harness.models.backbones import BACKBONES, build_tiny_backbone

    build_tiny_backbone(BACKBONES.get(backbone), SOURCE, root / "backbone" / "model", seed=0)
    (root / "backbone" / "backbone.json").write_text(
        json.dumps({"name": backbone, "arch": arch, "pretrained": "model"}))
    (root / "corpus").mkdir()
    (root / "corpus" / "corpus.txt").write_text("\n".join(TARGET) + "\n", encoding="utf-8")
    (root / "tokenizer").mkdir()
    spm.SentencePieceTrainer.train(input=str(root / "corpus" / "corpus.txt"),
                                   model_prefix=str(root / "tokenizer" / "spm"), vocab_size=50,
                                   model_type="unigram", num_threads=1, minloglevel=2)
    return root


@pytest.fixture(scope="session")
def built_stage_inputs(tmp_path_factory):
    """``built_stage_inputs(backbone, arch)``: :func:`stage_inputs`, built once per session per
    backbone; read-only (``make_stage_inputs`` hands out copies)."""
    built: dict[tuple[str, str], Path] = {}

    def get(backbone: str, arch: str) -> Path:
        if (backbone, arch) not in built:
            built[backbone, arch] = stage_inputs(tmp_path_factory.mktemp(backbone), backbone, arch)
        return built[backbone, arch]

    return get


@pytest.fixture(scope="module")
def make_stage_inputs(tmp_path_factory, built_stage_inputs):
    """``make_stage_inputs(backbone, arch)``: a copy of :func:`stage_inputs`'s folder of its own."""

    def make(backbone: str, arch: str) -> Path:
        target = tmp_path_factory.mktemp(f"{backbone}-copy")
        shutil.copytree(built_stage_inputs(backbone, arch), target, dirs_exist_ok=True)
        return target

    return make
