"""Tokenizers of the tiny backbones, trained deterministically with SentencePiece.

Example::

    tokenizer = train_tiny_tokenizer("xlmr", corpus_lines, vocab_size=2000)
    tokenizer("Hello world")["input_ids"]      # <s> ▁Hello ▁world </s>, as XLM-R frames text

Why SentencePiece and not the ``tokenizers`` trainers: the Unigram and WordPiece trainers of
``tokenizers`` iterate Rust hash maps, whose order is seeded afresh in every process, so the same
corpus gave another id order (Unigram: about a quarter of the ids moved) or even another
vocabulary (WordPiece) from run to run, whatever ``RAYON_NUM_THREADS`` said — and every score
downstream moved with it. SentencePiece trained with one thread is reproducible bit for bit.

Per family (the conventions of the real tokenizers):

- XLM-R and mBART: SentencePiece unigram; fairseq's specials ``<s> <pad> </s> <unk> <mask>``
  take ids 0–4, then the pieces in SentencePiece's order, tokenized as SentencePiece does
  (:func:`harness.models.spm.unigram_backend`).
- mBERT: cased WordPiece. The vocabulary comes from a SentencePiece BPE model: a piece with the
  word-boundary marker (``▁hello``) is a word-initial WordPiece token (``hello``), one without it
  a continuation (``##lo``); every character is present in both forms so that no word is
  ``[UNK]``. BERT's specials take ids 0–4.
- mGPT: byte-level BPE from ``tokenizers`` (its trainer starts from the 256 byte symbols and is
  already deterministic: checked by the tests).

``vocab_size`` is the size asked for; SentencePiece raises it to the corpus's required characters
plus its meta pieces when it is smaller (every character must be a piece), and a corpus too
small to fill it yields fewer pieces (``hard_vocab_limit=False``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from tokenizers import AddedToken

from harness.core.archs import Arch

FAIRSEQ_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
GPT2_EOS = "<|endoftext|>"
SPM_MARKER = "\u2581"
_REQUIRED_CHARS = re.compile(r"Vocabulary size is smaller than required_chars\. \d+ vs (\d+)")


def train_spm(corpus: Sequence[str], vocab_size: int, model_type: str) -> bytes:
    """A SentencePiece model (serialized) of ``model_type`` trained with one thread on ``corpus``."""
    try:
        return _train_spm_once(corpus, vocab_size, model_type)
    except RuntimeError as error:
        match = _REQUIRED_CHARS.search(str(error))
        if match is None:
            raise
        return _train_spm_once(corpus, int(match[1]), model_type)


def _train_spm_once(corpus: Sequence[str], vocab_size: int, model_type: str) -> bytes:
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=model, vocab_size=vocab_size,
        model_type=model_type, num_threads=1, hard_vocab_limit=False, character_coverage=1.0,
        max_sentence_length=16384, bos_id=-1, eos_id=-1, minloglevel=2)
    return model.getvalue()


def train_tiny_tokenizer(arch: Arch, corpus: Sequence[str], vocab_size: int):
    """A fast tokenizer of ``arch``'s family and conventions trained on ``corpus`` (see module)."""
    from transformers import MBartTokenizerFast, XLMRobertaTokenizerFast

    if arch == "xlmr":
        return XLMRobertaTokenizerFast(tokenizer_object=_fairseq_unigram(corpus, vocab_size))
    if arch == "mbart":
        return MBartTokenizerFast(tokenizer_object=_fairseq_unigram(corpus, vocab_size))
    if arch == "bert":
        return _wordpiece(corpus, vocab_size)
    return _byte_level_bpe(corpus, vocab_size)


def _fairseq_unigram(corpus: Sequence[str], vocab_size: int):
    from tokenizers import processors

    from harness.models.spm import parse_spm_model, unigram_backend

    spm = parse_spm_model(train_spm(corpus, vocab_size - len(FAIRSEQ_SPECIALS), "unigram"))
    specials = [AddedToken(token, special=True, normalized=False) for token in FAIRSEQ_SPECIALS]
    backend = unigram_backend(spm, specials, "<unk>")
    backend.post_processor = processors.RobertaProcessing(sep=("</s>", 2), cls=("<s>", 0))
    return backend


def wordpiece_vocabulary(pieces: Sequence[str], vocab_size: int) -> list[str]:
    """WordPiece tokens from SentencePiece BPE ``pieces`` (id order), specials first.

    Every character of the pieces comes first in both forms (``c`` and ``##c``); then each piece
    in order, ``▁x`` as ``x`` and ``x`` as ``##x``; duplicates dropped; cut at ``vocab_size``
    unless the characters alone need more.
    """
    chars = sorted({char for piece in pieces for char in piece if char != SPM_MARKER})
    tokens = [piece[1:] if piece.startswith(SPM_MARKER) else "##" + piece for piece in pieces]
    ordered = dict.fromkeys(BERT_SPECIALS + chars + ["##" + c for c in chars]
                            + [t for t in tokens if t not in ("", "##")])
    return list(ordered)[:max(vocab_size, len(BERT_SPECIALS) + 2 * len(chars))]


def _wordpiece(corpus: Sequence[str], vocab_size: int):
    from tokenizers import BertWordPieceTokenizer, processors
    from transformers import BertTokenizerFast

    from harness.models.spm import ORDINARY_TYPES, parse_spm_model

    spm = parse_spm_model(train_spm(corpus, vocab_size, "bpe"))
    pieces = [piece for piece, _, kind in spm.pieces if kind in ORDINARY_TYPES]
    vocab = {token: i for i, token in enumerate(wordpiece_vocabulary(pieces, vocab_size))}
    backend = BertWordPieceTokenizer(vocab, lowercase=False, strip_accents=False)._tokenizer
    backend.post_processor = processors.BertProcessing(
        ("[SEP]", backend.token_to_id("[SEP]")), ("[CLS]", backend.token_to_id("[CLS]")))
    return BertTokenizerFast(tokenizer_object=backend, do_lower_case=False)


def _byte_level_bpe(corpus: Sequence[str], vocab_size: int):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2TokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus, vocab_size=vocab_size, min_frequency=1,
                            special_tokens=[GPT2_EOS], show_progress=False)
    return GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, unk_token=GPT2_EOS,
                             bos_token=GPT2_EOS, eos_token=GPT2_EOS, pad_token=GPT2_EOS)
