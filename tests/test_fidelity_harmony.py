"""Stage 5 under ``fidelity: authors``: harmony weights against the authors' ``weight.py``.

Their computation is ``gen_weight`` of ``xlm/weight.py`` and ``mbert/weight.py`` at commit
6a38462. Two levels, each in two forms:

- states: their pooling, distance and softmax lines (``mean_pooling`` and the "DIFFERENCE" block
  of ``gen_weight``, ``weight.py:83-86,161-171``) against the harness's ``mean_pool``,
  ``language_distance`` and ``harmony_weights`` on the same token states;
- model: their whole ``gen_weight`` (reading their alignment files, tokenizing, the model's
  forward, pooling, distance, softmax) on a tiny backbone of the harness with the languages
  loaded, against :func:`harness.methods.unibridge.harmony.pair_distance` under the authors'
  options. Their ``XLMRobertaAdapterModel`` / ``BertAdapterModel`` is a stand-in that runs the
  harness model's base model (what an adapter model without a head returns), their tokenizers
  the tiny ones, ``load_adapter`` a no-op (the adapters are loaded beforehand).

Recorded form: ``tests/fixtures/authors/harmony_weights.json`` (their weights, with the commit and
the command); live form: with ``UNIBRIDGE_AUTHORS_REPO`` set, their functions run now (loaded from
their files with ``ast``; the modules import adapter-transformers). Re-record (also needed when
the tiny backbones change)::

    UNIBRIDGE_RECORD_AUTHORS=1 UNIBRIDGE_AUTHORS_REPO=/path/to/UniBridge \
        python3 -m pytest tests/test_fidelity_harmony.py -k run_now
"""

from __future__ import annotations

import ast
import json
import os
import re
import types
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from adapters import AutoAdapterModel
from transformers import AutoTokenizer

from harness.methods.unibridge.authors import AUTHORS_COMMIT
from harness.methods.unibridge.harmony import (
    activate_language,
    harmony_weights,
    language_distance,
    pair_distance,
)
from harness.methods.unibridge.inference import InferenceConfig, authors_options
from harness.methods.unibridge.kl import mean_pool
from harness.models.loading import install_target_embeddings, language_adapter_config
from harness.models.tiny_tokenizers import train_tiny_tokenizer

ROOT = Path(__file__).resolve().parents[1]
RECORDED = ROOT / "tests" / "fixtures" / "authors" / "harmony_weights.json"
COMMAND = ("UNIBRIDGE_RECORD_AUTHORS=1 UNIBRIDGE_AUTHORS_REPO=<checkout> "
           "python3 -m pytest tests/test_fidelity_harmony.py -k run_now")
#: Their two-letter codes → the harness's; ``xlm/weight.py:98`` weighs four, ``mbert/weight.py:97`` five.
SOURCES = {"xlm": ("en", "ru", "zh", "ar"), "mbert": ("en", "ru", "zh", "ar", "ja")}
CODES = {"en": ("eng", "eng_Latn"), "ru": ("rus", "rus_Cyrl"), "zh": ("zho", "zho_Hant"),
         "ar": ("ara", "arb_Arab"), "ja": ("jpn", "jpn_Jpan")}
ARCH = {"xlm": "xlmr", "mbert": "bert"}
BACKBONE = {"xlm": "tiny-xlmr", "mbert": "tiny-mbert"}
SOURCE_TEXT = ["the cat sat on the mat", "a dog ran in the park", "the river flows through the old city",
               "capital cities grow quickly", "Beijing is in China", "the old park by the river"]
TARGET_TEXT = ["ሰላም ለዓለም the cat sat on the old mat by the river in the city",
               "ዓለም sat on", "the old ሰላም city"]
#: Tokens kept under the paper's truncation: below the longest target sentence, so it matters.
MAX_LENGTH = 8


def their_functions(repo: Path, tree: str, **stand_ins) -> dict:
    """The functions of their ``<tree>/weight.py``, exec'd in a namespace of stand-ins."""
    path = repo / tree / "weight.py"
    body = [node for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.FunctionDef)]
    namespace = {"json": json, "os": os, "re": re, "torch": torch, "nn": torch.nn, "F": F,
                 "Dict": dict, "List": list, "tqdm": lambda items, **_: items, **stand_ins}
    exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), namespace)
    return namespace


