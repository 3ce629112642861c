"""How long parse + validate takes on a large manifest, in-process and as ``hpo validate``.

Generates a valid manifest of 50 training references x 40 hyper-parameters (about
11,000 lines, every hyper-parameter kind, all three methods), then measures:

* in-process: :func:`hpo_engine.manifest.yaml_source.parse_yaml` alone, :func:`validate_document`
  on the parsed document alone, and :func:`validate_text` (both) -- median of N runs
  after one warm-up run (the schema validator is compiled once per process, as in the
  language server), wall-clock and CPU time of this process (CPU time is what to compare
  on a shared, loaded machine); once as is and once with the garbage collector disabled;
* whole process: ``hpo validate FILE`` (interpreter start, imports, read, parse,
  validate, print) -- median of several runs.

Targets (issue 2): in-process parse + validate < 100 ms; whole process < 1 s.

Usage::

    .venv/bin/python benchmarks/validate_speed.py [--runs 15] [--process-runs 7] [--profile]

``--profile`` prints the top cProfile entries of one ``validate_text`` run.
Results are written up in ``docs/benchmarks/validate.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["large_manifest", "main"]


def _hyper_parameter(ref: int, index: int) -> list[str]:
    """Five lines per hyper-parameter, cycling through every kind (and power, step, continuous)."""
    name = f"hp_{ref}_{index}"
    kind = index % 8
    if kind == 0:
        return [f"    - name: {name}", "      double_range:", "        min_value: 0.001", "        max_value: 0.1", "        step: 0.001"]
    if kind == 1:
        return [f"    - name: {name}", "      int_range:", "        min_value: 5", "        max_value: 10", "        power: 2"]
    if kind == 2:
        return [f"    - name: {name}", "      int_range:", "        min_value: 1", "        max_value: 64", "        step: 1"]
    if kind == 3:
        return [f"    - name: {name}", "      string_values:", "      - relu", "      - tanh", "      - sigmoid"]
    if kind == 4:
        return [f"    - name: {name}", "      double_values: [0.1, 0.2, 0.5]", "    # a comment line", "    # keeps every block", "    # five lines long"]
    if kind == 5:
        return [f"    - name: {name}", "      int_values:", "      - 16", "      - 32", "      - 64"]
    if kind == 6:
        return [f"    - name: {name}", "      double_range:", "        min_value: -4", "        max_value: -1", "        power: 10"]
    return [f"    - name: {name}", "      double_range:", "        min_value: 0.0", "        max_value: 0.9", "        step: 0.1"]


_METHODS = ("random", "rbfopt", "random", "rbfopt", "random")


def large_manifest(references: int = 50, hyper_parameters: int = 40) -> str:
    """A valid manifest of ``references`` x ``hyper_parameters`` (11,027 lines by default)."""
    out = [
        "settings:",
        "  name: large-benchmark",
        "  description: 50 training references x 40 hyper-parameters",
        "  author:",
        "    name: Bench Mark",
        "    email: bench@example.com",
        "training_references:",
    ]
    for ref in range(references):
        out += [
            f"- name: model{ref}",
            "  training_definition_url: ./training",
            "  command: python3 train.py --data ${DATA_DIR}/train.csv",
            "    --results ${RESULT_DIR} --log ${LOG_DIR}/run-${SUBID}.log",
            "  compute_configuration:",
            "    name: k80",
            "  hyper_parameters_optimization:",
            "    method:",
            f"      name: {_METHODS[ref % len(_METHODS)]}",
            "      parameters:",
            "      - name: objective",
            "        string_value: accuracy",
            "      - name: maximize_or_minimize",
            "        string_value: maximize",
            "      - name: num_optimizer_steps",
            "        int_value: 60",
            "      - name: max_concurrent_trials",
            "        int_value: 2",
            "      - name: random_seed",
            "        int_value: 42",
            "    hyper_parameters:",
        ]
        for index in range(hyper_parameters):
            out += _hyper_parameter(ref, index)
    out += [
        "training_results_reference:",
        "  name: results",
        "  connection:",
        "    endpoint_url: https://s3.example.com",
        "    access_key_id: ${AWS_ACCESS_KEY_ID}",
        "    secret_access_key: ${AWS_SECRET_ACCESS_KEY}",
        "  target:",
        "    bucket: results",
        "  type: s3",
    ]
    return "\n".join(out) + "\n"


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def _time(function, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (this process) seconds of ``runs`` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def in_process(text: str, runs: int, *, gc_enabled: bool = True) -> dict[str, tuple[float, float]]:
    """(wall, CPU) medians in ms of parse alone, validate alone (on a parsed document) and both."""
    from hpo_engine.manifest.validation import validate_document, validate_text
    from hpo_engine.manifest.yaml_source import parse_yaml

    result = validate_text(text, environ={})  # warm-up: compiles the schema validators
    assert not result.problems, [p.message for p in result.problems[:5]]
    document = parse_yaml(text)
    measured = {}
    if not gc_enabled:
        gc.disable()
    try:
        for label, function in (
            ("parse", lambda: parse_yaml(text)),
            ("validate", lambda: validate_document(document, environ={})),
            ("parse_and_validate", lambda: validate_text(text, environ={})),
        ):
            wall, cpu = _time(function, runs)
            measured[label] = (_median_ms(wall), _median_ms(cpu))
    finally:
        gc.enable()
    return measured


def whole_process(path: Path, runs: int) -> dict[str, tuple[float, float]]:
    """(wall, CPU) medians in ms of ``hpo validate PATH`` as a fresh process, and of ``hpo --help``."""
    hpo = str(Path(sys.executable).with_name("hpo"))

    def run(args: list[str]) -> None:
        completed = subprocess.run([hpo, *args], capture_output=True, text=True)
        if completed.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed ({completed.returncode}): {completed.stdout}{completed.stderr}")

    def measure(args: list[str]) -> tuple[float, float]:
        wall, cpu = [], []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            run(args)
            wall.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        return _median_ms(wall), _median_ms(cpu)

    run(["validate", str(path)])  # warm the file-system cache and .pyc files
    return {"hpo_validate": measure(["validate", str(path)]), "hpo_help": measure(["--help"])}


def profile(text: str, top: int = 25) -> str:
    """cProfile of one ``validate_text`` run (after a warm-up), sorted by cumulative then total time."""
    from hpo_engine.manifest.validation import validate_text

    validate_text(text, environ={})
    profiler = cProfile.Profile()
    profiler.enable()
    validate_text(text, environ={})
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="in-process runs per measurement (median)")
    parser.add_argument("--process-runs", type=int, default=7, help="whole-process runs (median)")
    parser.add_argument("--references", type=int, default=50)
    parser.add_argument("--hyper-parameters", type=int, default=40)
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of one validate_text run")
    parser.add_argument("--keep", type=Path, help="also write the generated manifest to this file")
    args = parser.parse_args(argv)

    text = large_manifest(args.references, args.hyper_parameters)
    lines = text.count("\n")
    if args.keep:
        args.keep.write_text(text, encoding="utf-8")
    print(f"manifest: {args.references} references x {args.hyper_parameters} hyper-parameters, {lines:,} lines, {len(text.encode()):,} bytes")
    print(f"python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")

    def show(title: str, timings: dict[str, tuple[float, float]]) -> None:
        print(f"{title} (median of {args.runs}; wall / CPU ms): "
              + ", ".join(f"{label.replace('_', ' ')} {wall:.0f} / {cpu:.0f}" for label, (wall, cpu) in timings.items())
              + " (target: parse and validate < 100 ms)")

    show("in-process", in_process(text, args.runs))
    show("in-process, gc disabled", in_process(text, args.runs, gc_enabled=False))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.yaml"
        path.write_text(text, encoding="utf-8")
        process = whole_process(path, args.process_runs)
    (wall, cpu), (help_wall, help_cpu) = process["hpo_validate"], process["hpo_help"]
    print(f"whole process (median of {args.process_runs}; wall / CPU ms): hpo validate {wall:.0f} / {cpu:.0f} "
          f"(target < 1000 ms); hpo --help {help_wall:.0f} / {help_cpu:.0f} (start-up and imports only)")
    if args.profile:
        print(profile(text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
