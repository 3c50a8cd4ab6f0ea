"""Backbones a suite declares itself, their checkpoint checks at validate, and --device cuda.

A tiny XLM-R saved by the test stands in for a user's checkpoint; the suite names it with a
path relative to the suite file. Every bad checkpoint is one message at ``validate`` (exit 2,
no traceback) naming the suite key and the file. The slow test runs a Turkish target, a
language no dataset module maps, through the whole CLI on that checkpoint.
"""

import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from harness.cli.main import cli
from harness.models.backbones import BACKBONES, BackboneConfig, build_tiny_backbone
from harness.planning.plan import prepare
from harness.run.records import read_results
from harness.suite.schema import load_suite

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TURKISH = FIXTURES / "turkish"
TRAINING = {"max_steps": 3, "batch_size": 4, "max_device_batch_size": 4}
UNIBRIDGE = {
    "vocab": {"start": 100, "step": 100, "max_size": 800},
    "embeddings": {"fasttext_dim": 16},
    "adaptation": {"max_steps": 2, "batch_size": 4, "max_device_batch_size": 4},
    "task_adapter": {"max_steps": 3, "batch_size": 4, "max_device_batch_size": 4},
}


ENGLISH = (FIXTURES / "monolingual" / "eng.txt").read_text(encoding="utf-8").splitlines()


def train_mlm_step(model, tokenizer) -> None:
    """One AdamW step of masked-LM loss on English: every head parameter leaves its initial value."""
    batch = tokenizer(ENGLISH[:8], padding=True, truncation=True, max_length=32, return_tensors="pt")
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(**batch, labels=labels).loss.backward()
    optimizer.step()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A tiny XLM-R with its trained MLM head, saved as a user's checkpoint would be."""
    from transformers import AutoTokenizer, XLMRobertaForMaskedLM

    out = tmp_path_factory.mktemp("user") / "ckpt"
    build_tiny_backbone(BACKBONES.get("tiny-xlmr"), ENGLISH, out, seed=1)
    model = XLMRobertaForMaskedLM.from_pretrained(out)
    train_mlm_step(model, AutoTokenizer.from_pretrained(out))
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def headless_bert(tmp_path_factory) -> Path:
    """A tiny BERT encoder without an MLM head (as e5 or LaBSE are published), with a tokenizer."""
    from transformers import AutoTokenizer, BertModel

    out = tmp_path_factory.mktemp("user") / "encoder"
    build_tiny_backbone(BACKBONES.get("tiny-mbert"), ENGLISH, out / "mlm", seed=1)
    encoder = BertModel.from_pretrained(out / "mlm")
    encoder.save_pretrained(out / "headless")
    AutoTokenizer.from_pretrained(out / "mlm").save_pretrained(out / "headless")
    return out / "headless"


