"""The kind table: one class per manifest kind, equal to the schema; the range rules written once."""

from __future__ import annotations

import random

import pytest

from hpo_engine.errors import SearchSpaceError
from hpo_engine.manifest.kinds import KINDS, dimension_from_spec, kinds_in, range_violations
from hpo_engine.manifest.schema import load_schema
from hpo_engine.manifest.validation import validate_text

SAMPLES = {
    "double_range": {"min_value": -3, "max_value": -1, "step": 1, "power": 10},
    "int_range": {"min_value": 1, "max_value": 9, "step": 2},
    "double_values": [0.1, 0.5],
    "int_values": [8, 16, 32],
    "string_values": ["relu", "tanh"],
}


def test_the_table_equals_the_schema_kinds_in_order() -> None:
    properties = list(load_schema()["$defs"]["hyperParameter"]["properties"])
    assert [p for p in properties if p != "name"] == list(KINDS) == list(SAMPLES)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_builds_from_its_manifest_form_and_round_trips(kind: str) -> None:
    dimension = dimension_from_spec("p", kind, SAMPLES[kind])
    assert type(dimension) is KINDS[kind] and dimension.kind == kind
    assert dimension.spec() == SAMPLES[kind] or list(dimension.values()) == SAMPLES[kind]
    for index in range(dimension.count):
        value = dimension.value_at(index)
        assert dimension.contains(value) and dimension.index_of(value) == index
        assert dimension.decode(dimension.encode(value)) == value


def test_kinds_in_lists_the_kind_keys_in_table_order() -> None:
    assert kinds_in({"name": "x", "int_values": [1], "double_range": {}}) == ["double_range", "int_values"]


RANGES = [
    (0.1, 0.01, None, None),
    (0, 1, 2.0, None),
    (0, 1, 0.5, None),
    (0, 400, None, 10),
    (0, 3, None, 1),
    (-2, 2, 1, 2),
    (5, 5, None, None),
]


def _manifest(low, high, step, power) -> str:
    extra = "".join(f", {k}: {v}" for k, v in (("step", step), ("power", power)) if v is not None)
    return (
        "hyper_parameters_optimization:\n  method:\n    name: random\n    parameters:\n"
        "    - {name: objective, string_value: accuracy}\n    - {name: maximize_or_minimize, string_value: maximize}\n"
        "    - {name: num_optimizer_steps, int_value: 1}\n  hyper_parameters:\n"
        f"  - name: x\n    double_range: {{min_value: {low}, max_value: {high}{extra}}}\n"
    )


@pytest.mark.parametrize("low, high, step, power", RANGES)
def test_the_validator_and_the_search_space_apply_the_same_range_rules(low, high, step, power) -> None:
    violations = range_violations(low, high, step, power)
    reported = [p.code for p in validate_text(_manifest(low, high, step, power)).problems if p.code in {"HPO106", "HPO201", "HPO203", "HPO205"}]
    assert reported == [v.code for v in violations if not v.by_schema]
    if violations:
        with pytest.raises(SearchSpaceError, match="double_range 'x'"):
            dimension_from_spec("x", "double_range", {"min_value": low, "max_value": high, "step": step, "power": power})
    else:
        dimension_from_spec("x", "double_range", {"min_value": low, "max_value": high, "step": step, "power": power})


def test_range_rules_agree_on_random_ranges() -> None:
    rng = random.Random(7)
    for _ in range(300):
        low, high = rng.choice([-3, 0, 0.5, 2, 10]), rng.choice([-1, 0, 1, 2.5, 400])
        step, power = rng.choice([None, 0.25, 1, 5, 1000]), rng.choice([None, 2, 10])
        spec = {"min_value": low, "max_value": high, "step": step, "power": power}
        try:
            dimension_from_spec("x", "double_range", spec)
            built = True
        except SearchSpaceError:
            built = False
        assert built == (not range_violations(low, high, step, power)), spec
