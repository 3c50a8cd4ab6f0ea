"""Task prediction heads (token tagging, sentence-pair classification) for every backbone family.

Example::

    model = load_adapter_model(pretrained)            # an adapters flex-head model
    add_task_head(model, "task_eng", get_task("ner"))  # tagging head with len(labels) outputs
    model.save_adapter(path, "task_eng", with_head=True)
    ...
    register_task_heads(other_model)                   # before load_adapter(path, with_head=True)

Heads come from the adapters library: its ``TaggingHead`` (XLM-R, mBERT, mGPT) and
``ClassificationHead`` (all four families). The library has no tagging head for mBART, so
:class:`EncoderTaggingHead` is registered through the library's own extension point
(``register_custom_head`` / ``add_custom_head``) under the head type ``encoder_tagging``.

Choices:

* mBART tagging reads the **encoder's** last hidden states, as transformers'
  ``T5ForTokenClassification`` does for encoder-decoder models: the encoder sees the whole
  sentence in both directions, as the XLM-R and mBERT encoders do, while a decoder state only
  sees the preceding tokens of its (shifted) input. The decoder still runs (the adapters mBART
  model always runs both), its adapters simply receive no gradient from a tagging loss.
* mBART classification is the library's: the decoder state of the last ``</s>`` token
  (as ``MBartForSequenceClassification``).
* The language-modelling heads that ``AutoAdapterModel`` converts from a ``*ForMaskedLM`` /
  ``*LMHeadModel`` / ``*ForConditionalGeneration`` checkpoint (head ``default``) are removed
  from a task model: a task model never uses them, they would be saved with every checkpoint
  (a 250K-token output layer for XLM-R), and the mBART adapter model picks its classification
  representation by looking at the model's *first* head, so a leading LM head silently makes
  it classify from decoder position 0 instead of ``</s>``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from adapters.heads import TaggingHead
from transformers.modeling_outputs import BaseModelOutput

if TYPE_CHECKING:
    from harness.tasks.specs import TaskSpec

log = logging.getLogger(__name__)

ENCODER_TAGGING = "encoder_tagging"
LM_HEAD_TYPES = frozenset({"masked_lm", "causal_lm", "seq2seq_lm"})


class EncoderTaggingHead(TaggingHead):
    """Token tagging on the encoder states of an encoder-decoder model (mBART).

    Same layers, loss and output as the library's ``TaggingHead``; only its input differs:
    ``encoder_last_hidden_state`` instead of the decoder's ``last_hidden_state``.
    """

    def __init__(self, model, head_name, **kwargs):
        super().__init__(model, head_name, **kwargs)
        self.config["head_type"] = ENCODER_TAGGING  # what a saved head config must name

    def forward(self, outputs, cls_output=None, attention_mask=None, return_dict=False, **kwargs):
        """Tag every encoder position; ``outputs`` is the seq2seq model's output."""
        if not hasattr(outputs, "encoder_last_hidden_state"):
            raise TypeError("EncoderTaggingHead needs the model's ModelOutput (return_dict=True), "
                            f"got {type(outputs).__name__}")
        encoder = BaseModelOutput(
            last_hidden_state=outputs.encoder_last_hidden_state,
            hidden_states=outputs.encoder_hidden_states,
            attentions=outputs.encoder_attentions,
        )
        return super().forward(encoder, None, attention_mask, return_dict, **kwargs)


def register_task_heads(model) -> None:
    """Register the custom heads ``model`` needs to add or load task heads (idempotent).

    Call it before ``load_adapter(..., with_head=True)`` of a task adapter saved from an mBART
    model: the saved head config names the ``encoder_tagging`` type, which a fresh model does not
    know until it is registered.
    """
    if "tagging" not in model.head_types:
        model.register_custom_head(ENCODER_TAGGING, EncoderTaggingHead)


def remove_lm_heads(model) -> None:
    """Delete the model's language-modelling heads (see the module docstring for why)."""
    for name, head in list(model.heads.items()):
        if head.config.get("head_type") in LM_HEAD_TYPES:
            log.debug("removing language-modelling head %r from a task model", name)
            model.delete_head(name)


def add_task_head(model, name: str, task: TaskSpec, overwrite_ok: bool = False) -> None:
    """Add a prediction head ``name`` with one output per label of ``task``.

    Tagging tasks (NER, POS) get a token-level head; pair (NLI) and sentence tasks a sequence
    classifier, which reads the whole input whether it is one text or a pair.
    The model's language-modelling heads are removed first and the new head becomes active.

    Args:
        model: an adapters flex-head model (``XLMRobertaAdapterModel``, ``BertAdapterModel``,
            ``GPT2AdapterModel`` or ``MBartAdapterModel``).
        name: the head's name; give it the task adapter's name so that ``save_adapter`` /
            ``load_adapter(with_head=True)`` and ``set_active_adapters`` find it.
        task: the task (``kind`` and ``labels`` are read).
        overwrite_ok: replace an existing head of the same name.
    """
    remove_lm_heads(model)
    register_task_heads(model)
    id2label = dict(enumerate(task.labels))
    num_labels = len(task.labels)
    if task.kind in ("pair", "sentence"):
        model.add_classification_head(name, num_labels=num_labels, id2label=id2label,
                                      overwrite_ok=overwrite_ok)
    elif task.kind != "tagging":
        raise ValueError(f"unknown task kind {task.kind!r} (expected 'tagging', 'pair' or "
                         "'sentence')")
    elif "tagging" in model.head_types:
        model.add_tagging_head(name, num_labels=num_labels, id2label=id2label,
                               overwrite_ok=overwrite_ok)
    else:
        model.add_custom_head(ENCODER_TAGGING, name, overwrite_ok=overwrite_ok,
                              num_labels=num_labels, id2label=id2label)
