"""The README's example, shortened: examples/digits trains for real and reports accuracy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits"


@pytest.mark.slow
def test_digits_example_runs_end_to_end(tmp_path: Path) -> None:
    manifest = tmp_path / "digits.yaml"
    text = (EXAMPLE / "digits.yaml").read_text()
    text = text.replace("int_value: 20", "int_value: 3").replace("training_definition_url: .", f"training_definition_url: {EXAMPLE}")
    manifest.write_text(text)
    env = dict(os.environ, DIGITS_EPOCHS="3")
    result = subprocess.run(
        [sys.executable, "-m", "hpo_engine.cli", "run", str(manifest), "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    [summary] = json.loads(result.stdout)["references"]
    assert summary["counts"]["complete"] == 3
    assert 0.5 < summary["best"]["objective"] <= 1.0
    assert set(summary["best"]["values"]) == {"learning_rate", "hidden_units", "activation"}
    folder = tmp_path / "hpo-results" / "digits" / "mlp"
    metrics = (folder / "trials" / "0").rglob("evaluation-metrics.txt")
    lines = [json.loads(line) for path in metrics for line in path.read_text().splitlines()]
    assert {line["grouplabel"] for line in lines} == {"train", "test"}
    assert json.loads((folder / "best_config.json").read_text()) == summary["best"]["values"]
