"""The OOM back-off on a real CUDA out-of-memory: a batch too large on purpose, a real-size model.

Usage::

    python benchmarks/oom_backoff.py --device cuda                 # XLM-R base shape, batch 1024 x 128
    python benchmarks/oom_backoff.py --device cuda --precision bf16
    python benchmarks/oom_backoff.py --dry-run                     # CPU: tiny model, OOM simulated

A stage trains one optimisation step of a randomly initialised XLM-R-shaped masked LM (12 layers,
hidden 768, 250,002-token vocabulary; no download) on ``--batch`` random sentences of ``--seq``
tokens, every position a label, so the 250K-way logits of the whole batch are materialised. Its
suite-side configuration asks for the whole batch on the device (``max_device_batch_size`` =
``--batch``): 1024 × 128 needs about 65 GB of fp16 logits alone, more than any card holds. The
stage is built through the harness's own cache (:meth:`harness.core.graph.Cache.materialize`), so the
back-off runs as in a suite: :func:`harness.training.arguments.train_resumably` catches
``torch.cuda.OutOfMemoryError``, halves the per-device batch, doubles the accumulation steps, and
the stage starts again (:class:`harness.core.graph.RetryStageError`), until a step fits.

Printed and written to ``--out`` (JSON): each attempt's per-device batch, the one that trained,
its accumulation steps (their product must still be ``--batch``), the step's loss (finite), the
peak device memory and the seconds. ``--dry-run`` runs the same path on the CPU with a tiny model
whose forward raises CUDA's out-of-memory error above ``--fits`` examples, to check the script.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import Trainer, XLMRobertaConfig, XLMRobertaForMaskedLM

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.core.config import StrictConfig  # noqa: E402
from harness.core.graph import Cache, Stage, StageContext  # noqa: E402
from harness.training.arguments import (  # noqa: E402
    TrainingConfig,
    log_metrics_to_logging,
    train_resumably,
    training_arguments,
)

RESULT_FILE = "probe.json"


class ProbeConfig(StrictConfig):
    batch: int
    seq: int
    vocab: int
    layers: int
    hidden: int
    fits: int = 0  # dry run only: the most examples a forward holds before the simulated OOM


class SimulatedMemory(torch.nn.Module):
    """Dry run: the model, whose forward raises CUDA's OOM error above ``fits`` examples."""

    def __init__(self, model: torch.nn.Module, fits: int):
        super().__init__()
        self.model, self.fits = model, fits

    def forward(self, input_ids, attention_mask, labels):
        if len(input_ids) > self.fits:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated by --dry-run)")
        return self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels)


class OomProbe(Stage):
    """One optimisation step of the whole batch on the device, backing off as a suite's stage does."""

    kind = "oom_probe"
    uses_device = True

    def run(self, ctx, inputs, out):
        config: ProbeConfig = self.config
        shape = XLMRobertaConfig(vocab_size=config.vocab, hidden_size=config.hidden,
                                 num_hidden_layers=config.layers, num_attention_heads=config.hidden // 64,
                                 intermediate_size=4 * config.hidden, max_position_embeddings=config.seq + 2)
        with torch.device(ctx.device):
            model = XLMRobertaForMaskedLM(shape)
        if config.fits:
            model = SimulatedMemory(model, config.fits)
        generator = torch.Generator().manual_seed(ctx.seed)
        ids = torch.randint(5, config.vocab, (config.batch, config.seq), generator=generator)
        data = [{"input_ids": row, "attention_mask": torch.ones_like(row), "labels": row} for row in ids]
        training = TrainingConfig(epochs=1, batch_size=config.batch, max_device_batch_size=config.batch,
                                  learning_rate=1e-4, max_steps=1)
        work_dir = ctx.partial_dir(self)
        args = training_arguments(training, work_dir, ctx, disable_tqdm=True, save_strategy="no")
        if ctx.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        trainer = log_metrics_to_logging(Trainer(model=model, args=args, train_dataset=data))
        summary = train_resumably(trainer, work_dir)
        peak = torch.cuda.max_memory_allocated() if ctx.device == "cuda" else 0
        (out / RESULT_FILE).write_text(json.dumps({
            "device_batch": args.per_device_train_batch_size,
            "accumulation": args.gradient_accumulation_steps, "steps": summary["steps"],
            "loss": summary["train_loss"], "peak_device_gib": round(peak / 2**30, 2)}))


class Attempts(logging.Handler):
    """Collects the back-off warnings the cache logs before each restart."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--precision", default="auto", help="as run --precision (auto: fp16 on CUDA)")
    parser.add_argument("--batch", type=int, default=1024, help="effective = asked per-device batch")
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=250_002)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--dry-run", action="store_true", help="CPU, tiny model, simulated OOM")
    parser.add_argument("--fits", type=int, default=3, help="--dry-run: examples a forward holds")
    parser.add_argument("--out", type=Path, help="write the figures here (JSON)")
    options = parser.parse_args()
    if options.dry_run:
        options.device, options.batch, options.seq = "cpu", 16, 16
        options.vocab, options.layers, options.hidden = 1000, 2, 64
    if options.device == "cuda" and not torch.cuda.is_available():
        print("oom_backoff: no CUDA device visible; nothing measured (--dry-run checks the script)")
        return 2
    attempts = Attempts()
    logging.getLogger("harness.core.graph").addHandler(attempts)
    config = ProbeConfig(batch=options.batch, seq=options.seq, vocab=options.vocab,
                         layers=options.layers, hidden=options.hidden,
                         fits=options.fits if options.dry_run else 0)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache(Path(tmp))
        ctx = StageContext(device=options.device, precision=options.precision, cache=cache, progress=False)
        try:
            path = cache.materialize(OomProbe(config, seed=1), ctx)
            result = json.loads((path / RESULT_FILE).read_text())
        except Exception as error:  # noqa: BLE001 - the figure to report is the failure itself
            result = {"error": f"{type(error).__name__}: {error}"}
    result.update(seconds=round(time.perf_counter() - start, 1), device=options.device,
                  precision=options.precision, asked_batch=options.batch, restarts=attempts.messages,
                  real_oom=not options.dry_run,
                  gpu=torch.cuda.get_device_name(0) if options.device == "cuda" else "none")
    backed_off = bool(attempts.messages)
    kept = result.get("device_batch", 0) * result.get("accumulation", 0) >= options.batch
    finite = "loss" in result and result["loss"] is not None and math.isfinite(result["loss"])
    result["passed"] = backed_off and kept and finite and result.get("steps") == 1
    print(f"oom_backoff ({'dry run: simulated OOM on the CPU' if options.dry_run else result['gpu']}, "
          f"{options.layers} layers, vocabulary {options.vocab}, asked {options.batch} x {options.seq}, "
          f"precision {options.precision}):")
    for message in attempts.messages:
        print(f"  restart: {message}")
    if "error" in result or not finite:
        result.setdefault("error", f"the step's loss is {result.get('loss')}")
        print(f"  FAILED: {result['error']}")
    else:
        print(f"  trained with {result['device_batch']} per device x {result['accumulation']} accumulation "
              f"steps, {result['steps']} step, loss {result['loss']:.4f}, peak device memory "
              f"{result['peak_device_gib']} GiB, {result['seconds']} s")
    if not backed_off:
        print("  no out-of-memory at this batch: the back-off was not exercised (raise --batch)")
    print(f"  back-off check: {'passed' if result['passed'] else 'FAILED'}")
    if options.out:
        options.out.write_text(json.dumps(result, indent=2))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
