"""Shared helpers of the manifest-core tests: paths, a small valid manifest, the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hpo_engine.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BROKEN = EXAMPLES / "broken"

#: A small valid manifest; tests edit it with str.replace.
VALID = """\
training_references:
- name: model1
  command: python3 train.py --data ${DATA_DIR}
  hyper_parameters_optimization:
    method:
      name: random
      parameters:
      - name: objective
        string_value: accuracy
      - name: maximize_or_minimize
        string_value: maximize
      - name: num_optimizer_steps
        int_value: 4
    hyper_parameters:
    - name: learning_rate
      double_range:
        min_value: 0.005
        max_value: 0.01
        step: 0.001
    - name: fc
      int_range:
        min_value: 5
        max_value: 10
        power: 2
"""


def invoke(*args: str):
    """Run ``hpo ARGS...`` in-process; returns click's Result (stdout and stderr apart)."""
    return CliRunner().invoke(app, [str(a) for a in args])


def validate_json(*paths: str | Path, extra: tuple[str, ...] = ()) -> tuple[int, list[dict]]:
    """Exit code and parsed ``hpo validate --format json`` records."""
    result = invoke("validate", "--format", "json", *extra, *map(str, paths))
    return result.exit_code, json.loads(result.stdout)
