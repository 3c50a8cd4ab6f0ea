"""A fine-tuned flex-head model survives save and load with its (possibly custom) task head."""

import pytest
import torch
from transformers import AutoTokenizer

from harness.models.heads import add_task_head
from harness.models.loading import load_adapter_model
from harness.stages.evaluation import TASK_HEAD, load_finetuned, save_finetuned
from harness.tasks.specs import get_task

NAMES = ["tiny-xlmr", "tiny-mbart"]
CORPUS = ["the cat sat on the mat", "a dog ran in the park", "Addis Ababa is a city"] * 5


@pytest.fixture(scope="module")
def backbones(build_backbones):
    return build_backbones(NAMES, CORPUS, vocab_size=100)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("task", ["ner", "nli"])
def test_round_trip_gives_the_same_logits(backbones, tmp_path, name, task):
    tokenizer = AutoTokenizer.from_pretrained(backbones / name)
    torch.manual_seed(0)
    model = load_adapter_model(str(backbones / name))
    add_task_head(model, TASK_HEAD, get_task(task))
    model.eval()
    batch = tokenizer(["the cat sat", "a dog ran in Addis"], padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model(**batch).logits
    save_finetuned(model, tokenizer, tmp_path / "model")
    loaded = load_finetuned(tmp_path / "model").eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(**batch).logits, expected)
    assert list(loaded.heads) == [TASK_HEAD]
