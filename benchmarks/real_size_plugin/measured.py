"""An executor that builds each stage in its own process and records what that process cost.

Included by benchmarks/real_size.py (``run --include benchmarks/real_size_plugin --executor
measured``). Each pending stage is pickled (cloudpickle, as the Ray executor does) and built by
``python measured.py PAYLOAD`` in a fresh interpreter, so that each stage's figures are its own:

- peak memory: the child's ``ru_maxrss`` from ``os.wait4`` (its whole life: interpreter, imports,
  the stage);
- seconds: the stage's wall time in the child (``Cache.materialize``), and the time between
  consecutive optimizer steps (a global ``torch.optim`` step hook), of which the median is the
  "seconds per step" (with 2 steps: the second step alone, forward, backward and update);
- bytes written: the child's ``wchar`` (every ``write`` call, files deleted later included) and
  the size of the artifact it published.

One JSON line per stage goes to ``<workdir>/measured.jsonl``. Stages run one after another; a
stage that fails stops only what depends on it (as the local executor).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def _artifact_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _child(payload: Path) -> None:
    """Build the stage pickled in ``payload``; write the figures next to it (``.json``)."""
    import cloudpickle
    from torch.optim.optimizer import register_optimizer_step_post_hook

    from harness.core.graph import Cache
    from harness.plugins.loading import activate

    data = json.loads(payload.with_suffix(".meta").read_text())
    activate([Path(folder) for folder in data["included"]])
    stage, ctx = cloudpickle.loads(payload.read_bytes())
    steps: list[float] = []
    register_optimizer_step_post_hook(lambda *_: steps.append(time.perf_counter()))
    cache = Cache(Path(data["cache_root"]))
    started = time.perf_counter()
    artifact = cache.materialize(stage, replace(ctx, cache=cache))
    seconds = time.perf_counter() - started
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    payload.with_suffix(".json").write_text(json.dumps({
        "seconds": seconds, "step_ends": [t - started for t in steps], "wchar": int(io["wchar"]),
        "artifact_bytes": _artifact_bytes(Path(artifact))}))


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
else:
    from harness.api import LocalExecutor
    from harness.core.executor import Failure, failed_input, split_cached

    class MeasuredExecutor(LocalExecutor):
        """Each stage in a fresh process; its peak memory, seconds, steps and bytes recorded."""

        description = "stages one after another, each in its own measured process"

        def execute(self, stages, cache, ctx, on_done):
            """Run every pending stage in order, each in a child process; see the module."""
            import cloudpickle

            from harness.plugins.loading import included_folders

            failed: dict[str, Failure] = {}
            out = cache.root.parent / "measured.jsonl"
            worker_ctx = replace(ctx, cache=None, progress=False)
            included = [str(folder) for folder in included_folders()]
            for stage in split_cached(stages, cache, on_done):
                skipped = failed_input(stage, failed)
                if skipped:
                    failed[stage.key] = skipped
                    continue
                with tempfile.TemporaryDirectory() as tmp:
                    payload = Path(tmp) / "stage.pkl"
                    payload.write_bytes(cloudpickle.dumps((stage, worker_ctx)))
                    payload.with_suffix(".meta").write_text(json.dumps(
                        {"included": included, "cache_root": str(cache.root.resolve())}))
                    started = time.perf_counter()
                    child = subprocess.Popen([sys.executable, __file__, str(payload)])
                    _, status, usage = os.wait4(child.pid, 0)
                    child.returncode = os.waitstatus_to_exitcode(status)
                    record = {"kind": stage.kind, "label": stage.label, "title": stage.title,
                              "process_seconds": round(time.perf_counter() - started, 2),
                              "peak_rss_kib": usage.ru_maxrss, "returncode": child.returncode}
                    result = payload.with_suffix(".json")
                    if result.is_file():
                        record.update(json.loads(result.read_text()))
                with out.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")
                if child.returncode != 0 or not cache.is_done(stage):
                    failed[stage.key] = Failure(stage, f"child exited with {child.returncode}")
                    continue
                on_done(stage)
            return list(failed.values())

    def register(registries):
        registries.executors.register("measured", MeasuredExecutor)
