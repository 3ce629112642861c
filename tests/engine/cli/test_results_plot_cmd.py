"""``hpo results`` (table, JSON, CSV, best_config.json) and ``hpo plot`` on a real experiment."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hpo_engine.cli import app

runner = CliRunner()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

MIXED = """
import json, os, sys
values = json.load(open("config.json"))
if os.environ["SUBID"] == "1":
    sys.exit(3)
print(f"loss={values['x'] * 10 + values['y']} accuracy={values['y']}")
"""

SPACE = [
    {"name": "x", "double_range": {"min_value": -3, "max_value": -1, "power": 10}},
    {"name": "y", "int_range": {"min_value": 1, "max_value": 3, "power": 2}},
    {"name": "act", "string_values": ["relu", "tanh"]},
]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One minimize experiment of 5 trials (trial 1 fails), run through ``hpo run``."""
    tmp_path = tmp_path_factory.mktemp("results")
    definition = tmp_path / "definition"
    definition.mkdir()
    (definition / "train.py").write_text(MIXED)
    manifest = {
        "settings": {"name": "mixed"},
        "training_references": [{
            "name": "ref",
            "training_definition_url": "definition",
            "command": "python3 train.py",
            "hyper_parameters_optimization": {
                "method": {"name": "random", "parameters": [
                    {"name": "objective", "string_value": "loss"},
                    {"name": "maximize_or_minimize", "string_value": "minimize"},
                    {"name": "num_optimizer_steps", "int_value": 5},
                    {"name": "random_seed", "int_value": 1},
                ]},
                "hyper_parameters": SPACE,
            },
        }],
    }
    path = tmp_path / "mixed.yaml"
    path.write_text(json.dumps(manifest))
    results = tmp_path / "results"
    result = runner.invoke(app, ["run", str(path), "--results", str(results), "--quiet"])
    assert result.exit_code == 0, result.output
    return path, results, results / "mixed" / "ref"


def test_results_json_sorted_by_objective(finished) -> None:
    _, results, folder = finished
    result = runner.invoke(app, ["results", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    [experiment] = json.loads(result.stdout)["experiments"]
    assert experiment["direction"] == "minimize" and experiment["counts"]["complete"] == 4
    trials = experiment["trials"]
    losses = [t["objective"] for t in trials if t["state"] == "complete"]
    assert losses == sorted(losses) and len(losses) == 4
    assert trials[-1]["number"] == 1 and trials[-1]["state"] == "failed" and trials[-1]["exit_code"] == 3
    assert experiment["best"]["objective"] == losses[0]
    assert trials[0]["metrics"]["final"]["accuracy"] in (2, 4, 8)


def test_results_csv(finished) -> None:
    _, results, folder = finished
    result = runner.invoke(app, ["results", str(results), "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 5
    assert {"x", "y", "act", "metric.accuracy", "metric.loss", "objective", "state"} <= set(rows[0])
    assert rows[0]["rank"] == "1" and rows[-1]["state"] == "failed"
    assert float(rows[0]["objective"]) <= float(rows[1]["objective"])


def test_results_table_and_best_config(finished) -> None:
    path, results, folder = finished
    (folder / "best_config.json").unlink()
    result = runner.invoke(app, ["results", str(path), "--results", str(results)])
    assert result.exit_code == 0, result.output
    assert "mixed / ref" in result.stdout and "best loss = " in result.stdout
    best = json.loads((folder / "best_config.json").read_text())
    assert set(best) == {"x", "y", "act"} and isinstance(best["y"], int)


def test_results_of_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["results", str(tmp_path)])
    assert result.exit_code == 1 and "no hpo results" in result.stderr


def test_plot_is_a_png(finished, tmp_path: Path) -> None:
    _, results, folder = finished
    result = runner.invoke(app, ["plot", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "plot.png").read_bytes().startswith(PNG_SIGNATURE)
    output = tmp_path / "out" / "custom.png"
    result = runner.invoke(app, ["plot", str(results), "--output", str(output)])
    assert result.exit_code == 0 and output.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_of_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plot", str(tmp_path / "missing")])
    assert result.exit_code == 1 and "no such file or folder" in result.stderr


def test_the_table_shows_the_best_20_unless_all(tmp_path: Path) -> None:
    import time

    from hpo_engine.runner.backends.base import TrialOutcome, TrialState
    from hpo_engine.runner.store import ExperimentRecord, ResultStore

    folder = tmp_path / "many" / "ref"
    record = ExperimentRecord("many", "ref", "random", "score", True, 25, ({"name": "x", "int_values": list(range(25))},), created_at=time.time())
    with ResultStore.create(folder, record) as store:
        for number in range(25):
            store.record_running(number, {"x": number})
            store.record_outcome(TrialOutcome(number, TrialState.COMPLETE, float(number), {"score": float(number)}, 0, None, "", 1.0, 2.0))
    shown = runner.invoke(app, ["results", str(folder)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    numbers = [int(line.split()[0]) for line in shown.stdout.splitlines() if line.strip()[:2].strip().isdigit() and "complete" in line]
    assert numbers == list(range(24, 4, -1))  # the best 20, best first
    assert f"best 20 of 25 trials shown; every trial: hpo results {folder} --all\n" in shown.stdout
    everything = runner.invoke(app, ["results", str(folder), "--all"], env={"COLUMNS": "200"})
    assert [int(line.split()[0]) for line in everything.stdout.splitlines() if "complete" in line] == list(range(24, -1, -1))
    assert len(json.loads(runner.invoke(app, ["results", str(folder), "--format", "json"]).stdout)["experiments"][0]["trials"]) == 25
