"""Where each registry entry came from, and the cache-key stamp of plugin code.

Example::

    origin_of("methods", "unibridge").where        # "built-in"
    origin_of("methods", "softmax_temp").where     # "unibridge-softmax-temp 0.1.0 (entry point ...)"
    stage_stamp(TemperedEvaluationStage)           # "unibridge-softmax-temp==0.1.0"

A plugin's stamp is its distribution's name and version (an installed package) or the SHA-256
of the module's file (an included folder). :meth:`harness.core.graph.Stage.key` adds the stamp of a
stage class defined in plugin code, so that a new version or an edited file never reuses an
artifact the old code wrote; built-in stages have no stamp and keep their keys. A module is
plugin code when it, or a package above it, was stamped (:func:`stamp_modules`).

Kept free of imports from the harness: :mod:`harness.core.graph` reads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """Where an entry came from: ``where`` for people, ``stamp`` for cache keys ("" = built-in)."""

    where: str
    stamp: str = ""

    @property
    def is_plugin(self) -> bool:
        """True for an entry from a package or an included module."""
        return bool(self.stamp)


BUILT_IN = Origin("built-in")

_ENTRY_ORIGINS: dict[tuple[str, str], Origin] = {}
_MODULE_STAMPS: dict[str, str] = {}


def record_origin(kind: str, name: str, origin: Origin) -> None:
    """Remember that entry ``name`` of registry ``kind`` (``methods``, ...) came from ``origin``."""
    _ENTRY_ORIGINS[(kind, name)] = origin


def origin_of(kind: str, name: str) -> Origin:
    """The origin of an entry; :data:`BUILT_IN` for anything no plugin registered."""
    return _ENTRY_ORIGINS.get((kind, name), BUILT_IN)


def plugin_entries(kind: str) -> list[str]:
    """The names of registry ``kind`` that plugins registered, sorted."""
    return sorted(name for (entry_kind, name), origin in _ENTRY_ORIGINS.items()
                  if entry_kind == kind and origin.is_plugin)


def used_plugins(used: dict[str, Iterable[str]]) -> dict[str, str]:
    """``kind.name`` -> origin of each entry in ``used`` (kind -> names) that a plugin registered."""
    return {f"{kind}.{name}": origin_of(kind, name).where for kind, names in used.items()
            for name in names if origin_of(kind, name).is_plugin}


#: The harness's own top-level packages: never plugin code, whatever a plugin's metadata lists
#: (an entry point into them, a distribution claiming them), so their stages keep their keys.
HARNESS_PACKAGES = frozenset({"harness", "baselines"})


def stamp_modules(modules: Iterable[str], stamp: str) -> None:
    """Mark modules (and everything below them) as plugin code with ``stamp``; not the harness's."""
    for module in modules:
        if module.split(".")[0] not in HARNESS_PACKAGES:
            _MODULE_STAMPS[module] = stamp


def module_stamp(module: str) -> str | None:
    """The stamp of ``module`` or of the nearest stamped package above it; None for other code."""
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        stamp = _MODULE_STAMPS.get(".".join(parts[:depth]))
        if stamp is not None:
            return stamp
    return None


def stage_stamp(stage_class: type) -> str | None:
    """The stamp of the plugin that defines ``stage_class``; None for a harness stage."""
    return module_stamp(stage_class.__module__)
