"""harness.core.heap: the heap is frozen once per stage kind, after its garbage is collected."""

from __future__ import annotations

import gc

import pytest

from harness.core import heap


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(heap, "_settled", set())
    yield
    gc.unfreeze()


class Cycle:
    def __init__(self):
        self.me = self


def test_first_stage_of_a_kind_freezes_and_later_ones_do_not(monkeypatch):
    gc.unfreeze()
    assert heap.settle_after("task_adapter") is True
    assert gc.get_freeze_count() > 0
    calls = []
    monkeypatch.setattr(heap.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(heap.gc, "collect", lambda: calls.append("collect"))
    assert heap.settle_after("task_adapter") is False
    assert calls == []                            # no second pass for the same kind
    assert heap.settle_after("evaluation") is True
    assert calls == ["collect", "freeze"]         # the garbage first, then the freeze


def test_garbage_is_collected_before_freezing_not_kept():
    gc.unfreeze()
    import weakref
    cycle = Cycle()
    alive = weakref.ref(cycle)
    del cycle                                   # garbage only the cycle collector frees
    heap.settle_after("harmony_distance")
    assert alive() is None                      # freed, not frozen forever


def test_turned_off_by_the_environment(monkeypatch):
    gc.unfreeze()
    monkeypatch.setenv(heap.FREEZE_ENV, "0")
    assert heap.settle_after("vocab_search") is False
    assert gc.get_freeze_count() == 0


def test_a_built_stage_settles_its_kind(tmp_path, monkeypatch):
    from harness.core.graph import Cache, Stage, StageContext

    seen = []
    monkeypatch.setattr("harness.core.graph.settle_after", seen.append)

    class Note(Stage):
        kind = "note"
        version = 1

        def run(self, ctx, inputs, out):
            (out / "note.txt").write_text("x")

    cache = Cache(tmp_path / "cache")
    cache.materialize(Note(None), StageContext(cache=cache))
    assert seen == ["note"]
