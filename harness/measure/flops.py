"""Model FLOPs of one training step of stages 3 and 4, counted analytically from the shapes.

Example::

    shape = EncoderShape(layers=12, hidden=768, heads=12, ffn=3072, vocab=250_002)
    count = language_adaptation_flops(shape, StepShape(batch=32, length=128, masked=614))
    count.total, count.forward, count.backward, count.teacher      # FLOPs (multiply-add = 2)

What is counted: every matrix product of the step (linear layers, the attention's two batched
products), 2 FLOPs per multiply-add, as ``torch.utils.flop_counter.FlopCounterMode`` counts them
(tests/test_flops.py checks the two agree on tiny models run through the stages' own code).
Element-wise work (GELU, LayerNorm, softmax, dropout, the loss) and memory traffic (the embedding
gather and its scatter-add gradient, the optimizer) is not counted: it is what the benchmark's
ratio to the plain matmul rate measures the cost of. Model FLOPs, not hardware FLOPs: an
attention kernel that recomputes its scores in the backward pass does more work than counted.

How the backward pass is counted (the shapes the stages' code builds, :mod:`harness.models.loading`,
adapters 1.3):

- a linear layer costs 2·rows·in·out forward; backward, the gradient of its input costs the same
  again when anything below it trains, and the gradient of its weight the same when it trains.
  Frozen backbone layers above a trainable parameter pay only the input gradient.
- the attention's products (scores, weighted values) cost twice their forward in the backward
  pass (both operands carry gradients) wherever the layer's input does.
- stage 3: the new embedding matrix (trainable by default) and the invertible adapter right
  after it make every layer's input carry a gradient, so the whole stack runs backward. The LM
  head runs on the masked rows only (:func:`harness.methods.unibridge.adaptation_trainer.masked_lm_loss`);
  its output layer is tied to the embedding matrix, so its weight gradient is counted when the
  embeddings train. The KL term applies the inverse invertible adapter to every position
  (π_UniBridge, ``last_layer``); the teacher (plain backbone, no adapters, eval mode, no
  gradient) runs only on a batch whose sentences it has not seen: once per sentence, so in the
  first epoch; it is counted apart (:attr:`FlopCount.teacher`).
- stage 4: only the task adapters and the head train. The lowest layer's own weights and its
  language adapter see no gradient (nothing below trains); its task adapter needs its weight
  gradients and the gradient of its up-projection's input.
- the pooler (dense on the first token) runs in every forward and never gets a gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EncoderShape:
    """An XLM-R / mBERT-shaped encoder: post-LN layers, a masked-LM head tied to the embeddings."""

    layers: int
    hidden: int
    heads: int
    ffn: int
    vocab: int


@dataclass(frozen=True)
class StepShape:
    """One micro-batch: ``batch`` × ``length`` tokens (padded), ``masked`` positions with an MLM label.

    ``teacher_length``: the KL teacher's padded length for this batch (its own tokenizer); None
    when the teacher does not run in this step (its states of these sentences are cached).
    """

    batch: int
    length: int
    masked: int = 0
    teacher_length: int | None = None

    @property
    def tokens(self) -> int:
        """Token positions, padding included (every layer computes them)."""
        return self.batch * self.length


@dataclass
class FlopCount:
    """FLOPs of one step, split by pass and by part of the model (``parts``: name → FLOPs)."""

    forward: int = 0
    backward: int = 0
    teacher: int = 0
    parts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Forward + backward + the teacher's forward."""
        return self.forward + self.backward + self.teacher

    def linear(self, part: str, rows: int, fan_in: int, fan_out: int, *, input_grad: bool,
               weight_grad: bool) -> None:
        """A linear layer on ``rows`` rows, with the gradients its position in the model needs."""
        one = 2 * rows * fan_in * fan_out
        self.add(part, one, one * (int(input_grad) + int(weight_grad)))

    def add(self, part: str, forward: int, backward: int = 0) -> None:
        """Add ``forward`` and ``backward`` FLOPs under ``part``."""
        self.forward += forward
        self.backward += backward
        self.parts[part] = self.parts.get(part, 0) + forward + backward


def encoder_layer(count: FlopCount, shape: EncoderShape, step: StepShape, *, input_grad: bool,
                  adapters: list[tuple[int, bool]]) -> None:
    """One frozen transformer layer, then its stacked bottleneck adapters after the FFN.

    ``adapters``: (bottleneck size, trains) per adapter, in stacking order. The first adapter's
    input carries a gradient iff the layer's does; each later one's iff anything before it does.
    """
    tokens, hidden = step.tokens, shape.hidden
    for _ in range(4):  # query, key, value, attention output
        count.linear("attention projections", tokens, hidden, hidden, input_grad=input_grad,
                     weight_grad=False)
    products = 2 * 2 * step.batch * step.length * step.length * hidden  # scores, weighted values
    count.add("attention scores", products, 2 * products if input_grad else 0)
    count.linear("feed-forward", tokens, hidden, shape.ffn, input_grad=input_grad, weight_grad=False)
    count.linear("feed-forward", tokens, shape.ffn, hidden, input_grad=input_grad, weight_grad=False)
    carries = input_grad
    for bottleneck, trains in adapters:
        count.linear("adapters", tokens, hidden, bottleneck, input_grad=carries, weight_grad=trains)
        carries = carries or trains
        count.linear("adapters", tokens, bottleneck, hidden, input_grad=carries, weight_grad=trains)


