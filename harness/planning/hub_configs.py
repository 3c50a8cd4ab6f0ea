"""``validate``'s check of the hub configs and splits the selected stages read, at each dataset's pin.

Example::

    found = hub_config_problems(reads, all_hub_sources(suite))   # [(suite key, message, "")], warnings logged

The loaders of the reads run once in recording mode (:func:`~harness.data._local.recording_hub_splits`:
nothing is read), which gives each hub dataset's (config, split) pairs; those are checked against
the hub's file listing at the pinned commit when the hub is reachable, else against the recorded
listing of that commit (:mod:`harness.data.hub_listings`). A config the record cannot vouch for is
a warning (logged), a config or split the listing lacks a problem.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from harness.data import hub_listings
from harness.data.source import DataSource
from harness.planning.fetching import recorded_hub_splits
from harness.tasks.reads import DataRead

logger = logging.getLogger(__name__)


def hub_reads(reads: Iterable[DataRead]) -> dict[DataSource, dict[str, set[str]]]:
    """Per hub dataset, the configs its loaders read for ``reads`` and the splits of each."""
    found: dict[DataSource, dict[str, set[str]]] = {}
    for source, config, split in recorded_hub_splits(reads):
        if config is not None:
            found.setdefault(source, {}).setdefault(config, set()).add(split)
    return found


def hub_config_problems(reads: Iterable[DataRead],
                        sources: Mapping[str, DataSource]) -> list[tuple[str, str, str]]:
    """(suite key, message, "") per problem of the hub configs ``reads`` take; warnings are logged.

    ``sources`` names each hub source by its suite key (:func:`harness.planning.validation.all_hub_sources`).
    """
    keys = {source: key for key, source in sources.items()}
    found = []
    for source, configs in hub_reads(reads).items():
        key = keys.get(source, "data")
        problems, warnings = hub_listings.config_checks(source.hub, source.revision, configs, key)
        found += [(key, problem.removeprefix(f"{key}: "), "") for problem in problems]
        for warning in warnings:
            logger.warning("%s", warning)
    return found
