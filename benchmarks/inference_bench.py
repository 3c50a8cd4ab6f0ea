"""Benchmark: multi-source inference (stage 5) with adapters' Parallel vs one pass per source.

    python benchmarks/inference_bench.py            # tiny and base-sized XLM-R, CPU (+ CUDA)
    python benchmarks/inference_bench.py --quick    # fewer batches and rounds

Model: XLM-R of random weights (tiny: hidden 32, 2 layers; base: hidden 768, 12 layers, a 32K
vocabulary), a MAD-X target language adapter with its invertible adapter, and one task adapter
with a tagging head per source (5 sources, as WikiANN's en zh ru ar ja). Input: batches of 32
random sentences of 16–128 tokens. "parallel" is what stage 5 runs: forward passes of
``Stack(target, Parallel(task_1..task_5))`` with the logits weighted
(:class:`harness.methods.unibridge.weighted_heads.WeightedHeads`), each pass holding at most 32 rows after
Parallel's replication (so 6 examples × 5 sources); "sequential" runs ``Stack(target, task_s)``
once per source on the whole batch of 32 and weights the logits by hand. Both give the same
logits (checked here too).

The machine's cores are shared, so the two are timed in alternating rounds and the median of
the per-round ratios is reported. Targets: parallel / sequential <= 1.0 on CPU, <= 0.6 on GPU.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

import torch

SOURCES = ("eng", "zho", "rus", "ara", "jpn")
LABELS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
SIZES = {
    "tiny": dict(vocab_size=2000, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=64),
    "base": dict(vocab_size=32000, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072),
}


def build_model(size: str, device: str):
    """A random XLM-R with a target language adapter and one task adapter + head per source."""
    from types import SimpleNamespace

    from adapters import SeqBnConfig, XLMRobertaAdapterModel
    from transformers import XLMRobertaConfig

    from harness.models.heads import add_task_head
    from harness.models.loading import language_adapter_config

    torch.manual_seed(0)
    model = XLMRobertaAdapterModel(XLMRobertaConfig(max_position_embeddings=130, **SIZES[size]))
    model.add_adapter("target", config=language_adapter_config(model))
    task = SimpleNamespace(kind="tagging", labels=LABELS)
    for source in SOURCES:
        model.add_adapter(f"task_{source}", config=SeqBnConfig(reduction_factor=16))
        add_task_head(model, f"task_{source}", task)
    return model.to(device).eval()


def make_batches(n_batches: int, batch_size: int, vocab: int, device: str) -> list[dict]:
    """Right-padded batches of random token ids, 16–128 tokens per sentence."""
    generator = torch.Generator().manual_seed(1)
    batches = []
    for _ in range(n_batches):
        lengths = torch.randint(16, 129, (batch_size,), generator=generator)
        ids = torch.randint(5, vocab, (batch_size, int(lengths.max())), generator=generator)
        mask = (torch.arange(ids.shape[1])[None, :] < lengths[:, None]).long()
        batches.append({"input_ids": (ids * mask + (1 - mask)).to(device), "attention_mask": mask.to(device)})
    return batches


def sequential(model, batches: list[dict], weights: dict[str, float]) -> list[torch.Tensor]:
    """One forward pass per source, logits weighted and summed by hand."""
    from adapters.composition import Stack

    outputs = []
    for batch in batches:
        total = 0
        for name, weight in weights.items():
            model.set_active_adapters(Stack("target", name))
            total = total + weight * model(**batch).logits
        outputs.append(total)
    return outputs


def parallel(model, batches: list[dict], weights: dict[str, float]) -> list[torch.Tensor]:
    """Stage 5's way: Parallel over all sources, at most a batch's rows per forward pass."""
    from harness.methods.unibridge.weighted_heads import WeightedHeads

    combined = WeightedHeads(model, "target", weights, max_rows=batches[0]["input_ids"].shape[0])
    return [combined(**batch).logits for batch in batches]


def timed(function, device: str) -> float:
    """Wall seconds of ``function()`` (synchronising CUDA)."""
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    function()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


@torch.inference_mode()
def compare(size: str, device: str, n_batches: int, rounds: int, batch_size: int = 32) -> dict[str, float]:
    """Median seconds per example of both ways, and the median per-round ratio."""
    model = build_model(size, device)
    batches = make_batches(n_batches, batch_size, SIZES[size]["vocab_size"], device)
    weights = {f"task_{s}": 1 / len(SOURCES) for s in SOURCES}
    reference, result = sequential(model, batches[:1], weights), parallel(model, batches[:1], weights)
    torch.testing.assert_close(result[0], reference[0], rtol=1e-4, atol=1e-4)
    ratios, times = [], {"parallel": [], "sequential": []}
    for _ in range(rounds):
        for name, way in (("parallel", parallel), ("sequential", sequential)):
            times[name].append(timed(lambda way=way: way(model, batches, weights), device))
        ratios.append(times["parallel"][-1] / times["sequential"][-1])
    examples = n_batches * batch_size
    return {"parallel_ms_per_example": 1000 * statistics.median(times["parallel"]) / examples,
            "sequential_ms_per_example": 1000 * statistics.median(times["sequential"]) / examples,
            "ratio": statistics.median(ratios)}


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    """Run the comparison for every size and device; print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer batches and rounds")
    args = parser.parse_args(argv)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    plan = {"tiny": (8, 5), "base": (2, 3)} if not args.quick else {"tiny": (4, 3), "base": (1, 2)}
    print(f"multi-source inference, {len(SOURCES)} sources, batch 32, 16-128 tokens; "
          f"torch threads {torch.get_num_threads()}")
    figures = {}
    for device in devices:
        for size, (n_batches, rounds) in plan.items():
            row = compare(size, device, n_batches, rounds)
            figures[f"{size}/{device}"] = row
            target = 1.0 if device == "cpu" else 0.6
            print(f"{size:>4} {device:>4}: parallel {row['parallel_ms_per_example']:8.3f} ms/example, "
                  f"sequential {row['sequential_ms_per_example']:8.3f} ms/example, "
                  f"ratio {row['ratio']:.2f} (target <= {target})")
    return figures


if __name__ == "__main__":
    main()
