"""Fixtures shared by every test module."""

import logging
import os
import shutil
from pathlib import Path

from harness.core.threads import passive_waiting

passive_waiting()  # before torch is imported, as the command line does: OpenMP reads it once
# Stages in the test process, where a test's monkeypatches and its own stage classes live; the
# worker processes of a run are tested on their own (tests/test_local_workers.py).
os.environ.setdefault("UNIBRIDGE_WORKERS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from harness.models.backbones import BACKBONES, build_tiny_backbone  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """Tiny models on a shared 2-core machine: one thread avoids OpenMP oversubscription (10x)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def build_backbones(tmp_path_factory):
    """``build(names, corpus, place=name → subpath, **options)``: tiny backbones under one root."""
    logging.getLogger("transformers").setLevel(logging.ERROR)

    def build(names, corpus, place=lambda name: name, seed=0, **options):
        root = tmp_path_factory.mktemp("backbones")
        for name in names:
            build_tiny_backbone(BACKBONES.get(name), corpus, root / place(name), seed=seed, **options)
        return root

    return build


@pytest.fixture
def copy_workdir(tmp_path):
    """``copy_workdir(path)``: a private copy of a shared (session) workdir, for a test that writes.

    A session fixture's workdir is read by several tests; one that runs, repairs or damages
    anything in it works on its own copy, so that no outcome depends on the tests' order.
    """

    def copy(source: Path) -> Path:
        return Path(shutil.copytree(source, tmp_path / "copies" / source.name, symlinks=True))

    return copy


@pytest.fixture(scope="session")
def reduced_run(tmp_path_factory):
    """``tests/shared_runs.reduced_suite`` run once through the CLI in a fresh interpreter, with
    stdout and stderr pipes: (suite file, workdir, the finished process). Read-only: see
    ``copy_workdir``."""
    from tests.shared_runs import cli, reduced_suite

    folder = tmp_path_factory.mktemp("reduced")
    suite, workdir = reduced_suite(folder), folder / "work"
    return suite, workdir, cli("run", suite, "--workdir", workdir, "--device", "cpu")


@pytest.fixture(scope="session")
def logged_selection_run(tmp_path_factory):
    """``tests/shared_runs.SELECTION`` of suites/smoke.yaml run once with its output to a file:
    see ``tests/shared_runs.logged_selection_run``. Read-only: see ``copy_workdir``."""
    from tests.shared_runs import logged_selection_run

    return logged_selection_run(tmp_path_factory.mktemp("logged"))
