"""Benchmark: wall time of a run with ``--parallel 1 / 2 / 4`` for trials of fixed length, beside Optuna.

Every trial is a real process of the same program: it reads ``config.json``, sleeps
``--trial-seconds`` (a training step of fixed length that leaves the CPU free, so the two cores
of this machine are not the limit), and writes Branin's value of its ``x``, ``y`` to
``$RESULT_DIR/val_dict_list.json``. For each method, ``hpo run`` of ``--trials`` trials is timed
as a whole process (start to exit) with each ``--parallel``; the speed-up is the serial wall
time over the parallel one (ideal: P). The gap to ideal is what the engine and the method spend
between trials: proposing (the model-based methods fit their model while other slots run),
launching, reading results.

Peer: Optuna's ``study.optimize(objective, n_trials, n_jobs=P)`` with ``TPESampler(multivariate=True,
constant_liar=True)`` (and ``RandomSampler``) running the same program as a subprocess per
trial, timed the same way (a whole ``python`` process).

Usage::

    python benchmarks/parallel_wall.py [--trials 24] [--trial-seconds 1.0] [--repeat 3] [--methods random,rbfopt,tpe,bayesian]

Prints a markdown table (median over ``--repeat`` runs). Not run by ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HPO = [sys.executable, "-m", "hpo_engine.cli"]

PROGRAM = """
import json, math, os, sys, time
c = json.load(open("config.json"))
x, y = float(c["x"]), float(c["y"])
time.sleep(float(os.environ.get("TRIAL_SECONDS", "1.0")))
value = (y - 5.1 / (4 * math.pi ** 2) * x ** 2 + 5 / math.pi * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10
json.dump([{"steps": 1, "loss": value}], open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w"))
"""

PEER = """
import json, os, subprocess, sys, tempfile
import optuna
method, trials, parallel, seed, program = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
optuna.logging.set_verbosity(optuna.logging.WARNING)
sampler = optuna.samplers.RandomSampler(seed=seed) if method == "random" else optuna.samplers.TPESampler(multivariate=True, constant_liar=True, seed=seed)
study = optuna.create_study(sampler=sampler)
def objective(trial):
    values = {"x": trial.suggest_float("x", -5, 10), "y": trial.suggest_float("y", 0, 15)}
    with tempfile.TemporaryDirectory() as folder:
        json.dump(values, open(os.path.join(folder, "config.json"), "w"))
        subprocess.run([sys.executable, program], cwd=folder, env=dict(os.environ, RESULT_DIR=folder), check=True)
        return json.load(open(os.path.join(folder, "val_dict_list.json")))[-1]["loss"]
study.optimize(objective, n_trials=trials, n_jobs=parallel)
"""


def manifest(method: str, trials: int, folder: Path) -> Path:
    definition = folder / "definition"
    definition.mkdir(exist_ok=True)
    (definition / "branin.py").write_text(PROGRAM)
    text = {
        "settings": {"name": "wall"},
        "training_references": [{
            "name": method, "training_definition_url": "definition", "command": f"{sys.executable} branin.py",
            "hyper_parameters_optimization": {
                "method": {"name": method, "parameters": [
                    {"name": "objective", "string_value": "loss"},
                    {"name": "maximize_or_minimize", "string_value": "minimize"},
                    {"name": "num_optimizer_steps", "int_value": trials},
                ]},
                "hyper_parameters": [
                    {"name": "x", "double_range": {"min_value": -5.0, "max_value": 10.0}},
                    {"name": "y", "double_range": {"min_value": 0.0, "max_value": 15.0}},
                ],
            },
        }],
    }
    path = folder / f"{method}.yaml"
    path.write_text(json.dumps(text))
    return path


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--trial-seconds", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parallel", default="1,2,4")
    parser.add_argument("--methods", default="random,rbfopt,tpe,bayesian")
    parser.add_argument("--peers", default="optuna-tpe,optuna-random", help="comma list of optuna-tpe, optuna-random, or empty")
    parser.add_argument("--json", type=Path, help="write the raw times here")
    args = parser.parse_args()
    parallels = [int(p) for p in args.parallel.split(",")]
    env = dict(os.environ, TRIAL_SECONDS=str(args.trial_seconds), OPENBLAS_NUM_THREADS="1")
    columns = [m for m in args.methods.split(",") if m] + [p for p in args.peers.split(",") if p]
    times: dict[str, dict[int, list[float]]] = {c: {p: [] for p in parallels} for c in columns}
    with tempfile.TemporaryDirectory(prefix="hpo-wall-") as work:
        folder = Path(work)
        program = folder / "definition" / "branin.py"
        for round_ in range(args.repeat):
            for column in columns:
                for parallel in parallels:
                    seed = 100 + round_
                    if column.startswith("optuna-"):
                        manifest("random", args.trials, folder)  # writes the program
                        command = [sys.executable, "-c", PEER, column.removeprefix("optuna-"), str(args.trials), str(parallel), str(seed), str(program)]
                    else:
                        path = manifest(column, args.trials, folder)
                        results = folder / f"results-{column}-{parallel}-{round_}"
                        command = HPO + ["run", str(path), "--results", str(results), "--parallel", str(parallel), "--seed", str(seed), "--quiet"]
                    seconds = timed(command, env, folder)
                    times[column][parallel].append(seconds)
                    print(json.dumps({"column": column, "parallel": parallel, "round": round_, "seconds": round(seconds, 3)}), file=sys.stderr)
    ideal = args.trials * args.trial_seconds
    print(f"\n{args.trials} trials of {args.trial_seconds:g} s each (serial sleep alone: {ideal:g} s); median of {args.repeat} runs; "
          f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}\n")
    header = "| column | " + " | ".join(f"p{p} wall s" for p in parallels) + " | " + " | ".join(f"speed-up p{p} (ideal {p})" for p in parallels if p > 1) + " |"
    print(header)
    print("|" + "---|" * (1 + len(parallels) + len([p for p in parallels if p > 1])))
    for column in columns:
        medians = {p: statistics.median(times[column][p]) for p in parallels}
        base = medians.get(1)
        speedups = [f"x{base / medians[p]:.2f}" if base else "-" for p in parallels if p > 1]
        print(f"| {column} | " + " | ".join(f"{medians[p]:.2f}" for p in parallels) + " | " + " | ".join(speedups) + " |")
    if args.json:
        args.json.write_text(json.dumps({"trials": args.trials, "trial_seconds": args.trial_seconds, "times": times}, indent=1))


if __name__ == "__main__":
    main()
