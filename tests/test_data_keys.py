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


def script_only_files(folder):
    """A repository's root as MasakhaNER 2.0's hub dataset holds it: a card and its script."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text("---\nlicense: afl-3.0\n---\n")
    (folder / "masakhaner2.py").write_text("# a loading script\n")


def test_a_cached_loading_script_is_named(offline_cache):
    fake_snapshot(offline_cache, "masakhane/masakhaner2", files=False)
    snapshot = offline_cache / "datasets--masakhane--masakhaner2" / "snapshots" / "abc123"
    script_only_files(snapshot)
    with pytest.raises(DataError, match=rf"^hub dataset 'masakhane/masakhaner2' is a loading script "
                                        rf"\(masakhaner2.py in the hub cache \({snapshot}\)\), .*"
                                        r"`tasks.ner.data: \{path: DIR\}`"):
        check_hub_reachable(DataSource(hub="masakhane/masakhaner2"), "tasks.ner.data")


def test_the_hubs_file_list_names_a_loading_script_and_only_one(tmp_path, monkeypatch):
    """Online: the hub's answer lists the files; a script of another name is no loading script."""
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoSibling

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    for variable in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    files = {"org/masakhaner2": ["README.md", "masakhaner2.py"],
             "org/parquet": ["README.md", "convert.py", "data/train.parquet"]}
    monkeypatch.setattr(HfApi, "dataset_info", lambda self, hub, revision=None, timeout=None: type(
        "Info", (), {"siblings": [RepoSibling(rfilename=name) for name in files[hub]]})())
    check_hub_reachable(DataSource(hub="org/parquet"), "tasks.ner.data")
    with pytest.raises(DataError, match=r"^hub dataset 'org/masakhaner2' is a loading script "
                                        r"\(masakhaner2.py in the hub\), "):
        check_hub_reachable(DataSource(hub="org/masakhaner2"), "tasks.ner.data")


def test_nothing_reachable_keeps_saying_so(offline_cache):
    """No mirror, no cache, offline: the files are not seen, the message is the unreachable one."""
    with pytest.raises(DataError, match=r"^hub dataset 'masakhane/masakhaner2' is not in the local "
                                        r"cache and not reachable \(HF_DATASETS_OFFLINE is set\)"):
        check_hub_reachable(DataSource(hub="masakhane/masakhaner2"), "tasks.ner.data")
