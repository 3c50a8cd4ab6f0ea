"""Bytes a training stage writes at a real vocabulary size: zero-shot fine-tuning and stage 3.

Usage::

    python benchmarks/checkpoint_bytes.py                    # this tree, 2 layers, 2 epochs
    python benchmarks/checkpoint_bytes.py --before 5a3d157   # and the same at that commit
    python benchmarks/checkpoint_bytes.py --layers 1 --epochs 3

A randomly initialised XLM-R (hidden 768, 12 heads, XLM-R's 250,002-token vocabulary, ``--layers``
of its 12 layers, on CPU) with a word-level tokenizer of as many entries. Two stages run as the
runner runs them, each in a fresh process (``--before``: the same with the code of a commit):

- **zero-shot fine-tuning** (:class:`harness.stages.finetune.FinetuneStage`): every parameter trains,
  on the English WikiANN fixture (48 sentences, batch 8: 6 steps an epoch), with model selection
  on its validation split;
- **stage 3** (:func:`harness.methods.unibridge.adaptation.train_language_adapter`): new 250,002 × 768
  target embeddings, the language adapter and the KL term, on 48 lines of the Amharic fixture.

Printed per stage: bytes written (the process's ``wchar`` from /proc/self/io, every write call:
checkpoints that were deleted later count), the largest size the stage's partial directory
reached (sampled every 50 ms), what is left in it when training ends, and the artifact's size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VOCAB, HIDDEN, PAD_ID = 250_002, 768, 1
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def written_bytes() -> int:
    """Bytes this process has passed to write calls so far."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError("/proc/self/io has no wchar")


def tree_size(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except FileNotFoundError:  # deleted while being walked
                pass
    return total


class PeakSize:
    """The largest size ``path`` reaches while the ``with`` block runs (sampled)."""

    def __init__(self, path: Path):
        self.path, self.peak, self._done = path, 0, threading.Event()

    def _sample(self):
        while not self._done.wait(0.05):
            self.peak = max(self.peak, tree_size(self.path))

    def __enter__(self):
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, tree_size(self.path))


