"""Grid search: every point of a finite space, in grid order.

The order is :meth:`~hpo_engine.manifest.search_space.SearchSpace.point_at` for indices
``0, 1, 2, ...`` (0-based, last dimension varying fastest). A space with a
continuous dimension has no grid and is refused when the optimizer is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hpo_engine.errors import OptimizerError, SearchSpaceError
from hpo_engine.manifest.search_space import SearchSpace
from hpo_engine.optimizers.base import Optimizer
from hpo_engine.optimizers.random_search import exhausted_message

__all__ = ["GridSearch"]


class GridSearch(Optimizer):
    """Proposes grid points in order; raises :class:`OptimizerError` once all were proposed.

    ``warm_start`` (resume) marks the points of earlier trials as done, so they are
    skipped and the grid continues with the first point not finished yet.
    ``seed`` and ``budget`` are not used.
    """

    name = "grid"

    def __init__(self, space: SearchSpace, *, maximize: bool, seed: int | None = None, budget: int | None = None, **options: Any) -> None:
        continuous = [d.name for d in space.dimensions if not d.is_finite]
        if continuous:
            names = ", ".join(repr(n) for n in continuous)
            raise OptimizerError(
                f"grid search needs a finite value list for every hyper-parameter, but {names} "
                f"{'is' if len(continuous) == 1 else 'are'} continuous (a double_range without `step`); "
                "give it a `step`, or use method random or rbfopt."
            )
        super().__init__(space, maximize=maximize, seed=seed, budget=budget, **options)
        self.size: int = space.size  # type: ignore[assignment]
        self._next = 0
        self._done: set[int] = set()

    def ask(self) -> dict[str, Any]:
        while self._next < self.size and self._next in self._done:
            self._next += 1
        if self._next >= self.size:
            raise OptimizerError(exhausted_message(self.size))
        index = self._next
        self._next += 1
        return self.space.point_at(index)

    def tell(self, point: Mapping[str, Any], objective: float | None) -> None:
        """Nothing to learn: the order is fixed."""

    def warm_start(self, history: Sequence[tuple[Any, ...]]) -> None:
        for point, *_ in history:
            try:
                self._done.add(self.space.index_of(point))
            except (SearchSpaceError, KeyError):
                continue
