"""``hpo run`` as a user runs it: a real process, real trials, SIGKILL then --resume, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hpo_engine.cli import app

FINISHED = {"complete", "failed"}


def hpo(*args: str) -> list[str]:
    return [sys.executable, "-m", "hpo_engine.cli", *args]


def wait_until(condition, timeout: float = 60.0, interval: float = 0.05):
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def started_counts(starts: Path) -> Counter:
    return Counter(int(line.split()[0]) for line in starts.read_text().splitlines() if line.strip())


@pytest.mark.slow
def test_sigkill_mid_experiment_then_resume_loses_nothing(make_experiment, kill_groups_from, tmp_path: Path) -> None:
    experiment = make_experiment(steps=8, random_seed=11)
    starts = tmp_path / "starts.log"
    env = dict(os.environ, HPO_TEST_STARTS=str(starts), HPO_TEST_SLEEP="0.4")
    command = hpo("run", str(experiment.manifest), "--results", str(experiment.results), "--parallel", "2", "--quiet")
    process = subprocess.Popen(command, cwd=tmp_path, env=env, start_new_session=True)
    try:
        wait_until(lambda: sum(1 for _, state, _ in experiment.rows() if state in FINISHED) >= 2)
        os.killpg(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        kill_groups_from(starts)  # its trials run in their own process groups: stop the orphans too
    before = experiment.rows()
    finished_before = {n for n, state, _ in before if state in FINISHED}
    unfinished_before = {n for n, state, _ in before if state not in FINISHED}
    assert 2 <= len(finished_before) < 8

    resumed = subprocess.run(
        [*command, "--resume"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == ""  # --quiet
    after = experiment.rows()
    assert [n for n, _, _ in after] == list(range(8))
    assert all(state == "complete" for _, state, _ in after)
    counts = started_counts(starts)
    attempts = {n: a for n, _, a in after}
    for number in finished_before:  # a finished trial is never rerun
        assert counts[number] == 1 and attempts[number] == 1
    for number in unfinished_before:  # an interrupted trial is rerun as the same number
        # (the kill may have come after it was recorded running but before its program started)
        assert attempts[number] == 2 and counts[number] in (1, 2)
    for number in range(8):
        assert (experiment.folder / "trials" / str(number) / "marker").read_text() == str(number)
    assert set(counts) == set(range(8))


@pytest.mark.slow
def test_ctrl_c_interrupts_records_and_exits_130(make_experiment, tmp_path: Path) -> None:
    experiment = make_experiment(steps=4)
    flag = tmp_path / "slow"
    flag.touch()
    env = dict(os.environ, HPO_TEST_SLOW_FLAG=str(flag))
    command = hpo("run", str(experiment.manifest), "--results", str(experiment.results), "--parallel", "2")
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: [s for _, s, _ in experiment.rows()] == ["running", "running"])
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert [s for _, s, _ in experiment.rows()] == ["interrupted", "interrupted"]
    assert "interrupted" in stdout and "--resume" in stdout

    flag.unlink()
    resumed = subprocess.run([*command, "--resume"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert [(n, s, a) for n, s, a in experiment.rows()] == [
        (0, "complete", 2), (1, "complete", 2), (2, "complete", 1), (3, "complete", 1)
    ]
    assert "rerunning 2 interrupted trial(s) with their values: 0, 1" in resumed.stdout


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(hpo("run", "--help"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--resume" in result.stdout and "--parallel" in result.stdout


runner = CliRunner()


def test_run_prints_progress_table_and_best(make_experiment, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    experiment = make_experiment(steps=3, random_seed=4)
    result = runner.invoke(app, ["run", str(experiment.manifest), "--results", str(experiment.results)])
    assert result.exit_code == 0, result.output
    assert "exp / ref: random, maximize score, 3 trials, 1 at a time" in result.output
    assert result.output.count(" complete ") >= 3
    assert "3 of 3 trials finished (3 complete)" in result.output
    assert "best score = " in result.output and "best_config.json" in result.output


def test_run_json_summary(make_experiment, tmp_path: Path) -> None:
    experiment = make_experiment(steps=2)
    result = runner.invoke(app, ["run", str(experiment.manifest), "--results", str(experiment.results), "--json"])
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    [entry] = summary["references"]
    assert summary["exit_code"] == 0 and entry["status"] == "complete"
    assert entry["counts"]["complete"] == 2 and entry["best"]["values"].keys() == {"x", "y"}
    assert Path(entry["best_config"]).is_file()


def test_run_quiet_prints_nothing(make_experiment) -> None:
    experiment = make_experiment(steps=1)
    result = runner.invoke(app, ["run", str(experiment.manifest), "--results", str(experiment.results), "--quiet"])
    assert result.exit_code == 0 and result.stdout == ""


def test_too_many_failures_exit_code_and_message(make_experiment) -> None:
    experiment = make_experiment("import sys; sys.exit(1)\n", steps=5, max_failed_trials=0)
    result = runner.invoke(app, ["run", str(experiment.manifest), "--results", str(experiment.results), "--quiet"])
    assert result.exit_code == 3
    assert "max_failed_trials=0" in result.stderr and result.stdout == ""


def test_missing_manifest_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "nope.yaml" in result.stderr
    assert "Traceback" not in result.output


def test_manifest_errors_are_validates_lines(make_experiment) -> None:
    experiment = make_experiment()
    text = experiment.manifest.read_text().replace('"max_value": 1.0', '"max_value": 1.0, "step\\"": 0.1')
    experiment.manifest.write_text(text)
    result = runner.invoke(app, ["run", str(experiment.manifest), "--results", str(experiment.results)])
    assert result.exit_code == 1
    assert f"{experiment.manifest}:" in result.stderr and "[HPO" in result.stderr
    assert not experiment.folder.exists()


def test_remote_definition_without_definition_dir(make_experiment) -> None:
    experiment = make_experiment(definition_url="https://example.com/defs/1")
    result = runner.invoke(app, ["run", str(experiment.manifest), "--results", str(experiment.results)])
    assert result.exit_code == 1
    assert result.stderr.startswith("hpo run: ") and "--definition" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_existing_results_without_resume(make_experiment) -> None:
    experiment = make_experiment(steps=1)
    args = ["run", str(experiment.manifest), "--results", str(experiment.results), "--quiet"]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "--resume" in again.stderr and "--results" in again.stderr


def test_unknown_reference_and_backend(make_experiment) -> None:
    experiment = make_experiment(steps=1)
    result = runner.invoke(app, ["run", str(experiment.manifest), "--reference", "other"])
    assert result.exit_code == 1 and "no training reference named 'other'" in result.stderr
    result = runner.invoke(app, ["run", str(experiment.manifest), "--backend", "cloud"])
    assert result.exit_code == 1 and "unknown backend 'cloud'" in result.stderr


def test_missing_data_dir_and_directory_as_manifest(make_experiment, tmp_path: Path) -> None:
    experiment = make_experiment(steps=1)
    result = runner.invoke(app, ["run", str(experiment.manifest), "--data-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and result.stderr.strip() == f"hpo run: --data-dir {tmp_path / 'nowhere'}: no such folder"
    result = runner.invoke(app, ["run", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output and result.stderr.strip().count("\n") == 0
