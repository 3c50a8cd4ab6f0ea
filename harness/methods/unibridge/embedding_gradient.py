"""Stage 3's trainable embedding matrix: its lookup's gradient as the touched rows only.

Example::

    use_row_gradients(model.get_input_embeddings())   # after set_trainable(..., True)

Why: the new target embeddings are tied to the LM head's output layer, so their gradient is
the sum of two parts: the output layer's (dense, every row: the softmax reaches the whole
vocabulary) and the lookup's (non-zero only in the rows of the batch's tokens). PyTorch's
embedding backward writes the lookup's part as a dense [vocabulary, hidden] matrix (a 768 MB
zero fill and scatter at XLM-R's 250K × 768), and autograd then adds the two dense matrices
into a third. Measured at real scale (docs/benchmarks.md, benchmarks/training_flops.py), those
two passes took about a quarter of a step.

Here the lookup returns its part as a coalesced sparse gradient of the touched rows, each row
the sum of its positions' gradients in position order, padding positions left out — exactly
what the dense embedding backward puts in that row (it adds the positions in the same order
into a zero row). Autograd adds it into the output layer's dense gradient row by row, so each
element gets the same one addition ``output part + lookup part`` as before: the gradient,
hence training, is bitwise the same (tests/unibridge/test_training_equivalence.py checks the
losses and gradients of several steps with ``torch.equal``). Where no dense part exists (an
untied matrix), a hook turns the accumulated gradient dense, as the optimizer expects. On the
CPU only (see :meth:`RowGradientEmbedding.forward`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class RowGradientLookup(torch.autograd.Function):
    """``F.embedding(ids, weight, padding_idx)`` whose weight gradient is sparse (touched rows)."""

    @staticmethod
    def forward(ctx, ids: Tensor, weight: Tensor, padding_idx: int | None) -> Tensor:
        """The rows of ``weight`` at ``ids``."""
        ctx.save_for_backward(ids)
        ctx.padding_idx, ctx.weight_shape = padding_idx, weight.shape
        return F.embedding(ids, weight, padding_idx)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[None, Tensor, None]:
        """Per touched row, the sum of its positions' gradients (position order), as sparse COO."""
        (ids,) = ctx.saved_tensors
        flat = ids.reshape(-1)
        rows = grad.reshape(flat.numel(), -1)
        if ctx.padding_idx is not None:
            keep = flat != ctx.padding_idx
            flat, rows = flat[keep], rows[keep]
        touched, position_row = torch.unique(flat, sorted=True, return_inverse=True)
        sums = rows.new_zeros(touched.numel(), rows.shape[1]).index_add_(0, position_row, rows)
        gradient = torch.sparse_coo_tensor(touched.unsqueeze(0), sums, ctx.weight_shape,
                                           is_coalesced=True, check_invariants=False)
        return None, gradient, None


class RowGradientEmbedding(nn.Embedding):
    """An ``nn.Embedding`` (same parameters, same state dict) looking up via :class:`RowGradientLookup`."""

    def forward(self, input: Tensor) -> Tensor:
        """The embeddings of ``input``; plain ``nn.Embedding`` without a gradient or off the CPU.

        Off the CPU ``index_add_`` sums a row's positions with atomics, in no fixed order, where
        the plain backward is deterministic: there the plain lookup stays.
        """
        if not (torch.is_grad_enabled() and self.weight.requires_grad) or input.device.type != "cpu":
            return super().forward(input)
        return RowGradientLookup.apply(input, self.weight, self.padding_idx)


def _dense_gradient(parameter: Tensor) -> None:
    if parameter.grad is not None and parameter.grad.is_sparse:
        parameter.grad = parameter.grad.to_dense()


def use_row_gradients(embedding: nn.Module) -> bool:
    """Make a plain ``nn.Embedding`` look up through :class:`RowGradientLookup`; whether it did.

    Only plain ``nn.Embedding`` modules without max_norm, frequency scaling or sparse flag are
    switched (XLM-R, mBERT, mGPT); others, such as mBART's scaled embedding, are left alone.
    """
    if type(embedding) is not nn.Embedding or embedding.max_norm is not None \
            or embedding.scale_grad_by_freq or embedding.sparse:
        return False
    embedding.__class__ = RowGradientEmbedding
    embedding.weight.register_post_accumulate_grad_hook(_dense_gradient)
    return True
