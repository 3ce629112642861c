"""The typed manifest: what the engine runs, built from a manifest that validated.

:func:`build_manifest` turns plain data (already checked by the validator) into
frozen dataclasses. It is tolerant of anything the validator would have reported:
it never looks at spans and never reports problems itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpo_engine.errors import SearchSpaceError
from hpo_engine.manifest.early_stopping import EarlyStoppingSettings, build_early_stopping
from hpo_engine.manifest.methods import method_spec
from hpo_engine.manifest.search_space import SearchSpace

__all__ = [
    "Settings",
    "ComputeConfiguration",
    "MethodSettings",
    "Optimization",
    "TrainingReference",
    "Manifest",
    "build_manifest",
    "build_method_settings",
    "DEFAULT_MAX_FAILED_TRIALS",
    "DEFAULT_METRICS_FILENAME",
]

#: A failed trial does not stop the search until this many have failed (per reference).
DEFAULT_MAX_FAILED_TRIALS = 3
#: The file the original service read the objective from, in ``$RESULT_DIR``.
DEFAULT_METRICS_FILENAME = "val_dict_list.json"


@dataclass(frozen=True, slots=True)
class Settings:
    """The manifest's ``settings``; ``name`` names the experiment (and its results folder)."""

    name: str = "experiment"
    description: str | None = None
    author_name: str | None = None
    author_email: str | None = None
    label_column: str | None = None
    evaluation_definition: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ComputeConfiguration:
    """``compute_configuration``: the original service's GPU size name and node count.

    ``name`` is ``None`` when the manifest gives none: no GPU is requested (the original
    service then used ``k80``, which a CPU-only Ray cluster could never satisfy).
    """

    name: str | None = None
    nodes: int = 1


@dataclass(frozen=True, slots=True)
class MethodSettings:
    """The method and its parameters, with this project's run controls.

    ``num_optimizer_steps`` is the number of trials (training runs) per reference;
    ``trial_timeout_seconds`` is in seconds (``None``: no limit); ``maximize`` is
    True for ``maximize_or_minimize: maximize``.
    """

    name: str
    objective: str
    maximize: bool
    num_optimizer_steps: int
    time_interval: str | None = None
    filename: str = DEFAULT_METRICS_FILENAME
    max_concurrent_trials: int = 1
    max_failed_trials: int = DEFAULT_MAX_FAILED_TRIALS
    trial_timeout_seconds: float | None = None
    random_seed: int | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    #: The stopping rule (``early_stopping``, or the one the method implies) and its parameters.
    early_stopping: EarlyStoppingSettings = field(default_factory=EarlyStoppingSettings)


@dataclass(frozen=True, slots=True)
class Optimization:
    """A reference's ``hyper_parameters_optimization``: the method and the search space."""

    method: MethodSettings
    space: SearchSpace


