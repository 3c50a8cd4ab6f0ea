"""What ``validate`` prints: one line per problem, grouped per source; downloads quiet unless -v."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness.data import hub, release_pins, releases

ROOT = Path(__file__).resolve().parents[1]
LANGS = "aym, bzd, cni, grn, hch, nah, oto, quy, shp, tar"


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
    result = offline_validate(tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert result.stdout == ""
    assert lines[0] == f"Error: {tmp_path / 'suites' / 'americasnli.yaml'}: invalid suite"
    keys = [line.partition(": ")[0] for line in lines[1:]]
    pairs = "parallel (" + ", ".join(f"{t}-{s}" for t in LANGS.split(", ")
                                     for s in ("eng", "zho", "ara", "rus")) + ")"
    assert sorted(keys) == sorted([
        "tasks.nli.data", "monolingual.target_data",  # two releases: one line each
        "tasks.nli.source_data", "monolingual.data",  # two hub datasets
        pairs])  # the authors' alignment files (a third release): one line for all 40 pairs
    by_key = {line.partition(": ")[0]: line for line in lines[1:]}
    for key, base in (("tasks.nli.data", "nala-cub/AmericasNLI/"),
                      ("monolingual.target_data", "AmericasNLP/americasnlp2021/"),
                      (pairs, "TokisakiKurumi2001/UniBridge/")):
        line = by_key[key]
        said = line.removeprefix(f"{key}: ").removeprefix("parallel.0.data unibridge "
                                                          "(unibridge_alignment): the UniBridge "
                                                          "authors' alignment files: ")
        assert said.startswith(f"cannot reach https://raw.githubusercontent.com/{base}"), line
        # the one URL tried: the first file under the folder (the others are not tried)
        assert f"(ProxyError: no connection to raw.githubusercontent.com; tried " \
               f"https://raw.githubusercontent.com/{base}" in line
        assert "unibridge-bench fetch" in line and str(tmp_path / "cache") in line
    # the authors' files: their dev head, then the VinAI mirror, in one line
    assert by_key[pairs].index("cannot reach https://raw.githubusercontent.com/TokisakiKurumi2001/") \
        < by_key[pairs].index("cannot reach https://raw.githubusercontent.com/VinAIResearch/UniBridge/"
                              f"{release_pins._UNIBRIDGE_VINAI_COMMIT} (")
    for key in ("tasks.nli.data", "monolingual.target_data"):
        assert by_key[key].endswith(f"(languages: {LANGS})")
    assert not [line for line in lines if "Downloading data from" in line]


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
