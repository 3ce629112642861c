"""Early stopping: the rules that stop trials on their live learning curves, and their driver.

:data:`RULES` maps every rule name of :data:`hpo_engine.manifest.early_stopping.STOPPING_RULES`
to its class, imported on first use; :func:`make_rule` builds one from the method's
settings. :class:`~hpo_engine.runner.early_stopping.monitor.EarlyStopper` feeds a rule the
values the store receives and stops trials through the backend.

A new rule: its class (a :class:`~hpo_engine.runner.early_stopping.rules.StoppingRule`)
and one row in ``STOPPING_RULES`` (plus the name in the schema's ``early_stopping`` enum).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from hpo_engine.errors import HpoError
from hpo_engine.manifest.early_stopping import STOPPING_RULES, EarlyStoppingSettings, StoppingRuleSpec
from hpo_engine.runner.early_stopping.rules import StoppingRule

__all__ = ["RULES", "RuleTable", "make_rule"]


class RuleTable(Mapping[str, type[StoppingRule]]):
    """Rule name -> its class, read from the rule table, each imported when first asked for."""

    def __init__(self, specs: Mapping[str, StoppingRuleSpec]) -> None:
        self._specs = specs
        self._classes: dict[str, type[StoppingRule]] = {}

    def __getitem__(self, name: str) -> type[StoppingRule]:
        if name not in self._classes:
            module_name, _, class_name = self._specs[name].rule.partition(":")
            cls = getattr(importlib.import_module(module_name), class_name)
            if not (isinstance(cls, type) and issubclass(cls, StoppingRule)) or cls.name != name:
                raise HpoError(f"stopping rule row {name!r} names {self._specs[name].rule}, which is not its StoppingRule")
            self._classes[name] = cls
        return self._classes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


#: Every stopping rule -> its class.
RULES = RuleTable(STOPPING_RULES)


def make_rule(settings: EarlyStoppingSettings, *, maximize: bool) -> StoppingRule:
    """The rule ``settings.rule`` with its parameters."""
    if settings.rule not in RULES:
        raise HpoError(f"unknown stopping rule {settings.rule!r}; expected one of {', '.join(RULES)}")
    return RULES[settings.rule](settings, maximize=maximize)