def turkish_suite(tmp_path: Path, backbone: dict, methods: dict | None = None) -> Path:
    """A suite in ``tmp_path/suites/`` with a Turkish NER target and one backbone entry."""
    payload = {
        "name": "turkish",
        "backbones": [backbone],
        "tasks": {"ner": {"targets": ["tur"], "sources": ["eng", "rus"],
                          "data": {"path": str(TURKISH / "wikiann")},
                          "source_data": {"path": str(FIXTURES / "wikiann")}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")},
                        "target_data": {"path": str(TURKISH / "monolingual")},
                        "target_samples": 120, "source_samples": 120, "words_per_sample": 24},
        "parallel": {"path": str(TURKISH / "parallel")},
        "methods": methods or {"zero_shot": {"training": TRAINING}},
    }
    path = tmp_path / "suites" / "turkish.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return path


def user_checkpoint(tmp_path: Path, checkpoint: Path, **config_changes) -> Path:
    """A copy of ``checkpoint`` at ``tmp_path/ckpt`` with config.json keys changed."""
    copy = tmp_path / "ckpt"
    shutil.copytree(checkpoint, copy)
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, **config_changes}))
    return copy


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_clear_message(result, *expected: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, result.output


def test_declared_backbone_validates_with_a_path_relative_to_the_suite(tmp_path, checkpoint):
    shutil.copytree(checkpoint, tmp_path / "ckpt")
    suite = turkish_suite(tmp_path, {"name": "my-xlmr", "pretrained": "../ckpt", "arch": "xlmr"})
    result = invoke("validate", suite)
    assert result.exit_code == 0, result.output
    assert load_suite(suite).backbones[0].pretrained == str((tmp_path / "ckpt").resolve())


def test_registered_backbone_takes_a_relative_pretrained_override(tmp_path, checkpoint):
    shutil.copytree(checkpoint, tmp_path / "ckpt")
    suite = turkish_suite(tmp_path, {"name": "xlm-roberta-base", "pretrained": "../ckpt"})
    result = invoke("validate", suite)
    assert result.exit_code == 0, result.output
    stage = prepare(load_suite(suite)).env.backbone("xlm-roberta-base")
    assert stage.config.pretrained == str((tmp_path / "ckpt").resolve())


def test_hub_ids_stay_hub_ids(tmp_path):
    suite = load_suite(turkish_suite(tmp_path, {"name": "foo", "pretrained": "org/model",
                                                "arch": "bert"}))
    assert suite.backbones[0].pretrained == "org/model" and suite.backbones[0].arch == "bert"


def test_registered_backbones_keep_their_cache_keys():
    assert "arch" not in BackboneConfig(name="xlm-roberta-base").model_dump(mode="json")
    declared = BackboneConfig(name="my-xlmr", pretrained="/ckpt", arch="xlmr")
    assert declared.model_dump(mode="json")["arch"] == "xlmr"
    assert declared.spec().arch == "xlmr" and "my-xlmr" not in BACKBONES


@pytest.mark.parametrize("backbone, expected", [
    ({"name": "foo", "pretrained": "org/model", "arch": "roberta"},
     ("backbones.0.arch", "'xlmr', 'bert', 'gpt2' or 'mbart'")),
    ({"name": "foo", "arch": "xlmr"}, ("backbones.0", "no 'pretrained:'")),
    ({"name": "mbart", "pretrained": "org/model", "arch": "xlmr"},
     ("backbones.0 (mbart)", "built-in backbone of family 'mbart'", "another name")),
    ({"name": "tiny-xlmr", "pretrained": "org/model"}, ("backbones.0 (tiny-xlmr)", "no 'pretrained:'")),
    ({"name": "my-xlmr"}, ("unknown backbone 'my-xlmr'", "arch: xlmr | bert | gpt2 | mbart")),
    ({"name": "foo", "pretrained": "../missing", "arch": "xlmr"},
     ("backbones.0 (foo)", "missing does not exist", "save_pretrained")),
])
def test_bad_backbone_entries_give_one_clear_message(tmp_path, backbone, expected):
    assert_one_clear_message(invoke("validate", turkish_suite(tmp_path, backbone)), *expected)


def test_empty_checkpoint_directory(tmp_path):
    (tmp_path / "ckpt").mkdir()
    suite = turkish_suite(tmp_path, {"name": "foo", "pretrained": "../ckpt", "arch": "xlmr"})
    assert_one_clear_message(invoke("validate", suite), "backbones.0 (foo)", "is an empty directory")


def test_checkpoint_without_config(tmp_path, checkpoint):
    (user_checkpoint(tmp_path, checkpoint) / "config.json").unlink()
    suite = turkish_suite(tmp_path, {"name": "foo", "pretrained": "../ckpt", "arch": "xlmr"})
    assert_one_clear_message(invoke("validate", suite), "ckpt/config.json is missing")


def test_checkpoint_without_lm_head(tmp_path, checkpoint):
    user_checkpoint(tmp_path, checkpoint, architectures=["XLMRobertaModel"])
    suite = turkish_suite(tmp_path, {"name": "foo", "pretrained": "../ckpt", "arch": "xlmr"})
    assert_one_clear_message(invoke("validate", suite), "config.json: architectures ['XLMRobertaModel']",
                             "no language-modelling head", "XLMRobertaForMaskedLM",
                             "without a trained MLM head cannot serve", "random head")


@pytest.mark.parametrize("safetensors", [True, False], ids=["safetensors", "pytorch_model.bin"])
def test_headless_encoder_saved_through_the_mlm_class_is_refused(tmp_path, headless_bert, safetensors):
    """Issue 21.11: what the old refusal suggested makes a random head under the right class."""
    from transformers import AutoTokenizer, BertForMaskedLM

    model = BertForMaskedLM.from_pretrained(headless_bert)
    model.save_pretrained(tmp_path / "ckpt", safe_serialization=safetensors)
    AutoTokenizer.from_pretrained(headless_bert).save_pretrained(tmp_path / "ckpt")
    suite = turkish_suite(tmp_path, {"name": "foo", "pretrained": "../ckpt", "arch": "bert"})
    result = invoke("validate", suite)
    assert_one_clear_message(result, "backbones.0 (foo)", "ckpt: the MLM head was never trained",
                             "cannot serve")
    assert result.output.count("backbones.0") == 1, result.output


def test_the_same_bert_with_a_trained_head_passes(tmp_path, headless_bert):
    from transformers import AutoTokenizer, BertForMaskedLM

    model = BertForMaskedLM.from_pretrained(headless_bert)
    tokenizer = AutoTokenizer.from_pretrained(headless_bert)
    train_mlm_step(model, tokenizer)
    model.save_pretrained(tmp_path / "ckpt")
    tokenizer.save_pretrained(tmp_path / "ckpt")
    suite = turkish_suite(tmp_path, {"name": "foo", "pretrained": "../ckpt", "arch": "bert"})
    result = invoke("validate", suite)
    assert result.exit_code == 0, result.output


def test_headless_weights_under_an_mlm_config_are_refused(tmp_path, headless_bert):
    copy = tmp_path / "ckpt"
    shutil.copytree(headless_bert, copy)
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "architectures": ["BertForMaskedLM"]}))
    suite = turkish_suite(tmp_path, {"name": "foo", "pretrained": "../ckpt", "arch": "bert"})
    assert_one_clear_message(invoke("validate", suite), "the weights hold no MLM head",
                             "cls.predictions.transform.LayerNorm.weight", "cannot serve")


