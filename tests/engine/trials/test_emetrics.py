"""``from emetrics import EMetrics`` in a trial, exactly as IBM's samples used it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.runner.trials import run_trial, trial_support_dir

IBM_SAMPLE = """
from emetrics import EMetrics
import json
import os

hyper_params = json.loads(open("config.json").read())
learning_rate = float(hyper_params["learning_rate"])
total_epochs = 3

with EMetrics.open(os.environ["SUBID"]) as em:
    for epoch in range(0, total_epochs):
        train_accuracy, train_loss = 0.5 + epoch / 10, 1.0 / (epoch + 1)
        em.record(EMetrics.TRAIN_GROUP, epoch, {'accuracy': train_accuracy, 'loss': train_loss})
        test_accuracy = learning_rate * (epoch + 1)
        em.record(EMetrics.TEST_GROUP, epoch, {'accuracy': test_accuracy, 'loss': 7, 'note': 'ok'})
"""


def test_ibm_sample_program_runs_unchanged(make_spec) -> None:
    spec = make_spec(IBM_SAMPLE, number=2, values={"learning_rate": 0.25}, training_id="training-xyz")
    outcome = run_trial(spec)
    assert outcome.state is TrialState.COMPLETE, outcome.stderr_tail
    assert outcome.objective == 0.75
    assert outcome.metrics["source"] == "val_dict_list.json"
    assert outcome.metrics["final"] == {"accuracy": 0.75, "loss": 7, "note": "ok"}
    assert outcome.metrics["groups"]["train"]["final"] == {"accuracy": 0.7, "loss": 1 / 3}

    lines = (spec.trial_dir / "logs" / "2" / "evaluation-metrics.txt").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["grouplabel"] for r in records] == ["train", "test"] * 3
    first_test = records[1]
    assert set(first_test) == {"meta", "grouplabel", "etimes", "values"}
    meta = first_test["meta"]
    assert meta["training_id"] == "training-xyz"
    assert meta["rindex"] == 1
    assert meta["subid"] == "2"
    assert isinstance(meta["time"], int)
    assert first_test["etimes"]["iteration"] == {"type": 2, "value": "0"}
    assert set(first_test["etimes"]["time_stamp"]) == {"value"}
    assert first_test["values"] == {
        "accuracy": {"type": 3, "value": "0.25"},
        "loss": {"type": 2, "value": "7"},
        "note": {"value": "ok"},
    }

    results = json.loads((spec.trial_dir / "result" / "val_dict_list.json").read_text())
    assert results == [
        {"steps": 0, "accuracy": 0.25, "loss": 7, "note": "ok"},
        {"steps": 1, "accuracy": 0.5, "loss": 7, "note": "ok"},
        {"steps": 2, "accuracy": 0.75, "loss": 7, "note": "ok"},
    ]


def _run_emetrics(program: str, env: dict[str, str], cwd: Path) -> None:
    full_env = {key: value for key, value in os.environ.items() if key not in {"LOG_DIR", "JOB_STATE_DIR", "RESULT_DIR", "TRAINING_ID"}}
    full_env.update(env, PYTHONPATH=str(trial_support_dir()))
    subprocess.run([sys.executable, "-c", textwrap.dedent(program)], env=full_env, cwd=cwd, check=True)


def test_without_log_dir_it_writes_under_job_state_dir_logs_and_without_subid_no_subid(tmp_path: Path) -> None:
    program = """
    from emetrics import EMetrics
    em = EMetrics.open()
    em.record(EMetrics.TRAIN_GROUP, 1, {"loss": 0.5})
    em.close()
    """
    _run_emetrics(program, {"JOB_STATE_DIR": str(tmp_path / "js"), "RESULT_DIR": str(tmp_path)}, tmp_path)
    record = json.loads((tmp_path / "js" / "logs" / "evaluation-metrics.txt").read_text())
    assert record["meta"]["training_id"] == ""
    assert "subid" not in record["meta"]
    assert not (tmp_path / "val_dict_list.json").exists()  # nothing recorded in the TEST group


def test_records_append_to_an_existing_file(tmp_path: Path) -> None:
    program = """
    from emetrics import EMetrics
    with EMetrics.open("0") as em:
        em.record(EMetrics.TEST_GROUP, 5, {"accuracy": 0.5})
    """
    env = {"LOG_DIR": str(tmp_path / "logs"), "RESULT_DIR": str(tmp_path)}
    _run_emetrics(program, env, tmp_path)
    _run_emetrics(program, env, tmp_path)
    assert len((tmp_path / "logs" / "0" / "evaluation-metrics.txt").read_text().splitlines()) == 2
    assert json.loads((tmp_path / "val_dict_list.json").read_text()) == [{"steps": 5, "accuracy": 0.5}]


def test_the_support_folder_holds_only_training_support_modules() -> None:
    names = {entry.name for entry in trial_support_dir().iterdir() if entry.name != "__pycache__"}
    assert names == {"emetrics.py"}
    assert "hpo_engine" not in (trial_support_dir() / "emetrics.py").read_text().replace(
        "must not import ``hpo_engine``", ""
    )
