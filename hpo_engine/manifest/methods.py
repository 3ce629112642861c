"""The optimization methods a manifest may name: one row per method.

:data:`METHOD_SPECS` is the single table of methods. Each row says what the manifest
core needs to know of a method (its description, the rules its search space and budget
must meet) and where its optimizer class lives, as a ``"module:Class"`` string, so
that this layer never imports the optimizers (``hpo_engine.optimizers.METHODS`` imports
the class on first use). The schema's ``method.name`` enum is tested to equal this
table's keys; the validator's method rules (:mod:`hpo_engine.manifest.validation.checks`)
read the flags below instead of naming methods.

Adding a method: its optimizer class in ``hpo_engine/optimizers/``, one row here, the
name in the schema enum (with its description); the optimizer contract suite
(``tests/engine/optimizers/test_optimizer_contract.py``) then runs on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["MethodSpec", "METHOD_SPECS", "method_spec", "method_specific_parameters"]


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """What the manifest core knows of one method.

    ``optimizer`` is ``"module:Class"`` of its :class:`~hpo_engine.optimizers.base.Optimizer`.
    ``needs_finite_space``: every hyper-parameter must have a finite value list (HPO213).
    ``fits_a_model``: the method fits a surrogate model, so it needs more runs than free
    hyper-parameters (HPO212) to do better than random sampling.
    ``stopping_rule``: the row of :data:`~hpo_engine.manifest.early_stopping.STOPPING_RULES`
    the method itself uses (``hyperband``); ``None``: the manifest's ``early_stopping`` decides.
    ``parameters``: the method-specific parameters it reads (e.g. ``n_startup_trials``); such a
    parameter given to a method that does not read it is warned about (HPO240).
    """

    name: str
    description: str
    optimizer: str
    needs_finite_space: bool = False
    fits_a_model: bool = False
    stopping_rule: str | None = None
    parameters: tuple[str, ...] = ()


METHOD_SPECS: Mapping[str, MethodSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            MethodSpec(
                "random",
                "Random search: samples each hyper-parameter uniformly (log-uniformly for a continuous power range), never repeating a point of a finite grid.",
                "hpo_engine.optimizers.random_search:RandomSearch",
            ),
            MethodSpec(
                "rbfopt",
                "RBFOpt (COIN-OR): model-based global optimization with radial basis functions, no derivatives needed.",
                "hpo_engine.optimizers.rbfopt_search:RbfoptSearch",
                fits_a_model=True,
            ),
            MethodSpec(
                "grid",
                "Grid search (hpo's extension): every point of the grid in order; needs a finite space.",
                "hpo_engine.optimizers.grid_search:GridSearch",
                needs_finite_space=True,
            ),
            MethodSpec(
                "hyperband",
                "Hyperband: random sampling, trials spread over brackets of successive halving that stop the worst early (needs max_resource; reduction_factor, grace_period). num_optimizer_steps bounds the trials started.",
                "hpo_engine.optimizers.hyperband_search:HyperbandSearch",
                stopping_rule="hyperband",
            ),
            MethodSpec(
                "tpe",
                "TPE (Optuna's Tree-structured Parzen Estimator, multivariate): model-based search that also handles integer and categorical hyper-parameters; parallel slots get distinct points (constant liar).",
                "hpo_engine.optimizers.optuna_search:TpeSearch",
                fits_a_model=True,
                parameters=("n_startup_trials",),
            ),
            MethodSpec(
                "bayesian",
                "Bayesian optimization with a Gaussian process (scikit-optimize): model-based search for small budgets of expensive trials; parallel slots get distinct points (each running point is taken at the GP's prediction).",
                "hpo_engine.optimizers.gp_search:BayesianSearch",
                fits_a_model=True,
                parameters=("n_startup_trials",),
            ),
        )
    }
)


def method_spec(name: str) -> MethodSpec | None:
    """The row of method ``name``, or ``None`` for a name the table does not know."""
    return METHOD_SPECS.get(name)


def method_specific_parameters() -> frozenset[str]:
    """Every parameter some method reads for itself (the union of the rows' ``parameters``)."""
    return frozenset(name for spec in METHOD_SPECS.values() for name in spec.parameters)
