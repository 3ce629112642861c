"""Small real stores for the analysis tests (plots, export, dashboard), written with ResultStore."""

from __future__ import annotations

import math
import random
from pathlib import Path

from hpo_engine.runner.backends.base import TrialOutcome
from hpo_engine.runner.store import ExperimentRecord, ResultStore
from hpo_engine.runner.trial_state import TrialState

#: Every kind of dimension: a power range, an int power range, a stepped range, values, categories.
SPACE = (
    {"name": "lr", "double_range": {"min_value": -4, "max_value": -1, "power": 10}},
    {"name": "units", "int_range": {"min_value": 4, "max_value": 7, "power": 2}},
    {"name": "dropout", "double_range": {"min_value": 0.0, "max_value": 0.5, "step": 0.1}},
    {"name": "layers", "int_range": {"min_value": 1, "max_value": 3}},
    {"name": "batch", "int_values": [16, 32, 64]},
    {"name": "act", "string_values": ["relu", "tanh", "sigmoid"]},
)


def loss_of(values: dict) -> float:
    """A loss that depends almost only on ``lr`` (its log distance to 1e-2)."""
    return (math.log10(values["lr"]) + 2) ** 2 + 0.001 * values["layers"]


def write_store(folder: Path, count: int, *, seed: int = 0, reference: str = "ref", fail_every: int = 5, curves: bool = True) -> Path:
    """``count`` trials (every ``fail_every``-th failed), minimizing ``loss``, each complete one with a 5-step curve."""
    rng = random.Random(seed)
    record = ExperimentRecord("exp", reference, "random", "loss", False, count, SPACE)
    with ResultStore.create(folder, record) as store:
        for number in range(count):
            values = {
                "lr": 10 ** rng.uniform(-4, -1), "units": 2 ** rng.randint(4, 7), "dropout": rng.choice([0.0, 0.1, 0.2, 0.3, 0.4, 0.5]),
                "layers": rng.randint(1, 3), "batch": rng.choice([16, 32, 64]), "act": rng.choice(["relu", "tanh", "sigmoid"]),
            }
            store.record_running(number, values)
            if fail_every and number % fail_every == fail_every - 1:
                store.record_outcome(TrialOutcome(number, TrialState.FAILED, None, {}, 1, "exit code 1", "", 1.0, 2.0))
                continue
            loss = loss_of(values)
            metrics: dict = {"source": "stdout", "objective": "loss", "final": {"loss": loss}}
            if curves:
                metrics.update(step_key="epoch", series=[{"epoch": e, "loss": loss + 1.0 / e} for e in range(1, 6)] + [{"epoch": 6, "loss": loss}])
            store.record_outcome(TrialOutcome(number, TrialState.COMPLETE, loss, metrics, 0, None, "", 10.0 + number, 12.5 + number))
    return folder
