"""Where the objective comes from: val_dict_list.json, evaluation-metrics.txt, stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.runner.trials import collect_metrics, run_trial
from hpo_engine.runner.trials.metric_files import MAX_SERIES_ROWS, parse_name_values

HAND_WRITTEN = """
import json, os
rows = [{"epoch": 0, "accuracy": 0.9}, {"epoch": 1, "accuracy": 0.6, "loss": 0.2}]
json.dump(rows, open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w"))
print("accuracy=0.1")
"""


def test_hand_written_val_dict_list_gives_the_last_recorded_value(make_spec) -> None:
    outcome = run_trial(make_spec(HAND_WRITTEN, time_interval="epoch"))
    assert outcome.state is TrialState.COMPLETE, outcome.stderr_tail
    assert outcome.objective == 0.6  # the last, not the best, and not stdout's
    assert outcome.metrics["source"] == "val_dict_list.json"
    assert outcome.metrics["step_key"] == "epoch"
    assert outcome.metrics["objective_step"] == 1
    assert outcome.metrics["final"] == {"accuracy": 0.6, "loss": 0.2}
    assert outcome.metrics["series_length"] == 2


def test_the_method_filename_parameter_names_the_file(make_spec) -> None:
    program = """
    import json, os
    json.dump([{"steps": 1, "score": 3}], open(os.path.join(os.environ["RESULT_DIR"], "scores.json"), "w"))
    """
    outcome = run_trial(make_spec(program, objective="score", metrics_filename="scores.json"))
    assert outcome.state is TrialState.COMPLETE, outcome.failure_reason
    assert outcome.objective == 3.0
    assert outcome.metrics["source"] == "scores.json"


def test_evaluation_metrics_test_group_is_read_when_val_dict_list_is_missing(make_spec) -> None:
    program = """
    import os
    from emetrics import EMetrics
    em = EMetrics.open(os.environ["SUBID"])   # never closed: no val_dict_list.json
    em.record(EMetrics.TEST_GROUP, 0, {"accuracy": 0.4})
    em.record(EMetrics.TRAIN_GROUP, 1, {"accuracy": 0.99})
    em.record(EMetrics.TEST_GROUP, 1, {"accuracy": 0.3})
    """
    spec = make_spec(program, number=1)
    outcome = run_trial(spec)
    assert not (spec.trial_dir / "result" / "val_dict_list.json").exists()
    assert outcome.state is TrialState.COMPLETE, outcome.failure_reason
    assert outcome.objective == 0.3
    assert outcome.metrics["source"] == "evaluation-metrics.txt"
    assert outcome.metrics["series"] == [{"steps": 0, "accuracy": 0.4}, {"steps": 1, "accuracy": 0.3}]
    assert outcome.metrics["groups"]["train"]["final"] == {"accuracy": 0.99}


def test_stdout_name_value_lines(make_spec) -> None:
    program = """
    print("starting, lr=0.1")
    for epoch in range(3):
        print(f"epoch={epoch} accuracy={0.5 + epoch / 10}, loss={1 / (epoch + 1)}")
    print("bye")
    """
    outcome = run_trial(make_spec(program))
    assert outcome.state is TrialState.COMPLETE, outcome.stderr_tail
    assert outcome.objective == 0.7
    assert outcome.metrics["source"] == "stdout"
    assert outcome.metrics["step_key"] == "epoch"
    assert outcome.metrics["final"] == {"lr": 0.1, "accuracy": 0.7, "loss": 1 / 3}
    assert outcome.metrics["series_length"] == 4


@pytest.mark.parametrize(
    ("line", "pairs"),
    [
        ("accuracy=0.93", [("accuracy", 0.93)]),
        ("epoch=2 accuracy=0.93, loss=1e-2", [("epoch", 2), ("accuracy", 0.93), ("loss", 0.01)]),
        ("val/acc = .5;  step=-3", [("val/acc", 0.5), ("step", -3)]),
        ("Final accuracy=0.8.", [("accuracy", 0.8)]),
        ("accuracy=0.9abc x==1 path=/tmp/a", []),
        ("a=1,b=2", [("a", 1), ("b", 2)]),
    ],
)
def test_parse_name_values(line: str, pairs: list) -> None:
    assert parse_name_values(line) == pairs


def test_series_are_bounded_and_metrics_are_strict_json(tmp_path: Path) -> None:
    rows = [{"steps": i, "accuracy": i / 2000, "loss": float("nan")} for i in range(MAX_SERIES_ROWS + 500)]
    (tmp_path / "val_dict_list.json").write_text(json.dumps(rows))
    collected = collect_metrics(objective="accuracy", result_dir=tmp_path, log_dir=tmp_path / "logs", stdout_path=None)
    assert collected.problem is None
    assert collected.objective == rows[-1]["accuracy"]
    assert collected.metrics["series_length"] == MAX_SERIES_ROWS + 500
    assert len(collected.metrics["series"]) == MAX_SERIES_ROWS
    assert collected.metrics["series"][-1]["steps"] == MAX_SERIES_ROWS + 499
    assert collected.metrics["final"]["loss"] == "NaN"
    json.dumps(collected.metrics, allow_nan=False)


def test_a_broken_results_file_falls_back_and_is_reported(tmp_path: Path) -> None:
    (tmp_path / "val_dict_list.json").write_text("[{not json")
    stdout = tmp_path / "stdout.log"
    stdout.write_text("accuracy=0.5\n")
    collected = collect_metrics(objective="accuracy", result_dir=tmp_path, log_dir=tmp_path, stdout_path=stdout)
    assert collected.objective == 0.5
    assert collected.metrics["source"] == "stdout"
    assert collected.metrics["errors"][0].startswith("val_dict_list.json: not valid JSON")
