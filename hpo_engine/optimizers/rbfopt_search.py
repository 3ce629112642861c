"""Method ``rbfopt``: RBFOpt's MSRSM surrogate search (COIN-OR ``rbfopt``) as ask/tell.

Every proposal of the model is one short call of the library through its documented interface (see
:mod:`hpo_engine.optimizers.rbfopt_library`): a fresh ``RbfoptAlgorithm`` built on the nodes
known at that moment, stopped after the one point it proposes. No library state
kept between proposals: the model is rebuilt from the nodes each time (an RBF interpolant:
one linear solve), and the work per proposal is capped by the library's settings.

Dimensions
    Each free dimension is seen through its :class:`~hpo_engine.manifest.search_space.Encoding`:
    ``'R'`` real (a continuous ``power`` range through its exponent: the log scale), ``'I'``
    integer (the 0-based index of a stepped or integer range), ``'C'`` categorical (the 0-based
    index of a ``*_values`` entry). A dimension with a single value is held fixed outside.

Initial design, then the model
    The first points are RBFOpt's kind of initial design (``lhd_maximin`` with the centre of the
    box, :mod:`~hpo_engine.optimizers.space_filling`), the centre first, computed at the first
    proposal without the library, and without the points of an earlier run. So every parallel
    slot gets its design point at once, while ``import rbfopt`` (pyomo, about 1.5 s of CPU) runs
    on a thread (:mod:`~hpo_engine.optimizers.background_import`). Once at least one trial is
    told and the told and pending points are enough for a fully determined model (one more than
    the library's coordinates, a categorical counting one per value), every slot gets a point of
    the model; until then the design's points, then random ones.

Parallel trials (constant liar: the model's own prediction, global steps rationed)
    The pending points (asked, not told) are nodes of the model too, with a stand-in value: the
    prediction at the point of a cubic RBF interpolant with a linear tail through the finished
    trials (in the unit box, a categorical as indicators of its values; clipped to the range of
    their values; :func:`predicted_values`), as
    RBFOpt's own parallel mode stands in for its pending points with its model. The library keeps
    its proposals away from every node (``min_dist``), so the slots get distinct points; the real
    values replace the stand-ins at the next proposal after the trials finish. Successive proposals
    walk the library's cycle of distance weights (:data:`~hpo_engine.optimizers.rbfopt_library.CYCLE`),
    with two rules for parallel slots; when one applies, that slot gets the cycle's local step (in
    the box around the best point) instead of its global one (over the whole box):

    - at most :data:`MAX_GLOBAL_PENDING` global step is pending at a time;
    - once :data:`THIN_GLOBALS_FROM_PENDING` model points have been pending at a time (the run
      has 4 slots or more), only the proposals whose 0-based number is a multiple of
      :data:`THINNED_GLOBAL_PERIOD` may take a global step, also when slots free all at once and
      the first point of such a batch has none pending.

    A serial run never has a step pending, so its sequence is the library's cycle unchanged. With
    P slots most of them refine around the best point, each refinement seeing the results (or the
    predictions) of the ones before it. (Stacking global steps, as the plain cycle does, left the
    refinement too few steps in sequence: Ackley-5 at ``--parallel 2`` went from 0.49 serial to
    1.88, median of 30 seeds. Against the value of the nearest finished trial as the stand-in and
    no thinning, the prediction and the thinning took Ackley-5 at ``--parallel 4`` from 1.25, median
    of 90 seeds (serial 0.235), to 0.233, median of 360 seeds (serial 0.267). See
    docs/benchmarks/search-quality.md, run 7.)

Direction and failures
    The library minimizes; with ``maximize=True`` it is told ``-objective``. A failed trial is
    told the median of the values seen (the interpolant passes through every node, so a large
    penalty would raise a spike around it, where the model had just expected a good point), or
    :data:`FIRST_FAILURE_PENALTY` before any success. A pruned trial is told its last value (a
    pruned trial without one counts as failed).

Random fallback (as the original service did: "will simply run a random search")
    Uniform random points (log-uniform on continuous power ranges, never repeating a grid
    point) when the budget is not larger than the number of free dimensions (too few steps to
    fit a model), before the model has enough points, when the library gave no point (every
    step discarded) or raised an error (written to the log stream), and for a duplicate.

Resume: ``warm_start`` makes the earlier trials nodes of every later model.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import numpy as np

from hpo_engine.errors import OptimizerError
from hpo_engine.manifest.search_space import SearchSpace
from hpo_engine.optimizers import background_import, rbfopt_library, space_filling
from hpo_engine.optimizers.model_search import ModelSearch, Observation

__all__ = ["RbfoptSearch", "FIRST_FAILURE_PENALTY", "MAX_GLOBAL_PENDING", "THIN_GLOBALS_FROM_PENDING", "THINNED_GLOBAL_PERIOD", "predicted_values"]

#: Value told to the library for a failed trial when no trial has succeeded yet.
FIRST_FAILURE_PENALTY = 1.0e6
#: Steps of the cycle's global part (over the whole box) that may be pending at a time.
MAX_GLOBAL_PENDING = 1
#: Once this many model points have been pending at a time (``--parallel 4`` and up), global steps are thinned ...
THIN_GLOBALS_FROM_PENDING = 3
#: ... to the proposals whose 0-based number is a multiple of this; the others take a local step.
THINNED_GLOBAL_PERIOD = 16


class _NullStream:
    """A write-only sink (the library's table when no log stream is given)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


class RbfoptSearch(ModelSearch):
    """RBFOpt's MSRSM search as ask/tell (see the module docstring).

    ``seed``: the seed of the library's calls and of the random fallback (``None``: fresh
    entropy). ``budget``: the total number of trials; with no more than the free dimensions the
    search is random. ``log_stream``: where the library's progress table goes (``None``: discarded).
    """

    name = "rbfopt"

    def __init__(self, space: SearchSpace, *, budget: int | None = None, log_stream: TextIO | None = None, **options: Any) -> None:
        if importlib.util.find_spec("rbfopt") is None:
            raise OptimizerError("method rbfopt needs the `rbfopt` package.")
        if budget is not None and budget < 0:
            raise OptimizerError(f"`budget` must not be negative, but got budget={budget!r}.")
        super().__init__(space, budget=budget, log_stream=log_stream, **options)
        self._log: TextIO = log_stream if log_stream is not None else _NullStream()  # type: ignore[assignment]
        self._free = [d for d in space.dimensions if d.count != 1]
        encodings = [d.encoding for d in self._free]
        self._lower = np.array([e.lower for e in encodings], dtype=float)
        self._upper = np.array([e.upper for e in encodings], dtype=float)
        self._types = np.array([e.var_type for e in encodings])
        # a categorical counts one coordinate per value in the library
        expanded = sum(int(e.upper - e.lower) + 1 if e.var_type == "C" and e.upper - e.lower > 1 else 1 for e in encodings)
        self._needed = expanded + 1
        self._nodes: list[tuple[np.ndarray, float]] = []  # told points: library coordinates, value to minimize
        self._design: list[np.ndarray] | None = None
        self._stuck = False
        self._proposals = 0
        #: The cycle step (0-based index into CYCLE) of the last model proposal, ``None`` for a design point.
        self._last_step: int | None = None
        self._steps: dict[tuple, int] = {}  # pending key -> cycle step of its model proposal
        #: True once THIN_GLOBALS_FROM_PENDING model points were pending at once (4 slots or more).
        self._wide = False
        #: Why the model is not used; ``None`` while it is.
        self.fallback_reason: str | None = None
        if not self._free:
            self.fallback_reason = "every hyper-parameter has a single value"
        elif budget is not None and budget <= len(self._free):
            self.fallback_reason = (
                f"{budget} steps are too few to fit a model of {len(self._free)} free hyper-parameters (needs more than {len(self._free)})"
            )
        if self.fallback_reason is not None:
            print(f"hpo: rbfopt will simply run a random search: {self.fallback_reason}", file=self._log)

    # -- ModelSearch -------------------------------------------------------------------
    def _suggest(self) -> dict[str, Any] | None:
        if self._stuck or self.fallback_reason is not None:
            self._stuck = False
            return None
        try:
            vector = self._next_vector()
        except Exception as exc:  # noqa: BLE001 - the library failed: go on at random, say why
            self.fallback_reason = f"rbfopt failed: {type(exc).__name__}: {exc}"
            print(f"hpo: {self.fallback_reason}; going on with a random search", file=self._log)
            return None
        if vector is None:
            return None
        return self._params(self._point_of(vector))

    def _accept(self, key: tuple, params: dict[str, Any], suggested: bool) -> None:
        """Remember the cycle step of a model proposal (the pending points themselves are read at the next proposal)."""
        if suggested and self._last_step is not None:
            self._steps[key] = self._last_step

    def _reject(self, params: dict[str, Any], known: float | None, told: bool) -> None:
        self._stuck = True

    def _observe(self, key: tuple, observation: Observation) -> None:
        self._steps.pop(key, None)
        point = self._point(observation.params)
        self._nodes.append((self._vector_of(point), self._value(observation.value)))

    def _observe_many(self, observations: Sequence[Observation]) -> None:
        for observation in observations:
            self._observe((), observation)

    # -- the library ---------------------------------------------------------------------
    @property
    def _bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._lower, self._upper, self._types

    def _seed(self) -> int:
        return int(self._rng.integers(2**32))

    def _next_vector(self) -> np.ndarray | None:
        pending = [self._vector_of(p) for p in self.pending_points]
        self._last_step = None
        if self._design is None and len(self._nodes) < self._needed:
            known = np.array([v for v, _ in self._nodes] + pending) if self._nodes or pending else None
            self._design = space_filling.initial_design(self._bounds, known, np.random.default_rng(self._seed()))
            background_import.start("rbfopt")  # for the model's first point, while the design's trials run
        while self._design:
            vector = self._design.pop(0)
            if not any(np.allclose(vector, p) for p in pending):
                return vector
        if not self._nodes or len(self._nodes) + len(pending) < self._needed:
            return None  # not enough points for a model yet: a random point
        positions = [v for v, _ in self._nodes] + pending
        values = [y for _, y in self._nodes] + list(self._lies(pending))
        step = self._cycle_step()
        self._proposals += 1
        self._last_step = step
        return rbfopt_library.propose(self._bounds, np.array(positions), np.array(values), seed=self._seed(), cycle_step=step, log=self._log)

    def _cycle_step(self) -> int:
        """The step of :data:`~hpo_engine.optimizers.rbfopt_library.CYCLE` (0-based) for the next
        proposal: the cycle's own, unless it is global and either :data:`MAX_GLOBAL_PENDING` global
        steps are pending or, once :data:`THIN_GLOBALS_FROM_PENDING` model points have been pending
        at a time, the proposal's number is not a multiple of :data:`THINNED_GLOBAL_PERIOD`; then the
        cycle's first local step (see the module docstring)."""
        cycle = rbfopt_library.CYCLE
        self._wide = self._wide or len(self._steps) >= THIN_GLOBALS_FROM_PENDING
        step = self._proposals % len(cycle)
        if cycle[step][1]:
            return step
        local = next((i for i, (_, is_local) in enumerate(cycle) if is_local), step)
        if self._wide and self._proposals % THINNED_GLOBAL_PERIOD:
            return local
        globals_pending = sum(1 for s in self._steps.values() if not cycle[s][1])
        return step if globals_pending < MAX_GLOBAL_PENDING else local

    @property
    def pending_steps(self) -> list[int | None]:
        """For each pending point, oldest first: the 0-based step of
        :data:`~hpo_engine.optimizers.rbfopt_library.CYCLE` that proposed it (``None``: a design or random point)."""
        return [self._steps.get(self._key(point)) for point in self.pending_points]

    def _lies(self, pending: Sequence[np.ndarray]) -> np.ndarray:
        """Stand-in values of the pending points (:func:`predicted_values` on :meth:`_features`)."""
        if not pending:
            return np.empty(0)
        told = self._features(np.array([v for v, _ in self._nodes]))
        return predicted_values(told, np.array([y for _, y in self._nodes]), self._features(np.array(pending)))

    def _features(self, vectors: np.ndarray) -> np.ndarray:
        """The model's coordinates of library ``vectors`` (rows): a real or integer coordinate in the
        unit box, a categorical one as indicators of all its values but the first (no order among
        them, as the library's own expansion of categoricals)."""
        unit = (vectors - self._lower) / space_filling.unit_span(self._bounds)
        columns = []
        for i, (low, high, kind) in enumerate(zip(self._lower, self._upper, self._types)):
            if kind == "C":
                columns += [(np.rint(vectors[:, i]) == value).astype(float) for value in range(int(low) + 1, int(high) + 1)]
            else:
                columns.append(unit[:, i])
        return np.column_stack(columns)

    # -- conversions -------------------------------------------------------------------
    def _value(self, value: float | None) -> float:
        """The value the library minimizes for a told value (already sign-turned; ``None``: the median seen)."""
        if value is not None:
            return value
        seen = self._told_values()
        if not seen:
            return FIRST_FAILURE_PENALTY
        return float(np.median(seen))

    def _vector_of(self, point: Mapping[str, Any]) -> np.ndarray:
        """Library coordinates of ``point`` (free dimensions, in order)."""
        vector = np.array([d.encode(point[d.name]) for d in self._free], dtype=float)
        return np.clip(vector, self._lower, self._upper)

    def _point_of(self, vector: Sequence[float]) -> dict[str, Any]:
        """The point at library coordinates ``vector`` (fixed dimensions filled in)."""
        decoded = {d.name: d.decode(float(x)) for d, x in zip(self._free, vector)}
        return {d.name: decoded.get(d.name, d.value_at(0) if d.count == 1 else None) for d in self.space.dimensions}


def predicted_values(told: np.ndarray, values: np.ndarray, pending: np.ndarray) -> np.ndarray:
    """The model's prediction at each ``pending`` point: a cubic radial basis function interpolant
    with a linear tail (the library's ``rbf='cubic'`` kind of model) through the ``told`` points and
    their ``values``, evaluated by SciPy's ``RBFInterpolator``, clipped to the range of ``values``.

    ``told`` (k x n) and ``pending`` (m x n) are coordinates in the same units (the search uses the
    unit box); returns m values. A point told more than once (a resumed run) is one node with the
    mean of its values. With fewer distinct told points than a linear tail needs (n + 1), or an
    interpolant that cannot be solved, each pending point gets the value of the nearest told point.
    """
    from scipy.interpolate import RBFInterpolator  # imported by rbfopt already: no start-up cost here

    nodes, index = np.unique(told, axis=0, return_inverse=True)
    index = index.reshape(-1)
    means = np.bincount(index, weights=values) / np.bincount(index)
    try:
        predicted = RBFInterpolator(nodes, means, kernel="cubic", degree=1)(pending)
    except (ValueError, np.linalg.LinAlgError):
        predicted = np.full(len(pending), np.nan)
    if not np.all(np.isfinite(predicted)):
        distances = np.linalg.norm(pending[:, None, :] - nodes[None, :, :], axis=2)
        return means[np.argmin(distances, axis=1)]
    return np.clip(predicted, values.min(), values.max())
