"""The scheduler with real trial processes (LocalBackend) and real optimizers."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.errors import HpoError, StoreError, TrialError
from hpo_engine.runner.scheduler import (
    EXIT_TOO_MANY_FAILURES,
    Reporter,
    RunOptions,
    RunStatus,
    StopRequest,
    references_to_run,
    run_manifest,
    run_reference,
)
from hpo_engine.runner.store import ResultStore
from hpo_engine.manifest.validation import load_manifest




class Events(Reporter):
    def __init__(self) -> None:
        self.started: list[tuple[int, bool]] = []
        self.finished: list[tuple[int, TrialState]] = []
        self.notes: list[str] = []

    def trial_started(self, number, values, rerun):
        self.started.append((number, rerun))

    def trial_finished(self, record):
        self.finished.append((record.number, record.state))

    def note(self, text, *, warning=False):
        self.notes.append(text)


def run(experiment, reporter: Reporter | None = None, **options):
    manifest = load_manifest(experiment.manifest)
    [reference] = references_to_run(manifest)
    return run_reference(manifest, reference, RunOptions(results_root=experiment.results, **options), reporter=reporter)


def test_runs_exactly_num_optimizer_steps_trials(make_experiment) -> None:
    experiment = make_experiment(steps=5, method="random", random_seed=3)
    events = Events()
    summary = run(experiment, events)
    assert summary.status is RunStatus.COMPLETE and summary.exit_code == 0
    assert [t.number for t in summary.trials] == [0, 1, 2, 3, 4]
    assert all(t.state is TrialState.COMPLETE for t in summary.trials)
    for trial in summary.trials:
        # the objective is the LAST recorded value (score = x + y), not the first
        assert trial.objective == pytest.approx(trial.values["x"] + trial.values["y"])
        config = json.loads((experiment.folder / "trials" / str(trial.number) / "config.json").read_text())
        assert config == dict(trial.values) and isinstance(config["y"], int)
        assert (experiment.folder / "trials" / str(trial.number) / "marker").read_text() == str(trial.number)
    assert events.started == [(n, False) for n in range(5)]
    best = max(summary.trials, key=lambda t: t.objective)
    assert summary.best.number == best.number
    assert json.loads((experiment.folder / "best_config.json").read_text()) == dict(best.values)
    assert (experiment.folder / "optimizer.log").exists()
    stored = ResultStore.open(experiment.folder)
    assert stored.experiment.seed == 3 and stored.experiment.budget == 5
    stored.close()


def test_rbfopt_through_the_engine_and_minimize(make_experiment) -> None:
    experiment = make_experiment(steps=6, method="rbfopt", direction="minimize", random_seed=1)
    summary = run(experiment)
    assert summary.finished == 6 and summary.count(TrialState.COMPLETE) == 6
    assert summary.best.objective == min(t.objective for t in summary.trials)
    log = (experiment.folder / "optimizer.log").read_text()
    assert log.strip(), "rbfopt's table goes to optimizer.log"


def wait_for_siblings(monkeypatch, tmp_path: Path, count: int) -> None:
    """Each trial waits (20 s at most) until ``count`` trials have started: run one at a time, they could not overlap."""
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("HPO_TEST_SHARED", str(shared))
    monkeypatch.setenv("HPO_TEST_WAIT_FOR", str(count))


def test_parallel_trials_really_overlap(make_experiment, tmp_path: Path, monkeypatch) -> None:
    wait_for_siblings(monkeypatch, tmp_path, 2)
    experiment = make_experiment(steps=4, method="random")
    summary = run(experiment, parallel=2)
    assert summary.finished == 4
    first, second = summary.trials[0], summary.trials[1]
    assert second.started_at < first.ended_at and first.started_at < second.ended_at
    assert max(first.duration, second.duration) < 15  # neither waited for its limit


def test_max_concurrent_trials_from_the_manifest(make_experiment, tmp_path: Path, monkeypatch) -> None:
    wait_for_siblings(monkeypatch, tmp_path, 2)
    experiment = make_experiment(steps=2, method="random", max_concurrent_trials=2)
    summary = run(experiment)
    first, second = summary.trials
    assert second.started_at < first.ended_at and max(first.duration, second.duration) < 15


FAIL_ON_ODD = """
import json, os, sys
number = int(os.environ["SUBID"])
if number % 2:
    print("boom on purpose", file=sys.stderr)
    sys.exit(2)
