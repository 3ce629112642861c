"""Benchmark: start-up of whole processes, side by side with the peers in the same run.

- ``hpo run`` time to first trial: from just before the process is started to the moment its
  first trial's command runs (the command appends ``time.time()`` to a file), for the methods
  ``random``, ``rbfopt``, ``tpe`` and ``bayesian`` (a 2-D continuous space, 1 trial).
- ``hpo validate FILE`` vs ``check-jsonschema --schemafile schemas/hpo-manifest.schema.json FILE``
  on the same small manifest, as whole processes (wall time, median of ``--runs``; the runs
  alternate, so both see the same load).
- ``hpo --help``.

Usage::

    python benchmarks/startup.py --runs 9

Not a test: not run by ``make test``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

MANIFEST = """settings:
  name: startup-{method}
training_references:
- name: t
  command: python3 -c "import time; open('{stamp}', 'a').write(repr(time.time()) + chr(10))"
  hyper_parameters_optimization:
    method:
      name: {method}
      parameters:
      - name: objective
        string_value: value
      - name: maximize_or_minimize
        string_value: minimize
      - name: num_optimizer_steps
        int_value: 4
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


def first_trial_seconds(method: str, folder: Path) -> float:
    """Seconds from just before ``hpo run`` starts to its first trial's command running (1 trial)."""
    stamp = folder / f"{method}.stamp"
    stamp.unlink(missing_ok=True)
    manifest = folder / f"{method}.yaml"
    manifest.write_text(MANIFEST.format(method=method, stamp=stamp).replace("int_value: 4", "int_value: 1"))
    results = folder / f"results-{method}"
    shutil.rmtree(results, ignore_errors=True)
    started = time.time()
    subprocess.run([str(BIN / "hpo"), "run", str(manifest), "--results", str(results), "--seed", "1", "--quiet"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return float(stamp.read_text().split()[0]) - started


def process_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--methods", default="random,rbfopt,tpe,bayesian")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hpo-startup-") as name:
        folder = Path(name)
        small = folder / "small.yaml"
        small.write_text(MANIFEST.format(method="tpe", stamp=folder / "unused"))
        lines = ["| measurement | median s | min s | peer | peer median s | ratio |", "|---|---:|---:|---|---:|---:|"]
        validate, peer = [], []
        checker = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which("check-jsonschema")
        for _ in range(args.runs):
            validate.append(process_seconds([str(BIN / "hpo"), "validate", str(small)]))
            if checker:
                peer.append(process_seconds([checker, "--schemafile", str(ROOT / "schemas" / "hpo-manifest.schema.json"), str(small)]))
        ratio = f"{statistics.median(validate) / statistics.median(peer):.2f}" if peer else "-"
        lines.append(f"| `hpo validate` small file ({len(small.read_text().splitlines())} lines) | {statistics.median(validate):.3f} | {min(validate):.3f} | check-jsonschema | "
                     f"{statistics.median(peer) if peer else float('nan'):.3f} | {ratio} |")
        helps = [process_seconds([str(BIN / "hpo"), "--help"]) for _ in range(args.runs)]
        lines.append(f"| `hpo --help` | {statistics.median(helps):.3f} | {min(helps):.3f} | | | |")
        for method in args.methods.split(","):
            times = [first_trial_seconds(method, folder) for _ in range(args.runs)]
            lines.append(f"| `hpo run` to first trial, {method} | {statistics.median(times):.3f} | {min(times):.3f} | | | |")
    print("\n".join(lines))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{args.runs} runs each, load average {load:.1f}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
