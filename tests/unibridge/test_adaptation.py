"""Stage 3: the KL term (Eq. 9), objectives, trainable parameters, the stage, resuming."""

import json
import math
import random
import shutil

import pytest
import torch
from transformers import AutoModel, AutoTokenizer, TrainerCallback

from harness.core.graph import Cache, Stage, StageContext
from harness.methods.unibridge.adaptation import (
    ADAPTER_NAME,
    AdaptationConfig,
    AdaptationStage,
    prepare_student,
    student_tokenizer,
    train_language_adapter,
)
from harness.methods.unibridge.adaptation_trainer import (
    AdaptationTrainer,
    TeacherStates,
    is_masked_lm,
    masked_lm_loss,
    teacher_states,
)
from harness.methods.unibridge.kl import kl_term, mean_pool
from harness.methods.unibridge.objectives import (
    AdaptationCollator,
    TokenMaskingCollator,
    encode_corpus,
    objective_collator,
)
from harness.models.backbones import BACKBONES, build_tiny_backbone
from harness.models.loading import (
    last_hidden_state,
    load_adapter_model,
    load_backbone_tokenizer,
    load_language,
)
from harness.models.tiny_tokenizers import train_tiny_tokenizer
from harness.training.arguments import last_checkpoint, observing_training, training_arguments
from harness.training.kept_checkpoints import TEACHER_STATES_FILE

SOURCE_WORDS = "the quick brown fox jumps over lazy dog hello world school book read day".split()
TARGET_WORDS = "ሰላም ዓለም ይህ የአማርኛ ዓረፍተ ነገር ነው ዛሬ ጥሩ ቀን ወንድሜ ትምህርት ቤት the".split()
SOURCE = [" ".join(random.Random(i).choices(SOURCE_WORDS, k=9)) + "." for i in range(60)]
TARGET = [" ".join(random.Random(-i).choices(TARGET_WORDS, k=7)) + "." for i in range(16)]
ARCHS = {"xlmr": "tiny-xlmr", "bert": "tiny-mbert", "gpt2": "tiny-mgpt", "mbart": "tiny-mbart"}
SMOKE = AdaptationConfig(batch_size=4, max_device_batch_size=4, max_length=24, max_steps=2)


# ---------------------------------------------------------------- KL term (Eq. 9)

def hand_kl(student_rows, teacher_rows):
    """Σ p_u log(p_u / p_plm), mean over sentences, with p = softmax of the pooled vectors."""
    def softmax(row):
        exps = [math.exp(v) for v in row]
        return [e / sum(exps) for e in exps]
    total = 0.0
    for s, t in zip(student_rows, teacher_rows):
        p_u, p_plm = softmax(s), softmax(t)
        total += sum(u * math.log(u / p) for u, p in zip(p_u, p_plm))
    return total / len(student_rows)


def test_kl_matches_a_hand_computed_value():
    # student: sentence 1 has tokens (1,0,0) and (3,0,2) -> mean (2,0,1); a padded third token
    student = torch.tensor([[[1.0, 0.0, 0.0], [3.0, 0.0, 2.0], [9.0, 9.0, 9.0]],
                            [[0.5, 1.0, -1.0], [7.0, 7.0, 7.0], [7.0, 7.0, 7.0]]])
    student_mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    teacher = torch.tensor([[[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], [[1.0, 1.0, 1.0], [0.0, 0.0, 3.0]]])
    teacher_mask = torch.tensor([[1, 1], [1, 1]])
    expected = hand_kl([[2.0, 0.0, 1.0], [0.5, 1.0, -1.0]], [[0.0, 1.0, 0.0], [0.5, 0.5, 2.0]])
    value = kl_term(student, student_mask, teacher, teacher_mask)
    assert value.item() == pytest.approx(expected, rel=1e-5)
    # the direction is KL(π_UniBridge ‖ π_PLM), not the reverse
    reverse = hand_kl([[0.0, 1.0, 0.0], [0.5, 0.5, 2.0]], [[2.0, 0.0, 1.0], [0.5, 1.0, -1.0]])
    assert abs(expected - reverse) > 1e-3


def test_kl_is_zero_for_equal_states_and_positive_otherwise():
    hidden = torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(0))
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
    assert kl_term(hidden, mask, hidden, mask).item() == pytest.approx(0.0, abs=1e-7)
    # equal pooled states from different lengths: zero as well
    assert kl_term(hidden[:, :1], mask[:, :1], hidden[:, :1].repeat(1, 4, 1),
                   torch.ones(3, 4)).item() == pytest.approx(0.0, abs=1e-6)
    assert kl_term(hidden, mask, hidden.flip(0), mask.flip(0)).item() > 0


