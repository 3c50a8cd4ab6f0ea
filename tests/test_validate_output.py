"""What ``validate`` prints: one line per problem, grouped per source; downloads quiet unless -v."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness.data import hub, release_pins, releases

ROOT = Path(__file__).resolve().parents[1]


def offline_validate(tmp_path: Path, *options: str) -> subprocess.CompletedProcess:
    """``validate suites/americasnli.yaml`` (its ../data absent) with no route to any host.

    Every request goes to a proxy on a closed loopback port, so that each download fails at
    once with a connection error, as on a node without network; the hub is offline.
    """
    (tmp_path / "suites").mkdir()
    shutil.copy(ROOT / "suites" / "americasnli.yaml", tmp_path / "suites")
    env = {key: value for key, value in os.environ.items() if key != hub.MIRROR_ENV}
    env |= {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
            "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "", releases.CACHE_ENV: str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "harness.cli.main", "validate",
                           str(tmp_path / "suites" / "americasnli.yaml"), *options],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


def test_offline_americasnli_says_each_problem_once(tmp_path):
    """One short line per source that is neither here nor downloadable, then one 'to do' line."""
    result = offline_validate(tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert result.stdout == ""
    assert lines[0] == f"Error: {tmp_path / 'suites' / 'americasnli.yaml'}: invalid suite"
    keys = [line.partition(" (")[0] for line in lines[1:-1]]
    assert sorted(keys) == sorted([
        "tasks.nli.data", "monolingual.target_data",  # two releases: one line each
        "tasks.nli.source_data", "monolingual.data",  # two hub datasets
        "parallel.0.data",  # the authors' alignment files (a third release): one line, 40 pairs
        "backbones.0", "backbones.1"])  # XLM-R and mBERT, at their pins, not cached
    by_key = {line.partition(" (")[0]: line for line in lines[1:-1]}
    unreachable = "not here, and not downloadable here (no connection to raw.githubusercontent.com)"
    assert by_key["tasks.nli.data"] == f"tasks.nli.data (release americasnli, 10 languages): {unreachable}"
    assert by_key["monolingual.target_data"] == \
        f"monolingual.target_data (release americasnlp2021, 10 languages): {unreachable}"
    assert by_key["parallel.0.data"] == \
        f"parallel.0.data (unibridge release unibridge_alignment, 40 pairs): {unreachable}"
    offline = "not here, and not downloadable here (HF_HUB_OFFLINE is set)"
    assert by_key["monolingual.data"] == f"monolingual.data (hub wikimedia/wikipedia@3e1f92c): {offline}"
    assert by_key["backbones.0"] == f"backbones.0 (xlm-roberta-base@e73636d): {offline}"
    suite = tmp_path / "suites" / "americasnli.yaml"
    assert lines[-1].startswith(f"to do: run `unibridge-bench fetch {suite} --to DIR` where there is network")
    assert "pretrained: DIR" in lines[-1]
    assert len(result.stderr.encode()) < 1600  # was 4 KB: 70 pairs and the advice on each line
    assert not [line for line in lines if "Downloading data from" in line]


def test_v_shows_each_message_in_full(tmp_path):
    """The URLs tried and the cache folder stay one ``-v`` away, each said once."""
    lines = offline_validate(tmp_path, "-v").stderr.splitlines()
    marker = " INFO harness.planning.validation: "
    full = {line.split(marker, 1)[1].partition(": ")[0]: line for line in lines if marker in line}
    for key, base in (("tasks.nli.data", "nala-cub/AmericasNLI/"),
                      ("monolingual.target_data", "AmericasNLP/americasnlp2021/"),
                      ("parallel", "TokisakiKurumi2001/UniBridge/")):
        line = full[key]
        assert f"cannot reach https://raw.githubusercontent.com/{base}" in line, line
        assert f"(ProxyError: no connection to raw.githubusercontent.com; tried " \
               f"https://raw.githubusercontent.com/{base}" in line
        assert "unibridge-bench fetch" in line and str(tmp_path / "cache") in line
    # the authors' files: their dev head, then the VinAI mirror, in one line
    assert full["parallel"].index("cannot reach https://raw.githubusercontent.com/TokisakiKurumi2001/") \
        < full["parallel"].index("cannot reach https://raw.githubusercontent.com/VinAIResearch/UniBridge/"
                                 f"{release_pins._UNIBRIDGE_VINAI_COMMIT} (")


def test_downloads_are_shown_from_v_on(tmp_path):
    result = offline_validate(tmp_path, "-v")
    assert result.returncode == 2
    downloads = [line for line in result.stderr.splitlines() if "Downloading data from" in line]
    # one attempt per unreachable folder: the first file of each release, then of its mirror
    assert [line.split("'")[1].rsplit("/", 2)[0] for line in downloads] == [
        f"https://raw.githubusercontent.com/nala-cub/AmericasNLI/{release_pins._AMERICASNLI_COMMIT}",
        f"https://raw.githubusercontent.com/AmericasNLP/americasnlp2021/"
        f"{release_pins._AMERICASNLP_COMMIT}/data",
        f"https://raw.githubusercontent.com/TokisakiKurumi2001/UniBridge/"
        f"{release_pins._UNIBRIDGE_COMMIT}/xlm/alignment/opus",
        f"https://raw.githubusercontent.com/VinAIResearch/UniBridge/"
        f"{release_pins._UNIBRIDGE_VINAI_COMMIT}/xlm/alignment/opus"]
