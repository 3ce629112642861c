"""Real trials that record a value per epoch, pruned while they run.

The programs record epochs 1-3 at once; a trial with ``x < 0.5`` then blocks (up to 120 s)
as a slow, bad training run would, so it ends only when the stopping rule stops it: a
test that expects it PRUNED fails if the rule does not act (it would end COMPLETE).
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from hpo_engine.manifest.validation import load_manifest
from hpo_engine.runner.scheduler import RunOptions, run_reference
from hpo_engine.runner.store import ResultStore
from hpo_engine.runner.trial_state import TrialState
from hpo_engine.runner.trials.process import group_alive
from tests.engine.conftest import hpo_command, kill_groups_from, wait_until

_HEAD = """
import json, os, signal, sys, time
x = float(json.load(open("config.json"))["x"])
starts = os.environ.get("HPO_TEST_STARTS")
if starts:
    with open(starts, "a") as handle:
        handle.write(f"{os.environ['SUBID']} {os.getpgid(0)}\\n")
gate = os.environ.get("HPO_TEST_GATE")
if gate and x == 0.2:  # hold this trial before its first value until the test opens the gate
    while not os.path.exists(gate):
        time.sleep(0.05)
def block():
    if x < 0.5:
        noted = os.environ.get("HPO_TEST_IGNORE_TERM")
        if noted:  # note SIGTERM, then carry on: only SIGKILL ends this program
            signal.signal(signal.SIGTERM, lambda *_: open(noted, "a").write(f"{os.getpid()} TERM\\n"))
        limit = time.monotonic() + 120
        while time.monotonic() < limit:
            time.sleep(0.05)
"""

EMETRICS = _HEAD + """
from emetrics import EMetrics
with EMetrics.open(os.environ["SUBID"]) as em:
    for epoch in (1, 2, 3):
        em.record(EMetrics.TEST_GROUP, epoch, {"score": x + epoch / 100})
    block()
"""

VAL_DICT_LIST = _HEAD + """
rows = []
for epoch in (1, 2, 3):
    rows.append({"epoch": epoch, "score": x + epoch / 100})
    with open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json.tmp"), "w") as out:
        json.dump(rows, out)
    os.replace(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json.tmp"), os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"))
block()
"""

STDOUT = _HEAD + """
for epoch in (1, 2, 3):
    print(f"epoch={epoch} score={x + epoch / 100}", flush=True)
