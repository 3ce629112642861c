"""hpo's store -> an Optuna study: the one converter used by importance, ``hpo export`` and the dashboard.

Each store (one experiment reference) becomes one Optuna study named
``<experiment>/<reference>`` with the store's direction. Each hyper-parameter becomes an
Optuna distribution (:func:`distributions_for`):

- a range with ``power``: a log-scaled ``FloatDistribution`` over its values
  (``power**min .. power**max``, also for ``int_range``: the values are powers, not a grid
  Optuna could step through);
- ``int_range`` without power: ``IntDistribution(min, max, step)``;
- ``double_range`` without power: ``FloatDistribution(min, max[, step])``;
- ``int_values`` / ``double_values`` / ``string_values``: ``CategoricalDistribution``.

Trial states map as: complete -> COMPLETE (a non-finite objective -> FAIL), failed and
interrupted -> FAIL, running -> RUNNING, pruned -> PRUNED. Trials are added in number order,
so Optuna's 0-based trial numbers equal hpo's for a store without gaps; hpo's number is
also kept as the user attribute ``hpo_number``. A learning curve (the objective per step
the trial recorded, :func:`trial_curve`) becomes the trial's intermediate values.

Only Optuna's public API is used (``optuna.distributions``, ``optuna.trial.create_trial``,
the ``BaseStorage`` methods). Optuna is imported when a function here is called.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hpo_engine.errors import HpoError
from hpo_engine.manifest.dimension import Dimension
from hpo_engine.runner.store import ExperimentRecord, TrialRecord
from hpo_engine.runner.trial_state import TrialState

if TYPE_CHECKING:  # optuna is imported on first use (keeps `hpo --help` start-up short)
    import optuna
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial

__all__ = [
    "study_name",
    "distributions_for",
    "trial_curve",
    "frozen_trial",
    "add_store_to_storage",
    "study_from_results",
    "export_to_storage",
]


def study_name(experiment: ExperimentRecord) -> str:
    """``<experiment>/<reference>``: the Optuna study name of one store."""
    return f"{experiment.experiment}/{experiment.reference}"


def _distribution(dimension: Dimension) -> "BaseDistribution":
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    from hpo_engine.manifest.kinds import DoubleRange, IntRange

    if isinstance(dimension, (DoubleRange, IntRange)):
        if dimension.power is not None:
            if isinstance(dimension, DoubleRange) and not dimension.is_finite:
                low, high = dimension.bounds
            else:
                first, last = float(dimension.value_at(0)), float(dimension.value_at(-1))
                low, high = min(first, last), max(first, last)
            return FloatDistribution(low, high, log=True)
        if isinstance(dimension, IntRange):
            step = int(dimension.step or 1)
            return IntDistribution(int(dimension.min_value), int(dimension.value_at(-1)), step=step)
        if dimension.is_finite and dimension.step is not None and dimension.count > 1:
            return FloatDistribution(float(dimension.value_at(0)), float(dimension.value_at(-1)), step=float(dimension.step))
        if dimension.is_finite:
            value = float(dimension.value_at(0))
            return FloatDistribution(value, float(dimension.value_at(-1)))
        low, high = dimension.bounds
        return FloatDistribution(low, high)
    return CategoricalDistribution(tuple(dimension.values()))


def distributions_for(experiment: ExperimentRecord) -> dict[str, "BaseDistribution"]:
    """One Optuna distribution per hyper-parameter of ``experiment``'s search space (see the module doc)."""
    try:
        space = experiment.space
    except Exception as exc:  # a store written by a different version: say so, no traceback
        raise HpoError(f"the search space of {study_name(experiment)} cannot be read: {exc}") from exc
    return {dimension.name: _distribution(dimension) for dimension in space}


def trial_curve(trial: TrialRecord, objective: str) -> list[tuple[int, float]]:
    """The objective by step that ``trial`` recorded: ``[(step, value)]`` in recorded order.

    Read from the stored metrics series (``val_dict_list.json`` rows, emetrics lines or
    stdout); a row without a step key counts by its position (0-based). Non-finite and
    non-numeric values are left out; a later row for the same step replaces the earlier.
    """
    metrics = trial.metrics
    series = metrics.get("series") if isinstance(metrics, Mapping) else None
    if not isinstance(series, list):
        return []
    step_key = metrics.get("step_key")
    points: dict[int, float] = {}
    for position, row in enumerate(series):
        if not isinstance(row, Mapping) or objective not in row:
            continue
        value, step = row[objective], row.get(step_key, position) if step_key else position
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step):
            step = position
        points[int(step)] = float(value)
    return list(points.items())


def _optuna_state(trial: TrialRecord) -> "optuna.trial.TrialState":
    from optuna.trial import TrialState as OptunaState

    if trial.state is TrialState.COMPLETE:
        finite = trial.objective is not None and math.isfinite(trial.objective)
        return OptunaState.COMPLETE if finite else OptunaState.FAIL
    if trial.state is TrialState.RUNNING:
        return OptunaState.RUNNING
    if trial.state.value == "pruned":  # the early-stopping state, where the store has it
        return OptunaState.PRUNED
    return OptunaState.FAIL


