"""Stage 2 orchestration (Eqs. 2-8) against brute force, FastText, the stage and the command."""

import json
import random

import numpy as np
import pytest
import sentencepiece as spm
import torch
from click.testing import CliRunner
from transformers import (
    AutoModel,
    AutoTokenizer,
    XLMRobertaConfig,
    XLMRobertaModel,
)

from harness.cli.init_embeddings import init_embeddings
from harness.core.graph import Cache, Stage, StageContext
from harness.methods.unibridge import static_vectors
from harness.methods.unibridge.embeddings import (
    EmbeddingInitConfig,
    EmbeddingInitStage,
    build_embedding_artifact,
    initialize_embeddings,
)
from harness.methods.unibridge.overlap import casefold_overlap, lexical_overlap
from harness.methods.unibridge.static_vectors import StaticVectors
from harness.methods.unibridge.target_tokenizer import build_target_tokenizer
from harness.models.backbones import BACKBONES, build_tiny_backbone

TARGET_WORDS = "ሰላም ዓለም ይህ የአማርኛ ነገር ነው ዛሬ ጥሩ ቀን ቤት the fox dog Dog FOX".split()
SOURCE_WORDS = "the quick brown fox jumps over lazy dog привет мир собака 我们 学校 ሰላም".split()
HIDDEN = 16
TINY = EmbeddingInitConfig(fasttext_dim=8, fasttext_epochs=1, block_size=16)
#: The rules every row is counted under (module docstring of harness.methods.unibridge.embeddings).
RULES = ("lexical", "lexical_casefold", "semantic", "weighted", "random")


def sentences(words, n, seed):
    rng = random.Random(seed)
    return [" ".join(rng.choices(words, k=rng.randint(3, 9))) + "." for _ in range(n)]


CORPUS = sentences(TARGET_WORDS, 200, seed=3)


@pytest.fixture(scope="module")
def spm_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vocab")
    (folder / "text.txt").write_text("\n".join(CORPUS), encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(folder / "text.txt"), model_prefix=str(folder / "spm"),
                                   vocab_size=80, model_type="unigram", minloglevel=2,
                                   hard_vocab_limit=False)
    return folder


@pytest.fixture(scope="module")
def target_tokenizer(spm_dir, source_tokenizer):
    return build_target_tokenizer(spm_dir / "spm.model", source_tokenizer)


@pytest.fixture(scope="module")
def source_embeddings(source_tokenizer):
    return torch.randn(len(source_tokenizer), HIDDEN, generator=torch.Generator().manual_seed(5))


def reference_sparsemax(z):
    ordered = np.sort(z)[::-1]
    cumulative = np.cumsum(ordered)
    k = np.arange(1, len(z) + 1)
    support = k[1 + k * ordered > cumulative].max()
    return np.maximum(z - (cumulative[support - 1] - 1) / support, 0)


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def all_lexical(target, source):
    """Exact and case-insensitive pairs, as the stage's default takes them."""
    exact = lexical_overlap(target, source)
    return exact + casefold_overlap(target, source, [t for t, _ in exact])


def fake_vectors(target, source, seed, rotation=None, planted=8):
    """Random F^T for most target tokens; F^S = F^T of a partner (rotated) for lexical pairs
    and ``planted`` free pairs, random for the other source tokens. Returns (vectors, planted)."""
    generator = torch.Generator().manual_seed(seed)
    lexical = dict(all_lexical(target, source))
    t_ids = [i for i in range(len(target)) if i % 7 != 3]  # every 7th token has no F^T vector
    f_t = {i: torch.randn(8, generator=generator) for i in t_ids}
    s_ids = list(range(len(source)))
    f_s = {i: torch.randn(8, generator=generator) for i in s_ids}
    free_t = [i for i in t_ids if i not in lexical]
    free_s = [i for i in s_ids if i not in set(lexical.values())]
    pairs = list(zip(free_t[:planted], free_s[-planted:], strict=True))
    rotate = rotation if rotation is not None else torch.eye(8)
    for t, s in [*lexical.items(), *pairs]:
        if t in f_t:
            f_s[s] = f_t[t] @ rotate.T
    return {id(target): as_static(f_t), id(source): as_static(f_s)}, pairs


