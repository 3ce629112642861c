"""Method ``bayesian``: Gaussian-process Bayesian optimization with scikit-optimize's ask/tell ``Optimizer``.

Why scikit-optimize and not Optuna's ``GPSampler``: ``GPSampler`` needs PyTorch, whose PyPI
wheels for Linux pull several GB of CUDA libraries; scikit-optimize's GP runs on scikit-learn
and numpy, which ``hpo`` installs anyway. The price: scikit-optimize's repository is archived
(0.10.2, its last release, is what this uses through its documented ``Optimizer``), and on the
search-quality benchmark ``GPSampler`` is still ahead on Ackley-5, mixed and kridge
(docs/benchmarks/search-quality.md, run 4).

The first ``n_startup_trials`` points are drawn by hpo uniformly at random (log-uniformly on
power ranges, never repeating a grid point), so scikit-optimize and scikit-learn are imported only
when the GP is first fitted (on a thread while the first trials run, see
:mod:`~hpo_engine.optimizers.background_import`, when the budget leaves the GP a point). Each
later proposal builds a ``skopt.Optimizer(dims, base_estimator=<GP>, acq_func="EI",
acq_optimizer="lbfgs", n_initial_points=n_startup_trials, random_state=<drawn from seed>)``,
tells it every observation and asks it one point (documented ``tell`` / ``ask``). The GP is
scikit-optimize's ``cook_estimator("GP", ...)`` (a Matern 5/2 kernel with one length scale per
dimension, ``normalize_y``), taken as noise-free (``alpha`` :data:`GP_JITTER`). Bounded cost:
its kernel hyper-parameters are fitted (one L-BFGS start of at most
:data:`HYPERPARAMETER_ITERATIONS` iterations, on at most
:data:`HYPERPARAMETER_POINTS` observations: the best half and a random choice of the rest) only
when the observations grew by a tenth since the last fit; in between the last fitted kernel is reused with ``optimizer=None``
(one Cholesky factorization). The acquisition is evaluated at :data:`ACQUISITION_POINTS`
random points, and the best :data:`ACQUISITION_RESTARTS` of them start an L-BFGS maximization
of it (scikit-optimize's ``acq_optimizer="lbfgs"``, with the GP's gradient, in this thread).
Sampling alone (used before) left the point where the random points fell: on Hartmann6 the
median best of 10 seeds was -3.10, and with the L-BFGS starts it is -3.31 (Optuna's
``GPSampler`` -3.32); see docs/benchmarks/search-quality.md.
Each free dimension becomes a ``skopt.space`` dimension from its
:class:`~hpo_engine.optimizers.model_search.Coordinate`: ``real`` -> ``Real(low, high)``,
``log`` (continuous ``power`` range) -> ``Real(power**min, power**max, prior="log-uniform")``,
``index`` (stepped / integer ranges, power grids) -> ``Integer(0, count - 1)`` over the
0-based grid index, ``choice`` (``*_values``) -> ``Categorical(values)``. Pinned dimensions are
held outside.

Parallel trials (kriging believer): every pending point is told the GP's own prediction there
(its posterior mean, the GP fitted with the current kernel on the told trials only), so each
slot gets a distinct model-based point: the GP, now sure of those points, finds no improvement
left at them. The lies live in that proposal's optimizer only, and the real values replace them
once the trials finish. A constant lie for every pending point was used before: the worst value
seen (scikit-optimize's ``"cl_max"``) lost 4x on Branin at ``--parallel 4``; the first quartile
of the values seen still lost 18% on Branin and 27% on Ackley-5. With the prediction, ``--parallel
4`` is within 0.3% of serial on Branin and 4.2% on Hartmann6, and better than serial on Ackley-5
(30 seeds, direct mode, docs/benchmarks/search-quality.md, run 4).

Results: the library minimizes (``-objective`` with ``maximize``). A failed trial is told a
penalty, the worst value seen plus 10% of the spread of the values (plus 1 when they are all
equal); before any success it is not told. A pruned trial is told its last value (the GP has no
notion of a stopped trial; a pruned trial without a value counts as failed). A duplicate
proposal (the GP's next point is already pending or evaluated) is replaced by a random point.

Resume: ``warm_start`` adds the earlier trials to the observations (told at the next proposal).

Method parameter: ``n_startup_trials`` (int, default 10): random points before the GP is used.
They are counted with the pending points, as Optuna's samplers do with their constant liar: with
``--parallel 4`` the GP's first point comes once 7 trials are told and 3 are running, not after 10
are told (which spent 13 of the budget on random points, against 10 serially). The GP needs at
least one told trial.
"""

