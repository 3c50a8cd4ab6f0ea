"""The registries plugins may add to, and what a plugin's ``register(registries)`` hook receives.

Example (a module of an included folder)::

    def register(registries):
        registries.methods.register("my_method", MyMethod)
        registries.tables.register("my_table", my_table, "one line for `list`")

:data:`REGISTRIES` is the one table of what plugins extend: entry-point group → (registry kind,
where the registry lives). A new plugin-extensible registry is one more row; ``list`` shows it
and :func:`harness.plugins.loading.activate` loads its group.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.core.origins import Origin, origin_of, record_origin
from harness.core.registry import Registry

#: Entry-point group -> (registry kind, "module:attribute" of the registry).
REGISTRIES: dict[str, tuple[str, str]] = {
    "unibridge_bench.methods": ("methods", "harness.methods.catalog:METHODS"),
    "unibridge_bench.backbones": ("backbones", "harness.models.backbone_specs:BACKBONES"),
    "unibridge_bench.tasks": ("tasks", "harness.tasks.specs:TASKS"),
    "unibridge_bench.task_kinds": ("task_kinds", "harness.tasks.from_yaml.kinds:TASK_KINDS"),
    "unibridge_bench.tables": ("tables", "harness.report.catalog:TABLES"),
    "unibridge_bench.executors": ("executors", "harness.run.executors.catalog:EXECUTORS"),
}


def registry(kind: str) -> Registry:
    """The registry of ``kind`` (``methods``, ``tables``, ...), imported now."""
    [target] = [target for entry_kind, target in REGISTRIES.values() if entry_kind == kind]
    module, attribute = target.split(":")
    return getattr(importlib.import_module(module), attribute)


def kinds() -> list[str]:
    """Every plugin-extensible registry kind, in table order."""
    return [kind for kind, _ in REGISTRIES.values()]


class RegistrationError(ValueError):
    """A plugin registered a name that exists already (a built-in's or another plugin's)."""


def claim(kind: str, name: str, origin: Origin) -> None:
    """Check that ``name`` is free in registry ``kind``; raises :class:`RegistrationError`.

    The same plugin registering its own name again (an included file edited and loaded anew in
    one process) replaces its entry.
    """
    if name in registry(kind):
        taken = origin_of(kind, name)
        if taken.is_plugin and taken.where == origin.where:  # the same file, loaded again after an edit
            registry(kind).discard(name)
            return
        whose = "a built-in" if not taken.is_plugin else f"one from {taken.where}"
        raise RegistrationError(f"{kind[:-1]} {name!r} shadows {whose} {kind[:-1]}; "
                                f"choose another name")


def add_entry(kind: str, name: str, obj: Any, origin: Origin, description: str | None = None) -> None:
    """Register ``obj`` as ``name`` in registry ``kind``, remembering ``origin``.

    The description defaults to ``obj.description``, else the first line of its docstring.
    """
    claim(kind, name, origin)
    own = getattr(obj, "description", None)
    if not description and not isinstance(own, str):
        description = ((getattr(obj, "__doc__", None) or "").strip().splitlines() or [""])[0]
    registry(kind).register(name, obj, description or None)
    record_origin(kind, name, origin)


@dataclass
class PluginRegistry:
    """One registry as a plugin's hook sees it: registering records the plugin as the origin.

    ``checked`` collects (kind, name, obj) for :mod:`harness.plugins.checks`.
    """

    kind: str
    origin: Origin
    checked: list[tuple[str, str, Any]]

    def register(self, name: str, obj: Any, description: str | None = None) -> Any:
        """Register ``obj`` as ``name``; a name taken already raises :class:`RegistrationError`."""
        add_entry(self.kind, name, obj, self.origin, description)
        self.checked.append((self.kind, name, obj))
        return obj

    def decorator(self, name: str, description: str | None = None) -> Callable[[Any], Any]:
        """Decorator form of :meth:`register`."""
        return lambda obj: self.register(name, obj, description)


class Registries:
    """What ``register(registries)`` receives: one :class:`PluginRegistry` per kind as attributes."""

    def __init__(self, origin: Origin, checked: list[tuple[str, str, Any]]):
        for kind in kinds():
            setattr(self, kind, PluginRegistry(kind, origin, checked))

    def __getattr__(self, kind: str) -> PluginRegistry:
        raise AttributeError(f"registries.{kind}: plugins can register into "
                             f"{', '.join(kinds())}")
