"""Target tokenizer (stage 2) and lexical overlap on real tokenizers of the four arch families.

Backbone tokenizers are trained here on a few sentences with the `tokenizers` library (Unigram
for XLM-R/mBART, WordPiece for BERT, byte-level BPE for GPT-2), and the target SentencePiece
model with the `sentencepiece` library, as stage 1 does.
"""

import random

import pytest
import sentencepiece as spm
from tokenizers import (
    BertWordPieceTokenizer,
    ByteLevelBPETokenizer,
    SentencePieceUnigramTokenizer,
    decoders,
    processors,
)
from transformers import (
    AutoTokenizer,
    BertTokenizerFast,
    GPT2TokenizerFast,
    MBartTokenizerFast,
    PreTrainedTokenizerFast,
    XLMRobertaTokenizerFast,
)

from harness.methods.unibridge.overlap import detect_convention, lexical_overlap
from harness.methods.unibridge.target_tokenizer import build_target_tokenizer, read_spm_model

AMHARIC = "ሰላም ዓለም ይህ የአማርኛ ዓረፍተ ነገር ነው ዛሬ ጥሩ ቀን ወንድሜ ትምህርት ቤት ሄደ መጽሐፍ አነበበ".split()
ENGLISH = "the quick brown fox jumps over lazy dog hello world school book read day good".split()
RUSSIAN = "привет мир быстрая лиса собака школа книга читать день хороший".split()
CHINESE = "我们 今天 学校 学习 中文 书 朋友 你好 世界".split()


def sentences(words: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(words, k=rng.randint(4, 10))) + rng.choice([".", "።", ","])
            for _ in range(n)]


TARGET_TEXT = sentences(AMHARIC + ENGLISH[:6], 300, seed=1)
SOURCE_TEXT = sentences(ENGLISH + RUSSIAN + CHINESE + AMHARIC[:5], 300, seed=2)
FAMILIES = ("xlmr", "bert", "gpt2", "mbart")
# How each family frames one text (hand-known conventions); "X" is the text.
FRAMES = {"xlmr": ["<s>", "X", "</s>"], "bert": ["[CLS]", "X", "[SEP]"], "gpt2": ["X"],
          "mbart": ["X", "</s>", "en_XX"]}


def unigram_backend(specials):
    model = SentencePieceUnigramTokenizer()
    model.train_from_iterator(SOURCE_TEXT, vocab_size=300, special_tokens=specials,
                              unk_token="<unk>", show_progress=False)
    return model._tokenizer


def make_backbone(family: str) -> PreTrainedTokenizerFast:
    fairseq = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    if family == "xlmr":
        backend = unigram_backend(fairseq)
        backend.post_processor = processors.RobertaProcessing(sep=("</s>", 2), cls=("<s>", 0))
        return XLMRobertaTokenizerFast(tokenizer_object=backend)
    if family == "mbart":
        return MBartTokenizerFast(tokenizer_object=unigram_backend(fairseq))
    if family == "bert":
        wordpiece = BertWordPieceTokenizer(lowercase=False)
        wordpiece.train_from_iterator(SOURCE_TEXT, vocab_size=400, min_frequency=1)
        backend = wordpiece._tokenizer
        backend.decoder = decoders.WordPiece(cleanup=False)  # for reference_key
        backend.post_processor = processors.BertProcessing(
            ("[SEP]", backend.token_to_id("[SEP]")), ("[CLS]", backend.token_to_id("[CLS]")))
        return BertTokenizerFast(tokenizer_object=backend, do_lower_case=False)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(SOURCE_TEXT, vocab_size=500, min_frequency=1,
                            special_tokens=["<|endoftext|>"])
    eos = "<|endoftext|>"
    return GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, unk_token=eos, bos_token=eos,
                             eos_token=eos)


@pytest.fixture(scope="module")
def spm_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spm")
    (folder / "corpus.txt").write_text("\n".join(TARGET_TEXT), encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(folder / "corpus.txt"),
                                   model_prefix=str(folder / "spm"), vocab_size=150,
                                   model_type="unigram", minloglevel=2, hard_vocab_limit=False)
    return folder / "spm.model"


@pytest.fixture(scope="module")
def byte_fallback_spm(spm_model):
    folder = spm_model.parent
    spm.SentencePieceTrainer.train(input=str(folder / "corpus.txt"),
                                   model_prefix=str(folder / "bytes"), vocab_size=400,
                                   byte_fallback=True, minloglevel=2, hard_vocab_limit=False)
    return folder / "bytes.model"