from __future__ import annotations

import contextlib
import importlib.util
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from hpo_engine.errors import OptimizerError
from hpo_engine.manifest.search_space import SearchSpace
from hpo_engine.optimizers import background_import
from hpo_engine.optimizers.model_search import Coordinate, ModelSearch, Observation
from hpo_engine.optimizers.optuna_search import startup_trials

__all__ = ["BayesianSearch", "skopt_dimension"]

#: Random points the acquisition function is evaluated at, per proposal (bounds the proposal cost).
ACQUISITION_POINTS = 2000
#: The best of those points start an L-BFGS maximization of the acquisition, one each.
ACQUISITION_RESTARTS = 5
#: The kernel's hyper-parameters are fitted again when the observations grew by 1/REFIT_FRACTION.
REFIT_FRACTION = 10
#: Iterations of one fit of the kernel's hyper-parameters.
HYPERPARAMETER_ITERATIONS = 25
#: The kernel's hyper-parameters are fitted on at most this many observations.
HYPERPARAMETER_POINTS = 80
#: Added to the GP's kernel diagonal (``alpha``) for numerical stability; the objective is taken as noise-free.
GP_JITTER = 1e-6


def skopt_dimension(coordinate: Coordinate) -> Any:
    """The ``skopt.space`` dimension of one coordinate (imports scikit-optimize)."""
    from skopt.space import Categorical, Integer, Real

    if coordinate.kind == "real":
        return Real(coordinate.low, coordinate.high, name=coordinate.name)
    if coordinate.kind == "log":
        return Real(coordinate.low, coordinate.high, prior="log-uniform", name=coordinate.name)
    if coordinate.kind == "index":
        return Integer(0, int(coordinate.high), name=coordinate.name)
    return Categorical(list(coordinate.choices), name=coordinate.name)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The library's warnings (a point evaluated twice, convergence of the GP's fit) off, for one call."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


