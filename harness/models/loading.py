"""Models with adapters: loading, per-language embeddings, language adapters, hidden states.

Example::

    model = load_adapter_model(pretrained_path(backbone_artifact))   # flex heads, LM head "default"
    tokenizer = load_language(model, target_artifact, "amh")         # embeddings + adapter "amh"
    model.set_active_adapters("amh")
    states = language_states(model, batch["input_ids"], batch["attention_mask"])
    heads = language_states(model, batch["input_ids"], batch["attention_mask"], "head_input")

Every model is an adapters ``AutoAdapterModel``: one class per architecture with flexible heads,
so the same object trains a language adapter with the backbone's own LM head (converted from
the checkpoint's static head, named ``default``) and, later, task adapters with task heads.

Several languages' embedding matrices live in one model through the adapters embeddings
registry (``loaded_embeddings``, switched with ``set_active_embeddings(name)``; the backbone's
own matrix is ``"default"``). :func:`install_target_embeddings` builds the new module itself
rather than with ``add_embeddings``, because ``add_embeddings`` makes a plain ``nn.Embedding``
and would drop mBART's √d embedding scale.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from harness.core.manifest import load_tensors

if TYPE_CHECKING:
    from adapters import SeqBnInvConfig
    from torch import Tensor, nn
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

TOKENIZER_DIR = "tokenizer"
EMBEDDINGS_FILE = "embeddings.pt"
ADAPTER_DIR = "adapter"
LM_HEAD_TYPES = ("masked_lm", "causal_lm", "seq2seq_lm")
#: The readings of π_UniBridge (PAPER.md Eq. 9 and Eqs. 10-11; docs/choices.md):
#: ``last_layer`` (default) the inverse invertible adapter of the last layer's output, at the
#: place of π_PLM; ``head_input`` the tensor the LM head's own forward feeds its output layer;
#: ``raw_last_layer`` the last layer's output as it is, without the inverse (the authors' code:
#: ``hidden_states[-1]`` of the adapter model, xlm/UniBridge/MLM/pl_wrapper.py:65 at 6a38462;
#: docs/fidelity.md, stage 3).
PiReading = Literal["last_layer", "head_input", "raw_last_layer"]
LAST_LAYER: PiReading = "last_layer"
HEAD_INPUT: PiReading = "head_input"
RAW_LAST_LAYER: PiReading = "raw_last_layer"


#: MLM output biases that adapters 1.3.0's static-to-flex head conversion misses: it maps
#: ``lm_head.decoder.bias``, but transformers 4.57 checkpoints keep only the tied ``lm_head.bias``.
_MLM_BIAS_KEYS = {
    "XLMRobertaForMaskedLM": r"^lm_head\.bias$",
    "RobertaForMaskedLM": r"^lm_head\.bias$",
    "BertForMaskedLM": r"^cls\.predictions\.bias$",
}


def load_adapter_model(pretrained: str) -> PreTrainedModel:
    """An ``AutoAdapterModel`` of ``pretrained`` with the checkpoint's LM head as head ``default``.

    Args:
        pretrained: a checkpoint directory or hub id (see :func:`harness.models.backbones.pretrained_path`).
    """
    from adapters import AutoAdapterModel
    from transformers import AutoConfig

    architectures = AutoConfig.from_pretrained(pretrained).architectures or []
    key_mapping = {_MLM_BIAS_KEYS[name]: "heads.default.3.bias"
                   for name in architectures[:1] if name in _MLM_BIAS_KEYS}
    return AutoAdapterModel.from_pretrained(pretrained, key_mapping=key_mapping or None)


def load_backbone_tokenizer(pretrained: str) -> PreTrainedTokenizerBase:
    """The backbone's tokenizer, with ``eos`` as padding where it has none (GPT-2 convention)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(pretrained)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def num_layers(model: PreTrainedModel) -> int:
    """Transformer layers in adapters' numbering (encoder then decoder for encoder-decoders)."""
    config = model.config
    if config.is_encoder_decoder:
        return config.encoder_layers + config.decoder_layers
    return config.num_hidden_layers


def language_adapter_config(model: PreTrainedModel, reduction_factor: int = 2,
                            inv_reduction_factor: int = 2) -> SeqBnInvConfig:
    """MAD-X language adapter with an invertible adapter, none in the last transformer layer.

    For mBART the last layer is the decoder's last (the one feeding the LM head), as MAD-X
    leaves out the layer just below its MLM head.
    """
    from adapters import SeqBnInvConfig

    return SeqBnInvConfig(reduction_factor=reduction_factor,
                          inv_adapter_reduction_factor=inv_reduction_factor,
                          leave_out=[num_layers(model) - 1])


