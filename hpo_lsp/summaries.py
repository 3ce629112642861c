"""What a ``hyper_parameters_optimization`` section amounts to, for hover, code lens,
inlay hints and the preview command — computed with the core's search-space model
(:mod:`hpo_engine.manifest.search_space`) and method settings (:func:`hpo_engine.manifest.model.build_method_settings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hpo_engine.errors import HpoError
from hpo_engine.manifest.model import MethodSettings, build_method_settings
from hpo_engine.manifest.kinds import KINDS, kinds_in
from hpo_engine.manifest.search_space import Dimension, SearchSpace, dimension_from_spec

__all__ = ["SectionSummary", "summarize_section", "dimension_of", "kind_of"]


def kind_of(spec: Any) -> str | None:
    """The one kind key of a hyper-parameter mapping (``None`` when none or several)."""
    if not isinstance(spec, Mapping):
        return None
    kinds = kinds_in(spec)
    return kinds[0] if len(kinds) == 1 else None


def dimension_of(spec: Any) -> tuple[Dimension | None, str | None]:
    """The dimension of one ``hyper_parameters`` item, or ``(None, why not)``."""
    kind = kind_of(spec)
    if kind is None:
        return None, "needs exactly one of " + ", ".join(KINDS)
    try:
        return dimension_from_spec(spec.get("name"), kind, spec[kind]), None
    except (HpoError, ValueError, TypeError) as error:
        return None, str(error)


@dataclass(frozen=True, slots=True)
class SectionSummary:
    """A section's size: ``space`` is ``None`` when a hyper-parameter is invalid (``error`` says why)."""

    parameters: int
    space: SearchSpace | None
    error: str | None
    method: MethodSettings

    @property
    def combinations_text(self) -> str:
        if self.space is None:
            return "? combinations"
        size = self.space.size
        if size is None:
            return "continuous space"
        return f"{size:,} combination" + ("" if size == 1 else "s")

    @property
    def runs_text(self) -> str:
        steps = self.method.num_optimizer_steps
        return f"{steps:,} run" + ("" if steps == 1 else "s") + f" ({self.method.name})"

    def lens_title(self) -> str:
        """``"4 hyper-parameters · 48 combinations · 4 runs (random)"``."""
        noun = "hyper-parameter" if self.parameters == 1 else "hyper-parameters"
        return f"{self.parameters} {noun} · {self.combinations_text} · {self.runs_text}"


def summarize_section(section: Mapping[str, Any]) -> SectionSummary:
    """The summary of one ``hyper_parameters_optimization`` mapping (plain data)."""
    specs = section.get("hyper_parameters")
    specs = [s for s in specs if isinstance(s, Mapping)] if isinstance(specs, list) else []
    method = build_method_settings(section.get("method"))
    try:
        space = SearchSpace.from_specs(specs)
        error = None
    except (HpoError, ValueError, TypeError) as exc:
        space, error = None, str(exc)
    return SectionSummary(len(specs), space, error, method)
