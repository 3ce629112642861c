"""Reading results: trials sorted by objective, exports (table, JSON, CSV), ``best_config.json``.

Sorting is direction-aware: COMPLETE trials first, best objective first (ties by trial
number), then PRUNED, FAILED, INTERRUPTED and RUNNING trials by number.
A PRUNED trial keeps the last objective value it recorded and the step it reached
(``step_reached``, ``steps_run``); it is never the best trial.
``best_config.json`` holds the best trial's hyper-parameter values exactly as its
``config.json`` did, so it can be dropped next to the training program as is.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.errors import HpoError, StoreError
from hpo_engine.runner.store import STORE_FILENAME, DEFAULT_RESULTS_ROOT, ExperimentRecord, ResultStore, TrialRecord, store_folder

__all__ = [
    "BEST_CONFIG_FILENAME",
    "FORMATS",
    "sort_trials",
    "best_trial",
    "running_best",
    "write_best_config",
    "find_store_folders",
    "StoreResults",
    "load_results",
    "results_json",
    "results_csv",
    "metric_names",
    "final_metrics",
]

BEST_CONFIG_FILENAME = "best_config.json"
FORMATS = ("table", "json", "csv")

_STATE_ORDER = {TrialState.COMPLETE: 0, TrialState.PRUNED: 1, TrialState.FAILED: 2, TrialState.INTERRUPTED: 3, TrialState.RUNNING: 4}


def _has_objective(trial: TrialRecord) -> bool:
    return trial.state is TrialState.COMPLETE and trial.objective is not None and math.isfinite(trial.objective)


def sort_trials(trials: Iterable[TrialRecord], *, maximize: bool) -> list[TrialRecord]:
    """COMPLETE trials best first, then the others by state and number."""

    def key(trial: TrialRecord) -> tuple[Any, ...]:
        if _has_objective(trial):
            return (0, -trial.objective if maximize else trial.objective, trial.number)  # type: ignore[operator]
        return (1 + _STATE_ORDER.get(trial.state, 5), 0.0, trial.number)

    return sorted(trials, key=key)


def best_trial(trials: Iterable[TrialRecord], *, maximize: bool) -> TrialRecord | None:
    """The COMPLETE trial with the best objective (the lowest number on ties), or ``None``."""
    ranked = sort_trials(trials, maximize=maximize)
    return ranked[0] if ranked and _has_objective(ranked[0]) else None


def running_best(trials: Sequence[TrialRecord], *, maximize: bool) -> list[tuple[int, float]]:
    """``(number, best objective so far)`` after each COMPLETE trial, in trial-number order."""
    best: float | None = None
    points = []
    for trial in sorted(trials, key=lambda t: t.number):
        if not _has_objective(trial):
            continue
        value = trial.objective
        assert value is not None
        if best is None or (value > best if maximize else value < best):
            best = value
        points.append((trial.number, best))
    return points


def write_best_config(folder: Path, best: TrialRecord) -> Path:
    """Write ``<folder>/best_config.json`` (the best trial's values) atomically; returns its path."""
    path = Path(folder) / BEST_CONFIG_FILENAME
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(dict(best.values), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def final_metrics(trial: TrialRecord) -> dict[str, Any]:
    """The last recorded value of each metric of ``trial`` (the ``final`` row the trial runner stores)."""
    final = trial.metrics.get("final")
    if isinstance(final, dict):
        return {str(k): v for k, v in final.items() if not isinstance(v, (dict, list))}
    return {str(k): v for k, v in trial.metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def metric_names(trials: Iterable[TrialRecord]) -> list[str]:
    """Every metric name in any trial's final values, in first-seen order."""
    names: dict[str, None] = {}
    for trial in trials:
        for name in final_metrics(trial):
            names.setdefault(name, None)
    return list(names)


class StoreResults:
    """One store's experiment and trials, read once (the store is closed afterwards)."""

    def __init__(
        self,
        folder: Path,
        experiment: ExperimentRecord,
        trials: list[TrialRecord],
        curves: dict[int, list[tuple[float, float]]] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.experiment = experiment
        self.trials = trials
        #: Trial number -> its learning curve, ``(step, value)`` in arrival order.
        self.curves = curves or {}

    @property
    def sorted(self) -> list[TrialRecord]:
        return sort_trials(self.trials, maximize=self.experiment.maximize)

    @property
    def best(self) -> TrialRecord | None:
        return best_trial(self.trials, maximize=self.experiment.maximize)

    @property
    def parameter_names(self) -> list[str]:
        return [str(spec["name"]) for spec in self.experiment.search_space]

    def count(self, state: TrialState) -> int:
        return sum(1 for t in self.trials if t.state is state)

    def write_best_config(self) -> Path | None:
        best = self.best
        return write_best_config(self.folder, best) if best is not None else None

    def to_json(self) -> dict[str, Any]:
        best = self.best
        return {
            "store": str(self.folder),
            **self.experiment.to_json(),
            "counts": {state.value: self.count(state) for state in TrialState},
            "best": best.to_json() if best else None,
            "trials": [t.to_json() for t in self.sorted],
        }


def find_store_folders(path: Path, *, results_root: Path = DEFAULT_RESULTS_ROOT) -> list[Path]:
    """Store folders named by ``path``: a store folder, a folder holding stores, or a manifest.

    A manifest names the stores of its experiment under ``results_root``.
    Raises :class:`HpoError` when nothing is found.
    """
    path = Path(path)
    if not path.exists():
        raise HpoError(f"{path}: no such file or folder")
    if path.is_file():
        if path.name == STORE_FILENAME:
            return [path.parent]
        from hpo_engine.manifest.validation import load_manifest  # the manifest core

        manifest = load_manifest(path)
        folders = [
            store_folder(results_root, manifest.settings.name, r.name)
            for r in manifest.references
            if r.optimization is not None
        ]
        found = [f for f in folders if ResultStore.exists(f)]
        if not found:
            raise HpoError(
                f"no results for experiment {manifest.settings.name!r} under {results_root}: "
                f"run `hpo run {path}` first (or pass --results DIR)"
            )
        return found
    if ResultStore.exists(path):
        return [path]
    found = sorted(
        p.parent
        for pattern in (f"*/{STORE_FILENAME}", f"*/*/{STORE_FILENAME}")
        for p in path.glob(pattern)
    )
    if not found:
        raise HpoError(f"{path}: no hpo results here ({STORE_FILENAME} not found in it or its sub-folders)")
    return found


def load_results(folder: Path, *, with_metrics: bool = True, read_only: bool = False) -> StoreResults:
    """The experiment and trials of the store in ``folder``; ``with_metrics=False`` skips reading metrics (a table does not show them);
    ``read_only``: through :meth:`ResultStore.open_read_only` (never writes the file: a reader beside a running ``hpo run``)."""
    opener = ResultStore.open_read_only if read_only else ResultStore.open
    try:
        with opener(folder) as store:
            return StoreResults(folder, store.experiment, store.trials(with_metrics=with_metrics), store.curves())
    except StoreError:
        raise
    except Exception as exc:  # pragma: no cover - sqlite raising something unexpected
        raise StoreError(f"cannot read {folder}: {exc}") from exc


def results_json(results: Sequence[StoreResults]) -> str:
    """All stores as one JSON document: ``{"experiments": [...]}`` with trials sorted."""
    return json.dumps({"experiments": [r.to_json() for r in results]}, indent=2)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def results_csv(results: Sequence[StoreResults]) -> str:
    """One row per trial (sorted), one column per hyper-parameter and per metric."""
    params: dict[str, None] = {}
    metrics: dict[str, None] = {}
    for result in results:
        params.update(dict.fromkeys(result.parameter_names))
        metrics.update(dict.fromkeys(metric_names(result.trials)))
    header = [
        "experiment", "reference", "rank", "number", "state", "objective_name", "objective",
        *params, *(f"metric.{m}" for m in metrics),
        "duration", "started_at", "ended_at", "exit_code", "failure_reason", "attempts",
        "steps_run", "step_reached",
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for result in results:
        for rank, trial in enumerate(result.sorted, start=1):
            writer.writerow(
                [
                    result.experiment.experiment,
                    result.experiment.reference,
                    rank,
                    trial.number,
                    trial.state.value,
                    result.experiment.objective,
                    _cell(trial.objective),
                    *(_cell(trial.values.get(p)) for p in params),
                    *(_cell(final_metrics(trial).get(m)) for m in metrics),
                    _cell(None if trial.duration is None else round(trial.duration, 3)),
                    _cell(trial.started_at),
                    _cell(trial.ended_at),
                    _cell(trial.exit_code),
                    _cell(trial.failure_reason),
                    trial.attempts,
                    trial.steps_run,
                    _cell(trial.step_reached),
                ]
            )
    return buffer.getvalue()
