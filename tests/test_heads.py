from types import SimpleNamespace

import pytest
import torch
from adapters import AutoAdapterModel, SeqBnConfig

from harness.models.heads import ENCODER_TAGGING, add_task_head, register_task_heads

ARCHS = ["tiny-xlmr", "tiny-mbert", "tiny-mgpt", "tiny-mbart"]
CORPUS = ["the cat sat on the mat", "a dog ran in the park", "the river flows through the old city",
          "capital cities grow quickly", "Beijing is in China"] * 4
TAGGING = SimpleNamespace(kind="tagging", labels=("O", "B-LOC", "I-LOC", "B-PER"))
PAIR = SimpleNamespace(kind="pair", labels=("entailment", "neutral", "contradiction"))
TASKS = {"tagging": TAGGING, "pair": PAIR}


@pytest.fixture(scope="module")
def backbones(build_backbones):
    return build_backbones(ARCHS, CORPUS, vocab_size=120)


def load(backbones, arch):
    from transformers import AutoTokenizer

    torch.manual_seed(0)
    return AutoAdapterModel.from_pretrained(backbones / arch), AutoTokenizer.from_pretrained(backbones / arch)


def batch(tokenizer, kind, labels=None):
    if kind == "pair":
        encoding = tokenizer(["the cat sat", "a dog ran in the old park"], ["the mat", "cities"],
                             padding=True, return_tensors="pt")
    else:
        encoding = tokenizer(["the cat sat", "a dog ran in the old park"], padding=True, return_tensors="pt")
    if labels is not None:
        generator = torch.Generator().manual_seed(1)
        if kind == "pair":
            encoding["labels"] = torch.tensor([0, 2])
        else:
            tags = torch.randint(0, labels, encoding["input_ids"].shape, generator=generator)
            encoding["labels"] = tags.masked_fill(encoding["attention_mask"] == 0, -100)
    return dict(encoding)


def with_task_adapter(model, kind):
    model.add_adapter("task", config=SeqBnConfig(reduction_factor=4))
    add_task_head(model, "task", TASKS[kind])
    model.set_active_adapters("task")
    model.eval()
    return model


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("kind", ["tagging", "pair"])
def test_logits_shape(backbones, arch, kind):
    model, tokenizer = load(backbones, arch)
    with_task_adapter(model, kind)
    inputs = batch(tokenizer, kind)
    with torch.no_grad():
        logits = model(**inputs).logits
    labels = len(TASKS[kind].labels)
    expected = (*inputs["input_ids"].shape, labels) if kind == "tagging" else (2, labels)
    assert tuple(logits.shape) == expected
    assert list(model.heads) == ["task"]  # the checkpoint's LM head is gone


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("kind", ["tagging", "pair"])
def test_gradient_step_lowers_loss(backbones, arch, kind):
    model, tokenizer = load(backbones, arch)
    with_task_adapter(model, kind)
    model.train_adapter("task")
    model.eval()  # no dropout: the two losses must be comparable
    inputs = batch(tokenizer, kind, labels=len(TASKS[kind].labels))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(trainable, lr=0.5)
    loss = model(**inputs).loss
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        after = model(**inputs).loss
    assert after < loss
    assert all(p.grad is not None for p in model.heads["task"].parameters())


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("kind", ["tagging", "pair"])
def test_save_load_round_trip(backbones, arch, kind, tmp_path):
    model, tokenizer = load(backbones, arch)
    with_task_adapter(model, kind)
    with torch.no_grad():
        for parameter in model.heads["task"].parameters():
            parameter.add_(torch.randn_like(parameter))
    inputs = batch(tokenizer, kind)
    with torch.no_grad():
        expected = model(**inputs).logits
    model.save_adapter(str(tmp_path), "task", with_head=True)

    fresh, _ = load(backbones, arch)
    fresh.delete_head("default")
    register_task_heads(fresh)
    name = fresh.load_adapter(str(tmp_path), load_as="reloaded", with_head=True)
    fresh.set_active_adapters(name)
    fresh.eval()
    assert fresh.get_labels_dict("reloaded") == dict(enumerate(TASKS[kind].labels))
    with torch.no_grad():
        torch.testing.assert_close(fresh(**inputs).logits, expected)


def test_mbart_tagging_reads_encoder_states(backbones):
    model, tokenizer = load(backbones, "tiny-mbart")
    with_task_adapter(model, "tagging")
    assert model.config.prediction_heads["task"]["head_type"] == ENCODER_TAGGING
    inputs = batch(tokenizer, "tagging")
    with torch.no_grad():
        encoder_states = model.base_model.get_encoder()(**inputs).last_hidden_state
        linear = model.heads["task"][-1]
        torch.testing.assert_close(model(**inputs).logits, linear(encoder_states))


def test_mbart_classification_reads_last_eos_decoder_state(backbones):
    model, tokenizer = load(backbones, "tiny-mbart")
    with_task_adapter(model, "pair")
    inputs = batch(tokenizer, "pair")
    with torch.no_grad():
        decoder_states = model.base_model(**inputs).last_hidden_state
        eos_rows = [row.eq(model.config.eos_token_id).nonzero()[-1, 0] for row in inputs["input_ids"]]
        representation = torch.stack([decoder_states[i, p] for i, p in enumerate(eos_rows)])
        head = model.heads["task"]
        reference = head(model.base_model(**inputs), cls_output=representation, return_dict=True).logits
        torch.testing.assert_close(model(**inputs).logits, reference)


def test_unknown_task_kind_is_refused(backbones):
    model, _ = load(backbones, "tiny-xlmr")
    with pytest.raises(ValueError, match="unknown task kind 'span'"):
        add_task_head(model, "task", SimpleNamespace(kind="span", labels=("a", "b")))
