"""Benchmark: seconds per proposal (``ask``) as trials accumulate, ours side by side with Optuna's TPE.

A 5-D problem (Ackley, optimum off-centre, instant to evaluate in this process) for
``--trials`` trials (default 300), serial ask/tell. For each method: the median, 90th
percentile and maximum of the ask times, overall and per block of 50 trials (the growth). The
method's library is imported before the first ask, timed apart (``import s``: a start-up cost,
not a proposal; rbfopt imports pyomo).
The peer is Optuna's ``TPESampler(multivariate=True)`` driven by ask/tell in the same process.

Usage::

    python benchmarks/proposal_cost.py --trials 300 --methods rbfopt,tpe,bayesian,optuna-tpe

Not a test: not run by ``make test``.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_quality import PROBLEMS, optuna_distributions, space_of  # noqa: E402

BLOCK = 50
#: The library each method imports on its first use (timed apart from the asks: a start-up cost).
LIBRARIES = {"rbfopt": "rbfopt", "tpe": "optuna", "bayesian": "skopt", "optuna-tpe": "optuna"}


def import_seconds(method: str) -> float:
    """Seconds to import the method's library in this process (0 when it was already imported)."""
    import importlib

    tick = time.perf_counter()
    if method in LIBRARIES:
        importlib.import_module(LIBRARIES[method])
    return time.perf_counter() - tick


def ask_times(method: str, trials: int, seed: int) -> tuple[list[float], float]:
    """Seconds of each ask, and the best value found."""
    problem = PROBLEMS["ackley5"]
    times: list[float] = []
    best = math.inf
    if method == "optuna-tpe":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed, multivariate=True))
        distributions = optuna_distributions(problem)
        for _ in range(trials):
            tick = time.perf_counter()
            trial = study.ask(distributions)
            times.append(time.perf_counter() - tick)
            value = problem.function(**trial.params)
            best = min(best, value)
            study.tell(trial, value)
        return times, best
    from hpo_engine.optimizers import make_optimizer

    optimizer = make_optimizer(method, space_of(problem), maximize=False, seed=seed, budget=trials)
    try:
        for _ in range(trials):
            tick = time.perf_counter()
            point = optimizer.ask()
            times.append(time.perf_counter() - tick)
            value = problem.function(**point)
            best = min(best, value)
            optimizer.tell(point, value)
    finally:
        optimizer.close()
    return times, best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", default="rbfopt,tpe,bayesian,optuna-tpe")
    args = parser.parse_args(argv)
    print(f"| method | import s | median s | p90 s | max s | best | " + " | ".join(f"median/max {i + 1}-{min(i + BLOCK, args.trials)}" for i in range(0, args.trials, BLOCK)) + " |")
    print("|---" * (6 + math.ceil(args.trials / BLOCK)) + "|")
    for method in args.methods.split(","):
        imported = import_seconds(method)
        times, best = ask_times(method, args.trials, args.seed)
        p90 = statistics.quantiles(times, n=10)[-1]
        blocks = [times[i : i + BLOCK] for i in range(0, len(times), BLOCK)]
        cells = " | ".join(f"{statistics.median(b):.3f}/{max(b):.3f}" for b in blocks)
        print(f"| {method} | {imported:.3f} | {statistics.median(times):.3f} | {p90:.3f} | {max(times):.3f} | {best:.3f} | {cells} |", flush=True)
    print(f"\n{args.trials} trials, seed {args.seed}, Python {platform.python_version()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
