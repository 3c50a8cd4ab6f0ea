"""``unibridge-bench verify``: check a workdir's cache and records against their manifests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.cli.common import UserError, setup_logging, verbose_option

if TYPE_CHECKING:
    from harness.run.integrity import Entry, WorkdirCheck

#: How many dependent job ids one damaged entry lists before it says "and N more".
SHOWN_JOBS = 3


@click.command("verify")
@click.argument("workdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--repair", is_flag=True,
              help="Remove the damaged entries and unreadable record files; the next run of the "
                   "suite rebuilds them (what was built on them is kept).")
@verbose_option
def verify(workdir, repair, verbose):
    """Check every cache entry of WORKDIR against its manifest (as `git fsck` does).

    Lists each damaged entry (a file missing, truncated or changed, a stray file, an unreadable
    manifest) with what was built on it, and each unreadable record file. Exits 1 when
    something is damaged and --repair was not given.

    \b
    Example:
      unibridge-bench verify runs/smoke
      unibridge-bench verify runs/smoke --repair && unibridge-bench run suites/smoke.yaml
    """
    from harness.run.integrity import VerifyError, check_workdir
    from harness.run.integrity import repair as remove_damaged

    setup_logging(verbose)
    try:
        check = check_workdir(workdir)
    except (FileNotFoundError, VerifyError) as error:
        raise UserError(str(error)) from None
    for entry in check.damaged:
        click.echo(f"damaged {entry.path} ({entry.kind}): {entry.problem}")
        click.echo(f"  {dependents_line(check, entry)}")
    for path in check.unreadable_records:
        click.echo(f"unreadable record {path}")
    if repair:
        try:
            remove_damaged(check)
        except VerifyError as error:
            raise UserError(str(error)) from None
    click.echo(summary_line(check, repair))
    if not repair and not check.clean:
        raise SystemExit(1)


def dependents_line(check: WorkdirCheck, entry: Entry) -> str:
    """What was built on ``entry``: how many entries of which kinds, and which jobs."""
    built = check.built_on(entry)
    if not built:
        return "nothing in the cache was built on it"
    kinds: dict[str, int] = {}
    for dependent in built:
        kinds[dependent.kind] = kinds.get(dependent.kind, 0) + 1
    jobs = check.jobs_on(entry)
    shown = ", ".join(jobs[:SHOWN_JOBS]) + (f" and {len(jobs) - SHOWN_JOBS} more"
                                            if len(jobs) > SHOWN_JOBS else "")
    counts = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    return f"built on it: {counts}; jobs: {shown or 'none recorded'}"


def summary_line(check: WorkdirCheck, repaired: bool) -> str:
    """Entries checked, damaged, records unreadable, and what --repair does or did."""
    damaged, records = len(check.damaged), len(check.unreadable_records)
    said = f"{len(check.entries)} cache entries checked: {damaged} damaged"
    said += f"; {records} unreadable record files" if records else ""
    if check.clean:
        return said + "."
    if repaired:
        return said + ". Removed them; the next run of the suite rebuilds them."
    return said + f". `unibridge-bench verify {check.workdir} --repair` removes them; the next " \
                  "run rebuilds them."
