"""SentencePiece models read without the protobuf package, as Hugging Face unigram tokenizers.

Example::

    spm = read_spm_model(Path("spm.model"))        # pieces, scores, normalisation rules
    backend = unigram_backend(spm, [AddedToken("<unk>", special=True)], "<unk>")
    backend.encode("ሰላም ዓለም").tokens               # as SentencePiece itself segments it

Shared by the tiny backbones' tokenizers (:mod:`harness.models.tiny_tokenizers`) and UniBridge's
target tokenizer (:mod:`harness.methods.unibridge.target_tokenizer`), which frames this backend
in the backbone's conventions.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
from tokenizers.models import Unigram

SPM_MARKER = "\u2581"
#: SentencePiece piece types (sentencepiece_model.proto) that are ordinary vocabulary.
ORDINARY_TYPES = (1, 4, 6)  # NORMAL, USER_DEFINED, BYTE
UNIGRAM = 1  # ModelProto.model_type of a unigram model


def unigram_backend(spm: SpmModel, specials: list[AddedToken], unk_token: str) -> Tokenizer:
    """SentencePiece's unigram model and text handling, with ``specials`` as the first ids."""
    names = [token.content for token in specials]
    pieces = [(piece, score) for piece, score, kind in spm.pieces
              if kind in ORDINARY_TYPES and piece not in names]
    model = Unigram([(name, 0.0) for name in names] + pieces, unk_id=names.index(unk_token),
                    byte_fallback=spm.byte_fallback)
    tokenizer = Tokenizer(model)
    tokenizer.normalizer = _normalizer(spm)
    prepend = "always" if spm.add_dummy_prefix else "never"
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPM_MARKER,
                                                       prepend_scheme=prepend)
    tokenizer.decoder = decoders.Metaspace(replacement=SPM_MARKER, prepend_scheme=prepend)
    if spm.byte_fallback:  # byte pieces <0xE1><0x88><0xB0> decode to "ሰ" (as Llama's converter)
        tokenizer.decoder = decoders.Sequence([
            decoders.Replace(SPM_MARKER, " "), decoders.ByteFallback(), decoders.Fuse(),
            decoders.Strip(" ", int(spm.add_dummy_prefix), 0)])
    tokenizer.add_special_tokens(specials)
    return tokenizer


def _normalizer(spm: SpmModel) -> normalizers.Normalizer:
    """Normalise as SentencePiece does: its precompiled rules, then collapse and trim spaces."""
    steps = []
    if spm.precompiled_charsmap:
        steps.append(normalizers.Precompiled(spm.precompiled_charsmap))
    if spm.remove_extra_whitespaces:
        steps += [normalizers.Replace(Regex(" {2,}"), " "), normalizers.Strip()]
    return normalizers.Sequence(steps)


@dataclass
class SpmModel:
    """The parts of a SentencePiece ``ModelProto`` that the target tokenizer needs.

    Attributes:
        pieces: ``(piece, score, type)`` in id order (type as in sentencepiece_model.proto).
        model_type: 1 unigram, 2 BPE, 3 word, 4 char.
        unk_piece: the unknown piece's string.
        byte_fallback: whether unknown characters become byte pieces.
        precompiled_charsmap: the normalisation rules (empty: none).
        add_dummy_prefix: whether a text starts with an implicit word boundary.
        remove_extra_whitespaces: whether runs of spaces collapse and ends are trimmed.

    """

    pieces: list[tuple[str, float, int]] = field(default_factory=list)
    model_type: int = UNIGRAM
    unk_piece: str = "<unk>"
    byte_fallback: bool = False
    precompiled_charsmap: bytes = b""
    add_dummy_prefix: bool = True
    remove_extra_whitespaces: bool = True


def read_spm_model(path: Path) -> SpmModel:
    """Read a ``.model`` file; see :func:`parse_spm_model`."""
    return parse_spm_model(Path(path).read_bytes())


def parse_spm_model(serialized: bytes) -> SpmModel:
    """Parse a serialized SentencePiece model (protobuf wire format) without the protobuf package.

    Only the fields listed in :class:`SpmModel` are read; defaults are the proto's defaults.
    """
    spm = SpmModel()
    for number, value in _fields(serialized):
        if number == 1:
            piece = dict(_fields(value))
            score = struct.unpack("<f", piece.get(2, b"\0\0\0\0"))[0]
            spm.pieces.append((piece[1].decode("utf-8"), score, piece.get(3, 1)))
        elif number == 2:
            trainer = dict(_fields(value))
            spm.model_type = trainer.get(3, UNIGRAM)
            spm.byte_fallback = bool(trainer.get(35, 0))
            spm.unk_piece = trainer.get(45, b"<unk>").decode("utf-8")
        elif number == 3:
            normalizer = dict(_fields(value))
            spm.precompiled_charsmap = normalizer.get(2, b"")
            spm.add_dummy_prefix = bool(normalizer.get(3, 1))
            spm.remove_extra_whitespaces = bool(normalizer.get(4, 1))
    return spm


def _fields(buffer: bytes) -> Iterator[tuple[int, int | bytes]]:
    """``(field number, value)`` of each field of a protobuf message, in order."""
    position = 0
    while position < len(buffer):
        key, position = _varint(buffer, position)
        wire_type = key & 7
        if wire_type == 0:
            value, position = _varint(buffer, position)
        elif wire_type in (1, 5):
            width = 8 if wire_type == 1 else 4
            value, position = buffer[position:position + width], position + width
        elif wire_type == 2:
            length, position = _varint(buffer, position)
            value, position = buffer[position:position + length], position + length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")
        yield key >> 3, value


def _varint(buffer: bytes, position: int) -> tuple[int, int]:
    """Decode the base-128 varint at ``position``; return it and the next position."""
    result = shift = 0
    while True:
        byte = buffer[position]
        position += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, position