print("score=1.5")
"""


def test_failed_trials_count_and_the_search_goes_on(make_experiment) -> None:
    experiment = make_experiment(FAIL_ON_ODD, steps=4, max_failed_trials=3)
    summary = run(experiment)
    assert summary.status is RunStatus.COMPLETE
    states = [t.state for t in summary.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAILED, TrialState.COMPLETE, TrialState.FAILED]
    failed = summary.trials[1]
    assert failed.exit_code == 2 and "boom on purpose" in failed.stderr_tail and failed.failure_reason
    assert summary.trials[0].objective == 1.5  # stdout name=value


ALWAYS_FAIL = "import sys; sys.exit(1)\n"


def test_max_failed_trials_stops_the_run(make_experiment) -> None:
    experiment = make_experiment(ALWAYS_FAIL, steps=10, max_failed_trials=1)
    summary = run(experiment)
    assert summary.status is RunStatus.TOO_MANY_FAILURES
    assert summary.exit_code == EXIT_TOO_MANY_FAILURES
    assert summary.count(TrialState.FAILED) == 2 and len(summary.trials) == 2
    assert "max_failed_trials=1" in summary.message


def test_default_max_failed_trials(make_experiment) -> None:
    from hpo_engine.manifest.model import DEFAULT_MAX_FAILED_TRIALS

    summary = run(make_experiment(ALWAYS_FAIL, steps=10))
    assert summary.count(TrialState.FAILED) == DEFAULT_MAX_FAILED_TRIALS + 1


def test_grid_runs_every_point_then_stops(make_experiment) -> None:
    space = [{"name": "x", "double_values": [0.25, 0.5]}, {"name": "y", "int_values": [1, 2]}]
    summary = run(make_experiment(steps=6, method="grid", space=space))
    assert summary.status is RunStatus.EXHAUSTED and summary.exit_code == 0
    assert sorted((t.values["x"], t.values["y"]) for t in summary.trials) == [(0.25, 1), (0.25, 2), (0.5, 1), (0.5, 2)]
    assert "no more points" in summary.message


def test_existing_results_need_resume(make_experiment) -> None:
    experiment = make_experiment(steps=2)
    run(experiment)
    with pytest.raises(StoreError, match="--resume"):
        run(experiment)
    events = Events()
    again = run(experiment, events, resume=True)
    assert again.status is RunStatus.COMPLETE and again.launched == 0 and events.started == []
    assert again.finished == 2


def test_resume_without_results_starts_afresh(make_experiment) -> None:
    events = Events()
    summary = run(make_experiment(steps=2), events, resume=True)
    assert summary.finished == 2 and any("nothing to resume" in n for n in events.notes)


def killed_while_running(experiment, number: int, values: dict) -> Path:
    """Leave the store as a SIGKILL would: trial ``number`` recorded running, its folder half written."""
    with ResultStore.open(experiment.folder) as store:
        store.record_running(number, values)
    folder = experiment.folder / "trials" / str(number)
    folder.mkdir(parents=True)
    (folder / "marker").write_text("stale")
    return folder


def test_resume_reruns_interrupted_trials_with_same_number_and_values(make_experiment) -> None:
    experiment = make_experiment(steps=2, random_seed=2)
    run(experiment)
    killed_while_running(experiment, 2, {"x": 0.5, "y": 2})
    make_experiment(steps=4, random_seed=2)
    events = Events()
    summary = run(experiment, events, resume=True)
    assert summary.finished == 4 and summary.status is RunStatus.COMPLETE
    assert events.started == [(2, True), (3, False)]
    assert "trial 2 was running when the previous run stopped" in events.notes
    by_number = {t.number: t for t in summary.trials}
    assert by_number[2].values == {"x": 0.5, "y": 2} and by_number[2].attempts == 2
    assert by_number[2].objective == 2.5
    assert by_number[0].attempts == 1 and by_number[1].attempts == 1
    assert (experiment.folder / "trials" / "2" / "marker").read_text() == "2"
    assert (experiment.folder / "interrupted" / "2-attempt1" / "marker").read_text() == "stale"


def test_resume_refuses_a_changed_search_space(make_experiment) -> None:
    experiment = make_experiment(steps=1)
    run(experiment)
    make_experiment(steps=1, space=[{"name": "x", "double_range": {"min_value": 0.0, "max_value": 2.0}}, {"name": "y", "int_values": [1]}])
    with pytest.raises(StoreError, match="hyper_parameters changed"):
        run(experiment, resume=True)


def test_resume_with_a_larger_budget_runs_the_difference(make_experiment) -> None:
    experiment = make_experiment(steps=2)
    run(experiment)
    make_experiment(steps=3)
    summary = run(experiment, resume=True)
    assert summary.finished == 3 and summary.launched == 1 and summary.experiment.budget == 3


SLOW_FIRST = """
import os, time
if os.environ["SUBID"] != "0":
    time.sleep(60)
