"""``plot_results`` writes a PNG for stores of every kind of dimension."""

from __future__ import annotations

from pathlib import Path

from hpo_engine.runner.backends.base import TrialOutcome

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.cli.plot import plot_results
from hpo_engine.runner.results import load_results
from hpo_engine.runner.store import ExperimentRecord, ResultStore

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SPACE = (
    {"name": "lr", "double_range": {"min_value": -4, "max_value": -1, "power": 10}},
    {"name": "units", "int_range": {"min_value": 4, "max_value": 7, "power": 2}},
    {"name": "dropout", "double_range": {"min_value": 0.0, "max_value": 0.5}},
    {"name": "act", "string_values": ["relu", "tanh", "sigmoid"]},
)


def make_store(folder: Path, outcomes: list[tuple[dict, TrialState, float | None]]) -> Path:
    record = ExperimentRecord("exp", "ref", "random", "loss", False, len(outcomes), SPACE)
    with ResultStore.create(folder, record) as store:
        for number, (values, state, objective) in enumerate(outcomes):
            store.record_running(number, values)
            store.record_outcome(TrialOutcome(number, state, objective, {}, 0, None, "", 1.0, 2.0))
    return folder


def test_plot_png_with_log_categorical_and_failed(tmp_path: Path) -> None:
    points = [
        ({"lr": 0.001, "units": 16, "dropout": 0.1, "act": "relu"}, TrialState.COMPLETE, 0.8),
        ({"lr": 0.01, "units": 64, "dropout": 0.3, "act": "tanh"}, TrialState.FAILED, None),
        ({"lr": 0.0001, "units": 128, "dropout": 0.2, "act": "sigmoid"}, TrialState.COMPLETE, 0.4),
        ({"lr": 0.05, "units": 32, "dropout": 0.5, "act": "relu"}, TrialState.COMPLETE, 0.6),
    ]
    folder = make_store(tmp_path / "store", points)
    written = plot_results(load_results(folder))
    assert written == folder / "plot.png"
    assert written.read_bytes().startswith(PNG_SIGNATURE) and written.stat().st_size > 10_000


def test_plot_with_no_complete_trial(tmp_path: Path) -> None:
    folder = make_store(tmp_path / "store", [({"lr": 0.001, "units": 16, "dropout": 0.1, "act": "relu"}, TrialState.FAILED, None)])
    output = plot_results(load_results(folder), tmp_path / "x" / "empty.png")
    assert output.read_bytes().startswith(PNG_SIGNATURE)
