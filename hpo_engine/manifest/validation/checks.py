"""The checks JSON Schema cannot express, on a manifest that parsed.

Each check reads the plain data and points at spans of the source document.
Hyper-parameter values are checked by building the search-space model itself
(:mod:`hpo_engine.manifest.search_space`), so the validator and the engine share one rule.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hpo_engine.errors import SearchSpaceError
from hpo_engine.manifest.methods import METHOD_SPECS, method_spec, method_specific_parameters
from hpo_engine.manifest.model import build_method_settings
from hpo_engine.manifest.names import FOLDER_NAME_LENGTH, control_character, folder_name
from hpo_engine.manifest.problems import CODES, Problem, Suggestion
from hpo_engine.manifest.kinds import dimension_from_spec, kinds_in, range_violations, yaml_float_text
from hpo_engine.manifest.search_space import Dimension, SearchSpace
from hpo_engine.manifest.spans import Position, Span, TextEdit
from hpo_engine.manifest.suggest import rank_similar
from hpo_engine.manifest.yaml_source import MappingNode, ScalarNode, SequenceNode, SourceDocument
from hpo_engine.manifest.validation.early_stopping_checks import early_stopping_problems
from hpo_engine.manifest.validation.schema_problems import method_parameter_kinds
from hpo_engine.manifest.validation.storage_checks import storage_problems

__all__ = ["semantic_problems", "STANDARD_VARIABLES", "REQUIRED_METHOD_PARAMETERS", "KNOWN_COMPUTE_NAMES"]

#: Variables the trial runner always sets (the original service's contract).
STANDARD_VARIABLES = ("DATA_DIR", "RESULT_DIR", "LOG_DIR", "JOB_STATE_DIR", "SUBID", "TRAINING_ID")
#: Method parameters without which a search cannot run.
REQUIRED_METHOD_PARAMETERS = ("objective", "maximize_or_minimize", "num_optimizer_steps")
#: compute_configuration names of the original service.
KNOWN_COMPUTE_NAMES = ("k80", "k80x2", "k80x4", "p100", "v100", "v100x2")

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_CREDENTIAL_KEY = re.compile(r"(secret|password|passwd|access_key|api_key|apikey|token|credential)", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"^\s*(<[^>]*>|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\*+|x+|\.\.\.)?\s*$", re.IGNORECASE)


@dataclass
class _Context:
    doc: SourceDocument
    environ: Mapping[str, str]
    problems: list[Problem]

    def add(self, code: str, message: str, span: Span, suggestions: tuple[Suggestion, ...] = ()) -> None:
        self.problems.append(Problem(code, CODES[code][0], message, span, suggestions))

    def span(self, path: list[Any]) -> Span:
        node = self.doc.node_at(path)
        if isinstance(node, ScalarNode):
            return node.span
        return self.doc.key_or_node_span(path)


def _sections(data: Mapping[str, Any]) -> Iterator[tuple[list[Any], Mapping[str, Any]]]:
    """Every ``hyper_parameters_optimization`` mapping with its path."""
    section = data.get("hyper_parameters_optimization")
    if isinstance(section, Mapping):
        yield ["hyper_parameters_optimization"], section
    references = data.get("training_references")
    if isinstance(references, list):
        for index, reference in enumerate(references):
            if isinstance(reference, Mapping) and isinstance(reference.get("hyper_parameters_optimization"), Mapping):
                yield ["training_references", index, "hyper_parameters_optimization"], reference["hyper_parameters_optimization"]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integral(value: Any) -> bool:
    """An int, or a float with an integer value (JSON Schema's "integer" accepts ``2.0``)."""
    return _is_number(value) and (isinstance(value, int) or math.isfinite(value) and value.is_integer())


# -- hyper-parameters -----------------------------------------------------------------


def _range_problems(ctx: _Context, path: list[Any], kind: str, spec: Mapping[str, Any]) -> bool:
    """Bounds, step and power of one range (the rules of :func:`range_violations`); True when the range is sound."""
    low, high, step, power = (spec.get(k) for k in ("min_value", "max_value", "step", "power"))
    if not (_is_number(low) and _is_number(high)) or not all(v is None or _is_number(v) for v in (step, power)):
        return False  # reported by the schema (HPO204)
    if kind == "int_range" and not all(v is None or _is_integral(v) for v in (low, high, step)):
        return False  # reported by the schema (HPO204); 2.0 is an integer to JSON Schema and to IntRange
    violations = range_violations(low, high, step, power)
    for violation in violations:
        if violation.by_schema:
            continue
        span = ctx.span(path + [violation.key])
        suggestions: tuple[Suggestion, ...] = ()
        if violation.code == "HPO201":
            max_span = ctx.span(path + ["max_value"])
            suggestions = (
                Suggestion("Swap min_value and max_value", (TextEdit(span, ctx.doc.slice(max_span)), TextEdit(max_span, ctx.doc.slice(span)))),
            )
        ctx.add(violation.code, violation.message, span, suggestions)
    return not violations


def _values_problems(ctx: _Context, path: list[Any], values: list[Any]) -> bool:
    """Duplicates in a value list (warning, the later copies); True when usable."""
    seen: dict[Any, int] = {}
    node = ctx.doc.node_at(path)
    for index, value in enumerate(values):
        if isinstance(value, float) and not math.isfinite(value):
            span = node.items[index].span if isinstance(node, SequenceNode) and index < len(node.items) else ctx.span(path)
            ctx.add("HPO106", f"Values must be finite numbers, but item {index + 1} is {yaml_float_text(value)}.", span)
            continue
        if isinstance(value, (list, Mapping)):
            continue  # not a value of the list's kind: the schema reports it (HPO103)
        key = (type(value) if not _is_number(value) else float, value)
        if key in seen:
            span = node.items[index].span if isinstance(node, SequenceNode) and index < len(node.items) else ctx.span(path)
            edits = ()
            if isinstance(node, SequenceNode) and node.flow and index > 0:
                previous = node.items[index - 1].span
                edits = (TextEdit(Span(previous.end, span.end), ""),)
            elif isinstance(node, SequenceNode) and not node.flow:
                edits = (TextEdit(Span(Position(span.start.line, 0), Position(span.start.line + 1, 0)), ""),)
            suggestion = (Suggestion(f"Remove the repeated {value!r}", edits),) if edits else ()
            ctx.add("HPO207", f"{value!r} is listed twice (first at position {seen[key] + 1}); each value is tried once.", span, suggestion)
        else:
            seen[key] = index
    return True


def _dimensions(ctx: _Context, section_path: list[Any], section: Mapping[str, Any]) -> list[Dimension] | None:
    """The section's dimensions when every hyper-parameter is sound, after reporting what is not."""
    specs = section.get("hyper_parameters")
    if not isinstance(specs, list):
        return None
    dims: list[Dimension] = []
    sound = True
    names: dict[str, int] = {}
    for index, spec in enumerate(specs):
        path = section_path + ["hyper_parameters", index]
        if not isinstance(spec, Mapping):
            sound = False
            continue
        name = spec.get("name")
        if isinstance(name, str):
            if control_character(name) is not None:
                _control_problems(ctx, path + ["name"], name, "A hyper-parameter's name")
                sound = False
            if name in names:
                ctx.add(
                    "HPO208",
                    f"Hyper-parameter '{name}' is defined twice (first as item {names[name] + 1}); config.json can hold only one value.",
                    ctx.span(path + ["name"]),
                )
                sound = False
            else:
                names[name] = index
        kinds = kinds_in(spec)
        if len(kinds) != 1 or not isinstance(name, str) or not name:
            sound = False
            continue
        kind = kinds[0]
        if kind in ("double_range", "int_range"):
            if not isinstance(spec[kind], Mapping) or not _range_problems(ctx, path + [kind], kind, spec[kind]):
                sound = False
                continue
        elif isinstance(spec[kind], list):
            _values_problems(ctx, path + [kind], spec[kind])
            if any(isinstance(value, (list, Mapping)) for value in spec[kind]):
                sound = False
                continue
        try:
            dims.append(dimension_from_spec(name, kind, spec[kind]))
        except SearchSpaceError:
            sound = False  # the schema or the checks above said why
    return dims if sound and dims else None


# -- method ---------------------------------------------------------------------------


def _method_problems(ctx: _Context, section_path: list[Any], section: Mapping[str, Any]) -> None:
    method = section.get("method")
    if not isinstance(method, Mapping):
        return
    parameters = method.get("parameters")
    if not isinstance(parameters, list):
        return
    kinds = method_parameter_kinds()
    seen: dict[str, int] = {}
    for index, item in enumerate(parameters):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            continue
        path = section_path + ["method", "parameters", index]
        name = item["name"]
        if name in seen:
            ctx.add("HPO209", f"Method parameter '{name}' is given twice (first as item {seen[name] + 1}); only the first is used.", ctx.span(path + ["name"]))
        else:
            seen[name] = index
        expected = kinds.get(name)
        if expected is None:
            continue
        value_keys = [k for k in ("string_value", "int_value", "double_value") if k in item]
        accepted = {expected} | ({"int_value"} if expected == "double_value" else set())
        if not value_keys:
            ctx.add("HPO102", f"Method parameter '{name}' needs '{expected}'.", ctx.span(path + ["name"]))
            continue
        for key in value_keys:
            if key in accepted:
                continue
            entry = ctx.doc.entry_at(path + [key])
            span = entry.key_span if entry else ctx.span(path)
            fix = Suggestion(f"Change '{key}' to '{expected}'", (TextEdit(span, expected),), expected)
            ctx.add("HPO107", f"Method parameter '{name}' takes '{expected}', not '{key}'.", span, (fix,))
    parameters_entry = ctx.doc.entry_at(section_path + ["method", "parameters"])
    unknown = [p["name"] for p in parameters if isinstance(p, Mapping) and isinstance(p.get("name"), str) and p["name"] not in kinds]
    missing = [
        name
        for name in REQUIRED_METHOD_PARAMETERS
        if name not in seen and not any(rank_similar(u, [name]) for u in unknown)  # the misspelled name is reported
    ]
    if missing:
        span = parameters_entry.key_span if parameters_entry else ctx.doc.key_or_node_span(section_path + ["method"])
        listed = ", ".join(f"'{m}'" for m in missing)
        ctx.add("HPO210", f"The method needs the parameter{'s' if len(missing) > 1 else ''} {listed}.", span)
    early_stopping_problems(ctx, section_path, method, build_method_settings(method).parameters)
    _method_specific_problems(ctx, section_path, method, parameters, seen)


def _method_specific_problems(
    ctx: _Context, section_path: list[Any], method: Mapping[str, Any], parameters: list[Any], seen: Mapping[str, int]
) -> None:
    """HPO240: a parameter only other methods read; HPO241: n_startup_trials >= num_optimizer_steps."""
    spec = method_spec(method.get("name")) if isinstance(method.get("name"), str) else None
    if spec is None:
        return  # an unknown method is a schema problem (the enum)
    readers = {name: [s.name for s in METHOD_SPECS.values() if name in s.parameters] for name in method_specific_parameters()}
    for name, index in seen.items():
        if name in readers and name not in spec.parameters:
            ctx.add(
                "HPO240",
                f"Method parameter '{name}' is read by {' and '.join(readers[name])} only; the {spec.name} method ignores it.",
                ctx.span(section_path + ["method", "parameters", index, "name"]),
            )
    if "n_startup_trials" in spec.parameters and "n_startup_trials" in seen and "num_optimizer_steps" in seen:
        startup = parameters[seen["n_startup_trials"]].get("int_value")
        steps = parameters[seen["num_optimizer_steps"]].get("int_value")
        if isinstance(startup, int) and isinstance(steps, int) and not isinstance(startup, bool) and startup >= steps > 0:
            ctx.add(
                "HPO241",
                f"n_startup_trials is {startup}, not fewer than the {steps} num_optimizer_steps: every trial is sampled at random and the {spec.name} model is never used.",
                ctx.span(section_path + ["method", "parameters", seen["n_startup_trials"], "int_value"]),
            )


def _budget_problems(ctx: _Context, section_path: list[Any], section: Mapping[str, Any], dims: list[Dimension]) -> None:
    method = section.get("method") if isinstance(section.get("method"), Mapping) else {}
    settings = build_method_settings(method)
    space = SearchSpace(dims)
    steps_index = next(
        (i for i, p in enumerate(method.get("parameters") or []) if isinstance(p, Mapping) and p.get("name") == "num_optimizer_steps"),
        None,
    )
    steps_path = section_path + ["method", "parameters", steps_index, "int_value"] if steps_index is not None else section_path + ["method"]
    steps_given = steps_index is not None and isinstance(settings.parameters.get("num_optimizer_steps"), int)
    name_span = ctx.span(section_path + ["method", "name"])
    spec = method_spec(settings.name)
    if spec is None:
        return  # an unknown method is a schema problem (the enum)
    if spec.needs_finite_space and not space.is_finite:
        continuous = [d.name for d in dims if not d.is_finite]
        ctx.add(
            "HPO213",
            f"The {spec.name} method needs a finite space, but {', '.join(repr(c) for c in continuous)} {'is' if len(continuous) == 1 else 'are'} continuous: add a step or use values.",
            name_span,
        )
    if steps_given and space.is_finite and settings.num_optimizer_steps > space.finite_size:
        ctx.add(
            "HPO211",
            f"num_optimizer_steps is {settings.num_optimizer_steps}, but only {space.finite_size:,} distinct model{'s exist' if space.finite_size != 1 else ' exists'} in this grid.",
            ctx.span(steps_path),
        )
    if steps_given and spec.fits_a_model and settings.num_optimizer_steps <= len(dims):
        ctx.add(
            "HPO212",
            f"{spec.name} needs more runs than hyper-parameters to fit its model ({settings.num_optimizer_steps} runs for {len(dims)} hyper-parameters): it will only sample at random.",
            ctx.span(steps_path),
        )


# -- references -------------------------------------------------------------------------


def _variable_problems(ctx: _Context, path: list[Any], command: str) -> None:
    node = ctx.doc.node_at(path)
    if not isinstance(node, ScalarNode):
        return
    source = ctx.doc.slice(node.span)
    base = ctx.doc.offset(node.span.start)
    reported: set[str] = set()
    for match in _VARIABLE.finditer(source):
        name = match.group(1) or match.group(2)
        if name in reported or name in STANDARD_VARIABLES:
            continue
        reported.add(name)  # each name is looked up once (os.environ lookups are slow)
        if name in ctx.environ:
            continue
        span = Span(ctx.doc.position(base + match.start()), ctx.doc.position(base + match.end()))
        ranked = rank_similar(name, STANDARD_VARIABLES)
        written = match.group(0)
        message = f"{written} is not a standard variable ({', '.join(STANDARD_VARIABLES)}) and is not set in this environment"
        message += f"; did you mean ${{{ranked[0]}}}?" if ranked else "; it will expand to nothing unless set when the experiment runs."
        suggestions = tuple(Suggestion(f"Change to ${{{c}}}", (TextEdit(span, f"${{{c}}}"),), f"${{{c}}}") for c in ranked)
        ctx.add("HPO215", message, span, suggestions)


def _credential_problems(ctx: _Context, path: list[Any], connection: Any) -> None:
    if not isinstance(connection, Mapping):
        return
    for key, value in connection.items():
        if not isinstance(value, str) or not _CREDENTIAL_KEY.search(key) or _PLACEHOLDER.match(value):
            continue
        span = ctx.span(path + [key])
        variable = re.sub(r"[^A-Z0-9]+", "_", key.upper()).strip("_")
        fix = Suggestion(f"Replace with ${{{variable}}}", (TextEdit(span, f"${{{variable}}}"),), f"${{{variable}}}")
        ctx.add("HPO216", f"'{key}' holds a credential in plain text; write ${{{variable}}} and set it in the environment.", span, (fix,))


def _control_problems(ctx: _Context, path: list[Any], text: str, what: str, *, allow_whitespace: bool = False) -> None:
    """HPO220 when ``text`` holds a control character (a NUL cannot be part of a file name, an argument or a variable)."""
    found = control_character(text, allow_whitespace=allow_whitespace)
    if found is not None:
        index, char = found
        ctx.add("HPO220", f"{what} holds the control character U+{ord(char):04X} at character {index + 1}: names and commands are text without control characters.", ctx.span(path))


def _reference_problems(ctx: _Context, data: Mapping[str, Any]) -> None:
    settings = data.get("settings")
    if isinstance(settings, Mapping) and isinstance(settings.get("name"), str):
        _control_problems(ctx, ["settings", "name"], settings["name"], "The experiment's name")
    references = data.get("training_references")
    if not isinstance(references, list):
        return
    names: dict[str, int] = {}
    folders: dict[str, tuple[int, str]] = {}
    for index, reference in enumerate(references):
        if not isinstance(reference, Mapping):
            continue
        path = ["training_references", index]
        name = reference.get("name")
        if isinstance(name, str):
            _control_problems(ctx, path + ["name"], name, "A training reference's name")
            if name in names:
                ctx.add("HPO214", f"Training reference '{name}' is defined twice (first as item {names[name] + 1}); names must be unique.", ctx.span(path + ["name"]))
            else:
                names[name] = index
                folder = folder_name(name)
                if folder in folders:
                    first_index, first_name = folders[folder]
                    ctx.add(
                        "HPO221",
                        f"Training references {first_name!r} (item {first_index + 1}) and {name!r} share the results folder {folder!r} "
                        f"(names become folder names of [A-Za-z0-9._-], at most {FOLDER_NAME_LENGTH} characters); rename one.",
                        ctx.span(path + ["name"]),
                    )
                else:
                    folders[folder] = (index, name)
        if isinstance(reference.get("command"), str):
            _control_problems(ctx, path + ["command"], reference["command"], "The command", allow_whitespace=True)
            _variable_problems(ctx, path + ["command"], reference["command"])
        compute = reference.get("compute_configuration")
        if isinstance(compute, Mapping) and isinstance(compute.get("name"), str) and compute["name"] not in KNOWN_COMPUTE_NAMES:
            span = ctx.span(path + ["compute_configuration", "name"])
            ranked = rank_similar(compute["name"], KNOWN_COMPUTE_NAMES)
            message = f"Unknown compute configuration {compute['name']!r}"
            message += f"; did you mean '{ranked[0]}'?" if ranked else f"; known: {', '.join(KNOWN_COMPUTE_NAMES)}."
            ctx.add("HPO217", message, span, tuple(Suggestion(f"Change to '{c}'", (TextEdit(span, c),), c) for c in ranked))
    for key in ("training_results_reference", "training_data_reference"):
        section = data.get(key)
        if isinstance(section, Mapping):
            _credential_problems(ctx, [key, "connection"], section.get("connection"))


def semantic_problems(
    document: SourceDocument,
    environ: Mapping[str, str] | None = None,
    spaces: dict[int, SearchSpace] | None = None,
) -> list[Problem]:
    """Every problem JSON Schema cannot find, for a document whose top level is a mapping.

    When ``spaces`` is given, it receives the search space of every sound section, keyed
    by the 0-based index of its training reference (-1 for a top-level fragment), so the
    typed manifest can reuse them instead of building them again.
    """
    data = document.data
    if not isinstance(data, Mapping):
        return []
    ctx = _Context(document, os.environ if environ is None else environ, [])
    _reference_problems(ctx, data)
    storage_problems(ctx.add, ctx.span, data, ctx.environ)
    for section_path, section in _sections(data):
        _method_problems(ctx, section_path, section)
        dims = _dimensions(ctx, section_path, section)
        if dims:
            _budget_problems(ctx, section_path, section, dims)
            if spaces is not None:
                spaces[section_path[1] if section_path[0] == "training_references" else -1] = SearchSpace(dims)
    return ctx.problems
