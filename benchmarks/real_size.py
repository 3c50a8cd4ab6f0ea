"""Every paper backbone at its real shape, through every stage kind of UniBridge and its baselines.

Usage::

    python benchmarks/real_size.py --backbone xlm-roberta-base [--batch 4] [--out /tmp/realsize]
    python benchmarks/real_size.py --backbone mgpt --methods unibridge,mad_x
    python benchmarks/real_size.py --summary /tmp/realsize/xlm-roberta-base/run/measured.jsonl

For one backbone (run them one at a time):

1. A checkpoint directory of the real shape: the config of benchmarks/real_size_configs.json
   (recorded from public copies of the model's config.json at the pinned commit; the evidence is
   in that file), randomly initialised (seed 0), ``save_pretrained`` with a tokenizer whose
   length is the real vocabulary size. That tokenizer is the harness's tiny tokenizer of the
   family (harness/models/tiny_tokenizers.py: SentencePiece unigram for XLM-R and mBART,
   WordPiece for mBERT, byte-level BPE for mGPT) trained on the fixtures' monolingual text, its
   vocabulary then filled up to the real size with pieces made of a private-use character and
   digits (``\\ue000123``), which no text contains: every id of the real embedding matrix is a
   token of the tokenizer, as with the real one, but the fixtures' text is split by the small
   vocabulary (sequence lengths differ from the real tokenizer's; the model's cost does not depend
   on which ids are read). Every LayerNorm's weight and bias gets N(0, 0.02²) noise: ``validate``
   refuses a masked-LM head whose LayerNorm still holds the values of a new one (1 and 0), the
   sign of a checkpoint saved without its trained head (harness/planning/backbone_checks.py).
2. A suite like suites/smoke.yaml on the fixtures (one NER target, amh; ``--sources``, eng by
   default), the backbone given as ``pretrained:`` that directory, each method the paper pairs
   with it (suites/wikiann.yaml), every training stage capped at 2 optimisation steps of batch
   ``--batch``.
3. ``unibridge-bench run`` of that suite on the CPU with the executor of
   benchmarks/real_size_plugin/measured.py: each stage in its own process, its peak RSS, wall
   time, time per optimisation step and bytes written recorded in ``<out>/<backbone>/run/measured.jsonl``.
4. One table per stage kind: printed, and the markdown rows for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = Path(__file__).with_name("real_size_configs.json")
PLUGIN = Path(__file__).with_name("real_size_plugin")
FIXTURES = ROOT / "fixtures"
ARCH = {"xlm-roberta-base": "xlmr", "bert-base-multilingual-cased": "bert", "mgpt": "gpt2", "mbart": "mbart"}
#: The methods the paper pairs with each backbone (suites/wikiann.yaml's ``backbones:``).
METHODS = {
    "xlm-roberta-base": ["unibridge", "zero_shot", "mad_x", "focus", "unibridge_lang2vec"],
    "bert-base-multilingual-cased": ["unibridge", "zero_shot", "mad_x", "focus", "unibridge_lang2vec",
                                     "extend"],
    "mgpt": ["unibridge", "zero_shot", "mad_x"],
    "mbart": ["unibridge", "zero_shot", "mad_x"],
}
FILLER = "\ue000"
LAYER_KEYS = ("num_hidden_layers", "n_layer", "encoder_layers", "decoder_layers")


def recorded_config(name: str, layers: int | None = None):
    """The transformers config and model class of ``name`` from real_size_configs.json."""
    import transformers

    entry = json.loads(CONFIGS.read_text())[name]
    values = dict(entry["config"])
    if layers is not None:  # a stated reduction (--layers): every stack of layers cut to it
        for key in LAYER_KEYS:
            if key in values:
                values[key] = layers
    config = transformers.AutoConfig.for_model(values.pop("model_type"), **values)
    return config, getattr(transformers, entry["model_class"])


def _padded(backend, size: int):
    """``backend`` (a ``tokenizers.Tokenizer``) with filler pieces appended up to ``size`` ids."""
    from tokenizers import Tokenizer

    state = json.loads(backend.to_str())
    model = state["model"]
    if model["type"] == "Unigram":
        have = len(model["vocab"])
        low = min(score for _, score in model["vocab"]) - 10.0
        model["vocab"] += [[f"{FILLER}{i}", low] for i in range(size - have)]
    else:  # WordPiece, BPE: a dict token -> id
        have = len(model["vocab"])
        prefix = "##" if model["type"] == "WordPiece" else ""
        model["vocab"].update({f"{prefix}{FILLER}{i}": have + i for i in range(size - have)})
    return Tokenizer.from_str(json.dumps(state))


def real_size_tokenizer(arch: str, corpus: list[str], size: int):
    """A tokenizer of ``arch``'s family of length ``size`` (see the module docstring)."""
    from transformers import BertTokenizerFast, GPT2TokenizerFast, MBartTokenizerFast, XLMRobertaTokenizerFast

    from harness.models.tiny_tokenizers import GPT2_EOS, train_tiny_tokenizer

    small = train_tiny_tokenizer(arch, corpus, 4000)
    backend = small.backend_tokenizer
    extra = len(small) - backend.get_vocab_size(with_added_tokens=False)  # mBART's language codes
    padded = _padded(backend, size - extra)
    if arch == "xlmr":
        tokenizer = XLMRobertaTokenizerFast(tokenizer_object=padded)
    elif arch == "mbart":
        tokenizer = MBartTokenizerFast(tokenizer_object=padded)
    elif arch == "bert":
        tokenizer = BertTokenizerFast(tokenizer_object=padded, do_lower_case=False)
    else:
        tokenizer = GPT2TokenizerFast(tokenizer_object=padded, unk_token=GPT2_EOS, bos_token=GPT2_EOS,
                                      eos_token=GPT2_EOS, pad_token=GPT2_EOS)
    if len(tokenizer) != size:
        raise RuntimeError(f"{arch}: tokenizer of {len(tokenizer)} ids, wanted {size}")
    return tokenizer


