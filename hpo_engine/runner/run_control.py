"""What a run of the scheduler is given and gives back: options, status, summary, stop requests, the reporter.

:class:`RunOptions` (where results go, parallelism, resume, seed, backend), :class:`RunStatus`
and :class:`ReferenceSummary` (what one reference's run ended with), :class:`StopRequest` with
:func:`handle_stop_signals` (Ctrl-C / SIGTERM ask the run to stop), :class:`Reporter` (the
events a presentation layer receives; the CLI's rich progress implements it), and the exit codes.
"""

from __future__ import annotations

import contextlib
import enum
import signal
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from hpo_engine.runner.trial_state import TrialState
from hpo_engine.manifest.early_stopping import EarlyStoppingSettings
from hpo_engine.runner.store import (
    DEFAULT_RESULTS_ROOT,
    ExperimentRecord,
    TrialRecord,
)


__all__ = ["EXIT_OK", "EXIT_ERROR", "EXIT_TOO_MANY_FAILURES", "RunOptions", "RunStatus", "ReferenceSummary", "StopRequest", "handle_stop_signals", "Reporter"]

EXIT_OK = 0


EXIT_ERROR = 1


#: ``hpo run`` stopped because more than ``max_failed_trials`` trials failed.
EXIT_TOO_MANY_FAILURES = 3


@dataclass(frozen=True, slots=True)
class RunOptions:
    """The command line's choices. ``parallel=None`` uses the manifest's ``max_concurrent_trials``."""

    results_root: Path = DEFAULT_RESULTS_ROOT
    data_dir: str | None = None
    definition: Path | None = None
    parallel: int | None = None
    resume: bool = False
    seed: int | None = None
    backend: str = "local"
    backend_options: Mapping[str, Any] = field(default_factory=dict)
    #: Seconds between looks at the stop request and at running trials' metrics (early stopping) while trials run.
    poll_seconds: float = 0.1
    #: Seconds to wait for cancelled trials to report before giving up on them.
    cancel_grace_seconds: float = 20.0


class RunStatus(str, enum.Enum):
    COMPLETE = "complete"  # num_optimizer_steps finished trials
    EXHAUSTED = "exhausted"  # the optimizer had no point left (a finite grid)
    TOO_MANY_FAILURES = "too_many_failures"
    INTERRUPTED = "interrupted"  # Ctrl-C / SIGTERM


@dataclass(frozen=True, slots=True)
class ReferenceSummary:
    """What one run of a reference achieved; ``trials`` is the whole store afterwards."""

    experiment: ExperimentRecord
    folder: Path
    status: RunStatus
    message: str
    trials: tuple[TrialRecord, ...]
    best: TrialRecord | None
    launched: int
    signal_number: int | None = None
    early_stopping: EarlyStoppingSettings | None = None

    @property
    def finished(self) -> int:
        return sum(1 for t in self.trials if t.finished)

    def count(self, state: TrialState) -> int:
        return sum(1 for t in self.trials if t.state is state)

    @property
    def exit_code(self) -> int:
        if self.status is RunStatus.INTERRUPTED:
            return 128 + (self.signal_number or signal.SIGINT)
        if self.status is RunStatus.TOO_MANY_FAILURES:
            return EXIT_TOO_MANY_FAILURES
        return EXIT_OK


class StopRequest:
    """A thread-safe "please stop" flag, set by a signal handler or a test."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_number: int | None = None

    def request(self, signal_number: int = signal.SIGINT) -> None:
        if self.signal_number is None:
            self.signal_number = signal_number
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()


@contextlib.contextmanager
def handle_stop_signals(stop: StopRequest) -> Iterator[StopRequest]:
    """Turn SIGINT and SIGTERM into ``stop.request()`` while the block runs (main thread only).

    A second Ctrl-C raises :class:`KeyboardInterrupt` to leave at once (running trials are
    still cancelled and recorded ``INTERRUPTED`` on the way out).
    """
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_signal(signum: int, _frame: object) -> None:
        if stop.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.request(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Reporter:
    """Receives the run's events; the default does nothing (see :mod:`hpo_engine.cli.progress`)."""

    def reference_started(self, experiment: ExperimentRecord, folder: Path, trials: list[TrialRecord], parallel: int) -> None:
        """The store is open; ``trials`` are those already recorded (resume)."""

    def trial_started(self, number: int, values: Mapping[str, Any], rerun: bool) -> None:
        """Trial ``number`` was recorded RUNNING and launched."""

    def trial_finished(self, record: TrialRecord) -> None:
        """A trial's outcome was stored."""

    def note(self, text: str, *, warning: bool = False) -> None:
        """A line for the user (resume details, why the run stops)."""

    def reference_finished(self, summary: ReferenceSummary) -> None:
        """The reference is done (or stopped)."""
