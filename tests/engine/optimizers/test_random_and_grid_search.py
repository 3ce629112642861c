"""Random and grid search: no repeats, exhaustion, order, seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpo_engine.errors import OptimizerError
from hpo_engine.optimizers import make_optimizer
from hpo_engine.optimizers.grid_search import GridSearch
from hpo_engine.optimizers.random_search import RandomSearch
from hpo_engine.manifest.search_space import DoubleRange, IntRange, IntValues, SearchSpace, StringValues


def small_grid() -> SearchSpace:
    return SearchSpace([IntRange("units", 0, 3), StringValues("act", ["relu", "tanh", "sigmoid"])])


def test_random_never_repeats_and_stops_when_the_grid_is_exhausted() -> None:
    space = small_grid()
    optimizer = RandomSearch(space, maximize=False, seed=1)
    points = [optimizer.ask() for _ in range(12)]
    assert all(space.contains(p) for p in points)
    assert len({space.index_of(p) for p in points}) == 12
    with pytest.raises(OptimizerError, match="the grid of 12 points is exhausted"):
        optimizer.ask()


def test_random_never_repeats_on_a_grid_too_large_to_shuffle() -> None:
    space = SearchSpace([IntRange("a", 0, 2047), IntRange("b", 0, 1023), IntValues("c", [1, 2])])  # 4,194,304 points
    optimizer = RandomSearch(space, maximize=False, seed=3)
    indices = [space.index_of(optimizer.ask()) for _ in range(3000)]
    assert len(set(indices)) == 3000


def test_random_is_reproducible_with_a_seed_and_leaves_numpy_global_state_alone() -> None:
    space = SearchSpace([DoubleRange("lr", -4, -1, power=10), IntRange("units", 4, 9, power=2), StringValues("act", ["a", "b"])])
    np.random.seed(7)
    before = np.random.get_state()
    first = [RandomSearch(space, maximize=False, seed=42).ask() for _ in range(1)]
    a = RandomSearch(space, maximize=False, seed=42)
    b = RandomSearch(space, maximize=False, seed=42)
    c = RandomSearch(space, maximize=False, seed=43)
    seq_a = [a.ask() for _ in range(20)]
    assert seq_a == [b.ask() for _ in range(20)]
    assert seq_a != [c.ask() for _ in range(20)]
    assert first[0] == seq_a[0]
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]


def test_random_is_log_uniform_on_a_continuous_power_range() -> None:
    space = SearchSpace([DoubleRange("lr", -4, 0, power=10)])
    optimizer = RandomSearch(space, maximize=False, seed=0)
    exponents = [math.log10(optimizer.ask()["lr"]) for _ in range(2000)]
    assert all(-4 - 1e-9 <= e <= 1e-9 for e in exponents)
    assert abs(float(np.median(exponents)) + 2) < 0.2
    assert 0.2 < float(np.mean(np.array(exponents) < -3)) < 0.3


def test_random_warm_start_skips_points_already_evaluated() -> None:
    space = SearchSpace([IntValues("n", [1, 2, 3, 4])])
    optimizer = RandomSearch(space, maximize=True, seed=0)
    optimizer.warm_start([({"n": 2}, 0.5), ({"n": 4}, None)])
    assert sorted(optimizer.ask()["n"] for _ in range(2)) == [1, 3]
    with pytest.raises(OptimizerError, match="exhausted"):
        optimizer.ask()


def test_grid_covers_every_point_in_order_then_stops() -> None:
    space = small_grid()
    optimizer = GridSearch(space, maximize=False)
    assert [optimizer.ask() for _ in range(12)] == list(space.points())
    with pytest.raises(OptimizerError, match="the grid of 12 points is exhausted"):
        optimizer.ask()


def test_grid_refuses_a_continuous_dimension_and_names_it() -> None:
    space = SearchSpace([IntRange("units", 1, 3), DoubleRange("lr", 0.001, 0.1)])
    with pytest.raises(OptimizerError, match="'lr' is continuous"):
        GridSearch(space, maximize=False)
    with pytest.raises(OptimizerError, match="'lr'"):
        make_optimizer("grid", space, maximize=False, seed=None, budget=None)


def test_grid_accepts_a_stepped_double_range_and_a_single_value() -> None:
    space = SearchSpace([DoubleRange("lr", 0.005, 0.01, step=0.001), DoubleRange("fixed", 2.0, 2.0)])
    optimizer = GridSearch(space, maximize=False)
    assert [optimizer.ask()["lr"] for _ in range(6)] == [0.005, 0.006, 0.007, 0.008, 0.009, 0.01]


def test_grid_warm_start_continues_with_the_first_point_not_done() -> None:
    space = SearchSpace([IntRange("a", 0, 4)])
    optimizer = GridSearch(space, maximize=False)
    optimizer.warm_start([({"a": 0}, 1.0), ({"a": 1}, None), ({"a": 3}, 2.0)])
    assert [optimizer.ask()["a"] for _ in range(2)] == [2, 4]
    with pytest.raises(OptimizerError):
        optimizer.ask()


def test_make_optimizer_builds_each_method_by_name() -> None:
    space = small_grid()
    assert isinstance(make_optimizer("random", space, maximize=False, seed=0, budget=5), RandomSearch)
    assert isinstance(make_optimizer("grid", space, maximize=False, seed=0, budget=5), GridSearch)
    optimizer = make_optimizer("rbfopt", space, maximize=False, seed=0, budget=5)
    assert optimizer.name == "rbfopt"
    optimizer.close()
    with pytest.raises(OptimizerError, match="unknown optimization method 'no-such-method'"):
        make_optimizer("no-such-method", space, maximize=False, seed=0, budget=5)


def test_random_warm_start_on_a_continuous_space_continues_the_seeded_sequence() -> None:
    space = SearchSpace([DoubleRange("x", 0.0, 1.0)])
    uninterrupted = RandomSearch(space, maximize=False, seed=3)
    first = [uninterrupted.ask() for _ in range(2)]
    later = [uninterrupted.ask() for _ in range(2)]
    resumed = RandomSearch(space, maximize=False, seed=3)
    resumed.warm_start([(point, 1.0) for point in first])
    assert [resumed.ask() for _ in range(2)] == later


def test_random_on_a_dimension_beyond_int64_draws_valid_points() -> None:
    space = SearchSpace([IntRange("x", 0, 10**20)])
    search = RandomSearch(space, maximize=False, seed=1)
    points = [search.ask() for _ in range(5)]
    assert all(space.contains(p) for p in points)
    assert len({p["x"] for p in points}) == 5
