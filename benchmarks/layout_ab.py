"""A/B of in-process validation cost between two checkouts (e.g. before and after a refactor).

Writes the large manifest of ``validate_speed.py`` once, then alternates, ``--rounds`` times,
one process per checkout that validates it ``--runs`` times after a warm-up and prints the
median CPU seconds of one ``validate_text`` (CPU time: comparable on a loaded machine). Each
process imports hpo from its checkout (``PYTHONPATH``), in the same interpreter. Prints the
median over rounds per checkout and the ratio B/A.

Usage::

    .venv/bin/python benchmarks/layout_ab.py A_CHECKOUT B_CHECKOUT [--rounds 5] [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_speed import large_manifest  # noqa: E402

PROBE = """
import sys, time, statistics
try:
    from hpo_engine.manifest.validation import validate_text
except ImportError:
    from hpo_engine.validation import validate_text
text = open(sys.argv[1]).read()
validate_text(text)
if sys.argv[3] == "freeze":
    import gc
    gc.freeze()  # what a long-lived host does after start-up (hpo-lsp)
cpu = []
for _ in range(int(sys.argv[2])):
    start = time.process_time()
    validate_text(text)
    cpu.append(time.process_time() - start)
print(statistics.median(cpu))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--freeze", choices=["a", "b", "both", "none"], default="none", help="gc.freeze() after the warm-up in these processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "large.yaml"
        manifest.write_text(large_manifest(), encoding="utf-8")
        results: dict[str, list[float]] = {"a": [], "b": []}
        for _ in range(args.rounds):
            for key in ("a", "b"):
                checkout = getattr(args, key).resolve()
                env = dict(os.environ, PYTHONPATH=str(checkout))
                out = subprocess.run([sys.executable, "-c", PROBE, str(manifest), str(args.runs), "freeze" if args.freeze in (key, "both") else "-"], env=env, cwd=checkout, capture_output=True, text=True, check=True)
                results[key].append(float(out.stdout))
    a, b = statistics.median(results["a"]), statistics.median(results["b"])
    print(f"A {args.a}: median {a * 1000:.0f} ms CPU per validate_text ({', '.join(f'{x * 1000:.0f}' for x in results['a'])})")
    print(f"B {args.b}: median {b * 1000:.0f} ms CPU per validate_text ({', '.join(f'{x * 1000:.0f}' for x in results['b'])})")
    print(f"B/A = {b / a:.2f}")


if __name__ == "__main__":
    main()
