import logging
from types import SimpleNamespace

import pytest
import torch
from adapters import AutoAdapterModel
from adapters.composition import Stack
from transformers import AutoTokenizer

from harness.data.source import DataRef, DataSource
from harness.methods.unibridge.task_adapters import (
    LANGUAGE,
    TASK,
    TaskAdapterConfig,
    TaskAdapterStage,
    add_task_adapter,
    load_task_adapter,
)
from harness.models.backbones import BACKBONES, build_tiny_backbone
from harness.models.loading import install_target_embeddings, language_adapter_config
from harness.models.tiny_tokenizers import train_tiny_tokenizer

CORPUS = ["the cat sat on the mat", "a dog ran in the park", "the river flows through the old city",
          "capital cities grow quickly", "Beijing is in China"] * 4
TAGGING = SimpleNamespace(kind="tagging", labels=("O", "B-LOC", "I-LOC"))
PAIR = SimpleNamespace(kind="pair", labels=("entailment", "neutral", "contradiction"))


@pytest.fixture(scope="module")
def backbones(tmp_path_factory):
    logging.getLogger("transformers").setLevel(logging.ERROR)
    root = tmp_path_factory.mktemp("backbones")
    for name in ("tiny-xlmr", "tiny-mbart"):
        build_tiny_backbone(BACKBONES.get(name), CORPUS, root / name, seed=0, vocab_size=120)
    return root


def model_with_language(backbones, arch, own_embeddings):
    """A backbone with a language adapter 'language' (and, optionally, its own vocabulary)."""
    torch.manual_seed(0)
    model = AutoAdapterModel.from_pretrained(backbones / arch)
    tokenizer = AutoTokenizer.from_pretrained(backbones / arch)
    if own_embeddings:
        tokenizer = train_tiny_tokenizer("xlmr" if arch == "tiny-xlmr" else "mbart", CORPUS, 60)
        matrix = torch.randn(len(tokenizer), model.config.hidden_size)
        install_target_embeddings(model, tokenizer, matrix, LANGUAGE)
    model.add_adapter(LANGUAGE, config=language_adapter_config(model))
    return model, tokenizer


def tagged_batch(tokenizer, labels):
    texts = ["the cat sat", "a dog ran in the old park"]
    encoding = dict(tokenizer(texts, padding=True, return_tensors="pt"))
    tags = torch.randint(0, labels, encoding["input_ids"].shape, generator=torch.Generator().manual_seed(0))
    encoding["labels"] = tags.masked_fill(encoding["attention_mask"] == 0, -100)
    return encoding


def test_paper_defaults_and_key_follows_data(tmp_path):
    config = TaskAdapterConfig()
    settings = (config.reduction_factor, config.epochs, config.batch_size, config.learning_rate)
    assert settings == (16, 11, 32, 5e-4)
    training = config.training()
    assert (training.epochs, training.batch_size, training.learning_rate) == (11, 32, 5e-4)
    data = tmp_path / "train.txt"
    data.write_text("a")
    first = TaskAdapterStage(config.for_task("ner", "eng", DataRef.of(DataSource(path=data))), seed=1)
    data.write_text("b")
    from harness.data.source import hash_tree
    hash_tree.cache_clear()
    second = TaskAdapterStage(config.for_task("ner", "eng", DataRef.of(DataSource(path=data))), seed=1)
    other_source = TaskAdapterStage(config.for_task("ner", "zho", DataRef.of(DataSource(path=data))), seed=1)
    assert len({first.key, second.key, other_source.key}) == 3
    with pytest.raises(ValueError):
        TaskAdapterConfig(unknown=1)


@pytest.mark.parametrize("arch", ["tiny-xlmr", "tiny-mbart"])
@pytest.mark.parametrize("own_embeddings", [True, False])
def test_only_task_adapter_and_head_receive_gradients(backbones, arch, own_embeddings):
    model, tokenizer = model_with_language(backbones, arch, own_embeddings)
    add_task_adapter(model, TAGGING, reduction_factor=4)
    assert model.active_adapters == Stack(LANGUAGE, TASK)
    model(**tagged_batch(tokenizer, len(TAGGING.labels))).loss.backward()
    reached = {name for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert reached and reached <= trainable
    assert all(f".{TASK}." in name or name.startswith(f"heads.{TASK}.") for name in trainable)
    assert any(name.startswith(f"heads.{TASK}.") for name in reached)
    assert any(f"adapters.{TASK}." in name for name in reached)


def test_language_adapter_takes_part_in_the_forward_pass(backbones):
    model, tokenizer = model_with_language(backbones, "tiny-xlmr", own_embeddings=True)
    add_task_adapter(model, PAIR, reduction_factor=4)
    model.eval()
    inputs = dict(tokenizer(["the cat sat"], ["on the mat"], return_tensors="pt"))
    with torch.no_grad():
        before = model(**inputs).logits
        for parameter in model.base_model.invertible_adapters[LANGUAGE].parameters():
            parameter.add_(torch.randn_like(parameter))
        after = model(**inputs).logits
    assert not torch.allclose(before, after)


@pytest.mark.parametrize("arch", ["tiny-xlmr", "tiny-mbart"])
def test_saved_task_adapter_loads_under_a_new_name(backbones, arch, tmp_path):
    model, tokenizer = model_with_language(backbones, arch, own_embeddings=False)
    add_task_adapter(model, TAGGING, reduction_factor=4)
    model.eval()
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.requires_grad:
                parameter.add_(torch.randn_like(parameter))
    inputs = dict(tokenizer(["the cat sat", "a dog"], padding=True, return_tensors="pt"))
    with torch.no_grad():
        expected = model(**inputs).logits
    model.save_adapter(str(tmp_path / "adapter"), TASK, with_head=True)

    fresh = AutoAdapterModel.from_pretrained(backbones / arch)
    fresh.add_adapter(LANGUAGE, config=language_adapter_config(fresh))
    fresh.base_model.load_state_dict(model.base_model.state_dict(), strict=False)
    assert load_task_adapter(fresh, tmp_path, "task_eng") == "task_eng"
    assert list(fresh.heads) == ["task_eng"]
    fresh.set_active_adapters(Stack(LANGUAGE, "task_eng"))
    fresh.eval()
    with torch.no_grad():
        torch.testing.assert_close(fresh(**inputs).logits, expected)
