"""RbfoptSearch: quality on Branin, direction, dimension kinds, contained side effects, resume, parallel slots."""

from __future__ import annotations

import io
import math
import subprocess
import sys
import threading

import numpy as np
import pytest

from hpo_engine.errors import OptimizerError
from hpo_engine.optimizers import background_import, rbfopt_library, rbfopt_search, space_filling
from hpo_engine.optimizers.rbfopt_search import THIN_GLOBALS_FROM_PENDING, THINNED_GLOBAL_PERIOD, RbfoptSearch, predicted_values
from hpo_engine.manifest.search_space import DoubleRange, DoubleValues, IntRange, IntValues, SearchSpace, StringValues

BRANIN_OPTIMUM = 0.397887


def branin(point: dict) -> float:
    x1, x2 = point["x1"], point["x2"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def branin_space() -> SearchSpace:
    return SearchSpace([DoubleRange("x1", -5, 10), DoubleRange("x2", 0, 15)])


def run(optimizer: RbfoptSearch, objective, steps: int, parallel: int = 1) -> list[tuple[dict, float | None]]:
    """Ask/tell ``steps`` times with up to ``parallel`` points outstanding (told oldest first)."""
    history: list[tuple[dict, float | None]] = []
    running: list[dict] = []
    try:
        while len(history) < steps:
            while len(running) < parallel and len(history) + len(running) < steps:
                running.append(optimizer.ask())
            point = running.pop(0)
            value = objective(point)
            optimizer.tell(point, value)
            history.append((point, value))
    finally:
        optimizer.close()
    return history


def live_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.is_alive())


def test_reaches_branins_optimal_region_within_40_evaluations() -> None:
    optimizer = RbfoptSearch(branin_space(), maximize=False, seed=0, budget=40)
    history = run(optimizer, branin, 40)
    best = min(v for _, v in history)
    assert best < 0.6, best
    assert best >= BRANIN_OPTIMUM - 1e-9
    assert optimizer.fallback_reason is None
    assert optimizer.model_points == 40


def test_respects_maximize() -> None:
    optimizer = RbfoptSearch(branin_space(), maximize=True, seed=1, budget=40)
    history = run(optimizer, lambda p: -branin(p), 40)
    assert max(v for _, v in history) > -0.6


def test_same_seed_same_points_whatever_the_program_does_with_numpy_meanwhile() -> None:
    def proposals(disturb: bool) -> list[dict]:
        optimizer = RbfoptSearch(branin_space(), maximize=False, seed=5, budget=12)
        points = []
        for _ in range(12):
            if disturb:
                np.random.seed(99)
                np.random.random(100)
            point = optimizer.ask()
            optimizer.tell(point, branin(point))
            points.append(point)
        optimizer.close()
        return points

    assert proposals(False) == proposals(True)


def test_numpy_global_random_state_is_unchanged() -> None:
    np.random.seed(2024)
    expected = np.random.RandomState(2024).random_sample(5)
    run(RbfoptSearch(branin_space(), maximize=False, seed=0, budget=10), branin, 10)
    assert np.array_equal(np.random.random_sample(5), expected)


def test_library_output_goes_to_the_log_stream_not_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    log = io.StringIO()
    run(RbfoptSearch(branin_space(), maximize=False, seed=0, budget=8, log_stream=log), branin, 8)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert "Iter" in log.getvalue() and "Initialization" in log.getvalue()
    run(RbfoptSearch(branin_space(), maximize=False, seed=0, budget=8), branin, 8)  # no log stream: discarded
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_integer_categorical_power_and_fixed_dimensions_give_valid_points() -> None:
    space = SearchSpace(
        [
            DoubleRange("lr", -4, -1, power=10),
            IntRange("units", 4, 9, power=2),
            StringValues("activation", ["relu", "tanh", "sigmoid", "elu"]),
            IntValues("layers", [1, 2, 3]),
            DoubleValues("dropout", [0.0, 0.25, 0.5]),
            DoubleRange("momentum", 0.9, 0.9),
            IntRange("batch", 32, 32),
        ]
    )

    def objective(p: dict) -> float:
        return (
            (math.log10(p["lr"]) + 2.5) ** 2
            + (math.log2(p["units"]) - 7) ** 2
            + (0.0 if p["activation"] == "tanh" else 1.0)
            + abs(p["layers"] - 2)
            + p["dropout"]
        )

    optimizer = RbfoptSearch(space, maximize=False, seed=3, budget=40)
    history = run(optimizer, objective, 40)
    assert all(space.contains(p) for p, _ in history)
    assert all(p["momentum"] == 0.9 and p["batch"] == 32 for p, _ in history)
    assert isinstance(history[0][0]["units"], int) and isinstance(history[0][0]["activation"], str)
    assert min(v for _, v in history) < 1.0


