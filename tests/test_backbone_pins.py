"""Hub backbones are read at a pinned commit, and ``validate`` refuses one it cannot read here.

No network: the hub is offline (``HF_HUB_OFFLINE=1``) and the Hugging Face cache is a folder in
``tmp_path`` laid out as ``huggingface_hub`` writes it (``models--org--name/refs/main`` naming a
commit, ``snapshots/<commit>/config.json``).
"""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from huggingface_hub import constants

from harness.cli.main import cli
from harness.data import hub
from harness.models import backbones
from harness.models.backbones import (
    BACKBONE_FILE,
    BACKBONES,
    BackboneUnavailableError,
    check_backbone_available,
    pretrained_path,
)
from harness.planning.validation import grouped

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PIN = BACKBONES.get("xlm-roberta-base").revision
OTHER = "0" * 40


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache in ``tmp_path``, the hub offline."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(hub.MIRROR_ENV, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf_cache"))
    backbones.pinned_snapshot.cache_clear()
    yield tmp_path / "hf_cache"
    backbones.pinned_snapshot.cache_clear()


def cache_snapshot(cache: Path, hub_id: str, commit: str) -> Path:
    """``models--<id>/snapshots/<commit>/config.json`` and ``refs/main`` naming ``commit``."""
    root = cache / f"models--{hub_id.replace('/', '--')}"
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps(
        {"model_type": "xlm-roberta", "architectures": ["XLMRobertaForMaskedLM"]}), encoding="utf-8")
    (root / "refs").mkdir(exist_ok=True)
    (root / "refs" / "main").write_text(commit, encoding="utf-8")
    return snapshot


def xlmr_suite(tmp_path: Path) -> Path:
    """zero-shot with xlm-roberta-base on local copies of the NER fixtures (amh from eng)."""
    (tmp_path / "mono").mkdir()
    for lang in ("amh", "eng"):
        shutil.copytree(FIXTURES / "wikiann" / lang, tmp_path / "wikiann" / lang)
        shutil.copy(FIXTURES / "monolingual" / f"{lang}.txt", tmp_path / "mono" / f"{lang}.txt")
    payload = {"name": "xlmr", "backbones": ["xlm-roberta-base"], "methods": {"zero_shot": {}},
               "tasks": {"ner": {"targets": ["amh"], "sources": ["eng"], "data": {"path": "wikiann"}}},
               "monolingual": {"data": {"path": "mono"}}}
    path = tmp_path / "xlmr.yaml"
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return path


def test_every_registered_hub_backbone_is_pinned_with_evidence():
    for name in BACKBONES.names():
        spec = BACKBONES.get(name)
        if not spec.tiny:
            assert hub.is_commit(spec.revision) and "seen 20" in spec.evidence, name


def test_validate_refuses_a_backbone_neither_cached_nor_reachable(tmp_path, offline_cache):
    path = xlmr_suite(tmp_path)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines[1:] == [
        "backbones.0 (xlm-roberta-base@e73636d): not here, and not downloadable here "
        "(HF_HUB_OFFLINE is set)",
        lines[-1]]
    assert lines[-1].startswith(f"to do: run `unibridge-bench fetch {path} --to DIR`")
    assert "pretrained: DIR" in lines[-1]
    # the data check is what says it: --no-data-check does not ask
    assert CliRunner().invoke(cli, ["validate", str(path), "--no-data-check"]).exit_code == 0


def test_validate_passes_with_the_pinned_commit_cached(tmp_path, offline_cache):
    cache_snapshot(offline_cache, "xlm-roberta-base", PIN)
    result = CliRunner().invoke(cli, ["validate", str(xlmr_suite(tmp_path))])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{tmp_path / 'xlmr.yaml'}: ok (1 jobs)")


