"""Benchmark 1: search quality of every method through the engine, side by side with Optuna.

Problems (all minimized; lower is better): Branin (2-D, 30 trials), Hartmann6 (6-D, 60),
``mixed`` (a continuous, a log-scaled, an integer and a categorical hyper-parameter, 40),
``kridge`` (an RBF kernel ridge classifier on scikit-learn's bundled breast-cancer data, read with
numpy so a trial is cheap; ridge ``alpha`` and kernel ``gamma`` on a log scale, 3-fold
cross-validated squared error, 30), ``svm`` (an RBF SVM on the same data, C and gamma on a log
scale, 3-fold cross-validated error, 20; a trial imports scikit-learn: ~1.3 s of CPU), ``ackley5`` (Ackley in 5-D with its optimum moved off the
centre of the box to (1.5, ..., 1.5), 50 trials; the centre is in rbfopt's initial design).

Ours (``--mode engine``): ``hpo run MANIFEST --seed N --parallel P --quiet --json`` per seed, every
trial a real process of the same tiny program (reads ``config.json``, writes
``$RESULT_DIR/val_dict_list.json``); the best is read with ``hpo results DIR --format json``.
Peers: Optuna's TPE (``TPESampler(multivariate=True, seed=N)``), Optuna's ``RandomSampler`` and,
when PyTorch is importable (``hpo`` does not install it), Optuna's Gaussian process
(``optuna-gp``: ``GPSampler(seed=N, deterministic_objective=True)``), driving the same program
directly by ask/tell, one subprocess per trial, serial.
``--mode direct``: our optimizers' ask/tell without processes per trial (``--parallel P`` simulated as P
slots of trials of equal length, the oldest finishing first); with ``--jobs`` the seeds run in
worker processes, never two in one process (RBFOpt seeds numpy's global random generator).

Usage::

    python benchmarks/search_quality.py --mode engine --seeds 10 --parallel 1,2,4 --out results.json

Prints markdown tables: median and interquartile range of the best over the seeds.
This is a benchmark, not a test: it is not run by ``make test``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The objective functions, as the trial program runs them (scikit-learn imported only by ``svm``).
OBJECTIVES_SOURCE = '''
import math

def branin(x1, x2):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10

_H6_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
_H6_P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886], [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
         [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650], [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]
_H6_ALPHA = [1.0, 1.2, 3.0, 3.2]

def hartmann6(x1, x2, x3, x4, x5, x6):
    x = (x1, x2, x3, x4, x5, x6)
    return -sum(alpha * math.exp(-sum(a * (xi - p) ** 2 for a, xi, p in zip(row, x, prow)))
                for alpha, row, prow in zip(_H6_ALPHA, _H6_A, _H6_P))

def mixed(x, lr, n, act):
    return (x - 1.2) ** 2 + ((n - 13) / 4) ** 2 + {"relu": 0.5, "tanh": 0.0, "sigmoid": 1.0}[act] + 0.5 * (math.log10(lr) + 3.3) ** 2

def ackley5(x1, x2, x3, x4, x5):
    z = [v - 1.5 for v in (x1, x2, x3, x4, x5)]
    return (-20 * math.exp(-0.2 * math.sqrt(sum(v * v for v in z) / 5))
            - math.exp(sum(math.cos(2 * math.pi * v) for v in z) / 5) + 20 + math.e)

_KRIDGE_DATA = []

def _kridge_data():
    """(targets, 3 folds, squared distances of the standardized rows), loaded once per process."""
    if not _KRIDGE_DATA:
        import importlib.util
        import os
        import numpy as np
        folder = importlib.util.find_spec("sklearn").submodule_search_locations[0]
        data = np.loadtxt(os.path.join(folder, "datasets", "data", "breast_cancer.csv"), delimiter=",", skiprows=1)
        X, y = data[:, :-1], 2.0 * data[:, -1] - 1.0
        X = (X - X.mean(axis=0)) / X.std(axis=0)
        norms = (X * X).sum(axis=1)
        squared = np.maximum(norms[:, None] + norms[None, :] - 2.0 * X @ X.T, 0.0)
        _KRIDGE_DATA.append((y, np.array_split(np.random.default_rng(0).permutation(len(y)), 3), squared))
    return _KRIDGE_DATA[0]

def kridge(alpha, gamma):
    """3-fold cross-validated squared error of an RBF kernel ridge classifier (targets -1/+1) on
    scikit-learn's bundled breast-cancer table, read with numpy (no scikit-learn import: a cheap trial)."""
    import numpy as np
    y, folds, squared = _kridge_data()
    kernel = np.exp(-gamma * squared)
    errors = []
    for k, test in enumerate(folds):
        train = np.concatenate([f for j, f in enumerate(folds) if j != k])
        coef = np.linalg.solve(kernel[np.ix_(train, train)] + alpha * np.eye(len(train)), y[train])
        errors.append(float(np.mean((kernel[np.ix_(test, train)] @ coef - y[test]) ** 2)))
    return float(np.mean(errors))

