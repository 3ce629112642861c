"""The trial folder: definition copy, config.json with typed values, output folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hpo_engine.errors import TrialError
from hpo_engine.runner.trials import prepare_trial_dir, run_trial
from hpo_engine.runner.trial_state import TrialState

CONFIG_ECHO = """
import json
config = json.load(open("config.json"))
json.dump({name: [value, type(value).__name__] for name, value in config.items()}, open("seen.json", "w"))
print("accuracy=1")
"""


def test_config_json_keeps_json_types_as_the_program_reads_them(make_spec) -> None:
    values = {"lr": 0.005, "whole_float": 1.0, "units": 64, "activation": "relu"}
    outcome = run_trial(make_spec(CONFIG_ECHO, values=values))
    assert outcome.state is TrialState.COMPLETE, outcome.failure_reason
    seen = json.loads((outcome.stdout_path.parent / "seen.json").read_text())
    assert seen == {
        "lr": [0.005, "float"],
        "whole_float": [1.0, "float"],
        "units": [64, "int"],
        "activation": ["relu", "str"],
    }


def test_numpy_values_are_written_as_plain_json(tmp_path: Path) -> None:
    paths = prepare_trial_dir(
        tmp_path / "trial", None, {"units": np.int64(32), "lr": np.float64(0.5), "flag": True}
    )
    text = paths.config_path.read_text()
    assert json.loads(text) == {"units": 32, "lr": 0.5, "flag": True}
    assert '"units": 32,' in text and '"lr": 0.5' in text


def test_a_value_json_cannot_hold_is_a_trial_error(tmp_path: Path) -> None:
    with pytest.raises(TrialError, match="'bad'"):
        prepare_trial_dir(tmp_path / "trial", None, {"bad": object()})


def test_layout_holds_definition_config_and_output_folders(tmp_path: Path) -> None:
    definition = tmp_path / "def"
    (definition / "pkg").mkdir(parents=True)
    (definition / "train.py").write_text("print(1)\n")
    (definition / "pkg" / "util.py").write_text("X = 1\n")
    (definition / "__pycache__").mkdir()
    paths = prepare_trial_dir(tmp_path / "trials" / "0", definition, {"a": 1})
    trial = paths.trial_dir
    assert (trial / "train.py").read_text() == "print(1)\n"
    assert (trial / "pkg" / "util.py").is_file()
    assert not (trial / "__pycache__").exists()
    assert paths.config_path == trial / "config.json"
    assert paths.result_dir == trial / "result" and paths.result_dir.is_dir()
    assert paths.log_dir == trial / "logs" and paths.log_dir.is_dir()
    assert paths.job_state_dir == trial / "job-state" and paths.job_state_dir.is_dir()


def test_results_folder_inside_the_definition_is_not_copied_into_trials(tmp_path: Path) -> None:
    definition = tmp_path / "project"
    definition.mkdir()
    (definition / "train.py").write_text("print(1)\n")
    first = prepare_trial_dir(definition / "hpo-results" / "exp" / "trials" / "0", definition, {})
    second = prepare_trial_dir(definition / "hpo-results" / "exp" / "trials" / "1", definition, {})
    assert (second.trial_dir / "train.py").is_file()
    assert not (second.trial_dir / "hpo-results").exists()
    assert not (first.trial_dir / "hpo-results").exists()


def test_a_rerun_starts_without_the_previous_outputs(tmp_path: Path) -> None:
    paths = prepare_trial_dir(tmp_path / "trial", None, {"a": 1})
    (paths.result_dir / "val_dict_list.json").write_text('[{"steps": 1, "accuracy": 0.9}]')
    (paths.log_dir / "0").mkdir()
    paths.stdout_path.write_text("accuracy=0.9\n")
    again = prepare_trial_dir(tmp_path / "trial", None, {"a": 2})
    assert list(again.result_dir.iterdir()) == []
    assert list(again.log_dir.iterdir()) == []
    assert not again.stdout_path.exists()
    assert json.loads(again.config_path.read_text()) == {"a": 2}
