"""Method ``tpe``: Optuna's Tree-structured Parzen Estimator through its ask/tell interface.

The study lives in memory; the sampler is ``optuna.samplers.TPESampler(multivariate=True,
constant_liar=True, seed=seed, n_startup_trials=...)``. Each free dimension becomes an
``optuna.distributions`` distribution from its :class:`~hpo_engine.optimizers.model_search.Coordinate`:
``real`` -> ``FloatDistribution(low, high)``, ``log`` (a continuous ``power`` range) ->
``FloatDistribution(power**min, power**max, log=True)``, ``index`` (stepped / integer ranges,
power grids too) -> ``IntDistribution(0, count - 1)`` over the 0-based grid index, ``choice``
(``*_values``) -> ``CategoricalDistribution(values)``. Pinned dimensions are not given to Optuna.

Parallel trials: a point asked and not told yet is a RUNNING trial of the study; with
``constant_liar`` TPE treats it as if it had the worst value seen, so the slots of a
``--parallel`` run get distinct, model-based points.

Results: a finished trial is told ``COMPLETE`` with its objective (Optuna minimizes; with
``maximize`` it is told ``-objective``), a failed one ``FAIL`` (TPE ignores it), a pruned one
(``tell(..., pruned=True)`` or a ``(point, objective, "pruned")`` warm-start item) ``PRUNED``
with its last value reported as its intermediate value at step 0, which is how TPE ranks
pruned trials. A duplicate proposal is told ``FAIL`` and not returned (see
:class:`~hpo_engine.optimizers.model_search.ModelSearch`); a random replacement point is
given to the study with ``enqueue_trial``.

Resume: ``warm_start`` adds the earlier trials with ``study.add_trials`` (``create_trial``).

Optuna is imported when the optimizer is built, never at ``hpo`` start-up. Its log messages
are silenced during each call (its verbosity is restored afterwards).

Method parameter: ``n_startup_trials`` (int, default 10): trials sampled at random before TPE
fits its model.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hpo_engine.errors import OptimizerError
from hpo_engine.manifest.search_space import SearchSpace
from hpo_engine.optimizers.model_search import Coordinate, ModelSearch, Observation

__all__ = ["TpeSearch", "optuna_distribution", "DEFAULT_STARTUP_TRIALS"]

#: Trials sampled at random before the model is fitted (``n_startup_trials``), Optuna's default.
DEFAULT_STARTUP_TRIALS = 10


def optuna_distribution(coordinate: Coordinate) -> Any:
    """The ``optuna.distributions`` distribution of one coordinate (imports Optuna)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if coordinate.kind == "real":
        return FloatDistribution(coordinate.low, coordinate.high)
    if coordinate.kind == "log":
        return FloatDistribution(coordinate.low, coordinate.high, log=True)
    if coordinate.kind == "index":
        return IntDistribution(0, int(coordinate.high))
    return CategoricalDistribution(coordinate.choices)


def startup_trials(parameters: Mapping[str, Any]) -> int:
    """The ``n_startup_trials`` method parameter (default :data:`DEFAULT_STARTUP_TRIALS`)."""
    value = parameters.get("n_startup_trials", DEFAULT_STARTUP_TRIALS)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise OptimizerError(f"n_startup_trials must be a non-negative integer, but got {value!r}.")
    return value


class TpeSearch(ModelSearch):
    """Optuna's multivariate TPE with a constant liar (see the module docstring)."""

    name = "tpe"

    def __init__(self, space: SearchSpace, **options: Any) -> None:
        """Built as every optimizer is (see :class:`~hpo_engine.optimizers.base.Optimizer`)."""
        super().__init__(space, **options)
        try:
            import optuna
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise OptimizerError("method tpe needs the `optuna` package.") from exc
        self._optuna = optuna
        self._distributions = {c.name: optuna_distribution(c) for c in self.coordinates}
        with self._quiet():
            sampler = optuna.samplers.TPESampler(
                seed=self.seed,
                n_startup_trials=startup_trials(self.parameters),
                multivariate=True,
                constant_liar=True,
            )
            self._study = optuna.create_study(direction="minimize", sampler=sampler)
        self._trials: dict[tuple, Any] = {}  # pending point key -> its optuna.Trial
        self._last: Any = None  # the trial of the last proposal

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """Optuna's INFO lines and experimental-feature warnings off, for one call."""
        logging = self._optuna.logging
        verbosity = logging.get_verbosity()
        logging.set_verbosity(logging.WARNING)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", self._optuna.exceptions.ExperimentalWarning)
                yield
        finally:
            logging.set_verbosity(verbosity)

    def _suggest(self) -> dict[str, Any]:
        with self._quiet():
            self._last = self._study.ask(self._distributions)
        return dict(self._last.params)

    def _accept(self, key: tuple, params: dict[str, Any], suggested: bool) -> None:
        if not suggested:
            with self._quiet():
                self._study.enqueue_trial(params)
                self._last = self._study.ask(self._distributions)
        self._trials[key] = self._last
        self._last = None

    def _reject(self, params: dict[str, Any], known: float | None, told: bool) -> None:
        with self._quiet():
            self._study.tell(self._last, state=self._optuna.trial.TrialState.FAIL)
        self._last = None

    def _observe(self, key: tuple, observation: Observation) -> None:
        trial = self._trials.pop(key)
        states = self._optuna.trial.TrialState
        with self._quiet():
            if observation.pruned:
                if observation.value is not None:
                    trial.report(observation.value, 0)
                self._study.tell(trial, state=states.PRUNED)
            elif observation.value is None:
                self._study.tell(trial, state=states.FAIL)
            else:
                self._study.tell(trial, observation.value)

    def _observe_many(self, observations: Sequence[Observation]) -> None:
        create, states = self._optuna.trial.create_trial, self._optuna.trial.TrialState
        trials = []
        for item in observations:
            if item.pruned:
                intermediate = {0: item.value} if item.value is not None else None
                trials.append(create(state=states.PRUNED, params=item.params, distributions=self._distributions, intermediate_values=intermediate))
            elif item.value is None:
                trials.append(create(state=states.FAIL, params=item.params, distributions=self._distributions))
            else:
                trials.append(create(value=item.value, params=item.params, distributions=self._distributions))
        with self._quiet():
            self._study.add_trials(trials)

    def close(self) -> None:
        super().close()
        self._trials.clear()
