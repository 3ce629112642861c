"""Benchmark: start-up of whole processes, side by side with the peers in the same run.

- ``hpo validate FILE`` vs ``check-jsonschema --schemafile schemas/hpo-manifest.schema.json FILE``
  on the same small manifest (the 107-line ``large_manifest(1, 14)`` of ``validate_speed.py``), as
  whole processes: wall time and CPU time (user + system of the child), medians of ``--runs``;
  the runs alternate, so both see the same load.
- ``hpo --help``.
- ``hpo run`` time to first trial: from just before the process is started to the moment its
  first trial's command runs, for the methods ``random``, ``rbfopt``, ``tpe`` and ``bayesian`` (a
  3-D space, 10 instant trials: more than the free dimensions, so ``rbfopt`` really uses the
  library, whose initial design gives the first point; with 1 trial it fell back to random
  points and never imported it). The signal is the trial itself: its command's first act is
  ``date +%s.%N >> STAMP``; it then appends the CPU time ``hpo`` had used by then (user and
  system clock ticks of the ``hpo`` process, from ``/proc/PID/stat``, the PID written to a file
  by this script as soon as it started the process; an earlier version read the launcher's
  parent, which is the fork server, not ``hpo``), which is what the start costs on
  an idle machine, where a single-threaded start's wall time is its CPU time. Both are read back
  after the run.

With ``--baseline DIR`` (a checkout of another commit, e.g. ``git archive COMMIT | tar -x -C DIR``)
every ``hpo`` measurement is also taken with DIR's ``hpo_engine`` first on ``PYTHONPATH``
(same interpreter and libraries), alternating with this checkout, so the table shows before and
after in the same run.

Usage::

    python benchmarks/startup.py --runs 9 [--baseline /tmp/base]

Not a test: not run by ``make test``. Results: docs/benchmarks/startup.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from validate_speed import large_manifest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCHEMA = ROOT / "schemas" / "hpo-manifest.schema.json"

MANIFEST = """settings:
  name: startup-{method}
training_references:
- name: t
  command: date +%s.%N >> {stamp}; cut -d' ' -f14,15 /proc/$(cat {stamp}.pid)/stat >> {stamp}; echo '[{{"steps":1,"value":0.5}}]' > $RESULT_DIR/val_dict_list.json
  hyper_parameters_optimization:
    method:
      name: {method}
      parameters:
      - name: objective
        string_value: value
      - name: maximize_or_minimize
        string_value: minimize
      - name: num_optimizer_steps
        int_value: 10
    hyper_parameters:
    - name: x
      double_range:
        min_value: 0
        max_value: 1
    - name: lr
      double_range:
        min_value: -4
        max_value: -1
        power: 10
    - name: units
      int_range:
        min_value: 16
        max_value: 128
        step: 16
"""


def environment(baseline: Path | None) -> dict[str, str]:
    """The children's environment: ``baseline``'s ``hpo_engine`` first on the path, or none forced.

    Bytecode caches are written and used as on a user's machine (``PYTHONDONTWRITEBYTECODE``
    dropped): otherwise every module changed since the last install is compiled on each start.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    if baseline is not None:
        env["PYTHONPATH"] = str(baseline)
    return env


def process_seconds(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of running ``command`` to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def first_trial_seconds(method: str, folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds from just before ``hpo run`` starts to its first trial's command running (10 trials),
    and the CPU seconds ``hpo`` had used by then."""
    stamp = folder / f"{method}.stamp"
    stamp.unlink(missing_ok=True)
    manifest = folder / f"{method}.yaml"
    manifest.write_text(MANIFEST.format(method=method, stamp=stamp))
    results = folder / f"results-{method}"
    shutil.rmtree(results, ignore_errors=True)
    started = time.time()
    process = subprocess.Popen([str(BIN / "hpo"), "run", str(manifest), "--results", str(results), "--seed", "1", "--quiet"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    Path(f"{stamp}.pid").write_text(str(process.pid))  # read by the first trial, at least 0.5 s later
    if process.wait() != 0:
        raise subprocess.CalledProcessError(process.returncode, process.args)
    wall, user_ticks, system_ticks = stamp.read_text().split()[:3]
    return float(wall) - started, (int(user_ticks) + int(system_ticks)) / os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--methods", default="random,rbfopt,tpe,bayesian", help="comma-separated; empty: no hpo run")
    parser.add_argument("--baseline", type=Path, help="a checkout of another commit, measured alternately")
    args = parser.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    variants = {"this": environment(None)}
    if args.baseline is not None:
        variants["baseline"] = environment(args.baseline.resolve())
    checker = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which("check-jsonschema")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="hpo-startup-") as name:
        folder = Path(name)
        small = folder / "small.yaml"
        small.write_text(large_manifest(1, 14))
        hpo = str(BIN / "hpo")
        for env in variants.values():  # warm-up: bytecode caches written, files in the page cache
            for command in ([hpo, "validate", str(small)], [hpo, "--help"]):
                process_seconds(command, env)
            for method in methods:
                first_trial_seconds(method, folder, env)
        if checker:
            process_seconds([checker, "--schemafile", str(SCHEMA), str(small)], environment(None))
        validate: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
        helps: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
        peer: list[tuple[float, float]] = []
        for _ in range(args.runs):
            for variant, env in variants.items():
                validate[variant].append(process_seconds([hpo, "validate", str(small)], env))
            if checker:
                peer.append(process_seconds([checker, "--schemafile", str(SCHEMA), str(small)], environment(None)))
            for variant, env in variants.items():
                helps[variant].append(process_seconds([hpo, "--help"], env))
        first: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.runs):
            for method in methods:
                for variant, env in variants.items():
                    first.setdefault((method, variant), []).append(first_trial_seconds(method, folder, env))
        lines = [f"`hpo validate` vs `check-jsonschema`, {len(small.read_text().splitlines())}-line manifest, whole processes (median of {args.runs}):", "",
                 "| program | wall s | CPU s | min CPU s | wall / peer | CPU / peer | min CPU / peer |", "|---|---:|---:|---:|---:|---:|---:|"]
        peer_wall, peer_cpu, peer_min = median([w for w, _ in peer]), median([c for _, c in peer]), min(c for _, c in peer)
        for variant, runs in validate.items():
            wall, cpu, least = median([w for w, _ in runs]), median([c for _, c in runs]), min(c for _, c in runs)
            lines.append(f"| `hpo validate` ({variant}) | {wall:.3f} | {cpu:.3f} | {least:.3f} | {wall / peer_wall:.2f} | {cpu / peer_cpu:.2f} | {least / peer_min:.2f} |")
        lines.append(f"| `check-jsonschema` | {peer_wall:.3f} | {peer_cpu:.3f} | {peer_min:.3f} | 1 | 1 | 1 |")
        lines += ["", "| measurement | " + " | ".join(f"{v}: wall s, median (min) | {v}: CPU s" for v in variants) + " |",
                  "|---|" + "---:|---:|" * len(variants)]
        row = " | ".join(f"{median([w for w, _ in helps[v]]):.3f} ({min(w for w, _ in helps[v]):.3f}) | {median([c for _, c in helps[v]]):.3f}" for v in variants)
        lines.append(f"| `hpo --help` | {row} |")
        for method in methods:
            row = " | ".join(f"{median([w for w, _ in first[(method, v)]]):.3f} ({min(w for w, _ in first[(method, v)]):.3f}) | {median([c for _, c in first[(method, v)]]):.3f}" for v in variants)
            lines.append(f"| `hpo run` to first trial, {method} | {row} |")
    print("\n".join(lines))
    print(f"\n{args.runs} runs each, load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