def test_mean_pool_ignores_padding():
    hidden = torch.tensor([[[2.0], [4.0], [100.0]]])
    assert mean_pool(hidden, torch.tensor([[1, 1, 0]])).item() == 3.0


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def backbones(tmp_path_factory):
    """Per arch: a backbone artifact and a stage-2-like embeddings artifact."""
    root = tmp_path_factory.mktemp("adaptation")
    for arch, name in ARCHS.items():
        build_tiny_backbone(BACKBONES.get(name), SOURCE, root / arch / "backbone" / "model", seed=0)
        (root / arch / "backbone" / "backbone.json").write_text(
            json.dumps({"name": name, "arch": arch, "pretrained": "model"}))
        tokenizer = train_tiny_tokenizer(arch, TARGET, 150)
        tokenizer.save_pretrained(root / arch / "embeddings" / "tokenizer")
        matrix = torch.randn(len(tokenizer), 32, generator=torch.Generator().manual_seed(2)) * 0.05
        torch.save(matrix, root / arch / "embeddings" / "embeddings.pt")
    (root / "corpus").mkdir()
    (root / "corpus" / "corpus.txt").write_text("\n".join(TARGET) + "\n", encoding="utf-8")
    return root


def make_trainer(model, tmp_path, teacher, beta=1.0):
    from harness.training.arguments import TrainingConfig

    args = training_arguments(TrainingConfig(epochs=1, batch_size=4, learning_rate=1e-3),
                              tmp_path, StageContext(progress=False))
    return AdaptationTrainer(model=model, args=args, teacher=teacher, beta=beta)


def student_setup(backbones, arch, with_embeddings, config=SMOKE):
    pretrained = str(backbones / arch / "backbone" / "model")
    embeddings = backbones / arch / "embeddings" if with_embeddings else None
    model = load_adapter_model(pretrained)
    tokenizer = student_tokenizer(pretrained, embeddings)
    corpus = encode_corpus(TARGET, tokenizer, config.max_length)
    teacher = teacher_states(model, load_backbone_tokenizer(pretrained), corpus.texts,
                             config.teacher_max_length)
    prepare_student(model, tokenizer, embeddings, config)
    collator = AdaptationCollator(objective_collator(arch, tokenizer, config.mask_probability))
    return model, corpus, teacher, collator


# ---------------------------------------------------------------- teacher and student

def test_teacher_is_the_plain_backbone_on_its_own_tokenization(backbones):
    pretrained = backbones / "xlmr" / "backbone" / "model"
    texts = TARGET[:5]
    states = teacher_states(load_adapter_model(str(pretrained)),
                            AutoTokenizer.from_pretrained(pretrained), texts, 64, batch_size=2)
    reference = AutoModel.from_pretrained(pretrained).eval()
    tokenizer = AutoTokenizer.from_pretrained(pretrained)
    for row, text in enumerate(texts):  # one sentence at a time: no padding at all
        with torch.no_grad():
            hidden = reference(**tokenizer(text, return_tensors="pt")).last_hidden_state[0]
        torch.testing.assert_close(states[row], hidden.mean(dim=0))


def test_encode_corpus_keeps_the_text_the_student_reads():
    tokenizer = train_tiny_tokenizer("xlmr", ["one two three four five six seven"] * 5, 60)
    lines = ["one two three four five six", "", "seven one two three four"]
    corpus = encode_corpus(lines, tokenizer, max_length=5)  # truncates both lines
    assert [f["example_index"] for f in corpus.features] == [0, 1]  # the empty line is dropped
    for feature, text, line in zip(corpus.features, corpus.texts, [lines[0], lines[2]]):
        kept = tokenizer.decode(feature["input_ids"], skip_special_tokens=True)
        assert text == kept.strip() and line.startswith(text) and text != line
    assert encode_corpus(lines, tokenizer, max_length=64).texts == [lines[0], lines[2]]