def their_difference_block(repo: Path, tree: str):
    """``gen_weight``'s lines from ``diffs = []`` to the softmax, as a function of (outs, tgt_outs)."""
    path = repo / tree / "weight.py"
    gen_weight = next(node for node in ast.parse(path.read_text(encoding="utf-8")).body
                      if isinstance(node, ast.FunctionDef) and node.name == "gen_weight")
    start = next(i for i, node in enumerate(gen_weight.body)
                 if isinstance(node, ast.Assign) and ast.unparse(node) == "diffs = []")
    end = next(i for i, node in enumerate(gen_weight.body)
               if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "sim")
    block = ast.Module(body=gen_weight.body[start:end + 1], type_ignores=[])
    code = compile(block, str(path), "exec")

    def weights(outs, tgt_outs):
        namespace = {"torch": torch, "F": F, "List": list, "outs": outs, "tgt_outs": tgt_outs}
        exec(code, namespace)
        return namespace["sim"]

    return weights


# --- states ------------------------------------------------------------------------------

def state_inputs() -> dict:
    """Token states of a target and four sources (K = 3 sentences, padded), as plain lists."""
    generator = torch.Generator().manual_seed(5)
    masks = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 1]])
    sides = {side: (torch.randn(3, 5, 4, generator=generator) * scale).round(decimals=4).tolist()
             for side, scale in [("target", 1.0), ("en", 1.2), ("ru", 1.5), ("zh", 2.0), ("ar", 0.8)]}
    return {"mask": masks.tolist(), "states": sides}


def our_state_weights(inputs: dict) -> dict:
    mask = torch.tensor(inputs["mask"])
    pooled = {side: mean_pool(torch.tensor(states), mask) for side, states in inputs["states"].items()}
    return harmony_weights({side: language_distance(pooled["target"], states)
                            for side, states in pooled.items() if side != "target"})


def their_state_weights(repo: Path, inputs: dict) -> dict:
    mean_pooling = their_functions(repo, "xlm")["mean_pooling"]
    mask = torch.tensor(inputs["mask"])
    pooled = {side: mean_pooling((torch.tensor(states),), mask) for side, states in inputs["states"].items()}
    sources = [side for side in inputs["states"] if side != "target"]
    weights = their_difference_block(repo, "xlm")([pooled[s] for s in sources], [pooled["target"]])
    return dict(zip(sources, weights))


# --- model -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def backbones(build_backbones):
    return build_backbones(list(BACKBONE.values()), SOURCE_TEXT * 4, vocab_size=120)


def perturb(module, generator, scale):
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(scale * torch.randn(parameter.shape, generator=generator))


def languages(backbones, tree: str):
    """A tiny backbone of ``tree``'s family holding the target and every source language."""
    generator = torch.Generator().manual_seed(11)
    torch.manual_seed(0)  # the adapters' own initialisation draws from the global generator
    model = AutoAdapterModel.from_pretrained(backbones / BACKBONE[tree])
    source_tokenizer = AutoTokenizer.from_pretrained(backbones / BACKBONE[tree])
    target_tokenizer = train_tiny_tokenizer(ARCH[tree], TARGET_TEXT * 4, 60)
    hidden = model.config.hidden_size
    install_target_embeddings(model, target_tokenizer,
                              torch.randn(len(target_tokenizer), hidden, generator=generator), "target")
    for name in ["target"] + [f"language_{CODES[s][0]}" for s in SOURCES[tree]]:
        model.add_adapter(name, config=language_adapter_config(model))
        perturb(model.base_model.invertible_adapters[name], generator, 0.3)
    model.eval()
    return model, source_tokenizer, target_tokenizer


def pairs(tree: str) -> dict[str, list[tuple[str, str]]]:
    """Per source, K = 3 (target, source) pairs: a different source side per source."""
    return {s: [(t, SOURCE_TEXT[(i + n) % len(SOURCE_TEXT)]) for i, t in enumerate(TARGET_TEXT)]
            for n, s in enumerate(SOURCES[tree])}