def install_target_embeddings(model: PreTrainedModel, target_tokenizer: PreTrainedTokenizerBase,
                              embeddings: Tensor, name: str) -> None:
    """Register ``embeddings`` (stage 2's E^T) under ``name`` and make them active.

    The module keeps the backbone's embedding class (mBART's scaled embedding included) and
    ``target_tokenizer``'s padding index. LM heads are re-tied to the new matrix (their output
    layer shares its weight, as the backbones' heads are tied to their input embeddings); their
    output bias restarts at zero for the new vocabulary and stays frozen. Switching embeddings
    later with ``set_active_embeddings`` does not re-tie the LM heads; task heads do not use them.

    Raises:
        ValueError: if the matrix does not match the tokenizer or the hidden size, or ``name``
            is taken.
    """
    from torch import nn

    current = model.get_input_embeddings()
    rows, dim = embeddings.shape
    if rows != len(target_tokenizer) or dim != current.embedding_dim:
        raise ValueError(f"embeddings {tuple(embeddings.shape)} do not fit a tokenizer of "
                         f"{len(target_tokenizer)} tokens and hidden size {current.embedding_dim}")
    if name in model.loaded_embeddings:
        raise ValueError(f"embeddings {name!r} are already installed")
    extra = {"embed_scale": current.embed_scale} if hasattr(current, "embed_scale") else {}
    module = type(current)(rows, dim, target_tokenizer.pad_token_id, **extra)
    module.weight = nn.Parameter(embeddings.detach().to(current.weight).clone(),
                                 requires_grad=False)
    model.loaded_embeddings[name] = module
    model.set_active_embeddings(name)
    tie_lm_heads(model)


def tie_lm_heads(model: PreTrainedModel) -> None:
    """Point every LM head's output layer at the active input embedding matrix."""
    import torch
    from torch import nn

    embedding = model.get_input_embeddings()
    for head in getattr(model, "heads", {}).values():
        if head.config["head_type"] not in LM_HEAD_TYPES:
            continue
        old = head.get_output_embeddings()
        if old.weight is embedding.weight:
            continue
        output = nn.Linear(embedding.embedding_dim, embedding.num_embeddings,
                           bias=old.bias is not None).to(embedding.weight.device)
        output.weight = embedding.weight
        if output.bias is not None:
            output.bias = nn.Parameter(torch.zeros_like(output.bias), requires_grad=False)
        head.set_output_embeddings(output)
        head.config["vocab_size"] = embedding.num_embeddings


def load_language(model: PreTrainedModel, artifact: Path, name: str) -> PreTrainedTokenizerBase:
    """Load a ``language_adapter`` artifact into ``model`` under ``name``.

    Installs its embeddings (when it has its own vocabulary; otherwise the backbone's
    ``default`` embeddings are made active) and loads its language + invertible adapter as
    adapter ``name``, without activating it (callers compose their adapter setups).

    Returns:
        The tokenizer to encode this language's text with.
    """
    from transformers import AutoTokenizer

    artifact = Path(artifact)
    tokenizer = AutoTokenizer.from_pretrained(artifact / TOKENIZER_DIR)
    if (artifact / EMBEDDINGS_FILE).is_file():
        matrix = load_tensors(artifact / EMBEDDINGS_FILE)
        install_target_embeddings(model, tokenizer, matrix, name)
    else:
        model.set_active_embeddings("default")
    model.load_adapter(str(artifact / ADAPTER_DIR), load_as=name, set_active=False)
    return tokenizer


def encoder(model: PreTrainedModel) -> nn.Module:
    """The module whose last hidden state represents a sentence (mBART: its encoder)."""
    base = model.base_model
    return base.get_encoder() if model.config.is_encoder_decoder else base


