"""The cache keys of plugin stages, and plugin stages in Ray workers.

A stage class of an included module carries the SHA-256 of the module's file in its key, one of
an installed package its distribution's name and version; harness stages keep the keys they
always had (existing caches stay valid).
"""

import hashlib
import json
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

from harness.core import origins
from harness.core.graph import Cache, StageContext, config_payload, hash_payload, topological_order
from harness.data.source import DataRef, DataSource
from harness.plugins.loading import activate, include_module_name, load_file, package_stamp
from harness.stages.corpus import CorpusConfig, CorpusStage

PROBE = '''\
from pydantic import BaseModel, ConfigDict

from harness.core.graph import Stage


class ProbeConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = "probe"


class Probe(Stage):
    """Writes which plugin tables its process knows: the worker must have loaded the plugins."""

    kind = "probe"

    def run(self, ctx, inputs, out):
        from harness.report.catalog import TABLES

        known = "probe_table_{suffix}" in TABLES
        (out / "text").write_text(f"{{self.config.name}} {{known}} {{VERSION}}")


def probe_table(records):
    """A table with nothing to show (None), so that other tests' reports are unchanged."""
    return None


VERSION = {version}


def register(registries):
    registries.tables.register("probe_table_{suffix}", probe_table)
'''


def write_probe(folder: Path, version: int, suffix: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "probe.py"
    path.write_text(PROBE.format(version=version, suffix=suffix))
    return path


def load_probe(path: Path):
    """The module of the probe file at ``path``, loaded as an included module."""
    assert load_file(path) == []
    return sys.modules[include_module_name(path)]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_edited_included_module_gives_its_stages_new_keys(tmp_path):
    path = write_probe(tmp_path / "plugins", 1, "keys")
    first = load_probe(path)
    stamp = f"file:probe.py:{sha256(path)}"
    assert origins.stage_stamp(first.Probe) == stamp
    config = first.ProbeConfig()
    before = first.Probe(config).key
    payload = {"kind": "probe", "version": 1, "config": config_payload(config), "seed": None,
               "inputs": {}, "extra": {}}
    assert before == hash_payload({**payload, "plugin": stamp}) != hash_payload(payload)

    path.write_text(path.read_text().replace("VERSION = 1", "VERSION = 2"))
    second = load_probe(path)  # the same file loaded again replaces its own table: no shadowing
    assert origins.stage_stamp(second.Probe) == f"file:probe.py:{sha256(path)}"
    assert second.Probe(second.ProbeConfig()).key != before


def test_a_harness_stage_keeps_the_key_it_always_had():
    config = CorpusConfig(langs=("eng",), n_samples=2, words_per_sample=3,
                          data=DataRef(source=DataSource(path="/data"), fingerprint="f"))
    stage = CorpusStage(config)
    assert origins.stage_stamp(CorpusStage) is None
    assert stage.key == hash_payload({"kind": stage.kind, "version": stage.version,
                                      "config": config_payload(config), "seed": None, "inputs": {},
                                      "extra": stage.extra_key()})


def test_a_package_stamp_covers_every_module_below_it():
    origins.stamp_modules(["some_plugin_package"], "some-plugin==1.2")
    assert origins.module_stamp("some_plugin_package.stages.deep") == "some-plugin==1.2"
    assert origins.module_stamp("some_plugin_package_other") is None
    assert origins.module_stamp("harness.methods.unibridge.inference") is None
    origins.stamp_modules(["harness", "baselines.zero_shot"], "claims-the-harness==1")  # refused
    assert origins.module_stamp("harness.methods.unibridge.inference") is None
    assert origins.module_stamp("baselines.zero_shot") is None


@pytest.mark.slow
def test_a_ray_worker_loads_the_included_plugins_before_it_builds_their_stage(tmp_path):
    ray = pytest.importorskip("ray")
    from harness.run.executors.ray_cluster import RayExecutor

    folder = tmp_path / "plugins"
    write_probe(folder, 3, "ray")
    activate([folder])
    probe = sys.modules[include_module_name(folder / "probe.py")]
    stage = probe.Probe(probe.ProbeConfig(name="in-a-worker"))
    cache = Cache(tmp_path / "cache")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        failures = RayExecutor().execute(topological_order([stage]), cache,
                                         StageContext(cache=cache, progress=False), lambda _: None)
    finally:
        ray.shutdown()
    assert failures == []
    assert (cache.path(stage) / "text").read_text() == "in-a-worker True 3"


def handmade_distribution(site: Path, editable: bool) -> metadata.Distribution:
    """A distribution ``edit-plugin 1.0`` whose package ``edit_plugin`` lies in ``site``."""
    (site / "edit_plugin").mkdir(parents=True)
    (site / "edit_plugin" / "__init__.py").write_text("VERSION = 1\n")
    info = site / "edit_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: edit-plugin\nVersion: 1.0\n")
    (info / "top_level.txt").write_text("edit_plugin\n")
    if editable:
        (info / "direct_url.json").write_text(json.dumps(
            {"url": site.as_uri(), "dir_info": {"editable": True}}))
    return metadata.PathDistribution(info)


@pytest.mark.parametrize("editable", [False, True], ids=["installed", "editable"])
def test_an_editable_package_is_stamped_by_its_sources_too(tmp_path, monkeypatch, editable):
    monkeypatch.syspath_prepend(str(tmp_path))
    dist = handmade_distribution(tmp_path, editable)
    before = package_stamp(dist, ["edit_plugin"])
    assert before.startswith("edit-plugin==1.0")
    (tmp_path / "edit_plugin" / "__init__.py").write_text("VERSION = 2\n")  # same version, new code
    after = package_stamp(dist, ["edit_plugin"])
    if editable:
        assert after != before and after.startswith("edit-plugin==1.0:")
    else:  # an installed release is its version: its files do not change under it
        assert after == before == "edit-plugin==1.0"


@pytest.mark.parametrize(("fault", "said"), [
    (lambda: sys.exit(3), "calls sys.exit(3)"),
    (lambda: sys.exit("bye"), "calls sys.exit('bye')"),
    (lambda: 1 / 0, "ZeroDivisionError: division by zero"),
])
def test_a_table_plugin_that_exits_or_raises_is_one_error_naming_it(monkeypatch, fault, said):
    """A plugin's table that raises, or exits, while the report renders is a TablePluginError."""
    from harness.report.catalog import TABLES
    from harness.report.plugin_tables import TablePluginError, plugin_tables

    def broken(records):
        fault()

    TABLES.register("broken_table", broken)
    monkeypatch.setitem(origins._ENTRY_ORIGINS, ("tables", "broken_table"),
                        origins.Origin("/lab/broken.py", stamp="file:broken.py:0"))
    try:
        with pytest.raises(TablePluginError, match=re.escape(said)) as raised:
            plugin_tables([])
        assert "table 'broken_table' of plugin /lab/broken.py" in str(raised.value)
    finally:
        TABLES.discard("broken_table")
