"""The data checks of ``validate`` and ``run``: what the selected jobs' stages read, and nothing else.

Example::

    notes: list[str] = []
    problems = data_problems(suite, methods, selected_jobs, notes)   # [] when every read is served

The checks are derived from the stage graph of the selected jobs: the graph is built with
provisional data (a source that cannot be read gets a placeholder, :class:`BuildEnv`), each
stage's config declares what it reads (:mod:`harness.tasks.reads`), and exactly those reads are
checked: a task's splits per language, each language's monolingual text, K sentence pairs per
(target, source), each hub dataset once. A source that no selected stage reads is never looked
at, so ``--only`` narrows the checks by construction.

Each problem is one line ``<suite key>: <message>``; the key is where to change it
(``tasks.pos.language_data.snd`` for a language with its own source, ``parallel.0.data`` inside
a sentence-pair message). A message that several languages share (an unreachable release host,
a missing folder) is said once, naming the languages or pairs it affects (:func:`grouped`); a
source that is neither here nor downloadable here (offline, or its host unreachable) is one short
line per source, ``<key> (<source>, N languages): not here, and not downloadable here (<reason>)``,
the hub backbones of the selected jobs included (``backbones.<i>``, at their pinned commits:
:func:`harness.planning.backbone_checks.unavailable_backbones`), and one ``to do:`` line says how
to get them all (``fetch``, or local copies). The
words of the monolingual text read are counted on the way, and a role whose text gives fewer
samples than asked becomes one note line (no error: a run uses what there is). A line a task's
file holds that is read as its dataset's own loader reads it but is worth saying (a conll line
`` O``: an empty token, :data:`harness.tasks.from_yaml.formats.EMPTY_TOKEN`) is counted per file
as one note, ``<suite key>: <file>: N lines with an empty token (lines …)``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlparse

from harness.core.graph import Stage, topological_order
from harness.core.registry import UnknownNameError
from harness.data import monolingual, parallel
from harness.data.problems import Problems
from harness.data.source import DataError, DataSource, check_hub_reachable, unpinned_warning
from harness.methods.base import build_job_graph
from harness.methods.build_env import BuildEnv, NoParallelDataError
from harness.planning.backbone_checks import unavailable_backbones
from harness.planning.hub_configs import hub_config_problems
from harness.suite.schema import Job, Suite, SuiteError
from harness.tasks.reads import DataRead, PairRead, TaskRead, TextRead, graph_reads
from harness.tasks.specs import get_task, task_name

if TYPE_CHECKING:
    from harness.data.parallel import ParallelCorpus

logger = logging.getLogger(__name__)
T = TypeVar("T")

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
    env = BuildEnv(suite, provisional_data=True)
    finals, problems, readers = [], [], {}
    for job in jobs:
        try:
            finals.append(build_job_graph(methods[job.method], job, env))
        except NoParallelDataError as error:
            readers.setdefault(str(error).removeprefix(f"{suite.path}: "), set()).add(job.method)
        except (SuiteError, DataError) as error:
            problems.append(str(error).removeprefix(f"{suite.path}: "))
    for message, names in readers.items():  # which methods need it, said once
        problems.append(message.replace("; ", f" ({', '.join(sorted(names))}); ", 1))
    return topological_order(finals), problems


def data_problems(suite: Suite, methods: dict, jobs: Iterable[Job],
                  notes: list[str] | None = None) -> list[str]:
    """Every problem of the data the stages of ``jobs`` read, one line each (see the module).

    ``notes`` receives what is worth saying and no error: one line per monolingual role whose
    text gives fewer samples than asked (:func:`harness.data.monolingual.shortfall`), then one
    line per task file with lines noticed while reading it (:meth:`Problems.notices`).
    """
    stages, problems = selected_stages(suite, methods, jobs)
    reads = graph_reads(stages)
    found: list[tuple[str, str, str]] = []  # (suite key, message, what it concerns)
    words: dict[tuple[str, str, int, int], dict[str, int | None]] = {}  # text counted per role
    noticed: list[str] = []  # "<suite key>: <file>: …", per task file
    for read in reads:
        if isinstance(read, TextRead):
            messages, count, _ = _counted(monolingual.check, read.source, read.lang)
            key = text_key(suite, read.source)
            found += [(key, message, read.lang) for message in messages]
            role = _text_role(suite, read)
            words.setdefault((role, key, read.n_samples, read.words_per_sample), {})[read.lang] = count
        else:
            found += _read_problems(suite, read, noticed)
    for key, source in hub_sources(suite, reads).items():
        found += [(key, message, "") for message in _raised(check_hub_reachable, source, key)]
        warning = unpinned_warning(source, key)
        if warning:
            logger.warning("%s", warning)
    found += hub_config_problems(reads, all_hub_sources(suite))  # configs and splits at each pin
    if notes is not None:
        notes += _shortfalls(words) + list(dict.fromkeys(noticed))
    missing = unavailable_backbones(suite, stages)  # hub backbones neither cached nor reachable
    return list(dict.fromkeys(problems + grouped(found, suite, missing)))


def _text_role(suite: Suite, read: TextRead) -> str:
    """``source`` or ``target``: which ``monolingual.<role>_samples`` asked for ``read``'s samples."""
    sources = {lang for spec in suite.tasks.values() for lang in spec.sources}
    is_source = read.lang in sources and read.n_samples == suite.monolingual.source_samples
    return "source" if is_source else "target"


