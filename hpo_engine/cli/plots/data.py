"""What every plot kind draws from: one :class:`StoreView` per store, and how each axis is scaled.

A hyper-parameter's axis is ``log`` for a range with ``power`` (positive values), ``category``
for ``string_values`` (or any text value), else ``linear``. :func:`coordinate` puts a value on
its axis: the value itself, or the category's 0-based position.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hpo_engine.manifest.dimension import Dimension
from hpo_engine.runner.results import StoreResults, best_trial, running_best
from hpo_engine.runner.store import ExperimentRecord, TrialRecord
from hpo_engine.runner.trial_state import TrialState

__all__ = ["quiet_optuna", "Axis", "StoreView", "view_of", "axis_for", "coordinate", "is_pruned", "COLORS"]

#: One color per compared store (matplotlib's tab10 names; plotly takes them too).
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def quiet_optuna() -> None:
    """Optuna logs each study it creates at INFO; the commands building studies show warnings only."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)


def is_pruned(trial: TrialRecord) -> bool:
    """True for a trial stopped early (the ``pruned`` state, where the store has it)."""
    return trial.state.value == "pruned"


@dataclass(frozen=True, slots=True)
class Axis:
    """How one hyper-parameter is drawn: ``scale`` is ``log``, ``category`` or ``linear``."""

    name: str
    scale: str
    categories: tuple[str, ...] = ()
    base: float = 10.0

    @property
    def label(self) -> str:
        return self.name + (" (log)" if self.scale == "log" else "")


@dataclass(frozen=True, slots=True)
class StoreView:
    """One store ready to draw: its trials split by state, and the best one."""

    label: str
    experiment: ExperimentRecord
    trials: tuple[TrialRecord, ...]
    complete: tuple[TrialRecord, ...]
    failed: tuple[TrialRecord, ...]
    pruned: tuple[TrialRecord, ...]
    best: TrialRecord | None
    running_best: tuple[tuple[int, float], ...]
    dimensions: tuple[tuple[str, Dimension | None], ...]
    #: Trial number -> its live learning curve ``[(step, value)]`` as the engine stored it while
    #: the trial ran (empty for stores from before live curves; then the metric files' series is used).
    live_curves: Mapping[int, list[tuple[float, float]]] = field(default_factory=dict)

    @property
    def parameter_names(self) -> list[str]:
        return [name for name, _ in self.dimensions]

    def dimension(self, name: str) -> Dimension | None:
        return dict(self.dimensions).get(name)


def view_of(results: StoreResults, *, label: str | None = None) -> StoreView:
    """The :class:`StoreView` of one loaded store (``label`` defaults to the reference name)."""
    experiment = results.experiment
    try:
        by_name: dict[str, Dimension] = {d.name: d for d in experiment.space}
    except Exception:  # an old or odd store: draw without scale information
        by_name = {}
    trials = tuple(results.trials)
    complete = tuple(
        t for t in trials if t.state is TrialState.COMPLETE and t.objective is not None and math.isfinite(t.objective)
    )
    return StoreView(
        label=label or experiment.reference,
        experiment=experiment,
        trials=trials,
        complete=complete,
        failed=tuple(t for t in trials if t.state is TrialState.FAILED),
        pruned=tuple(t for t in trials if is_pruned(t)),
        best=best_trial(trials, maximize=experiment.maximize),
        running_best=tuple(running_best(list(trials), maximize=experiment.maximize)),
        dimensions=tuple((name, by_name.get(name)) for name in results.parameter_names),
        live_curves=dict(getattr(results, "curves", None) or {}),
    )


def axis_for(name: str, views: list[StoreView]) -> Axis:
    """The axis of hyper-parameter ``name`` over all ``views`` (the first one with a dimension decides)."""
    from hpo_engine.manifest.kinds import StringValues

    dimension = next((v.dimension(name) for v in views if v.dimension(name) is not None), None)
    seen = [t.values[name] for v in views for t in v.trials if name in t.values]
    if isinstance(dimension, StringValues) or any(isinstance(x, str) for x in seen):
        categories = [str(c) for c in dimension.values()] if isinstance(dimension, StringValues) else []
        for value in seen:
            if str(value) not in categories:
                categories.append(str(value))
        return Axis(name, "category", tuple(categories))
    power = getattr(dimension, "power", None)
    if power is not None and float(power) > 0 and float(power) != 1 and all(float(x) > 0 for x in seen):
        return Axis(name, "log", base=float(power) if float(power) > 1 else 10.0)
    return Axis(name, "linear")


def coordinate(axis: Axis, value: Any) -> float | None:
    """Where ``value`` sits on ``axis`` (a category's position); ``None`` when it cannot be drawn."""
    if value is None:
        return None
    if axis.scale == "category":
        try:
            return float(axis.categories.index(str(value)))
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)
