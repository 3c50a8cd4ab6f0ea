"""π_UniBridge's two readings (Eq. 9, Eqs. 10-11): ``last_layer`` (default) and ``head_input``.

The reference for ``head_input`` is independent of the harness: a forward pre-hook on the LM
head's output layer records what the model's own forward pass feeds it.
"""

import random

import pytest
import torch
from transformers import AutoTokenizer

from harness.core.graph import StageContext
from harness.methods.unibridge.adaptation import AdaptationConfig
from harness.methods.unibridge.adaptation_trainer import AdaptationTrainer
from harness.methods.unibridge.harmony import DistanceConfig, sentence_states
from harness.methods.unibridge.inference import InferenceConfig
from harness.methods.unibridge.kl import mean_pool, pooled_kl
from harness.methods.unibridge.objectives import AdaptationCollator, encode_corpus, objective_collator
from harness.models.backbones import BACKBONES, build_tiny_backbone
from harness.models.loading import language_adapter_config, language_states, load_adapter_model
from harness.training.arguments import TrainingConfig, training_arguments

WORDS = "the quick brown fox jumps over lazy dog hello world school book read day".split()
CORPUS = [" ".join(random.Random(i).choices(WORDS, k=3 + i % 6)) + "." for i in range(60)]
ARCHS = {"xlmr": "tiny-xlmr", "bert": "tiny-mbert", "gpt2": "tiny-mgpt", "mbart": "tiny-mbart"}


@pytest.fixture(scope="module")
def backbones(tmp_path_factory):
    root = tmp_path_factory.mktemp("pi_reading")
    for arch, name in ARCHS.items():
        build_tiny_backbone(BACKBONES.get(name), CORPUS, root / arch, seed=0)
    return root


def adapted_model(backbones, arch):
    """The backbone with an active language adapter whose weights are far from the identity."""
    model = load_adapter_model(str(backbones / arch))
    model.add_adapter("lang", config=language_adapter_config(model))
    generator = torch.Generator().manual_seed(0)
    for key, parameter in model.named_parameters():
        if ".lang." in key:
            parameter.data = torch.randn(parameter.shape, generator=generator) * 0.3
    model.set_active_adapters("lang")
    return model


def capture_output_layer_input(model):
    """A list that receives the input of the default LM head's output layer at every call."""
    captured = []
    output_layer = model.heads["default"].get_output_embeddings()
    output_layer.register_forward_pre_hook(lambda module, args: captured.append(args[0].detach()))
    return captured


def padded_batch(backbones, arch, lines):
    tokenizer = AutoTokenizer.from_pretrained(backbones / arch)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    batch = tokenizer(lines, padding=True, return_tensors="pt")
    assert (batch["attention_mask"] == 0).any()  # the batch really is padded
    return batch


@pytest.mark.parametrize("arch", ARCHS)
def test_head_input_is_what_the_lm_head_feeds_its_output_layer(backbones, arch):
    model = adapted_model(backbones, arch).eval()
    batch = padded_batch(backbones, arch, [CORPUS[0], CORPUS[5], CORPUS[3]])
    captured = capture_output_layer_input(model)
    with torch.no_grad():
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        reference = captured.pop()
        states = language_states(model, batch["input_ids"], batch["attention_mask"], "head_input")
    torch.testing.assert_close(states, reference)


@pytest.mark.parametrize("arch", ARCHS)
def test_readings_differ_where_the_head_transforms_or_reads_the_decoder(backbones, arch):
    model = adapted_model(backbones, arch).eval()
    batch = padded_batch(backbones, arch, [CORPUS[0], CORPUS[5]])
    with torch.no_grad():
        default = language_states(model, batch["input_ids"], batch["attention_mask"])
        head = language_states(model, batch["input_ids"], batch["attention_mask"], "head_input")
    if arch == "gpt2":  # mGPT's head is its output layer alone: both readings are one tensor
        torch.testing.assert_close(head, default)
    else:
        assert (head - default).abs().max() > 0.1


@pytest.mark.parametrize("arch", ["xlmr", "mbart"])
def test_kl_term_reads_the_head_input_of_the_training_forward_pass(backbones, arch, tmp_path):
    model = adapted_model(backbones, arch)
    tokenizer = AutoTokenizer.from_pretrained(backbones / arch)
    corpus = encode_corpus(CORPUS[:8], tokenizer, 32)
    teacher = torch.randn(len(corpus.features), 32, generator=torch.Generator().manual_seed(1))
    args = training_arguments(TrainingConfig(epochs=1, batch_size=4, learning_rate=1e-3),
                              tmp_path, StageContext(progress=False))
    trainer = AdaptationTrainer(model=model, args=args, teacher=teacher, beta=1.0,
                                reading="head_input")
    collator = AdaptationCollator(objective_collator(arch, tokenizer, 0.15))
    batch = collator([corpus.features[i] for i in (3, 0, 6, 1)])
    index, mask = batch["example_index"], batch["attention_mask"]
    if arch == "mbart":  # the whole decoder input reaches the output layer
        captured = capture_output_layer_input(model)
        with torch.no_grad():
            trainer.compute_loss(model, batch)
        states = captured.pop()
    else:  # the output layer sees masked rows only: compare with the reading itself, no dropout
        model.eval()
        with torch.no_grad():
            trainer.compute_loss(model, dict(batch))
            states = language_states(model, batch["input_ids"], mask, "head_input")
    expected = pooled_kl(mean_pool(states.float(), mask), teacher[index])
    assert float(trainer._sums["kl"]) == pytest.approx(float(expected), rel=1e-5)


def test_sentence_states_follow_the_reading(backbones):
    model = adapted_model(backbones, "xlmr").eval()
    tokenizer = AutoTokenizer.from_pretrained(backbones / "xlmr")
    lines = [CORPUS[1], CORPUS[4], CORPUS[2]]
    batch = tokenizer(lines, padding=True, return_tensors="pt")
    with torch.no_grad():
        head = language_states(model, batch["input_ids"], batch["attention_mask"], "head_input")
        states = sentence_states(model, tokenizer, lines, batch_size=2, reading="head_input")
    torch.testing.assert_close(states, mean_pool(head, batch["attention_mask"]))
    assert not torch.allclose(states, sentence_states(model, tokenizer, lines, batch_size=2))


def test_default_reading_keeps_the_cache_keys_and_the_option_changes_them(tmp_path):
    from harness.data.parallel import ParallelCorpus, ParallelRef
    from harness.data.source import DataSource

    assert "pi_unibridge" not in AdaptationConfig().model_dump(mode="json")
    option = AdaptationConfig(pi_unibridge="head_input")
    assert option.model_dump(mode="json")["pi_unibridge"] == "head_input"
    assert AdaptationConfig.model_validate(option.model_dump()) == option
    (tmp_path / "data").mkdir()
    for lang in ("amh", "eng"):
        (tmp_path / "data" / f"{lang}.txt").write_text("x\n", encoding="utf-8")
    corpus = ParallelCorpus(format="folder", data=DataSource(path=tmp_path / "data"))
    parallel = ParallelRef.of(corpus, "amh", "eng")
    default = InferenceConfig().distance_config("amh", "eng", parallel)
    assert "pi_unibridge" not in default.model_dump(mode="json")
    chosen = InferenceConfig().distance_config("amh", "eng", parallel, "head_input")
    assert chosen.model_dump(mode="json")["pi_unibridge"] == "head_input"
    with pytest.raises(ValueError):
        DistanceConfig(lang="amh", source="eng", parallel=parallel, pi_unibridge="decoder")
