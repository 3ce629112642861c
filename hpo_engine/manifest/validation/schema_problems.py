"""JSON Schema errors -> problems on the exact key or value.

jsonschema finds the errors; this module only decides where each one points
and how it reads: an unknown or missing property points at a key, a wrong
type or value at the value; a hyper-parameter is judged by the kind the user
chose (never "is valid under each of" / "is not valid under any of").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import fastjsonschema

from hpo_engine.manifest.problems import Problem, Severity, Suggestion
from hpo_engine.manifest.schema import load_schema
from hpo_engine.manifest.kinds import KINDS, kinds_in
from hpo_engine.manifest.spans import Span, TextEdit
from hpo_engine.manifest.suggest import rank_similar
from hpo_engine.manifest.yaml_source import MappingNode, ScalarNode, SequenceNode, SourceDocument

if TYPE_CHECKING:  # jsonschema is imported only to explain a manifest that has schema errors
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

__all__ = ["schema_problems", "method_parameter_kinds", "manifest_validator"]

_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "empty",
}


@lru_cache(maxsize=1)
def manifest_validator() -> Draft202012Validator:
    """The validator of the whole manifest schema (built once per process)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema())


def _reference_schema() -> dict[str, Any]:
    """The schema of one ``training_references`` item, with the shared ``$defs``."""
    schema = load_schema()
    return {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/trainingReference"}


@lru_cache(maxsize=1)
def reference_validator() -> Draft202012Validator:
    """The validator of one training reference (errors carry paths relative to the reference)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_reference_schema())


@lru_cache(maxsize=2)
def _fast_check(whole: bool) -> Any:
    """The compiled yes/no check (fastjsonschema) of the whole manifest, or of one reference.

    They only answer "valid or not", ~10x faster than jsonschema; jsonschema then
    explains the parts that are not valid, so messages and positions are unchanged.
    Each is compiled when first needed, without exception details (the code is ~4x
    smaller and compiles in ~20 ms instead of ~60): a valid manifest never needs the
    reference check, which matters to a short-lived ``hpo validate``.
    """
    return fastjsonschema.compile(_const_as_enum(load_schema() if whole else _reference_schema()), detailed_exceptions=False)


#: Keywords whose value maps names (not keywords) to sub-schemas.
_NAMED_SCHEMAS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
#: Keywords whose value is data, not a schema.
_DATA_KEYWORDS = ("const", "enum", "default", "examples")


def _const_as_enum(schema: Any) -> Any:
    """``schema`` with every ``const: X`` written ``enum: [X]``: the same rule in JSON Schema, and
    in fastjsonschema, which compares both alike. fastjsonschema 2.22 cannot generate a check
    without exception details for ``const`` (``KeyError: 'definition_rule'``), but can for ``enum``."""
    if isinstance(schema, list):
        return [_const_as_enum(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DATA_KEYWORDS:
            out[key] = value
        elif key in _NAMED_SCHEMAS and isinstance(value, dict):
            out[key] = {name: _const_as_enum(item) for name, item in value.items()}
        else:
            out[key] = _const_as_enum(value)
    if "const" in out:
        const = out.pop("const")
        if "enum" in out:
            out["allOf"] = [*out.get("allOf", []), {"enum": [const]}]
        else:
            out["enum"] = [const]
    return out


def _fast_valid(check: Any, instance: Any) -> bool:
    try:
        check(instance)
        return True
    except fastjsonschema.JsonSchemaException:
        return False
    except Exception:  # noqa: BLE001 - a compiled check that trips on odd data: let jsonschema judge
        return False


@lru_cache(maxsize=1)
def method_parameter_kinds() -> dict[str, str]:
    """Known method parameter name -> the value key it needs, read from the schema's if/then rules."""
    kinds: dict[str, str] = {}
    for rule in load_schema()["$defs"]["methodParameter"].get("allOf", []):
        name = rule["if"]["properties"]["name"]["const"]
        then = rule["then"]
        required = then.get("required") or then.get("oneOf", [{}])[0].get("required", [])
        kinds[name] = required[0]
    return kinds


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "empty"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _where(path: Sequence[str | int]) -> str:
    """A readable name for the place of ``path``: its last key, or 'the top level'."""
    for item in reversed(path):
        if isinstance(item, str):
            return f"'{item}'"
    return "the top level"


class _Mapper:
    def __init__(self, document: SourceDocument) -> None:
        self.doc = document
        self.problems: list[Problem] = []

    # -- helpers -----------------------------------------------------------------
    def value_span(self, path: Sequence[str | int]) -> Span:
        node = self.doc.node_at(path)
        if node is None:
            return self.doc.key_or_node_span(path)
        if isinstance(node, (MappingNode, SequenceNode)) and not node.flow:
            entry = self.doc.entry_at(path)
            if entry is not None:
                return entry.key_span
            return self.doc.first_line_span(node)
        return node.span if node.span.start.line == node.span.end.line else self.doc.first_line_span(node)

    def label(self, path: Sequence[str | int]) -> str:
        """Like :func:`_where`, but a method parameter's value is named after the parameter,
        and a hyper-parameter item after its name (``hyper-parameter 'lr'``)."""
        if len(path) >= 2 and isinstance(path[-1], int) and path[-2] == "hyper_parameters":
            item = self.doc.node_at(path)
            name = item.get("name") if isinstance(item, MappingNode) else None
            if isinstance(name, ScalarNode) and isinstance(name.value, str):
                return f"hyper-parameter '{name.value}'"
        if len(path) >= 2 and path[-1] in ("string_value", "int_value", "double_value") and isinstance(path[-2], int):
            item = self.doc.node_at(path[:-1])
            name = item.get("name") if isinstance(item, MappingNode) else None
            if name is not None and isinstance(name.value, str):  # type: ignore[union-attr]
                return f"'{name.value}'"  # type: ignore[union-attr]
        return _where(path)

    def add(self, code: str, message: str, span: Span, suggestions: Iterable[Suggestion] = ()) -> None:
        from hpo_engine.manifest.problems import CODES

        self.problems.append(Problem(code, CODES[code][0], message, span, tuple(suggestions)))

    # -- one error -------------------------------------------------------------------
    def map(self, error: ValidationError, prefix: Sequence[str | int] = ()) -> None:
        path = [*prefix, *error.absolute_path]
        validator = error.validator
        schema_path = list(error.absolute_schema_path)
        if _in_method_parameter_rule(schema_path) and validator not in ("enum", "minimum", "exclusiveMinimum"):
            return  # value kinds of method parameters are checked with their names (checks.py)
        handler = getattr(self, f"on_{validator}", None)
        if handler is not None:
            handler(error, path)
        else:
            self.add("HPO106", f"{_where(path).capitalize()} is not valid: {error.message}", self.value_span(path))

    def on_additionalProperties(self, error: ValidationError, path: list) -> None:
        instance = error.instance if isinstance(error.instance, dict) else {}
        allowed = list(error.schema.get("properties", {}))
        node = self.doc.node_at(path)
        for key in instance:
            if key in allowed:
                continue
            entry = node.entry(key) if isinstance(node, MappingNode) else None
            span = entry.key_span if entry else self.value_span(path)
            free = [k for k in allowed if k not in instance]
            ranked = rank_similar(key, free)
            if not ranked and key.rstrip("\"'`:") in allowed:
                ranked = [key.rstrip("\"'`:")]
            where = self.label(path)
            message = f"Unknown property '{key}' in {where}"
            if ranked:
                message += f"; did you mean '{ranked[0]}'?"
            else:
                message += f"; allowed: {', '.join(allowed)}."
            suggestions = [Suggestion(f"Change '{key}' to '{c}'", (TextEdit(span, c),), c) for c in ranked]
            self.add("HPO101", message, span, suggestions)

    def on_required(self, error: ValidationError, path: list) -> None:
        instance = error.instance if isinstance(error.instance, dict) else {}
        allowed = error.schema.get("properties", {})
        unknown = [key for key in instance if key not in allowed]
        missing = [
            key
            for key in error.validator_value
            if key not in instance and not any(rank_similar(u, [key]) for u in unknown)  # the typo's problem says it
        ]
        if not missing:
            return
        names = " and ".join(f"'{m}'" for m in missing)
        noun = "property" if len(missing) == 1 else "properties"
        self.add("HPO102", f"Missing required {noun} {names} in {_where(path)}.", self.doc.key_or_node_span(path))

    def on_type(self, error: ValidationError, path: list) -> None:
        expected = error.validator_value
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in ([expected] if isinstance(expected, str) else expected))
        if "int_range" in path and expected == "integer" and isinstance(error.instance, (int, float)):
            self.add("HPO204", f"int_range needs integers, but {_where(path)} is {error.instance!r}; use double_range for fractional values.", self.value_span(path))
            return
        self.add("HPO103", f"{_where(path).capitalize()} must be {words}, but it is {_describe(error.instance)}.", self.value_span(path))

    def on_enum(self, error: ValidationError, path: list) -> None:
        allowed = [str(v) for v in error.validator_value]
        value = error.instance
        span = self.value_span(path)
        ranked = rank_similar(str(value), allowed) if isinstance(value, str) else []
        message = f"{value!r} is not allowed for {self.label(path)}"
        message += f"; did you mean '{ranked[0]}'?" if ranked else "."
        message += f" Allowed: {', '.join(allowed)}."
        suggestions = [Suggestion(f"Change to '{c}'", (TextEdit(span, c),), c) for c in ranked]
        self.add("HPO104", message, span, suggestions)

    def on_const(self, error: ValidationError, path: list) -> None:
        self.add("HPO104", f"{error.instance!r} is not allowed for {_where(path)}; expected {error.validator_value!r}.", self.value_span(path))

    def on_oneOf(self, error: ValidationError, path: list) -> None:
        instance = error.instance if isinstance(error.instance, dict) else {}
        present = kinds_in(instance)
        name = instance.get("name")
        label = f"Hyper-parameter '{name}'" if isinstance(name, str) else "This hyper-parameter"
        node = self.doc.node_at(path)
        if not present:
            unknown = [k for k in instance if k != "name" and k not in KINDS]
            if unknown:
                return  # the unknown key's own problem ("did you mean 'double_range'?") says it
            self.add("HPO105", f"{label} needs one of {', '.join(KINDS)}.", self.doc.key_or_node_span(path + ["name"]) if "name" in instance else self.value_span(path))
            return
        entry = node.entry(present[1]) if isinstance(node, MappingNode) and len(present) > 1 else None
        span = entry.key_span if entry else self.value_span(path)
        self.add("HPO105", f"{label} has {' and '.join(present)}: a hyper-parameter has exactly one kind; keep one.", span)

    def on_anyOf(self, error: ValidationError, path: list) -> None:
        if not path:
            instance = error.instance if isinstance(error.instance, dict) else {}
            wanted = ("training_references", "hyper_parameters_optimization")
            if any(rank_similar(key, wanted) for key in instance if key not in error.schema.get("properties", {})):
                return  # the misspelled key's own problem ("did you mean 'training_references'?") says it
            self.add("HPO102", "A manifest needs 'training_references' (or a 'hyper_parameters_optimization' section).", self.doc.key_or_node_span([]))
        else:
            self.add("HPO106", f"{_where(path).capitalize()} is not valid: {error.message}", self.value_span(path))

    def on_minItems(self, error: ValidationError, path: list) -> None:
        last = path[-1] if path else ""
        if last in KINDS:
            self.add("HPO206", f"'{last}' is empty: list at least one value.", self.value_span(path))
        elif last == "hyper_parameters":
            self.add("HPO218", "'hyper_parameters' is empty: list at least one hyper-parameter to optimize.", self.value_span(path))
        else:
            self.add("HPO106", f"{_where(path).capitalize()} must not be empty.", self.value_span(path))

    def on_exclusiveMinimum(self, error: ValidationError, path: list) -> None:
        last = path[-1] if path else ""
        if last == "step":
            self.add("HPO202", f"'step' must be positive, but it is {error.instance!r}.", self.value_span(path))
        elif last == "power":
            self.add("HPO205", f"'power' must be positive and not 1, but it is {error.instance!r}.", self.value_span(path))
        else:
            self.add("HPO106", f"{self.label(path).capitalize()} must be more than {error.validator_value}, but it is {error.instance!r}.", self.value_span(path))

    def on_minimum(self, error: ValidationError, path: list) -> None:
        self.add("HPO106", f"{self.label(path).capitalize()} must be at least {error.validator_value}, but it is {error.instance!r}.", self.value_span(path))

    def on_minLength(self, error: ValidationError, path: list) -> None:
        self.add("HPO106", f"{_where(path).capitalize()} must not be empty.", self.value_span(path))


def _in_method_parameter_rule(schema_path: Sequence[Any]) -> bool:
    """True for errors raised by the per-name if/then rules of method parameters."""
    return "then" in schema_path and "allOf" in schema_path


def schema_problems(document: SourceDocument) -> list[Problem]:
    """Problems of ``document`` against the manifest schema.

    A valid manifest costs one compiled check. Otherwise only the training
    references that fail their compiled check are explained by jsonschema, so an
    error in a 10,000-line manifest costs about one reference's validation.
    """
    mapper = _Mapper(document)
    data = document.data
    if _fast_valid(_fast_check(True), data):
        return []
    references = data.get("training_references") if isinstance(data, dict) else None
    if not isinstance(references, list) or not references:
        for error in manifest_validator().iter_errors(data):
            mapper.map(error)
        return mapper.problems
    for error in manifest_validator().iter_errors({**data, "training_references": []}):
        if list(error.absolute_path)[:1] != ["training_references"]:
            mapper.map(error)
    for index, reference in enumerate(references):
        if _fast_valid(_fast_check(False), reference):
            continue
        for error in reference_validator().iter_errors(reference):
            mapper.map(error, ("training_references", index))
    return mapper.problems
