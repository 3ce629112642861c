"""Checks of the early-stopping parameters (HPO230-HPO233) that JSON Schema cannot express.

The rule table is :data:`hpo_engine.manifest.early_stopping.STOPPING_RULES`; the method
table says which method implies a rule (:attr:`MethodSpec.stopping_rule`). The settings
are read with :func:`hpo_engine.manifest.model.build_method_settings`, the engine's own
reading, so the validator and the engine agree on every value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from hpo_engine.manifest.early_stopping import STOPPING_RULES
from hpo_engine.manifest.methods import method_spec
from hpo_engine.manifest.spans import Span

__all__ = ["early_stopping_problems"]


class _Reporting(Protocol):
    def add(self, code: str, message: str, span: Span) -> None: ...

    def span(self, path: list[Any]) -> Span: ...


def _parameter_paths(section_path: list[Any], method: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Method parameter name -> path of its value (the first one given)."""
    paths: dict[str, list[Any]] = {}
    for index, item in enumerate(method.get("parameters") or []):
        if isinstance(item, Mapping) and isinstance(item.get("name"), str) and item["name"] not in paths:
            key = next((k for k in ("int_value", "string_value", "double_value") if k in item), "name")
            paths[item["name"]] = section_path + ["method", "parameters", index, key]
    return paths


def _integer(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def early_stopping_problems(ctx: _Reporting, section_path: list[Any], method: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Report HPO230-HPO233 for the ``method`` mapping of one section; ``values`` are its parameters by name."""
    spec = method_spec(str(method.get("name", "")))
    if spec is None:
        return
    paths = _parameter_paths(section_path, method)
    asked = values.get("early_stopping")
    rule_name = spec.stopping_rule or (asked if isinstance(asked, str) else "none")
    rule = STOPPING_RULES.get(rule_name)
    if rule is None:
        return  # an unknown rule is a schema problem (the enum)
    if spec.stopping_rule and isinstance(asked, str) and asked != "none" and asked != spec.stopping_rule:
        ctx.add(
            "HPO233",
            f"Method {spec.name} stops trials with its own brackets of successive halving: early_stopping '{asked}' is ignored.",
            ctx.span(paths["early_stopping"]),
        )
    max_resource = _integer(values.get("max_resource"))
    factor = _integer(values.get("reduction_factor"))
    grace = _integer(values.get("grace_period"))
    where = f"method {spec.name}" if spec.stopping_rule else f"early_stopping '{rule_name}'"
    if rule.needs_max_resource and "max_resource" not in values:
        span = ctx.span(paths["early_stopping"]) if "early_stopping" in paths and not spec.stopping_rule else ctx.span(section_path + ["method", "name"])
        ctx.add(
            "HPO230",
            f"{where} needs 'max_resource': the number of steps (e.g. epochs) of a full training run, where its top rung is.",
            span,
        )
    if factor is not None and factor < 2 and "reduction_factor" in paths:
        ctx.add(
            "HPO231",
            f"reduction_factor is {factor}, but successive halving needs at least 2 (keep the best 1/reduction_factor at each rung; 3 is usual).",
            ctx.span(paths["reduction_factor"]),
        )
    if grace is not None and max_resource is not None and max_resource >= 1 and grace > max_resource and "grace_period" in paths:
        ctx.add(
            "HPO232",
            f"grace_period ({grace}) is larger than max_resource ({max_resource}): no trial could ever be stopped.",
            ctx.span(paths["grace_period"]),
        )
