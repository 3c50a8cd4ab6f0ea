"""Plugins through the CLI, as a user has them: an installed package and an included folder.

The package tests/plugin_example/unibridge_softmax_temp is installed offline into a folder of
its own (``pip install --no-deps --no-build-isolation --no-index --target``), never into the
environment's site-packages, and the CLI runs in a subprocess with that folder on PYTHONPATH,
so that its entry points are found as an installed package's are. The included folder
tests/plugin_example/included is copied next to each suite (which names it with ``include:``).
"""

import csv
import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
import yaml

from harness.run.records import read_results

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
EXAMPLE = ROOT / "tests" / "plugin_example"
PACKAGE_ORIGIN = "unibridge-softmax-temp 0.1.0 (entry point unibridge_bench.methods: unibridge_softmax_temp)"
TEMPERATURE = 0.25
UNIBRIDGE = {
    "vocab": {"start": 200, "step": 20, "max_size": 1500},
    "embeddings": {"fasttext_dim": 16},
    "adaptation": {"max_steps": 2, "batch_size": 4, "max_device_batch_size": 4},
    "task_adapter": {"max_steps": 2, "batch_size": 4, "max_device_batch_size": 4},
}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The example package installed into a folder of its own (offline, no dependencies)."""
    tmp = tmp_path_factory.mktemp("plugin-site")
    source = tmp / "source"
    shutil.copytree(EXAMPLE / "unibridge_softmax_temp", source)  # pip builds in the source tree
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--disable-pip-version-check", "--target", str(tmp / "site"), str(source)],
                   check=True, capture_output=True, text=True)
    return tmp / "site"


def cli(site: Path | None, *args: object, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """``unibridge-bench ARGS`` in a fresh interpreter, ``site`` (if any) on its path."""
    paths = [str(ROOT), *([str(site)] if site else [])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    return subprocess.run([sys.executable, "-m", "harness.cli.main", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True)


def suite_file(folder: Path, methods: dict, include: object = "included") -> Path:
    """A one-job-per-method suite on a tiny XLM-R and the NER fixtures, two sources."""
    payload = {
        "name": "plugins",
        "backbones": ["tiny-xlmr"],
        "tasks": {"ner": {"targets": ["amh"], "sources": ["eng", "zho"],
                          "data": {"path": str(FIXTURES / "wikiann")}}},
        "monolingual": {"data": {"path": str(FIXTURES / "monolingual")}, "target_samples": 14,
                        "source_samples": 34, "words_per_sample": 32},
        "parallel": {"path": str(FIXTURES / "parallel")},
        "methods": methods,
    }
    if include is not None:
        payload["include"] = include
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(payload, sort_keys=False))
    return path


def included_copy(folder: Path) -> Path:
    """A copy of the example's included folder at ``folder/included``."""
    return Path(shutil.copytree(EXAMPLE / "included", folder / "included",
                                ignore=shutil.ignore_patterns("__pycache__")))


def test_list_names_each_entry_and_its_origin(site):
    done = cli(site, "list", "--include", EXAMPLE / "included")
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("  ")}
    assert lines["unibridge_softmax_temp"].endswith(f"[{PACKAGE_ORIGIN}]")
    assert "temperature" in lines["unibridge_softmax_temp"]
    assert lines["source_weights"].endswith(
        "[unibridge-softmax-temp 0.1.0 (entry point unibridge_bench.tables: source_weights)]")
    assert lines["majority_label"].endswith(f"[{EXAMPLE / 'included' / 'majority.py'}]")
    assert lines["method_means"].endswith(f"[{EXAMPLE / 'included' / 'majority.py'}]")
    assert lines["unibridge"].endswith("[built-in]") and lines["table01"].endswith("[built-in]")


def test_without_the_package_or_the_folder_their_entries_are_unknown(tmp_path):
    done = cli(None, "list", "methods")
    assert "unibridge_softmax_temp" not in done.stdout and "majority_label" not in done.stdout
    suite = suite_file(tmp_path, {"unibridge_softmax_temp": {}}, include=None)
    done = cli(None, "validate", suite, "--no-data-check")
    assert done.returncode == 2 and "methods.unibridge_softmax_temp: unknown method" in done.stderr


