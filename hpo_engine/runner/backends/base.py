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

__all__ = ["TrialSpec", "TrialOutcome", "TrialBackend", "IntermediateValue"]


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
    #: Variables removed from the inherited environment (credentials the command does not use).
    withheld_env: tuple[str, ...] = ()


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


@dataclass(frozen=True, slots=True)
class IntermediateValue:
    """One value of the objective recorded while trial ``number`` ran.

    ``step`` is the value of the step key the program recorded (``epoch``, ``iteration``,
    ``steps``..., as written, so usually 1-based) or, when the row has none, the 1-based
    position of the row in its source. ``source`` names the file it came from.
    """

    number: int
    step: float
    value: float
    source: str


class TrialBackend(ABC):
    """Runs trials somewhere and reports their outcomes; one instance per experiment run."""

    name: str = "abstract"
    #: True when trials run on other machines: S3 training data is then not synced by the
    #: driver but given to the backend as ``data_source`` (an :class:`~hpo_engine.runner.storage.config.S3Location`),
    #: and synced on each machine before its first trial.
    data_on_nodes: bool = False

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

    def intermediate_values(self) -> list[IntermediateValue]:
        """Objective values recorded by running trials since the last call (default: none).

        A backend that follows its trials' metrics while they run returns them here, in
        the order each trial recorded them; values of a trial that just finished come
        before its outcome is returned by ``wait``.
        """
        return []

    def stop_early(self, number: int) -> None:
        """Stop trial ``number`` because its stopping rule said so (default: :meth:`cancel`).

        Its process group gets SIGTERM, then SIGKILL after the backend's grace period; the
        outcome (INTERRUPTED, or COMPLETE if it finished first) comes through ``wait``.
        """
        self.cancel(number)

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
