"""Backbones: the paper's four pretrained models and tiny random stand-ins of the same architectures.

Example::

    spec = BACKBONES.get("tiny-xlmr")
    build_tiny_backbone(spec, corpus_lines, Path("tiny-xlmr/"), seed=1)
    AutoModelForMaskedLM.from_pretrained("tiny-xlmr/")       # loads like any checkpoint

    stage = BackboneStage(backbone_config(spec), corpus=source_corpus_stage)
    pretrained_path(artifact)           # ".../model" for a tiny backbone; a pinned hub backbone:
                                        # the cache's folder of its commit; else the hub id

The paper's backbones are hub ids: ``xlm-roberta-base``, ``bert-base-multilingual-cased``,
``mgpt`` (ai-forever/mGPT) and ``mbart``. For mBART the paper cites Liu et al. (2020), the
25-language model, so ``mbart`` is ``facebook/mbart-large-cc25`` (mbart-large-50 is Tang et al.).
A suite may point any backbone at a local checkpoint directory instead (``pretrained:``), which
is what an offline machine needs, or declare one the registry does not hold, with its
architecture family: :func:`backbone_spec` makes its spec when the suite is planned, and the
registry is never changed (a declared name that is a registered one must keep its family).

Tiny backbones have the same model classes (XLMRobertaForMaskedLM, BertForMaskedLM,
GPT2LMHeadModel, MBartForConditionalGeneration) with 2 layers, hidden size 32 and a tokenizer
of the same family trained deterministically on the source-language corpus
(:mod:`harness.models.tiny_tokenizers`): SentencePiece unigram for XLM-R and mBART, cased WordPiece for
mBERT, byte-level BPE for mGPT. They make every code path testable in
seconds; their scores mean nothing.

Pins. Each registered hub backbone is read at one commit (``BackboneSpec.revision``, with its
public evidence: docs/data.md): :func:`pretrained_path` hands every reader the Hugging Face
cache's folder of that commit (:func:`pinned_snapshot`), so that no ``from_pretrained`` reads the
default branch, and a cached snapshot of another commit is refused (it is not the pin's folder).
A suite's ``pretrained:`` (a local directory, or another hub id) is never pinned.

The registry and :class:`BackboneSpec` live in :mod:`harness.models.backbone_specs` (light, for
``list``) and are re-exported here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field

from harness.core.archs import Arch
from harness.core.config import StrictConfig, added_option
from harness.core.graph import Stage, StageContext
from harness.core.workdir import atomic_write_text
from harness.models.backbone_specs import BACKBONES as BACKBONES
from harness.models.backbone_specs import CAUSAL_ARCHS as CAUSAL_ARCHS
from harness.models.backbone_specs import BackboneSpec as BackboneSpec

log = logging.getLogger(__name__)

BACKBONE_FILE = "backbone.json"
MODEL_DIR = "model"
CORPUS_FILE = "corpus.txt"  # as harness.stages.corpus writes it
#: Files of other frameworks than torch, which ``from_pretrained`` of a torch model never reads.
OTHER_FRAMEWORKS = ("*.h5", "*.msgpack", "*.onnx", "*.ot", "*.tflite", "tf_model*", "flax_model*",
                    "rust_model*", "onnx/*", "coreml/*", "openvino/*")
#: Sizes of every tiny backbone: small enough for CPU tests, deep enough for MAD-X's layout.
TINY_HIDDEN, TINY_LAYERS, TINY_HEADS, TINY_INTERMEDIATE, TINY_POSITIONS = 32, 2, 2, 64, 258


class BackboneUnavailableError(RuntimeError):
    """A hub backbone that cannot be loaded here; the message says how to use a local copy."""


class BackboneDeclarationError(ValueError):
    """A suite's backbone entry that contradicts the registry; the message says what to change."""


