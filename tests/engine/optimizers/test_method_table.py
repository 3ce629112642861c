"""The method table: one row per method, equal to the schema's enum, each row's class its optimizer."""

from __future__ import annotations

import pytest

from hpo_engine.errors import OptimizerError
from hpo_engine.manifest.methods import METHOD_SPECS
from hpo_engine.manifest.schema import load_schema
from hpo_engine.optimizers import METHODS, MethodTable
from hpo_engine.optimizers.base import Optimizer


def _schema_method_enum() -> tuple[list[str], list[str]]:
    name = load_schema()["$defs"]["method"]["properties"]["name"]
    return name["enum"], name["enumDescriptions"]


def test_methods_equal_the_schema_enum_in_order() -> None:
    names, descriptions = _schema_method_enum()
    assert list(METHODS) == list(METHOD_SPECS) == names
    assert [METHOD_SPECS[n].description for n in names] == descriptions


@pytest.mark.parametrize("name", list(METHOD_SPECS))
def test_each_row_names_its_optimizer_class(name: str) -> None:
    cls = METHODS[name]
    assert issubclass(cls, Optimizer) and cls.name == name
    assert METHODS.spec(name) is METHOD_SPECS[name]


def test_a_row_naming_a_class_of_another_method_is_refused() -> None:
    from dataclasses import replace

    table = MethodTable({"random": replace(METHOD_SPECS["random"], optimizer="hpo_engine.optimizers.grid_search:GridSearch")})
    with pytest.raises(OptimizerError, match="not its Optimizer"):
        table["random"]


def test_importing_the_table_imports_no_optimizer_library() -> None:
    import subprocess
    import sys

    code = "import sys, hpo_engine.optimizers as o; list(o.METHODS); print('rbfopt' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
