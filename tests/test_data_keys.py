"""Data fingerprints and hub reachability: keys cover only what a stage reads; offline is offline."""

import pytest
from huggingface_hub import constants

from harness.data import source as data_source
from harness.data.source import DataError, DataRef, DataSource, check_hub_reachable


def task_folder(root):
    for lang in ("amh", "eng"):
        (root / lang).mkdir(parents=True)
        (root / lang / "test.tsv").write_text(f"{lang}\tO\n")
    (root / "zho.txt").write_text("text\n")
    return DataSource(path=root)


def test_editing_one_language_changes_only_that_languages_key(tmp_path):
    data = task_folder(tmp_path)
    before = {lang: DataRef.of(data, (lang,)).fingerprint for lang in ("amh", "eng", "zho")}
    whole = DataRef.of(data).fingerprint
    data_source.hash_tree.cache_clear()
    (tmp_path / "amh" / "test.tsv").write_text("amh\tB-PER\n")
    after = {lang: DataRef.of(data, (lang,)).fingerprint for lang in ("amh", "eng", "zho")}
    assert after["amh"] != before["amh"]
    assert after["eng"] == before["eng"] and after["zho"] == before["zho"]
    assert DataRef.of(data).fingerprint != whole  # unscoped: the whole folder
    assert DataRef.of(data, ("amh", "eng")).fingerprint != DataRef.of(data, ("eng", "amh")).fingerprint


def test_a_language_without_its_own_files_hashes_the_whole_folder(tmp_path):
    data = task_folder(tmp_path)
    assert DataRef.of(data, ("tgl",)).fingerprint == DataRef.of(data).fingerprint


def fake_snapshot(cache, hub, revision="main", commit="abc123", files=True):
    root = cache / f"datasets--{hub.replace('/', '--')}"
    (root / "refs").mkdir(parents=True)
    (root / "refs" / revision).write_text(commit)
    (root / "snapshots" / commit).mkdir(parents=True)
    if files:
        (root / "snapshots" / commit / "data.parquet").write_bytes(b"x")


@pytest.fixture()
def offline_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    return tmp_path


def test_cached_revision_counts_as_reachable(offline_cache):
    fake_snapshot(offline_cache, "org/data", revision="v1")
    check_hub_reachable(DataSource(hub="org/data", revision="v1"), "tasks.ner.data")


@pytest.mark.parametrize(("revision", "files"), [("v2", True), ("v1", False)])
def test_another_revision_or_an_empty_snapshot_is_not_reachable(offline_cache, revision, files):
    fake_snapshot(offline_cache, "org/data", revision="v1", files=files)
    with pytest.raises(DataError, match="HF_DATASETS_OFFLINE is set"):
        check_hub_reachable(DataSource(hub="org/data", revision=revision), "tasks.ner.data")


def test_hf_datasets_offline_stops_the_network_lookup(offline_cache, monkeypatch):
    from huggingface_hub import HfApi

    def never(*args, **kwargs):
        raise AssertionError("asked the hub although HF_DATASETS_OFFLINE is set")

    monkeypatch.setattr(HfApi, "dataset_info", never)
    with pytest.raises(DataError, match="'org/missing'.*HF_DATASETS_OFFLINE is set.*{path: DIR}"):
        check_hub_reachable(DataSource(hub="org/missing"), "tasks.ner.data")
