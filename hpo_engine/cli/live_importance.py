"""Hyper-parameter importance for the live page, computed off the request path.

:class:`ImportanceWorker` is a daemon thread that computes each store's importance with Optuna's
PED-ANOVA (:func:`hpo_engine.cli.plots.importance.importances`: the evaluator ``hpo plot`` uses,
on a study built from the store read read-only) when the page's data says the store has more
complete trials than the last computation saw. So that a large store does not keep a core busy,
a store is computed again at most every ``max(MIN_SECONDS, 3 x its last computing time)``.
:meth:`ImportanceWorker.latest` gives what was computed last (``None`` before) and
:attr:`ImportanceWorker.version` moves with each new result (the page's data is built again).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from hpo_engine.errors import HpoError

__all__ = ["ImportanceWorker", "Importance", "MIN_SECONDS"]

#: The shortest time between two computations of one store's importance, in seconds.
MIN_SECONDS = 5.0


@dataclass(frozen=True)
class Importance:
    """One store's importance: ``{parameter: importance}`` (sum 1, largest first), computed on
    ``complete`` complete trials, in ``seconds``; ``values`` ``None``: it could not be computed
    (fewer than two complete trials, or every objective equal)."""

    values: dict[str, float] | None
    complete: int
    seconds: float


class ImportanceWorker:
    """The daemon thread (started at once; :meth:`close` stops it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._wanted: dict[Path, int] = {}  # folder -> complete trials the page has seen
        self._done: dict[Path, Importance] = {}
        self._next_at: dict[Path, float] = {}  # folder -> time.monotonic() of the earliest next computation
        #: Moves when a new result is available.
        self.version = 0
        self._thread = threading.Thread(target=self._run, name="hpo-dashboard-importance", daemon=True)
        self._thread.start()

    def latest(self, folder: Path, complete: int) -> Importance | None:
        """The last result for ``folder`` (``None`` before the first); asks for a new one when
        ``complete`` (the complete trials the store has now) differs from what it was computed on."""
        with self._lock:
            done = self._done.get(folder)
            if done is None or done.complete != complete:
                if self._wanted.get(folder) != complete:
                    self._wanted[folder] = complete
                    self._wake.set()
            return done

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            now = time.monotonic()
            with self._lock:
                due = [(f, n) for f, n in self._wanted.items()
                       if (self._done.get(f) is None or self._done[f].complete != n) and self._next_at.get(f, 0.0) <= now]
            for folder, complete in due:
                if self._stop.is_set():
                    return
                result = self._compute(folder, complete)
                with self._lock:
                    self._done[folder] = result
                    self._next_at[folder] = time.monotonic() + max(MIN_SECONDS, 3 * result.seconds)
                    self.version += 1
            # a store whose rate limit had not run out is looked at again after the 1 s wait

    @staticmethod
    def _compute(folder: Path, complete: int) -> Importance:
        from hpo_engine.cli.plots.data import quiet_optuna, view_of
        from hpo_engine.cli.plots.importance import importances
        from hpo_engine.runner.results import load_results

        quiet_optuna()
        started = time.perf_counter()
        try:
            view = view_of(load_results(folder, with_metrics=False, read_only=True))
            values = importances(view)
            complete = len(view.complete)
        except (HpoError, OSError, ValueError):
            values = None
        return Importance(values, complete, time.perf_counter() - started)