def test_validate_refuses_a_cached_snapshot_of_another_commit(tmp_path, offline_cache):
    cache_snapshot(offline_cache, "xlm-roberta-base", OTHER)  # what refs/main names: not the pin
    result = CliRunner().invoke(cli, ["validate", str(xlmr_suite(tmp_path))])
    assert result.exit_code == 2, result.output
    assert ("backbones.0 (xlm-roberta-base@e73636d): not here, and not downloadable here "
            f"(HF_HUB_OFFLINE is set; the Hugging Face cache holds commit {OTHER}, not the pin)"
            ) in result.output.splitlines()


def test_readers_get_the_pinned_snapshot_and_never_another_commit(tmp_path, offline_cache):
    artifact = tmp_path / "backbone"
    artifact.mkdir()
    record = {"name": "xlm-roberta-base", "arch": "xlmr", "pretrained": "xlm-roberta-base",
              "revision": PIN}
    (artifact / BACKBONE_FILE).write_text(json.dumps(record), encoding="utf-8")
    cache_snapshot(offline_cache, "xlm-roberta-base", OTHER)
    with pytest.raises(BackboneUnavailableError, match=f"holds commit {OTHER}, not the pin"):
        pretrained_path(artifact)
    with pytest.raises(BackboneUnavailableError, match=f"at its pinned commit {PIN}"):
        check_backbone_available("xlm-roberta-base", PIN)
    pinned = cache_snapshot(offline_cache, "xlm-roberta-base", PIN)
    assert pretrained_path(artifact) == str(pinned)
    check_backbone_available("xlm-roberta-base", PIN)
    # an artifact written before pins were recorded: the registry's pin (its key did not change)
    del record["revision"]
    (artifact / BACKBONE_FILE).write_text(json.dumps(record), encoding="utf-8")
    assert pretrained_path(artifact) == str(pinned)


def test_a_backbone_stage_records_its_pin(tmp_path, offline_cache):
    from harness.models.backbones import BackboneStage, backbone_config

    cache_snapshot(offline_cache, "xlm-roberta-base", PIN)
    stage = BackboneStage(backbone_config(BACKBONES.get("xlm-roberta-base")))
    stage.run(None, {}, tmp_path)
    assert json.loads((tmp_path / BACKBONE_FILE).read_text())["revision"] == PIN


def test_unreachable_sources_are_one_line_each_and_one_to_do():
    """70 pairs of one release, 13 languages of another: two lines, then the one 'to do'."""
    pairs = [f"{t}-{s}" for t in ("amh", "ang", "cdo", "crh", "eml", "frr", "khm", "kan", "lij",
                                  "pbt", "san", "snd", "sin", "som") for s in ("eng", "zho", "rus",
                                                                               "ara", "jpn")]
    pair_message = ("parallel.0.data unibridge (unibridge_alignment): the UniBridge authors' "
                    "alignment files: cannot reach https://raw.githubusercontent.com/A/B/c (Connection"
                    "Error: no connection to raw.githubusercontent.com; tried https://raw."
                    "githubusercontent.com/A/B/c/x.txt) to download the pinned files into /cache. "
                    "Without network: run `unibridge-bench fetch SUITE` ...")
    ud_message = ("cannot reach https://lindat.mff.cuni.cz/a.tgz (ConnectionError: no connection to "
                  "lindat.mff.cuni.cz) to download the pinned files into /cache. Without network: …")
    found = [("parallel", pair_message, pair) for pair in pairs]
    found += [("tasks.pos.data", ud_message, lang) for lang in ("eng", "zho", "amh")]
    found += [("tasks.pos.data", "a file problem", "tgl")]
    lines = grouped(found, missing=[("backbones.1", "bert@3f076fd", "HF_HUB_OFFLINE is set")])
    assert lines == [
        "tasks.pos.data: a file problem",
        "parallel.0.data (source, 70 pairs): not here, and not downloadable here "
        "(no connection to raw.githubusercontent.com)",
        "tasks.pos.data (source, 3 languages): not here, and not downloadable here "
        "(no connection to lindat.mff.cuni.cz)",
        "backbones.1 (bert@3f076fd): not here, and not downloadable here (HF_HUB_OFFLINE is set)",
        lines[-1]]
    assert lines[-1].startswith("to do: run `unibridge-bench fetch SUITE --to DIR`")
