"""The chart data of a run, read with the engine's own readers — what the editor's results view
(``hpo_lsp``) and the live page of ``hpo dashboard`` draw: per store of a run, the optimization history (objective per trial, running best), the hyper-parameter axes
(``log`` for power ranges, ``category`` with its labels, else ``linear``), the learning curves
and the early-stopping savings — the same data as ``hpo plot`` and ``hpo dashboard``.

Pure reading (no LSP): :func:`~hpo_engine.runner.results.load_results` (trials and the
``intermediate_values`` curves), :func:`~hpo_engine.cli.plots.data.view_of` and
:func:`~hpo_engine.cli.plots.data.axis_for` (axes), :class:`~hpo_engine.cli.plots.PlotContext`
(a trial's curve: the live one, else its metrics series) and
:func:`~hpo_engine.runner.early_stopping.monitor.steps_saved` (epochs saved). Trial numbers and
steps are as the store holds them (trial numbers 0-based, steps as the program wrote them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hpo_engine.errors import HpoError
from hpo_engine.runner.store import TrialRecord

__all__ = ["MAX_CURVE_POINTS", "thin_curve", "charts_json", "store_charts", "curve_trials", "pruning_json", "pruned_at"]

#: A curve longer than this is thinned to every n-th point (its last point kept) for the view.
MAX_CURVE_POINTS = 400

_UNITS = {"step": "steps", "steps": "steps", "epoch": "epochs", "iteration": "iterations"}


def _finite(value: Any) -> Any:
    return value if not isinstance(value, float) or math.isfinite(value) else None


def pruned_at(trial: TrialRecord) -> str | None:
    """``epoch 3``: where the stopping rule stopped ``trial`` (from its reason), else the step it reached."""
    reason = trial.failure_reason or ""
    if reason.startswith("pruned at "):
        return reason[len("pruned at "):].split(" by ", 1)[0]
    if trial.state.value == "pruned" and trial.step_reached is not None:
        step = trial.step_reached
        return f"step {int(step) if float(step).is_integer() else step:g}"
    return None


def pruning_json(trials: Sequence[TrialRecord], max_resource: int | None = None) -> dict[str, Any] | None:
    """``{pruned, steps_run, steps_without_stopping, saved_percent, unit}`` when trials were pruned
    (``None`` otherwise). ``max_resource`` is the manifest's full run in steps (``None``: the
    longest complete trial's, as ``hpo run`` counts without it)."""
    from hpo_engine.runner.early_stopping.monitor import steps_saved

    pruned = sum(1 for t in trials if t.state.value == "pruned")
    if not pruned:
        return None
    measured = steps_saved(trials, max_resource)
    named = [p.split(" ")[0] for t in trials if (t.failure_reason or "").startswith("pruned at ") and (p := pruned_at(t))]
    key = named[0] if named else next((str(t.metrics.get("step_key")) for t in trials if t.metrics.get("step_key")), "step")
    run, full = measured if measured else (None, None)
    return {
        "pruned": pruned,
        "steps_run": run,
        "steps_without_stopping": full,
        "saved_percent": None if not full else round(100.0 * (1.0 - run / full)),  # type: ignore[operator]
        "unit": _UNITS.get(key, key),
    }


def thin_curve(points: list[tuple[float, float]]) -> list[list[float]]:
    if len(points) <= MAX_CURVE_POINTS:
        return [[float(s), float(v)] for s, v in points]
    every = math.ceil(len(points) / MAX_CURVE_POINTS)
    kept = points[::every]
    if kept[-1] != points[-1]:
        kept.append(points[-1])
    return [[float(s), float(v)] for s, v in kept]


def curve_trials(trials: Sequence[TrialRecord], best: int | None, limit: int | None) -> list[TrialRecord]:
    """The trials whose learning curves are drawn, by number: all, or beyond ``limit`` the best,
    the running ones and then the newest (highest numbers) up to ``limit``."""
    ordered = sorted(trials, key=lambda t: t.number)
    if limit is None or len(ordered) <= limit:
        return ordered
    kept = [t for t in ordered if t.number == best or t.state.value == "running"]
    rest = [t for t in reversed(ordered) if t.number != best and t.state.value != "running"][: max(0, limit - len(kept))]
    return sorted(kept + rest, key=lambda t: t.number)


def store_charts(folder: Path, max_resources: Mapping[str, int | None] | None = None, *, read_only: bool = False,
                 max_curves: int | None = None) -> dict[str, Any] | None:
    """The chart data of the store in ``folder`` (``None`` while it cannot be read);
    ``max_resources``: the manifest's ``max_resource`` by reference name; ``read_only``: the store
    is opened read-only (see :func:`~hpo_engine.runner.results.load_results`); ``max_curves``:
    at most this many learning curves (:func:`curve_trials`; ``None``: every trial's).

    Per trial: ``duration`` in seconds (``None`` while it runs), ``attempts`` (launches);
    ``complete``: how many trials are complete with a finite objective; ``curves_total``: how
    many trials the curves were chosen from."""
    from hpo_engine.cli.plots import PlotContext
    from hpo_engine.cli.plots.data import axis_for, view_of
    from hpo_engine.runner.results import load_results

    try:
        results = load_results(folder, read_only=read_only)
    except (HpoError, OSError):
        return None
    view = view_of(results)
    context = PlotContext()
    axes = [axis_for(name, [view]) for name in view.parameter_names]
    step_key = next((str(t.metrics.get("step_key")) for t in view.trials if t.metrics.get("step_key")), None)
    curves = []
    best = None if view.best is None else view.best.number
    for trial in curve_trials(view.trials, best, max_curves):
        points = context.curve(view, trial)
        if points:
            curves.append({"number": trial.number, "state": trial.state.value, "points": thin_curve(list(points))})
    return {
        "experiment": view.experiment.experiment,
        "method": view.experiment.method,
        "budget": view.experiment.budget,
        "reference": view.experiment.reference,
        "objective": view.experiment.objective,
        "maximize": view.experiment.maximize,
        "step_key": step_key,
        "axes": [{"name": a.name, "scale": a.scale, "categories": list(a.categories), "base": a.base} for a in axes],
        "trials": [
            {
                "number": t.number,
                "state": t.state.value,
                "objective": _finite(t.objective),
                "values": {k: _finite(v) for k, v in t.values.items()},
                "step_reached": t.step_reached,
                "pruned_at": pruned_at(t),
                "duration": t.duration,
                "attempts": t.attempts,
            }
            for t in sorted(view.trials, key=lambda t: t.number)
        ],
        "best": best,
        "complete": len(view.complete),
        "running_best": [[n, b] for n, b in view.running_best],
        "curves": curves,
        "curves_total": len(view.trials),
        "pruning": pruning_json(view.trials, (max_resources or {}).get(view.experiment.reference)),
    }


def charts_json(folders: Iterable[Path], max_resources: Mapping[str, int | None] | None = None) -> dict[str, Any]:
    """``{"stores": [store_charts(...)]}`` for a run's store folders; ``max_resources`` by reference name."""
    charts = (store_charts(folder, max_resources) for folder in folders)
    return {"stores": [chart for chart in charts if chart is not None]}
