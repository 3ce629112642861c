"""What the store holds, as values: the experiment and trial records, folder names, the space's specs.

:class:`ExperimentRecord` and :class:`TrialRecord` are frozen (a finished trial never changes);
:func:`store_folder` is where a reference's store lives under the results root (names made safe
by the manifest core's rule); :func:`space_to_specs` / :func:`space_from_specs` keep the search
space in the store as its manifest form. Times are seconds since the epoch; trial numbers 0-based.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from hpo_engine.manifest.names import folder_name
from hpo_engine.runner.trial_state import TrialState
from hpo_engine.errors import StoreError
from hpo_engine.manifest.search_space import SearchSpace


STORE_FILENAME = "trials.sqlite"


DEFAULT_RESULTS_ROOT = Path("hpo-results")


#: States that count toward ``num_optimizer_steps`` and are never rerun.
FINISHED_STATES = frozenset({TrialState.COMPLETE, TrialState.FAILED, TrialState.PRUNED})


def safe_name(name: str) -> str:
    """A folder name made from ``name`` that stays inside its parent (:func:`hpo_engine.manifest.names.folder_name`)."""
    return folder_name(name)


def store_folder(results_root: Path, experiment: str, reference: str) -> Path:
    """``<results_root>/<safe experiment>/<safe reference>``, checked to be inside ``results_root``."""
    root = Path(results_root)
    folder = root / safe_name(experiment) / safe_name(reference)
    resolved_root = root.resolve()
    if resolved_root not in folder.resolve().parents:  # pragma: no cover - safe_name prevents it
        raise StoreError(f"results folder {folder} would be outside {root}")
    return folder


def space_to_specs(space: SearchSpace) -> list[dict[str, Any]]:
    """The manifest's ``hyper_parameters`` list for ``space`` (``[{name, <kind>: ...}]``)."""
    specs = []
    for dimension in space:
        body = dimension.spec()
        if dimension.kind in body:
            body = body[dimension.kind]
        specs.append({"name": dimension.name, dimension.kind: body})
    return specs


def space_from_specs(specs: Sequence[Mapping[str, Any]]) -> SearchSpace:
    return SearchSpace.from_specs(specs)


def json_value(value: Any) -> Any:
    """JSON-safe copy: non-finite floats become ``None`` and unknown objects strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def dumps_json(value: Any) -> str:
    return json.dumps(json_value(value), sort_keys=False, allow_nan=False)


@dataclass(frozen=True, slots=True)
class ExperimentRecord:
    """What a store is about; written once when the store is created."""

    experiment: str
    reference: str
    method: str
    objective: str
    maximize: bool
    budget: int
    search_space: tuple[Mapping[str, Any], ...]
    manifest_path: str | None = None
    seed: int | None = None
    compute_configuration: Mapping[str, Any] = field(default_factory=dict)
    created_at: float = 0.0

    @property
    def direction(self) -> str:
        return "maximize" if self.maximize else "minimize"

    @property
    def space(self) -> SearchSpace:
        return space_from_specs(self.search_space)

    def to_json(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "reference": self.reference,
            "manifest_path": self.manifest_path,
            "method": self.method,
            "objective": self.objective,
            "direction": self.direction,
            "budget": self.budget,
            "seed": self.seed,
            "compute_configuration": dict(self.compute_configuration),
            "search_space": [dict(s) for s in self.search_space],
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """One trial as stored. ``attempts`` counts launches (a resumed, interrupted trial has 2)."""

    number: int
    values: Mapping[str, Any]
    state: TrialState
    objective: float | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    started_at: float | None = None
    ended_at: float | None = None
    exit_code: int | None = None
    failure_reason: str | None = None
    stderr_tail: str = ""
    stdout_path: str | None = None
    stderr_path: str | None = None
    attempts: int = 1
    #: Objective values recorded while the trial ran (the ``intermediate_values`` rows).
    steps_run: int = 0
    #: The step of the last of them (the program's step key, as written), ``None`` without any.
    step_reached: float | None = None

    @property
    def finished(self) -> bool:
        """COMPLETE, FAILED or PRUNED: counts toward the budget and is never rerun."""
        return self.state in FINISHED_STATES

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return max(0.0, self.ended_at - self.started_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "state": self.state.value,
            "objective": self.objective,
            "values": dict(self.values),
            "metrics": dict(self.metrics),
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration": self.duration,
            "exit_code": self.exit_code,
            "failure_reason": self.failure_reason,
            "stderr_tail": self.stderr_tail,
            "stdout_path": self.stdout_path,
            "stderr_path": self.stderr_path,
            "attempts": self.attempts,
            "steps_run": self.steps_run,
            "step_reached": self.step_reached,
        }