def _params(trial: TrialRecord, distributions: Mapping[str, "BaseDistribution"]) -> tuple[dict[str, Any], dict[str, Any]]:
    params: dict[str, Any] = {}
    used: dict[str, Any] = {}
    for name, distribution in distributions.items():
        if name not in trial.values:
            continue
        value = trial.values[name]
        if type(distribution).__name__ == "FloatDistribution" and isinstance(value, (int, float)):
            value = float(value)
        try:
            distribution.to_internal_repr(value)
        except ValueError:
            continue
        params[name], used[name] = value, distribution
    return params, used


def frozen_trial(trial: TrialRecord, experiment: ExperimentRecord, distributions: Mapping[str, "BaseDistribution"]) -> "FrozenTrial":
    """The Optuna trial of one hpo trial (state, objective, params, curve, times, log paths)."""
    import datetime

    from optuna.trial import TrialState as OptunaState, create_trial

    state = _optuna_state(trial)
    params, used = _params(trial, distributions)
    user_attrs: dict[str, Any] = {"hpo_number": trial.number, "hpo_state": trial.state.value, "attempts": trial.attempts}
    for key in ("failure_reason", "stdout_path", "stderr_path", "exit_code"):
        value = getattr(trial, key)
        if value is not None:
            user_attrs[key] = value
    if trial.duration is not None:
        user_attrs["duration_s"] = round(trial.duration, 3)
    curve = trial_curve(trial, experiment.objective)
    created = create_trial(
        state=state,
        value=trial.objective if state is OptunaState.COMPLETE else None,
        params=params,
        distributions=used,
        user_attrs=user_attrs,
        intermediate_values=dict(curve),
    )
    if trial.started_at is not None:
        created.datetime_start = datetime.datetime.fromtimestamp(trial.started_at)
    if trial.ended_at is not None and state is not OptunaState.RUNNING:
        created.datetime_complete = datetime.datetime.fromtimestamp(trial.ended_at)
    return created


def _study_attrs(experiment: ExperimentRecord) -> dict[str, Any]:
    return {
        "hpo_experiment": experiment.experiment,
        "hpo_reference": experiment.reference,
        "hpo_method": experiment.method,
        "hpo_objective": experiment.objective,
        "hpo_budget": experiment.budget,
    }


def add_store_to_storage(
    storage: "optuna.storages.BaseStorage",
    experiment: ExperimentRecord,
    trials: Iterable[TrialRecord],
    *,
    name: str | None = None,
) -> int:
    """Create the study of one store in ``storage`` and add its trials; returns the study id.

    Raises :class:`HpoError` when a study of that name is already there.
    """
    import optuna
    from optuna.study import StudyDirection

    name = name or study_name(experiment)
    direction = StudyDirection.MAXIMIZE if experiment.maximize else StudyDirection.MINIMIZE
    try:
        study_id = storage.create_new_study([direction], name)
    except optuna.exceptions.DuplicatedStudyError as exc:
        raise HpoError(f"the Optuna storage already has a study named {name!r}") from exc
    for key, value in _study_attrs(experiment).items():
        storage.set_study_user_attr(study_id, key, value)
    distributions = distributions_for(experiment)
    for trial in sorted(trials, key=lambda t: t.number):
        storage.create_new_trial(study_id, template_trial=frozen_trial(trial, experiment, distributions))
    return study_id


def study_from_results(experiment: ExperimentRecord, trials: Sequence[TrialRecord]) -> "optuna.Study":
    """An in-memory Optuna study of one store (for importance and Optuna's plots)."""
    import optuna

    storage = optuna.storages.InMemoryStorage()
    name = study_name(experiment)
    add_store_to_storage(storage, experiment, trials, name=name)
    return optuna.load_study(study_name=name, storage=storage)


def export_to_storage(stores: Sequence[tuple[ExperimentRecord, Sequence[TrialRecord]]], url: str) -> list[str]:
    """Write each (experiment, trials) as a study into the Optuna storage at ``url``; returns the study names.

    ``url`` is an Optuna storage URL such as ``sqlite:///study.db``. Raises :class:`HpoError`
    for a URL Optuna cannot open or a study name already in it.
    """
    import optuna

    try:
        storage = optuna.storages.RDBStorage(url) if "://" in url else None
    except Exception as exc:  # SQLAlchemy's errors for bad URLs vary by dialect
        raise HpoError(f"cannot open the Optuna storage {url!r}: {exc}") from exc
    if storage is None:
        raise HpoError(f"{url!r} is not an Optuna storage URL (e.g. sqlite:///study.db)")
    names = []
    for experiment, trials in stores:
        add_store_to_storage(storage, experiment, trials)
        names.append(study_name(experiment))
    return names
