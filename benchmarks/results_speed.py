"""CPU time of ``hpo results`` on a store of 10,000 trials, side by side with Optuna.

Builds a real result store (the engine's own ``ResultStore`` API, as ``hpo run`` writes it)
with N finished trials of 4 hyper-parameters and a learning curve of metrics each, then runs
as whole processes (interpreter start and imports included), the median CPU time (user +
system, of the child) of several runs:

* ``hpo results STORE`` -- the default: the best 20 trials;
* ``hpo results STORE --all`` -- every trial, as a table;
* ``hpo results STORE --format json`` and ``--format csv`` -- every trial;
* the peer: Optuna with the same trials in its SQLite storage (values, objective and one user
  attribute; no learning curves, which would make its store larger and slower to build), a process that loads the study
  and prints its best 20 trials (``study.get_trials()`` sorted by value, one line each; its
  ``trials_dataframe()`` needs pandas, not installed here), and the same for every trial.

Target (issue 13): the default under 1 s of CPU on 10,000 trials.

Usage::

    .venv/bin/python benchmarks/results_speed.py [--trials 10000] [--runs 5]

Results are written up in ``docs/benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SPACE = (
    {"name": "learning_rate", "double_range": {"min_value": 1e-4, "max_value": 0.1, "power": 10}},
    {"name": "hidden_units", "int_values": [32, 64, 128, 256, 512]},
    {"name": "activation", "string_values": ["relu", "tanh", "sigmoid"]},
    {"name": "dropout", "double_range": {"min_value": 0.0, "max_value": 0.5}},
)


def build_hpo_store(folder: Path, trials: int, seed: int = 1) -> list[tuple[dict, float]]:
    """A store of ``trials`` complete trials in ``folder``; returns (values, objective) per trial."""
    from hpo_engine.runner.backends.base import TrialOutcome, TrialState
    from hpo_engine.runner.store import ExperimentRecord, ResultStore

    rng = random.Random(seed)
    record = ExperimentRecord("bench", "mlp", "random", "accuracy", True, trials, SPACE, seed=seed, created_at=time.time())
    points = []
    with ResultStore.create(folder, record) as store:
        for number in range(trials):
            values = {
                "learning_rate": 10 ** rng.uniform(-4, -1),
                "hidden_units": rng.choice([32, 64, 128, 256, 512]),
                "activation": rng.choice(["relu", "tanh", "sigmoid"]),
                "dropout": rng.uniform(0, 0.5),
            }
            objective = rng.random()
            started = time.time()
            store.record_running(number, values, started_at=started)
            metrics = {"accuracy": objective, "loss": 1 - objective, "source": "val_dict_list.json", "series": [{"steps": s, "accuracy": objective * s / 10} for s in range(10)]}
            store.record_outcome(TrialOutcome(number, TrialState.COMPLETE, objective, metrics, 0, None, "", started, started + 1.0))
            points.append((values, objective))
    return points


def build_optuna_study(path: Path, points: list[tuple[dict, float]]) -> str:
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{path}"
    study = optuna.create_study(study_name="bench", storage=url, direction="maximize")
    distributions = {
        "learning_rate": FloatDistribution(1e-4, 0.1, log=True),
        "hidden_units": CategoricalDistribution([32, 64, 128, 256, 512]),
        "activation": CategoricalDistribution(["relu", "tanh", "sigmoid"]),
        "dropout": FloatDistribution(0.0, 0.5),
    }
    study.add_trials(
        [
            optuna.trial.create_trial(params=values, distributions=distributions, value=objective, user_attrs={"loss": 1 - objective})
            for values, objective in points
        ]
    )
    return url


OPTUNA_SHOW = """
import sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name="bench", storage=sys.argv[1])
trials = sorted(study.get_trials(deepcopy=False), key=lambda t: -t.value)
for trial in trials if sys.argv[2] == "all" else trials[:20]:
    print(trial.number, trial.state.name, f"{trial.value:.4g}", *(f"{k}={v}" for k, v in trial.params.items()), trial.duration)
"""


def child_cpu(command: list[str], runs: int) -> tuple[float, float]:
    """Median CPU seconds (user + system of the child) and wall seconds of ``command``."""
    cpu, wall = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, COLUMNS="200"))
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    hpo = [sys.executable, "-m", "hpo_engine.cli", "results"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "bench" / "mlp"
        started = time.perf_counter()
        points = build_hpo_store(folder, args.trials)
        print(f"hpo store of {args.trials} trials built in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        url = build_optuna_study(Path(tmp) / "optuna.sqlite", points)
        print(f"optuna study of {args.trials} trials built in {time.perf_counter() - started:.1f} s")
        rows = [
            ("hpo results STORE (best 20, the default)", [*hpo, str(folder)]),
            ("optuna: load study, best 20", [sys.executable, "-c", OPTUNA_SHOW, url, "best"]),
            ("hpo results STORE --all (table)", [*hpo, str(folder), "--all"]),
            ("optuna: load study, every trial (table)", [sys.executable, "-c", OPTUNA_SHOW, url, "all"]),
            ("hpo results STORE --format json", [*hpo, str(folder), "--format", "json"]),
            ("hpo results STORE --format csv", [*hpo, str(folder), "--format", "csv"]),
            ("hpo --help (start-up and imports only)", [sys.executable, "-m", "hpo_engine.cli", "--help"]),
        ]
        print(f"\n{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; median of {args.runs} runs\n")
        print("| command | CPU (s) | wall (s) |")
        print("|---|---:|---:|")
        for label, command in rows:
            cpu, wall = child_cpu(command, args.runs)
            print(f"| {label} | {cpu:.2f} | {wall:.2f} |")


if __name__ == "__main__":
    main()