def test_kl_is_zero_when_student_equals_teacher(backbones, tmp_path):
    """No new vocabulary, no masking (causal LM), adapters off: every example matches its teacher row."""
    config = SMOKE.model_copy(update={"max_length": 128})  # no truncation
    model, corpus, teacher, collator = student_setup(backbones, "gpt2", False, config)
    trainer = make_trainer(model, tmp_path, teacher)
    model.eval()
    model.set_active_adapters(None)
    batch = collator([corpus.features[i] for i in (5, 2, 9, 0)])  # shuffled, as the sampler does
    with torch.no_grad():
        trainer.compute_loss(model, batch)
    assert float(trainer._sums["kl"]) == pytest.approx(0.0, abs=1e-6)


def test_token_masking_denoising_batch(backbones):
    tokenizer = AutoTokenizer.from_pretrained(backbones / "mbart" / "backbone" / "model")
    features = encode_corpus(SOURCE[:8], tokenizer, 24).features
    torch.manual_seed(0)
    batch = TokenMaskingCollator(tokenizer, 0.5)(features)
    padded = tokenizer.pad([{"input_ids": f["input_ids"]} for f in features], return_tensors="pt")
    original = padded["input_ids"]
    padding = original == tokenizer.pad_token_id
    assert torch.equal(batch["labels"], original.masked_fill(padding, -100))
    lengths = (~padding).sum(1)
    for row, length in enumerate(lengths.tolist()):  # mBART targets: language code, then the text
        assert batch["decoder_input_ids"][row, 0] == original[row, length - 1]
        assert torch.equal(batch["decoder_input_ids"][row, 1:length], original[row, :length - 1])
    changed = batch["input_ids"] != original
    assert torch.all(batch["input_ids"][changed] == tokenizer.mask_token_id)
    special = torch.tensor([tokenizer.get_special_tokens_mask(r, already_has_special_tokens=True)
                            for r in original.tolist()]).bool()
    assert not changed[special].any()
    assert 0.3 < changed.sum() / (~special).sum() < 0.7


# ---------------------------------------------------------------- what trains

def expected_trainable(model, with_embeddings):
    names = {name for name, _ in model.named_parameters()
             if f".{ADAPTER_NAME}." in name}
    if with_embeddings:
        embedding = model.get_input_embeddings().weight
        names |= {name for name, p in model.named_parameters() if p is embedding}
    return names


@pytest.mark.parametrize("arch, with_embeddings", [(arch, True) for arch in ARCHS] + [("mbart", False)])
def test_gradients_reach_exactly_embeddings_and_adapters(backbones, tmp_path, arch, with_embeddings):
    model, corpus, teacher, collator = student_setup(backbones, arch, with_embeddings)
    trainer = make_trainer(model, tmp_path, teacher)
    loss = trainer.compute_loss(model, collator(corpus.features[:4]))
    loss.backward()
    with_grad = {name for name, p in model.named_parameters() if p.grad is not None}
    expected = expected_trainable(model, with_embeddings)
    assert any("invertible_adapters" in name for name in expected)
    assert with_grad == expected
    if with_embeddings:
        assert model.get_input_embeddings().weight.grad.abs().sum() > 0


# ---------------------------------------------------------------- the stage

class Files(Stage):
    kind = "files"

    def __init__(self, source):
        super().__init__(None)
        self.source = source

    def extra_key(self):
        return {"source": str(self.source)}

    def run(self, ctx, inputs, out):
        shutil.copytree(self.source, out, dirs_exist_ok=True)


@pytest.mark.parametrize("arch", ARCHS)
def test_stage_runs_and_its_artifact_loads(backbones, tmp_path, arch):
    cache = Cache(tmp_path / "cache")
    ctx = StageContext(cache=cache, progress=False)
    inputs = {"backbone": Files(backbones / arch / "backbone"), "corpus": Files(backbones / "corpus"),
              "embeddings": Files(backbones / arch / "embeddings")}
    for stage in inputs.values():
        cache.materialize(stage, ctx)
    stage = AdaptationStage(SMOKE, seed=1, **inputs)
    artifact = cache.materialize(stage, ctx)
    summary = stage.summary(artifact)
    assert summary["steps"] == 2 and math.isfinite(summary["final_loss"])
    record = json.loads((artifact / "training.json").read_text())
    assert {"mlm_loss", "kl"} <= set(record["losses"][-1])
    trained = torch.load(artifact / "embeddings.pt")
    initial = torch.load(backbones / arch / "embeddings" / "embeddings.pt")
    assert trained.shape == initial.shape and not torch.equal(trained, initial)

    model = load_adapter_model(str(backbones / arch / "backbone" / "model"))
    tokenizer = load_language(model, artifact, "amh")
    assert torch.equal(model.get_input_embeddings().weight, trained)
    assert len(tokenizer) == trained.shape[0]


