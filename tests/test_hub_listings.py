"""Configs and splits at a hub pin: the recorded listings offline, the hub's file list online.

No network: the online listing is monkeypatched (``hub_listings._list_files``).
"""

import logging
from pathlib import Path

import pytest

from harness.cli.common import activate_plugins
from harness.data import hub, hub_listings
from harness.data.hub_listings_recorded import LISTINGS
from harness.planning.hub_configs import hub_config_problems, hub_reads
from harness.planning.plan import _instantiate_methods
from harness.planning.validation import all_hub_sources, selected_reads
from harness.suite.schema import load_suite
from tests.test_data_replicas import ROOT, SUITES

WIKI = "wikimedia/wikipedia"
PIN = "b04c8d1ceb2f5cd4588862100d08de323dccfbaa"
OLD_PIN = "3e1f92c331f318af862b87e2319ed5dc26d80f5d"
KEY = "monolingual.data"


@pytest.fixture
def offline(monkeypatch):
    """No hub; every dataset in the hub cache (the warnings are said only for cached datasets)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(hub.MIRROR_ENV, raising=False)
    monkeypatch.setattr(hub, "hub_cache_snapshot", lambda hub_id, revision: Path("/cached"))
    monkeypatch.setattr(hub_listings, "_list_files", lambda *args: pytest.fail("asked the hub offline"))


@pytest.fixture
def online(monkeypatch):
    """The hub reachable, its file list that of ``online.files`` (a dict set by the test)."""
    for name in hub.OFFLINE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv(hub.MIRROR_ENV, raising=False)
    monkeypatch.setattr(hub_listings, "_ONLINE", {})
    files: dict[tuple[str, str], list[str] | None] = {}
    monkeypatch.setattr(hub_listings, "_list_files", lambda hub_id, revision: files.get((hub_id, revision)))
    return files


def test_offline_a_config_the_complete_listing_lacks_is_one_line_naming_key_config_revision_fix(offline):
    problems, warnings = hub_listings.config_checks(
        WIKI, PIN, {"20231101.en": {"train"}, "20231101.xx": {"train"}, "20231101.yy": {"train"}}, KEY)
    assert warnings == []
    assert len(problems) == 1 and "\n" not in problems[0]
    line = problems[0]
    assert line.startswith(f"{KEY}: hub dataset '{WIKI}' at revision {PIN}")
    assert "'20231101.xx', '20231101.yy'" in line and "'20231101.en'" not in line
    assert "recorded listing of 2026-09-05" in line and "pin a commit that holds them" in line


def test_offline_a_split_the_listing_lacks_is_a_problem(offline):
    problems, _ = hub_listings.config_checks(WIKI, PIN, {"20231101.en": {"train", "test"}}, KEY)
    assert problems == [f"{KEY}: hub dataset '{WIKI}' at revision {PIN} (recorded listing of 2026-09-05, "
                        f"{hub_listings.RECORD}): config '20231101.en' has no split 'test' (it holds "
                        f"train): read a split it holds, or pin a commit that holds it"]


def test_offline_a_partial_listing_warns_what_it_could_not_check(offline):
    problems, warnings = hub_listings.config_checks(
        WIKI, OLD_PIN, {"20231101.ur": {"train"}, "20231101.en": {"train"}}, KEY)
    assert problems == []
    assert len(warnings) == 1 and "'20231101.en'" in warnings[0] and "'20231101.ur'" not in warnings[0]
    assert OLD_PIN in warnings[0] and "could not be checked offline" in warnings[0]
    assert "run `validate` with the hub reachable" in warnings[0]


def test_no_record_unpinned_or_mirrored_is_not_checked_offline(offline, monkeypatch, tmp_path):
    assert hub_listings.config_checks("org/unrecorded", PIN, {"x": {"train"}}, KEY) == ([], [])
    assert hub_listings.config_checks(WIKI, "main", {"20231101.xx": {"train"}}, KEY) == ([], [])
    (tmp_path / WIKI).mkdir(parents=True)
    monkeypatch.setenv(hub.MIRROR_ENV, str(tmp_path))
    assert hub_listings.config_checks(WIKI, PIN, {"20231101.xx": {"train"}}, KEY) == ([], [])


def test_online_the_hub_file_list_decides(online):
    online[WIKI, PIN] = ["README.md", "20231101.en/train-00000-of-00041.parquet",
                         "20231101.am/train-00000-of-00001.parquet"]
    assert hub_listings.config_checks(WIKI, PIN, {"20231101.am": {"train"}}, KEY) == ([], [])
    problems, warnings = hub_listings.config_checks(
        WIKI, PIN, {"20231101.en": {"train"}, "20231101.sd": {"train"}}, KEY)
    assert warnings == [] and len(problems) == 1
    assert problems[0].startswith(f"{KEY}: hub dataset '{WIKI}' at revision {PIN} has no config "
                                  f"'20231101.sd': ")
    assert "recorded listing" not in problems[0]  # the hub's answer, not the record's
    problems, _ = hub_listings.config_checks(WIKI, PIN, {"20231101.en": {"validation"}}, KEY)
    assert len(problems) == 1 and "config '20231101.en' has no split 'validation' (it holds train)" \
        in problems[0]


def test_online_layouts_of_the_suites_datasets(online):
    online["org/flores", PIN] = ["README.md", "dev/eng_Latn.jsonl", "devtest/eng_Latn.jsonl"]
    online["org/nli", PIN] = ["aym/validation/0000.parquet", "aym/test/0000.parquet"]
    online["org/sib", PIN] = ["data/amh_Ethi/train.tsv", "data/amh_Ethi/dev.tsv"]
    assert hub_listings.config_checks("org/flores", PIN, {"eng_Latn": {"dev", "devtest"}}, KEY) == ([], [])
    assert hub_listings.config_checks("org/nli", PIN, {"aym": {"validation", "test"}}, KEY) == ([], [])
    assert hub_listings.config_checks("org/sib", PIN, {"amh_Ethi": {"train", "dev"}}, KEY) == ([], [])
    assert hub_listings.config_checks("org/flores", PIN, {"amh_Ethi": {"dev"}}, KEY)[0]
    online["org/script", PIN] = ["README.md", "script.py"]  # a loading script: reported elsewhere
    assert hub_listings.config_checks("org/script", PIN, {"x": {"train"}}, KEY) == ([], [])


def test_online_unreachable_falls_back_to_the_record(online):
    online[WIKI, PIN] = None  # the hub could not be asked
    problems, _ = hub_listings.config_checks(WIKI, PIN, {"20231101.xx": {"train"}}, KEY)
    assert len(problems) == 1 and "recorded listing of 2026-09-05" in problems[0]


def test_every_recorded_listing_is_dated_evidenced_and_well_formed():
    for hub_id, revisions in LISTINGS.items():
        for revision, entry in revisions.items():
            assert hub.is_commit(revision), (hub_id, revision)
            assert entry["recorded"][:2] == "20" and entry["evidence"], (hub_id, revision)
            assert isinstance(entry["complete"], bool) and entry["configs"]
            unevidenced = entry.get("unevidenced", {})
            assert not set(unevidenced.get("configs", ())) & set(entry["configs"])
            assert not unevidenced or (unevidenced["why"] and not entry["complete"])


@pytest.mark.parametrize("name", SUITES)
def test_paper_suites_read_only_configs_recorded_at_their_pins(name, offline, caplog):
    """Fails when a paper suite reads a hub config (or pins a commit) that nobody recorded."""
    suite = load_suite(ROOT / "suites" / f"{name}.yaml")
    activate_plugins(suite)
    reads, problems = selected_reads(suite, _instantiate_methods(suite, []), suite.jobs())
    assert problems == []
    read = hub_reads(reads)
    assert read
    for source, configs in read.items():
        listing = hub_listings.recorded_listing(source.hub, source.revision)
        assert listing is not None, f"no recorded listing of {source.hub} at {source.revision}"
        unrecorded = set(configs) - listing.configs - listing.unevidenced
        assert not unrecorded, f"{name}: {source.hub} {source.revision}: {sorted(unrecorded)}"
        for config in set(configs) & listing.configs:
            assert configs[config] <= (listing.splits_of(config) or configs[config])
    with caplog.at_level(logging.WARNING):
        assert hub_config_problems(reads, all_hub_sources(suite)) == []
    unchecked = [r.getMessage() for r in caplog.records if "could not be checked" in r.getMessage()]
    # one line per dataset the record cannot vouch for: WikiANN's targets at f0a3be6, and the
    # Wikipedia configs at 3e1f92c (b04c8d1 would vouch for them: docs/data.md, "Hub datasets")
    expected = {f"monolingual.data: hub dataset '{WIKI}' at revision {OLD_PIN}"}
    if name == "wikiann":
        expected.add("tasks.ner.data: hub dataset 'unimelb-nlp/wikiann' at revision "
                     "f0a3be6dc5564c0cc4150bb660144800a1f539d4")
    assert {line.split(": config ")[0] for line in unchecked} == expected
    assert len(unchecked) == len(expected)


def test_the_newer_wikipedia_pin_vouches_for_every_config_the_paper_suites_read(offline):
    """b04c8d1 (main's head) shows all 23 configs the paper suites read; 3e1f92c shows none of them."""
    read = {f"20231101.{wiki}": {"train"} for wiki in (
        "am ang ar cdo crh eml en frr ja km kn lij ps ru sa sd si so zh olo ta tl tt".split())}
    assert hub_listings.config_checks(WIKI, PIN, read, KEY) == ([], [])
    problems, warnings = hub_listings.config_checks(WIKI, OLD_PIN, read, KEY)
    assert problems == [] and len(warnings) == 1 and all(f"'{config}'" in warnings[0] for config in read)


def test_offline_unchecked_configs_of_an_uncached_dataset_are_left_to_the_reachability_line(
        offline, monkeypatch):
    monkeypatch.setattr(hub, "hub_cache_snapshot", lambda hub_id, revision: None)
    assert hub_listings.config_checks(WIKI, OLD_PIN, {"20231101.en": {"train"}}, KEY) == ([], [])
    problems, _ = hub_listings.config_checks(WIKI, PIN, {"20231101.xx": {"train"}}, KEY)
    assert len(problems) == 1  # a config the complete listing lacks is said all the same