def tiny_model_config(arch: Arch, tokenizer) -> Any:
    """The transformers config of a tiny ``arch`` model whose vocabulary is ``tokenizer``'s."""
    from transformers import BertConfig, GPT2Config, MBartConfig, XLMRobertaConfig

    vocab = len(tokenizer)
    common = dict(vocab_size=vocab, pad_token_id=tokenizer.pad_token_id)
    if arch in ("xlmr", "bert"):
        cls = XLMRobertaConfig if arch == "xlmr" else BertConfig
        extra = dict(bos_token_id=0, eos_token_id=2) if arch == "xlmr" else {}
        return cls(hidden_size=TINY_HIDDEN, num_hidden_layers=TINY_LAYERS,
                   num_attention_heads=TINY_HEADS, intermediate_size=TINY_INTERMEDIATE,
                   max_position_embeddings=TINY_POSITIONS, type_vocab_size=2 if arch == "bert" else 1,
                   **common, **extra)
    if arch == "gpt2":
        eos = tokenizer.eos_token_id
        return GPT2Config(n_embd=TINY_HIDDEN, n_layer=TINY_LAYERS, n_head=TINY_HEADS,
                          n_inner=TINY_INTERMEDIATE, n_positions=TINY_POSITIONS,
                          bos_token_id=eos, eos_token_id=eos, **common)
    return MBartConfig(d_model=TINY_HIDDEN, encoder_layers=TINY_LAYERS, decoder_layers=TINY_LAYERS,
                       encoder_attention_heads=TINY_HEADS, decoder_attention_heads=TINY_HEADS,
                       encoder_ffn_dim=TINY_INTERMEDIATE, decoder_ffn_dim=TINY_INTERMEDIATE,
                       max_position_embeddings=TINY_POSITIONS, scale_embedding=True,
                       bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
                       forced_eos_token_id=2, **common)


def build_tiny_backbone(spec: BackboneSpec, corpus: Sequence[str], out_dir: Path, seed: int,
                        vocab_size: int = 2000) -> None:
    """Train a tokenizer on ``corpus``, build a randomly initialised model, save both.

    Args:
        spec: a tiny backbone (``spec.tiny``).
        corpus: source-language text, one sample per item.
        out_dir: receives ``save_pretrained`` of the model and the tokenizer.
        seed: seeds the random initialisation.
        vocab_size: upper bound of the tokenizer vocabulary.
    """
    import torch
    from transformers import (
        BertForMaskedLM,
        GPT2LMHeadModel,
        MBartForConditionalGeneration,
        XLMRobertaForMaskedLM,
    )

    from harness.models.tiny_tokenizers import train_tiny_tokenizer

    if not spec.tiny:
        raise ValueError(f"{spec.name} is a pretrained backbone, not a tiny one")
    classes = {"xlmr": XLMRobertaForMaskedLM, "bert": BertForMaskedLM, "gpt2": GPT2LMHeadModel,
               "mbart": MBartForConditionalGeneration}
    tokenizer = train_tiny_tokenizer(spec.arch, list(corpus), vocab_size)
    torch.manual_seed(seed)
    model = classes[spec.arch](tiny_model_config(spec.arch, tokenizer))
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    log.info("%s: vocab %d, %d parameters", spec.name, len(tokenizer), model.num_parameters())


def backbone_spec(name: str, arch: Arch | None = None, pretrained: str | None = None) -> BackboneSpec:
    """The registered backbone ``name`` or, with ``arch``, the spec of a backbone a suite declares.

    Raises:
        UnknownNameError: ``name`` is not registered and no ``arch`` declares it.
        BackboneDeclarationError: ``name`` is registered as another family than ``arch``.
    """
    if arch is None:
        return BACKBONES.get(name)
    if name not in BACKBONES:
        return BackboneSpec(name, arch, hub_id=pretrained, tiny=False)
    builtin = BACKBONES.get(name)
    if builtin.arch != arch:
        raise BackboneDeclarationError(
            f"{name!r} is a built-in backbone of family {builtin.arch!r}, declared here as "
            f"{arch!r}; give your backbone another name (or drop 'arch:' to load the built-in "
            "from 'pretrained:')")
    return builtin


class BackboneConfig(StrictConfig):
    """Which backbone, and (optionally) a local checkpoint standing in for its hub id.

    ``arch`` is set for a backbone the suite declares (not registered); it is left out of the
    serialised config when unset, so registered backbones keep their cache keys.
    """

    name: str
    pretrained: str | None = None
    vocab_size: int = Field(2000, gt=0, description="tiny backbones: tokenizer size bound")
    arch: Arch | None = added_option(None)

    def spec(self) -> BackboneSpec:
        """The backbone's spec: registered, or made from the declaration."""
        return backbone_spec(self.name, self.arch, self.pretrained)


def backbone_config(spec: BackboneSpec, pretrained: str | None = None) -> BackboneConfig:
    """The stage config of ``spec``, with ``pretrained`` (a local directory) overriding its hub id."""
    if pretrained is not None and spec.tiny:
        raise ValueError(f"{spec.name} is built from the corpus; it takes no 'pretrained' path")
    declared = spec.name not in BACKBONES
    return BackboneConfig(name=spec.name, pretrained=pretrained, arch=spec.arch if declared else None)