def invertible_adapter(count: FlopCount, shape: EncoderShape, rows: int, reduction_factor: int,
                       *, input_grad: bool, trains: bool, part: str) -> None:
    """The adapters library's NICE coupling block (forward or inverse: the same products), on ``rows`` rows.

    Two subnets F and G, each Linear(half, half // r) → ReLU → Linear(half // r, half). The
    first subnet reads half of the input; the second reads the first's output, which carries a
    gradient whenever the block trains.
    """
    half = shape.hidden // 2
    inner = half // reduction_factor
    for first_subnet in (True, False):
        reads_grad = input_grad if first_subnet else (input_grad or trains)
        count.linear(part, rows, half, inner, input_grad=reads_grad, weight_grad=trains)
        count.linear(part, rows, inner, half, input_grad=reads_grad or trains, weight_grad=trains)


def pooler(count: FlopCount, shape: EncoderShape, batch: int) -> None:
    """The base model's pooler: dense on each sequence's first token, never in the loss."""
    count.linear("pooler", batch, shape.hidden, shape.hidden, input_grad=False, weight_grad=False)


def teacher_forward(shape: EncoderShape, step: StepShape) -> int:
    """The KL teacher's forward: the plain backbone (no adapters, no LM head) on its own tokens."""
    if step.teacher_length is None:
        return 0
    teacher = FlopCount()
    own = StepShape(step.batch, step.teacher_length)
    for _ in range(shape.layers):
        encoder_layer(teacher, shape, own, input_grad=False, adapters=[])
    pooler(teacher, shape, step.batch)
    return teacher.forward


def language_adaptation_flops(shape: EncoderShape, step: StepShape, target_vocab: int | None,
                              reduction_factor: int = 2, inv_reduction_factor: int = 2,
                              kl: bool = True) -> FlopCount:
    """One stage-3 step (Eq. 9): MLM at the masked rows, the KL term, MAD-X language adapter.

    ``target_vocab``: rows of the new, trainable target embeddings (the LM head's output layer
    is tied to them); None for a source language (the backbone's embeddings, frozen). The
    language adapter sits in every layer but the last
    (:func:`harness.models.loading.language_adapter_config`).
    """
    train_embeddings = target_vocab is not None
    count = FlopCount()
    invertible_adapter(count, shape, step.tokens, inv_reduction_factor, input_grad=train_embeddings,
                       trains=True, part="invertible adapter")
    bottleneck = shape.hidden // reduction_factor
    for layer in range(shape.layers):
        adapters = [(bottleneck, True)] if layer < shape.layers - 1 else []
        encoder_layer(count, shape, step, input_grad=True, adapters=adapters)
    pooler(count, shape, step.batch)
    if kl:
        invertible_adapter(count, shape, step.tokens, inv_reduction_factor, input_grad=True,
                           trains=True, part="invertible adapter")
    count.linear("LM head", step.masked, shape.hidden, shape.hidden, input_grad=True, weight_grad=False)
    invertible_adapter(count, shape, step.masked, inv_reduction_factor, input_grad=True, trains=True,
                       part="invertible adapter")
    count.linear("LM output layer", step.masked, shape.hidden, target_vocab or shape.vocab, input_grad=True,
                 weight_grad=train_embeddings)
    count.teacher = teacher_forward(shape, step)
    count.parts["KL teacher"] = count.teacher
    return count


def task_adapter_flops(shape: EncoderShape, step: StepShape, labels: int, reduction_factor: int = 16,
                       language_reduction_factor: int = 2, inv_reduction_factor: int = 2) -> FlopCount:
    """One stage-4 step: a tagging task adapter stacked on a frozen source-language adapter.

    The task adapter sits in every layer, the language adapter in all but the last; the head is
    one linear layer over every position (adapters' ``TaggingHead``, ``layers=1``).
    """
    count = FlopCount()
    invertible_adapter(count, shape, step.tokens, inv_reduction_factor, input_grad=False,
                       trains=False, part="invertible adapter")
    task = (shape.hidden // reduction_factor, True)
    language = (shape.hidden // language_reduction_factor, False)
    for layer in range(shape.layers):
        adapters = [language, task] if layer < shape.layers - 1 else [task]
        encoder_layer(count, shape, step, input_grad=layer > 0, adapters=adapters)
    pooler(count, shape, step.batch)
    count.linear("task head", step.tokens, shape.hidden, labels, input_grad=True, weight_grad=True)
    return count
