"""The KL term of UniBridge's language-adaptation loss (PAPER.md Eq. 9), as pure functions.

Example::

    loss = mlm_loss + beta * kl_term(student_states, student_mask, teacher_states, teacher_mask)

How hidden states become distributions (the paper is silent; PAPER.md "KL term" default): each
sentence's last hidden states are mean-pooled over its non-padding tokens (the two models read
different tokenizations, so positions cannot be matched) and a softmax over the hidden dimension
turns the pooled vector into a distribution. The loss is D_KL(π_UniBridge ‖ π_PLM) as written
(``kl_form: kl``, :func:`pooled_kl`).

``kl_form: authors_kl_div`` (:func:`pooled_authors_kl_div`) is the expression of the authors'
code instead (xlm/UniBridge/MLM/pl_wrapper.py:61-67 at 6a38462): ``-F.kl_div(p_U, p_PLM,
reduction="batchmean")`` with both arguments *probabilities*, where ``F.kl_div`` expects
log-probabilities as its first. It equals −(1/B) Σ_b Σ_h p_PLM(h) (log p_PLM(h) − p_U(h)) =
(1/B) Σ_b [H(p_PLM) + Σ_h p_PLM(h) p_U(h)]: not a divergence (not 0 for equal distributions:
1/d + log d for two uniform ones over d dimensions), and its gradient, (1/B) p_PLM(h) with
respect to p_U(h), lowers p_U where the teacher's mass is — away from π_PLM, not towards it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from torch import Tensor


def mean_pool(hidden: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``hidden`` [batch, length, dim] over positions where ``mask`` [batch, length] is 1."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def pooled_kl(student_pooled: Tensor, teacher_pooled: Tensor) -> Tensor:
    """D_KL(π_UniBridge ‖ π_PLM) of pooled states [batch, dim], averaged over the batch.

    π = softmax over the hidden dimension, computed in float32. ``F.kl_div(input, target)``
    is KL(target ‖ exp(input)), so π_PLM's log-probabilities are the input and π_UniBridge the
    target: Σ_h π_U(h) (log π_U(h) − log π_PLM(h)), summed over h, mean over sentences.
    """
    import torch.nn.functional as F

    log_student = F.log_softmax(student_pooled.float(), dim=-1)
    log_teacher = F.log_softmax(teacher_pooled.float(), dim=-1)
    return F.kl_div(log_teacher, log_student, reduction="batchmean", log_target=True)


def pooled_authors_kl_div(student_pooled: Tensor, teacher_pooled: Tensor) -> Tensor:
    """The authors' KL term of pooled states [batch, dim] (module docstring), in float32.

    ``F.kl_div(input, target, reduction="batchmean")`` with ``input = softmax(student)`` and
    ``target = softmax(teacher)``, negated: −Σ_h target·(log target − input) / batch.
    """
    import torch.nn.functional as F

    student = F.softmax(student_pooled.float(), dim=-1)
    teacher = F.softmax(teacher_pooled.float(), dim=-1)
    return -F.kl_div(student, teacher, reduction="batchmean")


#: The KL term's expressions: the paper's divergence, or the authors' code's (module docstring).
KLForm = Literal["kl", "authors_kl_div"]
KL_FORMS = {"kl": pooled_kl, "authors_kl_div": pooled_authors_kl_div}


def kl_term(student_hidden: Tensor, student_mask: Tensor, teacher_hidden: Tensor,
            teacher_mask: Tensor) -> Tensor:
    """Eq. 9's KL(π_UniBridge(h|x) ‖ π_PLM(h|x)) for one batch of sentences.

    Args:
        student_hidden: [batch, student length, dim] π_UniBridge states (last hidden state after
            the invertible adapter's inverse).
        student_mask: [batch, student length], 1 for real tokens, 0 for padding.
        teacher_hidden: [batch, teacher length, dim] last hidden state of the frozen backbone
            reading the same sentences with its own tokenizer.
        teacher_mask: [batch, teacher length].

    Returns:
        Scalar: Σ_h p_U(h) log(p_U(h) / p_PLM(h)) averaged over the batch, where p = softmax
        over the hidden dimension of the sentence's mean-pooled states.
    """
    return pooled_kl(mean_pool(student_hidden, student_mask), mean_pool(teacher_hidden, teacher_mask))
