"""Normalising tokens of each word-boundary convention to (word-initial, text), by hand."""

import pytest

from harness.unibridge.overlap import Convention, normalise_token

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
