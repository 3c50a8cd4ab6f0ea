"""Fixtures shared by every test module."""

import logging
import os

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
