"""The trial folder: definition copy, config.json with typed values, output folders."""

from __future__ import annotations

import json
import os
import time
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


def test_symbolic_links_are_copied_as_links_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not part of the definition\n")
    definition = tmp_path / "project"
    (definition / "data").mkdir(parents=True)
    (definition / "train.py").write_text("print(1)\n")
    (definition / "data" / "rows.csv").write_text("1,2\n")
    (definition / "up").symlink_to("..")  # would recurse until ELOOP if followed
    (definition / "data" / "again").symlink_to("..")  # a loop inside the definition
    (definition / "rows.csv").symlink_to("data/rows.csv")  # a link inside the definition
    (definition / "system.txt").symlink_to(outside / "secret.txt")  # a file outside it
    (definition / "shared").symlink_to("../outside")  # a relative link outside it
    paths = prepare_trial_dir(tmp_path / "trials" / "0", definition, {})
    trial = paths.trial_dir
    assert (trial / "train.py").is_file() and not (trial / "train.py").is_symlink()
    assert (trial / "rows.csv").is_symlink() and str((trial / "rows.csv").readlink()) == "data/rows.csv"
    assert (trial / "rows.csv").resolve() == (trial / "data" / "rows.csv").resolve()  # into the copy
    assert (trial / "data" / "again").is_symlink()
    for name in ("up", "system.txt", "shared"):
        assert (trial / name).is_symlink(), name  # a link, not a copy of what it leads to
    assert (trial / "up").readlink() == tmp_path.resolve()
    assert (trial / "shared").readlink() == outside.resolve() and (trial / "shared" / "secret.txt").is_file()
    assert (trial / "system.txt").readlink() == (outside / "secret.txt").resolve()
    copied = [p for p in trial.rglob("*") if not p.is_symlink() and p.is_file()]
    assert sorted(p.name for p in copied) == ["config.json", "rows.csv", "train.py"]


REPLACE_OWN_CODE = """
import os
with open("train.tmp", "w") as out:       # a trial that rewrites its own code file: a new file renamed over it
    out.write("changed by the trial\\n")
os.replace("train.tmp", "train.py")
print("accuracy=1")
"""


@pytest.mark.parametrize("uid", [1000, 0], ids=["user", "root"])
def test_the_snapshot_is_read_only_and_trial_folders_link_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uid: int) -> None:
    """Links for a user, whom the missing write bit stops; copies for root, whom it does not."""
    from hpo_engine.runner.trials.workdir import snapshot_definition

    monkeypatch.setattr(os, "geteuid", lambda: uid)

    definition = tmp_path / "definition"
    (definition / "pkg").mkdir(parents=True)
    (definition / "train.py").write_text("print('accuracy=1')\n")
    (definition / "pkg" / "data.txt").write_text("data\n")
    snapshot = snapshot_definition(definition, tmp_path / "results" / "definition")
    assert (definition / "train.py").stat().st_mode & 0o200  # the user's own files are left alone
    first = prepare_trial_dir(tmp_path / "trials" / "0", snapshot, {"lr": 0.1})
    second = prepare_trial_dir(tmp_path / "trials" / "1", snapshot, {"lr": 0.2})
    for paths in (first, second):
        for name in ("train.py", "pkg/data.txt"):
            linked, original = (paths.trial_dir / name).stat(), (snapshot / name).stat()
            assert (linked.st_ino == original.st_ino) is (uid != 0) and not linked.st_mode & 0o222
            assert (paths.trial_dir / name).read_bytes() == (snapshot / name).read_bytes()
    writable = tmp_path / "writable"
    writable.mkdir()
    (writable / "train.py").write_text("print('accuracy=1')\n")
    copied = prepare_trial_dir(tmp_path / "trials" / "2", writable, {"lr": 0.3})
    assert (copied.trial_dir / "train.py").stat().st_ino != (writable / "train.py").stat().st_ino  # a writable file is copied
    again = snapshot_definition(definition, tmp_path / "results" / "definition")  # a resume: a new snapshot
    assert (first.trial_dir / "train.py").read_text() == "print('accuracy=1')\n" and again == snapshot


def test_a_trial_replacing_its_code_changes_no_other_trial(make_spec, tmp_path: Path) -> None:
    from hpo_engine.runner.trials.workdir import snapshot_definition

    spec = make_spec(REPLACE_OWN_CODE)
    snapshot = snapshot_definition(spec.definition_dir, tmp_path / "results" / "definition")
    import dataclasses

    outcome = run_trial(dataclasses.replace(spec, definition_dir=snapshot))
    assert outcome.state is TrialState.COMPLETE, outcome.failure_reason
    assert (spec.trial_dir / "train.py").read_text() == "changed by the trial\n"
    assert "os.replace" in (snapshot / "train.py").read_text()  # the snapshot (and every other trial) unchanged


def test_an_ended_trial_keeps_no_empty_folder_or_log(make_spec) -> None:
    outcome = run_trial(make_spec('print("accuracy=1")\n'))
    assert outcome.state is TrialState.COMPLETE, outcome.failure_reason
    folder = outcome.stdout_path.parent
    assert outcome.stderr_path is None and not (folder / "stderr.log").exists()  # gone before the end is told
    expected = {"train.py", "config.json", "command.txt", "stdout.log", "hpo-exit.json"}
    limit = time.monotonic() + 30  # the launcher removes the empty folders after it has told the end
    while {entry.name for entry in folder.iterdir()} != expected and time.monotonic() < limit:
        time.sleep(0.01)
    assert {entry.name for entry in folder.iterdir()} == expected
