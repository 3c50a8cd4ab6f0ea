"""Stage keys hash what a stage computes, never where its code lives: moving modules rebuilds nothing.

``tests/stage_keys.json`` holds, per shipped suite and stage kind, the number of distinct stages
and the SHA-256 of their sorted keys, as the code before the layered layout computed them; a
workdir made then is reused whole now (a warm run builds 0 stages). A change that means to give
stages new keys (a stage's ``version``, a new config field) updates the file on purpose:
``python3 tests/test_stage_keys.py --write``.
"""

import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = Path(__file__).with_name("stage_keys.json")
#: Every shipped suite but the MasakhaNER example, whose data is a local clone: where that clone
#: is missing, its placeholder fingerprint names the checkout's absolute path.
SUITES = ("smoke", "smoke_baselines", "wikiann", "ud", "americasnli", "examples/sib200")


def suite_stages(suite: str) -> dict:
    """Key -> stage, over every job of ``suite`` (data that cannot be read here: placeholders)."""
    from harness.cli.common import load_plan

    plan = replace(load_plan(ROOT / "suites" / f"{suite}.yaml", check_data=False), provisional_data=True)
    stages = {}

    def walk(stage):
        if stage.key not in stages:
            stages[stage.key] = stage
            for parent in stage.inputs.values():
                walk(parent)

    for job in plan.jobs:
        walk(plan.build(job))
    return stages


def digest(suite: str) -> dict[str, list]:
    """Per stage kind: [how many stages, SHA-256 of their sorted keys]."""
    by_kind: dict[str, list[str]] = {}
    for key, stage in suite_stages(suite).items():
        by_kind.setdefault(stage.kind, []).append(key)
    return {kind: [len(keys), hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()]
            for kind, keys in sorted(by_kind.items())}


@pytest.mark.parametrize("suite", SUITES)
def test_every_stage_key_is_as_before_the_move(suite):
    assert digest(suite) == json.loads(SNAPSHOT.read_text())[suite]


@pytest.mark.parametrize("suite", ["smoke", "smoke_baselines"])
def test_no_identity_names_a_module(suite):
    """What a key hashes holds no module path: code that moves keeps its keys."""
    for stage in suite_stages(suite).values():
        identity = json.dumps(stage.identity())
        assert "harness." not in identity and "baselines." not in identity, (stage.kind, identity)


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    snapshot = {suite: digest(suite) for suite in SUITES}
    SNAPSHOT.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n")
