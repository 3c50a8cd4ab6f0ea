"""harness.measure.flops against an independent count: torch's FlopCounterMode on the stages' real steps.

The tiny models are built and stepped by harness.measure.training_steps (the stages' own code: adapters
model, AdaptationTrainer or AdapterTrainer, clipping, AdamW). FlopCounterMode counts every matrix
product dispatched, forward and backward; CPU's fused attention kernel (used where dropout is
off, e.g. the KL teacher in eval mode) has no formula in torch's table, so the test adds torch's
own scaled-dot-product formulas for it.
"""

import pytest
import torch
from torch.utils import flop_counter
from torch.utils.flop_counter import FlopCounterMode

from harness.measure.flops import EncoderShape, StepShape, language_adaptation_flops, task_adapter_flops
from harness.measure.training_steps import (
    language_adaptation_setup,
    mlm_batch,
    tagging_batch,
    task_adapter_setup,
)

SHAPE = EncoderShape(layers=3, hidden=32, heads=2, ffn=64, vocab=500)
STEP = StepShape(batch=4, length=16)
TEACHER_LENGTH = 12
aten = torch.ops.aten


def cpu_attention(query, key, value, *args, out_shape=None, **kwargs):
    return flop_counter.sdpa_flop_count(query, key, value)


def cpu_attention_backward(grad_out, query, key, value, *args, out_shape=None, **kwargs):
    return flop_counter.sdpa_backward_flop_count(grad_out, query, key, value)


def counted(step) -> int:
    """FLOPs FlopCounterMode sees while ``step()`` runs."""
    mapping = {aten._scaled_dot_product_flash_attention_for_cpu: cpu_attention,
               aten._scaled_dot_product_flash_attention_for_cpu_backward: cpu_attention_backward}
    with FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        step()
    return counter.get_total_flops()


@pytest.mark.parametrize("arch", ["xlmr", "bert"])
@pytest.mark.parametrize("target_vocab", [300, None], ids=["target", "source"])
def test_language_adaptation_count_matches_flop_counter(arch, target_vocab, tmp_path):
    setup = language_adaptation_setup(arch, SHAPE, tmp_path, STEP.batch, target_vocab=target_vocab,
                                      teacher_length=TEACHER_LENGTH)
    generator = torch.Generator().manual_seed(0)
    for teacher_runs in (True, False):  # the same sentences again: the teacher's states are cached
        batch = mlm_batch(setup, STEP, generator)
        masked = int((batch["labels"] != -100).sum())
        step = StepShape(STEP.batch, STEP.length, masked, TEACHER_LENGTH if teacher_runs else None)
        expected = language_adaptation_flops(SHAPE, step, target_vocab)
        assert counted(lambda batch=batch: setup.step(batch)) == expected.total
        assert (expected.teacher > 0) == teacher_runs


def test_language_adaptation_without_kl(tmp_path):
    setup = language_adaptation_setup("xlmr", SHAPE, tmp_path, STEP.batch, target_vocab=300, beta=0.0)
    batch = mlm_batch(setup, STEP, torch.Generator().manual_seed(1))
    step = StepShape(STEP.batch, STEP.length, int((batch["labels"] != -100).sum()))
    with_kl = language_adaptation_flops(SHAPE, step, 300)
    without = language_adaptation_flops(SHAPE, step, 300, kl=False)
    assert without.total < with_kl.total
    assert counted(lambda: setup.step(batch)) == without.total


@pytest.mark.parametrize("arch", ["xlmr", "bert"])
def test_task_adapter_count_matches_flop_counter(arch, tmp_path):
    setup = task_adapter_setup(arch, SHAPE, tmp_path, STEP.batch)
    batch = tagging_batch(setup, STEP, 7, torch.Generator().manual_seed(0))
    assert counted(lambda: setup.step(batch)) == task_adapter_flops(SHAPE, STEP, labels=7).total


def test_hand_count_of_one_layer():
    """A hand count: one layer, no adapters below the head's view, T = 2 tokens, hidden 4."""
    shape = EncoderShape(layers=1, hidden=4, heads=1, ffn=8, vocab=10)
    count = task_adapter_flops(shape, StepShape(batch=1, length=2), labels=3, reduction_factor=4)
    # forward: inv adapter 4 linears 2·2·2·1 = 8 each (32); q,k,v,o 4·2·2·4·4 = 256; attention
    # 2·2·1·2·2·4 = 64; FFN 2·2·2·4·8 = 256; task adapter 2·2·4·1 · 2 = 32; pooler 2·1·4·4 = 32;
    # head 2·2·4·3 = 48.  backward (layer 0 has no gradient below): task adapter down weight
    # 16, up weight 16 + input 16; head weight 48 + input 48.
    assert count.forward == 32 + 256 + 64 + 256 + 32 + 32 + 48
    assert count.backward == 16 + 32 + 96