class BackboneStage(Stage):
    """Artifact kind ``backbone``: ``backbone.json`` and, for a tiny backbone, ``model/``.

    A tiny backbone needs input ``corpus`` (its tokenizer is trained on ``corpus.txt``).
    """

    kind = "backbone"
    version = 1

    def run(self, ctx: StageContext, inputs: Mapping[str, Path], out: Path) -> None:
        """Build the tiny model, or check that the pretrained one is loadable and point at it."""
        config: BackboneConfig = self.config
        spec = config.spec()
        if spec.tiny:
            lines = (inputs["corpus"] / CORPUS_FILE).read_text(encoding="utf-8").splitlines()
            build_tiny_backbone(spec, [line for line in lines if line.strip()], out / MODEL_DIR,
                                seed=ctx.seed, vocab_size=config.vocab_size)
            pretrained = MODEL_DIR
        else:
            pretrained = config.pretrained or spec.hub_id
            if Path(pretrained).is_dir():
                pretrained = str(Path(pretrained).resolve())
            check_backbone_available(pretrained, hub_pin(spec, config.pretrained))
        record = {"name": spec.name, "arch": spec.arch, "pretrained": pretrained}
        if not spec.tiny and hub_pin(spec, config.pretrained):
            record["revision"] = hub_pin(spec, config.pretrained)
        atomic_write_text(out / BACKBONE_FILE, json.dumps(record, indent=2))

    def summary(self, artifact: Path) -> dict[str, Any]:
        """The backbone's name, architecture and where its weights are."""
        return json.loads((artifact / BACKBONE_FILE).read_text(encoding="utf-8"))


def pretrained_path(artifact: Path) -> str:
    """The ``from_pretrained`` argument of a backbone artifact.

    ``pretrained`` in ``backbone.json`` is a directory relative to the artifact (tiny backbones),
    an absolute directory (a local checkpoint) or a hub id.
    """
    record = json.loads((Path(artifact) / BACKBONE_FILE).read_text(encoding="utf-8"))
    pretrained = record["pretrained"]
    local = Path(artifact) / pretrained
    if local.is_dir():
        return str(local)
    revision = record.get("revision", _registered_pin(record))
    return pinned_snapshot(pretrained, revision) if revision else pretrained


def _registered_pin(record: dict) -> str | None:
    """The registry's pin for an artifact written before pins were recorded (same key)."""
    spec = BACKBONES.get(record["name"]) if record["name"] in BACKBONES else None
    return spec.revision if spec is not None and record["pretrained"] == spec.hub_id else None


def hub_pin(spec: BackboneSpec, pretrained: str | None) -> str | None:
    """The commit ``spec``'s weights are read at, or None.

    Its pin, unless a suite's ``pretrained:`` replaces its hub id (a local path, or another hub
    id: never pinned).
    """
    return spec.revision if pretrained is None or pretrained == spec.hub_id else None


def download_ignores(files: Sequence[str]) -> list[str]:
    """``snapshot_download`` patterns of the files ``from_pretrained`` of a torch model never reads.

    Weights of other frameworks (TensorFlow, Flax, ONNX…), and ``*.bin`` when the repository has
    safetensors (``from_pretrained`` prefers those).
    """
    ignored = list(OTHER_FRAMEWORKS)
    if any(name.endswith(".safetensors") for name in files):
        ignored.append("*.bin")
    return ignored