@pytest.fixture(scope="module")
def finished(site, tmp_path_factory):
    """The package's method (τ = 0.25), UniBridge and the included baseline, run once."""
    folder = tmp_path_factory.mktemp("plugin-run")
    included_copy(folder)
    suite = suite_file(folder, {"unibridge": UNIBRIDGE,
                                "unibridge_softmax_temp": {**UNIBRIDGE, "temperature": TEMPERATURE},
                                "majority_label": {}})
    done = cli(site, "run", suite, "--workdir", folder / "work", "--device", "cpu")
    assert done.returncode == 0, done.stdout + done.stderr
    records = {}
    for path in (folder / "work" / "results").glob("*.json"):
        record = yaml.safe_load(path.read_text())
        records[record["method"]] = record
    return folder, suite, records, done.stdout


@pytest.mark.slow
def test_the_plugin_method_weighs_the_shared_distances_with_its_temperature(finished):
    _, _, records, _ = finished
    assert set(records) == {"unibridge", "unibridge_softmax_temp", "majority_label"}
    tempered, plain = records["unibridge_softmax_temp"]["details"], records["unibridge"]["details"]
    assert tempered["distances"] == plain["distances"]  # stages 1-4 and Eq. 11 are UniBridge's, shared
    for details, temperature in ((plain, 1.0), (tempered, TEMPERATURE)):
        logits = {s: 1 / d / temperature for s, d in details["distances"].items()}
        total = sum(math.exp(v) for v in logits.values())
        assert details["weights"] == pytest.approx({s: math.exp(v) / total for s, v in logits.items()})
    closest = min(plain["distances"], key=plain["distances"].get)
    assert tempered["weights"][closest] > plain["weights"][closest] > 0.5  # τ < 1 sharpens
    assert all(r["metric"] == "f1" and 0 <= r["value"] <= 100 for r in records.values())


@pytest.mark.slow
def test_the_plugins_evaluation_stages_carry_their_plugin_in_key_and_manifest(finished):
    folder, _, records, _ = finished
    cache = folder / "work" / "cache" / "evaluation"
    manifests = {method: json.loads((cache / r["config_hash"] / "manifest.json").read_text())
                 for method, r in records.items()}
    module = EXAMPLE / "included" / "majority.py"  # what the run's copy held (a later test edits it)
    assert manifests["unibridge_softmax_temp"]["plugin"] == "unibridge-softmax-temp==0.1.0"
    assert manifests["majority_label"]["plugin"] == \
        f"file:majority.py:{hashlib.sha256(module.read_bytes()).hexdigest()}"
    assert "plugin" not in manifests["unibridge"]


@pytest.mark.slow
def test_the_included_baseline_predicts_the_sources_majority_label(finished):
    from harness.data.source import DataSource
    from harness.tasks.specs import get_task

    _, _, records, _ = finished
    task, data = get_task("ner"), DataSource(path=str(FIXTURES / "wikiann"))
    counts = Counter(tag for lang in ("eng", "zho") for example in task.load(data, lang, "train")
                     for tag in example.tags)
    details = records["majority_label"]["details"]
    assert details["majority"] == counts.most_common(1)[0][0] == "O"
    test = task.load(data, "amh", "test")
    assert details["n_examples"] == len(test)
    assert records["majority_label"]["value"] == 0.0  # all-"O" predicts no entity: entity F1 is 0


@pytest.mark.slow
def test_the_plugins_tables_are_rendered_from_the_records(finished):
    folder, _, records, output = finished
    tables = folder / "work" / "tables"
    assert "2 of plugins (method-means, source-weights)" in output
    with open(tables / "source-weights.csv") as handle:
        weights = {row["method"]: row for row in csv.DictReader(handle)}
    assert set(weights) == {"unibridge", "unibridge_softmax_temp"}  # the baseline records no weights
    for method, row in weights.items():
        for source in ("eng", "zho"):
            recorded = records[method]["details"]["weights"][source]
            assert float(row[source]) == pytest.approx(recorded, abs=1e-4)
    with open(tables / "method-means.csv") as handle:
        means = {row["method"]: float(row["mean"]) for row in csv.DictReader(handle)}
    assert means == {method: pytest.approx(round(statistics.mean([r["value"]]), 2), abs=0.005)
                     for method, r in records.items()}
    page = (folder / "work" / "report.html").read_text()
    assert "Tables of plugins" in page and '<h3 id="plugin-source-weights">source-weights</h3>' in page


@pytest.mark.slow
def test_run_json_and_the_page_name_the_plugins_the_run_used(finished):
    folder, _, _, _ = finished
    manifest = json.loads((folder / "work" / "run.json").read_text())
    included = folder.resolve() / "included" / "majority.py"
    assert manifest["plugins"] == {"methods.unibridge_softmax_temp": PACKAGE_ORIGIN,
                                   "methods.majority_label": str(included)}
    page = (folder / "work" / "report.html").read_text()
    assert "<dt>plugins</dt><dd>methods.unibridge_softmax_temp: unibridge-softmax-temp 0.1.0" in page


