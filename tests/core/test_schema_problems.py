"""The compiled yes/no gate of :mod:`hpo_engine.manifest.validation.schema_problems` answers as jsonschema does.

The gate (fastjsonschema, compiled without exception details from the schema with ``const``
written as ``enum``) decides whether jsonschema is asked to explain; a "valid" where jsonschema
finds an error would hide that error. Checked on every example and on the one-edit variants of
``examples/kinds.yaml`` (every kind; each value replaced by values of other types, each key or
item removed): about 600 documents each.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from hpo_engine.manifest.validation.schema_problems import _const_as_enum, _fast_check, _fast_valid, manifest_validator, reference_validator
from hpo_engine.manifest.yaml_source import parse_yaml

from .support import EXAMPLES, ROOT

REPLACEMENTS: tuple[Any, ...] = (None, -1, 2.5, True, "x", [], {"name": "x"})


def documents() -> list[Any]:
    """The data of every example manifest, good and broken, and of the language server's fixtures."""
    paths = sorted({*EXAMPLES.rglob("*.yaml"), *(ROOT / "tests" / "lsp" / "fixtures").glob("*.yaml")})
    found = [parse_yaml(path.read_text(encoding="utf-8")).data for path in paths]
    return [data for data in found if data is not None]


def references(document: Any) -> list[Any]:
    items = document.get("training_references") if isinstance(document, dict) else None
    return items if isinstance(items, list) else []


def edits(node: Any) -> Iterator[Any]:
    """Copies of ``node`` with one value replaced or one key / item removed, at every depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield {k: v for k, v in node.items() if k != key}
            for replacement in REPLACEMENTS:
                yield {**node, key: replacement}
            for edited in edits(value):
                yield {**node, key: edited}
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield node[:index] + node[index + 1:]
            for edited in edits(value):
                yield [*node[:index], edited, *node[index + 1:]]


def agrees(gate: Any, validator: Any, instance: Any) -> bool:
    return _fast_valid(gate, copy.deepcopy(instance)) == validator.is_valid(instance)


def test_const_is_rewritten_as_enum_only_in_schema_positions() -> None:
    schema = {"properties": {"const": {"const": 1}, "a": {"enum": [{"const": 2}], "default": {"const": 3}}}, "items": [{"const": "x", "enum": ["x", "y"]}]}
    assert _const_as_enum(schema) == {
        "properties": {"const": {"enum": [1]}, "a": {"enum": [{"const": 2}], "default": {"const": 3}}},
        "items": [{"enum": ["x", "y"], "allOf": [{"enum": ["x"]}]}],
    }


@pytest.mark.parametrize("whole", [True, False], ids=["manifest", "reference"])
def test_the_gate_agrees_with_jsonschema_on_the_examples_and_their_one_edit_variants(whole: bool) -> None:
    gate = _fast_check(whole)
    validator = manifest_validator() if whole else reference_validator()
    kinds = parse_yaml((EXAMPLES / "kinds.yaml").read_text(encoding="utf-8")).data
    if whole:
        variants = [*documents(), *edits(kinds)]
    else:
        variants = [*(r for d in documents() for r in references(d)), *(v for r in references(kinds) for v in edits(r))]
    assert len(variants) > 500
    disagreements = [v for v in variants if not agrees(gate, validator, v)]
    assert not disagreements, disagreements[:3]
    assert {validator.is_valid(v) for v in variants} == {True, False}