def _shortfalls(words: dict[tuple[str, str, int, int], dict[str, int | None]]) -> list[str]:
    """One note per (role, suite key) whose text gives fewer samples than asked; targets first."""
    notes = []
    for (role, key, n_samples, words_per_sample), counts in sorted(
            words.items(), key=lambda item: item[0][0] != "target"):
        note = monolingual.shortfall(f"{key}: {role} text", counts, n_samples, words_per_sample,
                                     f"monolingual.{role}_samples")
        if note:
            notes.append(note)
    return notes


def grouped(found: list[tuple[str, str, str]], suite: Suite | None = None,
            missing: Iterable[tuple[str, str, str]] = ()) -> list[str]:
    """``key: message`` once per distinct (key, message), naming what it concerns when several.

    A source that is neither here nor downloadable here (:func:`unavailable_reason`) is one short
    line, ``<key> (<source>, <N languages or pairs>): not here, and not downloadable here
    (<reason>)``, as is each entry of ``missing`` ((key, what, reason): the backbones); one
    ``to do:`` line after them says how to get them all (the full messages are logged at INFO,
    ``-v``).
    """
    concerns: dict[tuple[str, str], list[str]] = {}
    absent: dict[tuple[str, str, str], list[str]] = {}  # (key, source, reason) -> what
    for key, message, what in found:
        reason = unavailable_reason(message)
        if reason is None:
            named = concerns.setdefault((key, message), [])
            if what and what not in named:
                named.append(what)
            continue
        logger.info("%s: %s", key, message)
        where, source = _where(suite, key, message)
        named = absent.setdefault((where, source, reason), [])
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
    for (key, source, reason), named in absent.items():
        lines.append(f"{key} ({source}{_counted_concerns(key, named)}): not here, and not "
                     f"downloadable here ({reason})")
    lines += [f"{key} ({what}): not here, and not downloadable here ({reason})"
              for key, what, reason in missing]
    if absent or missing:
        lines.append(to_do_line(suite))
    return lines


def to_do_line(suite: Suite | None) -> str:
    """How to get every source that is neither here nor downloadable here, said once."""
    suite_file = suite.path if suite is not None and suite.path is not None else "SUITE"
    return (f"to do: run `unibridge-bench fetch {suite_file} --to DIR` where there is network and "
            f"copy DIR here (it prints the variables that make validate and run read it), or give "
            f"local copies: `<key>: {{path: DIR}}` for data, `pretrained: DIR` for a backbone "
            f"(docs/data.md); `validate -v` shows each message in full")


#: How the data modules say that a source is neither here nor downloadable here: a release's
#: download (:mod:`harness.data.releases`: ``cannot reach <base URL> (…)``, every URL of it) and a
#: hub dataset (:func:`harness.data.source.check_hub_reachable`: ``… is not in the local cache and
#: not reachable (<reason>)``).
_CANNOT_REACH = re.compile(r"cannot reach (\S+) \(")
_HUB_UNREACHABLE = re.compile(r"is not in the local cache and not reachable \(([^)]*)\)")


def unavailable_reason(message: str) -> str | None:
    """The short reason when ``message`` says a source is not here and cannot be downloaded."""
    hub = _HUB_UNREACHABLE.search(message)
    if hub:
        return hub.group(1)
    hosts = list(dict.fromkeys(urlparse(url).netloc or url for url in _CANNOT_REACH.findall(message)))
    return f"no connection to {', '.join(hosts)}" if hosts else None


def _where(suite: Suite | None, key: str, message: str) -> tuple[str, str]:
    """The suite key of the source a message is about, and the source in a few words."""
    if key == PAIRS_KEY:  # "parallel.<i>.data <format> <corpus> (<where>): …"
        key = message.split(" ", 1)[0]
    source = _source_at(suite, key) if suite is not None else None
    if isinstance(source, DataSource):
        return key, describe_source(source)
    if source is not None:  # a parallel corpus
        return key, f"{source.format} {describe_source(source.data)}"
    return key, "source"