def our_model_weights(model, source_tokenizer, target_tokenizer, tree: str) -> dict:
    """Eqs. 10-13 as HarmonyDistanceStage computes them, under the authors' options."""
    config = InferenceConfig(**authors_options(tree), max_length=MAX_LENGTH)
    distances = {}
    for source, sentence_pairs in pairs(tree).items():
        distances[source] = pair_distance(  # DistanceConfig's fields, copied from ``config``
            model, sentence_pairs, ("target", target_tokenizer),
            (f"language_{CODES[source][0]}", source_tokenizer), config.batch_size,
            config.max_length, "last_layer", config.harmony_state, config.harmony_truncation)
    return harmony_weights(distances)


class _TheirModel:
    """Their adapter model without a head, over the harness model: ``model(**batch)[0]``."""

    def __init__(self, model):
        self.model, self.device = model, torch.device("cpu")

    def load_adapter(self, path, load_as, leave_out):  # loaded beforehand, under the harness's name
        assert leave_out == [11]

    def set_input_embeddings(self, embeddings):  # the target's embeddings come with activation
        pass

    def set_active_adapters(self, names):
        (name,) = names
        activate_language(self.model, "target" if name == "am" else f"language_{CODES[name][0]}")

    def to(self, device):
        return self

    def eval(self):
        self.model.eval()

    def __call__(self, **batch):
        return self.model.base_model(**batch)


def their_model_weights(repo: Path, model, source_tokenizer, target_tokenizer, tree: str,
                        workdir: Path) -> dict:
    """Their ``gen_weight("am")`` over the tiny model, from alignment files in their format."""
    for source, sentence_pairs in pairs(tree).items():
        path = workdir / "alignment" / "flores" / "am" / f"amh_Ethi-{CODES[source][1]}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(f"{CODES[source][1]}: {s}\namh_Ethi: {t}" for t, s in sentence_pairs)
                        + "\n", encoding="utf-8")
    english = pairs(tree)["en"]
    stand_in = _TheirModel(model)
    model_class = types.SimpleNamespace(from_pretrained=lambda _: stand_in)
    source_class = types.SimpleNamespace(from_pretrained=lambda _: source_tokenizer)
    namespace = their_functions(
        repo, tree, XLMRobertaAdapterModel=model_class, BertAdapterModel=model_class,
        XLMRobertaTokenizerFast=source_class, BertTokenizerFast=source_class,
        SPTokenizerFast=types.SimpleNamespace(from_pretrained=lambda _: target_tokenizer),
        UniBridgeEmbedding=types.SimpleNamespace(from_pretrained=lambda _: None))
    assert [t for t, _ in english] == namespace["load_data"](
        str(workdir / "alignment/flores/am/amh_Ethi-eng_Latn.txt"), False, len("eng_Latn: "))
    cwd = os.getcwd()
    os.chdir(workdir)  # their gen_weight reads alignment/ and writes harmony_weights/ here
    try:
        namespace["gen_weight"]("am", from_flores=True)
        weights = json.loads(Path("harmony_weights/weights.json").read_text())["am"]
    finally:
        os.chdir(cwd)
    return weights


# --- tests -------------------------------------------------------------------------------

def recorded() -> dict:
    return json.loads(RECORDED.read_text())


def test_state_level_weights_equal_the_recorded_authors_weights():
    values = recorded()["states"]
    assert values["inputs"] == state_inputs()
    ours = our_state_weights(values["inputs"])
    assert ours == pytest.approx(values["weights"], rel=1e-6)


@pytest.mark.parametrize("tree", ["xlm", "mbert"])
def test_model_level_weights_equal_the_recorded_authors_weights(backbones, tree):
    model, source_tokenizer, target_tokenizer = languages(backbones, tree)
    ours = our_model_weights(model, source_tokenizer, target_tokenizer, tree)
    assert ours == pytest.approx(recorded()["model"][tree], rel=1e-5)


