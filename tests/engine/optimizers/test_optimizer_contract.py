"""The optimizer contract: every method of ``hpo_engine.optimizers.METHODS`` passes this suite.

In the manner of optuna's storage tests: one parametrized suite, so a new method inherits it by
its row in the method table. ask/tell, seeded determinism, values inside the declared ranges and
on their steps, no repeats on finite spaces (serial and with several points pending), failed
trials, resume from told trials.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from hpo_engine.errors import OptimizerError
from hpo_engine.manifest.methods import METHOD_SPECS
from hpo_engine.manifest.search_space import DoubleRange, DoubleValues, IntRange, IntValues, SearchSpace, StringValues
from hpo_engine.optimizers import METHODS, make_optimizer
from hpo_engine.optimizers.base import Optimizer

METHOD_NAMES = list(METHODS)


def finite_space() -> SearchSpace:
    """24 points of every finite kind, one pinned."""
    return SearchSpace(
        [
            DoubleRange("lr", 0.1, 0.3, step=0.1),
            IntRange("units", 8, 16, step=8),
            IntRange("filters", 1, 2, power=2),
            StringValues("act", ["relu", "tanh"]),
            DoubleValues("drop", [0.0, 0.5]),
            IntValues("pinned", [7]),
        ]
    )


def mixed_space() -> SearchSpace:
    """Continuous, log-scaled continuous, stepped, integer and categorical dimensions."""
    return SearchSpace(
        [
            DoubleRange("x", -2.0, 3.0),
            DoubleRange("lr", -4, -1, power=10),
            DoubleRange("stepped", 0.0, 1.0, step=0.25),
            IntRange("n", 1, 9),
            StringValues("act", ["relu", "tanh", "sigmoid"]),
            IntValues("pinned", [3]),
        ]
    )


def space_for(method: str) -> SearchSpace:
    return finite_space() if METHOD_SPECS[method].needs_finite_space else mixed_space()


def objective(point: Mapping[str, Any]) -> float:
    """A smooth function of every dimension (categorical ones by their position)."""
    total = 0.0
    for name, value in sorted(point.items()):
        number = float(len(value)) if isinstance(value, str) else float(value)
        total += (math.log10(number) if name == "lr" else number) ** 2 * (1 + len(name) % 3)
    return total


def make(method: str, space: SearchSpace, *, seed: int | None = 0, budget: int = 12) -> Optimizer:
    return make_optimizer(method, space, maximize=False, seed=seed, budget=budget)


def drive(optimizer: Optimizer, steps: int, *, parallel: int = 1, fail: Callable[[int], bool] = lambda i: False) -> list[dict[str, Any]]:
    """Ask/tell ``steps`` times with up to ``parallel`` points pending, told oldest first."""
    asked: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    told = 0
    while told < steps:
        while len(pending) < parallel and len(asked) < steps:
            point = optimizer.ask()
            asked.append(point)
            pending.append(point)
        point = pending.pop(0)
        optimizer.tell(point, None if fail(told) else objective(point))
        told += 1
    return asked


def key(point: Mapping[str, Any]) -> tuple:
    return tuple(sorted(point.items()))


@pytest.fixture(params=METHOD_NAMES)
def method(request: pytest.FixtureRequest) -> str:
    return request.param


def test_points_have_every_dimension_inside_its_declared_values(method: str) -> None:
    space = space_for(method)
    optimizer = make(method, space)
    try:
        for point in drive(optimizer, 10):
            assert set(point) == set(space.names)
            for dimension in space:
                assert dimension.contains(point[dimension.name]), (dimension, point[dimension.name])
            assert point["pinned"] == space["pinned"].value_at(0)
    finally:
        optimizer.close()


def test_stepped_and_integer_values_lie_on_their_grid(method: str) -> None:
    space = space_for(method)
    optimizer = make(method, space)
    try:
        for point in drive(optimizer, 10):
            for dimension in space:
                if dimension.is_finite:
                    assert dimension.value_at(dimension.index_of(point[dimension.name])) == point[dimension.name]
            assert isinstance(point[next(d.name for d in space if isinstance(d, IntRange))], int)
    finally:
        optimizer.close()


def test_same_seed_same_points(method: str) -> None:
    runs = []
    for _ in range(2):
        optimizer = make(method, space_for(method), seed=42)
        try:
            runs.append([key(p) for p in drive(optimizer, 10)])
        finally:
            optimizer.close()
    assert runs[0] == runs[1]


def test_no_repeats_on_a_finite_space_until_it_is_exhausted(method: str) -> None:
    space = finite_space()
    optimizer = make(method, space, budget=space.size)
    try:
        points = [key(p) for p in drive(optimizer, space.size)]
    finally:
        optimizer.close()
    assert len(points) == len(set(points)) == space.size


def test_no_duplicates_among_pending_points(method: str) -> None:
    space = finite_space()
    optimizer = make(method, space, budget=16)
    try:
        points = [key(p) for p in drive(optimizer, 16, parallel=4)]
    finally:
        optimizer.close()
    assert len(points) == len(set(points))


def test_failed_trials_are_accepted(method: str) -> None:
    optimizer = make(method, space_for(method))
    try:
        points = drive(optimizer, 10, fail=lambda i: i % 3 == 1)
    finally:
        optimizer.close()
    assert len(points) == 10


def test_resume_from_told_trials_never_proposes_them_again_on_a_finite_space(method: str) -> None:
    space = finite_space()
    first = make(method, space, seed=1, budget=space.size)
    try:
        history = [(p, objective(p)) for p in drive(first, 8)]
    finally:
        first.close()
    resumed = make(method, space, seed=1, budget=space.size)
    try:
        resumed.warm_start([(p, v if i % 4 else None) for i, (p, v) in enumerate(history)])
        later = [key(p) for p in drive(resumed, space.size - len(history))]
    finally:
        resumed.close()
    done = {key(p) for p, _ in history}
    assert not done & set(later)
    assert len(done | set(later)) == space.size


def test_resume_on_a_continuous_space_keeps_proposing_valid_points(method: str) -> None:
    if METHOD_SPECS[method].needs_finite_space:
        pytest.skip(f"{method} searches finite spaces only")
    space = mixed_space()
    first = make(method, space, seed=3, budget=14)
    try:
        history = [(p, objective(p)) for p in drive(first, 7)]
    finally:
        first.close()
    resumed = make(method, space, seed=3, budget=14)
    try:
        resumed.warm_start(history)
        later = drive(resumed, 7)
    finally:
        resumed.close()
    assert all(space[d.name].contains(p[d.name]) for p in later for d in space)
    assert not {key(p) for p, _ in history} & {key(p) for p in later}


def test_an_exhausted_finite_space_raises_optimizer_error(method: str) -> None:
    space = SearchSpace([IntValues("a", [1, 2])])
    optimizer = make(method, space, budget=2)
    try:
        drive(optimizer, 2)
        with pytest.raises(OptimizerError):
            optimizer.ask()
    finally:
        optimizer.close()


def test_close_twice_is_harmless(method: str) -> None:
    optimizer = make(method, space_for(method))
    optimizer.close()
    optimizer.close()


def test_pruned_trials_are_told_and_resumed_from(method: str) -> None:
    """A trial stopped early is told through tell_pruned, and a warm start takes ``(point, value, "pruned")`` items."""
    space = finite_space()
    first = make(method, space, seed=5, budget=space.size)
    try:
        points = [first.ask() for _ in range(3)]
        first.tell(points[0], objective(points[0]))
        first.tell_pruned(points[1], objective(points[1]), 2.0)
        first.tell(points[2], None)
        later = first.ask()
    finally:
        first.close()
    assert key(later) not in {key(p) for p in points}
    resumed = make(method, space, seed=5, budget=space.size)
    try:
        resumed.warm_start([(points[0], 1.0), (points[1], 2.0, "pruned"), (points[2], None)])
        assert key(resumed.ask()) not in {key(p) for p in points}
    finally:
        resumed.close()