def _source_at(suite: Suite, key: str) -> DataSource | ParallelCorpus | None:
    """The data source (or parallel corpus) the suite key ``key`` names, if any."""
    parts = key.split(".")
    if parts[0] == "parallel" and len(parts) > 1 and parts[1].isdigit():
        index = int(parts[1])
        return suite.parallel[index] if index < len(suite.parallel) else None
    if parts[0] == "monolingual" and len(parts) == 2:
        return getattr(suite.monolingual, parts[1], None)
    if parts[0] == "tasks" and len(parts) >= 3 and parts[1] in suite.tasks:
        spec = suite.tasks[parts[1]]
        if parts[2] == "language_data" and len(parts) == 4:
            return spec.language_data.get(parts[3])
        return getattr(spec, parts[2], None)
    return None


def describe_source(source: DataSource) -> str:
    """``hub org/name@abc1234``, ``release americasnli@2e8b1ff`` or the folder, in a few words."""
    revision = f"@{source.revision[:7]}" if source.revision else ""
    if source.hub is not None:
        return f"hub {source.hub}{revision}"
    if source.release is not None:
        return f"release {source.release}{revision}"
    return str(source.path)


def _counted_concerns(key: str, named: list[str]) -> str:
    """``, 13 languages`` (``, 70 pairs``): how many languages or pairs the line stands for."""
    if len(named) < 2:
        return f", {named[0]}" if named else ""
    kind = "pairs" if key.startswith("parallel") else "languages"
    return f", {len(named)} {kind}"


def _read_problems(suite: Suite, read: TaskRead | PairRead,
                   noticed: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(suite key, message, language or pair) for each problem of one task or pair read.

    ``noticed`` receives ``<suite key>: <notice>`` for each file of a task read with lines
    worth a note (:meth:`Problems.notices`).
    """
    if isinstance(read, TaskRead):
        key = task_key(suite, task_name(read.task), read.lang)
        messages, _, notices = _counted(get_task(read.task).data.check, read.source, read.lang,
                                        read.splits)
        if noticed is not None:
            noticed += [f"{key}: {notice}" for notice in notices]
        return [(key, message, read.lang) for message in messages]
    pair = f"{read.target}-{read.source}"
    where = f"{pair_key(suite, read.corpus)} {read.corpus.describe()}"  # where to change it
    return [(PAIRS_KEY, f"{where}: {message}", pair)
            for message in _raised(parallel.check, read.corpus, read.target, read.source, read.k)]


def _raised(check: Callable[..., object], *args: object) -> list[str]:
    """The problem ``check(*args)`` raises, if any."""
    try:
        check(*args)
    except (DataError, UnknownNameError) as error:
        return [str(error)]
    return []


def _counted(check: Callable[..., T], *args: object) -> tuple[list[str], T | None, list[str]]:
    """``check(*args, found)``: its problems, its result and what it noticed, in that order.

    The problems are what it raises and collects line by line; what it noticed is
    :meth:`Problems.notices`.
    """
    collector = Problems()
    try:
        result = check(*args, collector)
    except (DataError, UnknownNameError) as error:
        return [str(error), *collector.messages()], None, collector.notices()
    return collector.messages(), result, collector.notices()


def task_key(suite: Suite, task: str, lang: str) -> str:
    """The suite key naming the source of ``lang``'s examples of ``task``.

    ``tasks.<task>.language_data.<lang>``, ``.source_data`` or ``.data`` (:meth:`TaskSuite.data_key`).
    """
    return f"tasks.{task}.{suite.tasks[task].data_key(lang)}"


def pair_key(suite: Suite, corpus: ParallelCorpus) -> str:
    """The suite key of the ``parallel:`` entry ``corpus``: ``parallel.<index>.data``."""
    return f"parallel.{suite.parallel.index(corpus)}.data"


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
    named |= {f"tasks.{name}.language_data.{lang}": data for name, spec in suite.tasks.items()
              for lang, data in spec.language_data.items()}
    named |= {"monolingual.data": suite.monolingual.data,
              "monolingual.target_data": suite.monolingual.target_data}
    named |= {f"parallel.{index}.data": corpus.data for index, corpus in enumerate(suite.parallel)}
    unique: dict[str, DataSource] = {}
    for key, source in named.items():
        if source is not None and source.hub is not None and source not in unique.values():
            unique[key] = source
    return unique
