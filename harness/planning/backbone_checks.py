"""Checks of a suite's backbone entries before anything runs: names, families, checkpoints.

Example::

    problems = backbone_problems(suite.backbones)   # ["backbones.0 (my-xlmr): ...", ...]
    check_checkpoint(Path("ckpt/"), "xlmr")          # raises CheckpointError naming the file
    missing = unavailable_backbones(suite, stages)   # [("backbones.0", "xlm-roberta-base@e73636d", why)]

A local checkpoint must be what ``save_pretrained`` writes for a model *with its LM head*:
config.json (whose ``model_type`` matches the declared family and whose first
``architectures`` entry is an LM class that adapters turns into a flex head), weights and
tokenizer files. A checkpoint without an LM head (``BertModel``) is refused rather than given a
fresh head: language adapters are trained through the backbone's pretrained, frozen LM head
(MAD-X), and a random one would train them against noise (docs/choices.md). A hub id is checked
the same way when its config.json is already in the local Hugging Face cache (at its pin).

Whether a hub backbone can be read here is a data check (:func:`unavailable_backbones`, skipped
by ``--no-data-check``): its pinned commit is in the Hugging Face cache (``snapshots/<commit>``;
a snapshot of another commit does not count), or the hub answers for it (10 s), unless
``HF_HUB_OFFLINE`` is set, as :func:`harness.data.source.check_hub_reachable` does for datasets.
A registered hub backbone without a pin is warned about, naming the reason recorded for it.

A masked LM's head has parameters of its own (dense → GELU → LayerNorm before the tied output
layer), and a headless encoder loaded into ``BertForMaskedLM`` and saved again carries a random
one under the right class name (:func:`check_mlm_head`). The check reads the head's LayerNorm
from the weights file, without building the model: transformers initialises a new LayerNorm
to weight 1 and bias 0 exactly, and training moves every entry off those values, so a head at
exactly that point was never trained. It is exact (no threshold, no text, no sampling) and
costs reading two vectors, where the other signal (the first MLM loss on source text against
ln V) needs the model, text and a threshold, and comes only once a run has started. A weights
file without the head's keys (config.json naming an MLM class over a headless model's weights)
is refused too: transformers would initialise the head. GPT-2's and mBART's heads are only the
output layer, tied to the trained input embeddings, so they have nothing of their own to check.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from harness.core.archs import MODEL_TYPES
from harness.core.registry import UnknownNameError
from harness.models.backbones import (
    BackboneConfig,
    BackboneDeclarationError,
    backbone_spec,
    cached_snapshot,
    hub_pin,
    other_commits_note,
)
from harness.suite.schema import BackboneDecl, looks_like_path

if TYPE_CHECKING:
    from harness.core.graph import Stage
    from harness.suite.schema import Suite

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model",
                   "vocab.txt", "vocab.json")
#: The LM class to save a checkpoint from, per family (what the error suggests).
LM_CLASSES = {"xlmr": "XLMRobertaForMaskedLM", "bert": "BertForMaskedLM", "gpt2": "GPT2LMHeadModel",
              "mbart": "MBartForConditionalGeneration"}
#: Per masked-LM family, the names its head's LayerNorm (weight, bias) may be saved under (older
#: BERT checkpoints say gamma/beta).
MLM_HEAD_NORMS = {
    "xlmr": (("lm_head.layer_norm.weight", "lm_head.layer_norm.bias"),),
    "bert": (("cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias"),
             ("cls.predictions.transform.LayerNorm.gamma", "cls.predictions.transform.LayerNorm.beta")),
}
CANNOT_SERVE = ("A checkpoint without a trained MLM head cannot serve: language adapters are trained "
                "through the backbone's pretrained head, which stays frozen, and a random one trains "
                "them against noise")
SAVE_HINT = ("a directory written by save_pretrained of the model and its tokenizer, e.g. "
             "`huggingface-cli download ORG/MODEL --local-dir DIR`")


class CheckpointError(ValueError):
    """A checkpoint the harness cannot train on; the message names the file and the fix."""


def backbone_problems(backbones: Iterable[BackboneDecl]) -> list[str]:
    """One message per unusable backbone entry, prefixed by its suite key and name."""
    problems = []
    for index, decl in enumerate(backbones):
        try:
            _check_decl(decl)
        except UnknownNameError as error:
            problems.append(f"backbones.{index}: {error}. A backbone of your own is declared "
                            f"with its weights and family: {{name: {decl.name}, pretrained: DIR "
                            f"or ORG/MODEL, arch: {' | '.join(MODEL_TYPES)}}}")
        except (BackboneDeclarationError, CheckpointError) as error:
            problems.append(f"backbones.{index} ({decl.name}): {error}")
    return problems


def _check_decl(decl: BackboneDecl) -> None:
    spec = backbone_spec(decl.name, decl.arch, decl.pretrained)
    if decl.pretrained is None:
        return
    if spec.tiny:
        raise BackboneDeclarationError("a tiny backbone is built from the source corpus and takes "
                                       "no 'pretrained:'; drop it, or declare your checkpoint under "
                                       "another name with 'arch:'")
    if looks_like_path(decl.pretrained, Path.cwd()):
        check_checkpoint(Path(decl.pretrained), spec.arch)
    else:
        cached = _cached_hub_config(decl.pretrained, hub_pin(spec, decl.pretrained))
        if cached is not None:
            check_config(cached, spec.arch)


def check_checkpoint(path: Path, arch: str) -> None:
    """Raise :class:`CheckpointError` unless ``path`` is a usable checkpoint of family ``arch``."""
    if not path.exists():
        raise CheckpointError(f"pretrained: {path} does not exist (relative paths are read from "
                              f"the suite file's directory); it must be {SAVE_HINT}")
    if not path.is_dir():
        raise CheckpointError(f"pretrained: {path} is a file; it must be {SAVE_HINT}")
    if not any(path.iterdir()):
        raise CheckpointError(f"pretrained: {path} is an empty directory; it must be {SAVE_HINT}")
    if not (path / CONFIG_FILE).is_file():
        raise CheckpointError(f"{path / CONFIG_FILE} is missing: {path} is not {SAVE_HINT}")
    check_config(path / CONFIG_FILE, arch)
    for kind, names in (("weights", WEIGHT_FILES), ("tokenizer", TOKENIZER_FILES)):
        if not any((path / name).is_file() for name in names):
            raise CheckpointError(f"{path} has no {kind} file (one of {', '.join(names)}); "
                                  f"it must be {SAVE_HINT}")
    check_mlm_head(path, arch)


def check_config(config_file: Path, arch: str) -> None:
    """``model_type`` is ``arch``'s and the first ``architectures`` entry has an LM head."""
    try:
        config = json.loads(Path(config_file).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{config_file}: not a JSON config ({error})") from None
    model_type = config.get("model_type")
    if model_type != MODEL_TYPES[arch]:
        raise CheckpointError(
            f"{config_file}: model_type {model_type!r} does not match 'arch: {arch}', whose "
            f"checkpoints have model_type {MODEL_TYPES[arch]!r}; fix 'arch:' or 'pretrained:'")
    architectures = config.get("architectures") or []
    if not architectures or not has_lm_head(architectures[0]):
        raise CheckpointError(
            f"{config_file}: architectures {architectures} has no language-modelling head. "
            f"{CANNOT_SERVE}. Loading this model into {LM_CLASSES[arch]} and saving it gives a "
            f"random head (refused too); use a checkpoint published with its trained head, "
            f"as {LM_CLASSES[arch]} saves it")


def check_mlm_head(path: Path, arch: str) -> None:
    """Raise :class:`CheckpointError` when ``path``'s masked-LM head is missing or never trained.

    See the module docstring for why the head's LayerNorm at exactly (1, 0) is the test.
    """
    candidates = MLM_HEAD_NORMS.get(arch)
    if not candidates:
        return
    stored = stored_tensors(path, [name for pair in candidates for name in pair])
    found = next((pair for pair in candidates if all(name in stored for name in pair)), None)
    if found is None:
        raise CheckpointError(
            f"{path}: the weights hold no MLM head ({candidates[0][0]} is not among them), so "
            f"transformers would initialise one at random. {CANNOT_SERVE}")
    weight, bias = (stored[name] for name in found)
    if bool((weight == 1).all()) and bool((bias == 0).all()):
        raise CheckpointError(
            f"{path}: the MLM head was never trained ({found[0]} is all 1 and its bias all 0, "
            f"the values of a new LayerNorm), as when a headless encoder (BertModel, an e5- or "
            f"LaBSE-style model) is loaded into {LM_CLASSES[arch]} and saved. {CANNOT_SERVE}; "
            f"use a checkpoint published with its MLM head")


def stored_tensors(path: Path, names: list[str]) -> dict:
    """Those of ``names`` that the checkpoint ``path`` stores, as tensors, read without the model.

    Reads ``model.safetensors`` (or its shards) lazily, tensor by tensor, else
    ``pytorch_model.bin`` (or its shards) memory-mapped.

    Raises:
        CheckpointError: a weights file that cannot be read (truncated, not a weights file).
    """
    for weights, index in (("model.safetensors", "model.safetensors.index.json"),
                           ("pytorch_model.bin", "pytorch_model.bin.index.json")):
        if (path / index).is_file():
            weight_map = json.loads((path / index).read_text(encoding="utf-8"))["weight_map"]
            files = {name: path / weight_map[name] for name in names if name in weight_map}
        elif (path / weights).is_file():
            files = {name: path / weights for name in names}
        else:
            continue
        stored = {}
        for file in sorted(set(files.values())):
            stored.update(_read_weights(file, [name for name in names if files.get(name) == file]))
        return stored
    return {}


def _read_weights(file: Path, names: list[str]) -> dict:
    """The tensors (float32) of those of ``names`` stored in one weights file."""
    from safetensors import safe_open

    try:
        if file.suffix == ".safetensors":
            with safe_open(str(file), framework="pt") as handle:
                present = set(handle.keys())
                return {name: handle.get_tensor(name).float() for name in names if name in present}
        state = _load_state(file)
    except Exception as error:  # noqa: BLE001 - safetensors and torch raise many kinds for a bad file
        raise CheckpointError(f"{file}: not a readable weights file ({error}); it must be "
                              f"{SAVE_HINT}") from None
    return {name: state[name].float() for name in names if name in state}


def _load_state(file: Path) -> dict:
    """A ``pytorch_model.bin`` state dict, memory-mapped (read whole if written before zip files)."""
    import torch

    try:
        return torch.load(file, map_location="cpu", mmap=True, weights_only=True)
    except RuntimeError:  # legacy (pre-1.6) serialisation cannot be memory-mapped
        return torch.load(file, map_location="cpu", weights_only=True)


def has_lm_head(architecture: str) -> bool:
    """Whether adapters converts ``architecture``'s head into an LM flex head."""
    from adapters.head_utils import STATIC_TO_FLEX_HEAD_MAP

    from harness.models.loading import LM_HEAD_TYPES

    head = STATIC_TO_FLEX_HEAD_MAP.get(architecture, {}).get("config", {})
    return head.get("head_type") in LM_HEAD_TYPES


def _cached_hub_config(hub_id: str, revision: str | None = None) -> Path | None:
    """config.json of ``hub_id`` (at commit ``revision``) in the local Hugging Face cache, if there."""
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        cached = try_to_load_from_cache(hub_id, CONFIG_FILE, revision=revision)
    except HFValidationError as error:
        raise CheckpointError(f"pretrained: {hub_id!r} is neither a path (start it with ./ to read "
                              f"it next to the suite file) nor a hub id ({error})") from None
    return Path(cached) if isinstance(cached, str) else None


def unavailable_backbones(suite: Suite, stages: Iterable[Stage]) -> list[tuple[str, str, str]]:
    """(suite key, backbone@commit, why) for each hub backbone of ``stages`` not readable here.

    The key is ``backbones.<index>`` of the suite's entry. Tiny backbones (built here) and local
    checkpoints (checked with the names) need nothing. See the module docstring.
    """
    missing, seen = [], set()
    names = [decl.name for decl in suite.backbones]
    for stage in stages:
        config = stage.config
        if not isinstance(config, BackboneConfig) or config.name in seen:
            continue
        seen.add(config.name)
        spec = config.spec()
        model = config.pretrained or spec.hub_id
        if spec.tiny or model is None or Path(model).is_dir():
            continue
        index = names.index(config.name) if config.name in names else None
        key = f"backbones.{index}" if index is not None else f"backbones ({config.name})"
        revision = hub_pin(spec, config.pretrained)
        if revision is None and config.pretrained is None:
            logger.warning("%s: backbone %r is not pinned (%s): it is read at the hub's default "
                           "branch, which can move", key, model, spec.evidence or "no reason recorded")
        reason = backbone_unreadable(model, revision)
        if reason:
            missing.append((key, f"{model}@{revision[:7]}" if revision else model, reason))
    return missing


def backbone_unreadable(model: str, revision: str | None) -> str | None:
    """Why hub backbone ``model`` (at ``revision``) cannot be read here, or None when it can.

    The reason is short (``HF_HUB_OFFLINE is set``, the hub client's error class), followed by
    the commits the cache holds instead when it holds only others.
    """
    from huggingface_hub import try_to_load_from_cache

    from harness.data.hub import offline_reason

    if revision is not None and cached_snapshot(model, revision) is not None:
        return None
    if revision is None and isinstance(try_to_load_from_cache(model, CONFIG_FILE), str):
        return None
    reason = offline_reason()
    if reason is None:
        from huggingface_hub import HfApi

        try:
            HfApi().model_info(model, revision=revision, timeout=10)
            return None
        except Exception as error:  # noqa: BLE001 - any failure means: not readable from here
            reason = type(error).__name__
    return f"{reason}{other_commits_note(model, revision)}"
