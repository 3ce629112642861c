"""One call of RBFOpt (COIN-OR ``rbfopt``) per proposal, through its documented interface only.

The library has no ask/tell API: ``RbfoptAlgorithm(settings, black_box, init_node_pos,
init_node_val, do_init_strategy).optimize()`` calls the black box's ``evaluate(x)``. Here each
call builds a fresh algorithm and stops it after one evaluation (``max_evaluations=1``), so
``evaluate`` is handed the point the library proposes and returns at once: :func:`propose`, one
point of the main loop, from a model built on the given nodes (the finished trials and, with a
lie value, the pending ones), ``do_init_strategy=False``. (The initial design is not asked of
the library: :mod:`~hpo_engine.optimizers.space_filling` builds it without the import.)

Settings (solver-free unless ``bonmin`` and ``ipopt`` are on ``PATH``): ``algorithm='MSRSM'``,
``global_search_method='genetic'``, ``do_local_search`` only with the solvers, ``rbf='cubic'``
(a fixed basis: the automatic choice cross-validates the model at the start of every cycle,
whose cost grows with the 4th power of the number of nodes), ``max_iterations``
:data:`MAX_ITERATIONS` (search steps whose point is too close to a node are discarded: a proposal
gives up after that many), ``max_clock_time`` :data:`MAX_SECONDS`, and a genetic-search population that shrinks as the model
grows (:func:`population`). The library's cycle of
global searches (distance weight ``1 - h/kappa`` at step ``h`` of ``kappa``, the search restricted
to a box around the best node once ``(1 - (h-1)/kappa)**2`` is at most ``local_search_threshold``)
is followed by the caller through ``num_global_searches`` and ``local_search_threshold``: a fresh
algorithm runs step ``h = 1``, so the steps of :data:`CYCLE` give the weights 0.8 and 0.5 over the
whole box, then 0.05 twice in the library's local box (``local_search_box_scaling``, a third of
the range on each side, scaled by 0.5) around the best point, as the library's own cycle ends with
box-restricted steps (chosen on Branin, Hartmann6, Ackley-5 and the mixed space among a few
cycles, see docs/benchmarks/search-quality.md).

Cost: the RBF model is one dense linear solve per call; on a loaded machine a multi-threaded BLAS
made that solve the bulk of a proposal (0.4 s at 200 nodes), so every call runs with the BLAS
limited to one thread (``threadpoolctl``, restored after the call).

Side effects contained: the library reseeds numpy's *global* random generator (saved and
restored around every call) and prints a progress table (to ``log``); what it writes to
``sys.stderr`` from this thread goes to ``log`` too (other threads keep the real stream).
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

import numpy as np

__all__ = ["rbfopt_settings", "propose", "solvers_available", "CYCLE", "MAX_ITERATIONS", "MAX_SECONDS"]

#: Successive proposals: (``num_global_searches``, restricted to the library's local box): distance
#: weights 0.8 and 0.5 over the whole box, then 0.05 twice in the box around the best point.
CYCLE: tuple[tuple[int, bool], ...] = ((5, False), (2, False), (1, True), (1, True))
#: Search steps one proposal may take (a step whose point is too close to a node is discarded).
MAX_ITERATIONS = 10
#: Wall-clock cap of one library call, in seconds.
MAX_SECONDS = 5.0
#: Up to this many nodes the genetic search keeps the library's population of 400.
FULL_POPULATION_NODES = 50
#: The smallest population of the genetic search.
MIN_POPULATION = 100


def solvers_available() -> bool:
    """True when the ``bonmin`` and ``ipopt`` executables are on ``PATH``."""
    return shutil.which("bonmin") is not None and shutil.which("ipopt") is not None


def population(nodes: int) -> int:
    """``ga_base_population_size`` for a model of ``nodes`` nodes: the library's 400 up to
    :data:`FULL_POPULATION_NODES` nodes, then shrinking so population x nodes (the RBF evaluations
    of one generation) stays constant, down to :data:`MIN_POPULATION`."""
    return max(MIN_POPULATION, min(400, 400 * FULL_POPULATION_NODES // max(1, nodes)))


def rbfopt_settings(*, seed: int, cycle_step: int = 0, nodes: int = 0, use_solvers: bool | None = None) -> dict[str, Any]:
    """Keyword arguments of ``RbfoptSettings`` for one call; ``cycle_step`` (0-based) picks the weight in
    :data:`CYCLE`, ``nodes`` (the model's nodes) the genetic search's population (:func:`population`)."""
    if use_solvers is None:
        use_solvers = solvers_available()
    kappa, local = CYCLE[cycle_step % len(CYCLE)]
    return {
        "algorithm": "MSRSM",
        "global_search_method": "genetic",
        "do_local_search": bool(use_solvers),
        "rbf": "cubic",
        "num_global_searches": kappa,
        # step h = 1 has the factor (1 - 0/kappa)**2 = 1: a threshold of 1 restricts it to the local box
        "local_search_threshold": 1.0 if local else 0.0,
        "max_evaluations": 1,
        "max_iterations": MAX_ITERATIONS,
        "max_clock_time": MAX_SECONDS,
        "ga_base_population_size": population(nodes),
        "rand_seed": int(seed) % (2**32),
    }


@functools.lru_cache(maxsize=1)
def _black_box_class() -> type:
    """The ``RbfoptBlackBox`` subclass that records the points it is asked to evaluate (lazy import)."""
    from rbfopt import RbfoptBlackBox

    class RecordingBlackBox(RbfoptBlackBox):  # type: ignore[misc, valid-type]
        """Returns ``value`` for every point and keeps the points, in order."""

        def __init__(self, lower: np.ndarray, upper: np.ndarray, types: np.ndarray, value: float) -> None:
            self._lower, self._upper, self._types, self._value = lower, upper, types, value
            self.points: list[np.ndarray] = []

        def get_dimension(self) -> int:
            return len(self._lower)

        def get_var_lower(self) -> np.ndarray:
            return self._lower

        def get_var_upper(self) -> np.ndarray:
            return self._upper

        def get_var_type(self) -> np.ndarray:
            return self._types

        def evaluate(self, x: np.ndarray) -> float:
            self.points.append(np.array(x, dtype=float))
            return self._value

        def evaluate_noisy(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - never called
            raise NotImplementedError("no noisy evaluations")

        def has_evaluate_noisy(self) -> bool:
            return False

    return RecordingBlackBox


class _ThreadRouter:
    """Stands in for ``sys.stderr``: writes from the calling thread go to the log, the others pass through."""

    def __init__(self, original: TextIO, log: TextIO, thread: int) -> None:
        self._original, self._log, self._thread = original, log, thread

    def _target(self) -> TextIO:
        return self._log if threading.get_ident() == self._thread else self._original

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


@contextlib.contextmanager
def _contained(log: TextIO) -> Iterator[None]:
    """numpy's global random state saved and restored; this thread's stderr to ``log``; BLAS on one thread."""
    from threadpoolctl import threadpool_limits

    saved = np.random.get_state()
    try:
        with threadpool_limits(limits=1, user_api="blas"), contextlib.redirect_stderr(_ThreadRouter(sys.stderr, log, threading.get_ident())):  # type: ignore[type-var]
            yield
    finally:
        np.random.set_state(saved)


def _run(
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray],
    settings: dict[str, Any],
    log: TextIO,
    build: Callable[[Any, Any, Any], Any],
    value: float,
) -> list[np.ndarray]:
    import rbfopt

    lower, upper, types = bounds
    black_box = _black_box_class()(lower, upper, types, value)
    with _contained(log):
        algorithm = build(rbfopt, rbfopt.RbfoptSettings(**settings), black_box)
        algorithm.set_output_stream(log)
        algorithm.optimize()
    return black_box.points


def propose(
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray],
    positions: np.ndarray,
    values: np.ndarray,
    *,
    seed: int,
    cycle_step: int,
    log: TextIO,
) -> np.ndarray | None:
    """The library's next point from a model of the nodes (``positions``, ``values`` to minimize); ``None`` when it gave none."""

    def build(rbfopt: Any, settings: Any, black_box: Any) -> Any:
        return rbfopt.RbfoptAlgorithm(settings, black_box, positions, values, do_init_strategy=False)

    settings = rbfopt_settings(seed=seed, cycle_step=cycle_step, nodes=len(positions))
    points = _run(bounds, settings, log, build, float(np.max(values)))
    return points[0] if points else None
