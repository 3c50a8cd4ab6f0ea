"""How much the reading of π_UniBridge moves the KL term (Eq. 9) and the harmony weights (Eqs. 10-13).

Usage::

    python benchmarks/pi_reading.py                    # tiny-xlmr, NER, amh, 60 adaptation steps
    python benchmarks/pi_reading.py --steps 20 --workdir /tmp/pi

Runs UniBridge's stages 1-3 and the harmony distances of the smoke suite (fixtures, tiny-xlmr,
target amh, sources eng zho rus ara jpn) twice: once with ``adaptation.pi_unibridge:
last_layer`` (default) and once with ``head_input``. Prints, for each trained setup,

* the KL of Eq. 9 over the whole target corpus (eval mode, no masking) under each reading, on the
  same trained adapter: what the choice changes in the quantity itself;
* the same KL for the plain backbone (no adapter, its own tokenizer and embeddings), where
  ``last_layer`` is exactly 0 and ``head_input`` is the floor left by the head's
  dense → GELU → LayerNorm, which π_PLM (the last layer's output) does not go through;
* the target adapter's last logged training KL (what the optimiser saw);
* the harmony distances and weights under each reading, on the same trained adapters.

The stages go through the harness cache under ``--workdir``, so a second run only recomputes
what is missing. Tiny random backbones: the figures show sizes of effects, not paper numbers.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.core.graph import Cache, StageContext, topological_order  # noqa: E402
from harness.methods.unibridge.adaptation import TRAINING_FILE, read_corpus  # noqa: E402
from harness.methods.unibridge.adaptation_trainer import teacher_states  # noqa: E402
from harness.methods.unibridge.harmony import HarmonyDistanceStage, harmony_weights, read_distance  # noqa: E402
from harness.methods.unibridge.kl import mean_pool, pooled_kl  # noqa: E402
from harness.models.backbones import pretrained_path  # noqa: E402
from harness.models.loading import language_states, load_adapter_model, load_backbone_tokenizer, load_language  # noqa: E402
from harness.planning.plan import prepare  # noqa: E402
from harness.suite.schema import load_suite  # noqa: E402

log = logging.getLogger("pi_reading")
ROOT = Path(__file__).resolve().parents[1]
READINGS = ("last_layer", "head_input")


def plan_job(reading: str, steps: int):
    """The smoke suite's UniBridge job tiny-xlmr/ner/amh with ``reading`` and ``steps``."""
    suite = load_suite(ROOT / "suites" / "smoke.yaml")
    overrides = dict(suite.methods["unibridge"])
    overrides["adaptation"] = {**overrides["adaptation"], "max_steps": steps, "pi_unibridge": reading}
    ner = suite.tasks["ner"]
    suite = suite.model_copy(update={"methods": {"unibridge": overrides},
                                     "tasks": {"ner": ner}, "backbones": suite.backbones[:1]})
    plan = prepare(suite, check_data=False)
    job = next(j for j in plan.jobs if j.lang == "amh")
    return plan.build(job)


@torch.no_grad()
def corpus_kl(cache: Cache, final, reading: str) -> float:
    """Eq. 9's KL over the target corpus with the trained target adapter, under ``reading``."""
    target = final.inputs["target"]
    backbone = cache.path(target.inputs["backbone"])
    pretrained = pretrained_path(backbone)
    model = load_adapter_model(pretrained).eval()
    texts = read_corpus(cache.path(target.inputs["corpus"]) / "corpus.txt")
    teacher = teacher_states(model, load_backbone_tokenizer(pretrained), texts, 256)
    tokenizer = load_language(model, cache.path(target), "target")
    model.set_active_adapters("target")
    batch = tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
    states = language_states(model, batch["input_ids"], batch["attention_mask"], reading)
    return float(pooled_kl(mean_pool(states, batch["attention_mask"]), teacher))


@torch.no_grad()
def floor_kl(cache: Cache, final, reading: str) -> float:
    """Eq. 9's KL of the plain backbone against itself over the target corpus, under ``reading``."""
    target = final.inputs["target"]
    pretrained = pretrained_path(cache.path(target.inputs["backbone"]))
    model = load_adapter_model(pretrained).eval()
    tokenizer = load_backbone_tokenizer(pretrained)
    texts = read_corpus(cache.path(target.inputs["corpus"]) / "corpus.txt")
    teacher = teacher_states(model, tokenizer, texts, 256)
    batch = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    states = language_states(model, batch["input_ids"], batch["attention_mask"], reading)
    return float(pooled_kl(mean_pool(states, batch["attention_mask"]), teacher))


def weights(cache: Cache, ctx: StageContext, final, reading: str) -> tuple[dict, dict]:
    """Harmony distances and weights of ``final``'s trained adapters, read with ``reading``."""
    distances = {}
    for name, stage in final.inputs.items():
        if name.startswith("distance_"):
            config = stage.config.model_copy(update={"pi_unibridge": reading})
            other = HarmonyDistanceStage(config, **stage.inputs)
            distances[name.removeprefix("distance_")] = read_distance(cache.materialize(other, ctx))
    return distances, harmony_weights(distances)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="language-adaptation steps")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/pi_reading"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    warnings.filterwarnings("ignore", category=UserWarning)
    for noisy in ("transformers", "harness", "adapters"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    torch.set_num_threads(1)
    cache = Cache(args.workdir / "cache")
    ctx = StageContext(cache=cache, progress=False)
    results = {}
    for trained in READINGS:
        final = plan_job(trained, args.steps)
        needed = [stage for stage in final.inputs.values() if stage.kind == "harmony_distance"]
        for stage in topological_order(needed):
            cache.materialize(stage, ctx)
        record = json.loads((cache.path(final.inputs["target"]) / TRAINING_FILE).read_text())
        row = {"last_training_kl": record["losses"][-1].get("kl")}
        for reading in READINGS:
            distances, w = weights(cache, ctx, final, reading)
            row[reading] = {"corpus_kl": corpus_kl(cache, final, reading),
                            "backbone_kl": floor_kl(cache, final, reading),
                            "distances": distances, "weights": w}
        results[trained] = row
        log.info("trained with %s:\n%s", trained, json.dumps(row, indent=2))
    summarize(results)


def summarize(results: dict) -> None:
    """One line per trained setup: KL under both readings and the largest weight change."""
    for trained, row in results.items():
        a, b = row["last_layer"], row["head_input"]
        moved = max(abs(a["weights"][s] - b["weights"][s]) for s in a["weights"])
        log.info("trained %-10s | KL last_layer %.4f head_input %.4f (plain backbone %.4f / %.4f)"
                 " | max |Δw| %.4f | weights last_layer %s head_input %s", trained,
                 a["corpus_kl"], b["corpus_kl"], a["backbone_kl"], b["backbone_kl"], moved,
                 _rounded(a["weights"]), _rounded(b["weights"]))


def _rounded(weights: dict) -> dict:
    return {source: round(value, 4) for source, value in weights.items()}


if __name__ == "__main__":
    main()
