"""Hostile input, measured: alias bombs, megabyte lines, a trial printing 100 MB.

* alias bombs: CPU time and peak Python memory (tracemalloc) of ``validate_text`` on
  ``examples/broken/alias-bomb.yaml`` (9 lists of 9, 9**9 items expanded) and on a 6-level
  bomb (9**6 = 531,441 items), side by side with ruamel.yaml's own safe loader
  (``YAML(typ="safe").load``, the library the validator is built on) on the 6-level one (the
  9-level one would take gigabytes and minutes);
* megabyte lines: CPU time of ``validate_text`` on the seed manifest with one 1 MB scalar,
  a 1 MB misspelled method name (ranked suggestions) and a 1 MB command, beside ruamel.yaml's
  safe load of the same text;
* a trial printing 100 MB on stdout: wall time of ``run_trial`` (launcher, bounded tail,
  metrics read from what is kept) beside the same program run by ``subprocess`` with its
  stdout to a file, and the size of ``stdout.log`` afterwards.

Usage::

    .venv/bin/python benchmarks/hostile_input.py [--runs 3]

Results are written up in ``docs/benchmarks/hostile-input.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hpo_engine.manifest.validation import validate_text  # noqa: E402


def bomb(width: int, depth: int) -> str:
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]" for level in range(1, depth)]
    return "\n".join(lines) + f"\ntraining_references: *a{depth - 1}\n"


def measure(function, runs: int) -> tuple[float, float]:
    """Median CPU seconds, and peak traced memory in MiB of the last run."""
    times = []
    for _ in range(runs):
        tracemalloc.start()
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return statistics.median(times), peak / 1048576


def ruamel_load(text: str):
    from ruamel.yaml import YAML

    return lambda: YAML(typ="safe").load(text)


PRINTER = """
import sys
block = ("x" * 1023 + "\\n") * 1024
for _ in range(100):  # 100 MiB
    sys.stdout.write(block)
print("accuracy=0.5")
"""


def trial_rows(runs: int) -> list[tuple[str, float, str]]:
    from hpo_engine.runner.backends.base import TrialSpec
    from hpo_engine.runner.trials import run_trial

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        definition = Path(tmp) / "definition"
        definition.mkdir()
        (definition / "train.py").write_text(PRINTER)
        walls, sizes = [], []
        for run in range(runs):
            spec = TrialSpec(experiment="bench", reference="ref", number=run, values={"x": 1}, command=f"{sys.executable} train.py", definition_dir=definition, trial_dir=Path(tmp) / "trials" / str(run), objective="accuracy")
            start = time.perf_counter()
            outcome = run_trial(spec)
            walls.append(time.perf_counter() - start)
            assert outcome.objective == 0.5, outcome.failure_reason
            sizes.append((spec.trial_dir / "stdout.log").stat().st_size)
        rows.append(("run_trial, 100 MiB on stdout (hpo)", statistics.median(walls), f"stdout.log {max(sizes) / 1048576:.1f} MiB"))
        walls = []
        for run in range(runs):
            out = Path(tmp) / f"direct-{run}.log"
            start = time.perf_counter()
            with open(out, "wb") as stream:
                subprocess.run([sys.executable, "train.py"], cwd=definition, stdout=stream, check=True)
            walls.append(time.perf_counter() - start)
        rows.append(("the same program, stdout to a file (no engine)", statistics.median(walls), f"{out.stat().st_size / 1048576:.1f} MiB file"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    seed = (ROOT / "examples" / "seed.yaml").read_text()
    big_bomb = (ROOT / "examples" / "broken" / "alias-bomb.yaml").read_text()
    small_bomb = bomb(9, 6)
    megabyte = 1_000_000
    lines = {
        "1 MB scalar": seed.replace("name: model1", "name: model1\n  description: " + "y" * megabyte, 1),
        "1 MB misspelled method name": seed.replace("name: random", "name: " + "r" * megabyte, 1),
        "1 MB command": seed.replace("command: ", "command: " + "$X " * (megabyte // 3), 1),
    }
    print(f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; median of {args.runs} runs\n")
    print("| input | what | CPU (s) | peak memory (MiB) |")
    print("|---|---|---:|---:|")
    for label, text, peers in (
        ("alias bomb 9**9 (examples/broken/alias-bomb.yaml)", big_bomb, False),
        ("alias bomb 9**6", small_bomb, True),
        *((label, text, True) for label, text in lines.items()),
    ):
        cpu, peak = measure(lambda: validate_text(text), args.runs)
        problems = sorted({p.code for p in validate_text(text).problems})
        print(f"| {label} | hpo `validate_text` ({', '.join(problems) or 'no problem'}) | {cpu:.3f} | {peak:.1f} |")
        if peers:
            cpu, peak = measure(ruamel_load(text), args.runs)
            print(f"| {label} | ruamel.yaml safe load (parse only) | {cpu:.3f} | {peak:.1f} |")
    print("\n| trial | wall (s) | on disk |")
    print("|---|---:|---|")
    for label, wall, note in trial_rows(args.runs):
        print(f"| {label} | {wall:.2f} | {note} |")


if __name__ == "__main__":
    main()
