import json
import multiprocessing
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from harness.core.graph import Cache, Stage, StageContext, hash_payload, topological_order
from harness.core.manifest import CacheError


class Cfg(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    size: int = 1
    name: str = "a"


class Write(Stage):
    kind = "write"
    calls: list = []

    def run(self, ctx, inputs, out):
        Write.calls.append(self.key)
        upstream = "".join((p / "value.txt").read_text() for p in inputs.values())
        (out / "value.txt").write_text(upstream + f"{self.config.name}{self.config.size}:{ctx.seed};")


class Boom(Stage):
    kind = "boom"

    def run(self, ctx, inputs, out):
        (out / "half.txt").write_text("partial")
        raise RuntimeError("killed")


def test_key_changes_when_and_only_when_relevant_input_changes():
    base = Write(Cfg())
    assert Write(Cfg()).key == base.key
    assert Write(Cfg(size=2)).key != base.key
    assert Write(Cfg(), seed=1).key != base.key
    assert Write(Cfg(), up=Write(Cfg(name="b"))).key != Write(Cfg(), up=Write(Cfg(name="c"))).key


def test_key_is_hash_of_canonical_payload():
    stage = Write(Cfg(size=3))
    expected = hash_payload({"kind": "write", "version": 1, "config": {"size": 3, "name": "a"},
                             "seed": None, "inputs": {}, "extra": {}})
    assert stage.key == expected
    assert hash_payload({"b": 1, "a": 2}) == hash_payload({"a": 2, "b": 1})


def test_version_bump_changes_key():
    class WriteV2(Write):
        version = 2

    assert WriteV2(Cfg()).key != Write(Cfg()).key


def test_materialize_runs_once_and_passes_inputs(tmp_path):
    Write.calls = []
    cache = Cache(tmp_path)
    ctx = StageContext(cache=cache)
    up = Write(Cfg(name="u"))
    down = Write(Cfg(name="d"), seed=7, up=up)
    for stage in topological_order([down]):
        cache.materialize(stage, ctx)
    cache.materialize(down, ctx)
    assert (cache.path(down) / "value.txt").read_text() == "u1:0;d1:7;"
    assert Write.calls == [up.key, down.key]
    manifest = json.loads((cache.path(down) / "manifest.json").read_text())
    assert manifest["inputs"] == {"up": up.key}


def test_failed_stage_leaves_no_entry(tmp_path):
    cache = Cache(tmp_path)
    stage = Boom(Cfg())
    with pytest.raises(RuntimeError):
        cache.materialize(stage, StageContext(cache=cache))
    assert not cache.is_done(stage)
    assert [p.name for p in (tmp_path / "boom").iterdir()] == [f".lock-{stage.key}"]  # lock only


def test_corrupt_manifest_is_reported_with_path(tmp_path):
    cache = Cache(tmp_path)
    stage = Write(Cfg())
    cache.materialize(stage, StageContext(cache=cache))
    (cache.path(stage) / "manifest.json").write_text("{not json")
    with pytest.raises(CacheError, match=str(cache.path(stage))):
        cache.manifest(stage)


def test_manifest_holds_size_and_checksum_of_every_file(tmp_path):
    import hashlib

    cache = Cache(tmp_path)
    stage = Write(Cfg(size=5))
    cache.materialize(stage, StageContext(cache=cache))
    content = (cache.path(stage) / "value.txt").read_bytes()
    files = cache.manifest(stage)["files"]
    assert files == {"value.txt": {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}}


@pytest.mark.parametrize("damage", ["truncate", "edit", "delete"])
def test_damaged_input_gives_one_message_naming_entry_and_fix(tmp_path, damage):
    cache = Cache(tmp_path)
    up = Write(Cfg(name="u"))
    cache.materialize(up, StageContext(cache=cache))
    weights = cache.path(up) / "value.txt"
    if damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:2])
    elif damage == "edit":  # same size, other bytes
        weights.write_bytes(weights.read_bytes()[::-1])
    else:
        weights.unlink()
    down = Write(Cfg(name="d"), up=up)
    with pytest.raises(CacheError) as raised:
        Cache(tmp_path).materialize(down, StageContext(cache=cache))
    message = str(raised.value)
    assert str(cache.path(up)) in message and "value.txt" in message
    assert "--rerun write" in message and "delete" in message
    assert not cache.is_done(down)


def test_intact_entries_and_entries_without_checksums_pass(tmp_path):
    cache = Cache(tmp_path)
    stage = Write(Cfg())
    cache.materialize(stage, StageContext(cache=cache))
    cache.verify(stage)
    manifest = cache.path(stage) / "manifest.json"
    old = json.loads(manifest.read_text())
    del old["files"]  # written before manifests had checksums
    manifest.write_text(json.dumps(old))
    (cache.path(stage) / "value.txt").write_text("anything")
    Cache(tmp_path).verify(stage)


def test_topological_order_deduplicates_shared_stages():
    shared = Write(Cfg(name="shared"))
    a = Write(Cfg(name="a"), x=shared)
    b = Write(Cfg(name="b"), x=Write(Cfg(name="shared")))
    order = topological_order([a, b])
    assert [s.config.name for s in order] == ["shared", "a", "b"]


def test_unbuilt_input_is_an_error(tmp_path):
    cache = Cache(tmp_path)
    with pytest.raises(CacheError, match="not built"):
        cache.materialize(Write(Cfg(), up=Write(Cfg(name="u"))), StageContext(cache=cache))


class SlowCount(Stage):
    """Appends to a shared log, then takes a while: a second builder would show in the log."""

    kind = "slow"

    def run(self, ctx, inputs, out):
        with open(self.config.name, "a") as log:
            log.write("built\n")
        time.sleep(1.0)
        (out / "value.txt").write_text("done")


def _materialize_slow(root, log_path):
    Cache(Path(root)).materialize(SlowCount(Cfg(name=str(log_path))), StageContext())


def test_two_processes_build_a_stage_once(tmp_path):
    log_path = tmp_path / "builds.log"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_materialize_slow, args=(tmp_path / "cache", log_path))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    assert log_path.read_text() == "built\n"
    assert Cache(tmp_path / "cache").is_done(SlowCount(Cfg(name=str(log_path))))


def test_leftovers_of_killed_runs_are_removed_when_the_stage_is_built(tmp_path):
    cache = Cache(tmp_path)
    stage = Write(Cfg(name="leftover"))
    orphan = tmp_path / "write" / f".tmp-{stage.key}-deadbeef"
    orphan.mkdir(parents=True)
    (orphan / "value.txt").write_text("half")
    other = tmp_path / "write" / ".tmp-someotherkey-deadbeef"  # another stage's: not ours to judge
    other.mkdir()
    cache.materialize(stage, StageContext())
    assert not orphan.exists() and other.exists()
