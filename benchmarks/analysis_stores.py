"""Synthetic result stores for the analysis benchmarks, written with the real ResultStore API.

A 4-parameter space (a power range, an int power range, a linear range, a category) and a
smooth objective with noise; 5% of the trials fail; every complete trial has a 10-step
learning curve in its metrics, as the trial runner stores it.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from hpo_engine.runner.backends.base import TrialOutcome
from hpo_engine.runner.store import ExperimentRecord, ResultStore
from hpo_engine.runner.trial_state import TrialState

SPACE = (
    {"name": "learning_rate", "double_range": {"min_value": -4, "max_value": -1, "power": 10}},
    {"name": "hidden_units", "int_range": {"min_value": 4, "max_value": 8, "power": 2}},
    {"name": "dropout", "double_range": {"min_value": 0.0, "max_value": 0.5}},
    {"name": "activation", "string_values": ["relu", "tanh", "sigmoid"]},
)


def values_of(rng: random.Random) -> dict:
    return {
        "learning_rate": 10 ** rng.uniform(-4, -1),
        "hidden_units": 2 ** rng.randint(4, 8),
        "dropout": rng.uniform(0.0, 0.5),
        "activation": rng.choice(["relu", "tanh", "sigmoid"]),
    }


def accuracy_of(values: dict, rng: random.Random) -> float:
    lr = math.log10(values["learning_rate"])
    score = 0.95 - 0.08 * (lr + 2.3) ** 2 - 0.02 * abs(math.log2(values["hidden_units"]) - 6) - 0.1 * values["dropout"]
    score -= {"relu": 0.0, "tanh": 0.02, "sigmoid": 0.06}[values["activation"]]
    return max(0.0, min(1.0, score + rng.gauss(0, 0.01)))


def curve_metrics(final: float, steps: int = 10) -> dict:
    series = [{"epoch": s, "accuracy": round(final * (1 - math.exp(-0.5 * s)) / (1 - math.exp(-0.5 * steps)), 6)} for s in range(1, steps + 1)]
    return {"source": "val_dict_list.json", "objective": "accuracy", "step_key": "epoch",
            "final": {"accuracy": series[-1]["accuracy"]}, "series": series, "series_length": steps}


def make_store(folder: Path, trials: int, *, seed: int = 0, reference: str = "mlp", running: int = 0) -> Path:
    """A store of ``trials`` finished trials (and ``running`` ones still running) in ``folder``."""
    rng = random.Random(seed)
    record = ExperimentRecord("digits", reference, "random", "accuracy", True, trials + running, SPACE, seed=seed)
    with ResultStore.create(folder, record) as store:
        for number in range(trials + running):
            values = values_of(rng)
            store.record_running(number, values, started_at=1_700_000_000.0 + number)
            if number >= trials:
                continue
            if rng.random() < 0.05:
                outcome = TrialOutcome(number, TrialState.FAILED, None, {}, 1, "exit code 1", "Traceback...", 1_700_000_000.0 + number, 1_700_000_002.0 + number)
            else:
                final = accuracy_of(values, rng)
                metrics = curve_metrics(final)
                outcome = TrialOutcome(number, TrialState.COMPLETE, metrics["series"][-1]["accuracy"], metrics, 0, None, "",
                                       1_700_000_000.0 + number, 1_700_000_003.0 + number)
            store.record_outcome(outcome)
    return folder
