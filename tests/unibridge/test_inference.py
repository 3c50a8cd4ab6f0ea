import hashlib
import math
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from adapters import AutoAdapterModel, SeqBnConfig
from adapters.composition import Stack
from transformers import AutoTokenizer

from harness.data import parallel, releases
from harness.data.parallel import ParallelCorpus
from harness.data.source import DataRef, DataSource
from harness.methods.unibridge.harmony import activate_language
from harness.methods.unibridge.inference import (
    InferenceConfig,
    harmony_weights,
    language_distance,
    pair_distance,
    sentence_states,
)
from harness.methods.unibridge.weighted_heads import WeightedHeads
from harness.models.heads import add_task_head
from harness.models.loading import install_target_embeddings, language_adapter_config

ARCHS = ["tiny-xlmr", "tiny-mbert", "tiny-mgpt", "tiny-mbart"]
CORPUS = ["the cat sat on the mat", "a dog ran in the park", "the river flows through the old city",
          "capital cities grow quickly", "Beijing is in China"] * 4
TARGET_CORPUS = ["ሰላም ለዓለም the cat", "ዓለም sat on", "the old ሰላም city"] * 4
SENTENCES = ["the cat sat", "a dog ran in the old park", "capital", "Beijing is in China"]
TASKS = {"tagging": SimpleNamespace(kind="tagging", labels=("O", "B-LOC", "I-LOC")),
         "pair": SimpleNamespace(kind="pair", labels=("entailment", "neutral", "contradiction"))}


@pytest.fixture(scope="module")
def backbones(build_backbones):
    return build_backbones(ARCHS, CORPUS, vocab_size=120)


def load(backbones, arch):
    torch.manual_seed(0)
    return AutoAdapterModel.from_pretrained(backbones / arch), AutoTokenizer.from_pretrained(backbones / arch)


def perturb(module, scale=0.1):
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(scale * torch.randn_like(parameter))


def add_language(model, name):
    model.add_adapter(name, config=language_adapter_config(model))
    perturb(model.base_model.invertible_adapters[name], 0.3)


# --- Eqs. 10-13 -----------------------------------------------------------------------------

def test_harmony_weights_match_hand_computation():
    weights = harmony_weights({"eng": 2.0, "zho": 4.0, "ara": 5.0})
    scores = [math.exp(1 / 2), math.exp(1 / 4), math.exp(1 / 5)]
    expected = [s / sum(scores) for s in scores]
    assert list(weights) == ["eng", "zho", "ara"]
    assert list(weights.values()) == pytest.approx(expected, rel=1e-12)


def test_closer_source_weighs_more_and_zero_distance_takes_all():
    weights = harmony_weights({"eng": 0.1, "zho": 10.0})
    assert weights["eng"] > 0.99
    assert harmony_weights({"eng": 0.0, "zho": 1.0, "rus": 0.0}) == {"eng": 0.5, "zho": 0.0, "rus": 0.5}
    with pytest.raises(ValueError):
        harmony_weights({"eng": -1.0})
    with pytest.raises(ValueError):
        harmony_weights({})


def test_language_distance_is_mean_euclidean_distance_of_pairs():
    target = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    source = torch.tensor([[3.0, 4.0], [1.0, 1.0], [2.0, 1.0]])
    assert language_distance(target, source) == pytest.approx((5.0 + 0.0 + 1.0) / 3)
    with pytest.raises(ValueError):
        language_distance(target, source[:2])


def reference_states(model, tokenizer, adapter, sentences):
    """One sentence at a time (no padding), states from output_hidden_states, inverse by name."""
    states = []
    with torch.no_grad():
        for sentence in sentences:
            encoding = tokenizer(sentence, return_tensors="pt")
            output = model(**encoding, output_hidden_states=True)
            hidden = (output.encoder_hidden_states if model.config.is_encoder_decoder
                      else output.hidden_states)[-1]
            hidden = model.base_model.invertible_adapters[adapter](hidden, rev=True)
            states.append(hidden[0].mean(0))
    return torch.stack(states)


