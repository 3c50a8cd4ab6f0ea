"""EXTEND: the vocabulary grows by exactly the new wordpieces, old ids keep their rows bit for bit."""

import json

import pytest
import sentencepiece as spm
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer

from baselines.extend import (
    ContinuedPretrainingStage,
    ExtensionConfig,
    PretrainingConfig,
    VocabExtensionStage,
    wang_wordpieces,
)
from harness.core.graph import Cache, StageContext
from harness.suite.schema import SuiteError
from harness.training.arguments import TrainingConfig


@pytest.fixture(scope="module", params=["wang", "wang_with_characters"])
def extended(make_stage_inputs, request):
    root = make_stage_inputs("tiny-mbert", "bert")
    out = root / f"out-{request.param}"
    out.mkdir()
    VocabExtensionStage(ExtensionConfig(token_set=request.param), seed=1).run(
        StageContext(seed=1, progress=False),
        {"backbone": root / "backbone", "tokenizer": root / "tokenizer"}, out)
    return root, out, request.param


def ordinary_pieces(spm_file):
    """The model's pieces in id order, without control, unknown and byte pieces."""
    processor = spm.SentencePieceProcessor(model_file=str(spm_file))
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())
            if not (processor.is_control(i) or processor.is_unknown(i) or processor.is_byte(i))]


def wang_by_hand(spm_file, old_vocab):
    """Wang et al.'s mkvocab.py + extend_vocab.py applied by hand to the model's pieces.

    Their ``read_sentencepiece_vocab`` reads the ``.vocab`` lines and drops ``<unk>`` (their
    trainer has no ``<s>``/``</s>``; ours has, and they are dropped too); each piece becomes
    ``x`` for ``▁x``, else ``##x``; then each token the base vocabulary lacks is appended once.
    """
    appended, checker = [], set(old_vocab)
    for piece in ordinary_pieces(spm_file):
        word = piece[1:] if piece.startswith("▁") else "##" + piece
        if word and word not in checker:
            appended.append(word)
            checker.add(word)
    return appended


def characters_by_hand(spm_file, old_vocab):
    """Wang et al.'s tokens plus each character of the pieces in both forms, minus the old ones."""
    tokens = set(wang_by_hand(spm_file, old_vocab))
    for piece in ordinary_pieces(spm_file):
        tokens |= {c for c in piece if c != "▁"} | {"##" + c for c in piece if c != "▁"}
    return tokens - set(old_vocab)


def test_wang_conversion_on_a_hand_worked_vocabulary():
    pieces = ["▁the", "ing", "▁", "▁a", "b", "▁x", "ing"]
    assert wang_wordpieces(pieces) == ["the", "##ing", "a", "##b", "x"]
    assert [t for t in wang_wordpieces(pieces) if t not in {"the", "##b"}] == ["##ing", "a", "x"]


def test_vocabulary_grows_by_exactly_the_new_tokens(extended):
    root, out, token_set = extended
    old = AutoTokenizer.from_pretrained(root / "backbone" / "model")
    new = AutoTokenizer.from_pretrained(out / "model")
    old_vocab, new_vocab = old.get_vocab(), new.get_vocab()
    spm_file = root / "tokenizer" / "spm.model"
    if token_set == "wang":
        added = wang_by_hand(spm_file, old_vocab)
        assert [t for t, _ in sorted(new_vocab.items(), key=lambda item: item[1])][len(old):] == added
        added = set(added)
    else:
        added = characters_by_hand(spm_file, old_vocab)
        assert added > set(wang_by_hand(spm_file, old_vocab))  # characters come on top of Wang's
    assert len(added) > 20 and any("ሰ" in t for t in added)
    assert set(new_vocab) == set(old_vocab) | added
    assert len(new) == len(old) + len(added)
    assert all(new_vocab[token] == i for token, i in old_vocab.items())  # old ids unchanged
    # the new pieces segment target words (as vocabulary, not as added tokens)
    assert new.tokenize("ሰላም ዓለም") != old.tokenize("ሰላም ዓለም")
    if token_set == "wang_with_characters":  # every character is a token: no [UNK] is left
        assert old.unk_token not in new.tokenize("ሰላም ዓለም")
    facts = json.loads((out / "extension.json").read_text())
    assert facts == {"old_size": len(old), "new_tokens": len(added), "size": len(new)}


def test_old_rows_are_kept_bit_for_bit_and_new_rows_drawn_as_bert_does(extended):
    root, out, _ = extended
    old = AutoModelForMaskedLM.from_pretrained(root / "backbone" / "model")
    new = AutoModelForMaskedLM.from_pretrained(out / "model")
    n = old.get_input_embeddings().weight.shape[0]
    old_rows, new_rows = old.get_input_embeddings().weight, new.get_input_embeddings().weight
    assert torch.equal(new_rows[:n], old_rows)
    assert torch.equal(new.get_output_embeddings().bias[:n], old.get_output_embeddings().bias)
    assert new.get_output_embeddings().weight is new.get_input_embeddings().weight  # still tied
    drawn = new_rows[n:]
    assert len(drawn) > 20
    assert abs(drawn.mean().item()) < 0.01
    assert drawn.std().item() == pytest.approx(old.config.initializer_range, rel=0.2)
    for name, parameter in old.named_parameters():  # nothing else of the model changed
        if "word_embeddings" not in name and "decoder" not in name and not name.endswith("predictions.bias"):
            assert torch.equal(parameter, new.get_parameter(name)), name


def test_continued_pretraining_trains_the_whole_extended_model(extended, tmp_path):
    root, extended_dir, _ = extended
    config = PretrainingConfig(training=TrainingConfig(epochs=1, batch_size=4, learning_rate=1e-3,
                                                       max_device_batch_size=4, max_steps=2),
                               max_length=24)
    out = tmp_path / "out"
    out.mkdir()
    stage = ContinuedPretrainingStage(config, seed=1)
    ctx = StageContext(seed=1, progress=False, cache=Cache(tmp_path / "cache"))
    stage.run(ctx, {"backbone": extended_dir, "corpus": root / "corpus"}, out)
    before = AutoModelForMaskedLM.from_pretrained(extended_dir / "model")
    after = AutoModelForMaskedLM.from_pretrained(out / "model")
    assert stage.summary(out)["steps"] == 2
    layer = "bert.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(before.get_parameter(layer), after.get_parameter(layer))
    assert len(AutoTokenizer.from_pretrained(out / "model")) == before.config.vocab_size


def test_token_set_is_a_suite_option_that_enters_the_key(plan_of, method_stages):
    keys = {}
    for token_set in ("wang", "wang_with_characters"):
        plan = plan_of({"extend": {"token_set": token_set}}, backbones=("tiny-mbert",))
        keys[token_set] = {key for key, stage in method_stages(plan, "extend").items()
                           if stage.kind == "vocab_extension"}
    assert len(keys["wang"]) == 1 and keys["wang"] != keys["wang_with_characters"]
    with pytest.raises(SuiteError, match="token_set"):
        plan_of({"extend": {"token_set": "characters"}}, backbones=("tiny-mbert",))


def test_only_mbert(plan_of):
    with pytest.raises(SuiteError, match="extend.*xlmr"):
        plan_of({"extend": {}}, backbones=("tiny-xlmr",))
    plan_of({"extend": {}}, backbones=("tiny-mbert",))
