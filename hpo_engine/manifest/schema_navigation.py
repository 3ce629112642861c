"""Read the manifest JSON Schema by document path: what may go where, and what it means.

Pure functions over the schema returned by :func:`hpo_engine.manifest.schema.load_schema`
(Draft 2020-12). They know the shapes that schema uses — local ``$ref``,
``properties``, ``items``, ``allOf``/``anyOf``/``oneOf``, ``if``/``then`` keyed on a
sibling's ``const``, ``enum`` with the ``enumDescriptions`` annotation, ``examples``
— and nothing about editors: the language server and the CLI both use them.

A *path* is a tuple of mapping keys (``str``) and 0-based sequence indexes
(``int``), e.g. ``("training_references", 0, "hyper_parameters_optimization")``.
Functions that depend on sibling values (the ``if``/``then`` branches of a method
parameter) take them as ``siblings``: a mapping of key -> plain value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "KeyInfo",
    "EnumValue",
    "resolve",
    "subschema_at",
    "description_of",
    "allowed_keys",
    "exclusive_keys",
    "enum_values",
    "required_children",
    "conditional_requirements",
    "value_key_for",
]

PathPart = str | int
Schema = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A key allowed in a mapping: its name, description, whether it is required, its schema."""

    name: str
    description: str
    required: bool
    schema: Schema


@dataclass(frozen=True, slots=True)
class EnumValue:
    """One allowed value (from ``enum``, ``const`` or ``examples``) and what it means."""

    value: Any
    description: str
    is_example: bool = False


def resolve(root: Schema, node: Any) -> Schema:
    """``node`` with local ``$ref`` chains followed; ``{}`` for ``True``/non-schemas.

    Keywords written next to a ``$ref`` (e.g. a ``description``) override the target's.
    """
    seen = 0
    result: dict[str, Any] | None = None
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and seen < 32:
        seen += 1
        ref = node["$ref"]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        result = {**siblings, **(result or {})}
        node = _pointer(root, ref)
    if not isinstance(node, Mapping):
        return dict(result or {})
    return {**node, **result} if result else node


def _pointer(root: Schema, ref: str) -> Any:
    if not ref.startswith("#"):
        return {}
    node: Any = root
    for part in ref[1:].split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping):
            node = node.get(part, {})
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return {}
    return node


def _branches(root: Schema, node: Schema, siblings: Mapping[str, Any] | None) -> Iterator[Schema]:
    """``node`` and every sub-schema that applies with it: allOf/anyOf/oneOf members,
    and the ``then`` of each ``if`` that ``siblings`` satisfy (no ``then`` when
    ``siblings`` is ``None``: sibling values unknown)."""
    stack = [resolve(root, node)]
    seen = 0
    while stack and seen < 256:
        seen += 1
        current = stack.pop(0)
        yield current
        for keyword in ("allOf", "anyOf", "oneOf"):
            for member in current.get(keyword, ()) or ():
                if isinstance(member, Mapping):
                    stack.append(resolve(root, member))
        if "if" in current and isinstance(current.get("then"), Mapping):
            if siblings is not None and _matches_if(root, current["if"], siblings):
                stack.append(resolve(root, current["then"]))


def _matches_if(root: Schema, condition: Any, siblings: Mapping[str, Any]) -> bool:
    """A small ``if`` evaluator: ``required`` and ``properties.<key>.const/enum``."""
    condition = resolve(root, condition)
    for key in condition.get("required", ()) or ():
        if key not in siblings:
            return False
    for key, sub in (condition.get("properties") or {}).items():
        if key not in siblings:
            continue
        sub = resolve(root, sub)
        if "const" in sub and siblings[key] != sub["const"]:
            return False
        if "enum" in sub and siblings[key] not in sub["enum"]:
            return False
    return True


def _property(root: Schema, node: Schema, key: str, siblings: Mapping[str, Any] | None) -> Schema | None:
    """The merged schema of property ``key`` of ``node`` (``None`` when not allowed)."""
    found: dict[str, Any] | None = None
    forbidden = False
    for branch in _branches(root, node, siblings):
        props = branch.get("properties")
        if isinstance(props, Mapping) and key in props:
            sub = props[key]
            if sub is False:
                forbidden = True
                continue
            sub = resolve(root, sub)
            found = dict(sub) if found is None else {**found, **_narrowing(sub)}
    if found is None:
        if forbidden:
            return None
        extra = node.get("additionalProperties", True)
        return resolve(root, extra) if isinstance(extra, Mapping) else ({} if extra is not False else None)
    return found


def _narrowing(sub: Schema) -> dict[str, Any]:
    """Keywords of a conditional branch that narrow a property (an enum for one name)."""
    return {k: v for k, v in sub.items() if k in ("enum", "enumDescriptions", "const")}


def subschema_at(root: Schema, path: Sequence[PathPart], siblings_at: Mapping[tuple, Mapping[str, Any]] | None = None) -> Schema | None:
    """The schema that applies at ``path`` in a manifest, ``None`` when nothing may be there.

    ``siblings_at`` optionally maps a path prefix (a tuple) to the plain values of
    the mapping there, so ``if``/``then`` branches keyed on a sibling (a method
    parameter's ``name``) pick the right value schema.
    """
    node: Schema = resolve(root, root)
    walked: tuple = ()
    for part in path:
        siblings = (siblings_at or {}).get(walked)
        if isinstance(part, int):
            items = None
            for branch in _branches(root, node, siblings):
                if isinstance(branch.get("items"), Mapping):
                    items = resolve(root, branch["items"])
                    break
            if items is None:
                return None
            node = items
        else:
            sub = _property(root, node, str(part), siblings)
            if sub is None:
                return None
            node = sub
        walked = walked + (part,)
    return node


