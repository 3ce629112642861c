"""A table of classes named as ``"module:Class"`` strings, each imported when first asked for.

The extension-point tables (``hpo_engine.optimizers.METHODS``,
``hpo_engine.runner.early_stopping.RULES``, ``hpo_engine.runner.backends.BACKENDS``) are built on it: their rows live in the manifest
core as data, and the heavy libraries behind a class load only when it is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from hpo_engine.errors import HpoError

__all__ = ["LazyClassTable"]

T = TypeVar("T")


class LazyClassTable(Mapping[str, type[T]], Generic[T]):
    """Name -> class, from ``paths`` (name -> ``"module:Class"``); a class must subclass ``base``
    and carry ``name`` equal to its row, else ``error`` is raised when it is first asked for."""

    def __init__(self, paths: Mapping[str, str], base: type[T], what: str, error: type[HpoError] = HpoError) -> None:
        self._paths = paths
        self._base = base
        self._what = what
        self._error = error
        self._classes: dict[str, type[T]] = {}

    def __getitem__(self, name: str) -> type[T]:
        if name not in self._classes:
            path = self._paths[name]
            module_name, _, class_name = path.partition(":")
            cls = getattr(importlib.import_module(module_name), class_name)
            if not (isinstance(cls, type) and issubclass(cls, self._base)) or getattr(cls, "name", None) != name:
                raise self._error(f"{self._what} table row {name!r} names {path}, which is not its {self._base.__name__}")
            self._classes[name] = cls
        return self._classes[name]

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` is a row (the class is not imported)."""
        return name in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)
