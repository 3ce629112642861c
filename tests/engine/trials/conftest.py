"""Fixtures for trial tests: tiny training programs run as real subprocesses."""

from __future__ import annotations

import shlex
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hpo_engine.runner.backends.base import TrialSpec

PYTHON = shlex.quote(sys.executable)


@pytest.fixture
def make_spec(tmp_path: Path) -> Callable[..., TrialSpec]:
    """``make_spec(program, number=0, values=..., **spec_fields)``: writes ``train.py`` in a definition folder."""

    def build(program: str, *, number: int = 0, values: dict[str, Any] | None = None, **fields: Any) -> TrialSpec:
        definition = tmp_path / "definition"
        definition.mkdir(exist_ok=True)
        (definition / "train.py").write_text(textwrap.dedent(program), encoding="utf-8")
        fields.setdefault("command", f"{PYTHON} train.py")
        fields.setdefault("objective", "accuracy")
        return TrialSpec(
            experiment="exp",
            reference="ref",
            number=number,
            values=values if values is not None else {"lr": 0.1},
            definition_dir=definition,
            trial_dir=tmp_path / "trials" / str(number),
            **fields,
        )

    return build