block()
"""

GRID = [{"name": "x", "double_values": [0.9, 0.1, 0.2, 0.95]}]


def _run(experiment, **options):
    manifest = load_manifest(experiment.manifest)
    return run_reference(manifest, manifest.references[0], RunOptions(results_root=experiment.results, **options))


@pytest.mark.parametrize("program", [EMETRICS, VAL_DICT_LIST, STDOUT], ids=["emetrics", "val_dict_list", "stdout"])
def test_asha_prunes_running_trials_and_keeps_their_curves(make_experiment, program: str) -> None:
    experiment = make_experiment(
        program, steps=4, method="grid", space=GRID, early_stopping="asha", max_resource=9, time_interval="epoch", kill_grace_seconds=5
    )
    summary = _run(experiment)
    states = [t.state for t in summary.trials]
    assert states == [TrialState.COMPLETE, TrialState.PRUNED, TrialState.PRUNED, TrialState.COMPLETE]
    pruned = summary.trials[1]
    assert pruned.failure_reason.startswith("pruned at epoch 1 by asha")
    assert pruned.step_reached in (1.0, 2.0, 3.0) and pruned.steps_run == pruned.step_reached
    assert pruned.objective == pytest.approx(0.1 + pruned.step_reached / 100)  # its last value
    assert summary.trials[0].steps_run == 3 and summary.trials[0].step_reached == 3.0
    assert summary.best.number == 3
    with ResultStore.open(experiment.folder) as store:
        curves = store.curves()
    assert curves[0] == [(1.0, 0.91), (2.0, 0.92), (3.0, 0.93)]


def test_median_prunes_below_the_median_of_five(make_experiment) -> None:
    space = [{"name": "x", "double_values": [0.9, 0.8, 0.85, 0.7, 0.95, 0.1, 0.99]}]
    experiment = make_experiment(EMETRICS, steps=7, method="grid", space=space, early_stopping="median", kill_grace_seconds=5)
    summary = _run(experiment)
    assert [t.state.value for t in summary.trials] == ["complete"] * 5 + ["pruned", "complete"]
    assert summary.count(TrialState.FAILED) == 0


def test_a_program_that_ignores_sigterm_is_killed_after_the_grace_period(make_experiment, tmp_path: Path, monkeypatch) -> None:
    starts = tmp_path / "starts.log"
    monkeypatch.setenv("HPO_TEST_STARTS", str(starts))
    noted = tmp_path / "term.log"
    monkeypatch.setenv("HPO_TEST_IGNORE_TERM", str(noted))
    experiment = make_experiment(
        STDOUT, steps=2, method="grid", space=[{"name": "x", "double_values": [0.9, 0.1]}],
        early_stopping="asha", max_resource=9, kill_grace_seconds=1,
    )
    summary = _run(experiment)
    pruned = summary.trials[1]
    assert pruned.state is TrialState.PRUNED
    assert pruned.exit_code is not None and pruned.exit_code < 0  # ended by a signal
    group = int(starts.read_text().splitlines()[1].split()[1])
    assert not group_alive(group)  # gone, although it carried on after SIGTERM: SIGKILL ended it
    assert "TERM" in noted.read_text()  # SIGTERM came first
    # a pruned trial is not a failure: max_failed_trials=0 does not stop the search
    experiment = make_experiment(
        STDOUT, steps=3, method="grid", space=[{"name": "x", "double_values": [0.9, 0.1, 0.2]}],
        early_stopping="asha", max_resource=9, kill_grace_seconds=0, max_failed_trials=0, name="nofail",
    )
    summary = _run(experiment)
    assert [t.state.value for t in summary.trials] == ["complete", "pruned", "pruned"]
    assert summary.status.value == "complete"


def _decisions(folder: Path) -> list[tuple[int, str, str | None]]:
    with ResultStore.open(folder) as store:
        return [(t.number, t.state.value, t.failure_reason.split(":")[0] if t.failure_reason else None) for t in store.trials()]


def test_resume_after_sigkill_takes_the_same_decisions(make_experiment, tmp_path: Path) -> None:
    space = [{"name": "x", "double_values": [0.9, 0.3, 0.95, 0.2, 0.97, 0.1, 0.6]}]
    params = dict(steps=7, method="grid", space=space, early_stopping="asha", max_resource=9, kill_grace_seconds=1)
    reference = make_experiment(EMETRICS, name="straight", **params)
    _run(reference)
    expected = _decisions(reference.folder)
    assert [state for _, state, _ in expected].count("pruned") >= 2

    experiment = make_experiment(EMETRICS, name="killed", **params)
    starts = tmp_path / "starts-killed.log"
    gate = tmp_path / "gate"
    env = dict(os.environ, HPO_TEST_STARTS=str(starts), HPO_TEST_GATE=str(gate))
    args = [str(experiment.manifest), "--results", str(experiment.results), "--quiet"]
    process = subprocess.Popen(hpo_command("run", *args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # kill it while trial 3 (x=0.2) runs, held at the gate before its first value (so the
        # rule cannot prune it first), after trials 0-2 were settled
        wait_until(lambda: [r[:2] for r in experiment.rows()][:4] == [(0, "complete"), (1, "pruned"), (2, "complete"), (3, "running")], timeout=120)
        wait_until(lambda: starts.exists() and any(line.split()[0] == "3" for line in starts.read_text().splitlines()), timeout=60)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        gate.touch()
        resumed = subprocess.run(hpo_command("run", *args, "--resume"), env=env, capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
    finally:
        if process.poll() is None:
            process.kill()
        kill_groups_from(starts)
    assert _decisions(experiment.folder) == expected
    with ResultStore.open(experiment.folder) as store:
        assert store.trial(3).attempts == 2


def test_stores_without_the_curve_table_are_migrated(make_experiment) -> None:
    import sqlite3

    experiment = make_experiment(steps=1)
    _run(experiment)
    db = sqlite3.connect(experiment.folder / "trials.sqlite")
    db.execute("DROP TABLE intermediate_values")
    db.commit()
    db.close()
    with ResultStore.open(experiment.folder) as store:
        assert [t.steps_run for t in store.trials()] == [0]
        assert store.curves() == {}


def test_hpo_run_prints_the_pruned_trials_and_the_savings(make_experiment) -> None:
    experiment = make_experiment(EMETRICS, steps=4, method="grid", space=GRID, early_stopping="asha", max_resource=3, time_interval="epoch", kill_grace_seconds=5)
    result = subprocess.run(
        hpo_command("run", str(experiment.manifest), "--results", str(experiment.results)),
        capture_output=True, text=True, timeout=300, env=dict(os.environ, COLUMNS="200"),
    )
    assert result.returncode == 0, result.stderr
    assert "trial   1 pruned at epoch 1  score=" in result.stdout
    assert "2 trials pruned by asha:" in result.stdout and "% of epochs" in result.stdout
    shown = subprocess.run(hpo_command("results", str(experiment.folder), "--format", "json"), capture_output=True, text=True, check=True)
    import json

    trials = {t["number"]: t for t in json.loads(shown.stdout)["experiments"][0]["trials"]}
    assert trials[1]["state"] == "pruned" and trials[1]["step_reached"] >= 1 and trials[0]["steps_run"] == 3


@pytest.mark.ray
@pytest.mark.slow
def test_on_ray_values_flow_back_while_trials_run_and_pruning_works(make_experiment) -> None:
    pytest.importorskip("ray", reason="Ray is not installed")
    experiment = make_experiment(
        EMETRICS, steps=4, method="grid", space=GRID, early_stopping="asha", max_resource=9, time_interval="epoch", kill_grace_seconds=2
    )
    summary = _run(experiment, backend="ray", backend_options={"num_cpus": 1, "ignore_gpus": True})
    assert [t.state.value for t in summary.trials] == ["complete", "pruned", "pruned", "complete"]
    with ResultStore.open(experiment.folder) as store:
        curves = store.curves()
    assert curves[0] == [(1.0, 0.91), (2.0, 0.92), (3.0, 0.93)]
    # a pruned trial blocks after epoch 3 until it is stopped: the values that stopped it reached the driver while it ran
    assert [step for step, _ in curves[1]][:1] == [1.0]


def test_hpo_plot_draws_the_learning_curves(make_experiment, tmp_path: Path) -> None:
    from hpo_engine.cli.plot import plot_results
    from hpo_engine.runner.results import load_results

    experiment = make_experiment(STDOUT, steps=4, method="grid", space=GRID, early_stopping="asha", max_resource=9, kill_grace_seconds=5)
    _run(experiment)
    results = load_results(experiment.folder)
    assert sorted(results.curves) == [0, 1, 2, 3]
    output = plot_results(results, tmp_path / "plot.png")
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_program_without_per_epoch_values_gets_a_warning(make_experiment) -> None:
    from hpo_engine.runner.scheduler import Reporter

    notes: list[tuple[str, bool]] = []

    class Notes(Reporter):
        def note(self, text: str, *, warning: bool = False) -> None:
            notes.append((text, warning))

    single = "import json, os\njson.dump([{'score': 1.0}], open(os.path.join(os.environ['RESULT_DIR'], 'val_dict_list.json'), 'w'))\n"
    experiment = make_experiment(single, steps=2, early_stopping="median")
    manifest = load_manifest(experiment.manifest)
    summary = run_reference(manifest, manifest.references[0], RunOptions(results_root=experiment.results), reporter=Notes())
    assert summary.count(TrialState.COMPLETE) == 2
    assert [w for _, w in notes if w] == [True]
    assert "early stopping (median) needs one per step" in next(t for t, w in notes if w)
