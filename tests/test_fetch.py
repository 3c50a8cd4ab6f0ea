"""``fetch`` downloads what the selected jobs read from a hub and release URLs on loopback; then,
offline, ``validate`` passes and the loaders read what was fetched.

The server (``http.server`` in a thread, 127.0.0.1 only, at most :data:`MAX_REQUESTS` requests)
serves the replicas of ``fixtures/replicas`` as the hub does: ``/api/{datasets,models}/<id>``
(revision info with the file list) and ``/[datasets/]<id>/resolve/<revision>/<path>`` (files with
the ``X-Repo-Commit`` and ``ETag`` headers ``huggingface_hub`` reads), plus the release files under
``/releases/<name>/``; the releases are pinned to the replicas' checksums at those URLs.
"""

import hashlib
import http.server
import json
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

import datasets
import pytest
import yaml
from click.testing import CliRunner
from huggingface_hub import constants
from huggingface_hub.utils import reset_sessions

from harness.cli.main import cli
from harness.data import hub, monolingual, nli, parallel, release_pins, releases, ud
from harness.data.ud_pins import UD_SINDHI_COMMIT
from harness.models.backbones import check_backbone_available
from harness.planning.fetching import config_files
from harness.planning.plan import prepare
from harness.suite.schema import load_suite

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
REPLICAS = FIXTURES / "replicas"
SINDHI = "UD_Sindhi-MazharDootio/sd_mazhardootio-ud-test.conllu"
XNLI_PIN = "b8dd5d7af51114dbda02c0e3f6133f332186418e"
WIKIPEDIA_PIN = "3e1f92c331f318af862b87e2319ed5dc26d80f5d"
MODEL_COMMIT = "1" * 40
MAX_REQUESTS = 200


class FakeHub(http.server.BaseHTTPRequestHandler):
    """Serves ``repos`` ((kind, id) -> (folder, commit)) and ``releases`` (name -> folder)."""

    repos: dict = {}
    releases: dict = {}
    served: list = []
    timeout = 10

    def log_message(self, *args):  # quiet
        pass

    def do_HEAD(self):
        self._answer(body=False)

    def do_GET(self):
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        self.served.append(self.path)
        if len(self.served) > MAX_REQUESTS:
            return self._send(429, b"")
        path = unquote(urlparse(self.path).path)
        if path.startswith("/api/"):
            return self._info(path, body)
        if path.startswith("/releases/"):
            name, _, relative = path.removeprefix("/releases/").partition("/")
            return self._file(self.releases.get(name), relative, None, body)
        repo, _, rest = path.partition("/resolve/")
        kind = "datasets" if repo.startswith("/datasets/") else "models"
        folder, commit = self.repos.get((kind, repo.removeprefix("/datasets/").lstrip("/")),
                                        (None, None))
        return self._file(folder, rest.partition("/")[2], commit, body)

    def _info(self, path: str, body: bool) -> None:
        kind, _, rest = path.removeprefix("/api/").partition("/")
        repo_id = rest.split("/revision/")[0]
        if (kind, repo_id) not in self.repos:
            return self._send(404, b'{"error": "Repository not found"}')
        folder, commit = self.repos[(kind, repo_id)]
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        payload = {"id": repo_id, "sha": commit, "siblings": [{"rfilename": f} for f in files]}
        self._send(200, json.dumps(payload).encode(), body=body,
                   headers={"Content-Type": "application/json"})

    def _file(self, folder, relative: str, commit, body: bool) -> None:
        file = folder / relative if folder is not None else None
        if file is None or not file.is_file():
            return self._send(404, b"not found", headers={"X-Error-Code": "EntryNotFound"})
        data = file.read_bytes()
        headers = {"ETag": f'"{hashlib.sha256(data).hexdigest()}"'}
        if commit:
            headers["X-Repo-Commit"] = commit
        self._send(200, data, body=body, headers=headers)

    def _send(self, status: int, data: bytes, body: bool = True, headers=None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def git_layout(folder: Path) -> Path:
    """The Sindhi replica where raw.githubusercontent.com has it: ``UD_<Treebank>/<commit>/<file>``."""
    top, _, name = SINDHI.partition("/")
    (folder / top / UD_SINDHI_COMMIT).mkdir(parents=True)
    (folder / top / UD_SINDHI_COMMIT / name).write_bytes(
        (REPLICAS / "releases" / "ud_repositories" / SINDHI).read_bytes())
    return folder


def tiny_model_repo(folder: Path) -> Path:
    """A model repository: config.json, safetensors weights and files fetch must leave out."""
    from transformers import BertConfig

    folder.mkdir(parents=True)
    BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8,
               vocab_size=32, architectures=["BertForMaskedLM"]).to_json_file(folder / "config.json")
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / "pytorch_model.bin").write_bytes(b"the same weights, for torch.load")
    (folder / "tf_model.h5").write_bytes(b"tensorflow weights")
    return folder


