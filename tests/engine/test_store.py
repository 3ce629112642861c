"""ResultStore: transactions, immutable records, resume bookkeeping, safe folder names."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from hpo_engine.runner.backends.base import TrialOutcome

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.errors import StoreError
from hpo_engine.manifest.search_space import SearchSpace
from hpo_engine.runner.store import ExperimentRecord, ResultStore, safe_name, space_from_specs, space_to_specs, store_folder

SPECS = [
    {"name": "lr", "double_range": {"min_value": -4, "max_value": -1, "power": 10}},
    {"name": "units", "int_range": {"min_value": 4, "max_value": 6, "power": 2}},
    {"name": "act", "string_values": ["relu", "tanh"]},
]


def record(**changes) -> ExperimentRecord:
    fields = dict(
        experiment="exp", reference="ref", method="random", objective="accuracy", maximize=True, budget=3,
        search_space=tuple(SPECS), manifest_path="/m.yaml", seed=5, compute_configuration={"name": "k80", "nodes": 1},
    )
    fields.update(changes)
    return ExperimentRecord(**fields)


def outcome(number: int, state: TrialState = TrialState.COMPLETE, objective: float | None = 0.9, **changes) -> TrialOutcome:
    fields = dict(
        number=number, state=state, objective=objective, metrics={"final": {"accuracy": objective, "loss": 0.1}},
        exit_code=0, failure_reason=None, stderr_tail="", started_at=100.0, ended_at=102.5,
        stdout_path=Path("/t/stdout.txt"), stderr_path=Path("/t/stderr.txt"),
    )
    fields.update(changes)
    return TrialOutcome(**fields)


@pytest.fixture
def store(tmp_path: Path) -> ResultStore:
    with ResultStore.create(tmp_path / "store", record()) as opened:
        yield opened


def test_experiment_record_round_trips(store: ResultStore) -> None:
    stored = store.experiment
    assert stored.experiment == "exp" and stored.reference == "ref" and stored.method == "random"
    assert stored.maximize and stored.direction == "maximize" and stored.budget == 3 and stored.seed == 5
    assert stored.compute_configuration == {"name": "k80", "nodes": 1}
    assert stored.created_at > 0
    assert stored.space.names == ("lr", "units", "act")


def test_space_specs_round_trip() -> None:
    space = SearchSpace.from_specs(SPECS)
    assert space_to_specs(space) == SPECS
    assert space_from_specs(space_to_specs(space)).names == space.names


def test_trial_life_cycle_and_reopen(tmp_path: Path, store: ResultStore) -> None:
    store.record_running(0, {"lr": 0.01, "units": 32, "act": "relu"}, started_at=100.0)
    assert store.trial(0).state is TrialState.RUNNING
    assert store.finished_count() == 0 and store.next_number() == 1
    finished = store.record_outcome(outcome(0))
    assert finished.state is TrialState.COMPLETE and finished.objective == 0.9
    assert finished.metrics["final"]["loss"] == 0.1
    assert finished.duration == pytest.approx(2.5)
    assert finished.stdout_path == "/t/stdout.txt" and finished.exit_code == 0
    store.close()
    with ResultStore.open(tmp_path / "store") as again:
        [trial] = again.trials()
        assert trial.values == {"lr": 0.01, "units": 32, "act": "relu"}
        assert isinstance(trial.values["units"], int)
        assert trial.finished and again.finished_count() == 1


def test_records_are_immutable(store: ResultStore) -> None:
    store.record_running(0, {"lr": 0.1})
    trial = store.trial(0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        trial.state = TrialState.COMPLETE  # type: ignore[misc]


def test_a_finished_trial_is_never_rerun(store: ResultStore) -> None:
    store.record_running(0, {"lr": 0.1})
    store.record_outcome(outcome(0, TrialState.FAILED, None, exit_code=1, failure_reason="exit code 1"))
    with pytest.raises(StoreError, match="never rerun"):
        store.record_running(0, {"lr": 0.1})
    assert store.trial(0).failure_reason == "exit code 1" and store.trial(0).objective is None


def test_interrupted_trials_keep_number_and_values(store: ResultStore) -> None:
    store.record_running(0, {"lr": 0.1})
    store.record_running(1, {"lr": 0.2})
    store.record_outcome(outcome(0))
    assert store.mark_interrupted("killed") == [1]
    interrupted = store.trial(1)
    assert interrupted.state is TrialState.INTERRUPTED and interrupted.failure_reason == "killed"
    assert store.mark_interrupted() == []
    store.record_running(1, {"lr": 0.2})
    rerun = store.trial(1)
    assert rerun.state is TrialState.RUNNING and rerun.attempts == 2 and rerun.values == {"lr": 0.2}
    assert store.next_number() == 2


def test_outcome_without_running_row_is_an_error(store: ResultStore) -> None:
    with pytest.raises(StoreError, match="never recorded"):
        store.record_outcome(outcome(7))


def test_non_finite_objective_is_not_stored_as_complete_value(store: ResultStore) -> None:
    store.record_running(0, {"lr": 0.1})
    stored = store.record_outcome(outcome(0, TrialState.FAILED, float("nan"), failure_reason="objective is NaN"))
    assert stored.objective is None and stored.state is TrialState.FAILED


def test_creating_twice_or_opening_nothing_fails(tmp_path: Path, store: ResultStore) -> None:
    with pytest.raises(StoreError, match="already exists"):
        ResultStore.create(tmp_path / "store", record())
    with pytest.raises(StoreError, match="no result store"):
        ResultStore.open(tmp_path / "elsewhere")
    bogus = tmp_path / "bogus"
    bogus.mkdir()
    sqlite3.connect(bogus / "trials.sqlite").execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(StoreError, match="not an hpo result store"):
        ResultStore.open(bogus)


def test_database_uses_wal(store: ResultStore) -> None:
    db = sqlite3.connect(store.path_in(store.folder))
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(
    "name, expected",
    [("digits", "digits"), ("..", "unnamed"), ("../../etc", "etc"), ("/abs/path", "abs_path"), ("a b/c", "a_b_c"), (".hidden", "hidden"), ("", "unnamed")],
)
def test_safe_names(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_store_folder_stays_inside_results(tmp_path: Path) -> None:
    for experiment, reference in [("..", ".."), ("../../x", "/etc/passwd"), ("a/../../b", "~root")]:
        folder = store_folder(tmp_path / "results", experiment, reference)
        assert (tmp_path / "results").resolve() in folder.resolve().parents
        assert folder.parent.parent == tmp_path / "results"