def as_static(vectors: dict) -> StaticVectors:
    ids = sorted(vectors)
    return StaticVectors(torch.tensor(ids), torch.stack([vectors[i] for i in ids]))


def patch_vectors(monkeypatch, vectors):
    monkeypatch.setattr(static_vectors, "train_static_vectors",  # stage 2 imports it when it runs
                        lambda tokenizer, *args, **kwargs: vectors[id(tokenizer)])


def brute_force(source_embeddings, target, source, vectors, whole_source=True):
    """E^T rows of Eqs. 2-8 computed with full matrices; rows left out are random.

    ``whole_source``: Eq. 3's source side is every source token (the authors' code), else the
    source tokens outside the lexical overlap (``semantic_source="non_overlapping"``).
    """
    f_t, f_s = vectors[id(target)], vectors[id(source)]
    rows = {t: source_embeddings[s].numpy() for t, s in all_lexical(target, source)}
    free_t = [i for i in f_t.ids.tolist() if i not in rows]
    taken = {s for _, s in all_lexical(target, source)} if not whole_source else set()
    free_s = [i for i in f_s.ids.tolist() if i not in taken]
    vec_t = dict(zip(f_t.ids.tolist(), f_t.vectors.numpy(), strict=True))
    vec_s = dict(zip(f_s.ids.tolist(), f_s.vectors.numpy(), strict=True))
    sims = unit(np.stack([vec_t[i] for i in free_t])) @ unit(np.stack([vec_s[j] for j in free_s])).T
    semantic = {free_t[i]: free_s[j] for i, j in enumerate(sims.argmax(1))
                if sims[:, j].argmax() == i}
    rows.update({t: source_embeddings[s].numpy() for t, s in semantic.items()})
    keys = [i for i in rows if i in vec_t]
    remaining = [i for i in vec_t if i not in rows]
    cos = unit(np.stack([vec_t[i] for i in remaining])) @ unit(np.stack([vec_t[i] for i in keys])).T
    values = np.stack([rows[i] for i in keys]).astype(np.float64)
    for a, c in zip(remaining, cos, strict=True):
        rows[a] = reference_sparsemax(c.astype(np.float64)) @ values
    return rows, semantic


@pytest.mark.parametrize("semantic_source", ["vocabulary", "non_overlapping"])
def test_initialize_matches_brute_force(monkeypatch, tmp_path, source_embeddings,
                                        source_tokenizer, target_tokenizer, semantic_source):
    vectors, _ = fake_vectors(target_tokenizer, source_tokenizer, seed=0)
    patch_vectors(monkeypatch, vectors)
    config = TINY.model_copy(update={"semantic_source": semantic_source})
    matrix, report = initialize_embeddings(source_embeddings, source_tokenizer, target_tokenizer,
                                           CORPUS, config, tmp_path)
    whole = semantic_source == "vocabulary"
    expected, semantic = brute_force(source_embeddings, target_tokenizer, source_tokenizer, vectors,
                                     whole_source=whole)
    _, other = brute_force(source_embeddings, target_tokenizer, source_tokenizer, vectors,
                           whole_source=not whole)
    assert semantic != other  # the fixture tells the two source sides apart
    assert matrix.shape == (len(target_tokenizer), HIDDEN)
    for row, values in expected.items():
        assert np.allclose(matrix[row].numpy(), values, atol=1e-5), row
    exact = len(lexical_overlap(target_tokenizer, source_tokenizer))
    folded = len(all_lexical(target_tokenizer, source_tokenizer)) - exact
    assert report["lexical"] == exact and report["lexical_casefold"] == folded > 0
    assert report["semantic"] == len(semantic) > 0
    assert report["weighted"] == len(expected) - exact - folded - len(semantic) > 0
    assert report["random"] == len(target_tokenizer) - len(expected) > 0
    assert report["total"] == len(target_tokenizer) == sum(report[rule] for rule in RULES)
    random_rows = [i for i in range(len(target_tokenizer)) if i not in expected]
    assert torch.isfinite(matrix[random_rows]).all() and matrix[random_rows].std() > 0.1


