"""A non-editable install works: the wheel holds the shipped suites, the paper's numbers and py.typed.

The wheel is built from a copy of the sources (what an sdist holds), so that the build writes no
``build/`` or ``*.egg-info`` into the checkout; it is installed with ``pip install --target`` into
a temporary folder, and the CLI runs from there, in a directory away from the checkout.
"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from setuptools import find_packages

from harness.report.manifest import RunManifest, write_manifest
from harness.run.records import RESULTS_FILE, ResultRecord

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "harness", "baselines", "suites", "reports/paper")
#: Folder in git -> where the wheel holds it (pyproject.toml's [tool.setuptools.package-dir]).
SHIPPED = {"suites": "harness/shipped/suites", "reports/paper": "harness/shipped/paper"}
CLI = "from harness.cli.main import cli; cli()"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix != ".pyc")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(wheel, site)``: the wheel built offline from the sources, installed into ``site``."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(tmp / "dist"),
                    str(src)], check=True, capture_output=True, text=True)
    wheel, = (tmp / "dist").glob("unibridge_bench-*.whl")
    site = tmp / "site"
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, text=True)
    # The install inside another project's repository (as a .venv in it would be): that
    # repository's commit is not the harness's.
    git = ["git", "-C", str(tmp), "-c", "user.name=test", "-c", "user.email=test@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "someone else's project"], check=True)
    return wheel, site


def installed_run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``python3 -c CODE args`` with only the installed copy importable, in ``cwd``."""
    cwd.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_pyproject_lists_every_package_and_every_shipped_folder():
    tomllib = pytest.importorskip("tomllib")
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    code = find_packages(str(ROOT), include=["harness*", "baselines*"])
    folders = {folder: [ROOT / folder, *(p for p in (ROOT / folder).rglob("*") if p.is_dir())]
               for folder in SHIPPED}
    data = [".".join((SHIPPED[folder].replace("/", "."), *sub.relative_to(ROOT / folder).parts))
            for folder, subs in folders.items() for sub in subs if "__pycache__" not in sub.parts]
    assert sorted(listed["packages"]) == sorted(code + data)
    assert listed["package-dir"] == {name.replace("/", "."): folder for folder, name in SHIPPED.items()}


def test_the_wheel_holds_the_code_the_shipped_data_and_py_typed(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    code = {p.relative_to(ROOT).as_posix() for top in ("harness", "baselines") for p in _files(ROOT / top)}
    data = {f"{SHIPPED[folder]}/{p.relative_to(ROOT / folder).as_posix()}"
            for folder in SHIPPED for p in _files(ROOT / folder)}
    assert "harness/py.typed" in code and "harness/shipped/paper/table01.yaml" in data
    assert "harness/shipped/suites/examples/tasks/sib200.yaml" in data
    assert code | data <= names
    assert not {n for n in names if n.startswith(("suites/", "reports/"))}  # inside harness/ only


def test_the_installed_cli_lists_the_shipped_suites(installed, tmp_path):
    _, site = installed
    where = installed_run(site, tmp_path, "-c", "import harness; print(harness.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(site), where.stderr
    listed = installed_run(site, tmp_path, "-c", CLI, "list", "suites")
    assert listed.returncode == 0, listed.stderr
    for name in ("smoke", "smoke_baselines", "wikiann", "ud", "americasnli"):
        assert f"\n  {name} " in listed.stdout
    assert "(none)" not in listed.stdout


def test_a_shipped_suite_validates_by_name_and_names_the_data_it_lacks(installed, tmp_path):
    """The smoke suite reads ../fixtures/, which the wheel does not hold: validate says so, by path."""
    _, site = installed
    done = installed_run(site, tmp_path, "-c", CLI, "validate", "smoke")
    assert done.returncode != 0
    shipped = site / "harness" / "shipped"
    assert f"{shipped / 'suites' / 'smoke.yaml'}: invalid suite" in done.stderr
    assert f"data folder {shipped / 'fixtures' / 'wikiann'} does not exist" in done.stderr
    assert "no suite of that name" not in done.stderr


def test_the_installed_report_prints_the_papers_numbers_beside_ours(installed, tmp_path):
    _, site = installed
    work = tmp_path / "run"
    work.mkdir()
    stages = {"backbone": {"kind": "backbone", "arch": "xlmr", "name": "tiny-xlmr"}}
    records = [ResultRecord(method="unibridge", backbone="tiny-xlmr", task="ner", lang="amh", seed=1,
                            metric="f1", value=41.5, stages=stages, config_hash="x",
                            versions={"seqeval": "1.2.2"})]
    (work / RESULTS_FILE).write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")
    write_manifest(work, RunManifest(
        suite="synthetic", backbones={"tiny-xlmr": "xlmr"}, tasks={"ner": ("amh",)}, seeds=(1,),
        hyperparameters={"unibridge": {}}, selected=("unibridge/tiny-xlmr/ner/amh/seed1",), failed={},
        finished="2026-01-01T00:00:00+00:00"))
    done = installed_run(site, tmp_path / "elsewhere", "-c", CLI, "report", str(work), "--tables", "1",
                         "--format", "md")
    assert done.returncode == 0, done.stderr
    table = (work / "tables" / "table01.md").read_text(encoding="utf-8")
    ours = next(line for line in table.splitlines() if line.startswith("| UniBridge (XLM-R) |"))
    paper = table.splitlines()[table.splitlines().index(ours) + 1]
    assert "41.50" in ours.split("|")[2]  # amh, ours
    assert paper.startswith("| paper | 49.60 | 43.24 |")  # reports/paper/table01.yaml, as shipped


def test_an_installed_harness_reports_no_commit_of_the_repository_around_it(installed, tmp_path):
    """The site folder lies inside a git repository (another project's): its commit is not ours."""
    _, site = installed
    code = "from harness.report.page import git_commit; print(git_commit())"
    done = installed_run(site, tmp_path, "-c", code)
    assert done.stdout.strip() == "unknown", done.stderr
