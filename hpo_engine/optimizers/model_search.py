"""The shared part of the library-backed model searches (``tpe``, ``bayesian``).

:class:`ModelSearch` keeps what every method owes the engine whatever library proposes
the points: the pinned dimensions held outside the library, the points pending (asked,
not told) and told, no point proposed twice on a finite space, failures and pruned trials.
A subclass maps each free dimension to its library through :class:`Coordinate` and
implements :meth:`ModelSearch._suggest`, :meth:`ModelSearch._observe` and
:meth:`ModelSearch._observe_many` (resume).

Coordinates (one per free dimension, in manifest order)
    ``real``: a continuous range without ``power``, the value itself in ``[low, high]``.
    ``log``: a continuous ``power`` range, the value itself searched log-uniformly in
    ``[power**min, power**max]`` (the same as searching the exponent uniformly).
    ``index``: a stepped range or an ``int_range`` (``power`` too): the 0-based index
    ``0 .. count-1`` of its grid, an ordered integer (the index is linear in the exponent
    of a power grid, so that grid is searched on the log scale as well).
    ``choice``: a ``*_values`` list, categorical over its values.
    A dimension with a single value is fixed (never given to the library).

Duplicates and exhaustion
    A proposal equal to a point pending or told is not returned: the subclass is asked
    again (:data:`RETRIES` times), then a random point not proposed before is used
    (an unseen grid point on a finite space). Once every grid point was proposed,
    ``ask`` raises :class:`~hpo_engine.errors.OptimizerError`.

Pruned trials
    ``tell(point, value, pruned=True)`` reports a trial stopped early, ``value`` being its
    last intermediate objective (or ``None``); ``warm_start`` accepts
    ``(point, objective, "pruned")`` items for the same. Each library uses what it can
    of that (see the subclasses).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hpo_engine.errors import OptimizerError, SearchSpaceError
from hpo_engine.manifest.search_space import Dimension, DoubleRange, DoubleValues, IntValues, SearchSpace, StringValues, Value
from hpo_engine.optimizers.base import Optimizer, is_pruned_item
from hpo_engine.optimizers.random_search import GridSampler, exhausted_message

__all__ = ["Coordinate", "ModelSearch", "coordinates", "RETRIES", "Observation"]

#: How many times a duplicate proposal is asked again before a random unseen point is used.
RETRIES = 8

CoordinateKind = Literal["real", "log", "index", "choice"]


@dataclass(frozen=True, slots=True)
class Coordinate:
    """How one free dimension is searched (see the module docstring).

    ``low``/``high``: inclusive bounds of a ``real`` / ``log`` value or of an ``index``
    (0-based); ``choices``: the values of a ``choice``.
    """

    name: str
    kind: CoordinateKind
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Value, ...] = ()

    def from_value(self, dimension: Dimension, value: Value) -> Any:
        """The library-side coordinate of a hyper-parameter value."""
        if self.kind == "index":
            return dimension.index_of(value)
        return value

    def to_value(self, dimension: Dimension, coordinate: Any) -> Value:
        """The hyper-parameter value of a library-side coordinate (clipped into the bounds)."""
        if self.kind == "index":
            return dimension.value_at(min(max(int(round(float(coordinate))), 0), int(self.high)))
        if self.kind == "choice":
            return dimension.value_at(dimension.index_of(coordinate))
        return min(max(float(coordinate), self.low), self.high)


def coordinates(space: SearchSpace) -> tuple[Coordinate, ...]:
    """The coordinates of the free (more than one value) dimensions of ``space``, in order."""
    result = []
    for dimension in space.dimensions:
        if dimension.count == 1:
            continue
        if isinstance(dimension, (DoubleValues, IntValues, StringValues)):
            result.append(Coordinate(dimension.name, "choice", choices=tuple(dimension.values())))
        elif dimension.is_finite:
            result.append(Coordinate(dimension.name, "index", 0.0, float(dimension.count - 1)))  # type: ignore[operator]
        else:
            assert isinstance(dimension, DoubleRange)
            low, high = dimension.bounds
            result.append(Coordinate(dimension.name, "log" if dimension.power is not None else "real", low, high))
    return tuple(result)


@dataclass(frozen=True, slots=True)
class Observation:
    """One finished trial as a library is told it: library coordinates by name, the
    objective to *minimize* (sign already turned for ``maximize``; ``None``: failed), pruned or not.
    """

    params: dict[str, Any]
    value: float | None
    pruned: bool = False


class ModelSearch(Optimizer):
    """Ask/tell over a library's sampler; subclasses say how the library proposes and learns."""

    name = "abstract-model"

    def __init__(self, space: SearchSpace, *, seed: int | None = None, **options: Any) -> None:
        """Built as every optimizer is (see :class:`~hpo_engine.optimizers.base.Optimizer`)."""
        super().__init__(space, seed=seed, **options)
        self.coordinates = coordinates(space)
        self._fixed = {d.name: d.value_at(0) for d in space.dimensions if d.count == 1}
        self._rng = np.random.default_rng(seed)
        self._grid = GridSampler(space, self._rng) if space.is_finite else None
        self._pending: dict[tuple, dict[str, Any]] = {}  # key -> point, asked and not told
        self._told: dict[tuple, float | None] = {}  # key -> value to minimize (None: failed)
        self._closed = False
        self._started = False  # ask was called
        #: Points that came from the library (the others were random: duplicates, fixed spaces).
        self.model_points = 0

    # -- what a subclass provides ---------------------------------------------------------
    @abstractmethod
    def _suggest(self) -> dict[str, Any] | None:
        """The library's next proposal as library coordinates by name (the pending points are known
        to it), or ``None`` when it has none to give (a random point is used)."""

    @abstractmethod
    def _accept(self, key: tuple, params: dict[str, Any], suggested: bool) -> None:
        """The point ``key`` (library coordinates ``params``) is returned to the caller;
        ``suggested``: it is the last ``_suggest`` proposal (else a random point)."""

    @abstractmethod
    def _reject(self, params: dict[str, Any], known: float | None, told: bool) -> None:
        """The proposal ``params`` duplicates a point told (``told``, its value ``known``) or pending."""

    @abstractmethod
    def _observe(self, key: tuple, observation: Observation) -> None:
        """Learn the result of a point returned by ``ask``."""

    @abstractmethod
    def _observe_many(self, observations: Sequence[Observation]) -> None:
        """Learn trials of an earlier run (resume), before the first ``ask``."""

    # -- Optimizer --------------------------------------------------------------------------
    def ask(self) -> dict[str, Any]:
        if self._closed:
            raise OptimizerError(f"this {self.name} optimizer is closed.")
        self._started = True
        if self._grid is not None and self._grid.remaining == 0:
            raise OptimizerError(exhausted_message(self._grid.size))
        if self.coordinates:
            for _ in range(RETRIES):
                params = self._suggest()
                if params is None:
                    break
                point = self._point(params)
                key = self._key(point)
                if key not in self._pending and key not in self._told:
                    self._accept(key, params, True)
                    self.model_points += 1
                    return self._hand_out(key, point)
                self._reject(params, self._told.get(key), key in self._told)
        point = self._random_point()
        key = self._key(point)
        if self.coordinates:
            self._accept(key, self._params(point), False)
        return self._hand_out(key, point)

    def tell(self, point: Mapping[str, Any], objective: float | None, *, pruned: bool = False) -> None:
        """Report a result; ``pruned``: the trial was stopped early and ``objective`` is its last value (or ``None``)."""
        key = self._key(point)
        if key not in self._pending:
            raise OptimizerError(f"{dict(point)!r} was not proposed by this optimizer, or was told already.")
        del self._pending[key]
        value = self._minimized(objective)
        self._told[key] = value
        if self.coordinates:
            self._observe(key, Observation(self._params(point), value, pruned))

    def tell_pruned(self, point: Mapping[str, Any], last_value: float | None, step: float | None) -> None:
        """A trial stopped early: told to the library as pruned, with its last value."""
        self.tell(point, last_value, pruned=True)

    def warm_start(self, history: Sequence[tuple[Any, ...]]) -> None:
        """Learn from trials of an earlier run: ``(point, objective)`` or ``(point, objective, "pruned")`` items.

        Points that are not points of this space (the manifest changed) are skipped, with a
        note in the log stream. Call it once, before the first ``ask``.
        """
        if self._started or self._told:
            raise OptimizerError("warm_start must be called before the first ask or tell, and once.")
        observations, skipped = [], 0
        for item in history:
            point, objective = item[0], item[1]
            pruned = is_pruned_item(item)
            if not self.space.contains(point):
                skipped += 1
                continue
            key = self._key(point)
            value = self._minimized(objective)
            self._told[key] = value
            if self._grid is not None:
                self._grid.mark(self.space.index_of(point))
            observations.append(Observation(self._params(point), value, pruned))
        if skipped and self.log_stream is not None:
            print(f"hpo: {self.name} warm start: {skipped} earlier trial(s) are not points of this search space; ignored", file=self.log_stream)
        if observations and self.coordinates:
            self._observe_many(observations)

    def close(self) -> None:
        self._closed = True

    # -- helpers ------------------------------------------------------------------------------
    def _hand_out(self, key: tuple, point: dict[str, Any]) -> dict[str, Any]:
        self._pending[key] = point
        if self._grid is not None:
            self._grid.mark(self.space.index_of(point))
        return point

    def _random_point(self) -> dict[str, Any]:
        """A point not proposed before: an unseen grid point, or a uniform sample (log-uniform on power ranges)."""
        if self._grid is not None:
            return self.space.point_at(self._grid.draw())
        for _ in range(1000):
            point = self.space.sample(self._rng)
            key = self._key(point)
            if key not in self._pending and key not in self._told:
                return point
        raise OptimizerError("cannot find a point not proposed before.")  # pragma: no cover - continuous space

    def _minimized(self, objective: float | None) -> float | None:
        if objective is None or not math.isfinite(objective):
            return None
        return -float(objective) if self.maximize else float(objective)

    def _point(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The hyper-parameter values of library coordinates ``params`` (fixed dimensions filled in)."""
        point: dict[str, Any] = {}
        by_name = {c.name: c for c in self.coordinates}
        for dimension in self.space.dimensions:
            if dimension.name in self._fixed:
                point[dimension.name] = self._fixed[dimension.name]
            else:
                point[dimension.name] = by_name[dimension.name].to_value(dimension, params[dimension.name])
        return point

    def _params(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """The library coordinates of ``point`` (free dimensions only)."""
        try:
            return {c.name: c.from_value(self.space[c.name], point[c.name]) for c in self.coordinates}
        except (SearchSpaceError, KeyError) as exc:
            raise OptimizerError(f"{dict(point)!r} is not a point of this search space.") from exc

    def _key(self, point: Mapping[str, Any]) -> tuple:
        try:
            return tuple(point[name] for name in self.space.names)
        except KeyError as exc:
            raise OptimizerError(f"{dict(point)!r} is not a point of this search space.") from exc

    @property
    def pending_points(self) -> list[dict[str, Any]]:
        """The points asked and not told yet, oldest first."""
        return list(self._pending.values())

    def _told_values(self) -> list[float]:
        return [v for v in self._told.values() if v is not None]