def test_source_language_without_kl_trains_adapters_only(backbones, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    config = SMOKE.model_copy(update={"beta": 0.0})
    record = train_language_adapter(config, backbones / "bert" / "backbone",
                                    backbones / "corpus" / "corpus.txt", None, out, tmp_path / "work",
                                    StageContext(progress=False))
    assert "kl" not in record["losses"][-1]
    assert sorted(p.name for p in out.iterdir()) == ["adapter", "tokenizer", "training.json"]


class Interrupt(Exception):
    pass


class StopAfterFirstCheckpoint(TrainerCallback):
    """Raises once the first checkpoint is complete (as an observer, after the marking callback)."""

    def on_save(self, args, state, control, **kwargs):
        raise Interrupt


def test_resumed_training_matches_uninterrupted_training(backbones, tmp_path):
    """Killed after epoch 1 and resumed: the same weights, bit for bit.

    Sentences of different lengths, so that a sentence's KL teacher state depends on the batch it
    is first computed in (the padded length): the resumed training must take up the states of
    epoch 1's batches from the checkpoint, not recompute them in epoch 2's.
    """
    # 8 examples, batch 4: 2 steps per epoch, 2 epochs; a checkpoint is written after epoch 1
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(random.Random(i).choices(TARGET_WORDS, k=2 + 3 * i))
                                for i in range(8)), encoding="utf-8")
    config = AdaptationConfig(batch_size=4, max_device_batch_size=4, max_length=48, epochs=2)
    args = (config, backbones / "xlmr" / "backbone", corpus, backbones / "xlmr" / "embeddings")
    ctx = StageContext(seed=5, progress=False)
    for folder in ("straight", "resumed"):
        (tmp_path / folder).mkdir()
    straight = train_language_adapter(*args, tmp_path / "straight", tmp_path / "work-a", ctx)
    with pytest.raises(Interrupt), observing_training(StopAfterFirstCheckpoint()):
        train_language_adapter(*args, tmp_path / "resumed", tmp_path / "work-b", ctx)
    assert last_checkpoint(tmp_path / "work-b") == str(tmp_path / "work-b" / "checkpoint-2")
    assert (tmp_path / "work-b" / "checkpoint-2" / TEACHER_STATES_FILE).is_file()
    resumed = train_language_adapter(*args, tmp_path / "resumed", tmp_path / "work-b", ctx)
    assert straight["steps"] == resumed["steps"] == 4
    assert len(straight["losses"]) == 2
    assert resumed["losses"] == straight["losses"] and resumed["train_loss"] == straight["train_loss"]
    assert torch.equal(torch.load(tmp_path / "resumed" / "embeddings.pt"),
                       torch.load(tmp_path / "straight" / "embeddings.pt"))
    weights = [torch.load(tmp_path / run / "adapter" / "pytorch_adapter.bin")
               for run in ("straight", "resumed")]
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][name], weights[1][name]) for name in weights[0])


def test_teacher_states_travel_bit_for_bit(backbones):
    """The states kept so far come back as they were, and are not computed again."""
    model, _, _, _ = student_setup(backbones, "xlmr", True)
    tokenizer = load_backbone_tokenizer(str(backbones / "xlmr" / "backbone" / "model"))
    texts = [" ".join(random.Random(i).choices(TARGET_WORDS, k=2 + 3 * i)) for i in range(8)]
    first = TeacherStates(model, tokenizer, texts, SMOKE.teacher_max_length)
    first(torch.tensor([0, 7, 3]))
    first(torch.tensor([1, 2, 4, 5, 6]))
    resumed = TeacherStates(model, tokenizer, texts, SMOKE.teacher_max_length)
    resumed.load_state_dict(first.state_dict())
    assert sorted(resumed.cache) == list(range(8))
    resumed.model = None  # nothing left to compute
    index = torch.tensor([6, 0, 3, 7])
    assert torch.equal(resumed(index), first(index))


