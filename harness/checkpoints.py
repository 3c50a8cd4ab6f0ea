"""Checks of a suite's backbone entries before anything runs: names, families, checkpoints.

Example::

    problems = backbone_problems(suite.backbones)   # ["backbones.0 (my-xlmr): ...", ...]
    check_checkpoint(Path("ckpt/"), "xlmr")          # raises CheckpointError naming the file

A local checkpoint must be what ``save_pretrained`` writes for a model *with its LM head*:
config.json (whose ``model_type`` matches the declared family and whose first
``architectures`` entry is an LM class that adapters turns into a flex head), weights and
tokenizer files. A checkpoint without an LM head (``BertModel``) is refused rather than given a
fresh head: language adapters are trained through the backbone's pretrained, frozen LM head
(MAD-X), and a random one would train them against noise (docs/choices.md). A hub id is checked
the same way when its config.json is already in the local Hugging Face cache; otherwise the
backbone stage checks that it can be downloaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from harness.archs import MODEL_TYPES
from harness.backbones import BackboneDeclarationError, backbone_spec
from harness.registry import UnknownNameError
from harness.suite import BackboneDecl, looks_like_path

CONFIG_FILE = "config.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model",
                   "vocab.txt", "vocab.json")
#: The LM class to save a checkpoint from, per family (what the error suggests).
LM_CLASSES = {"xlmr": "XLMRobertaForMaskedLM", "bert": "BertForMaskedLM", "gpt2": "GPT2LMHeadModel",
              "mbart": "MBartForConditionalGeneration"}
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
        cached = _cached_hub_config(decl.pretrained)
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
            f"{config_file}: architectures {architectures} has no language-modelling head, which "
            f"language adapters are trained through; save the checkpoint from {LM_CLASSES[arch]} "
            f"(e.g. {LM_CLASSES[arch]}.from_pretrained(...).save_pretrained(DIR))")


def has_lm_head(architecture: str) -> bool:
    """Whether adapters converts ``architecture``'s head into an LM flex head."""
    from adapters.head_utils import STATIC_TO_FLEX_HEAD_MAP

    from harness.models import LM_HEAD_TYPES

    head = STATIC_TO_FLEX_HEAD_MAP.get(architecture, {}).get("config", {})
    return head.get("head_type") in LM_HEAD_TYPES


def _cached_hub_config(hub_id: str) -> Path | None:
    """config.json of ``hub_id`` in the local Hugging Face cache, when it is there."""
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        cached = try_to_load_from_cache(hub_id, CONFIG_FILE)
    except HFValidationError as error:
        raise CheckpointError(f"pretrained: {hub_id!r} is neither a path (start it with ./ to read "
                              f"it next to the suite file) nor a hub id ({error})") from None
    return Path(cached) if isinstance(cached, str) else None
