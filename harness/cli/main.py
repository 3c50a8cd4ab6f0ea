"""The ``unibridge-bench`` command group; each command lives in its own module."""

from __future__ import annotations

import click

from harness.cli.fetch import fetch
from harness.cli.init_embeddings import init_embeddings
from harness.cli.list_cmd import list_
from harness.cli.plan import plan
from harness.cli.report import report
from harness.cli.run import run
from harness.cli.validate import validate
from harness.cli.verify import verify
from harness.cli.vocab_search import vocab_search


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="unibridge-bench")
def cli():
    """Benchmark harness for cross-lingual transfer (UniBridge and baselines).

    \b
    Example:
      unibridge-bench run suites/smoke.yaml
      unibridge-bench list methods
    """


for command in (run, validate, verify, plan, fetch, list_, report, vocab_search,
                init_embeddings):
    cli.add_command(command)


if __name__ == "__main__":
    cli()
