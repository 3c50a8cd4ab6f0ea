"""Adapter models: loading with LM heads, per-language embeddings, language adapters, states."""

import random

import pytest
import torch
from adapters import SeqBnInvConfig
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
)
from transformers.models.mbart.modeling_mbart import MBartScaledWordEmbedding

from harness.models.backbones import BACKBONES, build_tiny_backbone
from harness.models.loading import (
    ADAPTER_DIR,
    EMBEDDINGS_FILE,
    TOKENIZER_DIR,
    install_target_embeddings,
    language_adapter_config,
    language_states,
    load_adapter_model,
    load_language,
)
from harness.models.tiny_tokenizers import train_tiny_tokenizer

SOURCE_WORDS = "the quick brown fox jumps over lazy dog hello world school book read day".split()
TARGET_WORDS = "ሰላም ዓለም ይህ የአማርኛ ዓረፍተ ነገር ነው ዛሬ ጥሩ ቀን ወንድሜ ትምህርት ቤት".split()
SOURCE = [" ".join(random.Random(i).choices(SOURCE_WORDS, k=7)) + "." for i in range(80)]
TARGET = [" ".join(random.Random(-i).choices(TARGET_WORDS, k=6)) + "." for i in range(80)]
ARCHS = {"xlmr": "tiny-xlmr", "bert": "tiny-mbert", "gpt2": "tiny-mgpt", "mbart": "tiny-mbart"}
STATIC = {"xlmr": AutoModelForMaskedLM, "bert": AutoModelForMaskedLM, "gpt2": AutoModelForCausalLM,
          "mbart": AutoModelForSeq2SeqLM}

