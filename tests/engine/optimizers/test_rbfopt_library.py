"""rbfopt_library: the cycle's local steps stay in the library's box, BLAS limits are restored, calls are deterministic."""

from __future__ import annotations

import io

import numpy as np
from threadpoolctl import threadpool_info

from hpo_engine.optimizers import rbfopt_library

BOUNDS = (np.array([0.0, 0.0]), np.array([10.0, 10.0]), np.array(["R", "R"]))
#: A box around the best node: the library's local box is a third of the range times 0.5 on each side.
HALF_WIDTH = 0.5 * 0.33 * 10.0


def nodes() -> tuple[np.ndarray, np.ndarray]:
    """Nodes away from the corner (0, 0), values falling towards it: the model's minimum is far from the best node."""
    rng = np.random.default_rng(3)
    positions = rng.uniform(4.0, 10.0, size=(12, 2))
    return positions, positions.sum(axis=1)


def propose(step: int, seed: int = 0) -> np.ndarray:
    positions, values = nodes()
    point = rbfopt_library.propose(BOUNDS, positions, values, seed=seed, cycle_step=step, log=io.StringIO())
    assert point is not None
    return point


def test_local_steps_of_the_cycle_stay_in_the_box_around_the_best_node() -> None:
    positions, values = nodes()
    best = positions[int(np.argmin(values))]
    local_steps = [i for i, (_, local) in enumerate(rbfopt_library.CYCLE) if local]
    assert local_steps
    for step in local_steps:
        for seed in range(3):
            point = propose(step, seed)
            assert np.all(np.abs(point - best) <= HALF_WIDTH + 1e-9), (step, seed, point, best)
    # the global steps search the whole box: the model pulls them towards the corner, out of that box
    global_points = [propose(i, seed) for i, (_, local) in enumerate(rbfopt_library.CYCLE) if not local for seed in range(3)]
    assert any(np.any(np.abs(p - best) > HALF_WIDTH) for p in global_points), global_points


def test_settings_walk_the_cycle() -> None:
    settings = [rbfopt_library.rbfopt_settings(seed=0, cycle_step=i, use_solvers=False) for i in range(2 * len(rbfopt_library.CYCLE))]
    for i, s in enumerate(settings):
        kappa, local = rbfopt_library.CYCLE[i % len(rbfopt_library.CYCLE)]
        assert s["num_global_searches"] == kappa
        assert (s["local_search_threshold"] >= 1.0) == local
        assert s["do_local_search"] is False and s["algorithm"] == "MSRSM"


def test_same_seed_same_point_and_blas_limits_restored_after_a_call() -> None:
    before = [(i["user_api"], i["num_threads"]) for i in threadpool_info()]
    assert np.array_equal(propose(0, seed=7), propose(0, seed=7))
    assert [(i["user_api"], i["num_threads"]) for i in threadpool_info()] == before
