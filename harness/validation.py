"""The data checks of ``validate`` and ``run``: what the selected jobs' stages read, and nothing else.

Example::

    problems = data_problems(suite, methods, selected_jobs)   # [] when every read can be served

The checks are derived from the stage graph of the selected jobs: the graph is built with
provisional data (a source that cannot be read gets a placeholder, :class:`BuildEnv`), each
stage's config declares what it reads (:mod:`harness.data.reads`), and exactly those reads are
checked: a task's splits per language, each language's monolingual text, K sentence pairs per
(target, source), each hub dataset once. A source that no selected stage reads is never looked
at, so ``--only`` narrows the checks by construction.

Each problem is one line ``<suite key>: <message>``; a message that several languages share (an
unreachable release host, a missing folder) is said once, naming the languages it affects
(:func:`grouped`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from harness.data import monolingual, parallel
from harness.data.problems import Problems
from harness.data.reads import DataRead, PairRead, TaskRead, TextRead, graph_reads
from harness.data.source import DataError, DataSource, check_hub_reachable, unpinned_warning
from harness.graph import Stage, topological_order
from harness.registry import UnknownNameError
from harness.suite import Job, Suite, SuiteError
from harness.tasks import get_task

logger = logging.getLogger(__name__)

#: The key of sentence-pair problems, said as ``parallel (<pairs>): message``.
PAIRS_KEY = "parallel"


def selected_reads(suite: Suite, methods: dict, jobs: Iterable[Job]) -> tuple[list[DataRead], list[str]]:
    """What the stages of ``jobs`` read, and the problems that stopped a job's graph being built."""
    stages, problems = selected_stages(suite, methods, jobs)
    return graph_reads(stages), problems


def selected_stages(suite: Suite, methods: dict, jobs: Iterable[Job]) -> tuple[list[Stage], list[str]]:
    """Every stage of the graphs of ``jobs``, and the problems that stopped one being built.

    The graphs are built with provisional data: a source that cannot be read here gets a
    placeholder fingerprint, so that its reads can still be listed (and checked or fetched).
    """
    from harness.planning import NoParallelDataError, Plan

    plan = Plan(suite, methods, list(jobs), provisional_data=True)
    finals, problems, readers = [], [], {}
    for job in plan.jobs:
        try:
            finals.append(plan.build(job))
        except NoParallelDataError as error:
            readers.setdefault(str(error).removeprefix(f"{suite.path}: "), set()).add(job.method)
        except (SuiteError, DataError) as error:
            problems.append(str(error).removeprefix(f"{suite.path}: "))
    for message, names in readers.items():  # which methods need it, said once
        problems.append(message.replace("; ", f" ({', '.join(sorted(names))}); ", 1))
    return topological_order(finals), problems


def data_problems(suite: Suite, methods: dict, jobs: Iterable[Job]) -> list[str]:
    """Every problem of the data the stages of ``jobs`` read, one line each (see the module)."""
    reads, problems = selected_reads(suite, methods, jobs)
    found: list[tuple[str, str, str]] = []  # (suite key, message, what it concerns)
    for read in reads:
        found += _read_problems(suite, read)
    for key, source in hub_sources(suite, reads).items():
        found += [(key, message, "") for message in _messages(check_hub_reachable, source, key)]
        warning = unpinned_warning(source, key)
        if warning:
            logger.warning("%s", warning)
    return list(dict.fromkeys(problems + grouped(found)))


def grouped(found: list[tuple[str, str, str]]) -> list[str]:
    """``key: message`` once per distinct (key, message), naming what it concerns when several."""
    concerns: dict[tuple[str, str], list[str]] = {}
    for key, message, what in found:
        named = concerns.setdefault((key, message), [])
        if what and what not in named:
            named.append(what)
    lines = []
    for (key, message), named in concerns.items():
        if key == PAIRS_KEY:
            lines.append(f"parallel ({', '.join(named)}): {message}")
        elif len(named) > 1:
            lines.append(f"{key}: {message} (languages: {', '.join(named)})")
        else:
            lines.append(f"{key}: {message}")
    return lines


def _read_problems(suite: Suite, read: DataRead) -> list[tuple[str, str, str]]:
    """(suite key, message, language or pair) for each problem of one read."""
    if isinstance(read, TaskRead):
        key = task_key(suite, read.task, read.source)
        messages = _messages(get_task(read.task).data.check, read.source, read.lang, read.splits,
                             found=True)
        return [(key, message, read.lang) for message in messages]
    if isinstance(read, TextRead):
        key = text_key(suite, read.source)
        return [(key, m, read.lang) for m in _messages(monolingual.check, read.source, read.lang,
                                                        found=True)]
    pair = f"{read.target}-{read.source}"
    return [(PAIRS_KEY, f"{read.corpus.describe()}: {message}", pair)
            for message in _messages(parallel.check, read.corpus, read.target, read.source, read.k)]


def _messages(check: Callable[..., object], *args: object, found: bool = False) -> list[str]:
    """The problems ``check(*args)`` raises (and, with ``found``, collects line by line)."""
    collector = Problems()
    try:
        check(*args, collector) if found else check(*args)
    except (DataError, UnknownNameError) as error:
        return [str(error), *collector.messages()]
    return collector.messages()


def task_key(suite: Suite, task: str, source: DataSource) -> str:
    """The suite key naming a task's data source: ``tasks.<task>.source_data`` or ``.data``."""
    spec = suite.tasks[task]
    return f"tasks.{task}.source_data" if spec.source_data == source and \
        spec.source_data != spec.data else f"tasks.{task}.data"


def text_key(suite: Suite, source: DataSource) -> str:
    """The suite key naming a monolingual source: ``monolingual.target_data`` or ``.data``."""
    target = suite.monolingual.target_data
    return "monolingual.target_data" if target is not None and target == source and \
        target != suite.monolingual.data else "monolingual.data"


def read_sources(reads: Iterable[DataRead]) -> list[DataSource]:
    """The distinct data sources of ``reads``, in order (a corpus's by its data)."""
    sources = [read.corpus.data if isinstance(read, PairRead) else read.source for read in reads]
    return list(dict.fromkeys(sources))


def hub_sources(suite: Suite, reads: Iterable[DataRead]) -> dict[str, DataSource]:
    """The hub datasets ``reads`` use, by the first suite key that names each."""
    used = {source for source in read_sources(reads) if source.hub is not None}
    return {key: source for key, source in all_hub_sources(suite).items() if source in used}


def all_hub_sources(suite: Suite) -> dict[str, DataSource]:
    """Every hub data source of ``suite`` by the first suite key that names it."""
    named = {f"tasks.{name}.data": spec.data for name, spec in suite.tasks.items()}
    named |= {f"tasks.{name}.source_data": spec.source_data for name, spec in suite.tasks.items()}
    named |= {"monolingual.data": suite.monolingual.data,
              "monolingual.target_data": suite.monolingual.target_data}
    named |= {f"parallel.{index}.data": corpus.data for index, corpus in enumerate(suite.parallel)}
    unique: dict[str, DataSource] = {}
    for key, source in named.items():
        if source is not None and source.hub is not None and source not in unique.values():
            unique[key] = source
    return unique
