"""RBFOpt (COIN-OR ``rbfopt``) driven as ask/tell.

The library has no ask/tell API: ``RbfoptAlgorithm.optimize()`` calls a black
box's ``evaluate(x)`` and waits for the value. :class:`RbfoptSearch` runs
``optimize()`` in a daemon thread whose ``evaluate`` hands ``x`` to
:meth:`RbfoptSearch.ask` through a queue and blocks until :meth:`RbfoptSearch.tell`
supplies the objective. The thread computes only while the caller is inside
``ask`` (values are delivered lazily, at the next ``ask``), so the library never
runs concurrently with the rest of the program.

Settings
    Without the ``bonmin`` and ``ipopt`` executables (they cannot be installed
    here) the library runs in its solver-free configuration: ``algorithm='MSRSM'``,
    ``global_search_method='genetic'``, ``do_local_search=False``. When both are on
    ``PATH`` the local search step is enabled as in the library's defaults.
    ``max_evaluations`` is the remaining budget (``budget`` minus the warm-start
    trials), ``rand_seed`` the seed.

Dimensions
    Each dimension is seen through its :class:`~hpo_engine.manifest.search_space.Encoding`:
    ``'R'`` real (a continuous ``power`` range through its exponent), ``'I'``
    integer (the 0-based ordinal index of a finite numeric dimension), ``'C'``
    categorical (the 0-based index of a string value). A dimension with a single
    value is held fixed outside the library (it needs ``lower < upper``).

Direction and failures
    The library minimizes; with ``maximize=True`` it is told ``-objective``. A
    failed trial (``objective`` ``None``, NaN or infinite) is told a penalty: the
    worst value seen so far plus 10% of the spread of the values seen (plus 1
    when they are all equal), or :data:`FIRST_FAILURE_PENALTY` when no trial has
    succeeded yet. The library clips extreme values to the median
    (``dynamism_clipping``), which limits the effect of that constant.

Resume
    :meth:`RbfoptSearch.warm_start` (before the first ``ask``) passes the finished
    trials to ``RbfoptAlgorithm(settings, black_box, init_node_pos, init_node_val)``.
    With at least one point more than the library's coordinates (a fully determined
    model) the library starts from them alone; with fewer it also evaluates its own
    initial design. The library's cycle of search steps starts over.

Random fallback (as the original service did: "will simply run a random search")
    Points are drawn uniformly at random (log-uniform on continuous power ranges,
    never repeating a grid point) when: the budget is not larger than the number
    of free dimensions (too few steps to fit a model); every dimension is fixed;
    the library stopped before the budget was used (it stops on a finite space
    once every point was evaluated, or after ``max_evaluations``); or the library
    raised an error (written to the log stream).

Parallel trials
    The library's loop is serial: it proposes one point and waits for its value.
    When ``ask`` is called while that point is still running, the new slot gets a
    random point. Its result is not lost: it is added to the library's
    interpolation nodes (``RbfoptAlgorithm.add_node``) at the library's next
    evaluation in its main loop, so the model learns from every finished trial.
    (This uses the library's internal node lists; if that ever fails the point
    is simply not learned from, and the reason is written to the log stream.)

Duplicates
    When the library proposes a point already evaluated (possible on a finite
    space, e.g. after a restart), the cached objective is told back at once and
    the point is not proposed again.

Side effects contained
    The library reseeds numpy's *global* random generator and prints a progress
    table. Around each interaction the global random state of the program is
    saved and restored (the library keeps its own state between interactions,
    so a seed gives the same proposals whatever the program does meanwhile). The
    table goes to ``log_stream`` (``None``: discarded), and so do the messages the
    library writes to ``sys.stderr`` on numerical trouble: during an interaction
    ``sys.stderr`` is a stand-in that routes the library thread's writes to the log
    and every other thread's to the real stream (``sys.stdout`` is left alone:
    the library writes nothing there once its output stream is set, and a
    progress display refreshing from another thread must keep its terminal).
    ``ask``/``tell`` are not thread-safe: call them from one thread.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import math
import queue
import shutil
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TextIO

import numpy as np

from hpo_engine.errors import OptimizerError
from hpo_engine.manifest.search_space import SearchSpace
from hpo_engine.optimizers.base import Optimizer
from hpo_engine.optimizers.random_search import GridSampler, exhausted_message

__all__ = ["RbfoptSearch", "rbfopt_settings", "FIRST_FAILURE_PENALTY"]

#: Value told to the library for a failed trial when no trial has succeeded yet.
FIRST_FAILURE_PENALTY = 1.0e6

#: Seconds ``close`` waits for the library's thread to end.
_JOIN_TIMEOUT = 5.0

_STOP = object()


class _Stopped(Exception):
    """Raised inside the library's thread to unwind ``optimize()`` on close."""