@pytest.fixture
def server(tmp_path, monkeypatch):
    """The fake hub on 127.0.0.1 and releases pinned to the replicas at its URLs."""
    served = {name: REPLICAS / "releases" / name for name in ("americasnli", "americasnlp2021")}
    served["unibridge_alignment"] = REPLICAS / "unibridge_alignment"
    served["ud_repositories"] = git_layout(tmp_path / "ud_repositories")
    handler = type("Hub", (FakeHub,), {"served": [], "releases": served, "repos": {
        ("datasets", "facebook/xnli"): (REPLICAS / "hub" / "facebook" / "xnli", XNLI_PIN),
        ("datasets", "wikimedia/wikipedia"): (REPLICAS / "hub" / "wikimedia" / "wikipedia",
                                              WIKIPEDIA_PIN),
        ("models", "org/mini-bert"): (tiny_model_repo(tmp_path / "model_repo"), MODEL_COMMIT)}})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    for name in ("americasnlp2021", "americasnli"):
        release = releases.RELEASES[name]
        folder = REPLICAS / "releases" / name
        checksums = {relative: "sha256:" + hashlib.sha256((folder / relative).read_bytes()).hexdigest()
                     for relative in release.versions[release.default_version].checksums}
        monkeypatch.setitem(release.versions, release.default_version,
                            releases.Pinned(url=f"{url}/releases/{name}", checksums=checksums))
    alignment = releases.RELEASES["unibridge_alignment"]  # the authors' real bytes: real pins
    pin = alignment.versions[alignment.default_version]
    monkeypatch.setitem(alignment.versions, alignment.default_version, releases.Pinned(
        url=f"{url}/releases/unibridge_alignment", checksums=pin.checksums))
    sindhi = releases.RELEASES["ud_repositories"].versions[UD_SINDHI_COMMIT]  # the real URL layout
    monkeypatch.setitem(releases.RELEASES["ud_repositories"].versions, UD_SINDHI_COMMIT,
                        releases.Pinned(url=f"{url}/releases/ud_repositories",
                                        url_path=sindhi.url_path,
                                        checksums={SINDHI: sha256(REPLICAS / "releases" /
                                                                  "ud_repositories" / SINDHI)}))
    monkeypatch.setenv("HF_ENDPOINT", url)
    for name in (hub.MIRROR_ENV, releases.CACHE_ENV, *hub.OFFLINE_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf_cache"))
    # the libraries read HF_HUB_OFFLINE once, at their import: a test that imported them first
    # with the variable set (monkeypatched) would leave them offline for the whole session
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    reset_sessions()  # a session made while offline keeps refusing every request
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf_datasets")
    monkeypatch.setattr(releases, "_FAILED", {})
    yield httpd, handler
    httpd.shutdown()
    httpd.server_close()


def suite_file(tmp_path: Path) -> Path:
    """MAD-X on AmericasNLI aym and quy from English, a hub backbone: every kind of source."""
    payload = {
        "name": "offline",
        "backbones": [{"name": "mini-bert", "pretrained": "org/mini-bert", "arch": "bert"}],
        "tasks": {"nli": {"targets": ["aym", "quy"], "sources": ["eng"],
                          "data": {"release": "americasnli"},
                          "source_data": {"hub": "facebook/xnli", "revision": XNLI_PIN}}},
        "monolingual": {"data": {"hub": "wikimedia/wikipedia", "revision": WIKIPEDIA_PIN},
                        "target_data": {"release": "americasnlp2021"}},
        "methods": {"mad_x": {}},
    }
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return path


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and ".cache" not in p.parts}


