"""Stage 5's one-pass multi-source prediction: Σ_s w_s · logits_s (PAPER.md Eq. 13).

Example::

    combined = WeightedHeads(model, "target", {"task_eng": 0.6, "task_ara": 0.4}, max_rows=32)
    logits = combined(input_ids=ids, attention_mask=mask).logits

Kept apart from :mod:`harness.methods.unibridge.inference` so that planning a suite imports no torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace

import torch


class WeightedHeads(torch.nn.Module):
    """One forward pass through ``Stack(target, Parallel(*heads))``; logits = Σ_s w_s logits_s.

    Sets the model's active adapters (and, through them, its active heads) on construction.
    ``forward`` returns an object with ``logits``, so it serves
    :func:`harness.stages.evaluation.predict_logits` like a model.

    Parallel replicates the input once per head from the first adapter layer on, so a batch of B
    examples becomes B·n rows. ``max_rows`` caps the rows of one forward pass: the batch is cut
    into sub-batches of max(1, max_rows // n) examples, which keeps the activation memory of a
    single-source pass of ``max_rows`` examples (a batch size that fits for one source fits for
    all) and, on CPU, is faster than one oversized pass (benchmarks/inference_bench.py).
    ``None`` runs the whole batch at once.
    """

    def __init__(self, model, target: str, weights: Mapping[str, float], max_rows: int | None = None):
        from adapters.composition import Parallel, Stack

        super().__init__()
        if not weights:
            raise ValueError("WeightedHeads needs at least one head")
        self.model = model
        self.heads = list(weights)
        self.examples_per_pass = max(1, max_rows // len(self.heads)) if max_rows else None
        self.register_buffer("weights", torch.tensor([weights[h] for h in self.heads]))
        tasks = Parallel(*self.heads) if len(self.heads) > 1 else self.heads[0]
        model.set_active_adapters(Stack(target, tasks))

    def forward(self, **batch: torch.Tensor) -> SimpleNamespace:
        """The weighted sum of the heads' logits for ``batch``, in sub-batches (see the class)."""
        rows = next(iter(batch.values())).shape[0]
        step = self.examples_per_pass or rows
        parts = [self._combined({k: v[start:start + step] for k, v in batch.items()})
                 for start in range(0, rows, step)]
        return SimpleNamespace(logits=torch.cat(parts))

    def _combined(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        output = self.model(**batch)
        if len(self.heads) == 1:
            return self.weights[0] * output.logits
        logits = torch.stack([head.logits for head in output.head_outputs])
        shape = (-1,) + (1,) * (logits.dim() - 1)
        return (self.weights.to(logits.dtype).view(shape) * logits).sum(0)
