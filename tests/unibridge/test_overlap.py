"""Normalising tokens of each convention to (word-initial, text), and case-insensitive overlap, by hand."""

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from harness.methods.unibridge.overlap import Convention, casefold_overlap, lexical_overlap, normalise_token

METASPACE = Convention("metaspace", "\u2581")
WORDPIECE = Convention("wordpiece", "##")
BYTELEVEL = Convention("bytelevel")


def gpt2_chars(data: bytes) -> str:
    """GPT-2's byte-to-unicode table written out by hand (Radford et al., encoder.py)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + extra)
            extra += 1
    return "".join(table[byte] for byte in data)


@pytest.mark.parametrize("convention, token, key", [
    (METASPACE, "\u2581word", (True, "word")),
    (METASPACE, "ord", (False, "ord")),
    (METASPACE, "\u2581", (True, "")),
    (WORDPIECE, "word", (True, "word")),
    (WORDPIECE, "##ord", (False, "ord")),
    (WORDPIECE, "##", (True, "##")),
    (BYTELEVEL, "\u0120word", (True, "word")),
    (BYTELEVEL, "word", (False, "word")),
    (BYTELEVEL, "\u0120", (True, "")),
    (Convention("plain"), "word", (False, "word")),
])
def test_markers(convention, token, key):
    assert normalise_token(token, convention) == key


def test_bytelevel_decodes_non_latin_text():
    assert gpt2_chars(b" a") == "\u0120a"  # the table: space is Ġ
    for word in ("ሰላም", "привет", "我们", "naïve"):
        assert normalise_token(gpt2_chars((" " + word).encode()), BYTELEVEL) == (True, word)
        assert normalise_token(gpt2_chars(word.encode()), BYTELEVEL) == (False, word)


def test_bytelevel_partial_character_has_no_key():
    amharic = "ሰ".encode()  # three bytes
    assert normalise_token(gpt2_chars(amharic[:2]), BYTELEVEL) is None
    assert normalise_token("not-in-table\u4e00", BYTELEVEL) is None


def metaspace_tokenizer(pieces):
    """A SentencePiece-style fast tokenizer whose ids are ``<unk>`` = 0, then ``pieces`` in order."""
    backend = Tokenizer(models.Unigram([("<unk>", 0.0), *[(piece, -1.0) for piece in pieces]],
                                       unk_id=0))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>")


def test_casefold_overlap_hand_worked():
    source = metaspace_tokenizer(["▁the", "▁Dog", "▁DOG", "ing", "▁Ab", "▁ab"])
    #                               1        2       3       4      5      6
    target = metaspace_tokenizer(["▁The", "▁the", "▁dog", "ING", "▁ING", "▁Ab", "▁AB", "▁cat",
                                  "▁ß", "▁STRASSE"])
    #                               1       2        3       4      5       6      7      8
    #                               9      10
    exact = lexical_overlap(target, source)
    assert exact == [(0, 0), (2, 1), (6, 5)]  # <unk> by role, ▁the, ▁Ab
    # ▁The -> ▁the (already taken exactly: it may serve again); ▁dog -> ▁Dog (2), the lowest of
    # ▁Dog/▁DOG; ING (continuation) -> ing; ▁ING finds no word-initial ▁ing; ▁AB -> ▁Ab (5), the
    # lowest of ▁Ab/▁ab; ▁cat, ▁ß, ▁STRASSE find nothing (no ▁ss / ▁strasse in the source).
    assert casefold_overlap(target, source, [t for t, _ in exact]) == [(1, 1), (3, 2), (4, 4),
                                                                       (7, 5)]


def test_case_insensitive_overlap_compares_lower_as_the_authors_do():
    source = metaspace_tokenizer(["▁strasse", "▁ΣΟΦΟΣ"])
    target = metaspace_tokenizer(["▁Straße", "▁σοφος", "▁σοφοσ"])
    # the authors' fuzzy_search keys are str.lower(): 'Straße' -> 'straße' (not 'strasse', which
    # casefold() would give), 'ΣΟΦΟΣ' -> 'σοφος' (Python's final-sigma rule), 'σοφοσ' stays
    assert casefold_overlap(target, source, []) == [(2, 2)]
    authors = {piece.lower(): i for i, piece in enumerate(["▁strasse", "▁ΣΟΦΟΣ"], start=1)}
    assert [(t, authors[p.lower()]) for t, p in enumerate(["▁Straße", "▁σοφος", "▁σοφοσ"], start=1)
            if p.lower() in authors] == [(2, 2)]