def test_procrustes_option_recovers_planted_pairs(monkeypatch, tmp_path, source_embeddings,
                                                   source_tokenizer, target_tokenizer):
    rotation, _ = torch.linalg.qr(torch.randn(8, 8, generator=torch.Generator().manual_seed(9)))
    vectors, planted = fake_vectors(target_tokenizer, source_tokenizer, seed=1, rotation=rotation)
    patch_vectors(monkeypatch, vectors)
    found = {}
    for option in ("none", "procrustes"):
        config = TINY.model_copy(update={"semantic_alignment": option})
        matrix, _ = initialize_embeddings(source_embeddings, source_tokenizer, target_tokenizer,
                                          CORPUS, config, tmp_path)
        found[option] = sum(torch.equal(matrix[t], source_embeddings[s]) for t, s in planted
                            if t % 7 != 3)
    has_vector = sum(t % 7 != 3 for t, _ in planted)
    assert found["procrustes"] == has_vector > found["none"]


def test_procrustes_report_keeps_the_ngram_and_drawn_flags(tmp_path, source_embeddings,
                                                           source_tokenizer, target_tokenizer):
    """Rotating F^S changes its vectors, not which of them are n-gram vectors or stand-ins."""
    reports = {}
    for option in ("none", "procrustes"):
        config = TINY.model_copy(update={"semantic_alignment": option})
        _, reports[option] = initialize_embeddings(source_embeddings, source_tokenizer,
                                                   target_tokenizer, CORPUS, config,
                                                   tmp_path / option)
    flags = [f"fasttext_{side}_{flag}" for side in ("target", "source")
             for flag in ("tokens", "ngram", "drawn")]
    assert reports["none"]["fasttext_source_ngram"] > 0 and reports["none"]["fasttext_source_drawn"] > 0
    assert {key: reports["procrustes"][key] for key in flags} == \
        {key: reports["none"][key] for key in flags}


def test_random_init_is_xavier_normal(tmp_path, source_embeddings, source_tokenizer,
                                      target_tokenizer):
    config = EmbeddingInitConfig(init="random")
    first, report = initialize_embeddings(source_embeddings, source_tokenizer, target_tokenizer,
                                          CORPUS, config, tmp_path, seed=1)
    again, _ = initialize_embeddings(source_embeddings, source_tokenizer, target_tokenizer,
                                     CORPUS, config, tmp_path, seed=1)
    size = len(target_tokenizer)
    assert first.shape == (size, HIDDEN) and torch.equal(first, again)
    assert report == {"lexical": 0, "lexical_casefold": 0, "semantic": 0, "weighted": 0,
                      "random": size, "total": size}
    xavier_std = (2 / (size + HIDDEN)) ** 0.5
    assert abs(first.std().item() / xavier_std - 1) < 0.15 and abs(first.mean().item()) < 0.02


def test_two_runs_give_bit_identical_matrices(tmp_path, source_embeddings, source_tokenizer,
                                              target_tokenizer):
    """Real FastText with the default thread count, twice: the same E^T to the bit.

    With two threads (the earlier default) the matrices differed by up to 0.013 here.
    """
    corpus, config = sentences(TARGET_WORDS, 2000, seed=7), TINY.model_copy(update={"fasttext_epochs": 3})
    first, report = initialize_embeddings(source_embeddings, source_tokenizer, target_tokenizer,
                                          corpus, config, tmp_path / "first")
    again, _ = initialize_embeddings(source_embeddings, source_tokenizer, target_tokenizer,
                                     corpus, config, tmp_path / "again")
    assert report["weighted"] > 0 and torch.equal(first, again)


