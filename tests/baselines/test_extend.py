"""EXTEND: the vocabulary grows by exactly the new wordpieces, old ids keep their rows bit for bit."""

import json

import pytest
import sentencepiece as spm
import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer

from baselines.extend import ContinuedPretrainingStage, PretrainingConfig, VocabExtensionStage
from harness.graph import Cache, StageContext
from harness.suite import SuiteError
from harness.training import TrainingConfig


@pytest.fixture(scope="module")
def extended(make_stage_inputs):
    root = make_stage_inputs("tiny-mbert", "bert")
    out = root / "out"
    out.mkdir()
    VocabExtensionStage(None, seed=1).run(StageContext(seed=1, progress=False),
                                          {"backbone": root / "backbone", "tokenizer": root / "tokenizer"},
                                          out)
    return root


def expected_new_tokens(spm_file, old_vocab):
    """By hand: each piece in WordPiece notation, every character in both forms, minus the old ones."""
    processor = spm.SentencePieceProcessor(model_file=str(spm_file))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())
              if not (processor.is_control(i) or processor.is_unknown(i))]
    tokens = set()
    for piece in pieces:
        tokens |= {c for c in piece if c != "▁"} | {"##" + c for c in piece if c != "▁"}
        word = piece[1:] if piece.startswith("▁") else "##" + piece
        if word not in ("", "##"):
            tokens.add(word)
    return tokens - set(old_vocab)


def test_vocabulary_grows_by_exactly_the_new_tokens(extended):
    old = AutoTokenizer.from_pretrained(extended / "backbone" / "model")
    new = AutoTokenizer.from_pretrained(extended / "out" / "model")
    old_vocab, new_vocab = old.get_vocab(), new.get_vocab()
    added = expected_new_tokens(extended / "tokenizer" / "spm.model", old_vocab)
    assert len(added) > 20 and any("ሰ" in t for t in added)
    assert set(new_vocab) == set(old_vocab) | added
    assert len(new) == len(old) + len(added)
    assert all(new_vocab[token] == i for token, i in old_vocab.items())  # old ids unchanged
    # the new pieces segment target words (as vocabulary, not as added tokens)
    assert new.tokenize("ሰላም ዓለም") != old.tokenize("ሰላም ዓለም")
    assert old.unk_token not in new.tokenize("ሰላም ዓለም")
    facts = json.loads((extended / "out" / "extension.json").read_text())
    assert facts == {"old_size": len(old), "new_tokens": len(added), "size": len(new)}


def test_old_rows_are_kept_bit_for_bit_and_new_rows_drawn_as_bert_does(extended):
    old = AutoModelForMaskedLM.from_pretrained(extended / "backbone" / "model")
    new = AutoModelForMaskedLM.from_pretrained(extended / "out" / "model")
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
    config = PretrainingConfig(training=TrainingConfig(epochs=1, batch_size=4, learning_rate=1e-3,
                                                       max_device_batch_size=4, max_steps=2),
                               max_length=24)
    out = tmp_path / "out"
    out.mkdir()
    stage = ContinuedPretrainingStage(config, seed=1)
    ctx = StageContext(seed=1, progress=False, cache=Cache(tmp_path / "cache"))
    stage.run(ctx, {"backbone": extended / "out", "corpus": extended / "corpus"}, out)
    before = AutoModelForMaskedLM.from_pretrained(extended / "out" / "model")
    after = AutoModelForMaskedLM.from_pretrained(out / "model")
    assert stage.summary(out)["steps"] == 2
    layer = "bert.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(before.get_parameter(layer), after.get_parameter(layer))
    assert len(AutoTokenizer.from_pretrained(out / "model")) == before.config.vocab_size


def test_only_mbert(plan_of):
    with pytest.raises(SuiteError, match="extend.*xlmr"):
        plan_of({"extend": {}}, backbones=("tiny-xlmr",))
    plan_of({"extend": {}}, backbones=("tiny-mbert",))
