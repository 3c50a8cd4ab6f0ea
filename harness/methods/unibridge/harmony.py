"""Harmony weights (PAPER.md stage 5, Eqs. 10–13): how much each source's task adapter counts.

Example::

    activate_language(model, "target")
    target = sentence_states(model, target_tokenizer, [t for t, _ in pairs])
    activate_language(model, "language_eng")
    source = sentence_states(model, eng_tokenizer, [s for _, s in pairs])
    distances = {"eng": language_distance(target, source), ...}
    harmony_weights(distances)            # {"eng": 0.23, ...}, sums to 1

Definitions (PAPER.md "Harmony weights"): a sentence's hidden state H is the mean over its
non-padding tokens of π_UniBridge, the last hidden state after the inverse of the language's
invertible adapter (the input of the LM head, the same state as in Eq. 9), computed with that
language's own embeddings and language adapter. For target t and source s, the distance is the
mean over the K parallel pairs of ‖H_t,k − H_s,k‖₂, the similarity d_{t,s} is its inverse, and
the weights are w_t = softmax_s(d_{t,s}).

The token states are :func:`harness.models.loading.language_states`, the same definition stage 3's KL
term reads (for mBART: the encoder's last hidden state; see that module). Option
``pi_unibridge: head_input`` (set once, in the adaptation config, and handed to every
:class:`DistanceConfig` by the method) reads instead the tensor the LM head's own forward feeds
its output layer (XLM-R, mBERT: after the head's dense → GELU → LayerNorm; mBART: the decoder's
state; mGPT: the same tensor as the default). docs/choices.md compares the two readings.

The authors' code (``weight.py``'s ``gen_weight`` at 6a38462; docs/fidelity.md, "Stage 5")
differs in two options of :class:`DistanceConfig`, both set from the suite's ``inference``
section: ``harmony_state: raw_last_layer`` pools the model's raw last hidden state, without the
inverse invertible adapter (``weight.py:119-120``: ``mean_pooling(model(**batch))``, the
output of an adapter model without a head); ``harmony_truncation: none`` tokenizes every
sentence whole (``weight.py:114,144``: padding, no truncation; a sentence longer than the model's
positions fails, as there).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field
from tqdm.auto import tqdm

from harness.core.config import StrictConfig, added_option
from harness.core.graph import Stage, StageContext
from harness.core.workdir import atomic_write_text
from harness.data.parallel import ParallelRef
from harness.data.source import DataError
from harness.methods.unibridge.kl import mean_pool
from harness.models.loading import LAST_LAYER, PiReading, language_states, last_hidden_state
from harness.tasks.reads import PairRead

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DISTANCE_FILE = "distance.json"
#: Names of the two languages inside the model of a distance stage.
TARGET_LANGUAGE, SOURCE_LANGUAGE = "target", "source"

#: The token states Eq. 10 pools: π_UniBridge (the paper; ``reading`` says which tensor) or the
#: model's raw last hidden state, no inverse adapter (the authors' ``weight.py``).
HarmonyState = Literal["pi_unibridge", "raw_last_layer"]
#: ``max_length``: each sentence cut to ``max_length`` tokens; ``none``: whole (``weight.py``).
HarmonyTruncation = Literal["max_length", "none"]


def harmony_weights(distances: Mapping[str, float]) -> dict[str, float]:
    """Eqs. 12–13: w_s = softmax over sources of d_{t,s} = 1 / distance(t, s).

    Args:
        distances: per source, the mean Euclidean distance between target and source sentence
            states (Eq. 11). A distance of 0 is an infinite similarity: the sources at distance 0
            then share all the weight equally (the softmax's limit).

    Returns:
        One weight per source, in the order of ``distances``; they sum to 1.
    """
    import torch

    if not distances:
        raise ValueError("harmony weights need at least one source")
    if any(not math.isfinite(d) or d < 0 for d in distances.values()):
        raise ValueError(f"distances must be finite and non-negative, got {dict(distances)}")
    zeros = [s for s, d in distances.items() if d == 0]
    if zeros:
        return {s: (1 / len(zeros) if s in zeros else 0.0) for s in distances}
    similarities = torch.tensor([1.0 / d for d in distances.values()], dtype=torch.float64)
    weights = torch.softmax(similarities, dim=0).tolist()
    return dict(zip(distances, weights))


def language_distance(target: torch.Tensor, source: torch.Tensor) -> float:
    """Eq. 11: mean over the K parallel pairs of ‖H_t,k − H_s,k‖₂.

    Args:
        target: sentence states of the target sides, [K, hidden].
        source: sentence states of the source sides, [K, hidden], row k translating row k.
    """
    import torch

    if target.shape != source.shape or target.dim() != 2 or len(target) == 0:
        raise ValueError(f"need two [K, hidden] tensors of the same shape, got "
                         f"{tuple(target.shape)} and {tuple(source.shape)}")
    return float(torch.linalg.vector_norm(target.double() - source.double(), dim=1).mean())


def activate_language(model, name: str) -> None:
    """Make language ``name`` current: its embeddings (or the backbone's) and its adapter alone.

    :func:`harness.models.loading.load_language` installs embeddings under ``name`` only for a language
    with its own vocabulary; a source language keeps the backbone's ``default`` embeddings.
    """
    model.set_active_embeddings(name if name in model.loaded_embeddings else "default")
    model.set_active_adapters(name)


def sentence_states(model, tokenizer, sentences: Sequence[str], batch_size: int = 32,
                    max_length: int = 128, progress: bool = False,
                    reading: PiReading = LAST_LAYER, state: HarmonyState = "pi_unibridge",
                    truncation: HarmonyTruncation = "max_length") -> torch.Tensor:
    """Eq. 10: one state per sentence, the mean of π_UniBridge over its non-padding tokens.

    Uses the model's active embeddings and adapters; ``tokenizer`` must match the active
    embeddings; ``reading`` picks π_UniBridge (:func:`harness.models.loading.language_states`).
    ``state`` ``raw_last_layer`` pools the raw last hidden state instead (``reading`` unused);
    ``truncation`` ``none`` keeps every token (``max_length`` unused).
    Returns a float32 CPU tensor [len(sentences), hidden].
    """
    import torch

    cut = {"truncation": True, "max_length": max_length} if truncation == "max_length" else {}
    with torch.no_grad():
        model.eval()
        device = next(model.parameters()).device
        states = []
        starts = range(0, len(sentences), batch_size)
        for start in tqdm(starts, desc="sentence states", unit="batch", disable=not progress,
                          leave=False):
            encoding = tokenizer(list(sentences[start:start + batch_size]), padding=True,
                                 return_tensors="pt", **cut).to(device)
            hidden = token_states(model, encoding["input_ids"], encoding["attention_mask"],
                                  reading, state)
            states.append(mean_pool(hidden, encoding["attention_mask"]).float().cpu())
        return torch.cat(states)


def token_states(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                 reading: PiReading = LAST_LAYER, state: HarmonyState = "pi_unibridge") -> torch.Tensor:
    """The token states [batch, length, hidden] Eq. 10 pools (see :data:`HarmonyState`)."""
    if state == "raw_last_layer":
        return last_hidden_state(model, input_ids, attention_mask)
    if state == "pi_unibridge":
        return language_states(model, input_ids, attention_mask, reading)
    raise ValueError(f"unknown harmony state {state!r} (pi_unibridge, raw_last_layer)")


def pair_distance(model, pairs: Sequence[tuple[str, str]], target: tuple[str, object],
                  source: tuple[str, object], batch_size: int = 32, max_length: int = 128,
                  reading: PiReading = LAST_LAYER, state: HarmonyState = "pi_unibridge",
                  truncation: HarmonyTruncation = "max_length") -> float:
    """Eqs. 10–11 for one (target, source) pair of languages loaded in ``model``.

    Args:
        model: holds both languages (see :func:`harness.models.loading.load_language`).
        pairs: K parallel sentences, (target side, source side).
        target: (name in the model, tokenizer) of the target language.
        source: (name in the model, tokenizer) of the source language.
        batch_size: sentences per forward pass.
        max_length: tokens kept per sentence (with ``truncation`` ``max_length``).
        reading: which tensor is π_UniBridge (see the module docstring).
        state: π_UniBridge or the raw last layer (:data:`HarmonyState`).
        truncation: whether sentences are cut at ``max_length`` (:data:`HarmonyTruncation`).
    """
    sides = []
    for (name, tokenizer), sentences in zip((target, source), zip(*pairs)):
        activate_language(model, name)
        sides.append(sentence_states(model, tokenizer, sentences, batch_size, max_length,
                                     reading=reading, state=state, truncation=truncation))
    return language_distance(*sides)


class DistanceConfig(StrictConfig):
    """Eq. 11 for one (target, source) pair: which languages, which parallel data, K sentences.

    ``parallel`` names the corpus serving the pair and fingerprints only that pair's files.

    ``pi_unibridge`` is the adaptation config's (the method copies it here); its default is
    left out of the key, as there. ``harmony_state`` and ``harmony_truncation`` are the
    inference config's (:class:`harness.methods.unibridge.inference.InferenceConfig`):
    ``pi_unibridge`` / ``max_length`` as the paper reads (PAPER.md "Harmony weights"),
    ``raw_last_layer`` / ``none`` as the authors' ``weight.py:114-120,144`` computes.
    """

    lang: str
    source: str
    parallel: ParallelRef
    k: int = Field(10, gt=0)
    max_length: int = Field(128, gt=0)
    batch_size: int = Field(32, gt=0)
    pi_unibridge: PiReading = added_option(LAST_LAYER)
    harmony_state: HarmonyState = added_option("pi_unibridge")
    harmony_truncation: HarmonyTruncation = added_option("max_length")

    def data_reads(self) -> tuple[PairRead, ...]:
        """The first K sentence pairs of (target, source)."""
        return (PairRead(self.lang, self.source, self.parallel.corpus, self.k),)



class HarmonyDistanceStage(Stage):
    """Artifact kind ``harmony_distance``: ``distance.json`` of one (target, source) pair.

    Inputs: ``backbone``, ``target`` and ``language`` (the two language_adapter artifacts).
    Its key does not depend on the task, so NER, POS and NLI jobs of one target share it.
    Version 2: the parallel data is per (target, source) pair (format, corpus, the pair's files),
    and fewer than K usable pairs is an error instead of a distance over fewer sentences.
    """

    kind = "harmony_distance"
    uses_device = True
    version = 2

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Load both languages into the backbone, embed the first K pairs, write the distance."""
        from harness.data import parallel
        from harness.models.backbones import pretrained_path
        from harness.models.loading import load_adapter_model, load_language

        config: DistanceConfig = self.config
        pairs = parallel.load(config.parallel.corpus, config.lang, config.source)[: config.k]
        if len(pairs) < config.k:
            raise DataError(f"parallel pair {config.lang}-{config.source}: only {len(pairs)} "
                            f"sentence pairs, k = {config.k} ({config.parallel.corpus.describe()})")
        model = load_adapter_model(pretrained_path(inputs["backbone"]))
        target = load_language(model, inputs["target"], TARGET_LANGUAGE)
        source = load_language(model, inputs["language"], SOURCE_LANGUAGE)
        model.to(ctx.device)
        distance = pair_distance(model, pairs, (TARGET_LANGUAGE, target), (SOURCE_LANGUAGE, source),
                                 config.batch_size, config.max_length, config.pi_unibridge,
                                 config.harmony_state, config.harmony_truncation)
        record = {"lang": config.lang, "source": config.source, "distance": distance,
                  "n_pairs": len(pairs), "pi_unibridge": config.pi_unibridge}
        record |= config.model_dump(include={"harmony_state", "harmony_truncation"})  # if set
        atomic_write_text(out / DISTANCE_FILE, json.dumps(record, indent=2))

    def summary(self, artifact: Path) -> dict[str, Any]:
        """The pair and its distance."""
        return json.loads((artifact / DISTANCE_FILE).read_text(encoding="utf-8"))


def read_distance(artifact: Path) -> float:
    """The Eq. 11 distance stored in a ``harmony_distance`` artifact."""
    return float(json.loads((Path(artifact) / DISTANCE_FILE).read_text(encoding="utf-8"))["distance"])
