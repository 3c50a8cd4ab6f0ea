"""The data shipped with the harness (its named suites, the paper's numbers), read as package resources.

Example::

    from harness.core.resources import SUITES, PAPER, package_files, resource_files

    (package_files(PAPER) / "table01.yaml").read_text(encoding="utf-8")   # Table 1 as transcribed
    [name for name, _ in resource_files(package_files(SUITES), (".yaml",))]   # smoke.yaml, examples/...

In git each folder exists once, at the top of the repository (``suites/``, ``reports/paper/``);
pyproject.toml maps them into the wheel as the data-only packages :data:`SUITES` and :data:`PAPER`
(no ``__init__.py``: namespace packages), and :func:`package_files` reads them through
:mod:`importlib.resources` from an installed wheel. Where the harness is imported from a source
checkout (``pip install -e .`` or ``PYTHONPATH``) no such package exists: the checkout's own
top-level folder (:data:`SHIPPED`) is read instead, so an edit there takes effect at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

#: The shipped suites (top-level ``suites/``, with ``examples/`` and its ``tasks/``).
SUITES = "harness.shipped.suites"
#: The paper's published numbers (top-level ``reports/paper/``: ``tableNN.yaml``, README.md).
PAPER = "harness.shipped.paper"
#: Shipped data package -> its folder in the repository (``[tool.setuptools.package-dir]``).
SHIPPED = {SUITES: "suites", PAPER: "reports/paper"}


def package_files(package: str) -> Traversable:
    """The files of ``package`` (``importlib.resources.files``), a shipped one's in a checkout too.

    A package of :data:`SHIPPED` that is not installed (a source checkout) reads the checkout's
    top-level folder: the repository that holds the imported ``harness`` package. That folder may
    be missing (``harness`` copied without its repository): then nothing is found under it.
    """
    try:
        return resources.files(package)
    except ModuleNotFoundError:
        if package not in SHIPPED:
            raise
    checkout = Path(str(resources.files("harness"))).parent
    return checkout.joinpath(*SHIPPED[package].split("/"))


def resource_files(folder: Traversable, suffixes: Sequence[str] = ()) -> Iterator[tuple[str, Traversable]]:
    """``(relative name, file)`` of every file under ``folder`` ending in one of ``suffixes`` (all: ``()``).

    Names are ``/``-separated (``examples/tasks/sib200.yaml``), in sorted order, ``__pycache__``
    left out; a folder that does not exist holds nothing.
    """
    if not folder.is_dir():
        return
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            if entry.name != "__pycache__":
                yield from ((f"{entry.name}/{name}", file) for name, file in resource_files(entry, suffixes))
        elif not suffixes or entry.name.endswith(tuple(suffixes)):
            yield entry.name, entry


def on_disk(entry: Traversable) -> Path:
    """``entry`` as a file-system path, for files read beside the files they name (a suite's ``tasks/``).

    Raises:
        FileNotFoundError: the package is not on the file system (imported from a zip file), where
            :func:`importlib.resources.as_file` would give a lone temporary copy.
    """
    if isinstance(entry, Path):
        return entry
    raise FileNotFoundError(f"{entry}: not a file on disk (a zipped install?); install the harness "
                            f"unzipped, as pip does")
