"""Stage 3's optimised training path gives the unoptimised path's losses and gradients, bitwise.

The unoptimised path is the same model with the target embeddings' plain ``nn.Embedding``
lookup (dense embedding backward, two dense gradients added by autograd) and the MLM loss as it
was computed before (the masked rows' logits indexed out of their batch dimension after the
250K-way output layer, :func:`unoptimised_masked_lm_loss`). Both arms start from
the same seed and take the same batches, with duplicate tokens and padding in them, through the
Trainer's step (harness/measure/training_steps.py); after every step the loss and every trainable
parameter's gradient must be equal (``torch.equal``, and ``assert_close`` for the message).
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from harness.measure.flops import EncoderShape, StepShape
from harness.measure.training_steps import PAD_ID, language_adaptation_setup, mlm_batch
from harness.methods.unibridge.embedding_gradient import RowGradientEmbedding, use_row_gradients
from harness.models.loading import head_input, lm_head

SHAPE = EncoderShape(layers=2, hidden=32, heads=2, ffn=64, vocab=400)
TARGET_VOCAB = 60  # small: many duplicate tokens per batch
STEP = StepShape(batch=4, length=20)


def unoptimised_masked_lm_loss(model, hidden, labels):
    """Stage 3's MLM loss before the change: the output layer on [1, masked, hidden] rows."""
    masked = labels != -100
    rows = hidden[masked].unsqueeze(0)
    logits = lm_head(model)[-1](head_input(model, rows))[0]
    return F.cross_entropy(logits.float(), labels[masked])


def batches(setup, count: int) -> list[dict]:
    generator = torch.Generator().manual_seed(3)
    out = []
    for index in range(count):
        batch = mlm_batch(setup, STEP, generator, first_example=4 * index)
        batch["input_ids"][0, -5:] = PAD_ID  # a padded sentence
        batch["attention_mask"][0, -5:] = 0
        batch["labels"][0, -5:] = -100
        out.append(batch)
    return out


def gradients_per_step(setup, steps: list[dict]) -> list[tuple[torch.Tensor, dict]]:
    """(loss, {name: gradient}) of each step, read before the optimizer's update."""
    recorded = []
    original_step = setup.trainer.optimizer.step

    def recording_step(*args, **kwargs):
        recorded[-1][1].update({name: p.grad.clone() for name, p in setup.model.named_parameters()
                                if p.requires_grad})
        return original_step(*args, **kwargs)

    setup.trainer.optimizer.step = recording_step
    for batch in steps:
        recorded.append([None, {}])
        recorded[-1][0] = setup.step(batch)
    return recorded


@pytest.mark.parametrize("arch", ["xlmr", "bert"])
def test_optimised_stage_3_equals_the_unoptimised_path(arch, tmp_path, monkeypatch):
    optimised = language_adaptation_setup(arch, SHAPE, tmp_path / "a", STEP.batch, target_vocab=TARGET_VOCAB)
    plain = language_adaptation_setup(arch, SHAPE, tmp_path / "b", STEP.batch, target_vocab=TARGET_VOCAB)
    assert type(optimised.model.get_input_embeddings()) is RowGradientEmbedding
    plain.model.get_input_embeddings().__class__ = nn.Embedding  # the unoptimised lookup
    torch.manual_seed(5)  # dropout and the teacher run alike in both arms
    with monkeypatch.context() as patch:
        patch.setattr("harness.methods.unibridge.adaptation_trainer.masked_lm_loss",
                      unoptimised_masked_lm_loss)
        expected = gradients_per_step(plain, batches(plain, 3))
    torch.manual_seed(5)
    actual = gradients_per_step(optimised, batches(optimised, 3))
    for (loss, grads), (reference_loss, reference_grads) in zip(actual, expected, strict=True):
        assert_close(loss, reference_loss, rtol=0, atol=0)
        assert grads.keys() == reference_grads.keys()
        for name, gradient in grads.items():
            assert gradient.layout == torch.strided, name
            assert torch.equal(gradient, reference_grads[name]), name
    embedding = "roberta.embeddings.word_embeddings.weight" if arch == "xlmr" else \
        "bert.embeddings.word_embeddings.weight"
    assert embedding in actual[0][1]


def test_lookup_gradient_alone_is_the_dense_backward():
    """Untied (no dense part): the hook hands the optimizer a dense gradient equal to F.embedding's."""
    weight = torch.randn(30, 8)
    ids = torch.tensor([[3, 3, 1, 7], [7, 3, 0, 1]])
    upstream = torch.randn(2, 4, 8)
    reference = nn.Embedding(30, 8, padding_idx=1)
    reference.weight.data.copy_(weight)
    (reference(ids) * upstream).sum().backward()
    module = nn.Embedding(30, 8, padding_idx=1)
    module.weight.data.copy_(weight)
    assert use_row_gradients(module)
    (module(ids) * upstream).sum().backward()
    assert module.weight.grad.layout == torch.strided
    assert torch.equal(module.weight.grad, reference.weight.grad)
    assert torch.equal(module.weight.grad[1], torch.zeros(8))  # padding row
    assert not use_row_gradients(nn.Embedding(30, 8, max_norm=1.0))


def test_row_gradients_on_the_cpu_only():
    """Elsewhere (here the meta device stands in for CUDA) the plain, deterministic lookup stays."""
    ids = torch.tensor([[2, 2, 5]])
    cpu = nn.Embedding(30, 8)
    use_row_gradients(cpu)
    assert type(cpu(ids).grad_fn).__name__ == "RowGradientLookupBackward"
    with torch.no_grad():
        assert torch.equal(cpu(ids), F.embedding(ids, cpu.weight))
    other = nn.Embedding(30, 8, device="meta")
    use_row_gradients(other)
    assert type(other(ids.to("meta")).grad_fn).__name__ == "EmbeddingBackward0"
