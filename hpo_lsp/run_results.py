"""Results of experiment runs, read for the editor: a manifest's runs (its history), the
best values found, the metric names recorded, and run summaries as JSON.

Pure reading of :mod:`hpo_engine.runner.store` files (no LSP). The server holds one
:class:`RunResults` (``server.run_results``): a bounded cache (least recently used
first out) of the stores read, keyed by store folder and checked against the store
files' modification times. The ``experiments`` feature reports runs with it; hover
and completion use :meth:`RunResults.best_values_for` and
:meth:`RunResults.metric_names_for` (features never import each other).

A **run** is one results root: editor runs go to ``<manifest folder>/hpo-results/editor/
<manifest stem>/<UTC time>/`` (a new root per run); ``hpo run``'s default root
``<manifest folder>/hpo-results/`` counts as one run made of the stores whose
``manifest_path`` is that manifest. A run is ``complete`` when every store has as many
complete, failed or pruned trials as its budget; else ``incomplete`` (stopped, interrupted or
failed early: ``hpo run <manifest> --results <its root> --resume`` continues it).
The *preferred* run (hover's best values, "Show results") is the newest complete
run, else the newest run.
"""

from __future__ import annotations

import contextlib
import math
import shlex
import time
from collections import OrderedDict
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
    "Run",
    "RunResults",
    "uri_to_path",
    "editor_results_root",
    "run_roots",
    "read_store",
    "resume_command",
    "trial_json",
    "summary_json",
    "run_json",
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


def run_roots(manifest: Path) -> list[tuple[Path, list[Path]]]:
    """Every run of ``manifest`` as (results root, its store folders), newest editor run first,
    then ``hpo run``'s default ``hpo-results`` root (its stores of this manifest), if any."""
    found: list[tuple[Path, list[Path]]] = []
    runs = manifest.parent / EDITOR_RUNS / manifest.stem
    if runs.is_dir():
        for root in sorted((p for p in runs.iterdir() if p.is_dir()), reverse=True):
            folders = _store_folders_in(root)
            if folders:
                found.append((root, folders))
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
            found.append((default_root, mine))
    return found


def resume_command(manifest: Path, root: Path) -> list[str]:
    """The command that continues the run in results root ``root``: ``hpo run`` looks for the
    stores in ``<--results>/<experiment>/<reference>/``, so ``--results`` is the run's root."""
    return ["hpo", "run", str(manifest), "--results", str(root), "--resume"]


@dataclass
class StoreRead:
    """One store's experiment (reference, objective, direction, budget, creation time) and its trials."""

    reference: str
    objective: str
    maximize: bool
    budget: int
    trials: list[TrialRecord]
    created_at: float = 0.0
    #: The store's folder (``None`` for a read made without one).
    folder: Path | None = None

    @property
    def finished(self) -> int:
        """Trials that ended complete, failed or pruned (what counts against the budget)."""
        return sum(1 for t in self.trials if t.state.value in ("complete", "failed", "pruned"))


def read_store(folder: Path) -> StoreRead | None:
    """One store's experiment and trials, or ``None`` while it is not (fully) there yet."""
    if not ResultStore.exists(folder):
        return None
    try:
        with ResultStore.open(folder) as store:
            experiment = store.experiment
            return StoreRead(experiment.reference, experiment.objective, experiment.maximize, experiment.budget, store.trials(), experiment.created_at, folder)
    except HpoError:
        return None


@dataclass(frozen=True)
class BestValues:
    """The best trial of one reference: its number, objective and hyper-parameter values,
    and a label of the run it comes from (see :meth:`Run.label`)."""

    reference: str
    trial: int
    objective_name: str
    objective: float
    maximize: bool
    values: dict[str, Any]
    run: str = ""


@dataclass(frozen=True)
class Run:
    """One run of a manifest: its results root, stores and what they hold."""

    root: Path
    reads: tuple[StoreRead, ...]
    editor: bool

    @property
    def started_at(self) -> float:
        """Creation time of its first store (Unix seconds)."""
        return min((r.created_at for r in self.reads if r.created_at), default=0.0)

    @property
    def complete(self) -> bool:
        return bool(self.reads) and all(r.finished >= r.budget for r in self.reads)

    @property
    def state(self) -> str:
        return "complete" if self.complete else "incomplete"

    @property
    def trials(self) -> int:
        return sum(len(r.trials) for r in self.reads)

    @property
    def budget(self) -> int:
        return sum(r.budget for r in self.reads)

    def best(self) -> tuple[StoreRead, TrialRecord] | None:
        """The best trial over the run's stores (by each store's direction)."""
        top: tuple[StoreRead, TrialRecord] | None = None
        for read in self.reads:
            trial = best_trial(read.trials, maximize=read.maximize)
            if trial is None or trial.objective is None:
                continue
            if top is None or (trial.objective > top[1].objective if read.maximize else trial.objective < top[1].objective):  # type: ignore[operator]
                top = (read, trial)
        return top

    def label(self) -> str:
        """``run of 2026-12-01 21:03 UTC, complete, 20 trials`` (``hpo run`` for the default root)."""
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.started_at)) if self.started_at else "?"
        where = "run" if self.editor else "hpo run"
        return f"{where} of {when}, {self.state}, {self.trials} trial{'s' if self.trials != 1 else ''}"