@pytest.fixture(scope="module")
def backbones():
    return {family: make_backbone(family) for family in FAMILIES}


@pytest.fixture(scope="module")
def targets(spm_model, backbones):
    return {family: build_target_tokenizer(spm_model, backbone)
            for family, backbone in backbones.items()}


def frame(tokenizer, encoding) -> list:
    """Tokens of an encoding with every run of ordinary (or unknown) tokens collapsed to "X".

    With token type ids, each item is ``(token, type id)``.
    """
    ids = encoding["input_ids"]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    mask = [special and i != tokenizer.unk_token_id for special, i in
            zip(tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True), ids,
                strict=True)]
    types = encoding.get("token_type_ids")
    out = []
    for k, token in enumerate(tokens):
        item = token if mask[k] else "X"
        item = (item, types[k]) if types is not None else item
        if mask[k] or not out or out[-1] != item:
            out.append(item)
    return out


def test_read_spm_model_agrees_with_sentencepiece(spm_model):
    processor = spm.SentencePieceProcessor(model_file=str(spm_model))
    parsed = read_spm_model(spm_model)
    assert [piece for piece, _, _ in parsed.pieces] == [
        processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    assert [score for _, score, _ in parsed.pieces] == pytest.approx(
        [processor.get_score(i) for i in range(processor.get_piece_size())])
    controls = [i for i, (_, _, kind) in enumerate(parsed.pieces) if kind == 3]
    assert controls == [i for i in range(processor.get_piece_size()) if processor.is_control(i)]
    assert parsed.unk_piece == processor.id_to_piece(processor.unk_id())
    assert parsed.model_type == 1 and parsed.precompiled_charsmap  # nmt_nfkc rules by default


@pytest.mark.parametrize("family", FAMILIES)
def test_tokenizes_exactly_as_sentencepiece(spm_model, targets, family):
    processor = spm.SentencePieceProcessor(model_file=str(spm_model))
    target = targets[family]
    texts = TARGET_TEXT[:30] + ["  ሰላም   ዓለም  ", "ＡＢＣ ①", "Hello, fox!", "ሰላም\tzzz 漢字"]
    unk = processor.id_to_piece(processor.unk_id())
    for text in texts:
        expected = [processor.id_to_piece(i) for i in processor.encode(text)]
        ids = target(text, add_special_tokens=False)["input_ids"]
        got = [unk if i == target.unk_token_id else target.convert_ids_to_tokens(i) for i in ids]
        assert got == expected, text


@pytest.mark.parametrize("byte_fallback", [False, True])
def test_decodes_as_sentencepiece(spm_model, byte_fallback_spm, backbones, byte_fallback):
    path = byte_fallback_spm if byte_fallback else spm_model
    processor = spm.SentencePieceProcessor(model_file=str(path))
    target = build_target_tokenizer(path, backbones["xlmr"])
    unseen = ["ሰላም 漢字 dog ĳ"] if byte_fallback else []  # unknown characters become bytes
    for text in [*TARGET_TEXT[:10], "  fox  ", *unseen]:
        ids = target(text)["input_ids"]
        pieces = [processor.id_to_piece(i) for i in processor.encode(text)]
        assert target.convert_ids_to_tokens(ids)[1:-1] == pieces
        expected = processor.decode(processor.encode(text))
        assert target.decode(ids, skip_special_tokens=True) == expected


@pytest.mark.parametrize("family", FAMILIES)
def test_special_tokens_and_framing_follow_the_backbone(backbones, targets, family):
    backbone, target = backbones[family], targets[family]
    text, other = TARGET_TEXT[0], TARGET_TEXT[1]
    single = frame(target, target(text, return_token_type_ids=False))
    assert single == FRAMES[family] == frame(backbone, backbone(text, return_token_type_ids=False))
    assert frame(target, target(text, other)) == frame(backbone, backbone(text, other))
    assert target.model_input_names == backbone.model_input_names
    for role in ("bos_token", "eos_token", "sep_token", "cls_token", "mask_token"):
        assert getattr(target, role) == getattr(backbone, role), role
    assert target.pad_token is not None
    assert set(backbone.all_special_tokens) <= set(target.all_special_tokens)


def test_gpt2_roles(targets):
    target = targets["gpt2"]
    assert target.eos_token == target.pad_token == "<|endoftext|>"
    assert target.unk_token == "<unk>" and target.mask_token is None
    assert target.unk_token_id not in (target.eos_token_id, target.pad_token_id)


@pytest.mark.parametrize("family", FAMILIES)
def test_vocabulary_is_the_spm_pieces_plus_specials(spm_model, targets, family):
    processor = spm.SentencePieceProcessor(model_file=str(spm_model))
    target = targets[family]
    ordinary = {processor.id_to_piece(i) for i in range(processor.get_piece_size())
                if not (processor.is_control(i) or processor.is_unknown(i))}
    vocab = set(target.get_vocab())
    assert ordinary <= vocab
    assert vocab - ordinary == set(target.all_special_tokens)
    assert len(target) == len(vocab)


@pytest.mark.parametrize("family", FAMILIES)
def test_round_trip_through_save_pretrained(tmp_path, targets, family):
    target = targets[family]
    target.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert loaded.is_fast and loaded.get_vocab() == target.get_vocab()
    assert loaded.special_tokens_map == target.special_tokens_map
    for text in TARGET_TEXT[:5]:
        assert loaded(text, "ሰላም")["input_ids"] == target(text, "ሰላም")["input_ids"]


@pytest.mark.parametrize("family, kind", [("xlmr", "metaspace"), ("bert", "wordpiece"),
                                          ("gpt2", "bytelevel"), ("mbart", "metaspace")])
def test_detect_convention(backbones, family, kind):
    assert detect_convention(backbones[family]).kind == kind


def reference_key(tokenizer, token):
    """(word-initial, text) of a token read through the tokenizer's own decoder.

    The decoder joins ``["a", token]``: a word-initial token comes out after a space. Byte-level
    tokens that are not whole characters decode to U+FFFD and have no key.
    """
    text = tokenizer.backend_tokenizer.decoder.decode(["a", token])
    if "\ufffd" in text:
        return None
    assert text.startswith("a"), (token, text)
    rest = text[1:]
    return (True, rest[1:]) if rest.startswith(" ") else (False, rest)


def brute_force_overlap(target, source):
    """Ordinary-token pairs by comparing every target token with every source token."""
    specials_t, specials_s = set(target.all_special_ids), set(source.all_special_ids)
    source_items = sorted((i, t) for t, i in source.get_vocab().items() if i not in specials_s)
    pairs = set()
    for token, t_id in target.get_vocab().items():
        key = reference_key(target, token)
        if t_id in specials_t or key is None:
            continue
        hits = [s_id for s_id, s_token in source_items if reference_key(source, s_token) == key]
        if hits:
            pairs.add((t_id, hits[0]))
    return pairs


@pytest.mark.parametrize("family", FAMILIES)
def test_lexical_overlap_matches_brute_force_decoding(backbones, targets, family):
    source, target = backbones[family], targets[family]
    pairs = lexical_overlap(target, source)
    specials = set(target.all_special_ids)
    ordinary = {(t, s) for t, s in pairs if t not in specials}
    assert ordinary == brute_force_overlap(target, source)
    amharic = [target.convert_ids_to_tokens(t) for t, _ in ordinary
               if any("\u1200" <= ch <= "\u137f" for ch in target.convert_ids_to_tokens(t))]
    assert amharic, "non-Latin tokens must match across conventions"
    assert len({t for t, _ in pairs}) == len(pairs)


@pytest.mark.parametrize("family", FAMILIES)
def test_special_tokens_match_by_role(backbones, targets, family):
    source, target = backbones[family], targets[family]
    pairs = dict(lexical_overlap(target, source))
    for role in ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                 "mask_token"):
        if getattr(target, role) is not None and getattr(source, role) is not None:
            t_id = target.convert_tokens_to_ids(getattr(target, role))
            assert source.convert_ids_to_tokens(pairs[t_id]) in source.all_special_tokens


def test_wordpiece_continuation_matches_spm_continuation(backbones, targets):
    source, target = backbones["bert"], targets["bert"]
    pairs = {target.convert_ids_to_tokens(t): source.convert_ids_to_tokens(s)
             for t, s in lexical_overlap(target, source)}
    continuations = [(t, s) for t, s in pairs.items() if s.startswith("##")]
    initials = [(t, s) for t, s in pairs.items() if t.startswith("\u2581")]
    assert continuations and all(not t.startswith("\u2581") and s == "##" + t
                                 for t, s in continuations)
    assert initials and all(s == t[1:] for t, s in initials)
