"""Keep the collector's full passes cheap: freeze the heap once a new kind of stage has run.

Example::

    with stage_threads(stage):
        stage.run(ctx, inputs, out)
    settle_after(stage.kind)      # the first stage of this kind in this process: collect, freeze

Why: every training stage's ``Trainer.train`` calls accelerate's ``free_memory``, a full
``gc.collect()``, and Python's own collector makes full passes as objects are allocated. A full
pass visits every object the process holds, and after torch, transformers and adapters are
imported those are half a million (0.2 s of CPU a pass; 0.6 s once a run has imported the rest):
on the smoke suite's 250 trainings that was more CPU than their steps (docs/benchmarks.md, "Smoke
run: issue 32"). ``gc.freeze()`` moves what exists to a permanent generation that no pass visits
again; later passes visit only what was made since: a stage's model, its optimizer.

Contract: :func:`settle_after` collects the garbage first (what the stage left is freed, not
kept), then freezes; it does so once per stage kind in a process (the first stage of a kind is
the one that imports its modules), so a run makes at most one full pass per kind. What is frozen
stays alive only if it was alive already (modules, classes, caches); nothing a result depends on
changes: the collector frees memory, it computes nothing. ``UNIBRIDGE_GC_FREEZE=0`` turns it off.
"""

from __future__ import annotations

import gc
import os

#: Environment variable that turns the freezing off (``0``).
FREEZE_ENV = "UNIBRIDGE_GC_FREEZE"

_settled: set[str] = set()


def settle_after(kind: str) -> bool:
    """After the first stage of ``kind`` in this process: collect, then freeze what is left.

    Returns whether it froze (False for a kind already seen, or when turned off).
    """
    if kind in _settled or os.environ.get(FREEZE_ENV, "1") == "0":
        return False
    _settled.add(kind)
    gc.collect()
    gc.freeze()
    return True