@pytest.mark.parametrize("arch", ARCHS)
def test_sentence_states_are_padding_free_means_after_inverse_adapter(backbones, arch):
    model, tokenizer = load(backbones, arch)
    add_language(model, "lang")
    model.set_active_adapters("lang")
    model.eval()
    states = sentence_states(model, tokenizer, SENTENCES, batch_size=3)
    torch.testing.assert_close(states, reference_states(model, tokenizer, "lang", SENTENCES))
    model.set_active_adapters(None)  # the adapter (and its inverse) must have mattered
    assert not torch.allclose(sentence_states(model, tokenizer, SENTENCES), states, atol=1e-3)


def target_tokenizer():
    from harness.models.tiny_tokenizers import train_tiny_tokenizer

    return train_tiny_tokenizer("xlmr", TARGET_CORPUS, 60)


def test_pair_distance_uses_each_languages_own_embeddings_and_adapter(backbones):
    model, source_tokenizer = load(backbones, "tiny-xlmr")
    tokenizer = target_tokenizer()
    hidden = model.config.hidden_size
    install_target_embeddings(model, tokenizer, torch.randn(len(tokenizer), hidden), "target")
    add_language(model, "target")
    add_language(model, "language_eng")
    model.eval()
    pairs = [("ሰላም the cat", "the cat sat"), ("ዓለም sat on", "a dog ran in the old park")]

    distance = pair_distance(model, pairs, ("target", tokenizer), ("language_eng", source_tokenizer))

    activate_language(model, "target")
    target = reference_states(model, tokenizer, "target", [t for t, _ in pairs])
    activate_language(model, "language_eng")
    source = reference_states(model, source_tokenizer, "language_eng", [s for _, s in pairs])
    assert model.get_input_embeddings() is model.loaded_embeddings["default"]
    expected = sum(float((t - s).norm()) for t, s in zip(target, source)) / len(pairs)
    assert distance == pytest.approx(expected, rel=1e-5)


# --- Parallel composition -------------------------------------------------------------------

def batch(tokenizer, kind):
    if kind == "pair":
        hypotheses = ["the mat", "cities", "a park"]
        return dict(tokenizer(SENTENCES[:3], hypotheses, padding=True, return_tensors="pt"))
    return dict(tokenizer(SENTENCES[:3], padding=True, return_tensors="pt"))


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize(("kind", "max_rows"), [("tagging", None), ("pair", None),
                                                ("tagging", 6), ("pair", 3)])
def test_parallel_pass_equals_separate_stacks_combined_by_hand(backbones, arch, kind, max_rows):
    model, tokenizer = load(backbones, arch)
    add_language(model, "target")
    weights = {"task_eng": 0.5, "task_zho": 0.3, "task_ara": 0.2}
    for name in weights:
        model.add_adapter(name, config=SeqBnConfig(reduction_factor=4))
        add_task_head(model, name, TASKS[kind])
    perturb(model)
    model.eval()
    inputs = batch(tokenizer, kind)
    with torch.no_grad():
        combined = WeightedHeads(model, "target", weights, max_rows)(**inputs).logits
        assert model.has_parallel_adapters
        expected = 0
        for name, weight in weights.items():
            model.set_active_adapters(Stack("target", name))
            expected = expected + weight * model(**inputs).logits
    assert combined.shape == expected.shape
    torch.testing.assert_close(combined, expected, rtol=1e-5, atol=1e-5)
    heads_differ = [model(**inputs, head=name).logits for name in ("task_eng", "task_zho")]
    assert not torch.allclose(*heads_differ)


