"""The initial design of method ``rbfopt``: RBFOpt's ``lhd_maximin`` strategy, computed with numpy alone.

RBFOpt documents its default initial design (``init_strategy='lhd_maximin'``,
``init_include_midpoint=True``, ``init_sample_fraction`` automatic): the best of
:data:`CANDIDATES` random Latin hypercube designs (the one whose closest two points are farthest
apart), integer coordinates rounded so that every integer is equally likely, and the centre of
the box (the number of points: :data:`SAMPLE_FRACTION`); a design whose points are not independent enough is drawn again. :func:`initial_design`
builds the same kind of design here, without importing the library (pyomo, about 1.5 s of CPU):
so every point of the design, whatever the number of parallel slots, is proposed at once, while
the library is imported on a thread for the model's first point
(:mod:`~hpo_engine.optimizers.background_import`). It draws from the caller's own
``numpy.random.Generator``: the same seed gives the same design.

Coordinates are the library's (see :class:`~hpo_engine.manifest.search_space.Encoding`): ``'R'``
real, ``'I'`` integer, ``'C'`` categorical (the 0-based index of a value; the library too builds
its design on the index before expanding it). Distances are measured in the unit box (each
coordinate divided by its range).
"""

from __future__ import annotations

import numpy as np

__all__ = ["initial_design", "midpoint", "design_size", "unit_span", "SAMPLE_FRACTION", "CANDIDATES", "MAX_DRAWS", "MIN_DISTANCE"]

#: Latin hypercube points per ``dimension + 1``: the library's automatic ``init_sample_fraction``
#: with more than 2 CPUs (up to 20 coordinates). With one CPU the library takes 0.5; 1.0 was
#: better here serially on Ackley-5, Branin, Hartmann6 and kridge and at ``--parallel 4`` on
#: Hartmann6, mixed and kridge, worse at ``--parallel 4`` on Branin (docs/benchmarks/search-quality.md, run 5).
SAMPLE_FRACTION = 1.0
#: Random Latin hypercube designs compared for the largest smallest distance (the library's ``num_trials``).
CANDIDATES = 50
#: Designs drawn at most until one is affinely independent (the library's ``max_random_init``).
MAX_DRAWS = 50
#: Two points closer than this in the unit box count as the same point (the library's ``min_dist``).
MIN_DISTANCE = 1.0e-5

Bounds = tuple[np.ndarray, np.ndarray, np.ndarray]


def midpoint(bounds: Bounds) -> np.ndarray:
    """The centre of the box, integer and categorical coordinates rounded with ``np.around``
    (half to even), as the library computes it."""
    lower, upper, types = bounds
    centre = (lower + upper) / 2
    discrete = types != "R"
    centre[discrete] = np.around(centre[discrete])
    return centre


def design_size(dimension: int) -> int:
    """Latin hypercube points besides the centre for ``dimension`` coordinates:
    :data:`SAMPLE_FRACTION` of ``dimension + 1``, at least 2."""
    return int(max(2, round((dimension + 1) * SAMPLE_FRACTION)))


def unit_span(bounds: Bounds) -> np.ndarray:
    """The width of each coordinate's range, 1 for a coordinate with a single value: dividing by
    it measures in the unit box."""
    lower, upper, _ = bounds
    return np.where(upper > lower, upper - lower, 1.0)


def _latin_hypercube(rng: np.random.Generator, size: int, dimension: int) -> np.ndarray:
    """``size`` points in the unit cube, one in each of ``size`` equal slices of every coordinate."""
    slices = np.stack([rng.permutation(size) for _ in range(dimension)], axis=1)
    return (slices + rng.random((size, dimension))) / size


def _smallest_distance(points: np.ndarray) -> float:
    differences = points[:, None, :] - points[None, :, :]
    distances = np.sqrt((differences**2).sum(axis=2))
    return float(distances[np.triu_indices(len(points), 1)].min())


def _maximin(rng: np.random.Generator, bounds: Bounds, size: int) -> np.ndarray:
    """The best of :data:`CANDIDATES` Latin hypercubes, scaled into the box and rounded."""
    lower, upper, types = bounds
    if len(lower) == 1:
        return np.array([lower, upper], dtype=float)  # one coordinate: both ends, as the library does
    unit = max((_latin_hypercube(rng, size, len(lower)) for _ in range(CANDIDATES)), key=_smallest_distance)
    # discrete coordinates: the box widened by just under half a step on each side, so rounding
    # gives the end values as often as the inner ones
    shift = np.where(types != "R", 0.499, 0.0)
    points = lower - shift + unit * (upper - lower + 2 * shift)
    discrete = types != "R"
    points[:, discrete] = np.around(points[:, discrete])
    return np.clip(points, lower, upper)


def _independent(points: np.ndarray, bounds: Bounds) -> bool:
    """True when the points are distinct and affinely independent (as many as the dimension allows)."""
    unit = points / unit_span(bounds)
    if len(unit) > 1 and _smallest_distance(unit) <= MIN_DISTANCE:
        return False
    rank = np.linalg.matrix_rank(unit[1:] - unit[0], tol=1.0e-6) if len(unit) > 1 else 0
    return bool(rank == min(len(unit) - 1, unit.shape[1]))


def initial_design(bounds: Bounds, known: np.ndarray | None, rng: np.random.Generator) -> list[np.ndarray]:
    """The points to evaluate first, the centre of the box first (library coordinates).

    ``known``: positions evaluated already (rows; an earlier run's trials), left out of the design
    when one of its points is within :data:`MIN_DISTANCE` of them. ``rng`` is the caller's
    generator (the same state gives the same design)."""
    centre = midpoint(bounds)
    size = design_size(len(centre))
    design = np.vstack([centre, _maximin(rng, bounds, size)])
    for _ in range(MAX_DRAWS - 1):
        if _independent(design, bounds):
            break
        design = np.vstack([centre, _maximin(rng, bounds, size)])
    span = unit_span(bounds)
    chosen: list[np.ndarray] = []
    taken = [] if known is None or len(known) == 0 else [np.asarray(k, dtype=float) for k in known]
    for point in design:
        if all(np.linalg.norm((point - other) / span) > MIN_DISTANCE for other in taken):
            chosen.append(point)
            taken.append(point)
    return chosen