@pytest.mark.slow
def test_report_renders_plugin_tables_again_given_the_same_plugins(finished, site):
    folder, _, _, _ = finished
    work = folder / "work"
    shutil.rmtree(work / "tables")
    done = cli(site, "report", work, "--format", "md")
    assert done.returncode == 0, done.stderr
    written = {p.name for p in (work / "tables").iterdir()}
    assert {"results-ner.md", "source-weights.md"} <= written and "method-means.md" not in written
    done = cli(site, "report", work, "--format", "md", "--include", folder / "included")
    assert (work / "tables" / "method-means.md").is_file(), done.stderr


@pytest.mark.slow
def test_a_changed_included_module_reruns_its_stages_and_nothing_else(finished, site):
    folder, suite, _, _ = finished
    done = cli(site, "run", suite, "--workdir", folder / "work", "--dry-run")
    assert done.stdout.count("cached ") == 3, done.stdout
    module = folder / "included" / "majority.py"
    module.write_text(module.read_text() + "\n# an edit: the file's hash, and so its stages' keys, change\n")
    done = cli(site, "run", suite, "--workdir", folder / "work", "--dry-run")
    status = {line.split()[-1].split("/")[0]: line.split()[0] for line in done.stdout.splitlines()[:3]}
    assert status == {"majority_label": "to", "unibridge": "cached", "unibridge_softmax_temp": "cached"}


def broken_plugin(tmp_path: Path, name: str, source: str) -> Path:
    """An included folder holding one module ``name``.py with ``source``."""
    folder = tmp_path / "broken"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return folder


def validate_message(tmp_path: Path, methods: dict, *extra: object, site: Path | None = None) -> str:
    """The stderr of ``validate`` on a small suite, which must fail with exit code 2 and no traceback."""
    suite = suite_file(tmp_path, methods, include=None)
    done = cli(site, "validate", suite, "--no-data-check", *extra)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def test_a_module_that_fails_to_import_is_one_message_naming_its_file_and_line(tmp_path):
    folder = broken_plugin(tmp_path, "needs_missing", """\
        import math

        import a_module_nobody_installed

        def register(registries):
            pass
    """)
    message = validate_message(tmp_path, {"zero_shot": {}}, "--include", folder)
    file = folder.resolve() / "needs_missing.py"
    assert f"plugin {file}: fails to import: ModuleNotFoundError: No module named " \
           f"'a_module_nobody_installed' ({file}:3)" in message
    assert message.count("plugin ") == 1


def test_a_module_with_a_syntax_error_is_named_with_its_line(tmp_path):
    folder = broken_plugin(tmp_path, "typo", "def register(registries):\n    return (\n")
    message = validate_message(tmp_path, {"zero_shot": {}}, "--include", folder)
    file = folder.resolve() / "typo.py"
    assert f"plugin {file}: fails to import: SyntaxError: " in message and f"({file}:2)" in message


def test_a_hook_registering_into_an_unknown_registry_is_told_the_valid_ones(tmp_path):
    folder = broken_plugin(tmp_path, "wrong_registry", "def register(registries):\n"
                                                       "    registries.metrics.register('m', len)\n")
    message = validate_message(tmp_path, {"zero_shot": {}}, "--include", folder)
    assert "wrong_registry.py: register() failed: AttributeError: registries.metrics: plugins can " \
           "register into methods, backbones, tasks, task_kinds, tables" in message


def test_a_module_without_the_hook_is_named(tmp_path):
    folder = broken_plugin(tmp_path, "no_hook", "VALUE = 1\n")
    assert "no_hook.py: has no register(registries) function" in validate_message(
        tmp_path, {"zero_shot": {}}, "--include", folder)


def test_shadowing_a_built_in_name_is_refused(tmp_path):
    folder = broken_plugin(tmp_path, "shadow", """\
        from harness.methods.unibridge.method import UniBridge

        def register(registries):
            registries.methods.register("unibridge", UniBridge)
    """)
    message = validate_message(tmp_path, {"zero_shot": {}}, "--include", folder)
    assert f"plugin {folder.resolve() / 'shadow.py'}: method 'unibridge' shadows a built-in method" in message


