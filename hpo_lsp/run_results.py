"""Results of experiment runs, read for the editor: where a manifest's runs are, the best
values found, the metric names recorded, and run summaries as JSON.

Pure reading of :mod:`hpo_engine.runner.store` files (no LSP): the ``experiments`` feature uses it
to report runs, and hover / completion use :func:`best_values_for` and
:func:`metric_names_for` (features never import each other).

Results of editor runs go to ``<manifest folder>/hpo-results/editor/<manifest stem>/<UTC
time>/`` (a new results root per run, so a run never collides with an earlier one); the
"latest run" of a manifest is the newest of those, else the stores in the ``hpo-results``
folder ``hpo run`` uses by default whose ``manifest_path`` is that manifest.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo_engine.errors import HpoError
from hpo_engine.runner.results import best_trial, final_metrics, metric_names, sort_trials
from hpo_engine.runner.store import DEFAULT_RESULTS_ROOT, STORE_FILENAME, ResultStore, TrialRecord

__all__ = [
    "EDITOR_RUNS",
    "BestValues",
    "StoreRead",
    "uri_to_path",
    "editor_results_root",
    "latest_results",
    "read_store",
    "read_latest",
    "best_values_for",
    "metric_names_for",
    "trial_json",
    "summary_json",
]

EDITOR_RUNS = Path("hpo-results") / "editor"


def uri_to_path(uri: str) -> Path | None:
    """The file a ``file:`` uri names (``None`` for other schemes)."""
    from pygls.uris import to_fs_path

    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def editor_results_root(manifest: Path, stamp: str | None = None) -> Path:
    """``<manifest folder>/hpo-results/editor/<stem>/<stamp>``: the results root of one editor run."""
    stamp = stamp or time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + f"-{int(time.time() * 1000) % 1000:03d}"
    return manifest.parent / EDITOR_RUNS / manifest.stem / stamp


def _store_folders_in(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.glob(f"*/*/{STORE_FILENAME}"))


def latest_results(manifest: Path) -> tuple[Path, list[Path]] | None:
    """The results root of the latest run of ``manifest`` and its store folders.

    Editor runs first (the newest), then ``hpo run``'s default ``hpo-results`` folder
    beside the manifest (any store whose ``manifest_path`` is this manifest).
    """
    runs = manifest.parent / EDITOR_RUNS / manifest.stem
    if runs.is_dir():
        for root in sorted((p for p in runs.iterdir() if p.is_dir()), reverse=True):
            folders = _store_folders_in(root)
            if folders:
                return root, folders
    default_root = manifest.parent / DEFAULT_RESULTS_ROOT
    if default_root.is_dir():
        mine = []
        for folder in _store_folders_in(default_root):
            with contextlib.suppress(HpoError, OSError):
                with ResultStore.open(folder) as store:
                    recorded = store.experiment.manifest_path
                if recorded and Path(recorded).resolve() == manifest.resolve():
                    mine.append(folder)
        if mine:
            return default_root, mine
    return None


@dataclass
class StoreRead:
    """One store's experiment (reference, objective, direction, budget) and its trials."""

    reference: str
    objective: str
    maximize: bool
    budget: int
    trials: list[TrialRecord]


def read_store(folder: Path) -> StoreRead | None:
    """One store's experiment and trials, or ``None`` while it is not (fully) there yet."""
    if not ResultStore.exists(folder):
        return None
    try:
        with ResultStore.open(folder) as store:
            experiment = store.experiment
            return StoreRead(experiment.reference, experiment.objective, experiment.maximize, experiment.budget, store.trials())
    except HpoError:
        return None


_cache: dict[Path, tuple[tuple[float, ...], list[StoreRead]]] = {}


def read_latest(manifest: Path) -> list[StoreRead]:
    """The stores of the latest run of ``manifest``, cached by the stores' modification times."""
    found = latest_results(manifest)
    if found is None:
        return []
    _root, folders = found
    stamps = []
    for folder in folders:
        for name in (STORE_FILENAME, STORE_FILENAME + "-wal"):
            with contextlib.suppress(OSError):
                stamps.append((folder / name).stat().st_mtime)
    key = tuple([hash(tuple(folders))] + stamps)
    cached = _cache.get(manifest)
    if cached and cached[0] == key:
        return cached[1]
    reads = [r for r in (read_store(f) for f in folders) if r is not None]
    _cache[manifest] = (key, reads)
    return reads


@dataclass(frozen=True)
class BestValues:
    """The best trial of one reference: its number, objective and hyper-parameter values."""

    reference: str
    trial: int
    objective_name: str
    objective: float
    maximize: bool
    values: dict[str, Any]


def best_values_for(uri: str) -> dict[str, BestValues]:
    """Per reference name, the best trial of the latest run of the manifest at ``uri``.

    Empty when there are no results (or ``uri`` is not a file). For hover: the best
    value of hyper-parameter ``p`` of reference ``r`` is ``best_values_for(uri)[r].values[p]``.
    """
    path = uri_to_path(uri)
    if path is None:
        return {}
    best: dict[str, BestValues] = {}
    for read in read_latest(path):
        trial = best_trial(read.trials, maximize=read.maximize)
        if trial is not None and trial.objective is not None:
            best[read.reference] = BestValues(read.reference, trial.number, read.objective, trial.objective, read.maximize, dict(trial.values))
    return best


def metric_names_for(uri: str) -> list[str]:
    """Every metric name recorded by the trials of the latest run of the manifest at ``uri`` (for ``objective`` completion)."""
    path = uri_to_path(uri)
    if path is None:
        return []
    names: dict[str, None] = {}
    for read in read_latest(path):
        for name in metric_names(read.trials):
            names.setdefault(name, None)
    return list(names)


def _finite(value: Any) -> Any:
    return value if not isinstance(value, float) or math.isfinite(value) else None


def trial_json(reference: str, trial: TrialRecord) -> dict[str, Any]:
    """A trial as the client sees it: reference, number, values, state, objective and final metrics."""
    return {
        "reference": reference,
        "number": trial.number,
        "values": dict(trial.values),
        "state": trial.state.value,
        "objective": _finite(trial.objective),
        "metrics": {k: _finite(v) for k, v in final_metrics(trial).items()},
        "started_at": trial.started_at,
        "ended_at": trial.ended_at,
        "failure_reason": trial.failure_reason,
        "step_reached": trial.step_reached,
    }


def summary_json(uri: str, root: Path, reads: list[StoreRead], state: str, **extra: Any) -> dict[str, Any]:
    """The run summary: every trial (sorted by objective), the best one, where the results are."""
    maximize = reads[0].maximize if reads else True
    rows: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    for read in reads:
        rows.extend(trial_json(read.reference, t) for t in sort_trials(read.trials, maximize=read.maximize))
        top = best_trial(read.trials, maximize=read.maximize)
        if top is not None and top.objective is not None:
            better = best is None or (top.objective > best["objective"] if read.maximize else top.objective < best["objective"])
            if better:
                best = trial_json(read.reference, top)
    if len(reads) > 1:
        rows.sort(key=lambda r: (r["objective"] is None, -(r["objective"] or 0) if maximize else (r["objective"] or 0)))
    return {
        "uri": uri,
        "results_dir": str(root),
        "state": state,
        "objective": reads[0].objective if reads else None,
        "maximize": maximize,
        "trials": rows,
        "best": best,
        **extra,
    }