def word_list() -> list[str]:
    """The fixtures' words first (so the texts are not all unknown), then fillers up to VOCAB."""
    words = dict.fromkeys(SPECIALS)
    for line in (ROOT / "fixtures/wikiann/eng/train.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip():
            words.setdefault(line.split("\t")[0])
    for line in (ROOT / "fixtures/monolingual/amh.txt").read_text(encoding="utf-8").splitlines():
        words.update(dict.fromkeys(line.split()))
    filler = (f"w{i}" for i in range(VOCAB))
    while len(words) < VOCAB:
        words.setdefault(next(filler))
    return list(words)[:VOCAB]


def build_backbone(folder: Path, layers: int) -> Path:
    """A backbone artifact (``backbone.json`` + ``model/``) of a random real-vocabulary XLM-R."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaForMaskedLM

    model_dir = folder / "model"
    vocab = {word: index for index, word in enumerate(word_list())}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>",
                                        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                                        cls_token="<s>", sep_token="</s>")
    torch.manual_seed(0)
    config = XLMRobertaConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=layers,
                              num_attention_heads=12, intermediate_size=4 * HIDDEN,
                              max_position_embeddings=514, pad_token_id=PAD_ID)
    XLMRobertaForMaskedLM(config).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    (folder / "backbone.json").write_text(json.dumps({"name": "xlmr-250k", "arch": "xlmr",
                                                      "pretrained": "model"}))
    return folder


def run_finetune(backbone: Path, work: Path, epochs: int):
    from harness.data.source import DataRef, DataSource
    from harness.stages.finetune import FinetuneConfig, FinetuneStage
    from harness.training.arguments import TrainingConfig

    data = DataRef.of(DataSource(path=ROOT / "fixtures/wikiann"), ("eng",))
    config = FinetuneConfig(task="ner", sources=("eng",), data={"eng": data}, max_length=32,
                            training=TrainingConfig(epochs=epochs, batch_size=8, learning_rate=1e-5))
    stage = FinetuneStage(config, seed=1)
    return stage, lambda ctx, out: stage.run(ctx, {"backbone": backbone}, out)


def run_adaptation(backbone: Path, work: Path, epochs: int):
    import torch

    from harness.methods.unibridge.adaptation import AdaptationConfig, AdaptationStage, train_language_adapter

    embeddings = work / "embeddings"
    (embeddings / "tokenizer").mkdir(parents=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        (embeddings / "tokenizer" / name).write_bytes((backbone / "model" / name).read_bytes())
    torch.manual_seed(1)
    torch.save(torch.randn(VOCAB, HIDDEN) * 0.02, embeddings / "embeddings.pt")
    corpus = work / "corpus.txt"
    lines = (ROOT / "fixtures/monolingual/amh.txt").read_text(encoding="utf-8").splitlines()[:48]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = AdaptationConfig(epochs=epochs, batch_size=8, max_length=32, teacher_max_length=32)
    stage = AdaptationStage(config, seed=1)
    return stage, lambda ctx, out: train_language_adapter(config, backbone, corpus, embeddings, out,
                                                          ctx.partial_dir(stage), ctx)


STAGES = {"zero-shot fine-tuning": run_finetune, "stage 3 (language adapter)": run_adaptation}


def measure_arm(options: argparse.Namespace) -> None:
    """In this process: build the backbone, run each stage, print one JSON line per stage."""
    from harness.core.graph import Cache, StageContext

    with tempfile.TemporaryDirectory(dir=options.scratch) as scratch:
        backbone = build_backbone(Path(scratch) / "backbone", options.layers)
        for name, prepare in STAGES.items():
            work = Path(scratch) / name.split()[0]
            work.mkdir()
            cache = Cache(work / "cache")
            stage, run = prepare(backbone, work, options.epochs)
            ctx = StageContext(seed=1, cache=cache, progress=False)
            partial, out = cache.partial_dir(stage), work / "artifact"
            out.mkdir()
            start, started = written_bytes(), time.perf_counter()
            with PeakSize(partial) as peak:
                run(ctx, out)
            written = written_bytes() - start
            print(json.dumps({"stage": name, "written": written, "peak": peak.peak,
                              "left": tree_size(partial), "artifact": tree_size(out),
                              "left_files": sorted(str(p.relative_to(partial))
                                                   for p in partial.rglob("*") if p.is_file()),
                              "seconds": round(time.perf_counter() - started, 1)}), flush=True)


def arm(code: Path, options: argparse.Namespace) -> list[dict]:
    """Run :func:`measure_arm` in a fresh process on the package at ``code``."""
    command = [sys.executable, str(Path(__file__).resolve()), "--arm", "--layers", str(options.layers),
               "--epochs", str(options.epochs), "--scratch", options.scratch]
    done = subprocess.run(command, env=dict(os.environ, PYTHONPATH=str(code)), check=True,
                          capture_output=True, text=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def gb(value: int) -> str:
    return f"{value / 1e9:.2f} GB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--before", metavar="REV", help="also measure the code of this git revision")
    parser.add_argument("--scratch", default=tempfile.gettempdir(), help="where the models are written")
    parser.add_argument("--arm", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.arm:
        return measure_arm(options)
    arms = {"after (this tree)": ROOT}
    with tempfile.TemporaryDirectory() as old:
        if options.before:
            subprocess.run(f"git -C {ROOT} archive {options.before} | tar -x -C {old}", shell=True,
                           check=True)
            arms = {f"before ({options.before})": Path(old), **arms}
        print(f"XLM-R, vocabulary {VOCAB:,} x {HIDDEN}, {options.layers} layers, {options.epochs} "
              f"epochs, on CPU; bytes = every write call of the stage's process")
        for label, code in arms.items():
            for row in arm(code, options):
                print(f"{label:>22} | {row['stage']:<27} | written {gb(row['written'])} | partial "
                      f"dir peak {gb(row['peak'])}, left {gb(row['left'])} | artifact "
                      f"{gb(row['artifact'])} | {row['seconds']} s")
                print(f"{'':>22} | left: {', '.join(row['left_files']) or '-'}")


if __name__ == "__main__":
    main()
