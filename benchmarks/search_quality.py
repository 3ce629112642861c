"""Benchmark 1: search quality of random, rbfopt (ours) and Optuna's TPE, side by side.

Branin (2 dimensions, 30 trials) and Hartmann6 (6 dimensions, 60 trials), several
seeds; the table gives the median over seeds of the best objective found (both
functions are minimized; lower is better).

Modes
    ``--mode engine`` (the issue's benchmark): for each function a folder with a tiny
    trial program (reads ``config.json``, writes ``$RESULT_DIR/val_dict_list.json`` as
    ``[{"steps": 0, "value": y}]``) and one manifest per method; ``hpo run MANIFEST
    --results DIR --seed N --quiet --json`` runs each seed as a subprocess, every trial
    a real process; the best is read with ``hpo results DIR --format json``. Optuna's
    TPE (``TPESampler(multivariate=True, seed=N)``) is driven by ask/tell here and runs
    the same program as a subprocess per trial, in a folder laid out the same way.
    ``--mode direct``: the optimizers' ask/tell in-process on the same functions
    (no processes; always works, and isolates the optimizers from the engine).

Usage::

    python benchmarks/search_quality.py --mode engine --seeds 10 --jobs 2 --out results.json
    python benchmarks/search_quality.py --mode direct --seeds 10

Prints a markdown table (and, with ``--out``, writes every per-seed value as JSON).
"""

from __future__ import annotations

import argparse
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The objective functions, as the trial program runs them (pure Python: a fast process start).
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
'''

PROGRAM_TEMPLATE = '''"""A benchmark trial: read config.json, write $RESULT_DIR/val_dict_list.json."""
import json
import os
import sys
{objectives}

config = json.load(open("config.json"))
value = {{"branin": branin, "hartmann6": hartmann6}}[sys.argv[1]](**config)
result_dir = os.environ.get("RESULT_DIR", "result")
os.makedirs(result_dir, exist_ok=True)
with open(os.path.join(result_dir, "val_dict_list.json"), "w") as handle:
    json.dump([{{"steps": 0, "value": value}}], handle)
