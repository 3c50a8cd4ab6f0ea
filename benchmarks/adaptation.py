"""Stage-3 (language adaptation) step time with and without the KL term of Eq. 9.

Usage::

    python benchmarks/adaptation.py            # tiny and base-sized XLM-R, batch 8 x 128
    python benchmarks/adaptation.py --quick    # tiny only
    python benchmarks/adaptation.py --scale    # real scale, before/after (see below)
    python benchmarks/adaptation.py --scale --layers 4 --steps 2   # the same, smaller and faster

Models are randomly initialised XLM-R (masked LM) checkpoints: "tiny" (hidden 32, 2 layers) and
"base-sized" (hidden 768, 12 layers, 12 heads, intermediate 3072; vocabulary 32K for both the
backbone and the new target embeddings, instead of XLM-R's 250K, to fit CPU time). A step is
what the stage's trainer does per batch: AdaptationTrainer.compute_loss (MLM loss, plus the KL
term when beta > 0), backward, AdamW on the trainable parameters (target embeddings, language
adapter, invertible adapter). Steps with and without KL are interleaved so that machine noise
hits both alike; figures are medians.

The KL teacher's states are computed once per sentence, the first time a batch holds it (see
harness/methods/unibridge/adaptation_trainer.py), so the per-step KL cost after the first epoch is the
inverse adapter, pooling and the divergence. The teacher's forward is reported too, per batch
and amortised over the paper's 50 epochs, next to what a per-step teacher forward would cost.

Target: KL adds at most 15 % to a step.

``--scale``: a source-language adapter on a randomly initialised base-sized XLM-R (12 layers,
hidden 768, XLM-R's 250,002-token vocabulary; ``--layers`` etc. shrink it) with the KL term,
before and after the two real-scale changes of issue 16, each in a fresh process so that its
peak memory is its own: *before* computes the 250K-way logits at every position (the model's
own MLM loss) and runs the KL teacher over the whole corpus (``--corpus`` sentences) before
the first step; *after* computes the logits at the masked positions only and the teacher's
states per batch, when first needed (harness/methods/unibridge/adaptation_trainer.py). Printed: the
time before the first step, the median step time, and the peak resident memory.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import BatchEncoding, XLMRobertaConfig, XLMRobertaForMaskedLM

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.core.graph import StageContext  # noqa: E402
from harness.methods.unibridge.adaptation import ADAPTER_NAME, set_trainable  # noqa: E402
from harness.methods.unibridge.adaptation_trainer import AdaptationTrainer  # noqa: E402
from harness.models.loading import (  # noqa: E402
    install_target_embeddings,
    language_adapter_config,
    last_hidden_state,
    load_adapter_model,
)
from harness.training.arguments import TrainingConfig, training_arguments  # noqa: E402

SIZES = {
    "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                 vocab_size=2000),
    "base-sized": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                       intermediate_size=3072, vocab_size=32_000),
}
EPOCHS = 50
MASK_ID, PAD_ID = 4, 1


class VocabStub:
    """Just what install_target_embeddings reads from a tokenizer."""

    def __init__(self, size: int):
        self.size, self.pad_token_id = size, PAD_ID

    def __len__(self) -> int:
        return self.size


def random_backbone(size: str, folder: Path) -> None:
    config = XLMRobertaConfig(max_position_embeddings=514, pad_token_id=PAD_ID, **SIZES[size])
    torch.manual_seed(0)
    XLMRobertaForMaskedLM(config).save_pretrained(folder)


def mlm_batch(batch: int, length: int, vocab: int, generator: torch.Generator) -> dict:
    ids = torch.randint(5, vocab, (batch, length), generator=generator)
    masked = torch.rand(batch, length, generator=generator) < 0.15
    return {"input_ids": ids.masked_fill(masked, MASK_ID), "attention_mask": torch.ones_like(ids),
            "labels": ids.masked_fill(~masked, -100), "example_index": torch.arange(batch)}


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(size: str, batch: int, length: int, steps: int, folder: Path) -> dict:
    random_backbone(size, folder)
    model = load_adapter_model(str(folder))
    vocab, hidden = SIZES[size]["vocab_size"], SIZES[size]["hidden_size"]
    generator = torch.Generator().manual_seed(0)
    model.eval()
    with torch.no_grad():
        sample = mlm_batch(batch, length, vocab, generator)
        teacher_times = [timed(lambda: last_hidden_state(model, sample["input_ids"],
                                                          sample["attention_mask"]))
                         for _ in range(max(2, steps // 2))]
    install_target_embeddings(model, VocabStub(vocab), torch.randn(vocab, hidden) * 0.02, "target")
    model.add_adapter(ADAPTER_NAME, config=language_adapter_config(model))
    set_trainable(model, ADAPTER_NAME, train_embeddings=True)
    model.train()
    with tempfile.TemporaryDirectory() as scratch:
        args = training_arguments(TrainingConfig(epochs=1, batch_size=batch, learning_rate=5e-4),
                                  Path(scratch), StageContext(progress=False))
        trainer = AdaptationTrainer(model=model, args=args, teacher=torch.randn(batch, hidden), beta=1.0)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-4)

    def step(beta: float) -> None:
        trainer.beta = beta
        loss = trainer.compute_loss(model, mlm_batch(batch, length, vocab, generator))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step(1.0)  # warm-up
    times = {0.0: [], 1.0: []}
    for _ in range(steps):
        for beta in (0.0, 1.0):
            times[beta].append(timed(lambda beta=beta: step(beta)))
    return {"no_kl": statistics.median(times[0.0]), "kl": statistics.median(times[1.0]),
            "teacher": statistics.median(teacher_times),
            "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "total": sum(p.numel() for p in model.parameters())}


def report(size: str, batch: int, length: int, figures: dict) -> None:
    overhead = figures["kl"] / figures["no_kl"] - 1
    amortised = figures["teacher"] / (EPOCHS * figures["kl"])
    per_step = figures["teacher"] / figures["no_kl"]
    print(f"\n{size} XLM-R, {SIZES[size]}, batch {batch} x {length} tokens, "
          f"{figures['trainable'] / 1e6:.2f}M of {figures['total'] / 1e6:.1f}M parameters trainable")
    print(f"  step without KL (beta=0): {figures['no_kl'] * 1000:9.1f} ms (median)")
    print(f"  step with KL    (beta=1): {figures['kl'] * 1000:9.1f} ms (median)  "
          f"-> KL adds {overhead:+.1%} per step (target <= +15%)")
    print(f"  teacher forward, once per batch of sentences: {figures['teacher'] * 1000:.1f} ms "
          f"= {amortised:.1%} of the training time over {EPOCHS} epochs "
          f"(a per-step teacher forward would add {per_step:+.0%})")


def run_inference_benchmark(quick: bool) -> None:
    """Hook for the multi-source inference benchmark (stage 5), written separately."""
    path = Path(__file__).with_name("inference_bench.py")
    if not path.is_file():
        print("\nmulti-source inference: benchmarks/inference_bench.py not found; run it when it exists")
        return
    spec = importlib.util.spec_from_file_location("inference_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.argv = [str(path)] + (["--quick"] if quick else [])
    print("\nmulti-source inference (benchmarks/inference_bench.py):")
    module.main()


class RandomTokenizer:
    """Stands in for the backbone's tokenizer at scale: ``length`` random ids per text."""

    def __init__(self, vocab: int, length: int):
        self.vocab, self.length = vocab, length

    def __call__(self, texts, **_) -> BatchEncoding:
        generator = torch.Generator().manual_seed(len(texts))
        ids = torch.randint(5, self.vocab, (len(texts), self.length), generator=generator)
        return BatchEncoding({"input_ids": ids, "attention_mask": torch.ones_like(ids)})


