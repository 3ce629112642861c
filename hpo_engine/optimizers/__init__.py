"""Optimizers: ask for a point, tell its result.

``make_optimizer(method, space, ...)`` builds one by its manifest name:
``random`` (:class:`RandomSearch`), ``rbfopt`` (:class:`RbfoptSearch`) or
``grid`` (:class:`GridSearch`).
"""

from __future__ import annotations

from typing import TextIO

from hpo_engine.errors import OptimizerError
from hpo_engine.manifest.search_space import SearchSpace
from hpo_engine.optimizers.base import Optimizer
from hpo_engine.optimizers.grid_search import GridSearch
from hpo_engine.optimizers.random_search import RandomSearch
from hpo_engine.optimizers.rbfopt_search import RbfoptSearch

__all__ = ["Optimizer", "RandomSearch", "GridSearch", "RbfoptSearch", "METHODS", "make_optimizer"]

#: The optimization methods a manifest may name.
METHODS: tuple[str, ...] = ("random", "rbfopt", "grid")


def make_optimizer(
    method: str,
    space: SearchSpace,
    *,
    maximize: bool,
    seed: int | None,
    budget: int | None,
    log_stream: TextIO | None = None,
) -> Optimizer:
    """The optimizer named ``method`` for ``space``.

    ``budget`` is the total number of trials (``num_optimizer_steps``); ``log_stream``
    receives rbfopt's progress table (ignored by the other methods). Raises
    :class:`OptimizerError` for an unknown method, or a space the method cannot
    search (grid with a continuous dimension).
    """
    if method == "random":
        return RandomSearch(space, maximize=maximize, seed=seed, budget=budget)
    if method == "grid":
        return GridSearch(space, maximize=maximize, seed=seed, budget=budget)
    if method == "rbfopt":
        return RbfoptSearch(space, maximize=maximize, seed=seed, budget=budget, log_stream=log_stream)
    raise OptimizerError(f"unknown optimization method {method!r}; expected one of {', '.join(METHODS)}.")