print("score=1")
"""


def test_stop_request_interrupts_running_trials(make_experiment) -> None:
    experiment = make_experiment(SLOW_FIRST, steps=6)
    stop = StopRequest()

    class StopAfterFirst(Events):
        def trial_started(self, number, values, rerun):
            super().trial_started(number, values, rerun)
            if number == 2:
                threading.Timer(0.5, stop.request).start()

    manifest = load_manifest(experiment.manifest)
    summary = run_reference(
        manifest, manifest.references[0], RunOptions(results_root=experiment.results, parallel=2),
        reporter=StopAfterFirst(), stop=stop,
    )
    assert summary.status is RunStatus.INTERRUPTED and summary.exit_code == 130
    states = {t.number: t.state for t in summary.trials}
    assert states[0] is TrialState.COMPLETE
    assert states[1] is TrialState.INTERRUPTED and states[2] is TrialState.INTERRUPTED
    assert len(states) == 3


def test_trials_use_the_interpreter_running_hpo(make_experiment) -> None:
    program = """
import json, os, sys
json.dump({"prefix": sys.prefix}, open(os.path.join(os.environ["RESULT_DIR"], "where.json"), "w"))
print("score=1")
"""
    experiment = make_experiment(program, steps=1)
    summary = run(experiment)
    where = json.loads((experiment.folder / "trials" / "0").glob("**/where.json").__next__().read_text())
    assert summary.finished == 1
    assert Path(where["prefix"]).resolve() == Path(sys.prefix).resolve()


def test_remote_definition_needs_definition_dir(make_experiment, tmp_path: Path) -> None:
    experiment = make_experiment(definition_url="https://example.com/defs/abc")
    with pytest.raises(TrialError, match="--definition"):
        run(experiment)
    assert not (experiment.folder / "trials.sqlite").exists()
    summary = run(experiment, definition=tmp_path / "definition")
    assert summary.finished == 4


def test_data_dir_option_reaches_trials(make_experiment, tmp_path: Path) -> None:
    program = """