def test_a_task_kind_of_no_known_shape_is_one_message(tmp_path):
    folder = broken_plugin(tmp_path, "kind", "\n".join([
        "from dataclasses import replace",
        "from harness.tasks.from_yaml.kinds import TASK_KINDS",
        "def register(registries):",
        "    text = TASK_KINDS.get('sentence_classification')",
        "    registries.task_kinds.register('regression', replace(text, name='regression', shape='scalar'))",
        ""]))
    message = validate_message(tmp_path, {"zero_shot": {}}, "--include", folder)
    assert "task kind 'regression' has shape 'scalar'; valid: tagging, sentence, pair" in message


@pytest.mark.parametrize(("declared", "expected"), [
    ("archs = frozenset({'t5'})",
     "declares archs ['t5'], which no backbone has (valid: bert, gpt2, mbart, xlmr)"),
    ("archs = frozenset()", "declares archs = {}: it runs on no backbone"),
    ("task_kinds = frozenset({'nonexistent'})",
     "declares task_kinds ['nonexistent']: nonexistent of them registered (valid: "),
    ("task_kinds = frozenset()", "declares task_kinds []: none of them registered"),
], ids=["unknown-arch", "no-arch", "unknown-task-kind", "no-task-kind"])
def test_an_impossible_method_backbone_combination_is_one_message(tmp_path, declared, expected):
    folder = broken_plugin(tmp_path, "impossible", "\n".join([
        "from baselines.zero_shot import ZeroShot",
        "class Impossible(ZeroShot):",
        f"    {declared}",
        "def register(registries):",
        "    registries.methods.register('impossible', Impossible)", ""]))
    message = validate_message(tmp_path, {"zero_shot": {}}, "--include", folder)
    assert f"plugin {folder.resolve() / 'impossible.py'}: method 'impossible' {expected}" in message
    assert message.count("plugin ") == 1


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_stage_config_a_plugin_builds_invalid_is_one_message_naming_method_and_job(tmp_path, command):
    """A check no method hook makes, met when the graph is built: one line, no traceback."""
    folder = broken_plugin(tmp_path, "invalid_stage", "\n".join([
        "from pydantic import BaseModel, Field",
        "from baselines.zero_shot import ZeroShot",
        "class StepsConfig(BaseModel):",
        "    steps: int = Field(gt=0)",
        "class InvalidStage(ZeroShot):",
        "    def build(self, job, env):",
        "        return StepsConfig(steps=0)",
        "def register(registries):",
        "    registries.methods.register('invalid_stage', InvalidStage)", ""]))
    suite = suite_file(tmp_path, {"invalid_stage": {}}, include=None)
    done = cli(None, command, suite, "--include", folder)
    assert (done.returncode, "Traceback" in done.stderr) == (2, False), done.stderr
    job = "invalid_stage/tiny-xlmr/ner/amh/seed1"
    assert f"methods.invalid_stage (job {job}).steps: Input should be greater than 0" in done.stderr


def test_a_missing_include_folder_of_the_suite_names_the_suite(tmp_path):
    suite = suite_file(tmp_path, {"zero_shot": {}}, include="not_there")
    done = cli(None, "validate", suite, "--no-data-check")
    assert done.returncode == 2
    assert f"{suite}: include: {tmp_path.resolve() / 'not_there'}: no such folder" in done.stderr


def test_a_broken_installed_package_is_named_by_distribution_and_entry_point(tmp_path):
    site = tmp_path / "site"
    info = site / "broken_plugin-0.0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text("[unibridge_bench.methods]\nbroken = broken_plugin_code:Method\n")
    message = validate_message(tmp_path, {"zero_shot": {}}, site=site)
    assert ("plugin broken-plugin 0.0.1 (entry point unibridge_bench.methods: broken) = "
            "broken_plugin_code:Method: fails to import: ModuleNotFoundError") in message
    done = cli(site, "list", "methods")
    assert done.returncode == 2 and "zero_shot" in done.stdout and "broken-plugin 0.0.1" in done.stderr