def test_failed_trials_are_told_a_penalty_and_the_search_goes_on() -> None:
    calls = {"n": 0}

    def flaky(point: dict) -> float | None:
        calls["n"] += 1
        return None if calls["n"] % 4 == 0 else branin(point)

    optimizer = RbfoptSearch(branin_space(), maximize=False, seed=0, budget=40)
    history = run(optimizer, flaky, 40)
    assert sum(v is None for _, v in history) == 10
    assert all(branin_space().contains(p) for p, _ in history)
    assert min(v for _, v in history if v is not None) < 2.0  # failures anywhere blur the model; it still searches
    assert optimizer.fallback_reason is None


def test_warm_start_uses_finished_trials_and_does_not_repeat_them() -> None:
    space = branin_space()
    # seed 2: a first half far from the optimum (best 1.9), interrupted after 15 of 30
    first = run(RbfoptSearch(space, maximize=False, seed=2, budget=30), branin, 15)
    resumed = RbfoptSearch(space, maximize=False, seed=2, budget=30)
    resumed.warm_start(first)
    rest = run(resumed, branin, 15)
    seen = {tuple(p.values()) for p, _ in first}
    assert not any(tuple(p.values()) in seen for p, _ in rest)
    assert resumed.model_points == 15
    best_first = min(v for _, v in first)
    assert min(v for _, v in rest) < min(best_first, 0.7)

    fresh = run(RbfoptSearch(space, maximize=False, seed=2, budget=15), branin, 1)
    assert fresh[0][0] != rest[0][0]  # the resumed run did not start from a fresh initial design


def test_warm_start_after_ask_is_refused() -> None:
    optimizer = RbfoptSearch(branin_space(), maximize=False, seed=0, budget=10)
    optimizer.ask()
    with pytest.raises(OptimizerError, match="before the first ask"):
        optimizer.warm_start([])
    optimizer.close()


def test_parallel_slots_get_distinct_points_of_the_model() -> None:
    optimizer = RbfoptSearch(branin_space(), maximize=False, seed=0, budget=40)
    first, second = optimizer.ask(), optimizer.ask()
    assert first != second
    optimizer.tell(second, branin(second))
    optimizer.tell(first, branin(first))
    run(optimizer, branin, 38, parallel=4)
    assert optimizer.model_points == 40  # every slot: the initial design, then the model (no random point)

    bests = []
    for seed in range(5):
        history = run(RbfoptSearch(branin_space(), maximize=False, seed=seed, budget=40), branin, 40, parallel=2)
        bests.append(min(v for _, v in history))
    assert float(np.median(bests)) < 0.7, bests


def _is_global(step: int | None) -> bool:
    return step is not None and not rbfopt_library.CYCLE[step][1]


def test_serial_proposals_walk_the_librarys_cycle_unchanged() -> None:
    optimizer = RbfoptSearch(branin_space(), maximize=False, seed=1, budget=30)
    steps = []
    for _ in range(30):
        point = optimizer.ask()
        steps.append(optimizer.pending_steps[0])
        optimizer.tell(point, branin(point))
    model_steps = [s for s in steps if s is not None]
    assert len(model_steps) > 20
    assert model_steps == [i % len(rbfopt_library.CYCLE) for i in range(len(model_steps))]


MIXED_SPACE = "SearchSpace([DoubleRange('lr', -4, -1, power=10), IntRange('units', 16, 128, step=16), StringValues('act', ['relu', 'tanh', 'elu'])])"