import os
print("score=" + ("1" if os.environ["DATA_DIR"].endswith("mydata") else "0"))
"""
    (tmp_path / "mydata").mkdir()
    summary = run(make_experiment(program, steps=1), data_dir=str(tmp_path / "mydata"))
    assert summary.trials[0].objective == 1


def test_reference_selection(make_experiment) -> None:
    manifest = load_manifest(make_experiment().manifest)
    with pytest.raises(HpoError, match="no training reference named 'nope'"):
        references_to_run(manifest, "nope")
    assert [r.name for r in references_to_run(manifest, "ref")] == ["ref"]


def test_run_manifest_returns_one_summary_per_reference(make_experiment) -> None:
    experiment = make_experiment(steps=1)
    summaries = run_manifest(load_manifest(experiment.manifest), RunOptions(results_root=experiment.results))
    assert [s.experiment.reference for s in summaries] == ["ref"]


def test_resume_stops_orphaned_trial_processes(make_experiment) -> None:
    import subprocess

    experiment = make_experiment(steps=2, random_seed=2)
    run(experiment)
    folder = killed_while_running(experiment, 2, {"x": 0.5, "y": 2})
    make_experiment(steps=3, random_seed=2)
    # a trial process left behind by a SIGKILLed run, still working in its folder
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], cwd=folder)
    try:
        summary = run(experiment, resume=True)
        assert orphan.wait(timeout=10) == -9
    finally:
        if orphan.poll() is None:
            orphan.kill()
    assert summary.finished == 3


def test_one_run_per_store_at_a_time(make_experiment) -> None:
    import fcntl

    experiment = make_experiment(steps=1)
    experiment.folder.mkdir(parents=True)
    with open(experiment.folder / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="another `hpo run` is using"):
            run(experiment)
    assert run(experiment).finished == 1


def test_resume_after_too_many_failures_needs_a_higher_limit(make_experiment) -> None:
    experiment = make_experiment(ALWAYS_FAIL, steps=4, max_failed_trials=0)
    assert run(experiment).status is RunStatus.TOO_MANY_FAILURES
    again = run(experiment, resume=True)
    assert again.status is RunStatus.TOO_MANY_FAILURES and again.launched == 0
    make_experiment("print('score=2')\n", steps=4, max_failed_trials=1)  # program fixed, limit raised
    fixed = run(experiment, resume=True)
    assert fixed.status is RunStatus.COMPLETE and fixed.finished == 4
    assert [t.state for t in fixed.trials] == [TrialState.FAILED] + [TrialState.COMPLETE] * 3


def test_an_optimizer_error_leaves_no_empty_experiment(make_experiment) -> None:
    from hpo_engine.errors import OptimizerError

    import dataclasses

    experiment = make_experiment(method="random")
    manifest = load_manifest(experiment.manifest)
    reference = manifest.references[0]
    # the validator refuses grid on a continuous space; build such a reference by hand
    method = dataclasses.replace(reference.optimization.method, name="grid")
    reference = dataclasses.replace(reference, optimization=dataclasses.replace(reference.optimization, method=method))
    with pytest.raises(OptimizerError):
        run_reference(manifest, reference, RunOptions(results_root=experiment.results))
    assert not (experiment.folder / "trials.sqlite").exists()
    assert run(experiment).finished == 4


def test_every_reference_with_hpo_runs_in_order(make_experiment) -> None:
    experiment = make_experiment(steps=2)
    data = json.loads(experiment.manifest.read_text())
    second = json.loads(json.dumps(data["training_references"][0]))
    second["name"] = "second/ref"  # sanitized into a folder name
    plain = {"name": "no-hpo", "training_definition_url": "definition", "command": "python3 train.py"}
    data["training_references"] += [plain, second]
    experiment.manifest.write_text(json.dumps(data))
    summaries = run_manifest(load_manifest(experiment.manifest), RunOptions(results_root=experiment.results))
    assert [(s.experiment.reference, s.finished) for s in summaries] == [("ref", 2), ("second/ref", 2)]
    assert summaries[1].folder == experiment.results / "exp" / "second_ref"


def test_sigterm_exit_code(make_experiment) -> None:
    import signal

    stop = StopRequest()
    stop.request(signal.SIGTERM)
    manifest = load_manifest(make_experiment(steps=2).manifest)
    summary = run_reference(manifest, manifest.references[0], RunOptions(results_root=make_experiment().results), stop=stop)
    assert summary.status is RunStatus.INTERRUPTED and summary.exit_code == 143 and summary.launched == 0


def test_data_dir_from_a_local_training_data_reference(make_experiment, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DATA_DIR", raising=False)
    program = """
import os
print("score=" + ("1" if os.environ.get("DATA_DIR", "").endswith("localdata") else "0"))
"""
    experiment = make_experiment(program, steps=1)
    (tmp_path / "localdata").mkdir()
    data = json.loads(experiment.manifest.read_text())
    data["training_data_reference"] = {"name": "data", "type": "fs", "target": {"path": "localdata"}}
    experiment.manifest.write_text(json.dumps(data))
    assert run(experiment).trials[0].objective == 1
