"""space_filling: rbfopt's initial design (maximin Latin hypercube and the centre) without the library."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from hpo_engine.optimizers import space_filling

REAL_5D = (np.full(5, -5.0), np.full(5, 5.0), np.array(["R"] * 5))
MIXED = (np.array([-4.0, 0.0, 0.0]), np.array([-1.0, 7.0, 2.0]), np.array(["R", "I", "C"]))


def design(bounds, seed: int, known=None) -> np.ndarray:
    return np.array(space_filling.initial_design(bounds, known, np.random.default_rng(seed)))


@pytest.mark.parametrize(("dimension", "size"), [(1, 2), (2, 3), (5, 6), (20, 21)])
def test_size_is_one_more_than_the_dimension(dimension: int, size: int) -> None:
    assert space_filling.design_size(dimension) == size


def test_the_centre_comes_first_then_a_latin_hypercube() -> None:
    points = design(REAL_5D, 0)
    assert len(points) == 1 + space_filling.design_size(5)
    assert points[0].tolist() == [0.0] * 5
    lhd = (points[1:] + 5.0) / 10.0  # unit cube
    for column in lhd.T:  # one point in each sixth of every coordinate
        assert sorted(np.floor(column * len(lhd)).astype(int).tolist()) == list(range(len(lhd)))


def test_same_generator_state_same_design_and_another_seed_another() -> None:
    assert np.array_equal(design(MIXED, 7), design(MIXED, 7))
    assert not np.array_equal(design(MIXED, 7), design(MIXED, 8))


def test_discrete_coordinates_are_whole_and_reach_both_ends_alike() -> None:
    counts: Counter[float] = Counter()
    for seed in range(300):
        points = design(MIXED, seed)
        assert np.all(points >= MIXED[0]) and np.all(points <= MIXED[1])
        assert np.array_equal(points[:, 1:], np.around(points[:, 1:]))
        counts.update(points[1:, 2].tolist())  # the categorical index, centre left out
    assert set(counts) == {0.0, 1.0, 2.0}
    # the ends as often as each other (the box widened by half a step before rounding)
    assert min(counts[0.0], counts[2.0]) > 0.8 * max(counts[0.0], counts[2.0])


def test_maximin_spreads_the_points_more_than_one_random_latin_hypercube() -> None:
    chosen, single = [], []
    for seed in range(40):
        points = design(REAL_5D, seed)[1:] / 10.0
        chosen.append(space_filling._smallest_distance(points))
        rng = np.random.default_rng(1000 + seed)
        single.append(space_filling._smallest_distance(space_filling._latin_hypercube(rng, len(points), 5)))
    assert np.median(chosen) > 1.3 * np.median(single)


def test_points_of_an_earlier_run_are_left_out() -> None:
    full = design(REAL_5D, 3)
    known = np.array([full[0], full[2] + 1.0e-9])
    rest = design(REAL_5D, 3, known=known)
    assert len(rest) == len(full) - 2
    assert not any(np.allclose(p, k) for p in rest for k in known)


def test_one_coordinate_gives_both_ends_and_the_centre() -> None:
    points = design((np.array([0.0]), np.array([4.0]), np.array(["I"])), 0)
    assert sorted(points[:, 0].tolist()) == [0.0, 2.0, 4.0]


def test_a_small_grid_gives_distinct_affinely_independent_points() -> None:
    bounds = (np.zeros(3), np.ones(3), np.array(["I", "I", "C"]))  # 8 points in all
    for seed in range(50):
        points = design(bounds, seed)
        assert len({tuple(p) for p in points}) == len(points)
        assert np.linalg.matrix_rank(points[1:] - points[0]) == min(len(points) - 1, 3)


def test_the_design_does_not_import_the_library() -> None:
    code = (
        "import sys, numpy as np\n"
        "from hpo_engine.optimizers import space_filling\n"
        "space_filling.initial_design((np.zeros(4), np.ones(4), np.array(['R', 'R', 'I', 'C'])), None, np.random.default_rng(0))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rbfopt', 'pyomo', 'scipy')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip() == "[]"