def scale_variant(variant: str, options: argparse.Namespace) -> dict:
    """One arm of ``--scale`` in this process: seconds before the first step, steps, peak RSS."""
    from harness.methods.unibridge.adaptation_trainer import TeacherStates, teacher_states

    shape = dict(hidden_size=options.hidden, num_hidden_layers=options.layers,
                 num_attention_heads=options.hidden // 64, intermediate_size=4 * options.hidden,
                 vocab_size=options.vocab)
    with tempfile.TemporaryDirectory() as folder:
        torch.manual_seed(0)
        XLMRobertaForMaskedLM(XLMRobertaConfig(max_position_embeddings=514, pad_token_id=PAD_ID,
                                               **shape)).save_pretrained(folder)
        model = load_adapter_model(folder)
    texts = [f"sentence {i}" for i in range(options.corpus)]
    tokenizer = RandomTokenizer(options.vocab, options.length)
    started = time.perf_counter()
    if variant == "before":  # the plain backbone over the whole corpus, before any step
        teacher = teacher_states(model, tokenizer, texts, options.length, options.batch)
    else:
        teacher = TeacherStates(model, tokenizer, texts, options.length)
    model.add_adapter(ADAPTER_NAME, config=language_adapter_config(model))
    set_trainable(model, ADAPTER_NAME, train_embeddings=False)
    model.train()
    with tempfile.TemporaryDirectory() as scratch:
        args = training_arguments(TrainingConfig(epochs=1, batch_size=options.batch, learning_rate=5e-4),
                                  Path(scratch), StageContext(progress=False))
        trainer = AdaptationTrainer(model=model, args=args, teacher=teacher, beta=1.0)
    setup = time.perf_counter() - started
    if variant == "before":  # the model's own loss: logits at every position
        trainer._masked_lm_parts = lambda model, inputs: trainer._model_parts(model, inputs)[:2]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-4)
    generator = torch.Generator().manual_seed(0)
    times = []
    for step in range(options.steps):
        batch = mlm_batch(options.batch, options.length, options.vocab, generator)
        batch["example_index"] += step * options.batch
        times.append(timed(lambda batch=batch: (trainer.compute_loss(model, batch).backward(),
                                                optimizer.step(), optimizer.zero_grad())))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB (Linux)
    return {"setup": setup, "first": times[0], "step": statistics.median(times[1:] or times),
            "peak_gib": peak}


