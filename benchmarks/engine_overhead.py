"""Benchmark 2: engine overhead per trial, and throughput with ``--parallel 2``.

100 trials of a program that exits at once, run through the real engine (``run_reference``:
store, optimizer ``random``, LocalBackend, trial folders, metrics) and bare (the same
command through ``/bin/sh -c`` in a fresh folder, one after the other):

- overhead per trial = median time between consecutive trial starts (parallel 1)
  minus the bare command's median run time; also the mean (total / trials) minus the bare mean;
- throughput = trials per second with parallel 1 and parallel 2; the speed-up is the median over
  repeats of each repeat's ratio (both runs of a repeat see the same machine load);
- engine CPU = CPU time of the hpo process itself (all its threads, not the trials) per trial.

Side by side: a minimal Optuna ask/tell loop (``RandomSampler``) running the same command per
trial in a fresh folder with its ``config.json`` (the peer of the issue: engine cycle minus the
loop's cycle, median).

Three programs: ``echo score=1`` (a shell builtin: pure overhead),
``python3 -c "print('score=1')"`` (a real interpreter start) and ``sleep 0.1; echo score=1``
(a trial that takes time without using a CPU: shows how well two slots are kept busy).

    python benchmarks/engine_overhead.py [--trials 100] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hpo_engine.runner.scheduler import Reporter, RunOptions, run_reference, trial_environment  # noqa: E402
from hpo_engine.runner.store import ResultStore  # noqa: E402
from hpo_engine.manifest.validation import load_manifest  # noqa: E402

PROGRAMS = {
    "shell: echo score=1": "echo score=1",
    "python3 -c print(score=1)": "python3 -c \"print('score=1')\"",
    "sleep 0.1; echo score=1": "sleep 0.1; echo score=1",
}


def write_manifest(folder: Path, command: str, trials: int) -> Path:
    manifest = {
        "settings": {"name": "overhead"},
        "training_references": [{
            "name": "ref",
            "training_definition_url": "definition",
            "command": command,
            "hyper_parameters_optimization": {
                "method": {"name": "random", "parameters": [
                    {"name": "objective", "string_value": "score"},
                    {"name": "maximize_or_minimize", "string_value": "maximize"},
                    {"name": "num_optimizer_steps", "int_value": trials},
                    {"name": "random_seed", "int_value": 1},
                ]},
                "hyper_parameters": [{"name": "x", "double_range": {"min_value": 0.0, "max_value": 1.0}}],
            },
        }],
    }
    (folder / "definition").mkdir(exist_ok=True)
    (folder / "definition" / "README").write_text("an empty training definition\n")
    path = folder / "overhead.yaml"
    path.write_text(json.dumps(manifest))
    return path


def bare(command: str, trials: int, folder: Path) -> list[float]:
    env = dict(os.environ, **trial_environment())
    times = []
    for number in range(trials):
        work = folder / "bare" / str(number)
        work.mkdir(parents=True)
        start = time.perf_counter()
        subprocess.run(command, shell=True, cwd=work, env=env, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return times


def optuna_loop(command: str, trials: int, folder: Path) -> list[float]:
    """The peer: a minimal Optuna ask/tell loop running the same command per trial, in a fresh
    folder with its ``config.json``; returns the median-ready intervals between trial starts."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1))
    distributions = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}
    env = dict(os.environ, **trial_environment())
    starts = []
    for number in range(trials):
        trial = study.ask(distributions)
        work = folder / "optuna" / str(number)
        work.mkdir(parents=True)
        (work / "config.json").write_text(json.dumps(trial.params))
        starts.append(time.perf_counter())
        subprocess.run(command, shell=True, cwd=work, env=env, stdout=subprocess.DEVNULL, check=True)
        study.tell(trial, 1.0)
    return [b - a for a, b in zip(starts, starts[1:])]


def engine(command: str, trials: int, parallel: int, folder: Path) -> dict[str, float]:
    manifest = load_manifest(write_manifest(folder, command, trials))
    reference = manifest.references[0]
    results = folder / f"results-p{parallel}"
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    summary = run_reference(manifest, reference, RunOptions(results_root=results, parallel=parallel), reporter=Reporter())
    total = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    engine_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert summary.count(summary.trials[0].state.__class__.COMPLETE) == trials, summary.message
    with ResultStore.open(summary.folder) as store:
        spans = sorted((t.started_at, t.ended_at) for t in store.trials())
    gaps = [b[0] - a[0] for a, b in zip(spans, spans[1:])]
    between = [b[0] - a[1] for a, b in zip(spans, spans[1:])]
    inside = [end - start for start, end in spans]
    return {
        "total": total,
        "per_trial": total / trials,
        "engine_cpu_per_trial": engine_cpu / trials,
        "median_gap": statistics.median(gaps),
        "median_between": statistics.median(between),
        "median_inside": statistics.median(inside),
    }