'''

_namespace: dict[str, Any] = {}
exec(OBJECTIVES_SOURCE, _namespace)  # the same code the trial program runs


@dataclass(frozen=True)
class Problem:
    name: str
    bounds: tuple[tuple[str, float, float], ...]
    trials: int
    optimum: float

    @property
    def function(self) -> Callable[..., float]:
        return _namespace[self.name]


PROBLEMS = {
    "branin": Problem("branin", (("x1", -5.0, 10.0), ("x2", 0.0, 15.0)), 30, 0.397887),
    "hartmann6": Problem("hartmann6", tuple((f"x{i}", 0.0, 1.0) for i in range(1, 7)), 60, -3.32237),
}
METHODS = ("random", "rbfopt", "tpe")
METHOD_TITLES = {"random": "random (ours)", "rbfopt": "rbfopt (ours)", "tpe": "Optuna TPE multivariate"}

#: Median best of 10 seeds with the libraries used directly (docs: /work/shared/reference/peers.md).
PEERS = {
    "branin": {"rbfopt": 0.4184, "random": 2.100, "tpe": 0.503},
    "hartmann6": {"rbfopt": -3.301, "random": -1.793, "tpe": -3.059},
}


# -- direct mode -------------------------------------------------------------------------------
def run_direct(problem: Problem, method: str, seed: int) -> dict[str, Any]:
    """One seed with the optimizer's ask/tell in this process."""
    started = time.perf_counter()
    if method == "tpe":
        best = _tpe(problem, seed, lambda params: problem.function(**params))
        return {"best": best, "seconds": time.perf_counter() - started}
    from hpo_engine.optimizers import make_optimizer
    from hpo_engine.manifest.search_space import DoubleRange, SearchSpace

    space = SearchSpace([DoubleRange(name, low, high) for name, low, high in problem.bounds])
    optimizer = make_optimizer(method, space, maximize=False, seed=seed, budget=problem.trials)
    best = math.inf
    ask_seconds = 0.0
    try:
        for _ in range(problem.trials):
            tick = time.perf_counter()
            point = optimizer.ask()
            ask_seconds += time.perf_counter() - tick
            value = problem.function(**point)
            best = min(best, value)
            optimizer.tell(point, value)
    finally:
        optimizer.close()
    return {"best": best, "seconds": time.perf_counter() - started, "ask_ms": 1000 * ask_seconds / problem.trials}


def _tpe(problem: Problem, seed: int, evaluate: Callable[[dict[str, float]], float | None]) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    distributions = {name: optuna.distributions.FloatDistribution(low, high) for name, low, high in problem.bounds}
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


# -- engine mode -------------------------------------------------------------------------------
def hpo_command() -> list[str]:
    """``hpo`` beside this interpreter, else ``python -m hpo_engine.cli``."""
    script = Path(sys.executable).with_name("hpo")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hpo_engine.cli"]


def manifest_text(problem: Problem, method: str) -> str:
    lines = [
        "settings:",
        f"  name: bench-{problem.name}-{method}",
        "training_references:",
        "- name: objective",
        "  training_definition_url: definition",
        f"  command: python3 objective.py {problem.name}",
        "  compute_configuration:",
        "    name: k80",
        "  hyper_parameters_optimization:",
        "    method:",
        f"      name: {method}",
        "      parameters:",
        "      - name: objective",
        "        string_value: value",
        "      - name: maximize_or_minimize",
        "        string_value: minimize",
        "      - name: num_optimizer_steps",
        f"        int_value: {problem.trials}",
        "    hyper_parameters:",
    ]
    for name, low, high in problem.bounds:
        lines += [f"    - name: {name}", "      double_range:", f"        min_value: {low}", f"        max_value: {high}"]
    return "\n".join(lines) + "\n"


def prepare(workdir: Path) -> None:
    """``definition/objective.py`` and one manifest per (function, engine method) in ``workdir``."""
    definition = workdir / "definition"
    definition.mkdir(parents=True, exist_ok=True)
    (definition / "objective.py").write_text(PROGRAM_TEMPLATE.format(objectives=OBJECTIVES_SOURCE))
    for problem in PROBLEMS.values():
        for method in ("random", "rbfopt"):
            (workdir / f"{problem.name}-{method}.yaml").write_text(manifest_text(problem, method))


def run_engine(problem: Problem, method: str, seed: int, workdir: Path) -> dict[str, Any]:
    """One seed through ``hpo run`` (random, rbfopt) or TPE with a subprocess per trial."""
    started = time.perf_counter()
    if method == "tpe":
        program = workdir / "definition" / "objective.py"
        trials_root = workdir / "tpe" / f"{problem.name}-s{seed}"
        counter = iter(range(10**9))

        def evaluate(params: dict[str, float]) -> float | None:
            folder = trials_root / str(next(counter))
            (folder / "result").mkdir(parents=True, exist_ok=True)
            (folder / "config.json").write_text(json.dumps(params))
            env = dict(os.environ, RESULT_DIR=str(folder / "result"))
            subprocess.run([sys.executable, str(program), problem.name], cwd=folder, env=env, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                rows = json.loads((folder / "result" / "val_dict_list.json").read_text())
                return float(rows[-1]["value"])
            except (OSError, ValueError, KeyError, IndexError):
                return None

        best = _tpe(problem, seed, evaluate)
        shutil.rmtree(trials_root, ignore_errors=True)
        return {"best": best, "seconds": time.perf_counter() - started}

    results = workdir / "results" / f"{problem.name}-{method}-s{seed}"
    shutil.rmtree(results, ignore_errors=True)
    manifest = workdir / f"{problem.name}-{method}.yaml"
    run = subprocess.run(
        [*hpo_command(), "run", str(manifest), "--results", str(results), "--seed", str(seed), "--quiet", "--json"],
        capture_output=True, text=True, check=False,
    )
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"hpo run failed ({run.returncode}): {run.stderr.strip()[-2000:]}\n{run.stdout[-2000:]}")
    summary = json.loads(run.stdout)
    shown = subprocess.run([*hpo_command(), "results", str(results), "--format", "json"], capture_output=True, text=True, check=False)
    if shown.returncode != 0:
        raise RuntimeError(f"hpo results failed ({shown.returncode}): {shown.stderr.strip()[-2000:]}")
    experiments = json.loads(shown.stdout)["experiments"]
    complete = [t["objective"] for e in experiments for t in e["trials"] if t.get("state") == "complete" and t.get("objective") is not None]
    reference = summary["references"][0]
    return {
        "best": min(complete) if complete else math.inf,
        "seconds": elapsed,
        "complete": len(complete),
        "summary_best": (reference.get("best") or {}).get("objective"),
    }


# -- the table ----------------------------------------------------------------------------------
def fmt(value: float) -> str:
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.3f}"


def table(records: dict[str, dict[str, list[dict[str, Any]]]], seeds: int) -> str:
    head = "| function (trials) | " + " | ".join(METHOD_TITLES[m] for m in METHODS) + " | optimum |"
    lines = [head, "|---" * (len(METHODS) + 2) + "|"]
    for name, by_method in records.items():
        problem = PROBLEMS[name]
        cells = []
        for method in METHODS:
            runs = by_method.get(method, [])
            cells.append(fmt(statistics.median(r["best"] for r in runs)) if runs else "-")
        lines.append(f"| {name} ({problem.trials}) | " + " | ".join(cells) + f" | {problem.optimum} |")
    lines.append("")
    lines.append(f"Median of the best objective over {seeds} seeds (lower is better).")
    lines.append("")
    lines.append("| function | method | median seconds per seed | seeds better than TPE | per-seed best |")
    lines.append("|---|---|---|---|---|")
    for name, by_method in records.items():
        tpe = [r["best"] for r in by_method.get("tpe", [])]
        for method in METHODS:
            runs = by_method.get(method, [])
            if not runs:
                continue
            wins = sum(r["best"] < t for r, t in zip(runs, tpe)) if tpe and method != "tpe" else None
            per_seed = ", ".join(fmt(r["best"]) for r in runs)
            seconds = statistics.median(r["seconds"] for r in runs)
            lines.append(f"| {name} | {method} | {seconds:.2f} | {'-' if wins is None else f'{wins}/{len(runs)}'} | {per_seed} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("direct", "engine"), default="direct")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. N-1 (default 10)")
    parser.add_argument("--functions", default="branin,hartmann6")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--jobs", type=int, default=1, help="seeds run at once (each run is serial; default 1)")
    parser.add_argument("--workdir", type=Path, default=None, help="engine mode: folder for manifests and results (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=None, help="write every per-seed result as JSON")
    args = parser.parse_args(argv)

    functions = [f for f in args.functions.split(",") if f]
    methods = [m for m in args.methods.split(",") if m]
    unknown = [f for f in functions if f not in PROBLEMS] + [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")

    temporary = None
    workdir = args.workdir
    if args.mode == "engine":
        if workdir is None:
            temporary = tempfile.TemporaryDirectory(prefix="hpo-bench-")
            workdir = Path(temporary.name)
        workdir.mkdir(parents=True, exist_ok=True)
        prepare(workdir)

    tasks = [(f, m, s) for f in functions for m in methods for s in range(args.seeds)]

    def one(task: tuple[str, str, int]) -> dict[str, Any]:
        f, m, s = task
        problem = PROBLEMS[f]
        result = run_direct(problem, m, s) if args.mode == "direct" else run_engine(problem, m, s, workdir)  # type: ignore[arg-type]
        print(f"{args.mode} {f} {m} seed {s}: best {result['best']:.5f} in {result['seconds']:.1f} s", file=sys.stderr, flush=True)
        return result

    started = time.time()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(one, tasks))
    records: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for (f, m, s), result in zip(tasks, results):
        records.setdefault(f, {}).setdefault(m, []).append({"seed": s, **result})

    text = table(records, args.seeds)
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
