"""Early stopping as the manifest states it: the rule table and the typed settings.

:data:`STOPPING_RULES` is the single table of stopping rules a manifest may name with
the method parameter ``early_stopping`` (the schema's enum is tested to equal its
keys, minus the rows a method implies). Each row says what the validator needs
(``needs_max_resource``) and where the rule's class lives, as ``"module:Class"``, so
this layer never imports the runner (``hpo_engine.runner.early_stopping.RULES`` imports
the class on first use).

Steps and resources are counted in the program's own step key (``time_interval``:
``epoch``, ``iteration`` or ``step``; else the key its metrics rows carry), as the
program writes them: a program that records epochs 1, 2, 3 has used 3 epochs at its
third row. ``max_resource`` is the step of a full training run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = [
    "StoppingRuleSpec",
    "STOPPING_RULES",
    "EarlyStoppingSettings",
    "build_early_stopping",
    "DEFAULT_REDUCTION_FACTOR",
    "DEFAULT_GRACE_PERIOD",
    "DEFAULT_KILL_GRACE_SECONDS",
    "MEDIAN_MIN_TRIALS",
]

#: eta: successive halving keeps the best 1/eta of the trials at each rung.
DEFAULT_REDUCTION_FACTOR = 3
#: Steps a trial always runs before any rule may stop it.
DEFAULT_GRACE_PERIOD = 1
#: Seconds between SIGTERM and SIGKILL when a trial is stopped.
DEFAULT_KILL_GRACE_SECONDS = 10.0
#: The median rule stops nothing at a step until this many other trials recorded a value there.
MEDIAN_MIN_TRIALS = 5


@dataclass(frozen=True, slots=True)
class StoppingRuleSpec:
    """One stopping rule. ``rule`` is ``"module:Class"`` of its runner class.

    ``needs_max_resource``: the rule needs ``max_resource`` (HPO230). ``implied_only``:
    the rule is chosen by its method (``hyperband``), never by ``early_stopping``.
    """

    name: str
    description: str
    rule: str
    needs_max_resource: bool = False
    implied_only: bool = False


STOPPING_RULES: Mapping[str, StoppingRuleSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            StoppingRuleSpec(
                "none",
                "No early stopping: every trial runs to its end (the default).",
                "hpo_engine.runner.early_stopping.rules:NoStopping",
            ),
            StoppingRuleSpec(
                "median",
                f"Median stopping: after grace_period steps, stop a trial whose best value so far is worse than the median of the values other trials recorded at the same step (once {MEDIAN_MIN_TRIALS} others have).",
                "hpo_engine.runner.early_stopping.rules:MedianStopping",
            ),
            StoppingRuleSpec(
                "asha",
                "Asynchronous successive halving: rungs at grace_period * reduction_factor^k below max_resource; a trial reaching a rung continues only if it is in the best 1/reduction_factor of the values recorded there so far (the first one always). Needs max_resource.",
                "hpo_engine.runner.early_stopping.rules:AshaStopping",
                needs_max_resource=True,
            ),
            StoppingRuleSpec(
                "hyperband",
                "Hyperband's brackets of successive halving (the rule of method hyperband).",
                "hpo_engine.runner.early_stopping.hyperband:HyperbandStopping",
                needs_max_resource=True,
                implied_only=True,
            ),
        )
    }
)


@dataclass(frozen=True, slots=True)
class EarlyStoppingSettings:
    """The stopping rule of one search and its parameters (method parameters of the same names).

    ``max_resource`` (``None``: not given), ``grace_period`` are steps (see the module doc);
    ``kill_grace_seconds`` is the pause between SIGTERM and SIGKILL, in seconds.
    """

    rule: str = "none"
    max_resource: int | None = None
    reduction_factor: int = DEFAULT_REDUCTION_FACTOR
    grace_period: int = DEFAULT_GRACE_PERIOD
    kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS

    @property
    def enabled(self) -> bool:
        return self.rule != "none"


def _int(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def build_early_stopping(parameters: Mapping[str, Any], implied_rule: str | None = None) -> EarlyStoppingSettings:
    """The typed settings of the method parameters ``parameters`` (by name).

    ``implied_rule`` is the rule the method itself uses (``hyperband``); it wins over
    ``early_stopping``. Values the validator would reject fall back to their defaults.
    """
    rule = implied_rule or parameters.get("early_stopping", "none")
    if not isinstance(rule, str) or rule not in STOPPING_RULES:
        rule = "none"
    max_resource = _int(parameters.get("max_resource"))
    factor = _int(parameters.get("reduction_factor"))
    grace = _int(parameters.get("grace_period"))
    kill = parameters.get("kill_grace_seconds")
    return EarlyStoppingSettings(
        rule=rule,
        max_resource=max_resource if max_resource is not None and max_resource >= 1 else None,
        reduction_factor=factor if factor is not None and factor >= 2 else DEFAULT_REDUCTION_FACTOR,
        grace_period=grace if grace is not None and grace >= 1 else DEFAULT_GRACE_PERIOD,
        kill_grace_seconds=float(kill) if isinstance(kill, (int, float)) and not isinstance(kill, bool) and kill >= 0 else DEFAULT_KILL_GRACE_SECONDS,
    )
