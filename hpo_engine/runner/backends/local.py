"""Trials as processes on this machine, up to ``max_parallel`` at once.

Each launched trial gets a worker thread that calls
:func:`hpo_engine.runner.trials.execute.run_trial` (a real subprocess in its own process
group) and puts the outcome on a queue that :meth:`LocalBackend.wait` drains.
Timeouts and durations are in seconds.
"""

from __future__ import annotations

import queue
import threading
import time

from hpo_engine.errors import BackendError
from hpo_engine.runner.trials.execute import failed_to_start, run_trial
from hpo_engine.runner.trials.follow import TrialFollower, follower_for
from hpo_engine.runner.trials.process import DEFAULT_KILL_GRACE_SECONDS
from hpo_engine.runner.backends.base import IntermediateValue, TrialBackend, TrialOutcome, TrialSpec

__all__ = ["LocalBackend"]


class LocalBackend(TrialBackend):
    """Runs each trial as a local process from a worker thread; at most ``max_parallel`` at once.

    ``kill_grace_seconds`` is the pause between SIGTERM and SIGKILL when a trial is
    cancelled, stopped early or times out. While trials run, :meth:`intermediate_values`
    follows their metrics files (one :class:`~hpo_engine.runner.trials.follow.TrialFollower`
    each, looked at from the caller's thread at most every ``follow_seconds`` seconds).
    """

    name = "local"

    def __init__(
        self, max_parallel: int, *, kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS, follow_seconds: float = 0.02
    ) -> None:
        if max_parallel < 1:
            raise BackendError(f"max_parallel must be at least 1, got {max_parallel}")
        self.max_parallel = max_parallel
        self.kill_grace_seconds = kill_grace_seconds
        self._finished: queue.Queue[TrialOutcome] = queue.Queue()
        self._lock = threading.Lock()
        self._running: dict[int, threading.Event] = {}
        self._threads: dict[int, threading.Thread] = {}
        self.follow_seconds = follow_seconds
        self._followers: dict[int, TrialFollower] = {}
        self._followed: list[IntermediateValue] = []  # final looks at trials that just ended
        self._last_look = 0.0

    @property
    def running(self) -> frozenset[int]:
        """Numbers of the trials launched and not yet returned by :meth:`wait`."""
        with self._lock:
            return frozenset(self._running)

    def launch(self, spec: TrialSpec) -> None:
        """Start ``spec`` in a worker thread; raises :class:`BackendError` past ``max_parallel``."""
        with self._lock:
            if spec.number in self._running:
                raise BackendError(f"trial {spec.number} is already running")
            if len(self._running) >= self.max_parallel:
                raise BackendError(
                    f"cannot launch trial {spec.number}: {len(self._running)} trials already "
                    f"running (max_parallel={self.max_parallel})"
                )
            cancel_event = threading.Event()
            worker = threading.Thread(
                target=self._run,
                args=(spec, cancel_event),
                name=f"hpo-trial-{spec.number}",
                daemon=True,
            )
            self._running[spec.number] = cancel_event
            self._threads[spec.number] = worker
            self._followers[spec.number] = follower_for(spec)
        worker.start()

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        """Block up to ``timeout`` seconds for a trial to finish; return every outcome available.

        Returns ``[]`` at once when nothing is running and nothing is waiting to be returned.
        """
        outcomes: list[TrialOutcome] = []
        if self.running or not self._finished.empty():
            try:
                outcomes.append(self._finished.get(timeout=timeout))
            except queue.Empty:
                return []
        while True:
            try:
                outcomes.append(self._finished.get_nowait())
            except queue.Empty:
                break
        with self._lock:
            for outcome in outcomes:
                follower = self._followers.pop(outcome.number, None)
                if follower is not None:
                    self._followed.extend(follower.poll())
                self._running.pop(outcome.number, None)
                thread = self._threads.pop(outcome.number, None)
                if thread is not None:
                    thread.join()
        return outcomes

    def intermediate_values(self) -> list[IntermediateValue]:
        """Objective values recorded since the last call: final values of trials ``wait`` returned, then running ones'.

        Running trials' files are looked at only when ``follow_seconds`` passed since the last look.
        """
        with self._lock:
            values, self._followed = self._followed, []
            followers = list(self._followers.values())
        now = time.monotonic()
        if now - self._last_look >= self.follow_seconds:
            self._last_look = now
            for follower in followers:
                values.extend(follower.poll())
        return values

    def cancel(self, number: int) -> None:
        """Stop trial ``number`` (SIGTERM, then SIGKILL); its INTERRUPTED outcome comes through :meth:`wait`.

        Unknown or already finished trials are ignored.
        """
        with self._lock:
            event = self._running.get(number)
        if event is not None:
            event.set()

    def close(self) -> None:
        """Cancel running trials and wait for their processes to be gone (outcomes stay for :meth:`wait`)."""
        self.cancel_all()
        with self._lock:
            threads = list(self._threads.values())
        limit = time.monotonic() + self.kill_grace_seconds + 10.0
        for thread in threads:
            thread.join(timeout=max(limit - time.monotonic(), 0.0))

    def _run(self, spec: TrialSpec, cancel_event: threading.Event) -> None:
        try:
            outcome = run_trial(spec, cancel_event, kill_grace_seconds=self.kill_grace_seconds)
        except Exception as exc:  # noqa: BLE001 - a worker must always report an outcome
            outcome = failed_to_start(spec, f"internal error: {type(exc).__name__}: {exc}")
        self._finished.put(outcome)