@pytest.mark.parametrize(("max_rows", "passes"), [(None, [3]), (9, [3]), (6, [2, 1]), (2, [1, 1, 1])])
def test_parallel_passes_hold_at_most_max_rows_after_replication(backbones, max_rows, passes):
    model, tokenizer = load(backbones, "tiny-xlmr")
    add_language(model, "target")
    weights = {"task_eng": 0.5, "task_zho": 0.3, "task_ara": 0.2}
    for name in weights:
        model.add_adapter(name, config=SeqBnConfig(reduction_factor=4))
        add_task_head(model, name, TASKS["tagging"])
    seen = []
    model.register_forward_pre_hook(lambda _, args, kwargs: seen.append(len(kwargs["input_ids"])),
                                    with_kwargs=True)
    with torch.no_grad():
        logits = WeightedHeads(model, "target", weights, max_rows)(**batch(tokenizer, "tagging")).logits
    assert seen == passes and logits.shape[0] == 3


def test_single_source_needs_no_parallel(backbones):
    model, tokenizer = load(backbones, "tiny-xlmr")
    add_language(model, "target")
    model.add_adapter("task_eng", config=SeqBnConfig(reduction_factor=4))
    add_task_head(model, "task_eng", TASKS["pair"])
    model.eval()
    inputs = batch(tokenizer, "pair")
    with torch.no_grad():
        combined = WeightedHeads(model, "target", {"task_eng": 1.0})(**inputs).logits
        assert model.active_adapters == Stack("target", "task_eng")
        torch.testing.assert_close(combined, model(**inputs).logits)


# --- configuration --------------------------------------------------------------------------

def data_ref(tmp_path):
    (tmp_path / "data.txt").write_text("x")
    return DataRef.of(DataSource(path=tmp_path / "data.txt"))


def test_config_checks(tmp_path):
    data = data_ref(tmp_path)
    with pytest.raises(ValueError, match="fixed_weights"):
        InferenceConfig(weighting="fixed")
    with pytest.raises(ValueError, match="fixed_weights"):
        InferenceConfig(fixed_weights={"eng": 1.0})
    with pytest.raises(ValueError, match="english_only"):
        InferenceConfig(weighting="english_only").for_job("ner", "amh", ("eng", "zho"), "test", data)
    assert InferenceConfig().needs_distances(("eng", "zho"))
    assert not InferenceConfig().needs_distances(("eng",))
    assert not InferenceConfig(weighting="uniform").needs_distances(("eng", "zho"))
    with pytest.raises(ValueError, match="do not match"):
        InferenceConfig(weighting="fixed", fixed_weights={"eng": 1.0}).for_job(
            "ner", "amh", ("eng", "zho"), "test", data)
    single = InferenceConfig().for_job("ner", "amh", ("eng",), "test", data)
    assert single.inference.k == 10 and single.inference.weighting == "harmony"


# --- the authors' parallel sentences (PAPER.md stage 5) --------------------------------------

ALIGNMENT = Path(__file__).resolve().parents[2] / "fixtures" / "replicas" / "unibridge_alignment"
AUTHOR_SOURCES = {"eng": "eng_Latn", "zho": "zho_Hant", "rus": "rus_Cyrl", "ara": "arb_Arab"}


def weight_py_load_data(path, is_src):
    """The authors' weight.py ``load_data``, line for line (TokisakiKurumi2001/UniBridge@6a38462)."""
    with open(path) as fin:
        lines = fin.readlines()
    lines = [line for line in (re.sub("\n", "", x) for x in lines) if len(line) > 0]
    return [line[len("eng_Latn: "):] for idx, line in enumerate(lines)
            if (idx % 2 == 0 and is_src) or (idx % 2 == 1 and not is_src)]


@pytest.fixture
def authors_files(tmp_path, monkeypatch):
    """The authors' files (the replica holds their real bytes) as the release, cached in tmp_path."""
    monkeypatch.setenv(releases.CACHE_ENV, str(tmp_path / "cache"))
    return ParallelCorpus(format="unibridge", data=DataSource(release="unibridge_alignment",
                                                              url=str(ALIGNMENT)))