def test_fetch_then_offline_validate_passes(server, tmp_path, monkeypatch):
    httpd, handler = server
    path, offline = suite_file(tmp_path), tmp_path / "offline"
    result = CliRunner().invoke(cli, ["fetch", str(path), "--to", str(offline)])
    assert result.exit_code == 0, result.output
    summary = result.output.strip()
    assert summary.startswith(f"Fetched 4 release items, 2 hub dataset items, 1 backbone item for "
                              f"2 jobs of {path}. Offline: export UNIBRIDGE_DATA_CACHE=")
    assert f"UNIBRIDGE_HUB_MIRROR={offline.resolve() / 'hub'}" in summary
    # only what the jobs read: xnli en (the source), wikipedia en, the targets' two files each
    assert files_under(offline / "hub" / "facebook" / "xnli") == {
        "README.md", "en/train-00000-of-00001.parquet", "en/validation-00000-of-00001.parquet",
        "en/test-00000-of-00001.parquet"}
    assert files_under(offline / "hub" / "wikimedia" / "wikipedia") == {
        "README.md", "20231101.en/train-00000-of-00041.parquet"}  # the replica's one shard
    nli_cache = offline / "releases" / "americasnli" / release_pins._AMERICASNLI_COMMIT
    assert files_under(nli_cache) == {"test/aym.tsv", "test/quy.tsv"}
    text_cache = offline / "releases" / "americasnlp2021" / release_pins._AMERICASNLP_COMMIT
    assert files_under(text_cache) == {"data/aymara-spanish/train.aym",
                                       "data/quechua-spanish/train.quy"}
    snapshot = offline / "models" / "models--org--mini-bert" / "snapshots" / MODEL_COMMIT
    assert sorted(p.name for p in snapshot.iterdir()) == ["config.json", "model.safetensors"]
    assert len(handler.served) <= MAX_REQUESTS

    httpd.shutdown()  # no network from here on
    httpd.server_close()
    environment = {**{name: str(offline.resolve() / sub) for name, sub in (
        (releases.CACHE_ENV, "releases"), (hub.MIRROR_ENV, "hub"))}, "HF_HUB_OFFLINE": "1"}
    assert f"{releases.CACHE_ENV}={environment[releases.CACHE_ENV]}" in summary
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(offline.resolve() / "models"))
    monkeypatch.setattr(releases, "_FAILED", {})
    validated = CliRunner().invoke(cli, ["validate", str(path)])
    assert validated.exit_code == 0, validated.output
    ok, *notes = validated.output.strip().splitlines()
    assert ok == f"{path}: ok (2 jobs)"
    # the release replicas hold a few lines of text: a note, no error (hub text is not counted)
    assert [note.partition(" target text")[0] for note in notes] == [
        "note: monolingual.target_data:"]
    suite = prepare(load_suite(path)).suite
    assert nli.load(suite.tasks["nli"].data, "quy", "test")
    assert nli.load(suite.tasks["nli"].source_data, "eng", "validation")
    assert monolingual.load(suite.monolingual.data, "eng", 2, 4, seed=0)
    assert monolingual.load(suite.monolingual.target_data, "aym", 2, 4, seed=0)
    check_backbone_available("org/mini-bert")


def file_set_suite(tmp_path: Path) -> Path:
    """UniBridge on UD Sindhi from English and Chinese: two file-set releases, local for the rest.

    Sindhi's treebank from its pinned commit (``ud_repositories``) and the harmony pairs from the
    UniBridge authors' alignment files (``unibridge_alignment``); the sources' treebanks and the
    text are local fixtures and the backbone is tiny, so only the two file sets are fetched.
    """
    (tmp_path / "mono").mkdir()
    for lang, text in (("eng", "eng"), ("zho", "zho"), ("snd", "eng")):  # any text serves here
        (tmp_path / "mono" / f"{lang}.txt").write_bytes(
            (FIXTURES / "monolingual" / f"{text}.txt").read_bytes())
    payload = {
        "name": "file-sets", "backbones": ["tiny-xlmr"], "methods": {"unibridge": {}},
        "tasks": {"pos": {"targets": ["snd"], "sources": ["eng", "zho"],
                          "data": {"path": str(FIXTURES / "ud")},
                          "language_data": {"snd": {"release": "ud_repositories",
                                                    "revision": UD_SINDHI_COMMIT}}}},
        "monolingual": {"data": {"path": str(tmp_path / "mono")}},
        "parallel": [{"format": "unibridge", "data": {"release": "unibridge_alignment"}}],
    }
    path = tmp_path / "file-sets.yaml"
    path.write_text(yaml.safe_dump(payload), encoding="utf-8")
    return path