def test_truncated_weights_are_one_message(tmp_path, checkpoint):
    weights = user_checkpoint(tmp_path, checkpoint) / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    suite = turkish_suite(tmp_path, {"name": "foo", "pretrained": "../ckpt", "arch": "xlmr"})
    assert_one_clear_message(invoke("validate", suite), "model.safetensors: not a readable weights file")


def test_checkpoint_of_another_family(tmp_path, checkpoint):
    user_checkpoint(tmp_path, checkpoint)
    suite = turkish_suite(tmp_path, {"name": "foo", "pretrained": "../ckpt", "arch": "bert"})
    assert_one_clear_message(invoke("validate", suite),
                             "model_type 'xlm-roberta' does not match 'arch: bert'", "'bert'")


def test_device_cuda_without_a_gpu_fails_before_any_stage(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    suite = turkish_suite(tmp_path, {"name": "tiny-xlmr"})
    result = invoke("run", suite, "--workdir", tmp_path / "work", "--device", "cuda")
    assert_one_clear_message(result, "--device cuda", "no CUDA GPU", "--device cpu")
    assert not (tmp_path / "work").exists()


@pytest.mark.slow
def test_turkish_target_on_a_declared_backbone_runs_end_to_end(tmp_path, checkpoint):
    shutil.copytree(checkpoint, tmp_path / "ckpt")
    suite = turkish_suite(tmp_path, {"name": "my-xlmr", "pretrained": "../ckpt", "arch": "xlmr"},
                          {"zero_shot": {"training": TRAINING}, "unibridge": UNIBRIDGE})
    workdir = tmp_path / "work"
    result = invoke("run", suite, "--workdir", workdir, "--device", "cpu")
    assert result.exit_code == 0, result.output
    records = {r.method: r for r in read_results(workdir / "results.jsonl")}
    assert set(records) == {"zero_shot", "unibridge"}
    assert all(r.backbone == "my-xlmr" and r.lang == "tur" and 0.0 <= r.value <= 100.0
               for r in records.values())
    assert set(records["unibridge"].details["weights"]) == {"eng", "rus"}