def svm(C, gamma):
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), SVC(C=C, gamma=gamma))
    return 1.0 - float(cross_val_score(model, X, y, cv=3).mean())
'''

PROGRAM_TEMPLATE = '''"""A benchmark trial: read config.json, write $RESULT_DIR/val_dict_list.json."""
import json
import os
import sys
{objectives}

config = json.load(open("config.json"))
value = globals()[sys.argv[1]](**config)
result_dir = os.environ.get("RESULT_DIR", "result")
os.makedirs(result_dir, exist_ok=True)
with open(os.path.join(result_dir, "val_dict_list.json"), "w") as handle:
    json.dump([{{"steps": 0, "value": value}}], handle)
'''

_namespace: dict[str, Any] = {}
exec(OBJECTIVES_SOURCE, _namespace)  # the same code the trial program runs


def _range(name: str, low: float, high: float, **extra: Any) -> dict[str, Any]:
    kind = "int_range" if extra.pop("integer", False) else "double_range"
    return {"name": name, kind: {"min_value": low, "max_value": high, **extra}}


@dataclass(frozen=True)
class Problem:
    name: str
    hyper_parameters: tuple[dict[str, Any], ...]  # manifest form
    trials: int
    optimum: float | None

    @property
    def function(self) -> Callable[..., float]:
        return _namespace[self.name]


PROBLEMS = {
    "branin": Problem("branin", (_range("x1", -5.0, 10.0), _range("x2", 0.0, 15.0)), 30, 0.397887),
    "hartmann6": Problem("hartmann6", tuple(_range(f"x{i}", 0.0, 1.0) for i in range(1, 7)), 60, -3.32237),
    "mixed": Problem(
        "mixed",
        (_range("x", -3.0, 3.0), _range("lr", -5, 0, power=10), _range("n", 1, 20, integer=True),
         {"name": "act", "string_values": ["relu", "tanh", "sigmoid"]}),
        40,
        0.0,
    ),
    "kridge": Problem("kridge", (_range("alpha", -6, 1, power=10), _range("gamma", -5, 1, power=10)), 30, None),
    "svm": Problem("svm", (_range("C", -2, 4, power=10), _range("gamma", -5, 0, power=10)), 20, None),
    "ackley5": Problem("ackley5", tuple(_range(f"x{i}", -5.0, 5.0) for i in range(1, 6)), 50, 0.0),
}
OURS = ("random", "rbfopt", "tpe", "bayesian", "hyperband")
PEERS = ("optuna-tpe", "optuna-random", "optuna-gp")
TITLES = {"random": "random", "rbfopt": "rbfopt", "tpe": "tpe", "bayesian": "bayesian", "hyperband": "hyperband",
          "optuna-tpe": "Optuna TPE (direct)", "optuna-random": "Optuna random (direct)",
          "optuna-gp": "Optuna GP (direct)"}


def torch_available() -> bool:
    """``optuna-gp`` (Optuna's ``GPSampler``) needs PyTorch, which ``hpo`` does not install."""
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def space_of(problem: Problem) -> Any:
    from hpo_engine.manifest.search_space import SearchSpace

    return SearchSpace.from_specs(list(problem.hyper_parameters))


# -- peers: Optuna driving the program directly -------------------------------------------------
def optuna_distributions(problem: Problem) -> dict[str, Any]:
    """Optuna's distributions of the problem (power ranges log-scaled, integers as ints, values categorical)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    result: dict[str, Any] = {}
    for spec in problem.hyper_parameters:
        if "string_values" in spec:
            result[spec["name"]] = CategoricalDistribution(spec["string_values"])
        elif "int_range" in spec:
            result[spec["name"]] = IntDistribution(spec["int_range"]["min_value"], spec["int_range"]["max_value"])
        else:
            r = spec["double_range"]
            if "power" in r:
                result[spec["name"]] = FloatDistribution(r["power"] ** r["min_value"], r["power"] ** r["max_value"], log=True)
            else:
                result[spec["name"]] = FloatDistribution(r["min_value"], r["max_value"])
    return result


def run_optuna(problem: Problem, peer: str, seed: int, evaluate: Callable[[dict[str, Any]], float | None]) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if peer == "optuna-tpe":
        sampler: Any = optuna.samplers.TPESampler(seed=seed, multivariate=True)
    elif peer == "optuna-gp":
        sampler = optuna.samplers.GPSampler(seed=seed, deterministic_objective=True)
    else:
        sampler = optuna.samplers.RandomSampler(seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    distributions = optuna_distributions(problem)
    best = math.inf
    for _ in range(problem.trials):
        trial = study.ask(distributions)
        value = evaluate(dict(trial.params))
        if value is None:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        best = min(best, value)
        study.tell(trial, value)
    return best


def program_evaluator(problem: Problem, program: Path, root: Path) -> Callable[[dict[str, Any]], float | None]:
    counter = iter(range(10**9))

    def evaluate(params: dict[str, Any]) -> float | None:
        folder = root / str(next(counter))
        (folder / "result").mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps(params))
        env = dict(os.environ, RESULT_DIR=str(folder / "result"))
        subprocess.run([sys.executable, str(program), problem.name], cwd=folder, env=env, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return float(json.loads((folder / "result" / "val_dict_list.json").read_text())[-1]["value"])
        except (OSError, ValueError, KeyError, IndexError):
            return None

    return evaluate


# -- ours --------------------------------------------------------------------------------------
def run_direct(problem: Problem, method: str, seed: int, parallel: int = 1) -> dict[str, Any]:
    """One seed with our optimizer's ask/tell in this process: ``parallel`` slots of trials of equal
    length (every free slot is asked for a point; the oldest pending trial finishes first)."""
    from hpo_engine.optimizers import make_optimizer

    started = time.perf_counter()
    optimizer = make_optimizer(method, space_of(problem), maximize=False, seed=seed, budget=problem.trials)
    best = math.inf
    pending: list[dict[str, Any]] = []
    asked = 0
    try:
        while asked < problem.trials or pending:
            while asked < problem.trials and len(pending) < parallel:
                pending.append(optimizer.ask())
                asked += 1
            point = pending.pop(0)
            value = problem.function(**point)
            best = min(best, value)
            optimizer.tell(point, value)
    finally:
        optimizer.close()
    return {"best": best, "seconds": time.perf_counter() - started}


def direct_task(task: tuple[str, str, int, int]) -> dict[str, Any]:
    """One seed of ``--mode direct`` (problem name, method, seed, parallel), in a worker process:
    ours through :func:`run_direct`, a peer through :func:`run_optuna` calling the function."""
    name, method, seed, parallel = task
    problem = PROBLEMS[name]
    if method in OURS:
        return run_direct(problem, method, seed, parallel)
    started = time.perf_counter()
    return {"best": run_optuna(problem, method, seed, lambda p: problem.function(**p)), "seconds": time.perf_counter() - started}


def hpo_command() -> list[str]:
    """``hpo`` beside this interpreter, else ``python -m hpo_engine.cli``."""
    script = Path(sys.executable).with_name("hpo")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hpo_engine.cli"]


def manifest_data(problem: Problem, method: str) -> dict[str, Any]:
    return {
        "settings": {"name": f"bench-{problem.name}-{method}"},
        "training_references": [{
            "name": "objective",
            "training_definition_url": "definition",
            "command": f"{sys.executable} objective.py {problem.name}",
            "hyper_parameters_optimization": {
                "method": {"name": method, "parameters": [
                    {"name": "objective", "string_value": "value"},
                    {"name": "maximize_or_minimize", "string_value": "minimize"},
                    {"name": "num_optimizer_steps", "int_value": problem.trials},
                    # the programs report one step: Hyperband has nothing to stop early (random sampling)
                    *([{"name": "max_resource", "int_value": 1}] if method == "hyperband" else []),
                ]},
                "hyper_parameters": list(problem.hyper_parameters),
            },
        }],
    }


def prepare(workdir: Path, problems: Sequence[Problem], methods: Sequence[str]) -> None:
    """``definition/objective.py`` and one manifest per (problem, method) in ``workdir`` (JSON is YAML)."""
    definition = workdir / "definition"
    definition.mkdir(parents=True, exist_ok=True)
    (definition / "objective.py").write_text(PROGRAM_TEMPLATE.format(objectives=OBJECTIVES_SOURCE))
    for problem in problems:
        for method in methods:
            (workdir / f"{problem.name}-{method}.yaml").write_text(json.dumps(manifest_data(problem, method), indent=1) + "\n")


def run_engine(problem: Problem, method: str, seed: int, parallel: int, workdir: Path) -> dict[str, Any]:
    """One seed through ``hpo run`` (ours) or an Optuna peer running the program per trial."""
    started = time.perf_counter()
    if method in PEERS:
        root = workdir / "peers" / f"{problem.name}-{method}-s{seed}"
        best = run_optuna(problem, method, seed, program_evaluator(problem, workdir / "definition" / "objective.py", root))
        shutil.rmtree(root, ignore_errors=True)
        return {"best": best, "seconds": time.perf_counter() - started}
    results = workdir / "results" / f"{problem.name}-{method}-p{parallel}-s{seed}"
    shutil.rmtree(results, ignore_errors=True)
    command = [*hpo_command(), "run", str(workdir / f"{problem.name}-{method}.yaml"), "--results", str(results),
               "--seed", str(seed), "--parallel", str(parallel), "--quiet", "--json"]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"hpo run failed ({run.returncode}): {run.stderr.strip()[-2000:]}\n{run.stdout[-2000:]}")
    shown = subprocess.run([*hpo_command(), "results", str(results), "--format", "json"], capture_output=True, text=True, check=False)
    if shown.returncode != 0:
        raise RuntimeError(f"hpo results failed ({shown.returncode}): {shown.stderr.strip()[-2000:]}")
    trials = [t for e in json.loads(shown.stdout)["experiments"] for t in e["trials"]]
    complete = [t["objective"] for t in trials if t.get("state") == "complete" and t.get("objective") is not None]
    shutil.rmtree(results, ignore_errors=True)
    return {"best": min(complete) if complete else math.inf, "seconds": elapsed, "complete": len(complete)}


# -- the tables ---------------------------------------------------------------------------------
def fmt(value: float) -> str:
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.3f}"


def summary(values: Sequence[float]) -> str:
    """``median [q1, q3]`` of the values."""
    if len(values) < 2:
        return fmt(values[0]) if values else "-"
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return f"{fmt(statistics.median(values))} [{fmt(q1)}, {fmt(q3)}]"


def tables(records: dict[str, dict[str, list[dict[str, Any]]]], seeds: int) -> str:
    columns = sorted({c for by in records.values() for c in by}, key=lambda c: (c in PEERS, c))
    lines = ["| problem (trials) | " + " | ".join(columns) + " | optimum |", "|---" * (len(columns) + 2) + "|"]
    for name, by_column in records.items():
        problem = PROBLEMS[name]
        cells = [summary([r["best"] for r in by_column.get(c, [])]) for c in columns]
        lines.append(f"| {name} ({problem.trials}) | " + " | ".join(cells) + f" | {problem.optimum if problem.optimum is not None else '-'} |")
    lines += ["", f"Median [first quartile, third quartile] of the best objective over {seeds} seeds (lower is better).", "",
              "| problem | column | median seconds per seed | seeds better than Optuna TPE |", "|---|---|---|---|"]
    for name, by_column in records.items():
        tpe = [r["best"] for r in by_column.get("optuna-tpe", [])]
        for column in columns:
            runs = by_column.get(column, [])
            if runs:
                wins = f"{sum(r['best'] < t for r, t in zip(runs, tpe))}/{len(runs)}" if tpe and column != "optuna-tpe" else "-"
                lines.append(f"| {name} | {column} | {statistics.median(r['seconds'] for r in runs):.2f} | {wins} |")
    return "\n".join(lines)


def records_from_logs(paths: Sequence[Path]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The per-seed lines a run writes to stderr (``MODE PROBLEM COLUMN seed N: best X in Y s``), as
    records; a column run through the engine is named ``COLUMN (engine)``. Reads an unfinished run too."""
    import re

    pattern = re.compile(r"^(direct|engine) (\S+) (.+) seed (\d+): best (\S+) in (\S+) s$")
    records: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            match = pattern.match(line.strip())
            if match:
                mode, problem, column, seed, best, seconds = match.groups()
                name = f"{column} (engine)" if mode == "engine" else column
                records.setdefault(problem, {}).setdefault(name, []).append({"seed": int(seed), "best": float(best), "seconds": float(seconds)})
    for by_column in records.values():
        for runs in by_column.values():
            runs.sort(key=lambda r: r["seed"])
    return records


def log_tables(records: dict[str, dict[str, list[dict[str, Any]]]]) -> str:
    """One table per problem: median [q1, q3] of the best, seeds run, seeds better than Optuna TPE (same seed)."""
    lines: list[str] = []
    for name, by_column in records.items():
        tpe = {r["seed"]: r["best"] for r in by_column.get("optuna-tpe", by_column.get("optuna-tpe p1", []))}
        lines += [f"### {name} ({PROBLEMS[name].trials} trials)", "",
                  "| column | median [q1, q3] of the best | seeds | better than Optuna TPE (same seed) | median s per seed |",
                  "|---|---|---|---|---|"]
        for column in sorted(by_column, key=lambda c: (c.startswith("optuna"), c)):
            runs = by_column[column]
            paired = [r["best"] < tpe[r["seed"]] for r in runs if r["seed"] in tpe]
            wins = f"{sum(paired)}/{len(paired)}" if paired and not column.startswith("optuna-tpe") else "-"
            lines.append(f"| {column} | {summary([r['best'] for r in runs])} | {len(runs)} | {wins} | "
                         f"{statistics.median(r['seconds'] for r in runs):.1f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("direct", "engine"), default="engine")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. N-1 (default 10)")
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--methods", default=",".join(OURS + PEERS[:2] + (("optuna-gp",) if torch_available() else ())),
                        help="comma list; optuna-gp (Optuna's GPSampler) needs PyTorch and is in the default only when it is importable")
    parser.add_argument("--parallel", default="1", help="--parallel values of ours, e.g. 1,2,4 (peers run serially; direct mode simulates the slots)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once (default 1)")
    parser.add_argument("--workdir", type=Path, default=None, help="engine mode: folder for manifests and results")
    parser.add_argument("--out", type=Path, default=None, help="write every per-seed result as JSON")
    parser.add_argument("--from-logs", type=Path, nargs="+", default=None, help="print the tables of these runs' stderr logs, run nothing")
    args = parser.parse_args(argv)
    if args.from_logs:
        print(log_tables(records_from_logs(args.from_logs)))
        return 0

    problems = [PROBLEMS[p] for p in args.problems.split(",") if p]
    methods = [m for m in args.methods.split(",") if m]
    unknown = [m for m in methods if m not in OURS + PEERS]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")
    if "optuna-gp" in methods and not torch_available():
        parser.error("optuna-gp needs PyTorch: pip install torch==2.13.0 (a CPU build), or put a folder holding it on PYTHONPATH")
    parallels = [int(p) for p in args.parallel.split(",") if p]
    temporary = None
    workdir = args.workdir
    if args.mode == "engine":
        if workdir is None:
            temporary = tempfile.TemporaryDirectory(prefix="hpo-bench-")
            workdir = Path(temporary.name)
        workdir.mkdir(parents=True, exist_ok=True)
        prepare(workdir, problems, [m for m in methods if m in OURS])

    tasks = []
    for problem in problems:
        for method in methods:
            for parallel in ([1] if method in PEERS else parallels):
                column = method if method in PEERS or len(parallels) == 1 else f"{method} p{parallel}"
                tasks += [(problem, method, parallel, column, seed) for seed in range(args.seeds)]

    def one(task: tuple[Problem, str, int, str, int]) -> dict[str, Any]:
        problem, method, parallel, column, seed = task
        if runs is not None:
            result = runs.submit(direct_task, (problem.name, method, seed, parallel)).result()
        else:
            result = run_engine(problem, method, seed, parallel, workdir)  # type: ignore[arg-type]
        print(f"{args.mode} {problem.name} {column} seed {seed}: best {result['best']:.5f} in {result['seconds']:.1f} s", file=sys.stderr, flush=True)
        return result

    started = time.time()
    # Direct runs go to worker processes: RBFOpt seeds numpy's global random generator, so two of its
    # runs on threads of one process would draw from each other's stream (not reproducible).
    runs = ProcessPoolExecutor(max_workers=max(1, args.jobs)) if args.mode == "direct" else None
    with runs or contextlib.nullcontext(), ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(one, tasks))
    records: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for (problem, _m, _p, column, seed), result in zip(tasks, results):
        records.setdefault(problem.name, {}).setdefault(column, []).append({"seed": seed, **result})
    text = tables(records, args.seeds)
    print(text)
    print(f"\nmode {args.mode}, {args.seeds} seeds, {time.time() - started:.0f} s wall, jobs {args.jobs}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs")
    if args.out:
        args.out.write_text(json.dumps({"mode": args.mode, "seeds": args.seeds, "records": records, "table": text}, indent=2))
    if temporary is not None:
        temporary.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