def test_rare_tokens_random_keeps_the_earlier_rule(tmp_path, source_embeddings,
                                                   source_tokenizer, target_tokenizer):
    """Tokens seen fewer than min_count times get random rows; the n-gram default gets none."""
    counts = {}
    for ids in target_tokenizer(CORPUS, add_special_tokens=False)["input_ids"]:
        for i in ids:
            counts[i] = counts.get(i, 0) + 1
    aligned = {t for t, _ in all_lexical(target_tokenizer, source_tokenizer)}
    rare = [i for i in range(len(target_tokenizer)) if counts.get(i, 0) < 30 and i not in aligned]
    legacy = TINY.model_copy(update={"rare_tokens": "random", "fasttext_min_count": 30})
    _, report = initialize_embeddings(source_embeddings, source_tokenizer, target_tokenizer,
                                      CORPUS, legacy, tmp_path)
    assert report["random"] == len(rare) > 0
    assert report["fasttext_source_tokens"] < len(source_tokenizer)
    _, report = initialize_embeddings(source_embeddings, source_tokenizer, target_tokenizer,
                                      CORPUS, TINY, tmp_path)
    assert report["random"] == 0 and report["fasttext_target_tokens"] == len(target_tokenizer)
    assert report["fasttext_source_tokens"] == len(source_tokenizer)  # Eq. 3 searches them all
    assert sum(report[rule] for rule in RULES) == report["total"] == len(target_tokenizer)


def test_casefold_option(tmp_path, source_embeddings, source_tokenizer, target_tokenizer):
    folded = dict(all_lexical(target_tokenizer, source_tokenizer)[
        len(lexical_overlap(target_tokenizer, source_tokenizer)):])
    assert folded  # "▁Dog" / "▁FOX" of the target fold onto the source's "▁dog" / "▁fox"
    for option in (True, False):
        config = TINY.model_copy(update={"lexical_casefold": option})
        matrix, report = initialize_embeddings(source_embeddings, source_tokenizer,
                                               target_tokenizer, CORPUS, config, tmp_path)
        copied = [torch.equal(matrix[t], source_embeddings[s]) for t, s in folded.items()]
        assert report["lexical_casefold"] == (len(folded) if option else 0)
        assert all(copied) if option else not all(copied)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory, source_tokenizer, spm_dir):
    """Backbone, tokenizer and corpus artifact directories, as the upstream stages write them."""
    root = tmp_path_factory.mktemp("artifacts")
    config = XLMRobertaConfig(vocab_size=len(source_tokenizer), hidden_size=HIDDEN,
                              num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                              max_position_embeddings=64)
    backbone = root / "backbone"
    torch.manual_seed(0)
    XLMRobertaModel(config).save_pretrained(backbone / "model")
    source_tokenizer.save_pretrained(backbone / "model")
    (backbone / "backbone.json").write_text(json.dumps(
        {"name": "tiny-xlmr", "arch": "xlmr", "pretrained": "model"}))
    (root / "corpus").mkdir()
    (root / "corpus" / "corpus.txt").write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    return {"backbone": backbone, "tokenizer": spm_dir, "corpus": root / "corpus"}


class Ready(Stage):
    """An upstream stage whose artifact is already on disk (copied in by run)."""

    def __init__(self, kind, source):
        super().__init__(None)
        self.kind, self.source = kind, source

    def run(self, ctx, inputs, out):
        import shutil

        shutil.copytree(self.source, out, dirs_exist_ok=True)


