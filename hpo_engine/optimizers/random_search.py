"""Random search: uniform sampling, without repeats on a finite grid.

Every dimension is drawn uniformly (a continuous ``power`` range log-uniformly,
see :meth:`~hpo_engine.manifest.search_space.SearchSpace.sample`). On a finite space the
draws are grid indices (0-based, see :meth:`SearchSpace.point_at`) taken
without replacement, so no point is proposed twice; once all of them were
proposed, :meth:`RandomSearch.ask` raises :class:`~hpo_engine.errors.OptimizerError`.

Randomness comes from a :class:`numpy.random.Generator` seeded with ``seed``;
numpy's global random state is never used.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from hpo_engine.errors import OptimizerError, SearchSpaceError
from hpo_engine.manifest.search_space import SearchSpace, random_index
from hpo_engine.optimizers.base import Optimizer

__all__ = ["RandomSearch", "GridSampler"]

#: Grids up to this many points are shuffled as a whole (8 bytes per point);
#: larger ones are sampled by rejection against the set of indices already drawn.
PERMUTATION_LIMIT = 1 << 20


def exhausted_message(size: int) -> str:
    """The message of the error raised when every point of a grid of ``size`` points was proposed."""
    return f"the grid of {size} points is exhausted: every point has been proposed once"


class GridSampler:
    """Draws distinct 0-based grid indices of a finite space, uniformly, in a seeded order.

    Small grids (up to :data:`PERMUTATION_LIMIT` points) are walked in one random
    permutation; larger ones draw a random digit per dimension and reject indices
    already drawn. Indices marked with :meth:`mark` (points evaluated elsewhere,
    e.g. an earlier run) are skipped.
    """

    def __init__(self, space: SearchSpace, rng: np.random.Generator) -> None:
        if not space.is_finite:
            raise OptimizerError("a grid sampler needs a finite space.")
        self.space = space
        self.size: int = space.size  # type: ignore[assignment]
        self._rng = rng
        self._seen: set[int] = set()
        self._order: Iterator[int] | None = None

    @property
    def remaining(self) -> int:
        """Number of grid points not drawn or marked yet."""
        return self.size - len(self._seen)

    def mark(self, index: int) -> bool:
        """Record ``index`` as used; ``False`` when it already was."""
        if index in self._seen:
            return False
        self._seen.add(index)
        return True

    def is_marked(self, index: int) -> bool:
        return index in self._seen

    def draw(self) -> int:
        """A grid index not drawn or marked before. Raises :class:`OptimizerError` when none is left."""
        if self.remaining <= 0:
            raise OptimizerError(exhausted_message(self.size))
        if self.size <= PERMUTATION_LIMIT:
            if self._order is None:
                self._order = iter(self._rng.permutation(self.size).tolist())
            for index in self._order:
                if self.mark(index):
                    return index
            raise OptimizerError(exhausted_message(self.size))  # pragma: no cover - remaining > 0 guards this
        counts = [d.count for d in self.space.dimensions]
        while True:
            index = 0
            for count in counts:
                index = index * count + random_index(self._rng, count)  # type: ignore[arg-type]
            if self.mark(index):
                return index


class RandomSearch(Optimizer):
    """Uniform random sampling; never repeats a point of a finite grid.

    ``seed`` makes the sequence reproducible (same seed, same space, same points).
    ``budget`` is not used: the caller decides how many points to ask for.
    ``warm_start`` marks the points of earlier trials as used, so a resumed run
    does not propose them again.
    """

    name = "random"

    def __init__(self, space: SearchSpace, *, maximize: bool, seed: int | None = None, budget: int | None = None, **options: Any) -> None:
        super().__init__(space, maximize=maximize, seed=seed, budget=budget, **options)
        self._rng = np.random.default_rng(seed)
        self._grid = GridSampler(space, self._rng) if space.is_finite else None

    def ask(self) -> dict[str, Any]:
        if self._grid is None:
            return self.space.sample(self._rng)
        return self.space.point_at(self._grid.draw())

    def tell(self, point: Mapping[str, Any], objective: float | None) -> None:
        """Nothing to learn: points returned by ``ask`` are already marked as used."""

    def warm_start(self, history: Sequence[tuple[Any, ...]]) -> None:
        """Continue after earlier trials: mark their grid points as used or, on a continuous
        space, advance the seeded sequence past them (a resumed run must not re-propose them).
        """
        if self._grid is None:
            for _ in history:
                self.space.sample(self._rng)
            return
        for point, *_ in history:
            index = _grid_index(self.space, point)
            if index is not None:
                self._grid.mark(index)


def _grid_index(space: SearchSpace, point: Mapping[str, Any]) -> int | None:
    """The 0-based grid index of ``point``, or ``None`` when it is not a point of ``space``."""
    try:
        return space.index_of(point)
    except (SearchSpaceError, KeyError):
        return None
