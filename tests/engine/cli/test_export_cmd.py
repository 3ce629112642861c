"""``hpo export``: into an Optuna storage URL (read back with Optuna), CSV and JSON; bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import optuna
from typer.testing import CliRunner

from hpo_engine.cli import app

from tests.engine.analysis_data import write_store

runner = CliRunner()


def test_export_to_sqlite_then_optuna_reads_it(tmp_path: Path) -> None:
    write_store(tmp_path / "exp" / "a", 12, reference="a")
    write_store(tmp_path / "exp" / "b", 8, reference="b", seed=2)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    result = runner.invoke(app, ["export", str(tmp_path / "exp"), "--to", url])
    assert result.exit_code == 0, result.output
    assert "exp/a" in result.stdout and "exp/b" in result.stdout
    study = optuna.load_study(study_name="exp/a", storage=url)
    assert len(study.trials) == 12 and study.direction == optuna.study.StudyDirection.MINIMIZE
    assert sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials) == 2
    again = runner.invoke(app, ["export", str(tmp_path / "exp"), "--to", url])
    assert again.exit_code == 1 and "already has a study" in again.stderr and "Traceback" not in again.output


def test_export_csv_and_json(tmp_path: Path) -> None:
    folder = write_store(tmp_path / "store", 6)
    result = runner.invoke(app, ["export", str(folder), "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 6 and {r["state"] for r in rows} == {"complete", "failed"}
    output = tmp_path / "out" / "trials.json"
    result = runner.invoke(app, ["export", str(folder), "--format", "json", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(output.read_text())["experiments"][0]["trials"]) == 6


def test_export_needs_one_target_and_real_results(tmp_path: Path) -> None:
    folder = write_store(tmp_path / "store", 2)
    neither = runner.invoke(app, ["export", str(folder)])
    assert neither.exit_code == 1 and "exactly one of --to" in neither.stderr
    missing = runner.invoke(app, ["export", str(tmp_path / "nothing"), "--format", "csv"])
    assert missing.exit_code == 1 and "no such file or folder" in missing.stderr
    bad = runner.invoke(app, ["export", str(folder), "--to", "study.db"])
    assert bad.exit_code == 1 and "not an Optuna storage URL" in bad.stderr and "Traceback" not in bad.output
