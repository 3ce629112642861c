"""Sorting, best trial, running best, exports and store discovery on stored trials."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from hpo_engine.runner.backends.base import TrialOutcome

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.errors import HpoError
from hpo_engine.runner.results import (
    best_trial,
    final_metrics,
    find_store_folders,
    load_results,
    results_csv,
    results_json,
    running_best,
    sort_trials,
    write_best_config,
)
from hpo_engine.runner.store import ExperimentRecord, ResultStore, TrialRecord

SPACE = ({"name": "lr", "double_values": [0.1, 0.2]}, {"name": "act", "string_values": ["relu", "tanh"]})


def trial(number: int, objective: float | None, state: TrialState = TrialState.COMPLETE, **values) -> TrialRecord:
    return TrialRecord(
        number=number, values=values or {"lr": 0.1, "act": "relu"}, state=state, objective=objective,
        metrics={"final": {"accuracy": objective, "loss": 1.0}} if objective is not None else {},
        started_at=10.0, ended_at=12.0,
    )


TRIALS = [
    trial(0, 0.5),
    trial(1, None, TrialState.FAILED),
    trial(2, 0.9),
    trial(3, None, TrialState.INTERRUPTED),
    trial(4, 0.7),
    trial(5, 0.9),
]


def test_sort_maximize_and_minimize() -> None:
    assert [t.number for t in sort_trials(TRIALS, maximize=True)] == [2, 5, 4, 0, 1, 3]
    assert [t.number for t in sort_trials(TRIALS, maximize=False)] == [0, 4, 2, 5, 1, 3]


def test_best_trial_ties_go_to_the_earlier_trial() -> None:
    assert best_trial(TRIALS, maximize=True).number == 2
    assert best_trial(TRIALS, maximize=False).number == 0
    assert best_trial([trial(0, None, TrialState.FAILED)], maximize=True) is None


def test_running_best() -> None:
    assert running_best(TRIALS, maximize=True) == [(0, 0.5), (2, 0.9), (4, 0.9), (5, 0.9)]
    assert running_best(TRIALS, maximize=False) == [(0, 0.5), (2, 0.5), (4, 0.5), (5, 0.5)]


def test_write_best_config_is_the_trials_config(tmp_path: Path) -> None:
    path = write_best_config(tmp_path, trial(7, 1.0, lr=0.2, act="tanh"))
    assert json.loads(path.read_text()) == {"lr": 0.2, "act": "tanh"}
    assert not list(tmp_path.glob("*.tmp"))


def test_final_metrics() -> None:
    assert final_metrics(trial(0, 0.5)) == {"accuracy": 0.5, "loss": 1.0}


@pytest.fixture
def stores(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    for reference, maximize in (("a", True), ("b", False)):
        record = ExperimentRecord("exp", reference, "random", "accuracy", maximize, 6, SPACE)
        with ResultStore.create(root / "exp" / reference, record) as store:
            for t in TRIALS:
                store.record_running(t.number, t.values)
                if t.state is not TrialState.RUNNING:
                    store.record_outcome(TrialOutcome(t.number, t.state, t.objective, t.metrics, 0, None, "", 10.0, 12.0))
    return root


def test_find_store_folders(stores: Path) -> None:
    expected = [stores / "exp" / "a", stores / "exp" / "b"]
    assert find_store_folders(stores) == expected
    assert find_store_folders(stores / "exp") == expected
    assert find_store_folders(stores / "exp" / "a") == expected[:1]
    assert find_store_folders(stores / "exp" / "a" / "trials.sqlite") == expected[:1]
    empty = stores.parent / "empty"
    empty.mkdir()
    with pytest.raises(HpoError, match="no hpo results"):
        find_store_folders(empty)
    with pytest.raises(HpoError, match="no such file or folder"):
        find_store_folders(stores.parent / "missing")


def test_json_and_csv_exports(stores: Path) -> None:
    loaded = [load_results(f) for f in find_store_folders(stores)]
    data = json.loads(results_json(loaded))
    first, second = data["experiments"]
    assert [t["number"] for t in first["trials"]] == [2, 5, 4, 0, 1, 3]
    assert [t["number"] for t in second["trials"]] == [0, 4, 2, 5, 1, 3]
    assert first["counts"] == {"running": 0, "complete": 4, "failed": 1, "interrupted": 1}
    rows = list(csv.DictReader(io.StringIO(results_csv(loaded))))
    assert len(rows) == 12
    assert rows[0]["reference"] == "a" and rows[0]["number"] == "2" and rows[0]["metric.accuracy"] == "0.9"
    assert rows[0]["lr"] == "0.1" and rows[0]["act"] == "relu" and rows[0]["duration"] == "2.0"
    assert rows[4]["state"] == "failed" and rows[4]["objective"] == ""