@pytest.mark.parametrize(("source", "expected", "line"), [
    ("import sys\nsys.exit(0)\n", "fails to import: calls sys.exit(0)", 2),
    ("import sys\nsys.exit('no GPU here')\n", "fails to import: calls sys.exit('no GPU here')", 2),
    ("raise SystemExit\n", "fails to import: calls sys.exit()", 1),
    ("class Unusual(BaseException):\n    pass\nraise Unusual('odd')\n", "fails to import: Unusual: odd", 3),
    ("import sys\ndef register(registries):\n    sys.exit(3)\n", "register() failed: calls sys.exit(3)", 3),
    ("import sys\nfrom baselines.zero_shot import ZeroShot\nclass Exits(ZeroShot):\n"
     "    def __init__(self, *args):\n        sys.exit(4)\ndef register(registries):\n"
     "    registries.methods.register('exits', Exits)\n",
     "method 'exits' fails its checks: calls sys.exit(4)", 5),
], ids=["exit-0", "exit-message", "bare-SystemExit", "BaseException-subclass", "exit-in-register",
        "exit-in-a-method-the-checks-build"])
def test_a_module_that_exits_or_raises_any_base_exception_is_one_line_naming_it(tmp_path, source, expected,
                                                                                 line):
    """Not validate ending silently with the plugin's exit code: one line naming file and line."""
    folder = broken_plugin(tmp_path, "exits", source)
    message = validate_message(tmp_path, {"zero_shot": {}}, "--include", folder)
    file = folder.resolve() / "exits.py"
    assert f"plugin {file}: {expected} ({file}:{line})" in message, message
    assert message.count("plugin ") == 1


def test_an_installed_package_that_exits_at_import_is_named_by_distribution_and_entry_point(tmp_path):
    site = tmp_path / "site"
    info = site / "exiting_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: exiting-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[unibridge_bench.methods]\nexiting = exiting_plugin_code:Method\n")
    (site / "exiting_plugin_code.py").write_text("import sys\nsys.exit(0)\n")
    message = validate_message(tmp_path, {"zero_shot": {}}, site=site)
    assert ("plugin exiting-plugin 0.1 (entry point unibridge_bench.methods: exiting) = "
            "exiting_plugin_code:Method: fails to import: calls sys.exit(0) "
            f"({site / 'exiting_plugin_code.py'}:2)") in message, message


def test_a_ctrl_c_while_a_plugin_loads_stops_the_command_as_a_stop(tmp_path):
    """Ctrl-C is the user's, not the plugin's: the command stops (click's Aborted!), no plugin line."""
    folder = broken_plugin(tmp_path, "slow_import", """\
        import os
        import signal

        os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C while this file is imported

        def register(registries):
            pass
    """)
    done = cli(None, "validate", suite_file(tmp_path, {"zero_shot": {}}, include=None),
               "--no-data-check", "--include", folder)
    assert done.returncode == 1 and done.stderr.strip() == "Aborted!", done.stdout + done.stderr
    assert "valid" not in done.stdout.lower()


def test_an_installed_package_shadowing_a_built_in_is_refused(tmp_path):
    site = tmp_path / "site"
    info = site / "shadowing_plugin-2.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shadowing-plugin\nVersion: 2.0\n")
    (info / "entry_points.txt").write_text(
        "[unibridge_bench.methods]\nunibridge = harness.methods.unibridge.method:UniBridgeNoKL\n")
    message = validate_message(tmp_path, {"zero_shot": {}}, site=site)
    assert ("plugin shadowing-plugin 2.0 (entry point unibridge_bench.methods: unibridge) = "
            "harness.methods.unibridge.method:UniBridgeNoKL: "
            "method 'unibridge' shadows a built-in method") in message


def test_two_plugins_of_one_name_are_refused_naming_the_first(tmp_path):
    hook = "from baselines.zero_shot import ZeroShot\ndef register(registries):\n" \
           "    registries.methods.register('twice', ZeroShot)\n"
    folder = broken_plugin(tmp_path, "a_first", hook)
    broken_plugin(tmp_path, "b_second", hook)
    message = validate_message(tmp_path, {"zero_shot": {}}, "--include", folder)
    first, second = folder.resolve() / "a_first.py", folder.resolve() / "b_second.py"
    assert f"plugin {second}: method 'twice' shadows one from {first} method" in message


