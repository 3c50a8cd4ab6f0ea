"""Backbone registry, tiny backbones of the four architectures, the backbone stage."""

import json
import random
import shutil

import pytest
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    BertForMaskedLM,
    GPT2LMHeadModel,
    MBartForConditionalGeneration,
    XLMRobertaForMaskedLM,
)

from harness.core.graph import Cache, Stage, StageContext
from harness.models.backbones import (
    BACKBONES,
    BackboneStage,
    BackboneUnavailableError,
    backbone_arch,
    backbone_config,
    build_tiny_backbone,
    check_backbone_available,
    pretrained_path,
)

WORDS = ("the quick brown fox jumps over lazy dog Hello World school book read day good "
         "привет мир быстрая лиса собака школа 我们 今天 学校 学习 ሰላም ዓለም").split()
CORPUS = [" ".join(random.Random(i).choices(WORDS, k=8)) + "." for i in range(150)]
TINY = ("tiny-xlmr", "tiny-mbert", "tiny-mgpt", "tiny-mbart")
CLASSES = {"xlmr": XLMRobertaForMaskedLM, "bert": BertForMaskedLM, "gpt2": GPT2LMHeadModel,
           "mbart": MBartForConditionalGeneration}
AUTO = {"xlmr": AutoModelForMaskedLM, "bert": AutoModelForMaskedLM, "gpt2": AutoModelForCausalLM,
        "mbart": AutoModelForSeq2SeqLM}
# How each family frames one text (hand-known conventions of the real tokenizers); "X" = text.
FRAMES = {"xlmr": ["<s>", "X", "</s>"], "bert": ["[CLS]", "X", "[SEP]"], "gpt2": ["X"],
          "mbart": ["X", "</s>", "en_XX"]}


class CorpusFiles(Stage):
    kind = "corpus"

    def run(self, ctx, inputs, out):
        (out / "corpus.txt").write_text("\n".join(CORPUS), encoding="utf-8")

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("backbones")
    for name in TINY:
        build_tiny_backbone(BACKBONES.get(name), CORPUS, root / name, seed=3)
    return root


def sample_batch(tokenizer):
    return tokenizer(CORPUS[:3], padding=True, return_tensors="pt")


def test_registry_has_paper_and_tiny_backbones():
    assert {"xlm-roberta-base", "bert-base-multilingual-cased", "mgpt", "mbart", *TINY} <= set(BACKBONES)
    for name in BACKBONES:
        spec = BACKBONES.get(name)
        assert spec.tiny == (spec.hub_id is None)
        assert spec.arch in CLASSES
    assert BACKBONES.get("mbart").hub_id == "facebook/mbart-large-cc25"
    assert {BACKBONES.get(name).arch for name in TINY} == set(CLASSES)


@pytest.mark.parametrize("name", TINY)
def test_tiny_backbone_sizes_and_classes(built, name):
    arch = BACKBONES.get(name).arch
    model = AUTO[arch].from_pretrained(built / name)
    tokenizer = AutoTokenizer.from_pretrained(built / name)
    config = model.config
    assert type(model) is CLASSES[arch]
    assert config.hidden_size <= 64 and 2 <= config.num_hidden_layers <= 4
    assert config.max_position_embeddings >= 160
    assert config.vocab_size == len(tokenizer) <= 2000
    assert tokenizer.pad_token_id is not None and tokenizer.pad_token_id == config.pad_token_id


@pytest.mark.parametrize("name", TINY)
def test_tiny_backbone_round_trips_with_same_logits(built, name, tmp_path):
    arch = BACKBONES.get(name).arch
    first = AUTO[arch].from_pretrained(built / name).eval()
    first.save_pretrained(tmp_path)
    second = AUTO[arch].from_pretrained(tmp_path).eval()
    batch = sample_batch(AutoTokenizer.from_pretrained(built / name))
    with torch.no_grad():
        assert torch.equal(first(**batch).logits, second(**batch).logits)


@pytest.mark.parametrize("name", TINY)
def test_tokenizer_follows_the_family_conventions(built, name):
    arch = BACKBONES.get(name).arch
    tokenizer = AutoTokenizer.from_pretrained(built / name)
    ids = tokenizer("Hello world")["input_ids"]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    special = set(tokenizer.all_special_tokens)
    frame = [token if token in special else "X" for token in tokens]
    collapsed = [t for i, t in enumerate(frame) if t != "X" or i == 0 or frame[i - 1] != "X"]
    assert collapsed == FRAMES[arch]
    assert tokenizer.decode(ids, skip_special_tokens=True).strip() == "Hello world"  # cased
    marker = {"xlmr": "▁", "mbart": "▁", "gpt2": "Ġ"}.get(arch)
    if marker:
        assert any(token.startswith(marker) for token in tokens)


def test_seed_decides_the_initialisation(tmp_path):
    spec = BACKBONES.get("tiny-xlmr")
    for folder, seed in (("a", 1), ("b", 1), ("c", 2)):
        build_tiny_backbone(spec, CORPUS[:40], tmp_path / folder, seed=seed)
    weights = {f: AutoModelForMaskedLM.from_pretrained(tmp_path / f).roberta.embeddings.word_embeddings.weight
               for f in "abc"}
    assert torch.equal(weights["a"], weights["b"])
    assert not torch.equal(weights["a"], weights["c"])


def test_backbone_stage_builds_a_tiny_backbone(tmp_path):
    cache, ctx = Cache(tmp_path / "cache"), StageContext(progress=False)
    corpus = CorpusFiles()
    cache.materialize(corpus, ctx)
    stage = BackboneStage(backbone_config(BACKBONES.get("tiny-mgpt")), corpus=corpus)
    artifact = cache.materialize(stage, ctx)
    record = json.loads((artifact / "backbone.json").read_text())
    assert record == {"name": "tiny-mgpt", "arch": "gpt2", "pretrained": "model"}
    assert pretrained_path(artifact) == str(artifact / "model")
    assert backbone_arch(artifact) == "gpt2"
    assert isinstance(AutoModelForCausalLM.from_pretrained(pretrained_path(artifact)), GPT2LMHeadModel)


def test_pretrained_backbone_may_point_at_a_local_checkpoint(built, tmp_path):
    local = tmp_path / "my-xlmr"
    shutil.copytree(built / "tiny-xlmr", local)
    stage = BackboneStage(backbone_config(BACKBONES.get("xlm-roberta-base"), str(local)))
    artifact = Cache(tmp_path / "cache").materialize(stage, StageContext(progress=False))
    assert pretrained_path(artifact) == str(local.resolve())
    assert backbone_arch(artifact) == "xlmr"
    assert stage.key != BackboneStage(backbone_config(BACKBONES.get("xlm-roberta-base"))).key


def test_tiny_backbone_takes_no_local_checkpoint():
    with pytest.raises(ValueError, match="takes no 'pretrained'"):
        backbone_config(BACKBONES.get("tiny-xlmr"), "/somewhere")


def test_unavailable_hub_backbone_fails_with_instructions(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(BackboneUnavailableError) as error:
        check_backbone_available("xlm-roberta-base")
    assert "'xlm-roberta-base'" in str(error.value) and "pretrained: DIR" in str(error.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackboneUnavailableError, match="no config.json"):
        check_backbone_available(str(tmp_path / "empty"))
