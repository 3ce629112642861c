"""Early stopping: the rules that stop trials on their live learning curves, and their driver.

:data:`RULES` maps every rule name of :data:`hpo_engine.manifest.early_stopping.STOPPING_RULES`
to its class, imported on first use; :func:`make_rule` builds one from the method's
settings. :class:`~hpo_engine.runner.early_stopping.monitor.EarlyStopper` feeds a rule the
values the store receives and stops trials through the backend.

A new rule: its class (a :class:`~hpo_engine.runner.early_stopping.rules.StoppingRule`)
and one row in ``STOPPING_RULES`` (plus the name in the schema's ``early_stopping`` enum).
"""

from __future__ import annotations

from collections.abc import Mapping

from hpo_engine.errors import HpoError
from hpo_engine.lazy_table import LazyClassTable
from hpo_engine.manifest.early_stopping import STOPPING_RULES, EarlyStoppingSettings, StoppingRuleSpec
from hpo_engine.runner.early_stopping.rules import StoppingRule

__all__ = ["RULES", "RuleTable", "make_rule"]


class RuleTable(LazyClassTable[StoppingRule]):
    """Rule name -> its class, read from the rule table, each imported when first asked for."""

    def __init__(self, specs: Mapping[str, StoppingRuleSpec]) -> None:
        super().__init__({name: spec.rule for name, spec in specs.items()}, StoppingRule, "stopping rule")


#: Every stopping rule -> its class.
RULES = RuleTable(STOPPING_RULES)


def make_rule(settings: EarlyStoppingSettings, *, maximize: bool) -> StoppingRule:
    """The rule ``settings.rule`` with its parameters."""
    if settings.rule not in RULES:
        raise HpoError(f"unknown stopping rule {settings.rule!r}; expected one of {', '.join(RULES)}")
    return RULES[settings.rule](settings, maximize=maximize)
