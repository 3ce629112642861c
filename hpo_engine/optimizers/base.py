"""The optimizer contract: ask for a point, tell its result. Seeded, direction-aware.

Points are ``dict[name, value]`` of the :class:`~hpo_engine.manifest.search_space.SearchSpace`.
``tell`` takes the objective as recorded; the optimizer itself handles
``maximize`` (internally it may minimize ``-objective``). A failed trial is told
with ``objective=None``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from hpo_engine.manifest.search_space import SearchSpace

__all__ = ["Optimizer", "is_pruned_item"]


def is_pruned_item(item: Sequence[Any]) -> bool:
    """True for a warm-start history item ``(point, objective, "pruned")``."""
    return len(item) > 2 and item[2] == "pruned"


class Optimizer(ABC):
    """Proposes points of ``space`` one at a time.

    Every optimizer is built as ``cls(space, maximize=, seed=, budget=, log_stream=, parameters=)``:
    ``budget`` is the total number of trials (``None``: unbounded), ``log_stream`` receives
    a library's progress output (``None``: discarded), ``parameters`` the manifest's method
    parameters by name. ``name`` is its row in :data:`hpo_engine.manifest.methods.METHOD_SPECS`.
    """

    name: str = "abstract"

    def __init__(
        self,
        space: SearchSpace,
        *,
        maximize: bool,
        seed: int | None = None,
        budget: int | None = None,
        log_stream: TextIO | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        self.space = space
        self.maximize = maximize
        self.seed = seed
        self.budget = budget
        self.log_stream = log_stream
        self.parameters: Mapping[str, Any] = dict(parameters or {})

    @abstractmethod
    def ask(self) -> dict[str, Any]:
        """The next point to evaluate. Raises :class:`~hpo_engine.errors.OptimizerError` when none is left."""

    @abstractmethod
    def tell(self, point: Mapping[str, Any], objective: float | None) -> None:
        """Report the objective of a point returned by ``ask`` (``None``: the trial failed)."""

    def tell_pruned(self, point: Mapping[str, Any], last_value: float | None, step: float | None) -> None:
        """A point returned by ``ask`` whose trial was stopped early at ``step`` (the program's step key).

        ``last_value`` is the last objective value it recorded (``None``: none). The default
        tells it as if it were the final objective: a pessimistic value, since a stopped
        trial had not finished learning, which keeps the model away from its region.
        Methods that know better (a model of partial curves) override this. Warm starts
        (:meth:`warm_start`) give stopped trials the same last value.
        """
        self.tell(point, last_value)

    def warm_start(self, history: Sequence[tuple[Any, ...]]) -> None:
        """Learn from trials finished in an earlier run (resume); default: tell each in order.

        Items are ``(point, objective)`` (``None``: failed) or ``(point, objective, "pruned")``
        for a trial stopped early (``objective``: its last value), told through :meth:`tell_pruned`.
        """
        for item in history:
            if is_pruned_item(item):
                self.tell_pruned(item[0], item[1], None)
            else:
                self.tell(item[0], item[1])

    def close(self) -> None:
        """Release threads or other resources."""