@pytest.fixture(scope="module")
def backbones(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    for arch, name in ARCHS.items():
        build_tiny_backbone(BACKBONES.get(name), SOURCE, root / arch, seed=0)
        if arch in ("xlmr", "bert"):  # a non-zero MLM output bias, as pretrained models have
            model = STATIC[arch].from_pretrained(root / arch)
            model.get_output_embeddings().bias.data.normal_(0, 1.0)
            model.save_pretrained(root / arch)
    return root


def batch_of(tokenizer, lines):
    return tokenizer(lines, padding=True, return_tensors="pt")


def randomize_adapters(model, name):
    generator = torch.Generator().manual_seed(0)
    for key, parameter in model.named_parameters():
        if f".{name}." in key:
            parameter.data = torch.randn(parameter.shape, generator=generator) * 0.3


@pytest.mark.parametrize("arch", ARCHS)
def test_adapter_model_reproduces_the_checkpoint_lm(backbones, arch):
    static = STATIC[arch].from_pretrained(backbones / arch).eval()
    model = load_adapter_model(str(backbones / arch)).eval()
    batch = batch_of(AutoTokenizer.from_pretrained(backbones / arch), SOURCE[:3])
    with torch.no_grad():
        torch.testing.assert_close(model(**batch).logits, static(**batch).logits)


def target_embeddings(backbones, arch):
    tokenizer = train_tiny_tokenizer(arch, TARGET, 200)
    matrix = torch.randn(len(tokenizer), 32, generator=torch.Generator().manual_seed(1))
    return tokenizer, matrix


@pytest.mark.parametrize("arch", ["xlmr", "gpt2"])
def test_target_embeddings_feed_the_model_and_the_tied_lm_head(backbones, arch):
    model = load_adapter_model(str(backbones / arch)).eval()
    tokenizer, matrix = target_embeddings(backbones, arch)
    install_target_embeddings(model, tokenizer, matrix, "amh")
    batch = batch_of(tokenizer, TARGET[:3])
    with torch.no_grad():
        outputs = model(**batch, output_hidden_states=True)
        head = model.heads["default"]
        hidden = outputs.hidden_states[-1]
        for index in range(len(head) - 1):  # the MLM transform, when the head has one
            hidden = head[index](hidden)
    assert torch.equal(model.get_input_embeddings().weight, matrix)
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    torch.testing.assert_close(outputs.logits, hidden @ matrix.T)  # new-vocabulary bias is zero


def test_switching_back_to_default_embeddings_gives_the_plain_backbone(backbones):
    reference = AutoModel.from_pretrained(backbones / "xlmr").eval()
    model = load_adapter_model(str(backbones / "xlmr")).eval()
    install_target_embeddings(model, *target_embeddings(backbones, "xlmr"), "amh")
    model.set_active_embeddings("default")
    batch = batch_of(AutoTokenizer.from_pretrained(backbones / "xlmr"), SOURCE[:3])
    with torch.no_grad():
        expected = reference(**batch).last_hidden_state
        torch.testing.assert_close(model.base_model(**batch).last_hidden_state, expected)


def test_mbart_target_embeddings_keep_the_embedding_scale(backbones):
    model = load_adapter_model(str(backbones / "mbart")).eval()
    tokenizer, matrix = target_embeddings(backbones, "mbart")
    install_target_embeddings(model, tokenizer, matrix, "amh")
    embedding = model.get_input_embeddings()
    assert isinstance(embedding, MBartScaledWordEmbedding)
    assert model.base_model.encoder.embed_tokens is embedding is model.base_model.decoder.embed_tokens
    ids = torch.tensor([[5, 6, 7]])
    torch.testing.assert_close(embedding(ids), matrix[ids] * 32 ** 0.5)
    with torch.no_grad():
        logits = model(**batch_of(tokenizer, TARGET[:2])).logits
    assert logits.shape[-1] == len(tokenizer)


def test_embeddings_must_fit_the_tokenizer(backbones):
    model = load_adapter_model(str(backbones / "bert"))
    tokenizer, matrix = target_embeddings(backbones, "bert")
    with pytest.raises(ValueError, match="do not fit"):
        install_target_embeddings(model, tokenizer, matrix[:-1], "amh")
    install_target_embeddings(model, tokenizer, matrix, "amh")
    with pytest.raises(ValueError, match="already installed"):
        install_target_embeddings(model, tokenizer, matrix, "amh")


@pytest.mark.parametrize("arch, adapted", [("xlmr", {0}), ("gpt2", {0}), ("mbart", {0, 1, 2})])
def test_language_adapter_leaves_out_the_last_layer(backbones, arch, adapted):
    model = load_adapter_model(str(backbones / arch))
    config = language_adapter_config(model)
    assert isinstance(config, SeqBnInvConfig)
    assert config.reduction_factor == 2 and config.inv_adapter_reduction_factor == 2
    model.add_adapter("lang", config=config)
    layers = set()
    for key, _ in model.named_parameters():
        if ".lang." in key and "invertible" not in key:
            marker = "layers." if arch == "mbart" else ("layer." if arch == "xlmr" else "h.")
            index = int(key.split(marker)[1].split(".")[0])
            layers.add(index + (2 if ".decoder." in key else 0))
    assert layers == adapted
    assert any("invertible_adapters.lang" in key for key, _ in model.named_parameters())


@pytest.mark.parametrize("arch", ARCHS)
def test_load_language_restores_embeddings_and_adapter(backbones, arch, tmp_path):
    model = load_adapter_model(str(backbones / arch)).eval()
    tokenizer, matrix = target_embeddings(backbones, arch)
    install_target_embeddings(model, tokenizer, matrix, "amh")
    model.add_adapter("language", config=language_adapter_config(model))
    randomize_adapters(model, "language")
    model.set_active_adapters("language")
    tokenizer.save_pretrained(tmp_path / TOKENIZER_DIR)
    torch.save(matrix, tmp_path / EMBEDDINGS_FILE)
    model.save_adapter(str(tmp_path / ADAPTER_DIR), "language", with_head=False)

    fresh = load_adapter_model(str(backbones / arch)).eval()
    loaded_tokenizer = load_language(fresh, tmp_path, "amh")
    fresh.set_active_adapters("amh")
    batch = batch_of(loaded_tokenizer, TARGET[:3])
    with torch.no_grad():
        torch.testing.assert_close(fresh(**batch).logits, model(**batch).logits)
        torch.testing.assert_close(language_states(fresh, batch["input_ids"], batch["attention_mask"]),
                                   language_states(model, batch["input_ids"], batch["attention_mask"]))


def test_load_language_without_own_vocabulary_uses_the_backbone_embeddings(backbones, tmp_path):
    model = load_adapter_model(str(backbones / "bert"))
    model.add_adapter("language", config=language_adapter_config(model))
    AutoTokenizer.from_pretrained(backbones / "bert").save_pretrained(tmp_path / TOKENIZER_DIR)
    model.save_adapter(str(tmp_path / ADAPTER_DIR), "language", with_head=False)
    fresh = load_adapter_model(str(backbones / "bert"))
    install_target_embeddings(fresh, *target_embeddings(backbones, "bert"), "amh")
    load_language(fresh, tmp_path, "eng")
    assert fresh.active_embeddings == "default"
    assert "eng" in fresh.adapters_config.adapters


@pytest.mark.parametrize("arch", ["xlmr", "gpt2", "mbart"])
def test_language_states_are_the_inverse_adapter_of_the_last_hidden_state(backbones, arch):
    model = load_adapter_model(str(backbones / arch)).eval()
    model.add_adapter("lang", config=language_adapter_config(model))
    randomize_adapters(model, "lang")
    model.set_active_adapters("lang")
    batch = batch_of(AutoTokenizer.from_pretrained(backbones / arch), SOURCE[:3])
    with torch.no_grad():
        outputs = model(**batch, output_hidden_states=True)
        last = outputs.encoder_last_hidden_state if arch == "mbart" else outputs.hidden_states[-1]
        inverse = model.base_model.invertible_adapters["lang"]
        expected = inverse(last, rev=True)
        states = language_states(model, batch["input_ids"], batch["attention_mask"])
    torch.testing.assert_close(states, expected)
    assert not torch.allclose(states, last)  # the inverse really ran