def test_file_set_releases_are_fetched_then_offline_validate_passes(server, tmp_path, monkeypatch):
    httpd, _ = server
    path, offline = file_set_suite(tmp_path), tmp_path / "offline"
    monkeypatch.setenv(releases.CACHE_ENV, str(tmp_path / "empty-cache"))  # before the fetch
    unfetched = CliRunner().invoke(cli, ["validate", str(path)])  # reads the server: fine
    assert unfetched.exit_code == 0, unfetched.output
    result = CliRunner().invoke(cli, ["fetch", str(path), "--to", str(offline)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Fetched 3 release items for 1 jobs of {path}.")
    sindhi = offline / "releases" / "ud_repositories" / UD_SINDHI_COMMIT
    assert files_under(sindhi) == {SINDHI}
    pairs = offline / "releases" / "unibridge_alignment" / release_pins._UNIBRIDGE_COMMIT
    assert files_under(pairs) == {"xlm/alignment/flores/sd/snd_Arab-eng_Latn.txt",
                                  "xlm/alignment/flores/sd/snd_Arab-zho_Hant.txt"}

    httpd.shutdown()  # no network from here on
    httpd.server_close()
    monkeypatch.setenv(releases.CACHE_ENV, str(offline.resolve() / "releases"))
    monkeypatch.setattr(releases, "_FAILED", {})
    validated = CliRunner().invoke(cli, ["validate", str(path)])
    assert validated.exit_code == 0, validated.output
    assert validated.output.splitlines()[0] == f"{path}: ok (1 jobs)"
    suite = load_suite(path)
    text = (REPLICAS / "releases" / "ud_repositories" / SINDHI).read_text(encoding="utf-8")
    sentences = [block for block in text.split("\n\n") if block.strip()]
    assert len(ud.load(suite.tasks["pos"].data_for("snd"), "snd", "test")) == len(sentences)
    assert len(parallel.load(suite.parallel[0], "snd", "eng")) == 10  # the authors' K = 10


def test_only_narrows_what_is_fetched(server, tmp_path):
    path, offline = suite_file(tmp_path), tmp_path / "offline"
    result = CliRunner().invoke(cli, ["fetch", str(path), "--to", str(offline), "--only", "lang=quy"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Fetched 2 release items, 2 hub dataset items, 1 backbone item "
                                    "for 1 jobs")
    cache = offline / "releases" / "americasnli" / release_pins._AMERICASNLI_COMMIT
    assert files_under(cache) == {"test/quy.tsv"}


def test_a_file_that_does_not_match_its_pin_is_not_fetched(server, tmp_path, monkeypatch):
    release = releases.RELEASES["americasnli"]
    pin = release.versions[release.default_version]
    checksums = {**pin.checksums, "test/quy.tsv": "sha256:" + "0" * 64}
    monkeypatch.setitem(release.versions, release.default_version,
                        releases.Pinned(url=pin.url, checksums=checksums))
    result = CliRunner().invoke(cli, ["fetch", str(suite_file(tmp_path)), "--to",
                                      str(tmp_path / "offline")])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0] == "1 of 7 items not fetched:"
    assert lines[1].startswith("FAILED release americasnli (quy): cannot fetch ") and \
        "test/quy.tsv" in lines[1] and "0" * 64 in lines[1]
    assert len(lines) == 2


def test_config_files_reads_every_data_files_form(tmp_path):
    card = tmp_path / "README.md"
    card.write_text("---\nconfigs:\n- config_name: a\n  data_files:\n  - split: train\n"
                    "    path: a/train-*\n  - split: test\n    path: [a/test-0.parquet, a/test-1.parquet]\n"
                    "- config_name: b\n  data_files: b/*.parquet\n- config_name: c\n"
                    "  data_files: {train: c/train.csv}\n---\n# card\n")
    assert config_files(card, ["a", "b", "c"], "org/x") == [
        "a/train-*", "a/test-0.parquet", "a/test-1.parquet", "b/*.parquet", "c/train.csv"]
    with pytest.raises(Exception, match=r"'org/x': its card lists no data files for config\(s\) d "
                                        r"\(configs listed: a, b, c\)"):
        config_files(card, ["d"], "org/x")


def test_fetch_without_to_needs_the_mirror_variable(server, tmp_path):
    result = CliRunner().invoke(cli, ["fetch", str(suite_file(tmp_path))])
    assert result.exit_code == 2
    assert "UNIBRIDGE_HUB_MIRROR" in result.output and "--to DIR" in result.output


def test_the_mirror_records_the_pinned_commit(server, tmp_path):
    offline = tmp_path / "offline"
    CliRunner().invoke(cli, ["fetch", str(suite_file(tmp_path)), "--to", str(offline)])
    assert hub.mirror_commit(offline / "hub" / "facebook" / "xnli") == XNLI_PIN
    assert hub.mirror_commit(offline / "hub" / "wikimedia" / "wikipedia") == WIKIPEDIA_PIN


def test_a_suite_of_local_files_has_nothing_to_fetch(tmp_path):
    result = CliRunner().invoke(cli, ["fetch", str(ROOT / "suites" / "smoke.yaml"), "--to",
                                      str(tmp_path / "offline"), "--only", "lang=amh"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith("Nothing to fetch: the 28 selected jobs of ")
    assert not (tmp_path / "offline").exists()