def run_scale(options: argparse.Namespace) -> None:
    """Both arms of ``--scale``, each in a fresh process; prints the comparison."""
    print(f"\nreal scale: XLM-R-shaped, {options.layers} layers, hidden {options.hidden}, vocabulary "
          f"{options.vocab:,}; source-language adapter with KL; batch {options.batch} x "
          f"{options.length} tokens; corpus {options.corpus} sentences; {options.steps} steps")
    figures = {}
    for variant in ("before", "after"):
        command = [sys.executable, __file__, "--variant", variant] + [
            f"--{name}={getattr(options, name)}"
            for name in ("layers", "hidden", "vocab", "batch", "length", "steps", "corpus")]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        figures[variant] = json.loads(done.stdout.strip().splitlines()[-1])
    for variant, values in figures.items():
        print(f"  {variant:6s}: {values['setup']:7.1f} s before the first step, first step "
              f"{values['first']:6.2f} s, median step {values['step']:6.2f} s, "
              f"peak RSS {values['peak_gib']:.2f} GiB")
    before, after = figures["before"], figures["after"]
    print(f"  after / before: step {after['step'] / before['step']:.2f}x, peak memory "
          f"{after['peak_gib'] / before['peak_gib']:.2f}x, time to the end of step 1 "
          f"{(after['setup'] + after['first']) / (before['setup'] + before['first']):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny model only, fewer steps")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per setting")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--scale", action="store_true", help="real-scale before/after (see above)")
    parser.add_argument("--layers", type=int, default=12, help="--scale: transformer layers")
    parser.add_argument("--hidden", type=int, default=768, help="--scale: hidden size")
    parser.add_argument("--vocab", type=int, default=250_002, help="--scale: vocabulary size")
    parser.add_argument("--corpus", type=int, default=256, help="--scale: sentences in the corpus")
    parser.add_argument("--variant", choices=["before", "after"], help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.variant:
        options.steps = options.steps or 3
        print(json.dumps(scale_variant(options.variant, options)))
        return
    if options.scale:
        options.steps = options.steps or 3
        run_scale(options)
        return
    sizes = ["tiny"] if options.quick else ["tiny", "base-sized"]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads; the machine's cores "
          "are shared with other jobs, so timings are noisy (medians of interleaved steps)")
    for size in sizes:
        steps = options.steps or (5 if options.quick else {"tiny": 20, "base-sized": 5}[size])
        with tempfile.TemporaryDirectory() as folder:
            figures = bench(size, options.batch, options.length, steps, Path(folder))
        report(size, options.batch, options.length, figures)
    run_inference_benchmark(options.quick)


if __name__ == "__main__":
    main()