class _NullStream:
    """A write-only sink (the library's table when no log stream is given)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


class _ThreadRouter:
    """Stands in for ``sys.stderr``: writes from the library's thread go to the log, the others pass through."""

    def __init__(self, original: TextIO, log: TextIO, library_thread: Callable[[], int | None]) -> None:
        self._original, self._log, self._library_thread = original, log, library_thread

    def _target(self) -> TextIO:
        return self._log if threading.get_ident() == self._library_thread() else self._original

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


def solvers_available() -> bool:
    """True when the ``bonmin`` and ``ipopt`` executables are on ``PATH``."""
    return shutil.which("bonmin") is not None and shutil.which("ipopt") is not None


def rbfopt_settings(*, max_evaluations: int, seed: int, use_solvers: bool | None = None) -> dict[str, Any]:
    """Keyword arguments of ``RbfoptSettings`` used by :class:`RbfoptSearch`.

    ``use_solvers`` ``None``: decide with :func:`solvers_available`.
    """
    if use_solvers is None:
        use_solvers = solvers_available()
    settings: dict[str, Any] = {
        "algorithm": "MSRSM",
        "global_search_method": "genetic",
        "do_local_search": bool(use_solvers),
        "max_evaluations": int(max_evaluations),
        "max_iterations": max(1000, 20 * int(max_evaluations)),
        "rand_seed": int(seed) % (2**32),
    }
    return settings


