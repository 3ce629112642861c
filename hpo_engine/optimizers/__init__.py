"""Optimizers: ask for a point, tell its result.

:data:`METHODS` maps every method name of :data:`hpo_engine.manifest.methods.METHOD_SPECS`
to its optimizer class, imported on first use (rbfopt's import alone costs seconds).
:func:`make_optimizer` builds one by its manifest name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

from hpo_engine.errors import OptimizerError
from hpo_engine.lazy_table import LazyClassTable
from hpo_engine.manifest.methods import METHOD_SPECS, MethodSpec
from hpo_engine.manifest.search_space import SearchSpace
from hpo_engine.optimizers.base import Optimizer

__all__ = ["Optimizer", "METHODS", "MethodTable", "make_optimizer"]


class MethodTable(LazyClassTable[Optimizer]):
    """Method name -> optimizer class, read from the method table, each class imported when first asked for.

    ``spec(name)`` gives the method's :class:`~hpo_engine.manifest.methods.MethodSpec`
    (its description and validation rules).
    """

    def __init__(self, specs: Mapping[str, MethodSpec]) -> None:
        super().__init__({name: spec.optimizer for name, spec in specs.items()}, Optimizer, "method", OptimizerError)
        self._specs = specs

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
