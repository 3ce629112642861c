"""Benchmark: cold start and small-file edits, hpo-lsp beside yaml-language-server in one run.

    .venv/bin/python benchmarks/lsp_cold_start.py [--repeat 5] [--edits 20] [--only hpo|yaml]

* **cold start**: from spawning the server process to the first ``publishDiagnostics`` of
  the seed manifest (``examples/seed-typo.yaml``, 52 lines, one error), as an editor does it:
  spawn, ``initialize`` (wait for its answer), ``initialized``, ``didOpen``. Median of
  ``--repeat`` spawns per server, alternating the servers so both see the same load.
* **small file**: ``didChange`` -> ``publishDiagnostics`` of that change on
  ``examples/kinds.yaml`` (76 lines) and on the seed manifest, median of ``--edits`` edits
  typed one character at a time apart (as a user types: 120 ms between keys) and the
  median of single edits after a pause (1 s of quiet).

Uses the client, commands and settings of :mod:`lsp_bench`. Not a timed test: the numbers
depend on the machine (see docs/benchmarks/language-server.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from lsp_bench import WORK, Client, capabilities, servers  # noqa: E402

SEED = ROOT / "examples" / "seed-typo.yaml"
SMALL = ROOT / "examples" / "kinds.yaml"


#: VS Code's client capabilities, built once before any server is timed.
CAPABILITIES: dict[str, Any] = {}


async def _initialized(client: Client, settings: dict[str, Any], folder: Path) -> None:
    await client.request(
        "initialize",
        {"processId": os.getpid(), "rootUri": folder.as_uri(), "capabilities": CAPABILITIES,
         "workspaceFolders": [{"uri": folder.as_uri(), "name": "bench"}], "initializationOptions": settings},
    )
    client.notify("initialized", {})
    client.notify("workspace/didChangeConfiguration", {"settings": settings})


def _for(uri: str, version: int):
    return lambda params: params.get("uri") == uri and params.get("version") in (None, version)


async def cold_start(name: str, command: list[str], settings: dict[str, Any], folder: Path, index: int) -> float:
    """Milliseconds from spawn to the first diagnostics of the seed manifest."""
    uri = (folder / f"seed-{name}-{index}.yaml").as_uri()
    text = SEED.read_text(encoding="utf-8")
    spawned = time.perf_counter()
    client = Client(command, settings)
    await client.start()
    waiter = client.expect("textDocument/publishDiagnostics", _for(uri, 1))
    await _initialized(client, settings, folder)
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})
    received, params = await asyncio.wait_for(waiter, 120)
    if not params.get("diagnostics"):
        print(f"warning: {name}: no diagnostic for the seed manifest's typo", file=sys.stderr)
    await client.stop()
    return (received - spawned) * 1000


async def edits(name: str, command: list[str], settings: dict[str, Any], folder: Path, path: Path, count: int) -> dict[str, float]:
    """Median change -> diagnostics while typing (120 ms between keys) and after a pause."""
    client = Client(command, settings)
    await client.start()
    await _initialized(client, settings, folder)
    uri = (folder / f"edit-{name}-{path.name}").as_uri()
    base = path.read_text(encoding="utf-8")
    version = 1
    waiter = client.expect("textDocument/publishDiagnostics", _for(uri, version))
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": base}})
    await asyncio.wait_for(waiter, 120)
    anchor = base.index("training_references:")
    results: dict[str, float] = {}
    for label, gap in (("typing_ms", 0.12), ("after_pause_ms", 1.0)):
        timings = []
        for step in range(count):
            # a comment line that grows by one character per key stroke (always valid)
            text = base[:anchor] + "# " + "x" * (step + 1) + "\n" + base[anchor:]
            version += 1
            waiter = client.expect("textDocument/publishDiagnostics", _for(uri, version))
            sent = time.perf_counter()
            client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]})
            try:
                received, _ = await asyncio.wait_for(waiter, 30)
                timings.append((received - sent) * 1000)
            except asyncio.TimeoutError:
                print(f"warning: {name}: no diagnostics for version {version}", file=sys.stderr)
            await asyncio.sleep(gap)
        results[label] = statistics.median(timings) if timings else float("nan")
    await client.stop()
    return results


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.gettempdir()) / "hpo-lsp-cold-start"
    folder.mkdir(parents=True, exist_ok=True)
    found = servers(args.only)
    CAPABILITIES.update(capabilities())
    cold: dict[str, list[float]] = {name: [] for name, _, _ in found}
    for index in range(args.repeat):
        for name, command, settings in found if index % 2 == 0 else list(reversed(found)):
            cold[name].append(await cold_start(name, command, settings, folder, index))
            print(f"{name}: cold start {cold[name][-1]:.0f} ms", file=sys.stderr, flush=True)
    small: dict[str, dict[str, dict[str, float]]] = {}
    for path in (SEED, SMALL):
        for name, command, settings in found:
            small.setdefault(name, {})[path.name] = await edits(name, command, settings, folder, path, args.edits)
            print(f"{name}: {path.name} {small[name][path.name]}", file=sys.stderr, flush=True)
    return {"cold_start_ms": cold, "small_file": small}


def report(data: dict[str, Any]) -> str:
    cold = data["cold_start_ms"]
    ours, theirs = cold.get("hpo-lsp"), cold.get("yaml-language-server")
    out = ["| metric | hpo-lsp | yaml-language-server | ratio (ours/theirs) |", "|---|---|---|---|"]

    def row(label: str, a: float | None, b: float | None) -> None:
        fa = "-" if a is None else f"{a:.0f}"
        fb = "-" if b is None else f"{b:.0f}"
        out.append(f"| {label} | {fa} | {fb} | {a / b:.2f} |" if a is not None and b else f"| {label} | {fa} | {fb} | - |")

    row("spawn -> first diagnostics, seed manifest (ms, median)", ours and statistics.median(ours), theirs and statistics.median(theirs))
    row("same, best of the spawns (ms)", ours and min(ours), theirs and min(theirs))
    small = data["small_file"]
    for file in (SEED.name, SMALL.name):
        for key, label in (("typing_ms", "while typing"), ("after_pause_ms", "after a pause")):
            a = small.get("hpo-lsp", {}).get(file, {}).get(key)
            b = small.get("yaml-language-server", {}).get(file, {}).get(key)
            row(f"{file}: change -> diagnostics, {label} (ms, median)", a, b)
    out.append("")
    out.append("cold starts (ms): " + "; ".join(f"{k}: {', '.join(f'{v:.0f}' for v in vs)}" for k, vs in cold.items()))
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="spawns per server (default 5)")
    parser.add_argument("--edits", type=int, default=20, help="timed edits per kind and file (default 20)")
    parser.add_argument("--only", choices=["hpo", "yaml"], help="one server only")
    parser.add_argument("--json", type=Path, default=WORK / "lsp_cold_start.json", help="where to write the raw results")
    args = parser.parse_args()
    data = asyncio.run(main_async(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(data, indent=2))
    print(f"# cold start and small files: hpo-lsp vs yaml-language-server ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})\n")
    print(report(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
