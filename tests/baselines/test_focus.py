"""FOCUS: overlapping tokens copy the backbone's rows; the stage equals deepfocus run directly."""

import json
import subprocess
import sys

import pytest
import torch
from transformers import AutoTokenizer

from baselines.focus import FocusConfig, FocusInitStage
from harness.core.graph import StageContext
from harness.methods.unibridge.embeddings import load_source
from harness.methods.unibridge.target_tokenizer import build_target_tokenizer


@pytest.fixture(scope="module")
def artifacts(make_stage_inputs):
    """Backbone, stage-1 tokenizer and corpus artifacts of a tiny XLM-R and an Amharic-ish corpus."""
    root = make_stage_inputs("tiny-xlmr", "xlmr")
    out = root / "out"
    out.mkdir()
    FocusInitStage(FocusConfig(), seed=3).run(
        StageContext(seed=3, progress=False),
        {name: root / name for name in ("backbone", "tokenizer", "corpus")}, out)
    return root


@pytest.mark.slow  # the FOCUS stage's fastText training: tens of seconds
def test_overlapping_tokens_copy_the_backbone_rows(artifacts):
    source_tokenizer, source = load_source(str(artifacts / "backbone" / "model"))
    target_tokenizer = AutoTokenizer.from_pretrained(artifacts / "out" / "tokenizer")
    matrix = torch.load(artifacts / "out" / "embeddings.pt")
    assert matrix.shape == (len(target_tokenizer), source.shape[1])
    shared = target_tokenizer.get_vocab().keys() & source_tokenizer.get_vocab().keys()
    assert len({t for t in shared if t.isalpha()}) >= 5  # not only special tokens overlap
    for token in shared:
        assert torch.equal(matrix[target_tokenizer.convert_tokens_to_ids(token)],
                           source[source_tokenizer.convert_tokens_to_ids(token)]), token
    report = json.loads((artifacts / "out" / "init_report.json").read_text())
    assert report["total"] == len(target_tokenizer) and report["overlapping"] >= len(shared)


DIRECT_FOCUS = """
import sys, torch
from deepfocus import FOCUS, fasttext_embs
from transformers import AutoTokenizer
work, corpus = sys.argv[1], sys.argv[2]
fasttext_embs.CACHE_DIR = __import__("pathlib").Path(work) / "cache"  # keep it out of ~/.cache
matrix = FOCUS(target_tokenizer=AutoTokenizer.from_pretrained(work + "/target"),
               source_tokenizer=AutoTokenizer.from_pretrained(work + "/source"),
               source_embeddings=torch.load(work + "/source.pt"),
               auxiliary_embedding_mode="fasttext-tokenlevel", target_training_data_path=corpus,
               fasttext_model_epochs=3, fasttext_model_dim=100, fasttext_model_min_count=10,
               processes=1, seed=3, verbosity="silent")
torch.save(matrix, work + "/direct.pt")
"""


@pytest.mark.slow  # the FOCUS stage's fastText training: tens of seconds
def test_stage_equals_deepfocus_run_directly(artifacts, tmp_path):
    """deepfocus's FOCUS itself, in a fresh interpreter (fastText's heap: fasttext_process)."""
    source_tokenizer, source = load_source(str(artifacts / "backbone" / "model"))
    target_tokenizer = build_target_tokenizer(artifacts / "tokenizer" / "spm.model", source_tokenizer)
    target_tokenizer.save_pretrained(tmp_path / "target")
    source_tokenizer.save_pretrained(tmp_path / "source")
    torch.save(source, tmp_path / "source.pt")
    subprocess.run([sys.executable, "-c", DIRECT_FOCUS, str(tmp_path),
                    str(artifacts / "corpus" / "corpus.txt")], check=True, capture_output=True)
    assert torch.equal(torch.load(artifacts / "out" / "embeddings.pt"), torch.load(tmp_path / "direct.pt"))


def test_shares_stage_one_and_sources_with_unibridge_not_stage_two(plan_of, method_stages):
    plan = plan_of({"unibridge": {}, "focus": {}})
    full, focus = method_stages(plan, "unibridge"), method_stages(plan, "focus")
    own = sorted(stage.kind for key, stage in focus.items() if key not in full)
    # FOCUS's embeddings, the target adapter on them, its 5 distances and the evaluation
    assert own == ["evaluation", "focus_init"] + ["harmony_distance"] * 5 + ["language_adapter"]
    assert "vocab_search" in {stage.kind for key, stage in focus.items() if key in full}


def test_fails_validation_on_backbones_the_paper_does_not_pair_it_with(plan_of):
    from harness.suite.schema import SuiteError

    with pytest.raises(SuiteError, match="focus.*gpt2"):
        plan_of({"focus": {}}, backbones=("tiny-mgpt",))


@pytest.mark.slow  # the FOCUS stage's fastText training: tens of seconds
def test_deepfocus_bars_show_only_when_its_logger_is_at_info(artifacts, capfd):
    import logging

    from baselines.focus import overlap_count

    source_tokenizer, _ = load_source(str(artifacts / "backbone" / "model"))
    target_tokenizer = build_target_tokenizer(artifacts / "tokenizer" / "spm.model", source_tokenizer)
    quiet = overlap_count(target_tokenizer, source_tokenizer)
    assert capfd.readouterr().err == ""
    logger = logging.getLogger("deepfocus")
    level = logger.level
    logger.setLevel(logging.INFO)  # what -v leaves it at
    try:
        assert overlap_count(target_tokenizer, source_tokenizer) == quiet
    finally:
        logger.setLevel(level)
    assert "Canonicalizing" in capfd.readouterr().err