# ---------------------------------------------------------------- cost at real scale

@pytest.mark.parametrize("arch", ["xlmr", "bert"])
@pytest.mark.parametrize("with_embeddings", [True, False])
def test_masked_rows_loss_equals_the_full_logits_loss(backbones, arch, with_embeddings):
    """The LM head on masked rows only gives the loss of the model's own full-logits forward."""
    model, corpus, _, collator = student_setup(backbones, arch, with_embeddings)
    model.eval()  # no dropout: both passes see the same network
    torch.manual_seed(0)
    batch = collator(corpus.features[:6])
    batch.pop("example_index")
    assert is_masked_lm(model)
    assert 0 < int((batch["labels"] != -100).sum()) < batch["labels"].numel()
    with torch.no_grad():
        full = model(**batch)
        hidden = last_hidden_state(model, batch["input_ids"], batch["attention_mask"])
        rows_only = masked_lm_loss(model, hidden, batch["labels"])
    vocab = full.logits.shape[-1]
    reference = torch.nn.functional.cross_entropy(full.logits.reshape(-1, vocab),
                                                  batch["labels"].reshape(-1), ignore_index=-100)
    torch.testing.assert_close(rows_only, full.loss)
    torch.testing.assert_close(rows_only, reference)


def test_a_batch_without_masked_tokens_has_zero_mlm_loss(backbones):
    model, corpus, _, collator = student_setup(backbones, "xlmr", False)
    batch = collator(corpus.features[:2])
    hidden = last_hidden_state(model, batch["input_ids"], batch["attention_mask"])
    loss = masked_lm_loss(model, hidden, torch.full_like(batch["labels"], -100))
    assert loss.item() == 0.0 and loss.requires_grad


@pytest.mark.parametrize("arch", ["gpt2", "mbart"])
def test_other_objectives_are_not_masked_lms(backbones, arch):
    model, *_ = student_setup(backbones, arch, True)
    assert not is_masked_lm(model)


@pytest.mark.parametrize("arch", ["xlmr", "mbart"])
@pytest.mark.parametrize("with_embeddings", [True, False])
def test_lazy_teacher_states_equal_the_states_computed_before_training(backbones, arch,
                                                                       with_embeddings):
    """Per-batch teacher states, taken from the student model switched to its plain setup."""
    model, corpus, precomputed, _ = student_setup(backbones, arch, with_embeddings)
    pretrained = str(backbones / arch / "backbone" / "model")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    active = model.active_adapters
    model.train()  # as during training: the teacher itself runs without dropout
    lazy = TeacherStates(model, load_backbone_tokenizer(pretrained), corpus.texts,
                         SMOKE.teacher_max_length)
    index = torch.tensor([5, 0, 3, 5])
    torch.testing.assert_close(lazy(index), precomputed[index], atol=1e-5, rtol=1e-5)
    assert sorted(lazy.cache) == [0, 3, 5]  # only the sentences asked for, once each
    # the student is left as it was: same adapters, trainable parameters and embeddings
    assert str(model.active_adapters) == str(active) and model.training
    assert {n for n, p in model.named_parameters() if p.requires_grad} == trainable
    assert model.active_embeddings == ("target" if with_embeddings else "default")


def test_kl_with_lazy_teacher_equals_kl_with_precomputed_teacher(backbones, tmp_path):
    model, corpus, precomputed, collator = student_setup(backbones, "xlmr", True)
    pretrained = str(backbones / "xlmr" / "backbone" / "model")
    lazy = TeacherStates(model, load_backbone_tokenizer(pretrained), corpus.texts,
                         SMOKE.teacher_max_length)
    model.eval()
    batch = collator(corpus.features[2:8])
    values = []
    for teacher in (precomputed, lazy):
        trainer = make_trainer(model, tmp_path, teacher)
        with torch.no_grad():
            trainer.compute_loss(model, dict(batch))
        values.append(float(trainer._sums["kl"]))
    assert values[0] > 0
    assert values[1] == pytest.approx(values[0], rel=1e-5)
