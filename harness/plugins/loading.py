"""Load the plugins of the environment (entry points) and of included folders, once per process.

Example::

    activate()                                   # installed packages' entry points
    activate([Path("my_plugins")], where="--include")
    activate(suite.include, where="suite key include")

Entry points: every group of :data:`harness.plugins.registries.REGISTRIES` is read with
:mod:`importlib.metadata` (the metadata files only, no import of unrelated packages); each entry
point is imported and registered under its own name; its distribution's top-level modules are
stamped ``<name>==<version>`` for the cache keys (:mod:`harness.core.origins`), an editable
install with the hash of its sources too (:func:`package_stamp`).

Included folders: every ``*.py`` file directly in the folder is imported as a module of its own
(named after its path: ``harness_include_<hash of path>_<stem>``; the folder is not put on
``sys.path``, so a module does not import its siblings) and its ``register(registries)`` hook is
called; the module is stamped with the SHA-256 of its file. A file without ``register`` is an
error (a helper module belongs in a package).

All plugins of the environment are loaded, not only those a suite names: a broken plugin is
reported whatever the suite (the same environment gives the same registries). Every problem
(an import that fails, a name that shadows another, an entry :mod:`harness.plugins.checks`
refuses) is collected; :func:`activate` raises them together as one :class:`PluginError`, each
line naming the plugin (distribution and entry point, or file), and the registries keep every
entry that loaded. Whatever a plugin's import or hook raises is its problem, exits included
(``sys.exit()`` at import: ``plugin …: fails to import: calls sys.exit(0) (file:line)``, not a
command that ends saying nothing); only a stop (Ctrl-C's KeyboardInterrupt, SIGTERM's
:class:`harness.core.stop_signals.Terminated`) goes through, stopping the command as a stop.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import sys
import traceback
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.core.origins import Origin, stamp_modules
from harness.plugins.checks import entry_problems
from harness.plugins.registries import REGISTRIES, RegistrationError, Registries, add_entry

log = logging.getLogger(__name__)

#: Prefix of the module names of included files.
INCLUDE_PREFIX = "harness_include_"


class PluginError(ValueError):
    """Plugins that cannot be used; one line per problem, each naming its plugin."""


class _State:
    """What this process loaded: whether the entry points were read, which files, the problems."""

    def __init__(self) -> None:
        self.entry_points_read = False
        self.files: dict[Path, str] = {}  # included file -> its content hash when loaded
        self.folders: list[Path] = []
        self.problems: list[str] = []


_STATE = _State()


def activate(include: Iterable[Path] = (), where: str = "--include") -> None:
    """Load the entry points (once) and the folders ``include``; raise every problem so far.

    ``where`` names how the folders were given (``--include``, the suite's ``include:``), for
    the message of a folder that does not exist.

    Raises:
        PluginError: every problem of every plugin loaded so far in this process.
    """
    if not _STATE.entry_points_read:
        _STATE.entry_points_read = True
        declared = metadata.entry_points()  # one scan of the installed metadata for every group
        for group, (kind, _) in REGISTRIES.items():
            for entry_point in declared.select(group=group):
                _STATE.problems += load_entry_point(kind, entry_point)
    load_folders(include, where)
    if _STATE.problems:
        raise PluginError("plugins cannot be used:\n" + "\n".join(dict.fromkeys(_STATE.problems)))


def load_folders(include: Iterable[Path], where: str) -> None:
    """Load the folders ``include`` (see :func:`load_folder`), keeping their problems for :func:`activate`."""
    for folder in include:
        _STATE.problems += load_folder(Path(folder), where)


def included_folders() -> list[Path]:
    """The folders loaded so far (a Ray worker loads them again: harness.run.executors.ray_cluster)."""
    return list(_STATE.folders)


def load_entry_point(kind: str, entry_point: metadata.EntryPoint) -> list[str]:
    """Import one entry point and register it; the problems, each naming the plugin."""
    dist = entry_point.dist
    package = f"{dist.name} {dist.version}" if dist else "an unknown distribution"
    modules = _top_level_modules(dist, entry_point)
    origin = Origin(f"{package} (entry point {entry_point.group}: {entry_point.name})",
                    package_stamp(dist, modules) if dist else f"entry-point:{entry_point.value}")
    where = f"plugin {origin.where} = {entry_point.value}"
    stamp_modules(modules, origin.stamp)
    try:
        obj = entry_point.load()
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM: the command stops, not a plugin's problem
        raise
    except BaseException as error:  # noqa: BLE001 - a plugin's import may raise (or exit) anything: said
        return [f"{where}: fails to import: {_failure(error)}"]
    entry = (kind, entry_point.name, obj)
    return _registered(where, lambda: add_entry(kind, entry_point.name, obj, origin), [entry])


def load_folder(folder: Path, where: str) -> list[str]:
    """Load every ``*.py`` file of ``folder`` through its ``register(registries)`` hook."""
    folder = folder.resolve()
    if not folder.is_dir():
        return [f"{where} {folder}: no such folder"]
    if folder not in _STATE.folders:
        _STATE.folders.append(folder)
    problems = []
    for file in sorted(folder.glob("*.py")):
        problems += load_file(file)
    return problems


def load_file(file: Path) -> list[str]:
    """Import one included module and call its hook (again only when the file changed)."""
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    if _STATE.files.get(file) == digest:
        return []
    _STATE.files[file] = digest
    where = f"plugin {file}"
    origin = Origin(str(file), f"file:{file.name}:{digest}")
    name = include_module_name(file)
    stamp_modules([name], origin.stamp)
    try:
        module = _import_file(name, file)
    except KeyboardInterrupt:  # the command stops; the next activate() loads the file again
        del _STATE.files[file]
        raise
    except BaseException as error:  # noqa: BLE001 - a plugin's import may raise (or exit) anything: said
        return [f"{where}: fails to import: {_failure(error)}"]
    hook = getattr(module, "register", None)
    if not callable(hook):
        return [f"{where}: has no register(registries) function (the hook an included module "
                f"defines; docs/extending.md)"]
    checked: list[tuple[str, str, Any]] = []
    return _registered(where, lambda: hook(Registries(origin, checked)), checked)


def include_module_name(file: Path) -> str:
    """The module name of an included file: stable per path, so a Ray worker finds it again."""
    path_hash = hashlib.sha256(str(file.resolve()).encode()).hexdigest()[:10]
    return f"{INCLUDE_PREFIX}{path_hash}_{file.stem}"


def _import_file(name: str, file: Path) -> ModuleType:
    """Execute ``file`` as module ``name`` (replacing an older version of it)."""
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _registered(where: str, register, checked: list[tuple[str, str, Any]]) -> list[str]:
    """Run ``register()``; its shadowing or failure, else the checks of what it registered."""
    try:
        register()
    except RegistrationError as error:
        return [f"{where}: {error}"]
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM: the command stops, not a plugin's problem
        raise
    except BaseException as error:  # noqa: BLE001 - a plugin's hook may raise (or exit) anything
        return [f"{where}: register() failed: {_failure(error)}"]
    registered = ", ".join(f"{kind} {name}" for kind, name, _ in checked)
    log.info("%s: registered %s", where, registered or "nothing")
    return [f"{where}: {problem}" for kind, name, obj in checked for problem in _checked(kind, name, obj)]


def _checked(kind: str, name: str, obj: Any) -> list[str]:
    """:func:`entry_problems`; the checks run plugin code (a method's ``__init__``): its failure is one."""
    try:
        return entry_problems(kind, name, obj)
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM: the command stops, not a plugin's problem
        raise
    except BaseException as error:  # noqa: BLE001 - a plugin's code may raise (or exit) anything
        entry = kind.removesuffix("s").replace("_", " ")  # methods -> method, task_kinds -> task kind
        return [f"{entry} {name!r} fails its checks: {_failure(error)}"]


def _failure(error: BaseException) -> str:
    """``Type: message (file:line)``: the error and the deepest frame that raised it.

    An exit says what was called: ``calls sys.exit('no GPU') (plugin.py:3)``; an exception with
    no message is its type alone: ``GeneratorExit (plugin.py:3)``.
    """
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not frame.filename.startswith("<")]  # not importlib's frozen frames
    place = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    if isinstance(error, SyntaxError) and error.filename:
        place = f" ({error.filename}:{error.lineno})"
    if isinstance(error, SystemExit):
        return f"calls sys.exit({'' if error.code is None else repr(error.code)}){place}"
    message = str(error)
    return f"{type(error).__name__}: {message}{place}" if message else f"{type(error).__name__}{place}"


def package_stamp(dist: metadata.Distribution, modules: Sequence[str]) -> str:
    """``<name>==<version>``; for an editable install also the SHA-256 of its modules' sources.

    An editable install (``pip install -e``: PEP 610 ``direct_url.json`` says so) runs the
    working tree's code, which changes while the version stays: its stamp follows the sources.
    """
    stamp = f"{dist.name}=={dist.version}"
    if not _is_editable(dist):
        return stamp
    digest = hashlib.sha256()
    for file in sorted(path for module in modules for path in _module_sources(module)):
        digest.update(str(file).encode() + b"\0" + file.read_bytes())
    return f"{stamp}:{digest.hexdigest()}"


def _is_editable(dist: metadata.Distribution) -> bool:
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "{}")
    except json.JSONDecodeError:
        return False
    return bool(direct.get("dir_info", {}).get("editable"))


def _module_sources(module: str) -> list[Path]:
    """The ``.py`` files of a top-level module or package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return []
    if spec is None:
        return []
    if spec.submodule_search_locations:
        return [path for folder in spec.submodule_search_locations for path in Path(folder).rglob("*.py")]
    return [Path(spec.origin)] if spec.origin and spec.origin.endswith(".py") else []


def _top_level_modules(dist: metadata.Distribution | None, entry_point: metadata.EntryPoint) -> Sequence[str]:
    """The top-level modules a distribution installs (``top_level.txt``, else its files)."""
    own = entry_point.module.split(".")[0]
    if dist is None:
        return [own]
    listed = (dist.read_text("top_level.txt") or "").split()
    if not listed:
        listed = sorted({Path(str(file)).parts[0].removesuffix(".py") for file in dist.files or ()
                         if str(file).endswith(".py") and ".." not in Path(str(file)).parts})
    return sorted({own, *listed})
