"""The manifest JSON Schema: valid Draft 2020-12, documented everywhere, shipped in the wheel."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from hpo_engine.manifest.schema import SCHEMA_FILENAME, load_schema, schema_path
from hpo_engine.manifest.search_space import KINDS
from hpo_engine.manifest.yaml_source import parse_yaml

from .support import EXAMPLES, ROOT

SCHEMA = load_schema()


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/name``)."""
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return SCHEMA["$defs"][ref.split("/")[-1]]
    return node


def walk(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every sub-schema with its path, skipping the refinements under ``if``/``then`` (not hover text)."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("if", "then", "enum", "enumDescriptions", "examples", "const", "required"):
                continue
            yield from walk(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, path + (index,))


def properties() -> Iterator[tuple[tuple, str, Any]]:
    for path, node in walk(SCHEMA):
        if isinstance(node, dict) and isinstance(node.get("properties"), dict) and path[-1:] != ("properties",):
            for name, sub in node["properties"].items():
                yield path, name, sub


def test_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)


def test_every_property_has_a_description() -> None:
    missing = [f"{'/'.join(map(str, path))}/{name}" for path, name, sub in properties() if isinstance(sub, dict) and not resolve(sub).get("description")]
    assert missing == []
    assert sum(1 for _ in properties()) > 50


def test_every_enum_value_has_a_description() -> None:
    enums = []

    def visit(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if "enum" in node:
                enums.append(path)
                descriptions = node.get("enumDescriptions")
                assert isinstance(descriptions, list) and len(descriptions) == len(node["enum"]), path
                assert all(isinstance(d, str) and d.strip() for d in descriptions), path
            for key, value in node.items():
                visit(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{path}/{index}")

    visit(SCHEMA, "#")
    assert len(enums) >= 4  # method name, parameter names, maximize_or_minimize, time_interval


def test_methods_kinds_and_parameters_are_those_of_the_format() -> None:
    defs = SCHEMA["$defs"]
    assert defs["method"]["properties"]["name"]["enum"] == ["random", "rbfopt", "grid", "hyperband", "tpe", "bayesian"]
    assert set(defs["hyperParameter"]["properties"]) == {"name", *KINDS}
    assert defs["methodParameter"]["properties"]["name"]["enum"] == [
        "objective",
        "maximize_or_minimize",
        "num_optimizer_steps",
        "time_interval",
        "filename",
        "max_concurrent_trials",
        "max_failed_trials",
        "trial_timeout_seconds",
        "random_seed",
        "early_stopping",
        "max_resource",
        "reduction_factor",
        "grace_period",
        "kill_grace_seconds",
        "n_startup_trials",
    ]
    for name in ("settings", "trainingReference", "hyperParametersOptimization", "method", "methodParameter", "hyperParameter", "computeConfiguration"):
        assert defs[name]["additionalProperties"] is False, name
    for kind in ("double_range", "int_range"):
        assert defs["hyperParameter"]["properties"][kind]["additionalProperties"] is False


def test_schema_alone_accepts_the_good_examples_and_rejects_the_typo() -> None:
    """What any schema-aware YAML editor would do with the schema file alone."""
    validator = Draft202012Validator(json.loads(schema_path().read_text()))
    for name in ("seed.yaml", "kinds.yaml", "method-random.yaml", "method-rbfopt.yaml", "method-grid.yaml"):
        data = parse_yaml((EXAMPLES / name).read_text()).data
        assert list(validator.iter_errors(data)) == [], name
    typo = parse_yaml((EXAMPLES / "seed-typo.yaml").read_text()).data
    errors = list(validator.iter_errors(typo))
    assert errors and any("step\"" in e.message for e in errors for e in [e, *e.context])


def test_schema_path_finds_the_file_from_a_checkout() -> None:
    path = schema_path()
    assert path.name == SCHEMA_FILENAME and path.is_file()
    assert json.loads(path.read_text()) == SCHEMA
    assert load_schema() is not load_schema()  # a fresh copy each time


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(folder), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = folder.glob("hpo_manifests-*.whl")  # the distribution name: hpo on PyPI is another project
    return built


@pytest.mark.slow
def test_the_wheel_ships_the_schema(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "hpo_engine/_schemas/hpo-manifest.schema.json" in names
        assert json.loads(archive.read("hpo_engine/_schemas/hpo-manifest.schema.json")) == SCHEMA


@pytest.mark.slow
def test_an_installed_package_finds_its_schema_without_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True, capture_output=True, timeout=300)
    code = "from hpo_engine.manifest.schema import schema_path, load_schema; import json; print(schema_path()); load_schema()"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=120, check=True)
    assert Path(out.stdout.strip()) == target / "hpo_engine" / "_schemas" / SCHEMA_FILENAME
