"""Optimizers: ask for a point, tell its result.

:data:`METHODS` maps every method name of :data:`hpo_engine.manifest.methods.METHOD_SPECS`
to its optimizer class, imported on first use (rbfopt's import alone costs seconds).
:func:`make_optimizer` builds one by its manifest name.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from hpo_engine.errors import OptimizerError
from hpo_engine.manifest.methods import METHOD_SPECS, MethodSpec
from hpo_engine.manifest.search_space import SearchSpace
from hpo_engine.optimizers.base import Optimizer

__all__ = ["Optimizer", "METHODS", "MethodTable", "make_optimizer"]


class MethodTable(Mapping[str, type[Optimizer]]):
    """Method name -> optimizer class, read from the method table, each class imported when first asked for.

    ``spec(name)`` gives the method's :class:`~hpo_engine.manifest.methods.MethodSpec`
    (its description and validation rules).
    """

    def __init__(self, specs: Mapping[str, MethodSpec]) -> None:
        self._specs = specs
        self._classes: dict[str, type[Optimizer]] = {}

    def __getitem__(self, name: str) -> type[Optimizer]:
        if name not in self._classes:
            module_name, _, class_name = self._specs[name].optimizer.partition(":")
            cls = getattr(importlib.import_module(module_name), class_name)
            if not (isinstance(cls, type) and issubclass(cls, Optimizer)) or cls.name != name:
                raise OptimizerError(f"method table row {name!r} names {self._specs[name].optimizer}, which is not its Optimizer")
            self._classes[name] = cls
        return self._classes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def spec(self, name: str) -> MethodSpec:
        return self._specs[name]


#: Every method a manifest may name -> its optimizer class.
METHODS = MethodTable(METHOD_SPECS)


def make_optimizer(
    method: str,
    space: SearchSpace,
    *,
    maximize: bool,
    seed: int | None,
    budget: int | None,
    log_stream: TextIO | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Optimizer:
    """The optimizer named ``method`` for ``space``.

    ``budget`` is the total number of trials (``num_optimizer_steps``); ``log_stream``
    receives a library's progress output (rbfopt's table); ``parameters`` are the
    manifest's method parameters by name (for method-specific settings). Raises
    :class:`OptimizerError` for an unknown method, or a space the method cannot
    search (grid with a continuous dimension).
    """
    if method not in METHODS:
        raise OptimizerError(f"unknown optimization method {method!r}; expected one of {', '.join(METHODS)}.")
    return METHODS[method](space, maximize=maximize, seed=seed, budget=budget, log_stream=log_stream, parameters=parameters)
