"""hpo_engine.lazy_table: rows import their class on first use, and only then."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hpo_engine.errors import BackendError, HpoError
from hpo_engine.lazy_table import LazyClassTable
from hpo_engine.runner.backends import BACKENDS
from hpo_engine.runner.backends.base import TrialBackend


def test_membership_and_names_import_nothing() -> None:
    code = (
        "import sys\n"
        "from hpo_engine.runner.backends import BACKENDS\n"
        "assert 'ray' in BACKENDS and 'nope' not in BACKENDS and list(BACKENDS) == ['local', 'ray']\n"
        "print('hpo_engine.runner.backends.ray_backend' in sys.modules, 'ray' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_a_row_gives_its_class_once() -> None:
    assert BACKENDS["local"].name == "local"
    assert BACKENDS["local"] is BACKENDS["local"]


def test_a_wrong_row_is_refused_with_the_tables_error() -> None:
    table: LazyClassTable[TrialBackend] = LazyClassTable(
        {"local": "hpo_engine.errors:HpoError", "other": "hpo_engine.runner.backends.local:LocalBackend"}, TrialBackend, "backend", BackendError
    )
    with pytest.raises(BackendError, match="not its TrialBackend"):
        table["local"]
    with pytest.raises(BackendError):
        table["other"]  # the class's name is 'local', not its row
    with pytest.raises(KeyError):
        table["missing"]
    assert issubclass(BackendError, HpoError)