def test_every_design_point_is_proposed_without_the_library_which_imports_meanwhile() -> None:
    # a fresh interpreter whose `import rbfopt` waits until the gate opens: four slots get the
    # design's first four points (the centre first), with the library not imported
    code = (
        "import importlib.abc, sys, threading\n"
        "from hpo_engine.manifest.search_space import DoubleRange, IntRange, SearchSpace, StringValues\n"
        "from hpo_engine.optimizers.rbfopt_search import RbfoptSearch\n"
        f"o = RbfoptSearch({MIXED_SPACE}, maximize=False, seed=0, budget=20)\n"
        "gate = threading.Event()\n"
        "class Gate(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'rbfopt':\n"
        "            gate.wait()\n"
        "        return None\n"
        "sys.meta_path.insert(0, Gate())\n"
        "slots = [o.ask() for _ in range(4)]\n"
        "print(slots[0])\n"
        "print(o.pending_steps, 'rbfopt.rbfopt_algorithm' in sys.modules, [t.name for t in threading.enumerate() if t.name.startswith('hpo-import')])\n"
        "gate.set()\n"
        "for p in slots + [o.ask(), o.ask()]:\n"
        "    o.tell(p, p['lr'] * p['units'])\n"
        "o.ask()\n"
        "print(o.pending_steps)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout.splitlines()
    assert out[0] == "{'lr': 0.0031622776601683794, 'units': 80, 'act': 'tanh'}"  # 10**-2.5; index 3.5 of 0..7 rounded half to even; the middle choice
    assert out[1] == "[None, None, None, None] False ['hpo-import-rbfopt']"  # design points; the import waits at the gate
    assert out[2] == "[0]"  # six trials told: the model's first point (step 0 of the cycle), the library imported


def test_the_design_holds_the_centre_once_then_the_model_proposes() -> None:
    space = SearchSpace([DoubleRange("lr", -4, -1, power=10), IntRange("units", 16, 128, step=16)])
    optimizer = RbfoptSearch(space, maximize=False, seed=2, budget=30)
    design_size = 1 + space_filling.design_size(2)
    assert design_size == 4  # the centre and a Latin hypercube of three: the model can follow at once
    points, steps = [], []
    for _ in range(design_size + 3):
        point = optimizer.ask()
        steps.append(optimizer.pending_steps[0])
        optimizer.tell(point, math.log10(point["lr"]) ** 2 + point["units"] / 100)
        points.append(point)
    assert points[0] == {"lr": 10**-2.5, "units": 80}
    assert all(p != points[0] for p in points[1:design_size])  # the centre once
    assert steps[:design_size] == [None] * design_size
    assert all(s is not None for s in steps[design_size:])  # no extra design point: the model takes over
    optimizer.close()


@pytest.mark.parametrize("parallel", [2, 4])
def test_parallel_slots_keep_one_global_step_in_flight_the_others_refine(parallel: int) -> None:
    optimizer = RbfoptSearch(branin_space(), maximize=False, seed=2, budget=40)
    running: list[dict] = []
    seen_local_stacked = False
    told = 0
    while told < 40:
        while len(running) < parallel and told + len(running) < 40:
            running.append(optimizer.ask())
            steps = optimizer.pending_steps
            assert sum(_is_global(s) for s in steps) <= 1, steps  # MAX_GLOBAL_PENDING
            seen_local_stacked |= sum(s is not None and not _is_global(s) for s in steps) >= 2
        point = running.pop(0)
        optimizer.tell(point, branin(point))
        told += 1
    optimizer.close()
    assert optimizer.pending_steps == []
    if parallel == 4:
        assert seen_local_stacked  # three slots refine around the best point at once


def test_a_small_finite_space_is_covered_without_repeats_then_exhausted() -> None:
    space = SearchSpace([IntValues("a", [1, 2, 3]), StringValues("b", ["x", "y"])])
    optimizer = RbfoptSearch(space, maximize=False, seed=0, budget=10)
    points = [optimizer.ask() for _ in range(1)]
    optimizer.tell(points[0], 1.0)
    for i in range(5):
        point = optimizer.ask()
        optimizer.tell(point, float(i))
        points.append(point)
    assert len({tuple(p.values()) for p in points}) == 6
    with pytest.raises(OptimizerError, match="the grid of 6 points is exhausted"):
        optimizer.ask()
    optimizer.close()


def test_too_few_steps_for_a_model_fall_back_to_random_search() -> None:
    log = io.StringIO()
    optimizer = RbfoptSearch(branin_space(), maximize=False, seed=0, budget=2, log_stream=log)
    history = run(optimizer, branin, 2)
    assert optimizer.fallback_reason is not None and "too few" in optimizer.fallback_reason
    assert "random search" in log.getvalue()
    assert all(branin_space().contains(p) for p, _ in history)


def test_no_thread_is_left_and_a_closed_optimizer_refuses_to_ask() -> None:
    warm_up = background_import.start("rbfopt")  # the library imported first: its own threads are the subject
    if warm_up is not None:
        warm_up.join()
    before = live_threads()
    optimizer = RbfoptSearch(branin_space(), maximize=False, seed=0, budget=20)
    point = optimizer.ask()
    optimizer.ask()  # a second slot while the first is pending
    optimizer.tell(point, branin(point))
    optimizer.ask()
    assert live_threads() == before
    optimizer.close()
    with pytest.raises(OptimizerError, match="closed"):
        optimizer.ask()


def test_a_warm_started_finite_space_stops_when_every_point_is_done() -> None:
    space = SearchSpace([IntValues("a", [1, 2, 3, 4]), StringValues("b", ["x", "y", "z"])])
    history = [(p, float(i)) for i, p in enumerate(space.points()) if i != 5]
    optimizer = RbfoptSearch(space, maximize=False, seed=0, budget=20)
    optimizer.warm_start(history)
    assert optimizer.ask() == space.point_at(5)
    with pytest.raises(OptimizerError, match="the grid of 12 points is exhausted"):
        optimizer.ask()
    optimizer.close()


def test_the_process_exits_even_when_close_is_never_called() -> None:
    code = (
        "from hpo_engine.optimizers.rbfopt_search import RbfoptSearch\n"
        "from hpo_engine.manifest.search_space import DoubleRange, SearchSpace\n"
        "o = RbfoptSearch(SearchSpace([DoubleRange('x', 0, 1), DoubleRange('y', 0, 1)]), maximize=False, seed=0, budget=9)\n"
        "p = o.ask(); o.tell(p, 1.0); o.ask()\n"
        "print('asked')\n"
    )
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "asked\n"


@pytest.mark.parametrize("batches", [False, True], ids=["slots-free-one-by-one", "slots-free-all-at-once"])
def test_the_thinned_global_steps_fall_on_multiples_of_the_period_at_four_slots(batches: bool) -> None:
    optimizer = RbfoptSearch(branin_space(), maximize=False, seed=3, budget=70)
    running: list[dict] = []
    proposals = 0  # model proposals so far
    wide = False  # THIN_GLOBALS_FROM_PENDING model points have been pending at a time
    thinned_globals, thinned_locals = [], 0
    told = 0
    while told < 70:
        while len(running) < 4 and told + len(running) < 70:
            model_pending = sum(s is not None for s in optimizer.pending_steps)
            wide |= model_pending >= THIN_GLOBALS_FROM_PENDING
            running.append(optimizer.ask())
            step = optimizer.pending_steps[-1]
            if step is None:
                continue
            if wide:
                if _is_global(step):
                    thinned_globals.append(proposals)
                else:
                    thinned_locals += 1
            proposals += 1
        for point in running if batches else running[:1]:
            optimizer.tell(point, branin(point))
            told += 1
        running = [] if batches else running[1:]
    optimizer.close()
    assert thinned_globals and all(n % THINNED_GLOBAL_PERIOD == 0 for n in thinned_globals), thinned_globals
    assert thinned_locals > 3 * len(thinned_globals)


def test_pending_points_stand_in_with_the_models_prediction(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    def recording(told: np.ndarray, values: np.ndarray, pending: np.ndarray) -> np.ndarray:
        calls.append((len(told), len(pending)))
        return predicted_values(told, values, pending)

    monkeypatch.setattr(rbfopt_search, "predicted_values", recording)
    run(RbfoptSearch(branin_space(), maximize=False, seed=0, budget=20), branin, 20, parallel=3)
    assert calls and all(p == 2 for _, p in calls[1:-2]), calls  # two others pending at each model proposal
    assert all(told >= 1 for told, _ in calls)


def test_predicted_values_reproduce_a_linear_function_and_stay_within_the_values_seen() -> None:
    rng = np.random.default_rng(0)
    told = rng.random((8, 3))
    values = told @ np.array([1.0, 2.0, 3.0]) + 1.0
    inside = 0.2 + 0.5 * rng.random((4, 3))
    assert np.allclose(predicted_values(told, values, inside), inside @ np.array([1.0, 2.0, 3.0]) + 1.0)  # the linear tail
    far = np.array([[5.0, 5.0, 5.0], [-5.0, -5.0, -5.0]])
    assert np.allclose(predicted_values(told, values, far), [values.max(), values.min()])  # clipped to the values seen


def test_predicted_values_fall_back_to_the_nearest_value_and_merge_repeated_points() -> None:
    told = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])  # fewer than n + 1 = 4 points: no linear tail
    assert predicted_values(told, np.array([3.0, 7.0]), np.array([[0.1, 0.2, 0.0], [0.9, 0.8, 1.0]])).tolist() == [3.0, 7.0]
    rng = np.random.default_rng(1)
    told = rng.random((6, 2))
    repeated = np.vstack([told, told[:1]])  # a point told twice (a resumed run): one node with the mean
    values = np.append(told.sum(axis=1), told[0].sum() + 1.0)
    predicted = predicted_values(repeated, values, rng.random((3, 2)))
    assert np.all(np.isfinite(predicted)) and np.all(predicted <= values.max()) and np.all(predicted >= values.min())
    assert np.isclose(predicted_values(repeated, values, told[:1])[0], told[0].sum() + 0.5)