def test_target_side_comes_from_the_target_english_file_for_every_source(tmp_path, monkeypatch):
    """As weight.py's gen_weight: the (t, s) file gives only the source side (a two-file release)."""
    folder = tmp_path / "repo"
    files = {"xlm/alignment/opus/ang/ang_Latn-eng_Latn.txt": "eng_Latn: s1\nang_Latn: t1\n\n"
                                                             "eng_Latn: s2\nang_Latn: t2\n",
             "xlm/alignment/opus/ang/ang_Latn-zho_Hant.txt": "zho_Hant: z1\nang_Latn: other1\n\n"
                                                             "zho_Hant: z2\nang_Latn: other2"}
    for relative, text in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
    release = releases.RELEASES["unibridge_alignment"]
    monkeypatch.setitem(release.versions, release.default_version, releases.Pinned(
        url=str(folder), checksums={r: "sha256:" + hashlib.sha256(t.encode()).hexdigest()
                                    for r, t in files.items()}))
    monkeypatch.setenv(releases.CACHE_ENV, str(tmp_path / "cache"))
    corpus = ParallelCorpus(format="unibridge", data=DataSource(release="unibridge_alignment"))
    assert parallel.load(corpus, "ang", "zho") == [("t1", "z1"), ("t2", "z2")]
    assert parallel.load(corpus, "ang", "eng") == [("t1", "s1"), ("t2", "s2")]


def test_the_real_files_are_read_by_position_not_by_their_labels(authors_files):
    """aym_Latn-eng_Latn.txt lists Aymara first: weight.py's "English" side is Aymara (docs/data.md)."""
    english = ALIGNMENT / "xlm" / "alignment" / "opus" / "aym" / "aym_Latn-eng_Latn.txt"
    pairs = parallel.load(authors_files, "aym", "eng")
    assert [t for t, _ in pairs] == [t.strip() for t in weight_py_load_data(english, is_src=False)]
    assert [s for _, s in pairs] == [s.strip() for s in weight_py_load_data(english, is_src=True)]
    assert pairs[0][1].startswith("Akatxamat Abraham Bojorquez")  # the line labelled aym_Latn
    for lang in AUTHOR_SOURCES:
        assert [t for t, _ in parallel.load(authors_files, "aym", lang)] == [t for t, _ in pairs]


def test_harmony_weights_from_the_authors_files_match_a_hand_computation(backbones, authors_files):
    """Eqs. 10-13 for Old English on a tiny XLM-R from the authors' ten pairs per source."""
    from harness.models.tiny_tokenizers import train_tiny_tokenizer

    folder = ALIGNMENT / "xlm" / "alignment" / "opus" / "ang"
    targets = weight_py_load_data(folder / "ang_Latn-eng_Latn.txt", is_src=False)
    model, source_tokenizer = load(backbones, "tiny-xlmr")
    tokenizer = train_tiny_tokenizer("xlmr", targets * 4, 80)
    install_target_embeddings(model, tokenizer, torch.randn(len(tokenizer), model.config.hidden_size),
                              "target")
    add_language(model, "target")
    for lang in AUTHOR_SOURCES:
        add_language(model, f"language_{lang}")
    model.eval()

    distances = {lang: pair_distance(model, parallel.load(authors_files, "ang", lang),
                                     ("target", tokenizer), (f"language_{lang}", source_tokenizer))
                 for lang in AUTHOR_SOURCES}
    weights = harmony_weights(distances)

    activate_language(model, "target")  # by hand: weight.py's sides, one sentence at a time
    target = reference_states(model, tokenizer, "target", targets)
    hand = {}
    for lang, code in AUTHOR_SOURCES.items():
        sources = weight_py_load_data(folder / f"ang_Latn-{code}.txt", is_src=True)
        activate_language(model, f"language_{lang}")
        source = reference_states(model, source_tokenizer, f"language_{lang}", sources)
        hand[lang] = sum(float((t - s).norm()) for t, s in zip(target, source)) / len(sources)
    assert len(targets) == 10 and distances == pytest.approx(hand, rel=1e-5)
    scores = {lang: math.exp(1 / d) for lang, d in hand.items()}
    expected = {lang: score / sum(scores.values()) for lang, score in scores.items()}
    assert weights == pytest.approx(expected, rel=1e-5)
    assert len(set(distances.values())) == len(AUTHOR_SOURCES)  # the sources' sides mattered