def last_hidden_state(model: PreTrainedModel, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    """Output of the last transformer layer (mBART: of the encoder), with the active setup."""
    return encoder(model)(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def invert(model: PreTrainedModel, hidden: Tensor) -> Tensor:
    """The active invertible adapter's inverse applied to ``hidden`` (identity without one)."""
    inverse = model.base_model.get_invertible_adapter()
    return hidden if inverse is None else inverse(hidden, rev=True)


def lm_head(model: PreTrainedModel) -> nn.Module:
    """The model's one language-modelling head (``default`` after :func:`load_adapter_model`)."""
    heads = [head for head in getattr(model, "heads", {}).values()
             if head.config["head_type"] in LM_HEAD_TYPES]
    if len(heads) != 1:
        raise ValueError(f"expected one language-modelling head, found {len(heads)}")
    return heads[0]


def head_transform(model: PreTrainedModel, hidden: Tensor) -> Tensor:
    """The LM head's layers before its output layer, applied to ``hidden``.

    XLM-R and mBERT: dense → GELU → LayerNorm; mGPT and mBART: none (their heads are only the
    output layer), so ``hidden`` comes back unchanged.
    """
    head = lm_head(model)
    for index in range(len(head) - 1):
        hidden = head[index](hidden)
    return hidden


def head_input(model: PreTrainedModel, hidden: Tensor) -> Tensor:
    """What the LM head feeds its output layer: :func:`head_transform`, then the inverse adapter.

    ``hidden`` is the tensor the head reads (:func:`lm_last_hidden_state`), as in adapters'
    ``CausalLMHead.forward``, which every LM head of the library inherits.
    """
    return invert(model, head_transform(model, hidden))


def decoder_inputs(input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    """The teacher-forced decoder input of mBART: the last real token first, then the input shifted.

    ``shift_tokens_right`` of transformers (right padding), with the last real token found from
    the mask rather than by counting a padding id (a target tokenizer may pad with another id).
    """
    import torch

    last = (attention_mask.sum(dim=1) - 1).clamp(min=0).unsqueeze(-1)
    return torch.cat([input_ids.gather(1, last), input_ids[:, :-1]], dim=1)


def lm_last_hidden_state(model: PreTrainedModel, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    """The states the LM head reads: the last layer's output; for mBART the decoder's.

    mBART's decoder reads the sentence teacher-forced (:func:`decoder_inputs`), as its
    denoising objective and its own forward without ``decoder_input_ids`` do; decoder position
    i predicts token i, so the encoder's attention mask marks the positions predicting real tokens.
    """
    if not model.config.is_encoder_decoder:
        return last_hidden_state(model, input_ids, attention_mask)
    return model.base_model(input_ids=input_ids, attention_mask=attention_mask,
                            decoder_input_ids=decoder_inputs(input_ids, attention_mask)
                            ).last_hidden_state


def language_states(model: PreTrainedModel, input_ids: Tensor, attention_mask: Tensor,
                    reading: PiReading = LAST_LAYER) -> Tensor:
    """π_UniBridge states [batch, length, hidden] (PAPER.md Eq. 9, Eqs. 10-13).

    ``last_layer``: the last hidden state (mBART: the encoder's), then the inverse adapter.
    ``head_input``: :func:`head_input` of :func:`lm_last_hidden_state`, the LM head's own
    output-layer input. ``raw_last_layer``: the last hidden state (mBART: the encoder's) as it
    is. Computed with whatever embeddings and adapters are active.
    """
    if reading == LAST_LAYER:
        return invert(model, last_hidden_state(model, input_ids, attention_mask))
    if reading == RAW_LAST_LAYER:
        return last_hidden_state(model, input_ids, attention_mask)
    if reading == HEAD_INPUT:
        return head_input(model, lm_last_hidden_state(model, input_ids, attention_mask))
    raise ValueError(f"unknown π_UniBridge reading {reading!r} (last_layer, head_input, "
                     f"raw_last_layer)")


def output_states(model: PreTrainedModel, outputs, reading: PiReading) -> Tensor:
    """π_UniBridge states from the outputs of a full forward pass (with hidden states).

    The same tensors as :func:`language_states`, read off a training forward pass: for
    ``head_input`` the states the LM head received (mBART: the decoder's last).
    """
    encoder_decoder = model.config.is_encoder_decoder
    if reading in (LAST_LAYER, RAW_LAST_LAYER):
        hidden = outputs.encoder_last_hidden_state if encoder_decoder else outputs.hidden_states[-1]
        return invert(model, hidden) if reading == LAST_LAYER else hidden
    if reading == HEAD_INPUT:
        hidden = outputs.decoder_hidden_states[-1] if encoder_decoder else outputs.hidden_states[-1]
        return head_input(model, hidden)
    raise ValueError(f"unknown π_UniBridge reading {reading!r} (last_layer, head_input, "
                     f"raw_last_layer)")