def launch_cpu(trials: int, folder: Path) -> dict[str, float]:
    """CPU per trial of the processes that run an ``echo score=1`` trial (launcher, fork server, shell)
    and of this process, through ``start_process`` / ``wait_process`` only (no engine around)."""
    from hpo_engine.runner.trials.process import start_process, wait_process

    def server_ticks() -> int:  # the fork server's CPU and that of the launchers it reaped (where there is one)
        try:
            from hpo_engine.runner.trials.spawner import SERVERS
        except ImportError:
            return 0
        fields = Path(f"/proc/{SERVERS.server().process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(value) for value in fields[11:15])  # utime stime cutime cstime

    env = dict(os.environ)
    folder.mkdir(parents=True, exist_ok=True)

    def one(number: int) -> None:
        work = folder / str(number)
        work.mkdir()
        process = start_process("echo score=1", cwd=work, env=env, stdout_path=work / "stdout.log", stderr_path=work / "stderr.log", exit_status_path=work / "hpo-exit.json")
        wait_process(process)

    one(-1)  # the fork server starts here, not in the measurement
    tick = os.sysconf("SC_CLK_TCK")
    before, children, server = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN), server_ticks()
    start = time.perf_counter()
    for number in range(trials):
        one(number)
    wall = time.perf_counter() - start
    after, children_after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    others = (children_after.ru_utime - children.ru_utime) + (children_after.ru_stime - children.ru_stime) + (server_ticks() - server) / tick
    return {"launch_wall_ms": 1000 * wall / trials, "launch_cpu_engine_ms": 1000 * own / trials, "launch_cpu_trial_processes_ms": 1000 * others / trials}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; medians are reported")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--only", choices=sorted(PROGRAMS), action="append", help="measure only this program (repeatable)")
    parser.add_argument("--launch-cpu", type=int, default=0, metavar="N", help="also measure the CPU of launching N trials")
    args = parser.parse_args()
    warm_up = Path(tempfile.mkdtemp(prefix="hpo-overhead-warm-up-"))
    try:  # import everything a run needs once, so that no measurement pays for it
        engine("echo score=1", 5, 1, warm_up)
    finally:
        shutil.rmtree(warm_up, ignore_errors=True)
    report = {
        "trials": args.trials, "repeat": args.repeat, "cpus": os.cpu_count(), "python": sys.version.split()[0],
        "load_average_before": os.getloadavg(), "programs": {},
    }
    for label, command in PROGRAMS.items():
        if args.only and label not in args.only:
            continue
        rows = {
            "bare_median": [], "bare_mean": [], "p1_median_gap": [], "p1_per_trial": [], "p1_total": [], "p2_total": [],
            "p1_between": [], "p1_inside": [], "speedup": [], "engine_cpu": [], "optuna_cycle": [],
        }
        for _ in range(args.repeat):
            folder = Path(tempfile.mkdtemp(prefix="hpo-overhead-"))
            try:
                bare_times = bare(command, args.trials, folder)
                optuna_gaps = optuna_loop(command, args.trials, folder)
                p1 = engine(command, args.trials, 1, folder)
                p2 = engine(command, args.trials, 2, folder)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            rows["bare_median"].append(statistics.median(bare_times))
            rows["bare_mean"].append(statistics.fmean(bare_times))
            rows["optuna_cycle"].append(statistics.median(optuna_gaps))
            rows["p1_median_gap"].append(p1["median_gap"])
            rows["p1_per_trial"].append(p1["per_trial"])
            rows["p1_total"].append(p1["total"])
            rows["p2_total"].append(p2["total"])
            rows["speedup"].append(p1["total"] / p2["total"])  # same conditions: the ratio of one repeat
            rows["engine_cpu"].append(p1["engine_cpu_per_trial"])
            rows["p1_between"].append(p1["median_between"])
            rows["p1_inside"].append(p1["median_inside"])
        m = {key: statistics.median(values) for key, values in rows.items()}
        result = {
            "bare_median_ms": 1000 * m["bare_median"],
            "engine_median_cycle_ms": 1000 * m["p1_median_gap"],
            "optuna_loop_cycle_ms": 1000 * m["optuna_cycle"],
            "engine_minus_optuna_ms": 1000 * (m["p1_median_gap"] - m["optuna_cycle"]),
            "overhead_median_ms": 1000 * (m["p1_median_gap"] - m["bare_median"]),
            "overhead_mean_ms": 1000 * (m["p1_per_trial"] - m["bare_mean"]),
            "scheduler_between_trials_ms": 1000 * m["p1_between"],
            "trial_runner_wall_ms": 1000 * m["p1_inside"],
            "parallel1_trials_per_s": args.trials / m["p1_total"],
            "parallel2_trials_per_s": args.trials / m["p2_total"],
            "speedup_parallel2": m["speedup"],
            "engine_cpu_per_trial_ms": 1000 * m["engine_cpu"],
            "runs": rows,
        }
        report["programs"][label] = result
        print(
            f"{label:28s} bare {result['bare_median_ms']:6.1f} ms | engine cycle {result['engine_median_cycle_ms']:6.1f} ms | "
            f"Optuna loop cycle {result['optuna_loop_cycle_ms']:6.1f} ms (engine - Optuna {result['engine_minus_optuna_ms']:5.1f} ms) | "
            f"overhead median {result['overhead_median_ms']:5.1f} ms, mean {result['overhead_mean_ms']:5.1f} ms "
            f"(runner {result['trial_runner_wall_ms']:.1f} ms, between trials {result['scheduler_between_trials_ms']:.1f} ms; "
            f"engine CPU {result['engine_cpu_per_trial_ms']:.1f} ms) | "
            f"{result['parallel1_trials_per_s']:5.1f} -> {result['parallel2_trials_per_s']:5.1f} trials/s "
            f"(x{result['speedup_parallel2']:.2f} with --parallel 2)",
            flush=True,
        )
    if args.launch_cpu:
        folder = Path(tempfile.mkdtemp(prefix="hpo-overhead-launch-"))
        try:
            report["launch"] = launch_cpu(args.launch_cpu, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        launch = report["launch"]
        print(
            f"launching {args.launch_cpu} `echo score=1` trials (start_process + wait_process): {launch['launch_wall_ms']:.1f} ms wall, "
            f"CPU {launch['launch_cpu_engine_ms']:.1f} ms in this process + {launch['launch_cpu_trial_processes_ms']:.1f} ms in the trial's processes per trial",
            flush=True,
        )
    report["load_average_after"] = os.getloadavg()
    print(f"load average before {report['load_average_before'][0]:.2f}, after {report['load_average_after'][0]:.2f} (1 min)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
