"""Benchmark: early stopping in ``hpo run`` (none, median, asha, hyperband) and Optuna's pruners, side by side.

Two learning-curve problems, every trial a real process:

* ``digits``: ``examples/digits/train.py`` unchanged (EMetrics, 20 epochs recorded as
  steps 0-19), with ``DIGITS_EPOCH_PAUSE`` seconds after each epoch standing in for a
  larger model (stopping must save real epochs: a trial that ends before the decision
  reaches it saves nothing);
* ``curves``: a synthetic program of our own (``curves.py`` below) whose accuracy
  rises as ``1 - exp(-epoch / tau)`` towards a ceiling, both depending on the
  hyper-parameters: small learning rates learn slowly but some reach high ceilings, so
  curves cross (the hard case for any pruner). 27 epochs (steps 1-27), printed on
  stdout as ``epoch=3 accuracy=0.71``.

For each seed and problem: ``hpo run`` with method ``random`` and ``early_stopping``
``none`` / ``median`` / ``asha``, and method ``hyperband`` (all ``reduction_factor`` 3,
``grace_period`` 1, ``max_resource`` the epochs of a full run), one trial at a time;
and Optuna (``RandomSampler(seed)``, the same space) with ``MedianPruner(n_startup_trials=5,
n_warmup_steps=1)``, ``SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)`` and
``HyperbandPruner(min_resource=1, max_resource=<epochs>, reduction_factor=3)``, driving the
same program as a subprocess per trial: this script reads the program's output line by
line (EMetrics' ``evaluation-metrics.txt`` for digits, stdout for curves), calls
``trial.report`` / ``trial.should_prune`` at each epoch and stops a pruned trial's
process group with SIGTERM. Same number of trials everywhere.

Measured per run: epochs run (the rows each trial recorded, summed), the best objective
of the trials that ran to the end. The table gives medians and IQR over seeds.

Usage::

    python benchmarks/early_stopping.py --seeds 10 --jobs 4 --out /tmp/es.jsonl
    python benchmarks/early_stopping.py --render /tmp/es.jsonl > docs/benchmarks/early-stopping.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TRIALS = int(os.environ.get("ES_BENCH_TRIALS", "20"))
PAUSE = {"digits": 0.1, "curves": 0.06}
EPOCHS = {"digits": 20, "curves": 27}
HPO_METHODS = ("none", "median", "asha", "hyperband")
OPTUNA_METHODS = ("optuna-median", "optuna-sha", "optuna-hyperband")

CURVES_PROGRAM = '''
"""A learning curve of our own: accuracy(epoch) = 0.1 + (ceiling - 0.1) * (1 - exp(-epoch / tau)) + noise."""
import json, math, os, random, time
c = json.load(open("config.json"))
log_lr = math.log10(float(c["learning_rate"]))
width = int(c["width"])
quality = math.exp(-((log_lr + 2.3) ** 2) / 0.9) * (0.75 + 0.25 * min(1.0, width / 128))
ceiling = 0.5 + 0.45 * quality + (0.03 if c["schedule"] == "cosine" else 0.0)
tau = 1.5 + 4.0 * max(0.0, -log_lr - 1.0)
noise = random.Random(json.dumps(c, sort_keys=True))
pause = float(os.environ.get("CURVES_EPOCH_PAUSE", "0"))
for epoch in range(1, int(os.environ.get("CURVES_EPOCHS", "27")) + 1):
    accuracy = 0.1 + (ceiling - 0.1) * (1 - math.exp(-epoch / tau)) + noise.gauss(0, 0.005)
    print(f"epoch={epoch} accuracy={accuracy:.5f}", flush=True)
    time.sleep(pause)
'''

SPACES = {
    "digits": [
        {"name": "learning_rate", "double_range": {"min_value": -4, "max_value": -0.5, "power": 10}},
        {"name": "hidden_units", "int_range": {"min_value": 4, "max_value": 9, "power": 2}},
        {"name": "activation", "string_values": ["relu", "tanh", "sigmoid"]},
    ],
    "curves": [
        {"name": "learning_rate", "double_range": {"min_value": -4, "max_value": -0.5, "power": 10}},
        {"name": "width", "int_values": [16, 32, 64, 128, 256]},
        {"name": "schedule", "string_values": ["constant", "cosine"]},
    ],
}


def hpo_command() -> list[str]:
    script = Path(sys.executable).with_name("hpo")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hpo_engine.cli"]


def manifest(problem: str, method: str, definition: Path) -> dict[str, Any]:
    parameters = [
        {"name": "objective", "string_value": "accuracy"},
        {"name": "maximize_or_minimize", "string_value": "maximize"},
        {"name": "num_optimizer_steps", "int_value": TRIALS},
        {"name": "time_interval", "string_value": "epoch"},
        {"name": "max_resource", "int_value": EPOCHS[problem]},
        {"name": "reduction_factor", "int_value": 3},
        {"name": "grace_period", "int_value": 1},
        {"name": "kill_grace_seconds", "int_value": 5},
    ]
    if method != "hyperband":
        parameters.append({"name": "early_stopping", "string_value": method})
    command = "python3 train.py" if problem == "digits" else "python3 curves.py"
    return {
        "settings": {"name": f"es-{problem}-{method}"},
        "training_references": [
            {
                "name": "model",
                "training_definition_url": str(definition),
                "command": command,
                "hyper_parameters_optimization": {
                    "method": {"name": "hyperband" if method == "hyperband" else "random", "parameters": parameters},
                    "hyper_parameters": SPACES[problem],
                },
            }
        ],
    }


def environment(problem: str) -> dict[str, str]:
    return dict(
        os.environ,
        DIGITS_EPOCHS=str(EPOCHS["digits"]),
        DIGITS_EPOCH_PAUSE=str(PAUSE["digits"]),
        CURVES_EPOCHS=str(EPOCHS["curves"]),
        CURVES_EPOCH_PAUSE=str(PAUSE["curves"]),
    )


def run_hpo(problem: str, method: str, seed: int, work: Path) -> dict[str, Any]:
    definition = work / f"definition-{problem}"
    path = work / f"{problem}-{method}.yaml"
    path.write_text(json.dumps(manifest(problem, method, definition), indent=1))
    results = work / "results" / f"{problem}-{method}-s{seed}"
    shutil.rmtree(results, ignore_errors=True)
    started = time.perf_counter()
    run = subprocess.run(
        [*hpo_command(), "run", str(path), "--results", str(results), "--seed", str(seed), "--quiet", "--json"],
        capture_output=True, text=True, env=environment(problem), check=False,
    )
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"hpo run failed ({run.returncode}): {run.stderr[-2000:]}{run.stdout[-2000:]}")
    shown = subprocess.run([*hpo_command(), "results", str(results), "--format", "json"], capture_output=True, text=True, check=True)
    trials = [t for e in json.loads(shown.stdout)["experiments"] for t in e["trials"]]
    complete = [t["objective"] for t in trials if t["state"] == "complete"]
    shutil.rmtree(results, ignore_errors=True)
    return {
        "epochs": sum(t["steps_run"] for t in trials),
        "best": max(complete) if complete else None,
        "pruned": sum(1 for t in trials if t["state"] == "pruned"),
        "trials": len(trials),
        "seconds": seconds,
    }


def _sample(trial: Any, problem: str) -> dict[str, Any]:
    if problem == "digits":
        return {
            "learning_rate": 10 ** trial.suggest_float("log_learning_rate", -4, -0.5),
            "hidden_units": 2 ** trial.suggest_int("log_hidden_units", 4, 9),
            "activation": trial.suggest_categorical("activation", ["relu", "tanh", "sigmoid"]),
        }
    return {
        "learning_rate": 10 ** trial.suggest_float("log_learning_rate", -4, -0.5),
        "width": trial.suggest_categorical("width", [16, 32, 64, 128, 256]),
        "schedule": trial.suggest_categorical("schedule", ["constant", "cosine"]),
    }


def _follow(process: subprocess.Popen[str], folder: Path, problem: str) -> Any:
    """Yield ``(step, accuracy)`` as the program records them (EMetrics file for digits, stdout for curves)."""
    if problem == "curves":
        assert process.stdout is not None
        for line in process.stdout:
            pairs = dict(part.split("=", 1) for part in line.split() if "=" in part)
            if "accuracy" in pairs:
                yield int(pairs["epoch"]), float(pairs["accuracy"])
        return
    path = folder / "logs" / "0" / "evaluation-metrics.txt"
    offset, partial = 0, ""
    while True:
        ended = process.poll() is not None
        if path.exists():
            with open(path) as handle:
                handle.seek(offset)
                data = handle.read()
                offset = handle.tell()
            lines = (partial + data).split("\n")
            partial = lines.pop()
            for line in lines:
                record = json.loads(line)
                if record.get("grouplabel") == "test":
                    yield int(record["etimes"]["iteration"]["value"]), float(record["values"]["accuracy"]["value"])
        if ended:
            return
        time.sleep(0.01)


def hpo_points(problem: str, seed: int) -> list[dict[str, Any]]:
    """The configurations ``hpo run --seed <seed>`` tries, in order (method ``random``, and
    ``hyperband``, which samples as ``random`` does; one trial at a time, so the points do not
    depend on the results): the Optuna runs try the same ones, and the two differ only by
    their stopping."""
    from hpo_engine.manifest.search_space import SearchSpace
    from hpo_engine.optimizers import make_optimizer

    optimizer = make_optimizer("random", SearchSpace.from_specs(SPACES[problem]), maximize=True, seed=seed, budget=TRIALS)
    return [optimizer.ask() for _ in range(TRIALS)]


def run_optuna(problem: str, method: str, seed: int, work: Path, same_points: bool = True) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = {
        "optuna-median": lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
        "optuna-sha": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
        "optuna-hyperband": lambda: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=EPOCHS[problem], reduction_factor=3),
    }[method]()
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed), pruner=pruner)
    definition = work / f"definition-{problem}"
    program = "train.py" if problem == "digits" else "curves.py"
    support = ROOT / "hpo_engine" / "runner" / "trial_support"
    epochs = 0
    points = hpo_points(problem, seed) if same_points else None
    started = time.perf_counter()
    for number in range(TRIALS):
        trial = study.ask()
        folder = Path(tempfile.mkdtemp(prefix=f"optuna-{problem}-", dir=work))
        shutil.copy(definition / program, folder / program)
        for sub in ("result", "logs"):
            (folder / sub).mkdir()
        (folder / "config.json").write_text(json.dumps(points[number] if points is not None else _sample(trial, problem)))
        env = dict(environment(problem), SUBID="0", RESULT_DIR=str(folder / "result"), LOG_DIR=str(folder / "logs"),
                   PYTHONPATH=str(support))
        process = subprocess.Popen([sys.executable, program], cwd=folder, env=env, text=True, start_new_session=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        last, pruned = None, False
        rows = _follow(process, folder, problem)
        for step, value in rows:
            epochs += 1
            last = value
            trial.report(value, step)
            if trial.should_prune():
                pruned = True
                os.killpg(process.pid, signal.SIGTERM)
                break
        process.wait()
        # what ran between the decision and the end counts too, as it does for hpo (its store keeps those rows)
        epochs += sum(1 for _ in rows)
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        elif last is None or process.returncode != 0:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, last)
    complete = [t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    return {
        "epochs": epochs,
        "best": max(complete) if complete else None,
        "pruned": sum(1 for t in study.trials if t.state == optuna.trial.TrialState.PRUNED),
        "trials": len(study.trials),
        "seconds": time.perf_counter() - started,
    }


def prepare(work: Path) -> None:
    digits = work / "definition-digits"
    digits.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "examples" / "digits" / "train.py", digits / "train.py")
    curves = work / "definition-curves"
    curves.mkdir(parents=True, exist_ok=True)
    (curves / "curves.py").write_text(CURVES_PROGRAM)


def one(task: tuple[str, str, int, Path, bool]) -> dict[str, Any]:
    problem, method, seed, work, same_points = task
    if method.startswith("optuna"):
        result = run_optuna(problem, method, seed, work, same_points)
    else:
        result = run_hpo(problem, method, seed, work)
    return {"problem": problem, "method": method, "seed": seed, "same_points": same_points, **result}


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def render(records: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    out = [
        "# Early stopping: hpo's rules and Optuna's pruners on the same programs",
        "",
        f"Measured by `benchmarks/early_stopping.py` on {meta.get('date', '?')} ({meta.get('machine', '?')}), "
        f"{meta.get('seeds', '?')} seeds, {TRIALS} trials per run, one trial at a time, "
        f"{meta.get('jobs', '?')} runs side by side (the trials mostly sleep: the pause stands in for a longer epoch). "
        "Every trial is a real process; hpo and Optuna run in the same benchmark process pool, same seeds.",
        "",
        f"* **digits**: `examples/digits/train.py` unchanged (EMetrics), {EPOCHS['digits']} epochs, {PAUSE['digits']} s pause per epoch.",
        f"* **curves**: a synthetic learning curve (crossing curves: slow learners can reach high ceilings), {EPOCHS['curves']} epochs on stdout, {PAUSE['curves']} s per epoch.",
        "",
        "Epochs run = rows recorded by all trials of a run (what actually ran, including the epochs a trial",
        "ran between the decision and its end); best = best final accuracy of the trials that ran to the end.",
        "Median over seeds [IQR]; `saved` = 1 - median epochs / median epochs of no stopping.",
        "",
    ]
    for problem in ("digits", "curves"):
        rows = [r for r in records if r["problem"] == problem]
        if not rows:
            continue
        base = statistics.median([r["epochs"] for r in rows if r["method"] == "none"] or [float("nan")])
        out += [f"## {problem}", "", "| rule | epochs run | saved | best accuracy | pruned trials | seeds |", "|---|---|---|---|---|---|"]
        for method in (*HPO_METHODS, *OPTUNA_METHODS):
            mine = [r for r in rows if r["method"] == method]
            if not mine:
                continue
            e1, em, e3 = _quartiles([float(r["epochs"]) for r in mine])
            bests = [r["best"] for r in mine if r["best"] is not None]
            b1, bm, b3 = _quartiles(bests) if bests else (float("nan"),) * 3
            pruned = statistics.median([r["pruned"] for r in mine])
            label = f"hpo {method}" if not method.startswith("optuna") else method.replace("optuna-", "Optuna ").replace("sha", "SuccessiveHalving").replace("median", "Median").replace("hyperband", "Hyperband")
            out.append(f"| {label} | {em:.0f} [{e1:.0f}-{e3:.0f}] | {100 * (1 - em / base):.0f}% | {bm:.4f} [{b1:.4f}-{b3:.4f}] | {pruned:.0f} | {len(mine)} |")
        out.append("")
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--problems", default="digits,curves")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--methods", default=None, help="comma-separated subset of the rules (default: all)")
    parser.add_argument("--out", type=Path, default=None, help="append one JSON line per run")
    parser.add_argument("--render", type=Path, default=None, help="print the markdown table of a --out file")
    parser.add_argument(
        "--optuna-points", choices=("hpo", "sampler"), default="hpo",
        help="hpo: the Optuna runs try the configurations hpo's runs of the seed try, in the same order (default); "
        "sampler: Optuna's RandomSampler(seed) draws its own",
    )
    args = parser.parse_args(argv)
    if args.render is not None:
        lines = [json.loads(line) for line in args.render.read_text().splitlines() if line.strip()]
        meta = next((line for line in lines if line.get("meta")), {})
        print(render([line for line in lines if not line.get("meta")], meta), end="")
        return 0
    work = Path(tempfile.mkdtemp(prefix="hpo-es-bench-"))
    prepare(work)
    out = open(args.out, "a") if args.out else None
    if out:
        meta = {"meta": True, "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                "seeds": args.seeds, "jobs": args.jobs, "optuna_points": args.optuna_points}
        out.write(json.dumps(meta) + "\n")
        out.flush()
    same = args.optuna_points == "hpo"
    methods = [m for m in (*HPO_METHODS, *OPTUNA_METHODS) if args.methods is None or m in args.methods.split(",")]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    tasks = [(p, m, s, work, same) for s in seeds for p in args.problems.split(",") for m in methods]
    records = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for record in pool.map(one, tasks):
            records.append(record)
            print(json.dumps(record), file=sys.stderr, flush=True)
            if out:
                out.write(json.dumps(record) + "\n")
                out.flush()
    print(render(records, {"seeds": args.seeds, "jobs": args.jobs}), end="")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