class RunResults:
    """Reads the runs of manifests, with a bounded cache of store reads (the server holds one).

    ``max_stores`` bounds the cache: past it, the store read least recently used goes.
    """

    def __init__(self, max_stores: int = 64) -> None:
        self.max_stores = max_stores
        self._reads: OrderedDict[Path, tuple[tuple[float, ...], StoreRead | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._reads)

    def read(self, folder: Path) -> StoreRead | None:
        """:func:`read_store`, cached until the store's files change."""
        stamps: list[float] = []
        for name in (STORE_FILENAME, STORE_FILENAME + "-wal"):
            try:
                stamps.append((folder / name).stat().st_mtime_ns)
            except OSError:
                stamps.append(-1)
        key = tuple(stamps)
        cached = self._reads.get(folder)
        if cached is not None and cached[0] == key:
            self._reads.move_to_end(folder)
            return cached[1]
        read = read_store(folder)
        self._reads[folder] = (key, read)
        self._reads.move_to_end(folder)
        while len(self._reads) > self.max_stores:
            self._reads.popitem(last=False)
        return read

    def runs(self, manifest: Path) -> list[Run]:
        """Every run of ``manifest``, newest first (see :func:`run_roots`)."""
        runs = []
        for root, folders in run_roots(manifest):
            reads = tuple(r for r in (self.read(f) for f in folders) if r is not None)
            if reads:
                runs.append(Run(root, reads, editor=root.parent.parent == manifest.parent / EDITOR_RUNS))
        runs.sort(key=lambda r: r.started_at, reverse=True)
        return runs

    def preferred(self, manifest: Path) -> Run | None:
        """The newest complete run, else the newest run."""
        runs = self.runs(manifest)
        return next((r for r in runs if r.complete), runs[0] if runs else None)

    def run_at(self, manifest: Path, root: Path) -> Run | None:
        """The run of ``manifest`` whose results root is ``root`` (``None``: not one of its runs)."""
        wanted = root.resolve()
        return next((r for r in self.runs(manifest) if r.root.resolve() == wanted), None)

    def best_values_for(self, uri: str) -> dict[str, BestValues]:
        """Per reference name, the best trial of the preferred run of the manifest at ``uri``.

        Empty when there are no results (or ``uri`` is not a file). For hover: the best
        value of hyper-parameter ``p`` of reference ``r`` is ``best_values_for(uri)[r].values[p]``.
        """
        path = uri_to_path(uri)
        run = self.preferred(path) if path is not None else None
        if run is None:
            return {}
        best: dict[str, BestValues] = {}
        for read in run.reads:
            trial = best_trial(read.trials, maximize=read.maximize)
            if trial is not None and trial.objective is not None:
                best[read.reference] = BestValues(read.reference, trial.number, read.objective, trial.objective, read.maximize, dict(trial.values), run.label())
        return best

    def metric_names_for(self, uri: str) -> list[str]:
        """Every metric name recorded by the trials of the preferred run of the manifest at ``uri``."""
        path = uri_to_path(uri)
        run = self.preferred(path) if path is not None else None
        names: dict[str, None] = {}
        for read in run.reads if run is not None else ():
            for name in metric_names(read.trials):
                names.setdefault(name, None)
        return list(names)


def _finite(value: Any) -> Any:
    return value if not isinstance(value, float) or math.isfinite(value) else None


def trial_json(reference: str, trial: TrialRecord) -> dict[str, Any]:
    """A trial as the client sees it: reference, number, values, state, objective, final metrics,
    the step it reached and, for a pruned trial, where it was stopped (``pruned_at``: ``epoch 3``)."""
    from hpo_engine.cli.plots.chart_data import pruned_at

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
        "pruned_at": pruned_at(trial),
    }


def run_json(manifest: Path, run: Run) -> dict[str, Any]:
    """A run for the client's history picker: root, start time, state, trials, budget, best."""
    top = run.best()
    command = resume_command(manifest, run.root)
    return {
        "results_dir": str(run.root),
        "started_at": run.started_at or None,
        "state": run.state,
        "trials": run.trials,
        "budget": run.budget,
        "editor": run.editor,
        "label": run.label(),
        "objective": run.reads[0].objective if run.reads else None,
        "best": None if top is None else {"reference": top[0].reference, "number": top[1].number, "objective": _finite(top[1].objective)},
        "resume": None if run.complete else {"command": command, "text": shlex.join(command)},
    }


def max_resources_of(manifest: Path | None) -> dict[str, int | None]:
    """``max_resource`` of each reference of ``manifest`` (empty when it cannot be read now)."""
    from hpo_engine.manifest.validation import load_manifest

    if manifest is None:
        return {}
    try:
        loaded = load_manifest(manifest)
    except (HpoError, OSError):
        return {}
    return {r.name: r.optimization.method.early_stopping.max_resource for r in loaded.references if r.optimization is not None}


def summary_json(uri: str, root: Path, reads: list[StoreRead], state: str, *, charts: bool = True, **extra: Any) -> dict[str, Any]:
    """The run summary: every trial (sorted by objective), the best one, where the results are;
    with ``charts``, the chart data of :func:`hpo_engine.cli.plots.chart_data.charts_json` (key ``charts``) and
    the early-stopping savings of each store (key ``pruning``: reference -> savings or ``None``)."""
    from hpo_engine.cli.plots.chart_data import charts_json
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
    summary: dict[str, Any] = {
        "uri": uri,
        "results_dir": str(root),
        "state": state,
        "objective": reads[0].objective if reads else None,
        "maximize": maximize,
        "trials": rows,
        "best": best,
        **extra,
    }
    if charts:
        manifest = extra.get("manifest")
        data = charts_json([r.folder for r in reads if r.folder is not None], max_resources_of(Path(manifest) if manifest else None))
        summary["charts"] = data
        summary["pruning"] = {store["reference"]: store["pruning"] for store in data["stores"]}
    return summary
