"""``unibridge-bench fetch``: download what a suite reads, for compute nodes without network."""

from __future__ import annotations

import logging
import shlex
import sys
from collections import Counter
from pathlib import Path

import click

from harness.cli.common import (
    UserError,
    include_option,
    load_plan,
    only_option,
    setup_logging,
    suite_argument,
    user_errors,
    verbose_option,
)

log = logging.getLogger(__name__)


@click.command("fetch")
@suite_argument
@include_option
@click.option("--to", "to", type=click.Path(file_okay=False, path_type=Path),
              help="Write everything under DIR (releases/, hub/, models/) instead of this "
                   "machine's data cache, $UNIBRIDGE_HUB_MIRROR and Hugging Face cache.")
@only_option
@verbose_option
@user_errors
def fetch(suite_file, to, only, verbose):
    """Download everything SUITE.yaml (or its --only part) reads, for an offline node.

    Releases (checksums verified), hub datasets at their pins and backbone checkpoints, as
    much as the selected jobs read. Then copy DIR to the offline node and set the variables
    printed at the end: `validate` and `run` read from there with no network.

    \b
    Example:
      unibridge-bench fetch suites/americasnli.yaml --to /shared/offline
      unibridge-bench fetch suites/wikiann.yaml --to offline --only lang=amh
    """
    from tqdm.auto import tqdm

    from harness.data.source import DataError
    from harness.planning.fetching import Destination, fetch_items
    from harness.planning.validation import selected_stages
    from harness.tasks.reads import graph_reads

    setup_logging(verbose)
    if not verbose:  # the hub library was imported before its variable could turn them off
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    plan = load_plan(suite_file, check_data=False, only=only)
    destination = Destination.under(to) if to else Destination.here()
    stages, problems = selected_stages(plan.suite, plan.methods, plan.selected)
    if problems:
        raise UserError(f"{suite_file}: cannot tell what to fetch\n" + "\n".join(problems))
    items = fetch_items(graph_reads(stages), stages, destination)
    failed = []
    for item in tqdm(items, desc="fetch", unit="item", disable=not sys.stderr.isatty()):
        log.info("fetching %s %s", item.kind, item.name)
        try:
            item.run()
        except DataError as error:
            failed.append(f"{item.kind} {item.name}: {error}")
    if failed:
        raise SystemExit(_failed(failed, len(items)))
    counts = Counter(item.kind for item in items)
    kinds = ", ".join(f"{counts[kind]} {kind} item{'s' if counts[kind] != 1 else ''}"
                      for kind in ("release", "hub dataset", "backbone") if counts[kind])
    if not items:
        click.echo(f"Nothing to fetch: the {len(plan.selected)} selected jobs of {suite_file} read "
                   f"only local files and local checkpoints.")
        return
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in destination.environment().items())
    click.echo(f"Fetched {kinds} for {len(plan.selected)} jobs of {suite_file}. "
               f"Offline: export {exports}")


def _failed(failed: list[str], total: int) -> int:
    """Say what could not be fetched (one line each); the exit code."""
    click.echo(f"{len(failed)} of {total} items not fetched:", err=True)
    for line in failed:
        click.echo(f"FAILED {line}", err=True)
    return 1
