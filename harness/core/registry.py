"""One small generic registry, used for methods, backbones, tasks and tables.

Example::

    METHODS = Registry("method")
    METHODS.register_lazy("zero_shot", "baselines.zero_shot:ZeroShot")
    method_cls = METHODS.get("zero_shot")   # imports baselines.zero_shot only now

Entries may be objects or lazy ``"module:attribute"`` strings, so listing names imports nothing
heavy; each has a one-line description (``unibridge-bench list`` prints it): given at
registration, else the object's own ``description`` attribute. A duplicate name is refused; an
unknown name raises :class:`UnknownNameError` that lists the valid choices and suggests the
closest one (:func:`suggestion`, which unknown YAML keys word the same way).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


def closest(name: str, choices: Sequence[str], likely: Sequence[str] = ()) -> str | None:
    """The one of ``likely``, else of ``choices``, close to ``name`` (:mod:`difflib`); None: none is.

    Example: ``closest("trainin", ["backbones", "training"])`` is ``"training"``.
    """
    close = (difflib.get_close_matches(name, likely, n=1)
             or difflib.get_close_matches(name, choices, n=1))
    return close[0] if close else None


def suggestion(name: str, choices: Sequence[str], what: str = "choices",
               likely: Sequence[str] = ()) -> str:
    """``Did you mean <closest>? Valid <what>: <choices>``, for an unknown ``name``.

    The closest is :func:`closest` (``likely``: say, required keys that are missing); without a
    close one the question is left out.

    Example::

        suggestion("trainin", ["backbones", "training"], "keys")
        # "Did you mean 'training'? Valid keys: backbones, training"
    """
    close = closest(name, choices, likely)
    hint = f"Did you mean {close!r}? " if close else ""
    return f"{hint}Valid {what}: {', '.join(choices)}"


class UnknownNameError(KeyError):
    """An unknown registry name; the message names the valid choices and the closest one.

    Example: ``unknown method 'unibrige'. Did you mean 'unibridge'? Valid choices: ...``.
    """

    def __init__(self, kind: str, name: str, choices: list[str]):
        self.kind, self.name, self.choices = kind, name, choices
        super().__init__(f"unknown {kind} {name!r}. {suggestion(name, choices)}")

    def __str__(self) -> str:
        return self.args[0]


class Registry(Generic[T]):
    """Name -> object map with lazy import entries and helpful errors."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T | str] = {}
        self._descriptions: dict[str, str] = {}

    def register(self, name: str, obj: T, description: str | None = None) -> T:
        """Register ``obj`` under ``name``; a name can be registered once only.

        ``description`` defaults to ``obj.description`` (a string attribute), else empty.
        """
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = obj
        own = getattr(obj, "description", None)
        self._descriptions[name] = description or (own if isinstance(own, str) else "")
        return obj

    def register_lazy(self, name: str, target: str, description: str = "") -> None:
        """Register ``"package.module:attribute"``, imported on first :meth:`get`."""
        if ":" not in target:
            raise ValueError(f"lazy {self.kind} entry must look like 'module:attr', got {target!r}")
        self.register(name, target, description)  # type: ignore[arg-type]

    def discard(self, name: str) -> None:
        """Forget ``name`` (a plugin registering a new version of its own entry), if registered."""
        self._entries.pop(name, None)
        self._descriptions.pop(name, None)

    def describe(self, name: str) -> str:
        """The one-line description of ``name`` (empty when none was given); imports nothing."""
        if name not in self._entries:
            raise UnknownNameError(self.kind, name, self.names())
        return self._descriptions[name]

    def decorator(self, name: str) -> Callable[[T], T]:
        """Decorator form of :meth:`register`."""
        return lambda obj: self.register(name, obj)

    def get(self, name: str) -> T:
        """Return the entry, importing a lazy one; unknown names raise :class:`UnknownNameError`."""
        if name not in self._entries:
            raise UnknownNameError(self.kind, name, self.names())
        entry = self._entries[name]
        if isinstance(entry, str):
            module_name, attr = entry.split(":")
            entry = getattr(importlib.import_module(module_name), attr)
            self._entries[name] = entry
        return entry

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