def check_artifact(out, backbone_dir):
    tokenizer = AutoTokenizer.from_pretrained(out / "tokenizer")
    matrix = torch.load(out / "embeddings.pt")
    report = json.loads((out / "init_report.json").read_text())
    assert matrix.shape == (len(tokenizer), HIDDEN)
    assert report["total"] == len(tokenizer) == sum(report[rule] for rule in RULES)
    source = XLMRobertaModel.from_pretrained(backbone_dir / "model").get_input_embeddings().weight
    source_tokenizer = AutoTokenizer.from_pretrained(backbone_dir / "model")
    for t, s in lexical_overlap(tokenizer, source_tokenizer):
        assert torch.equal(matrix[t], source[s].detach())
    return report


def test_stage_writes_the_artifact(tmp_path, artifacts):
    upstream = {name: Ready(name, path) for name, path in artifacts.items()}
    stage = EmbeddingInitStage(TINY, seed=0, **upstream)
    cache = Cache(tmp_path / "cache")
    context = StageContext(cache=cache, progress=False)
    for dependency in upstream.values():
        cache.materialize(dependency, context)
    out = cache.materialize(stage, context)
    report = check_artifact(out, artifacts["backbone"])
    assert stage.summary(out) == report and report["lexical"] > 0


def test_command(tmp_path, artifacts):
    out = tmp_path / "out"
    result = CliRunner().invoke(init_embeddings, [
        "--backbone", str(artifacts["backbone"] / "model"),
        "--tokenizer", str(artifacts["tokenizer"]),
        "--corpus", str(artifacts["corpus"] / "corpus.txt"), "--out", str(out),
        "--fasttext-dim", "8", "--fasttext-epochs", "1", "--rare-tokens", "random",
        "--fasttext-min-count", "2", "--no-lexical-casefold", "--threads", "1"])
    assert result.exit_code == 0, result.output
    report = check_artifact(out, artifacts["backbone"])
    assert "lexical" in result.output and report["lexical_casefold"] == 0


@pytest.mark.parametrize("arch", ["xlmr", "bert", "gpt2", "mbart"])
def test_every_tiny_backbone(tmp_path, spm_dir, arch):
    spec = next(BACKBONES.get(name) for name in BACKBONES if BACKBONES.get(name).tiny
                and BACKBONES.get(name).arch == arch)
    build_tiny_backbone(spec, sentences(SOURCE_WORDS, 200, seed=6), tmp_path / "model", seed=0,
                        vocab_size=300)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(CORPUS), encoding="utf-8")
    report = build_embedding_artifact(str(tmp_path / "model"), spm_dir / "spm.model", corpus, TINY,
                                      tmp_path / "out")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "out" / "tokenizer")
    source = AutoModel.from_pretrained(tmp_path / "model").get_input_embeddings().weight.detach()
    matrix = torch.load(tmp_path / "out" / "embeddings.pt")
    assert matrix.shape == (len(tokenizer), source.shape[1]) == (report["total"], source.shape[1])
    assert report["lexical"] > 5 and report["weighted"] > 0 and report["random"] == 0
    assert sum(report[rule] for rule in RULES) == report["total"]
    source_tokenizer = AutoTokenizer.from_pretrained(tmp_path / "model")
    for t, s in lexical_overlap(tokenizer, source_tokenizer):
        assert torch.equal(matrix[t], source[s])


def test_command_help_and_missing_spm(tmp_path):
    assert "Example" in CliRunner().invoke(init_embeddings, ["--help"]).output
    corpus = tmp_path / "c.txt"
    corpus.write_text("x\n")
    args = ["--tokenizer", str(tmp_path), "--corpus", str(corpus), "--out", str(tmp_path)]
    result = CliRunner().invoke(init_embeddings, ["--backbone", "b", *args])
    assert result.exit_code == 2 and "spm.model" in result.output
    (tmp_path / "spm.model").write_bytes(b"")
    result = CliRunner().invoke(init_embeddings, ["--backbone", str(tmp_path), *args])
    assert result.exit_code == 2 and "config.json" in result.output
    assert "Traceback" not in result.output
