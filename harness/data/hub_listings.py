"""Do the hub configs and splits a suite reads exist at its pinned commit? The hub's answer, or a record.

Example::

    reads = {"20231101.en": {"train"}, "20231101.xx": {"train"}}
    problems, warnings = config_checks("wikimedia/wikipedia", PIN, reads, "monolingual.data")
    # problems: one line naming the key, the configs not there, the revision and the fix

Online (no offline variable set, no local mirror of the dataset), the hub lists the repository's
files at the revision (one request per dataset and revision and process: ``dataset_info``'s
file list, what ``HfApi().list_repo_files`` gives) and each config read must have a file
under a folder (or a file) of its name, and each split a file under that config whose name
or folder starts with the split's name: the layout of
every hub dataset the suites read (``20231101.en/train-00000-of-00041.parquet``,
``am/validation-00000-of-00001.parquet``, ``dev/eng_Latn.jsonl``). A repository that is a
loading script has no such files and is reported elsewhere (:func:`harness.data.hub.loading_script`);
it is not checked here. When the listing cannot be had (unreachable hub), the record answers.

Offline, the recorded listing of that (dataset, commit) answers
(:mod:`harness.data.hub_listings_recorded`, with its date and evidence):

- a config the listing shows, with a split it does not show (where splits are recorded): problem;
- a config the listing does not show, when the listing is complete: problem;
- a config the listing marks unevidenced, or does not show while partial: a warning that it could
  not be checked, and why; said only where the hub cache holds the dataset at that commit (where
  it does not, ``validate`` already says the dataset cannot be reached offline, and to fetch it);
- no listing recorded for that commit: nothing to check offline (a mirror or the hub cache serve
  it, and the loaders' own checks say what is missing).

Each message is one line: the suite key, the dataset, the configs, the revision and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.data import hub
from harness.data.hub_listings_recorded import LISTINGS

RECORD = "harness/data/hub_listings_recorded.py"
"""Where a listing is recorded (named in the fixes)."""


@dataclass(frozen=True)
class Listing:
    """What is known of a hub dataset's configs at one commit."""

    hub: str
    revision: str
    recorded: str
    """Date of the evidence (online: 'the hub, now')."""
    complete: bool
    """Whether ``configs`` is every config the commit holds."""
    configs: frozenset[str]
    splits: frozenset[str] | None = None
    """The splits every config holds; None: not known."""
    unevidenced: frozenset[str] = frozenset()
    why_unevidenced: str = ""
    evidence: tuple[str, ...] = ()
    config_splits: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per config, the splits seen (online listings), overriding ``splits``."""

    def splits_of(self, config: str) -> frozenset[str] | None:
        """The splits ``config`` holds, where known."""
        return self.config_splits.get(config, self.splits)


def recorded_listing(hub_id: str, revision: str | None) -> Listing | None:
    """The recorded listing of ``hub_id`` at ``revision``, or None when none is recorded."""
    entry: dict[str, Any] | None = LISTINGS.get(hub_id, {}).get(revision or "")
    if entry is None:
        return None
    unevidenced = entry.get("unevidenced", {})
    return Listing(hub=hub_id, revision=revision or "", recorded=entry["recorded"],
                   complete=entry["complete"], configs=frozenset(entry["configs"]),
                   splits=frozenset(entry["splits"]) if entry.get("splits") else None,
                   unevidenced=frozenset(unevidenced.get("configs", ())),
                   why_unevidenced=unevidenced.get("why", ""), evidence=tuple(entry.get("evidence", ())))


def listing_from_files(hub_id: str, revision: str, files: Iterable[str],
                       configs: Iterable[str]) -> Listing:
    """The listing of ``configs`` that ``files`` (a repository's paths at ``revision``) hold.

    A config is present when a path has a folder of its name, or a file named ``<config>.<ext>``;
    its splits are the first dotted/dashed part of the names below that folder (``train`` of
    ``train-00000-of-00041.parquet``) and the folders holding a ``<config>.<ext>`` file (``dev`` of
    ``dev/eng_Latn.jsonl``).
    """
    paths = [path.split("/") for path in files]
    found: dict[str, set[str]] = {}
    for config in configs:
        for parts in paths:
            for index, part in enumerate(parts):
                if part == config and index < len(parts) - 1:  # a folder: the splits are below
                    found.setdefault(config, set()).update(_split_names(parts[index + 1:]))
                elif index == len(parts) - 1 and part.startswith(f"{config}.") and \
                        part[len(config) + 1:].isalnum():  # a file: the splits are its folders
                    found.setdefault(config, set()).update(parts[:index])
    return Listing(hub=hub_id, revision=revision, recorded="the hub, now", complete=True,
                   configs=frozenset(found), config_splits={c: frozenset(s) for c, s in found.items()})


def _split_names(parts: list[str]) -> set[str]:
    names = {parts[0]} if len(parts) > 1 else set()  # <config>/<split>/<file>
    names.add(parts[-1].split(".", 1)[0].split("-", 1)[0])  # <config>/<split>-00000-of-….parquet
    return names


_ONLINE: dict[tuple[str, str], list[str] | None] = {}
"""(hub id, revision) → the repository's files there (None: the hub could not be asked)."""


def hub_files(hub_id: str, revision: str) -> list[str] | None:
    """The repository's file paths at ``revision``, asked once per process; None if it cannot be asked."""
    key = (hub_id, revision)
    if key not in _ONLINE:
        _ONLINE[key] = _list_files(hub_id, revision)
    return _ONLINE[key]


def _list_files(hub_id: str, revision: str) -> list[str] | None:
    """The files ``HfApi().list_repo_files`` lists, from ``dataset_info``'s siblings (10 s timeout).

    ``list_repo_files`` (huggingface_hub 0.36) takes no timeout; ``dataset_info`` does and lists
    the same paths as ``siblings``.
    """
    from huggingface_hub import HfApi

    try:
        info = HfApi().dataset_info(hub_id, revision=revision, timeout=10)
    except Exception:  # noqa: BLE001 - unreachable, unknown revision: the reachability check says it
        return None
    return [sibling.rfilename for sibling in info.siblings or ()] or None


def config_checks(hub_id: str, revision: str | None, reads: Mapping[str, Iterable[str]],
                  key: str) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the configs (and their splits) ``reads`` takes from ``hub_id`` at ``revision``.

    ``reads`` maps each config read to the splits read of it. Only a pinned revision is checked (an
    unpinned one is warned about elsewhere); a mirror of the dataset is read instead of the hub,
    and the loaders check it.
    """
    if not hub.is_commit(revision) or not reads or hub.mirror_dir(hub_id) is not None:
        return [], []
    assert revision is not None
    files = hub_files(hub_id, revision) if hub.offline_reason() is None else None
    if files is not None:
        if hub.loading_script(hub_id, [path for path in files if "/" not in path]):
            return [], []
        return _compare(listing_from_files(hub_id, revision, files, reads), reads, key), []
    listing = recorded_listing(hub_id, revision)
    if listing is None:
        return [], []
    cached = hub.hub_cache_snapshot(hub_id, revision) is not None  # else: the reachability line says it
    return _compare(listing, reads, key), _unchecked(listing, reads, key) if cached else []


def _compare(listing: Listing, reads: Mapping[str, Iterable[str]], key: str) -> list[str]:
    """One line for the configs the listing refuses, one per config for the splits it lacks."""
    where = (f"hub dataset {listing.hub!r} at revision {listing.revision}" +
             ("" if listing.recorded == "the hub, now" else
              f" (recorded listing of {listing.recorded}, {RECORD})"))
    missing = [config for config in reads if config not in listing.configs
               and config not in listing.unevidenced and listing.complete]
    problems = []
    if missing:
        configs = ", ".join(repr(config) for config in missing)
        problems.append(f"{key}: {where} has no config {configs}: read a config it holds "
                        f"({len(listing.configs)} listed), or pin a commit that holds "
                        f"{'it' if len(missing) == 1 else 'them'} (and record its listing)")
    for config, splits in reads.items():
        held = listing.splits_of(config) if config in listing.configs else None
        lacking = sorted(set(splits) - held) if held is not None else []
        if lacking:
            problems.append(f"{key}: {where}: config {config!r} has no split "
                            f"{', '.join(repr(s) for s in lacking)} (it holds "
                            f"{', '.join(sorted(held)) or 'none'}): read a split it holds, or "
                            f"pin a commit that holds it")
    return problems


def _unchecked(listing: Listing, reads: Mapping[str, Iterable[str]], key: str) -> list[str]:
    """One warning naming the configs the partial record neither shows nor refuses."""
    unseen = [config for config in reads if config in listing.unevidenced
              or (config not in listing.configs and not listing.complete)]
    if not unseen:
        return []
    why = listing.why_unevidenced or "the recorded listing is partial and does not show them"
    return [f"{key}: hub dataset {listing.hub!r} at revision {listing.revision}: config "
            f"{', '.join(repr(config) for config in unseen)} could not be checked offline "
            f"(recorded listing of {listing.recorded}, {RECORD}: {why}); run `validate` with the "
            f"hub reachable to check them, or `unibridge-bench fetch` them"]
