"""StoreMirror: an Optuna storage kept in step with a store that is being written, never writing it."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import optuna
import pytest

from hpo_engine.errors import StoreError
from hpo_engine.runner.backends.base import TrialOutcome
from hpo_engine.runner.optuna_mirror import StoreMirror, run_mirror
from hpo_engine.runner.store import ExperimentRecord, ResultStore
from hpo_engine.runner.trial_state import TrialState

from tests.engine.analysis_data import SPACE, write_store

VALUES = {"lr": 0.01, "units": 32, "dropout": 0.1, "layers": 2, "batch": 32, "act": "relu"}


def states(storage, name: str) -> list[str]:
    study = optuna.load_study(study_name=name, storage=storage)
    return [t.state.name for t in study.get_trials(deepcopy=False)]


def test_running_trials_appear_then_finish(tmp_path: Path) -> None:
    folder = tmp_path / "exp" / "ref"
    store = ResultStore.create(folder, ExperimentRecord("exp", "ref", "random", "loss", False, 3, SPACE))
    storage = optuna.storages.InMemoryStorage()
    mirror = StoreMirror(storage, [tmp_path])
    assert mirror.sync() == 0 and mirror.study_names == ["exp/ref"]
    store.record_running(0, VALUES)
    store.record_running(1, VALUES)
    assert mirror.sync() == 2 and states(storage, "exp/ref") == ["RUNNING", "RUNNING"]
    assert mirror.sync() == 0  # nothing changed: nothing read
    metrics = {"step_key": "epoch", "series": [{"epoch": 1, "loss": 0.9}, {"epoch": 2, "loss": 0.5}]}
    store.record_outcome(TrialOutcome(1, TrialState.COMPLETE, 0.5, metrics, 0, None, "", 1.0, 2.0))
    store.record_outcome(TrialOutcome(0, TrialState.FAILED, None, {}, 1, "exit code 1", "", 1.0, 2.0))
    assert mirror.sync() == 2
    assert states(storage, "exp/ref") == ["FAIL", "COMPLETE"]
    trial = optuna.load_study(study_name="exp/ref", storage=storage).trials[1]
    assert trial.value == 0.5 and trial.intermediate_values == {1: 0.9, 2: 0.5} and trial.params["act"] == "relu"
    assert trial.user_attrs["hpo_state"] == "complete"
    failed = optuna.load_study(study_name="exp/ref", storage=storage).trials[0]
    assert failed.user_attrs["failure_reason"] == "exit code 1"
    store.close()
    mirror.close()


def test_a_resumed_trial_rebuilds_its_study(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    store = ResultStore.create(folder, ExperimentRecord("exp", "ref", "random", "loss", False, 2, SPACE))
    store.record_running(0, VALUES)
    store.mark_interrupted()
    storage = optuna.storages.InMemoryStorage()
    mirror = StoreMirror(storage, [folder])
    mirror.sync()
    assert states(storage, "exp/ref") == ["FAIL"]
    store.record_running(0, VALUES)  # hpo run --resume reruns it
    store.record_outcome(TrialOutcome(0, TrialState.COMPLETE, 0.25, {}, 0, None, "", 1.0, 2.0))
    mirror.sync()
    assert states(storage, "exp/ref") == ["COMPLETE"]
    store.close()
    mirror.close()


def test_mirror_follows_a_concurrent_writer_and_never_writes(tmp_path: Path) -> None:
    """A writer thread adds 150 trials while the mirror polls every 10 ms; the store bytes are the writer's only."""
    folder = tmp_path / "exp" / "ref"
    write_store(folder, 10)
    storage = optuna.storages.InMemoryStorage()
    mirror = StoreMirror(storage, [folder])
    stop = threading.Event()
    errors: list[Exception] = []
    poller = threading.Thread(target=run_mirror, args=(mirror, stop), kwargs={"interval": 0.01, "on_error": errors.append})
    poller.start()
    try:
        with ResultStore.open(folder) as writer:
            for number in range(10, 160):
                writer.record_running(number, VALUES)
                writer.record_outcome(TrialOutcome(number, TrialState.COMPLETE, float(number), {}, 0, None, "", 1.0, 2.0))
    finally:
        stop.set()
        poller.join()
    assert errors == []
    mirror.sync()
    assert states(storage, "exp/ref").count("COMPLETE") == 8 + 150
    mirror.close()
    digest = hashlib.sha256(ResultStore.path_in(folder).read_bytes()).hexdigest()
    again = StoreMirror(optuna.storages.InMemoryStorage(), [folder])
    assert again.sync() == 160
    again.close()
    assert hashlib.sha256(ResultStore.path_in(folder).read_bytes()).hexdigest() == digest

def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    write_store(tmp_path / "store", 2)
    store = ResultStore.open_read_only(tmp_path / "store")
    with pytest.raises(StoreError):
        store.record_running(5, VALUES)
    store.close()
