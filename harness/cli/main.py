"""The ``unibridge-bench`` command group; each command lives in its own module, imported when it runs."""

from __future__ import annotations

import click

from harness.cli.lazy import LazyGroup

#: Command -> ("module:attribute" of its click command, its summary for the group's ``--help``:
#: the first paragraph of its docstring). ``--help`` and an unknown command import none of them.
COMMANDS = {
    "fetch": ("harness.cli.fetch:fetch",
              "Download everything SUITE.yaml (or its --only part) reads, for an offline node."),
    "init-embeddings": ("harness.cli.init_embeddings:init_embeddings",
                        "Build the target tokenizer and initialise its embeddings (UniBridge stage 2, "
                        "Eqs. 2-8)."),
    "list": ("harness.cli.list_cmd:list_",
             "List what can be named in a suite (everything, or one KIND), one line each, with its "
             "origin."),
    "plan": ("harness.cli.plan:plan",
             "Count the stages of SUITE.yaml per kind and estimate GPU-hours with and without "
             "sharing."),
    "report": ("harness.cli.report:report",
               "Write the paper's tables beside its numbers, figures and report.html into WORKDIR."),
    "run": ("harness.cli.run:run", "Run every job of SUITE.yaml; finished stages are reused."),
    "validate": ("harness.cli.validate:validate",
                 "Check SUITE.yaml: schema, names, hyperparameters, compatibility and data."),
    "verify": ("harness.cli.verify:verify",
               "Check every cache entry of WORKDIR against its manifest (as `git fsck` does)."),
    "vocab-search": ("harness.cli.vocab_search:vocab_search",
                     "Find the vocabulary size by average log probability (UniBridge stage 1, "
                     "Algorithm 1, Eq. 1)."),
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="unibridge-bench")
def cli():
    """Benchmark harness for cross-lingual transfer (UniBridge and baselines).

    \b
    Example:
      unibridge-bench run suites/smoke.yaml
      unibridge-bench list methods
    """
    from harness.core.threads import passive_waiting  # here: --help imports no harness package

    passive_waiting()  # before any command imports torch: OpenMP reads its wait policy once


if __name__ == "__main__":
    cli()