def build_checkpoint(name: str, folder: Path, layers: int | None = None) -> None:
    """Save a random model of ``name``'s recorded shape and a tokenizer of its vocabulary size."""
    import torch

    if (folder / "config.json").is_file():
        print(f"{name}: checkpoint {folder} exists, reused")
        return
    started = time.perf_counter()
    config, model_class = recorded_config(name, layers)
    corpus = [line for file in sorted((FIXTURES / "monolingual").glob("*.txt"))
              for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    tokenizer = real_size_tokenizer(ARCH[name], corpus, config.vocab_size)
    if ARCH[name] == "gpt2":  # the tokenizer's one special token is its bos, eos and pad
        config.bos_token_id = config.eos_token_id = config.pad_token_id = tokenizer.eos_token_id
    torch.manual_seed(0)
    model = model_class(config)
    with torch.no_grad():  # as trained: validate refuses a masked-LM head whose LayerNorm is new
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.add_(torch.randn_like(module.weight), alpha=0.02)
                module.bias.add_(torch.randn_like(module.bias), alpha=0.02)
    tmp = folder.with_name(folder.name + ".partial")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(folder)
    print(f"{name}: {model.num_parameters():,} parameters, vocabulary {len(tokenizer):,}; "
          f"built in {time.perf_counter() - started:.0f} s")


def suite_text(name: str, checkpoint: Path, methods: list[str], batch: int, sources: list[str]) -> str:
    """The YAML of the one-backbone suite (see the module docstring)."""
    steps = {"max_steps": 2, "batch_size": batch, "max_device_batch_size": batch}
    adapters = {"adaptation": steps, "task_adapter": steps}
    unibridge = {**adapters, "vocab": {"start": 200, "step": 20, "max_size": 1500}}
    per_method = {
        "unibridge": unibridge,
        "unibridge_lang2vec": unibridge,
        "zero_shot": {"training": steps},
        "mad_x": {**adapters, "source_adaptation": steps},
        "focus": {**unibridge, "focus": {"fasttext_min_count": 1}},
        "extend": {"vocab": unibridge["vocab"], "pretraining": steps, "finetuning": steps},
    }
    suite = {
        "name": f"real_size_{name}",
        "description": f"{name} at its real shape, random weights, 2 steps per training stage",
        "pipeline_check": True,
        "seeds": [1],
        "backbones": [{"name": name, "pretrained": str(checkpoint)}],
        "tasks": {"ner": {"targets": ["amh"], "sources": sources,
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}, "target_samples": 14,
                        "source_samples": 34, "words_per_sample": 32},
        "parallel": {"path": str(FIXTURES / "parallel")},
        "methods": {method: per_method[method] for method in methods},
    }
    return json.dumps(suite, indent=1)  # JSON is YAML


def run_suite(suite: Path, workdir: Path) -> int:
    """``unibridge-bench run`` of ``suite`` on the CPU with the measured executor."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    (workdir / "measured.jsonl").unlink(missing_ok=True)  # this run's stages only
    command = [sys.executable, "-m", "harness.cli.main", "run", str(suite), "--workdir", str(workdir),
               "--device", "cpu", "--include", str(PLUGIN), "--executor", "measured"]
    print("$", " ".join(command), flush=True)
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def step_seconds(record: dict) -> float | None:
    """Median time between consecutive optimizer steps (None: fewer than 2 steps)."""
    ends = record.get("step_ends") or []
    gaps = [b - a for a, b in zip(ends, ends[1:])]
    return statistics.median(gaps) if gaps else None


def size(n: int) -> str:
    """Bytes as MB or GB (decimal)."""
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def summary(measured: Path) -> list[str]:
    """Markdown rows, one per stage kind: stages, peak RSS, s/step, stage s, written, artifact."""
    records = [json.loads(line) for line in measured.read_text().splitlines() if line.strip()]
    rows = ["| stage kind | stages | peak RSS (max) | s per step (median) | stage s (max) | "
            "written (max) | artifact (max) | failed |", "|---|---|---|---|---|---|---|---|"]
    kinds: dict[str, list[dict]] = {}
    for record in records:
        kinds.setdefault(record["kind"], []).append(record)
    for kind, group in kinds.items():
        steps = [s for s in (step_seconds(r) for r in group) if s is not None]
        failed = [r["title"] for r in group if r.get("returncode")]
        rows.append(
            f"| {kind} | {len(group)} | {max(r['peak_rss_kib'] for r in group) / 1024 ** 2:.2f} GiB | "
            f"{f'{statistics.median(steps):.1f}' if steps else '–'} | "
            f"{max(r.get('seconds', r['process_seconds']) for r in group):.0f} | "
            f"{size(max(r.get('wchar', 0) for r in group))} | "
            f"{size(max(r.get('artifact_bytes', 0) for r in group))} | "
            f"{len(failed) or ''} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", choices=sorted(ARCH))
    parser.add_argument("--out", type=Path, default=Path("/tmp/realsize"))
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--sources", default="eng")
    parser.add_argument("--layers", type=int, help="a stated reduction: this many layers per stack")
    parser.add_argument("--methods", help="comma-separated; default: those the paper pairs with it")
    parser.add_argument("--summary", type=Path, help="only print the table of a measured.jsonl")
    args = parser.parse_args()
    if args.summary:
        print("\n".join(summary(args.summary)))
        return
    name = args.backbone
    methods = args.methods.split(",") if args.methods else METHODS[name]
    base = args.out / (name if args.layers is None else f"{name}-{args.layers}layers")
    base.mkdir(parents=True, exist_ok=True)
    checkpoint = base / "checkpoint"
    build_checkpoint(name, checkpoint, args.layers)
    suite = base / "suite.yaml"
    suite.write_text(suite_text(name, checkpoint, methods, args.batch, args.sources.split(",")))
    print("load:", os.getloadavg())
    code = run_suite(suite, base / "run")
    print("load:", os.getloadavg())
    print("\n".join(summary(base / "run" / "measured.jsonl")))
    sys.exit(code)


if __name__ == "__main__":
    main()