def test_plugin_backbones_and_tasks_serve_a_suite(tmp_path):
    folder = broken_plugin(tmp_path, "extras", """\
        from baselines.zero_shot import ZeroShot
        from harness.models.backbones import BackboneSpec
        from harness.tasks.specs import TASKS, TaskSpec

        NER = TASKS.get("ner")

        class ZeroShotOnCopies(ZeroShot):
            task_kinds = frozenset({"token_classification"})

        def register(registries):
            copy = BackboneSpec("tiny-xlmr-copy", "xlmr", None, tiny=True)
            registries.backbones.register("tiny-xlmr-copy", copy)
            task = TaskSpec("ner_copy", "tagging", NER.labels, "f1", "wikiann", "token_classification")
            registries.tasks.register("ner_copy", task)
            registries.methods.register("zero_shot_on_copies", ZeroShotOnCopies)
    """)
    suite = suite_file(tmp_path, {"zero_shot_on_copies": {}}, include=str(folder))
    payload = yaml.safe_load(suite.read_text())
    payload["backbones"], payload["tasks"] = ["tiny-xlmr-copy"], {"ner_copy": payload["tasks"]["ner"]}
    suite.write_text(yaml.safe_dump(payload))
    done = cli(None, "validate", suite)  # with the data check: the copy reads the NER fixtures
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{suite}: ok (1 jobs)")
    listed = cli(None, "list", "--include", folder).stdout
    lines = [line for line in listed.splitlines() if line.startswith("  ")]
    origins = {line.split()[0]: line.rsplit("[", 1)[-1] for line in lines}
    for name in ("tiny-xlmr-copy", "ner_copy", "zero_shot_on_copies"):
        assert origins[name] == f"{folder.resolve() / 'extras.py'}]"
    assert origins["tiny-xlmr"] == "built-in]"


def test_validate_with_plugins_imports_no_model_library(site, tmp_path):
    included_copy(tmp_path)
    suite = suite_file(tmp_path, {"unibridge_softmax_temp": {}, "majority_label": {}})
    probe = ("import json, sys\nfrom harness.cli.main import cli\ntry:\n    cli(sys.argv[1:])\n"
             "except SystemExit as done:\n    code = done.code\n"
             "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(site)]))
    done = subprocess.run([sys.executable, "-c", probe, "validate", str(suite)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    assert "unibridge_softmax_temp.method" in report["modules"]  # the plugin was loaded, and yet:
    assert {"torch", "transformers", "adapters", "datasets"} & set(report["modules"]) == set()


EXECUTOR_PLUGIN = '''
from harness.run.executors.local import LocalExecutor


class ListingExecutor(LocalExecutor):
    """The local executor, listing the stages it is handed beside the cache first."""

    description = "stages one after another, listed in executed.txt"

    def execute(self, stages, cache, ctx, on_done):
        (cache.root.parent / "executed.txt").write_text("\\\\n".join(s.kind for s in stages))
        return super().execute(stages, cache, ctx, on_done)


def register(registries):
    registries.executors.register("listing", ListingExecutor)
'''


def test_an_included_executor_is_listed_and_runs_the_stages(tmp_path):
    folder = included_copy(tmp_path)
    (folder / "listing.py").write_text(EXECUTOR_PLUGIN)
    listed = cli(None, "list", "executors", "--include", folder)
    assert f"listing  stages one after another, listed in executed.txt  [{folder / 'listing.py'}]" \
        in listed.stdout, listed.stderr
    suite = suite_file(tmp_path, {"majority_label": {}})
    done = cli(None, "run", suite, "--workdir", tmp_path / "work", "--device", "cpu", "--executor", "listing")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "work" / "executed.txt").read_text().split() == ["evaluation"]
    assert [r.method for r in read_results(tmp_path / "work" / "results.jsonl")] == ["majority_label"]


def test_an_unknown_executor_is_one_message_naming_the_valid_ones_with_the_plugins(tmp_path):
    folder = included_copy(tmp_path)
    (folder / "listing.py").write_text(EXECUTOR_PLUGIN)
    done = cli(None, "run", suite_file(tmp_path, {"majority_label": {}}), "--executor", "slurm", "--dry-run")
    assert (done.returncode, done.stderr.strip()) == (
        2, "Error: --executor: unknown executor 'slurm'. Valid choices: listing, local, ray")


@pytest.mark.parametrize(("source", "expected"), [
    ("Broken = 'local'", "executor 'broken' is 'local', not a subclass of harness.core.executor.Executor"),
    ("from harness.run.executors.local import LocalExecutor\nclass Broken(LocalExecutor):\n"
     "    def __init__(self, nodes):\n        super().__init__()",
     "executor 'broken' needs arguments ['nodes']; run builds it with none"),
], ids=["not-an-executor", "needs-arguments"])
def test_an_executor_the_harness_cannot_build_is_one_message(tmp_path, source, expected):
    folder = broken_plugin(tmp_path, "broken", source + "\ndef register(registries):\n"
                           "    registries.executors.register('broken', Broken)\n")
    message = validate_message(tmp_path, {"zero_shot": {}}, "--include", folder)
    assert f"plugin {folder.resolve() / 'broken.py'}: {expected}" in message