@functools.lru_cache(maxsize=1)
def _black_box_class() -> type:
    """The ``RbfoptBlackBox`` subclass whose ``evaluate`` goes through a :class:`_Channel` (lazy import)."""
    from rbfopt import RbfoptBlackBox

    class QueueBlackBox(RbfoptBlackBox):  # type: ignore[misc, valid-type]
        def __init__(self, lower: np.ndarray, upper: np.ndarray, types: np.ndarray, channel: _Channel) -> None:
            self._lower, self._upper, self._types, self._channel = lower, upper, types, channel

        def get_dimension(self) -> int:
            return len(self._lower)

        def get_var_lower(self) -> np.ndarray:
            return self._lower

        def get_var_upper(self) -> np.ndarray:
            return self._upper

        def get_var_type(self) -> np.ndarray:
            return self._types

        def evaluate(self, x: np.ndarray) -> float:
            return self._channel.evaluate(x)

        def evaluate_noisy(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - never called
            raise NotImplementedError("no noisy evaluations")

        def has_evaluate_noisy(self) -> bool:
            return False

    return QueueBlackBox


def _in_main_loop() -> bool:
    """True when the library called ``evaluate`` from its main loop (not while sampling a (re)start)."""
    frame = sys._getframe(2)
    for _ in range(10):
        if frame is None:
            return False
        name = frame.f_code.co_name
        if name == "restart":
            return False
        if name == "optimize_serial":
            return True
        frame = frame.f_back
    return False


class _Channel:
    """The two queues between the caller and the library's thread, and the nodes to add.

    ``asks`` (thread -> caller): ``("x", vector)``, ``("done", None)`` or ``("error", exc)``.
    ``tells`` (caller -> thread): ``(value, extra_nodes)`` or ``_STOP``; ``extra_nodes``
    are ``(vector, value)`` of points evaluated outside the library (parallel slots).
    """

    def __init__(self, log: TextIO) -> None:
        self.asks: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.tells: queue.Queue[Any] = queue.Queue()
        self.algorithm: Any = None
        self.log = log
        self.deferred: list[tuple[np.ndarray, float]] = []
        self.added = 0
        self.add_failed: str | None = None

    def evaluate(self, x: np.ndarray) -> float:
        """Runs in the library's thread: publish ``x``, wait for its value."""
        self.asks.put(("x", np.array(x, dtype=float)))
        message = self.tells.get()
        if message is _STOP:
            raise _Stopped
        value, extra = message
        self.deferred.extend(extra)
        if self.deferred and self.add_failed is None and _in_main_loop():
            self._add_deferred()
        return float(value)

    def _add_deferred(self) -> None:
        """Add points evaluated outside the library to its interpolation nodes."""
        import rbfopt.rbfopt_utils as ru

        algorithm = self.algorithm
        try:
            for vector, value in self.deferred:
                original = ru.expand_categorical_vars(np.atleast_2d(vector), *algorithm.categorical_info)[0]
                scaled = ru.transform_domain(
                    algorithm.l_settings, algorithm.var_lower, algorithm.var_upper, algorithm.integer_vars, original
                )
                if len(algorithm.node_pos) and ru.get_min_distance(scaled, algorithm.node_pos) <= algorithm.l_settings.min_dist:
                    continue
                algorithm.add_node(scaled, original, float(value))
                algorithm.evalcount += 1
                self.added += 1
        except Exception as exc:  # noqa: BLE001 - internal API of the library: degrade, do not fail the run
            self.add_failed = f"{type(exc).__name__}: {exc}"
            print(f"hpo: cannot add parallel results to rbfopt's model ({self.add_failed}); they are not learned from", file=self.log)
        self.deferred.clear()


class RbfoptSearch(Optimizer):
    """RBFOpt's MSRSM surrogate search as ask/tell (see the module docstring for the details).

    ``seed``: the library's ``rand_seed`` and the seed of the random fallback
    (``None``: fresh entropy). ``budget``: the total number of trials
    (``num_optimizer_steps``), including warm-start ones; ``None``: unbounded.
    ``log_stream``: where the library's progress table goes (``None``: discarded).
    """

    name = "rbfopt"

    def __init__(
        self,
        space: SearchSpace,
        *,
        maximize: bool,
        seed: int | None = None,
        budget: int | None = None,
        log_stream: TextIO | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(space, maximize=maximize, seed=seed, budget=budget, log_stream=log_stream, parameters=parameters)
        if importlib.util.find_spec("rbfopt") is None:
            raise OptimizerError("method rbfopt needs the `rbfopt` package (pip install rbfopt).")
        if budget is not None and budget < 0:
            raise OptimizerError(f"`budget` must not be negative, but got budget={budget!r}.")
        self._log: TextIO = log_stream if log_stream is not None else _NullStream()  # type: ignore[assignment]
        seed_sequence = np.random.SeedSequence(seed)
        self._library_seed = int(seed_sequence.generate_state(1)[0]) if seed is None else int(seed) % (2**32)
        self._rng = np.random.default_rng(seed_sequence)
        self._grid = GridSampler(space, self._rng) if space.is_finite else None

        self._free = [i for i, d in enumerate(space.dimensions) if d.count != 1]
        self._fixed = {d.name: d.value_at(0) for d in space.dimensions if d.count == 1}
        encodings = space.encodings
        self._lower = np.array([encodings[i].lower for i in self._free], dtype=float)
        self._upper = np.array([encodings[i].upper for i in self._free], dtype=float)
        self._types = np.array([encodings[i].var_type for i in self._free])

        #: Why the model is not (or no longer) used; ``None`` while it is.
        self.fallback_reason: str | None = None
        if not self._free:
            self.fallback_reason = "every hyper-parameter has a single value"
        elif budget is not None and budget <= len(self._free):
            self.fallback_reason = (
                f"{budget} steps are too few to fit a model of {len(self._free)} free hyper-parameters (needs more than {len(self._free)})"
            )
        if self.fallback_reason is not None:
            print(f"hpo: rbfopt will simply run a random search: {self.fallback_reason}", file=self._log)

        self._results: dict[tuple, float | None] = {}  # told objectives (as recorded) by point key
        self._vectors: dict[tuple, np.ndarray] = {}  # library coordinates of proposed / told points
        self._outstanding: set[tuple] = set()  # proposed, not told yet
        self._pending: tuple | None = None  # the point the library waits for
        self._extra: list[tuple] = []  # told points evaluated outside the library, to be added to its nodes
        self._history: list[tuple[np.ndarray, float | None]] = []
        self._channel: _Channel | None = None
        self._thread: threading.Thread | None = None
        self._library_rng_state: Any = None
        self._closed = False
        self._started = False  # ask was called
        self._model_points = 0
        #: Proposals of the library that were already evaluated (answered from the cache).
        self.duplicates = 0

    # -- public state ---------------------------------------------------------------
    @property
    def model_points(self) -> int:
        """Points proposed by the library so far (the others were random)."""
        return self._model_points

    @property
    def added_parallel_results(self) -> int:
        """Results of parallel (random) slots added to the library's model."""
        return self._channel.added if self._channel is not None else 0

    # -- Optimizer ----------------------------------------------------------------------
    def warm_start(self, history: Sequence[tuple[Mapping[str, Any], float | None]]) -> None:
        """Start the library from trials finished in an earlier run. Call before the first ``ask``."""
        if self._started or self._results:
            raise OptimizerError("warm_start must be called before the first ask or tell, and once.")
        skipped = 0
        for point, objective in history:
            key = self._key(point)
            if key is None or not self.space.contains(point):
                skipped += 1
                continue
            self._results[key] = objective
            self._mark_grid(point)
            if self._free:
                self._history.append((self._vector(point), objective))
        if skipped:
            print(f"hpo: rbfopt warm start: {skipped} earlier trial(s) are not points of this search space; ignored", file=self._log)
        if self.budget is not None and self.fallback_reason is None and self.budget - len(self._history) <= 0:
            self.fallback_reason = "the budget is used up by the warm-start trials"

    def ask(self) -> dict[str, Any]:
        if self._closed:
            raise OptimizerError("this rbfopt optimizer is closed.")
        self._started = True
        if self._grid is not None and self._grid.remaining == 0:
            raise OptimizerError(exhausted_message(self._grid.size))
        if self.fallback_reason is None and (self._pending is None or self._pending in self._results):
            point = self._model_ask()
            if point is not None:
                return point
        return self._random_ask()

    def tell(self, point: Mapping[str, Any], objective: float | None) -> None:
        key = self._key(point)
        if key is None:
            raise OptimizerError(f"{dict(point)!r} is not a point of this search space.")
        self._results[key] = objective
        if key in self._outstanding:
            self._outstanding.discard(key)  # proposed here: already marked on the grid
        else:
            self._mark_grid(point)
        if key != self._pending and self._free:
            if key not in self._vectors:
                self._vectors[key] = self._vector(point)
            self._extra.append(key)

    def close(self) -> None:
        """Stop the library's thread (it is a daemon thread, so it never blocks the exit)."""
        self._closed = True
        thread, channel = self._thread, self._channel
        if thread is None or channel is None or not thread.is_alive():
            return
        with self._sandbox():
            channel.tells.put(_STOP)
            thread.join(_JOIN_TIMEOUT)

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            if self._thread is not None and self._thread.is_alive() and self._channel is not None:
                self._channel.tells.put(_STOP)
        except Exception:  # noqa: BLE001
            pass

    # -- the library ------------------------------------------------------------------
    def _model_ask(self) -> dict[str, Any] | None:
        """The library's next point, or ``None`` when this slot gets a random point."""
        message: Any = None
        if self._thread is not None:
            assert self._pending is not None
            message = (self._value(self._results[self._pending]), self._take_extra())
            self._pending = None
        for _ in range(10_000):
            kind, payload = self._exchange(message)
            if kind != "x":
                if kind == "error":
                    print(f"hpo: rbfopt failed ({type(payload).__name__}: {payload}); going on with a random search", file=self._log)
                    self.fallback_reason = f"rbfopt failed: {type(payload).__name__}: {payload}"
                else:
                    self.fallback_reason = "rbfopt finished before the budget was used"
                    print(f"hpo: {self.fallback_reason}; the remaining steps run a random search", file=self._log)
                return None
            point = self._point(payload)
            key = self._key(point)
            assert key is not None
            self._vectors.setdefault(key, np.asarray(payload, dtype=float))
            self._pending = key
            if key in self._results:
                self.duplicates += 1
                message = (self._value(self._results[key]), self._take_extra())
                self._pending = None
                continue
            if key in self._outstanding:
                return None  # running in another slot: its result will answer the library
            self._outstanding.add(key)
            if self._grid is not None:
                self._grid.mark(self._grid_index(payload))
            self._model_points += 1
            return point
        raise OptimizerError("rbfopt keeps proposing points already evaluated.")  # pragma: no cover

    def _random_ask(self) -> dict[str, Any]:
        if self._grid is not None:
            point = self.space.point_at(self._grid.draw())
        else:
            point = self.space.sample(self._rng)
        key = self._key(point)
        assert key is not None
        self._outstanding.add(key)
        return point

    def _exchange(self, message: Any) -> tuple[str, Any]:
        """Send ``message`` to the library's thread (start it on ``None``) and wait for its next request."""
        with self._sandbox():
            if self._thread is None:
                try:
                    self._start()
                except Exception as exc:  # noqa: BLE001 - reported as a fallback
                    return ("error", exc)
            else:
                assert self._channel is not None
                self._channel.tells.put(message)
            assert self._channel is not None and self._thread is not None
            while True:
                try:
                    return self._channel.asks.get(timeout=1.0)
                except queue.Empty:
                    if not self._thread.is_alive():
                        return ("error", OptimizerError("the rbfopt thread ended without an answer"))

    def _start(self) -> None:
        try:
            import rbfopt
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise OptimizerError("method rbfopt needs the `rbfopt` package (pip install rbfopt).") from exc
        remaining = 10_000 if self.budget is None else max(1, self.budget - len(self._history))
        settings = rbfopt.RbfoptSettings(**rbfopt_settings(max_evaluations=remaining, seed=self._library_seed))
        channel = _Channel(self._log)
        black_box = _black_box_class()(self._lower, self._upper, self._types, channel)
        known = [(v, o) for v, o in self._history]
        if known:
            positions = np.array([v for v, _ in known])
            values = np.array(self._values([o for _, o in known]))
            # Enough points for a fully determined model (categoricals count one coordinate per
            # value in the library): start from them alone; else the library adds its initial design.
            expanded = sum(int(u - lo) + 1 if t == "C" and u - lo > 1 else 1 for u, lo, t in zip(self._upper, self._lower, self._types))
            enough = len(known) >= expanded + 1
            algorithm = rbfopt.RbfoptAlgorithm(settings, black_box, positions, values, do_init_strategy=not enough)
        else:
            algorithm = rbfopt.RbfoptAlgorithm(settings, black_box)
        algorithm.set_output_stream(self._log)
        channel.algorithm = algorithm
        self._channel = channel
        self._thread = threading.Thread(target=self._run, args=(algorithm, channel), name="hpo-rbfopt", daemon=True)
        self._thread.start()

    @staticmethod
    def _run(algorithm: Any, channel: _Channel) -> None:
        """The library's thread."""
        try:
            algorithm.optimize()
        except _Stopped:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            channel.asks.put(("error", exc))
            return
        channel.asks.put(("done", None))

    @contextlib.contextmanager
    def _sandbox(self) -> Iterator[None]:
        """Swap numpy's global random state for the library's; route the library thread's stderr to the log."""
        saved = np.random.get_state()
        if self._library_rng_state is not None:
            np.random.set_state(self._library_rng_state)
        try:
            router = _ThreadRouter(sys.stderr, self._log, lambda: self._thread.ident if self._thread is not None else None)
            with contextlib.redirect_stderr(router):  # type: ignore[type-var]
                yield
        finally:
            self._library_rng_state = np.random.get_state()
            np.random.set_state(saved)

    # -- conversions ------------------------------------------------------------------
    def _take_extra(self) -> list[tuple[np.ndarray, float]]:
        extra = [(self._vectors[key], self._value(self._results[key])) for key in self._extra]
        self._extra.clear()
        return extra

    def _finite_values(self) -> list[float]:
        values = []
        for objective in self._results.values():
            if objective is not None and math.isfinite(objective):
                values.append(-objective if self.maximize else objective)
        return values

    def _penalty(self, seen: Sequence[float]) -> float:
        if not seen:
            return FIRST_FAILURE_PENALTY
        worst, best = max(seen), min(seen)
        return worst + (0.1 * (worst - best) if worst > best else 1.0)

    def _value(self, objective: float | None) -> float:
        """The value the library minimizes for a recorded objective (penalty for a failure)."""
        if objective is None or not math.isfinite(objective):
            return self._penalty(self._finite_values())
        return -float(objective) if self.maximize else float(objective)

    def _values(self, objectives: Sequence[float | None]) -> list[float]:
        return [self._value(o) for o in objectives]

    def _vector(self, point: Mapping[str, Any]) -> np.ndarray:
        """Library coordinates of ``point`` (free dimensions only, in dimension order)."""
        dims = self.space.dimensions
        vector = np.array([dims[i].encode(point[dims[i].name]) for i in self._free], dtype=float)
        return np.clip(vector, self._lower, self._upper)

    def _point(self, vector: Sequence[float]) -> dict[str, Any]:
        """The point at library coordinates ``vector`` (fixed dimensions filled in)."""
        dims = self.space.dimensions
        decoded = {dims[i].name: dims[i].decode(float(x)) for i, x in zip(self._free, vector)}
        return {d.name: decoded[d.name] if d.name in decoded else self._fixed[d.name] for d in dims}

    def _grid_index(self, vector: Sequence[float]) -> int:
        """0-based grid index of the point at library coordinates ``vector`` (finite space: ordinal indices)."""
        coordinates = dict(zip(self._free, vector))
        index = 0
        for i, dimension in enumerate(self.space.dimensions):
            count = dimension.count
            digit = min(max(int(round(float(coordinates.get(i, 0.0)))), 0), count - 1)  # type: ignore[operator]
            index = index * count + digit  # type: ignore[operator]
        return index

    def _key(self, point: Mapping[str, Any]) -> tuple | None:
        try:
            return tuple(point[name] for name in self.space.names)
        except KeyError:
            return None

    def _mark_grid(self, point: Mapping[str, Any]) -> None:
        if self._grid is not None:
            try:
                self._grid.mark(self.space.index_of(point))
            except Exception:  # noqa: BLE001 - not a grid point: nothing to mark
                pass
