"""``validate`` refuses what a stage would refuse later or silently change, naming the key.

A seed numpy refuses, a boolean where a number is meant (pydantic would read ``true`` as 1), a
non-finite rate or weight (a NaN loss at the second step), no seed at all (no job, an empty
report), a task without sources, harmony weights without ``parallel:`` (``--no-data-check``
too: the graphs are built either way) and a target that is also its own task's source: each
is one ``key.path: message`` line under the ``<file>: invalid suite`` header, before anything
runs.
"""

import math

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from harness.cli.main import cli
from harness.core.config import MAX_SEED, StrictConfig

VALID = {
    "name": "mini",
    "backbones": ["tiny-xlmr"],
    "tasks": {"ner": {"targets": ["amh"], "sources": ["eng", "zho"], "data": {"path": "data/ner"}}},
    "methods": {"zero_shot": {"training": {"max_steps": 2}},
                "unibridge": {"adaptation": {"max_steps": 2}, "vocab": {"fixed_size": 300}}},
    "monolingual": {"data": {"path": "data/mono"}},
    "parallel": {"path": "data/parallel"},
}


def validate(tmp_path, change) -> tuple[int, list[str]]:
    """Exit code and output lines of ``validate`` on VALID with ``change(suite)`` applied."""
    suite = yaml.safe_load(yaml.safe_dump(VALID))
    change(suite)
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite))
    result = CliRunner().invoke(cli, ["validate", str(path), "--no-data-check"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output.splitlines()


def setter(*path_and_value):
    *path, key, value = path_and_value

    def change(suite):
        node = suite
        for part in path:
            node = node[part]
        node[key] = value
    return change


def test_the_valid_suite_is_ok(tmp_path):
    code, lines = validate(tmp_path, lambda suite: None)
    assert code == 0 and lines[0].endswith(": ok (2 jobs)"), lines


@pytest.mark.parametrize("change, line", [
    (setter("seeds", [MAX_SEED + 1]), "seeds.0: Input should be less than or equal to 4294967295"),
    (setter("seeds", [-1]), "seeds.0: Input should be greater than or equal to 0"),
    (setter("seeds", [1, True]), "seeds.1: Input should be an integer, not a boolean (true)"),
    (setter("seeds", []), "seeds: Tuple should have at least 1 item, not 0"),
    (setter("methods", "zero_shot", "training", "max_steps", True),
     "methods.zero_shot.training.max_steps: Input should be an integer, not a boolean (true)"),
    (setter("methods", "zero_shot", "training", "learning_rate", math.nan),
     "methods.zero_shot.training.learning_rate: Input should be a finite number"),
    (setter("methods", "zero_shot", "training", "learning_rate", math.inf),
     "methods.zero_shot.training.learning_rate: Input should be a finite number"),
    (setter("methods", "unibridge", "adaptation", "beta", -math.inf),
     "methods.unibridge.adaptation.beta: Input should be a finite number"),
    (setter("methods", "unibridge", "adaptation", "beta", False),
     "methods.unibridge.adaptation.beta: Input should be a number, not a boolean (false)"),
    (setter("methods", "unibridge", "inference", {"fixed_weights": {"eng": math.nan, "zho": 1.0}}),
     "methods.unibridge.inference.fixed_weights.eng: Input should be a finite number"),
    (setter("monolingual", "target_samples", True),
     "monolingual.target_samples: Input should be an integer, not a boolean (true)"),
    (setter("tasks", "ner", "targets", ["amh", "eng"]),
     "tasks.ner.targets: eng is also among the task's sources (eng, zho); a target is reached by "
     "transfer from the sources, so it cannot be one: drop it from one of the two lists"),
    (setter("tasks", "ner", "sources", []), "tasks.ner.sources: Tuple should have at least 1 item, not 0"),
    (lambda suite: suite.pop("parallel"),
     "parallel: required by the methods with harmony weights (unibridge); docs/data.md lists the corpora"),
    (setter("backbones", [{"name": "tiny-xlmr", "bogus": 1}]),
     "backbones.0.bogus: unknown key. Valid keys: name, pretrained, arch"),
])
def test_validate_refuses_it_in_one_line_naming_the_key(tmp_path, change, line):
    code, lines = validate(tmp_path, change)
    assert code != 0
    assert lines[0].endswith("suite.yaml: invalid suite") and lines[1:] == [line], lines


def test_a_target_missing_from_the_default_sources_is_still_fine(tmp_path):
    code, lines = validate(tmp_path, lambda suite: suite["tasks"]["ner"].pop("sources"))
    assert code == 0, lines


@pytest.mark.parametrize("seed", ["-1", str(MAX_SEED + 1)])
def test_run_refuses_a_seed_numpy_refuses(tmp_path, seed):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(VALID))
    result = CliRunner().invoke(cli, ["run", str(path), "--seed", seed, "--dry-run"])
    assert result.exit_code == 2 and "Invalid value for '--seed'" in result.output, result.output


def every_config() -> list[type[StrictConfig]]:
    """Every StrictConfig subclass of the harness and the baselines (the catalogs imported)."""
    import harness.planning.plan  # noqa: F401 - the suite, backbone and shared stage configs
    import harness.report.manifest  # noqa: F401
    import harness.report.paper  # noqa: F401
    from harness.methods.catalog import METHODS

    for method in METHODS:  # imported lazily: each with its stage configs
        METHODS.get(method)
    found, todo = [], [StrictConfig]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def test_no_config_default_is_a_boolean_for_a_number_or_non_finite():
    """What every config refuses from a file it never gives itself (its defaults validate)."""
    configs = every_config()
    assert len(configs) > 20
    for config in configs:
        for name, field in config.model_fields.items():
            default = field.default
            if isinstance(default, float):
                assert math.isfinite(default), (config.__name__, name)
        assert config.model_config.get("allow_inf_nan") is False, config.__name__
        try:
            defaults = config()
        except ValidationError:  # required keys, or a form to choose (DataSource)
            continue
        # a method's defaults are dumped and validated again (method_config)
        assert config.model_validate(defaults.model_dump()) == defaults, config.__name__