class BayesianSearch(ModelSearch):
    """GP-based Bayesian optimization with a constant liar for pending points (see the module docstring)."""

    name = "bayesian"

    def __init__(self, space: SearchSpace, **options: Any) -> None:
        """Built as every optimizer is (see :class:`~hpo_engine.optimizers.base.Optimizer`)."""
        super().__init__(space, **options)
        if importlib.util.find_spec("skopt") is None:  # pragma: no cover - a dependency of the package
            raise OptimizerError("method bayesian needs the `scikit-optimize` package.")
        self._dimensions: list[Any] | None = None  # skopt's dimensions, built (and skopt imported) at the first fit
        self._startup = max(1, startup_trials(self.parameters))
        self._observed: list[tuple[list[Any], float]] = []  # (library vector, value to minimize), in told order
        self._kernel: Any = None  # the GP kernel with the hyper-parameters of the last full fit
        self._fitted_at = 0  # observations when those hyper-parameters were fitted
        self._stuck = False  # the last proposal was a duplicate: the GP would repeat it
        #: Full fits of the GP's hyper-parameters so far (the other proposals reused them).
        self.hyperparameter_fits = 0

    def _vector(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[c.name] for c in self.coordinates]

    def _refit_due(self) -> bool:
        """Fit the kernel's hyper-parameters again once the observations grew by a tenth (at least one)."""
        return self._kernel is None or len(self._observed) >= self._fitted_at + max(1, self._fitted_at // REFIT_FRACTION)

    def _suggest(self) -> dict[str, Any] | None:
        if self._stuck or not self._observed or len(self._observed) + len(self.pending_points) < self._startup:
            self._stuck = False
            if self.budget is None or self.budget > self._startup:
                background_import.start("skopt")  # the GP will be needed: import it while these trials run
            return None  # a random point: a duplicate, or one of the first n_startup_trials
        import skopt
        from skopt.learning import GaussianProcessRegressor
        from skopt.space import Space
        from skopt.utils import cook_estimator

        if self._dimensions is None:
            self._dimensions = [skopt_dimension(c) for c in self.coordinates]
        state = int(self._rng.integers(2**31))
        space = Space(self._dimensions)
        if self._refit_due():
            self._fit_hyperparameters(space, state)
        estimator = cook_estimator("GP", space=space, random_state=state, noise=None, alpha=GP_JITTER, n_restarts_optimizer=0)
        estimator.set_params(kernel=self._kernel, optimizer=None)
        assert isinstance(estimator, GaussianProcessRegressor)
        optimizer = skopt.Optimizer(
            self._dimensions,
            base_estimator=estimator,
            acq_func="EI",
            acq_optimizer="lbfgs",
            acq_optimizer_kwargs={"n_points": ACQUISITION_POINTS, "n_restarts_optimizer": ACQUISITION_RESTARTS, "n_jobs": 1},
            n_initial_points=self._startup,
            initial_point_generator="random",
            random_state=state,
        )
        xs = [x for x, _ in self._observed]
        ys = [y for _, y in self._observed]
        if ys:  # kriging believer: every pending point told the GP's prediction there
            pending = [self._vector(self._params(p)) for p in self.pending_points]
            xs, ys = xs + pending, ys + _believed(estimator, space, xs, ys, pending)
        with _quiet():
            if xs:
                optimizer.tell(xs, ys)
            vector = optimizer.ask()
        return {c.name: _plain(x) for c, x in zip(self.coordinates, vector)}

    def _fit_hyperparameters(self, space: Any, state: int) -> None:
        """Fit the kernel's hyper-parameters (one L-BFGS start) on at most :data:`HYPERPARAMETER_POINTS`
        observations: the best half of them and a seeded random choice of the others."""
        from skopt.utils import cook_estimator

        observed = self._observed
        if len(observed) > HYPERPARAMETER_POINTS:
            order = sorted(range(len(observed)), key=lambda i: observed[i][1])
            best, rest = order[: HYPERPARAMETER_POINTS // 2], order[HYPERPARAMETER_POINTS // 2 :]
            chosen = best + [rest[int(i)] for i in self._rng.choice(len(rest), HYPERPARAMETER_POINTS - len(best), replace=False)]
            observed = [observed[i] for i in sorted(chosen)]
        estimator = cook_estimator(
            "GP", space=space, random_state=state, noise=None, alpha=GP_JITTER, n_restarts_optimizer=0, optimizer=_bounded_lbfgs
        )
        with _quiet():
            estimator.fit(space.transform([x for x, _ in observed]), [y for _, y in observed])
        self._kernel, self._fitted_at = estimator.kernel_, len(self._observed)
        self.hyperparameter_fits += 1

    def _accept(self, key: tuple, params: dict[str, Any], suggested: bool) -> None:
        """Nothing to do: the library learns points when they are told."""

    def _reject(self, params: dict[str, Any], known: float | None, told: bool) -> None:
        self._stuck = True

    def _penalty(self) -> float | None:
        seen = self._told_values()
        if not seen:
            return None
        worst, best = max(seen), min(seen)
        return worst + (0.1 * (worst - best) if worst > best else 1.0)

    def _observe(self, key: tuple, observation: Observation) -> None:
        value = observation.value if observation.value is not None else self._penalty()
        if value is not None:
            self._observed.append((self._vector(observation.params), value))

    def _observe_many(self, observations: Sequence[Observation]) -> None:
        for observation in observations:
            self._observe((), observation)


def _believed(estimator: Any, space: Any, xs: list[list[Any]], ys: list[float], pending: list[list[Any]]) -> list[float]:
    """The values told for the ``pending`` points (library vectors): the mean there of the GP
    ``estimator`` (its kernel fixed) fitted on the told vectors ``xs`` and values ``ys`` only
    (kriging believer)."""
    if not pending:
        return []
    from sklearn.base import clone

    believer = clone(estimator)
    with _quiet():
        believer.fit(space.transform(xs), ys)
        return [float(m) for m in believer.predict(space.transform(pending))]


def _bounded_lbfgs(obj_func: Any, initial_theta: Any, bounds: Any) -> tuple[Any, float]:
    """scikit-learn's GP ``optimizer`` callable: L-BFGS-B on the log-marginal likelihood, at most
    :data:`HYPERPARAMETER_ITERATIONS` iterations (scikit-learn's own runs to convergence)."""
    from scipy.optimize import minimize

    result = minimize(obj_func, initial_theta, method="L-BFGS-B", jac=True, bounds=bounds, options={"maxiter": HYPERPARAMETER_ITERATIONS})
    return result.x, float(result.fun)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number (or string) it holds."""
    return value.item() if hasattr(value, "item") else value