def description_of(root: Schema, node: Schema | None) -> str:
    """The first ``description`` found in ``node`` or the branches that always apply."""
    if not node:
        return ""
    for branch in _branches(root, node, {}):
        text = branch.get("description")
        if isinstance(text, str) and text:
            return text
    return ""


def allowed_keys(root: Schema, node: Schema | None, siblings: Mapping[str, Any] | None = None) -> list[KeyInfo]:
    """Keys a mapping matching ``node`` may hold, in schema order (``required`` marked).

    Keys a branch forbids (``"int_value": false`` when ``siblings`` select that
    branch) are left out.
    """
    if not node:
        return []
    order: list[str] = []
    forbidden: set[str] = set()
    required = set(required_children(root, node, siblings))
    for branch in _branches(root, node, siblings):
        for key, sub in (branch.get("properties") or {}).items():
            if sub is False:
                forbidden.add(key)
            elif key not in order:
                order.append(key)
    result = []
    for key in order:
        if key in forbidden:
            continue
        sub = _property(root, node, key, siblings) or {}
        result.append(KeyInfo(key, description_of(root, sub), key in required, sub))
    return result


def required_children(root: Schema, node: Schema | None, siblings: Mapping[str, Any] | None = None) -> list[str]:
    """Keys that must be present: ``required`` of the node and of ``allOf`` members and
    of matching ``then`` branches (not of ``anyOf``/``oneOf`` alternatives), in order."""
    if not node:
        return []
    node = resolve(root, node)
    keys: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop(0)
        for key in current.get("required", ()) or ():
            if key not in keys:
                keys.append(key)
        for member in current.get("allOf", ()) or ():
            if isinstance(member, Mapping):
                stack.append(resolve(root, member))
        if siblings is not None and "if" in current and isinstance(current.get("then"), Mapping):
            if _matches_if(root, current["if"], siblings):
                stack.append(resolve(root, current["then"]))
    return keys


def exclusive_keys(root: Schema, node: Schema | None) -> list[list[str]]:
    """Groups of keys of which at most one may appear: a ``oneOf`` whose members
    each only require keys (e.g. the five kinds of a hyper-parameter)."""
    if not node:
        return []
    groups = []
    for branch in _branches(root, node, {}):
        members = branch.get("oneOf")
        if not isinstance(members, list):
            continue
        keys = []
        for member in members:
            member = resolve(root, member)
            if set(member) - {"required", "description"} or len(member.get("required", ())) != 1:
                keys = []
                break
            keys.append(member["required"][0])
        if keys:
            groups.append(keys)
    return groups


def enum_values(root: Schema, node: Schema | None) -> list[EnumValue]:
    """Allowed values of ``node`` with their ``enumDescriptions``; ``const``; then
    ``examples`` (marked ``is_example``) when the value is free text."""
    if not node:
        return []
    node = resolve(root, node)
    values: list[EnumValue] = []
    seen: list[Any] = []
    for branch in _branches(root, node, {}):
        if isinstance(branch.get("enum"), list):
            descriptions = branch.get("enumDescriptions") or []
            for i, value in enumerate(branch["enum"]):
                if value not in seen:
                    seen.append(value)
                    text = descriptions[i] if i < len(descriptions) and isinstance(descriptions[i], str) else ""
                    values.append(EnumValue(value, text))
        if "const" in branch and branch["const"] not in seen:
            seen.append(branch["const"])
            values.append(EnumValue(branch["const"], branch.get("description", "") or ""))
    if not values:
        for branch in _branches(root, node, {}):
            for value in branch.get("examples", ()) or ():
                if value not in seen:
                    seen.append(value)
                    values.append(EnumValue(value, "", is_example=True))
    return values


def conditional_requirements(root: Schema, node: Schema | None, key: str) -> dict[Any, list[str]]:
    """For each value of ``key`` that an ``if``/``then`` keys on, the keys its ``then``
    requires (the first alternative of a ``oneOf`` of requirements counts too).

    For a method parameter: ``{"objective": ["string_value"], "num_optimizer_steps": ["int_value"], ...}``.
    """
    if not node:
        return {}
    result: dict[Any, list[str]] = {}
    for branch in _branches(root, node, None):
        condition = branch.get("if")
        then = branch.get("then")
        if not isinstance(condition, Mapping) or not isinstance(then, Mapping):
            continue
        sub = resolve(root, (resolve(root, condition).get("properties") or {}).get(key, {}))
        if "const" not in sub:
            continue
        then = resolve(root, then)
        needed = [k for k in then.get("required", ()) or () if k != key]
        if not needed:
            for member in then.get("oneOf", ()) or ():
                member = resolve(root, member)
                if member.get("required"):
                    needed = [k for k in member["required"] if k != key]
                    break
        result.setdefault(sub["const"], needed)
    return result


def value_key_for(root: Schema, node: Schema | None, key: str, value: Any) -> str | None:
    """The key that must carry the value when ``key`` is ``value`` (``"objective"`` -> ``"string_value"``)."""
    needed = conditional_requirements(root, node, key).get(value)
    return needed[0] if needed else None
