"""The environment variables a trial sees, and ${VAR} expansion of its command."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.runner.trials import expand_command, run_trial, trial_support_dir

PYTHON = shlex.quote(sys.executable)

ENV_DUMP = """
import json, os
names = ["SUBID", "RESULT_DIR", "LOG_DIR", "JOB_STATE_DIR", "DATA_DIR", "TRAINING_ID", "PYTHONPATH", "EXTRA"]
json.dump({"cwd": os.getcwd(), **{n: os.environ.get(n) for n in names}}, open("env.json", "w"))
print("accuracy=0.5")
"""


def _env_of(outcome) -> dict:
    assert outcome.state is TrialState.COMPLETE, (outcome.failure_reason, outcome.stderr_tail)
    return json.loads((outcome.stdout_path.parent / "env.json").read_text())


def test_each_service_variable_is_set(make_spec, tmp_path: Path) -> None:
    spec = make_spec(ENV_DUMP, number=3, data_dir=str(tmp_path / "data"), training_id="training-abc")
    env = _env_of(run_trial(spec))
    trial = Path(env["cwd"])
    assert trial == spec.trial_dir.resolve()
    assert env["SUBID"] == "3"
    assert env["RESULT_DIR"] == str(trial / "result")
    assert env["LOG_DIR"] == str(trial / "logs")
    assert env["JOB_STATE_DIR"] == str(trial / "job-state")
    assert env["DATA_DIR"] == str(tmp_path / "data")
    assert env["TRAINING_ID"] == "training-abc"
    assert env["PYTHONPATH"].split(":")[0] == str(trial_support_dir())


def test_subid_is_zero_based_and_training_id_has_a_default(make_spec) -> None:
    env = _env_of(run_trial(make_spec(ENV_DUMP, number=0)))
    assert env["SUBID"] == "0"
    assert env["TRAINING_ID"] == "exp-ref-0"


def test_data_dir_is_inherited_when_the_spec_has_none(make_spec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", "/inherited/data")
    monkeypatch.setenv("PYTHONPATH", "/some/where")
    env = _env_of(run_trial(make_spec(ENV_DUMP)))
    assert env["DATA_DIR"] == "/inherited/data"
    assert env["PYTHONPATH"] == f"{trial_support_dir()}:/some/where"


def test_data_dir_is_unset_when_nobody_gives_one(make_spec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATA_DIR", raising=False)
    assert _env_of(run_trial(make_spec(ENV_DUMP)))["DATA_DIR"] is None


def test_extra_env_is_applied_last(make_spec) -> None:
    env = _env_of(run_trial(make_spec(ENV_DUMP, extra_env={"EXTRA": "yes"})))
    assert env["EXTRA"] == "yes"


def test_data_dir_reference_in_the_command_is_expanded(make_spec, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.txt").write_text("0.75\n")
    program = """
    import sys
    print("accuracy=" + open(sys.argv[1]).read().strip())
    """
    spec = make_spec(program, data_dir=str(data), command=f"{PYTHON} train.py ${{DATA_DIR}}/train.txt")
    outcome = run_trial(spec)
    assert outcome.state is TrialState.COMPLETE, outcome.stderr_tail
    assert outcome.objective == 0.75
    command = (spec.trial_dir / "command.txt").read_text()
    assert f"{data}/train.txt" in command and "${DATA_DIR}" not in command


@pytest.mark.parametrize(
    ("command", "expanded"),
    [
        ("run ${DATA_DIR}/x", "run /d/x"),
        ("run $DATA_DIR/x", "run /d/x"),
        ("run ${SUBID}-$SUBID", "run 2-2"),
        ("run ${UNKNOWN} $UNKNOWN $", "run ${UNKNOWN} $UNKNOWN $"),
        ("run $DATA_DIRX", "run $DATA_DIRX"),
    ],
)
def test_expand_command(command: str, expanded: str) -> None:
    assert expand_command(command, {"DATA_DIR": "/d", "SUBID": "2"}) == expanded
