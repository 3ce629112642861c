"""Baseline: RBFOpt's own parallel mode (``num_cpus`` > 1) against its own serial mode.

What the library itself keeps of its serial quality when it runs several evaluations at once,
the yardstick for ``hpo``'s parallel ``rbfopt`` (constant liar over the pending points). The
library is driven whole, as its documentation shows: ``RbfoptAlgorithm(settings, black_box)
.optimize()``, its own initial design, cycle, restarts and (in parallel) its own scheduler, which
runs the search steps and the evaluations in a ``multiprocessing`` pool of ``num_cpus`` workers
and stands in for each pending point with the model's prediction.

Settings as ``hpo`` runs the library here (no ``bonmin``/``ipopt``): ``algorithm='MSRSM'``,
``global_search_method='genetic'``, ``do_local_search=False``, ``rand_seed`` = the seed,
``max_evaluations`` = the problem's trials; the rest are the library's defaults.

Problems: those of ``benchmarks/search_quality.py`` (by default ``ackley5``, 50 evaluations),
in the coordinates ``hpo``'s rbfopt gives the library (each dimension's ``Encoding``: a power
range by its exponent, a step or integer range by its index, values as a categorical index).
In parallel every evaluation sleeps ``--eval-seconds`` (default 0.5 s) so that evaluations of
equal length overlap as real trials do (the serial result does not depend on timing: it runs
without the sleep).

Usage::

    python benchmarks/rbfopt_native_parallel.py --seeds 90 --parallel 1,4 --jobs 2 --out r.json

Prints the median and quartiles of the best value per seed and, for ``ackley5``, the number of
seeds that reach the global basin (best < 1). Not a test: not run by ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import search_quality  # noqa: E402  (the problems, shared with the search-quality benchmark)

class _Objective:
    """A picklable objective over the library's vector (the pool's workers call it): the vector is
    decoded by the problem's ``SearchSpace``, the coordinates ``hpo``'s rbfopt gives the library."""

    def __init__(self, problem: str, sleep: float) -> None:
        self.problem, self.sleep = problem, sleep
        self._space: Any = None  # built once in the process that evaluates (not pickled built)

    def __call__(self, x: Any) -> float:
        if self.sleep:
            time.sleep(self.sleep)
        problem = search_quality.PROBLEMS[self.problem]
        if self._space is None:
            self._space = search_quality.space_of(problem)
        return float(problem.function(**self._space.decode([float(v) for v in x])))


def run(problem_name: str, seed: int, cpus: int, eval_seconds: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """One library run; the best value, the evaluations made and the wall time in seconds.
    ``extra``: more ``RbfoptSettings`` keyword arguments."""
    import numpy as np
    import rbfopt

    problem = search_quality.PROBLEMS[problem_name]
    encodings = search_quality.space_of(problem).encodings
    if any(e.lower == e.upper for e in encodings):
        raise SystemExit(f"{problem_name}: a hyper-parameter with a single value is not supported here")
    objective = _Objective(problem_name, eval_seconds if cpus > 1 else 0.0)
    black_box = rbfopt.RbfoptUserBlackBox(
        len(encodings), np.array([e.lower for e in encodings], dtype=float), np.array([e.upper for e in encodings], dtype=float),
        np.array([e.var_type for e in encodings]), objective,
    )
    settings = rbfopt.RbfoptSettings(
        algorithm="MSRSM", global_search_method="genetic", do_local_search=False,
        max_evaluations=problem.trials, num_cpus=cpus, rand_seed=seed, print_solver_output=False, **(extra or {}),
    )
    tick = time.perf_counter()
    with open(os.devnull, "w") as sink:
        algorithm = rbfopt.RbfoptAlgorithm(settings, black_box)
        algorithm.set_output_stream(sink)
        best, _, _, evaluations, _ = algorithm.optimize()
    return {"problem": problem_name, "seed": seed, "cpus": cpus, "best": float(best),
            "evaluations": int(evaluations), "seconds": time.perf_counter() - tick}


def _task(args: tuple[str, int, int, float, dict[str, Any]]) -> dict[str, Any]:
    return run(*args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="ackley5")
    parser.add_argument("--seeds", type=int, default=30, help="seeds 0 .. N-1 (default 30)")
    parser.add_argument("--parallel", default="1,4", help="num_cpus values (default 1,4)")
    parser.add_argument("--eval-seconds", type=float, default=0.5, help="length of one evaluation in parallel runs")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once (default 1)")
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                        help="one more RbfoptSettings argument (a number or a string), e.g. refinement_frequency=1000")
    parser.add_argument("--out", type=Path, default=None, help="write every per-seed result as JSON")
    args = parser.parse_args(argv)
    extra = {}
    for item in args.setting:
        name, _, text = item.partition("=")
        try:
            extra[name] = json.loads(text)
        except json.JSONDecodeError:
            extra[name] = text
    tasks = [(p, s, int(c), args.eval_seconds, extra) for p in args.problems.split(",") for c in args.parallel.split(",") for s in range(args.seeds)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(_task, tasks))
    if args.out:
        args.out.write_text(json.dumps({"records": results}, indent=1))
    print("| problem | num_cpus | seeds | median best | quartiles | in the basin | median wall s |")
    print("|---|---|---|---|---|---|---|")
    for problem in args.problems.split(","):
        for cpus in args.parallel.split(","):
            rows = [r for r in results if r["problem"] == problem and r["cpus"] == int(cpus)]
            best = [r["best"] for r in rows]
            q1, _, q3 = statistics.quantiles(best, n=4)
            basin = f"{sum(b < 1 for b in best)} / {len(best)}" if problem == "ackley5" else "-"
            print(f"| {problem} | {cpus} | {len(rows)} | {statistics.median(best):.4f} | {q1:.4f} - {q3:.4f} | {basin} "
                  f"| {statistics.median(r['seconds'] for r in rows):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
