"""The trial backend contract: launch a trial, learn that it finished, cancel it.

The local process runner and the Ray runner both implement :class:`TrialBackend`.
The optimizer, the store and the progress display only ever see this interface.
Times are seconds since the epoch (floats); trial numbers are 0-based (``SUBID``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpo_engine.runner.trial_state import TrialState

__all__ = ["TrialSpec", "TrialOutcome", "TrialBackend"]


@dataclass(frozen=True, slots=True)
class TrialSpec:
    """Everything a backend needs to run one trial, independent of where it runs.

    ``trial_dir`` is the trial's working folder on the driver (the results folder's
    ``trials/<number>``); a remote backend recreates it on its worker and brings the
    logs and metrics files back into it. ``timeout_seconds`` is wall-clock seconds.
    """

    experiment: str
    reference: str
    number: int
    values: Mapping[str, Any]
    command: str
    definition_dir: Path | None
    trial_dir: Path
    objective: str
    metrics_filename: str = "val_dict_list.json"
    time_interval: str | None = None
    timeout_seconds: float | None = None
    data_dir: str | None = None
    training_id: str = ""
    compute_name: str | None = None
    compute_nodes: int = 1
    extra_env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TrialOutcome:
    """What became of a trial. ``metrics`` holds every recorded metric, not only the objective."""

    number: int
    state: TrialState
    objective: float | None
    metrics: Mapping[str, Any]
    exit_code: int | None
    failure_reason: str | None
    stderr_tail: str
    started_at: float
    ended_at: float
    stdout_path: Path | None = None
    stderr_path: Path | None = None


class TrialBackend(ABC):
    """Runs trials somewhere and reports their outcomes; one instance per experiment run."""

    name: str = "abstract"

    def start(self) -> None:
        """Acquire resources (processes, cluster connection). Called once before ``launch``."""

    @abstractmethod
    def launch(self, spec: TrialSpec) -> None:
        """Start ``spec`` without waiting for it."""

    @abstractmethod
    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        """Block up to ``timeout`` seconds until at least one trial finishes; return all finished since the last call."""

    @abstractmethod
    def cancel(self, number: int) -> None:
        """Stop trial ``number``; its outcome (INTERRUPTED) comes through ``wait``."""

    @property
    @abstractmethod
    def running(self) -> frozenset[int]:
        """Numbers of the trials launched and not yet returned by ``wait``."""

    def cancel_all(self) -> None:
        for number in sorted(self.running):
            self.cancel(number)

    def close(self) -> None:
        """Release resources; running trials are cancelled first."""
        self.cancel_all()

    def __enter__(self) -> "TrialBackend":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