@dataclass(frozen=True, slots=True)
class TrainingReference:
    """One ``training_references`` entry; ``index`` is its 0-based place in the list."""

    index: int
    name: str
    training_definition_url: str | None
    command: str | None
    compute_configuration: ComputeConfiguration
    pretrained_model_url: str | None = None
    optimization: Optimization | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    """A whole manifest. ``source_path`` is the file it came from (``None`` for text)."""

    settings: Settings
    references: tuple[TrainingReference, ...]
    training_data_reference: Mapping[str, Any] | None = None
    training_results_reference: Mapping[str, Any] | None = None
    source_path: Path | None = None

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the manifest are relative to."""
        return self.source_path.parent if self.source_path else Path.cwd()

    def reference(self, name: str) -> TrainingReference:
        for reference in self.references:
            if reference.name == name:
                return reference
        raise KeyError(name)


def method_parameter_values(parameters: Any) -> dict[str, Any]:
    """``[{name, string_value|int_value|double_value}]`` -> ``{name: value}`` (first one wins)."""
    values: dict[str, Any] = {}
    for item in parameters if isinstance(parameters, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            continue
        for key in ("string_value", "int_value", "double_value"):
            if key in item:
                value = item[key]
                if key == "int_value" and isinstance(value, float) and value.is_integer():
                    value = int(value)  # JSON Schema's "integer" accepts 4.0
                values.setdefault(item["name"], value)
                break
    return values


def _positive_int(value: Any, default: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema's "integer" accepts 2.0
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def build_method_settings(method: Any) -> MethodSettings:
    """The typed form of a ``method`` mapping; missing values get their defaults."""
    method = method if isinstance(method, Mapping) else {}
    values = method_parameter_values(method.get("parameters"))
    timeout = values.get("trial_timeout_seconds")
    seed = values.get("random_seed")
    max_failed = values.get("max_failed_trials")
    name = str(method.get("name", "random"))
    spec = method_spec(name)
    return MethodSettings(
        name=name,
        objective=str(values.get("objective", "")),
        maximize=str(values.get("maximize_or_minimize", "maximize")).lower() == "maximize",
        num_optimizer_steps=_positive_int(values.get("num_optimizer_steps"), 1),
        time_interval=values.get("time_interval") if isinstance(values.get("time_interval"), str) else None,
        filename=str(values.get("filename", DEFAULT_METRICS_FILENAME)),
        max_concurrent_trials=_positive_int(values.get("max_concurrent_trials"), 1),
        max_failed_trials=max_failed if isinstance(max_failed, int) and not isinstance(max_failed, bool) and max_failed >= 0 else DEFAULT_MAX_FAILED_TRIALS,
        trial_timeout_seconds=float(timeout) if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0 else None,
        random_seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        parameters=values,
        early_stopping=build_early_stopping(values, spec.stopping_rule if spec is not None else None),
    )


def _optimization(section: Any, space: SearchSpace | None = None) -> Optimization | None:
    if not isinstance(section, Mapping):
        return None
    if space is None:
        try:
            space = SearchSpace.from_specs([hp for hp in section.get("hyper_parameters") or [] if isinstance(hp, Mapping)])
        except SearchSpaceError:
            return None
    return Optimization(method=build_method_settings(section.get("method")), space=space)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def build_manifest(
    data: Mapping[str, Any], source_path: Path | None = None, spaces: Mapping[int, SearchSpace] | None = None
) -> Manifest:
    """The typed manifest of ``data`` (a manifest that the validator found without errors).

    ``spaces`` may hold search spaces already built by the validator, keyed by the
    0-based index of their training reference.
    """
    spaces = spaces or {}
    settings_data = data.get("settings") if isinstance(data.get("settings"), Mapping) else {}
    author = settings_data.get("author") if isinstance(settings_data.get("author"), Mapping) else {}
    settings = Settings(
        name=str(settings_data.get("name") or (source_path.stem if source_path else "experiment")),
        description=_text(settings_data.get("description")),
        author_name=_text(author.get("name")),
        author_email=_text(author.get("email")),
        label_column=_text(settings_data.get("label_column")),
        evaluation_definition=settings_data.get("evaluation_definition"),
    )
    references = []
    for index, ref in enumerate(data.get("training_references") or []):
        if not isinstance(ref, Mapping):
            continue
        compute = ref.get("compute_configuration") if isinstance(ref.get("compute_configuration"), Mapping) else {}
        references.append(
            TrainingReference(
                index=index,
                name=str(ref.get("name") or f"reference-{index}"),
                training_definition_url=_text(ref.get("training_definition_url")),
                command=_text(ref.get("command")),
                compute_configuration=ComputeConfiguration(
                    name=_text(compute.get("name")), nodes=_positive_int(compute.get("nodes"), 1)
                ),
                pretrained_model_url=_text(ref.get("pretrained_model_url")),
                optimization=_optimization(ref.get("hyper_parameters_optimization"), spaces.get(index)),
            )
        )
    return Manifest(
        settings=settings,
        references=tuple(references),
        training_data_reference=data.get("training_data_reference"),
        training_results_reference=data.get("training_results_reference"),
        source_path=source_path,
    )
