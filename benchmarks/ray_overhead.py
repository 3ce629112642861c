"""Ray backend overhead per trial against the local backend, and throughput with 2 trials in flight.

100 trials of a program that exits at once run through the real engine (``run_reference``:
store, ``random`` optimizer, trial folders, metrics) on the local backend and on the Ray
backend, on one private local Ray cluster of ``--cpus`` CPUs (2) started once beforehand
(its start-up time is reported apart):

- cycle = median time between the starts of consecutive trials with ``--parallel 1``;
  Ray overhead per trial = Ray cycle minus local cycle (and the same with the means,
  total time / trials);
- throughput = trials per second with ``--parallel 1`` and ``--parallel 2``;
- for scale: the round trip of a Ray task that does nothing; and ``--sleeper-trials`` (20)
  trials of ``sleep 0.5`` once, where 2 trials in flight should double the throughput.

    python benchmarks/ray_overhead.py [--trials 100] [--repeat 3] [--cpus 2] [--sleeper-trials 20] [--json out.json]

Sets ``RAY_AUTH_MODE=disabled`` and keeps Ray's files in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import ray  # noqa: E402

from hpo_engine.runner.trial_state import TrialState  # noqa: E402
from hpo_engine.runner.scheduler import Reporter, RunOptions, run_reference  # noqa: E402
from hpo_engine.runner.store import ResultStore  # noqa: E402
from hpo_engine.manifest.validation import load_manifest  # noqa: E402

# The same manifest as the local benchmark (no compute_configuration: no GPU is requested).
from engine_overhead import write_manifest  # noqa: E402

PROGRAMS = {
    "shell: echo score=1": "echo score=1",
    "python3 -c print(score=1)": "python3 -c \"print('score=1')\"",
}
#: A trial that takes real time, to show what 2 trials in flight give when the trial dominates.
SLEEPER = ("shell: sleep 0.5; echo score=1", "sleep 0.5; echo score=1")


def run(command: str, trials: int, parallel: int, backend: str, folder: Path) -> dict[str, float]:
    manifest = load_manifest(write_manifest(folder, command, trials))
    reference = manifest.references[0]
    results = folder / f"results-{backend}-p{parallel}"
    options = RunOptions(results_root=results, parallel=parallel, backend=backend, poll_seconds=0.2)
    start = time.perf_counter()
    summary = run_reference(manifest, reference, options, reporter=Reporter())
    total = time.perf_counter() - start
    assert summary.count(TrialState.COMPLETE) == trials, summary.message
    with ResultStore.open(summary.folder) as store:
        spans = sorted((t.started_at, t.ended_at) for t in store.trials())
    gaps = [b[0] - a[0] for a, b in zip(spans, spans[1:])]
    return {"total": total, "per_trial": total / trials, "median_gap": statistics.median(gaps)}


def noop_round_trip(count: int = 200) -> float:
    @ray.remote
    def noop() -> None:
        return None

    ray.get(noop.remote())
    times = []
    for _ in range(count):
        start = time.perf_counter()
        ray.get(noop.remote())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; medians are reported")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the private local Ray cluster")
    parser.add_argument("--sleeper-trials", type=int, default=20, help="trials of `sleep 0.5` (0: skip)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    temp_dir = tempfile.mkdtemp(prefix="hpo-ray-bench-", dir="/tmp")
    start = time.perf_counter()
    ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, log_to_driver=False,
             logging_level="ERROR", _temp_dir=temp_dir)
    cluster_start = time.perf_counter() - start
    report = {
        "trials": args.trials, "repeat": args.repeat, "cluster_cpus": args.cpus, "machine_cpus": os.cpu_count(),
        "python": sys.version.split()[0], "ray": ray.__version__, "cluster_start_s": cluster_start,
        "noop_task_round_trip_ms": 1000 * noop_round_trip(), "programs": {},
    }
    print(f"Ray {ray.__version__}: local cluster of {args.cpus} CPUs started in {cluster_start:.1f} s; "
          f"no-op task round trip {report['noop_task_round_trip_ms']:.2f} ms", flush=True)
    try:
        plan = [(label, command, args.trials, args.repeat) for label, command in PROGRAMS.items()]
        if args.sleeper_trials:
            plan.append((*SLEEPER, args.sleeper_trials, 1))
        for label, command, trials, repeat in plan:
            rows: dict[str, list[float]] = {}
            for _ in range(repeat):
                folder = Path(tempfile.mkdtemp(prefix="hpo-ray-overhead-"))
                try:
                    for backend in ("local", "ray"):
                        for parallel in (1, 2):
                            numbers = run(command, trials, parallel, backend, folder)
                            for key, value in numbers.items():
                                rows.setdefault(f"{backend}_p{parallel}_{key}", []).append(value)
                finally:
                    shutil.rmtree(folder, ignore_errors=True)
            m = {key: statistics.median(values) for key, values in rows.items()}
            result = {
                "trials": trials,
                "repeat": repeat,
                "local_cycle_ms": 1000 * m["local_p1_median_gap"],
                "ray_cycle_ms": 1000 * m["ray_p1_median_gap"],
                "ray_overhead_median_ms": 1000 * (m["ray_p1_median_gap"] - m["local_p1_median_gap"]),
                "ray_overhead_mean_ms": 1000 * (m["ray_p1_per_trial"] - m["local_p1_per_trial"]),
                "local_p1_trials_per_s": trials / m["local_p1_total"],
                "local_p2_trials_per_s": trials / m["local_p2_total"],
                "ray_p1_trials_per_s": trials / m["ray_p1_total"],
                "ray_p2_trials_per_s": trials / m["ray_p2_total"],
                "ray_speedup_p2": m["ray_p1_total"] / m["ray_p2_total"],
                "runs": rows,
            }
            report["programs"][label] = result
            print(
                f"{label:28s} cycle local {result['local_cycle_ms']:6.1f} ms, ray {result['ray_cycle_ms']:6.1f} ms | "
                f"ray overhead median {result['ray_overhead_median_ms']:5.1f} ms, mean {result['ray_overhead_mean_ms']:5.1f} ms | "
                f"trials/s local {result['local_p1_trials_per_s']:5.1f} -> {result['local_p2_trials_per_s']:5.1f}, "
                f"ray {result['ray_p1_trials_per_s']:5.1f} -> {result['ray_p2_trials_per_s']:5.1f} "
                f"(x{result['ray_speedup_p2']:.2f} with 2 in flight)",
                flush=True,
            )
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