@pytest.mark.parametrize("tree", ["xlm", "mbert"])
def test_each_authors_option_moves_the_weights(backbones, tree):
    """The recorded form can fail: the paper's state or truncation gives other weights."""
    model, source_tokenizer, target_tokenizer = languages(backbones, tree)
    ours = our_model_weights(model, source_tokenizer, target_tokenizer, tree)
    for option, paper in [("harmony_state", "pi_unibridge"), ("harmony_truncation", "max_length")]:
        changed = InferenceConfig(**authors_options(tree) | {option: paper}, max_length=MAX_LENGTH)
        distances = {s: pair_distance(model, p, ("target", target_tokenizer),
                                      (f"language_{CODES[s][0]}", source_tokenizer), 32, MAX_LENGTH,
                                      "last_layer", changed.harmony_state, changed.harmony_truncation)
                     for s, p in pairs(tree).items()}
        assert harmony_weights(distances) != pytest.approx(ours, rel=1e-4), option


def test_recording_names_commit_and_command():
    values = recorded()
    assert values["commit"] == AUTHORS_COMMIT and values["command"] == COMMAND
    assert values["functions"] == ["xlm/weight.py:mean_pooling", "xlm/weight.py:gen_weight",
                                   "mbert/weight.py:gen_weight"]


def test_authors_options_reach_the_distance_stage_and_the_paper_s_keys_stay(tmp_path):
    from harness.data.parallel import ParallelCorpus, ParallelRef
    from harness.data.source import DataSource

    (tmp_path / "data").mkdir()
    for lang in ("amh", "eng"):
        (tmp_path / "data" / f"{lang}.txt").write_text("x\n", encoding="utf-8")
    parallel = ParallelRef.of(ParallelCorpus(format="folder", data=DataSource(path=tmp_path / "data")),
                              "amh", "eng")
    for tree in ("xlm", "mbert"):
        config = InferenceConfig(**authors_options(tree)).distance_config("amh", "eng", parallel)
        assert (config.harmony_state, config.harmony_truncation) == ("raw_last_layer", "none")
        assert config.model_dump()["harmony_state"] == "raw_last_layer"
    for dumped in (InferenceConfig().model_dump(),
                   InferenceConfig().distance_config("amh", "eng", parallel).model_dump()):
        assert "harmony_state" not in dumped and "harmony_truncation" not in dumped


AUTHORS_REPO = os.environ.get("UNIBRIDGE_AUTHORS_REPO")
live = pytest.mark.skipif(not AUTHORS_REPO, reason="UNIBRIDGE_AUTHORS_REPO (their checkout) is not set")


@live
def test_state_level_weights_equal_their_lines_run_now():
    inputs = state_inputs()
    theirs = their_state_weights(Path(AUTHORS_REPO), inputs)
    assert our_state_weights(inputs) == pytest.approx(theirs, rel=1e-6)


@live
@pytest.mark.parametrize("tree", ["xlm", "mbert"])
def test_model_level_weights_equal_their_gen_weight_run_now(backbones, tree, tmp_path):
    model, source_tokenizer, target_tokenizer = languages(backbones, tree)
    theirs = their_model_weights(Path(AUTHORS_REPO), model, source_tokenizer, target_tokenizer,
                                 tree, tmp_path)
    ours = our_model_weights(model, source_tokenizer, target_tokenizer, tree)
    assert list(theirs) == list(SOURCES[tree])
    assert ours == pytest.approx(theirs, rel=1e-5)
    if os.environ.get("UNIBRIDGE_RECORD_AUTHORS"):
        values = recorded() if RECORDED.is_file() else {}
        inputs = state_inputs()
        values.update({"commit": AUTHORS_COMMIT, "command": COMMAND,
                       "functions": ["xlm/weight.py:mean_pooling", "xlm/weight.py:gen_weight",
                                     "mbert/weight.py:gen_weight"],
                       "states": {"inputs": inputs,
                                  "weights": their_state_weights(Path(AUTHORS_REPO), inputs)}})
        values.setdefault("model", {})[tree] = theirs
        RECORDED.parent.mkdir(parents=True, exist_ok=True)
        RECORDED.write_text(json.dumps(values, indent=1) + "\n", encoding="utf-8")