def hub_cache_root(hub_id: str) -> Path:
    """The Hugging Face hub cache folder of model ``hub_id`` (``models--org--name``)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE) / f"models--{hub_id.replace('/', '--')}"


def cached_snapshot(hub_id: str, revision: str) -> Path | None:
    """The cache's snapshot folder of commit ``revision`` of ``hub_id`` when it holds config.json.

    Only the folder of that very commit counts: the cache keeps one folder per commit
    (``snapshots/<commit>``), and a snapshot of another commit (what ``refs/main`` names after a
    download of the default branch) is another model as far as a pin is concerned.
    """
    snapshot = hub_cache_root(hub_id) / "snapshots" / revision
    return snapshot if (snapshot / "config.json").is_file() else None


def cached_commits(hub_id: str) -> list[str]:
    """The commits whose snapshot folders the cache holds for ``hub_id`` (with config.json), sorted."""
    snapshots = hub_cache_root(hub_id) / "snapshots"
    if not snapshots.is_dir():
        return []
    return sorted(p.name for p in snapshots.iterdir() if (p / "config.json").is_file())


@lru_cache(maxsize=32)
def pinned_snapshot(hub_id: str, revision: str) -> str:
    """A local folder holding commit ``revision`` of ``hub_id``: ``from_pretrained`` reads it as is.

    Every reader of a pinned backbone goes through :func:`pretrained_path`, so that each one reads
    the pinned commit without being told of it (``from_pretrained(folder)`` needs no
    ``revision=``). Online, ``snapshot_download(revision=…)`` completes the cache's folder of that
    commit (only what is missing is downloaded; one question to the hub per process); offline, or
    when the hub cannot be reached, the cache's folder of that commit is used as it is.

    Raises:
        BackboneUnavailableError: the commit is neither cached nor downloadable here.
    """
    from harness.data.hub import offline_reason

    reason = offline_reason()
    if reason is None:
        from huggingface_hub import HfApi, snapshot_download

        try:
            info = HfApi().model_info(hub_id, revision=revision, timeout=10)
            files = [sibling.rfilename for sibling in info.siblings or ()]
            return snapshot_download(hub_id, revision=revision, ignore_patterns=download_ignores(files))
        except Exception as error:  # noqa: BLE001 - any hub failure: fall back to the cache
            reason = f"{type(error).__name__}: {next(iter(str(error).splitlines()), '')}"
    snapshot = cached_snapshot(hub_id, revision)
    if snapshot is not None:
        return str(snapshot)
    raise BackboneUnavailableError(unavailable_message(hub_id, revision, reason))


def unavailable_message(hub_id: str, revision: str | None, reason: str) -> str:
    """Why backbone ``hub_id`` (at ``revision``) cannot be read here, naming another cached commit."""
    at = f" at its pinned commit {revision}" if revision else ""
    return (f"backbone {hub_id!r}{at} is not in the Hugging Face cache and cannot be downloaded "
            f"here ({reason}){other_commits_note(hub_id, revision)}")


def other_commits_note(hub_id: str, revision: str | None) -> str:
    """``; the Hugging Face cache holds commit X, not the pin`` when it holds only other commits."""
    others = [commit for commit in cached_commits(hub_id) if commit != revision] if revision else []
    return (f"; the Hugging Face cache holds commit{'s' if len(others) > 1 else ''} "
            f"{', '.join(others)}, not the pin") if others else ""


def backbone_arch(artifact: Path) -> Arch:
    """The architecture family (``xlmr``, ``bert``, ``gpt2``, ``mbart``) of a backbone artifact."""
    return json.loads((Path(artifact) / BACKBONE_FILE).read_text(encoding="utf-8"))["arch"]


def check_backbone_available(pretrained: str, revision: str | None = None) -> None:
    """Raise :class:`BackboneUnavailableError` unless ``pretrained``'s config can be loaded.

    A local directory must hold ``config.json``; a hub id must be in the local Hugging Face cache
    (at commit ``revision`` when pinned: a snapshot of another commit does not count) or, unless
    ``HF_HUB_OFFLINE`` is set, downloadable (at ``revision``).
    """
    from huggingface_hub import try_to_load_from_cache
    from transformers.utils import cached_file

    from harness.data.hub import offline_reason

    if Path(pretrained).is_dir():
        if not (Path(pretrained) / "config.json").is_file():
            raise BackboneUnavailableError(f"{pretrained} has no config.json: not a checkpoint "
                                           "directory written by save_pretrained")
        return
    if revision is not None and cached_snapshot(pretrained, revision) is not None:
        return
    if revision is None and isinstance(try_to_load_from_cache(pretrained, "config.json"), str):
        return
    reason = offline_reason()
    if reason is None:
        try:
            cached_file(pretrained, "config.json", revision=revision)
            return
        except OSError as error:
            reason = type(error).__name__
    raise BackboneUnavailableError(
        f"{unavailable_message(pretrained, revision, reason)}. Download it where there is network "
        f"(`unibridge-bench fetch SUITE`, or `hf download {pretrained}"
        f"{f' --revision {revision}' if revision else ''} --local-dir DIR`) and point the suite "
        "at the directory: `backbones: [{name: ..., pretrained: DIR}]`.")
