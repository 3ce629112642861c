"""Benchmark: hpo-lsp against Red Hat's yaml-language-server, same workload, one run.

    .venv/bin/python benchmarks/lsp_bench.py [--edits 20] [--only hpo|yaml] [--json out.json]

For each server (ours: ``python -m hpo_lsp``; theirs: ``yaml-language-server --stdio``
installed with npm into ``benchmarks/.work/`` when missing, given our JSON Schema
through ``yaml.schemas``), over stdio with a small JSON-RPC client written here:

* the 26-line manifest and the 10,900-line one (50 references x 40 hyper-parameters,
  :mod:`lsp_workloads`);
* ``didChange`` sent -> ``publishDiagnostics`` received for that change: median of
  ``--edits`` edits that keep the manifest valid and of as many that add an error;
* completion latency (a blank line inside a ``double_range``) and hover latency (on a
  hyper-parameter's name): median of 20 requests each;
* RSS of the server process after the workload (VmRSS; VmHWM = peak).

Prints one table and the ratios ours/theirs. Not a timed test: numbers depend on
the machine (see docs/benchmarks/language-server.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
SCHEMA = ROOT / "schemas" / "hpo-manifest.schema.json"
sys.path.insert(0, str(HERE))

from lsp_workloads import large_manifest, small_manifest  # noqa: E402


# -- a small LSP client ------------------------------------------------------------------
class Client:
    """JSON-RPC over a subprocess's stdio; answers the server's requests with plain defaults."""

    def __init__(self, command: list[str], settings: dict[str, Any]) -> None:
        self.command = command
        self.settings = settings
        self.process: asyncio.subprocess.Process | None = None
        self.next_id = 0
        self.pending: dict[int, asyncio.Future] = {}
        self.listeners: list[tuple[str, Any, asyncio.Future]] = []
        self.reader_task: asyncio.Task | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, limit=2**26
        )
        self.reader_task = asyncio.ensure_future(self._read())

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode("utf-8")
        assert self.process and self.process.stdin
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def _read(self) -> None:
        assert self.process and self.process.stdout
        stdout = self.process.stdout
        while True:
            length = 0
            while True:
                line = await stdout.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(await stdout.readexactly(length))
            self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message and "method" not in message:
            future = self.pending.pop(message["id"], None)
            if future is not None and not future.done():
                future.set_result(message.get("result"))
            return
        if "id" in message:  # a request from the server
            self._write({"jsonrpc": "2.0", "id": message["id"], "result": self._answer(message["method"], message.get("params"))})
            return
        method, params = message.get("method"), message.get("params")
        for listener in list(self.listeners):
            name, predicate, future = listener
            if name == method and not future.done() and predicate(params):
                future.set_result((time.perf_counter(), params))
                self.listeners.remove(listener)

    def _answer(self, method: str, params: Any) -> Any:
        if method == "workspace/configuration":
            return [self._section(item.get("section")) for item in params.get("items", [])]
        return None

    def _section(self, section: str | None) -> Any:
        node: Any = self.settings
        for part in (section or "").split("."):
            if not part:
                continue
            node = node.get(part) if isinstance(node, dict) else None
        return node

    async def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self._write({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return await asyncio.wait_for(future, 120)

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def expect(self, method: str, predicate=lambda params: True) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.listeners.append((method, predicate, future))
        return future

    def rss_kib(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) of the server process in KiB."""
        assert self.process
        values = {"VmRSS": 0, "VmHWM": 0}
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                key = line.split(":")[0]
                if key in values:
                    values[key] = int(line.split()[1])
        except OSError:
            pass
        return values["VmRSS"], values["VmHWM"]

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.request("shutdown", None), 10)
            self.notify("exit", None)
            assert self.process
            await asyncio.wait_for(self.process.wait(), 10)
        except Exception:
            if self.process and self.process.returncode is None:
                self.process.kill()
        if self.reader_task:
            self.reader_task.cancel()


# -- the servers ---------------------------------------------------------------------------
def yaml_language_server() -> list[str]:
    """The yaml-language-server command, installing it with npm into benchmarks/.work/ if missing."""
    entry = WORK / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
    if not entry.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to install yaml-language-server")
        WORK.mkdir(parents=True, exist_ok=True)
        print("installing yaml-language-server with npm into benchmarks/.work/ ...", file=sys.stderr)
        subprocess.run([npm, "install", "--prefix", str(WORK), "--no-audit", "--no-fund", "yaml-language-server"], check=True)
    return [shutil.which("node") or "node", str(entry), "--stdio"]


def servers(only: str | None) -> list[tuple[str, list[str], dict[str, Any]]]:
    found = []
    if only in (None, "hpo"):
        found.append(("hpo-lsp", [sys.executable, "-m", "hpo_lsp"], {"hpo": {}}))
    if only in (None, "yaml"):
        yaml_settings = {
            "yaml": {
                "schemas": {SCHEMA.as_uri(): ["*.yaml", "**/*.yaml"]},
                "validate": True,
                "completion": True,
                "hover": True,
                "format": {"enable": False},
                "schemaStore": {"enable": False},
            },
            "http": {"proxy": "", "proxyStrictSSL": False},
            "[yaml]": {},
            "editor": {"tabSize": 2},
            "files": {},
        }
        found.append(("yaml-language-server", yaml_language_server(), yaml_settings))
    return found


def capabilities() -> dict[str, Any]:
    """VS Code's recorded client capabilities (as pytest-lsp ships them)."""
    import pytest_lsp
    from lsprotocol import converters

    return converters.get_converter().unstructure(pytest_lsp.client_capabilities("visual-studio-code"))


# -- the workload --------------------------------------------------------------------------
def position_of(text: str, needle: str, offset: int = 0) -> dict[str, int]:
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    return {"line": line, "character": column}


def edit_variants(text: str, anchor: str, count: int, with_error: bool) -> list[str]:
    """``count`` texts, each one edit away from ``text`` at ``anchor`` (valid, or with an unknown key)."""
    out = []
    for index in range(count):
        if with_error:
            out.append(text.replace(anchor, anchor.replace("step:", 'step":').replace("0.001", f"0.00{index % 4 + 1}"), 1))
        else:
            out.append(text.replace(anchor, anchor.replace("0.001", f"0.00{index % 4 + 1}"), 1))
    return out


async def measure(name: str, command: list[str], settings: dict[str, Any], workload: str, text: str, anchor: str, edits: int) -> dict[str, Any]:
    client = Client(command, settings)
    await client.start()
    # Not under benchmarks/.work: yaml-language-server's globs skip dot-folders.
    folder = Path(tempfile.gettempdir()) / "hpo-lsp-bench"
    folder.mkdir(parents=True, exist_ok=True)
    uri = (folder / f"{workload}.yaml").as_uri()
    await client.request("initialize", {"processId": os.getpid(), "rootUri": folder.as_uri(), "capabilities": capabilities(),
                                        "workspaceFolders": [{"uri": folder.as_uri(), "name": "bench"}], "initializationOptions": settings})
    client.notify("initialized", {})
    client.notify("workspace/didChangeConfiguration", {"settings": settings})

    def for_uri(version: int | None):
        return lambda params: params.get("uri") == uri and (version is None or params.get("version") in (None, version))

    started = time.perf_counter()
    first = client.expect("textDocument/publishDiagnostics", for_uri(1))
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})
    opened_at, _ = await asyncio.wait_for(first, 300)
    open_ms = (opened_at - started) * 1000

    version = 1
    results: dict[str, Any] = {"server": name, "workload": workload, "lines": len(text.splitlines()), "open_ms": open_ms}
    for label, with_error in (("change_valid_ms", False), ("change_error_ms", True)):
        timings = []
        for variant in edit_variants(text, anchor, edits, with_error):
            # back to the base text first (not timed) so every timed edit is one change
            for current in (text, variant):
                version += 1
                waiter = client.expect("textDocument/publishDiagnostics", for_uri(version))
                sent = time.perf_counter()
                client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": current}]})
                received, params = await asyncio.wait_for(waiter, 300)
                if current is variant:
                    timings.append((received - sent) * 1000)
                    if with_error and not params.get("diagnostics"):
                        results.setdefault("warnings", []).append(f"{label}: no diagnostic for an edit with an error")
        results[label] = statistics.median(timings)

    # completion on a blank line inside a double_range; hover on a hyper-parameter's name
    blank = text.replace(anchor, anchor + "\n        ", 1)
    version += 1
    waiter = client.expect("textDocument/publishDiagnostics", for_uri(version))
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": blank}]})
    await asyncio.wait_for(waiter, 300)
    where = position_of(blank, anchor + "\n        ", len(anchor) + 9)
    timings, labels = [], []
    for _ in range(20):
        sent = time.perf_counter()
        result = await client.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": where})
        timings.append((time.perf_counter() - sent) * 1000)
        items = result.get("items", []) if isinstance(result, dict) else (result or [])
        labels = sorted(item.get("label") for item in items)
    results["completion_ms"] = statistics.median(timings)
    results["completion_labels"] = labels[:12]
    hover_at = position_of(blank, "- name: " + results.setdefault("hover_name", hover_name(workload)), 9)
    timings, shown = [], ""
    for _ in range(20):
        sent = time.perf_counter()
        result = await client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": hover_at})
        timings.append((time.perf_counter() - sent) * 1000)
        contents = (result or {}).get("contents") if isinstance(result, dict) else None
        shown = contents.get("value", "") if isinstance(contents, dict) else str(contents or "")
    results["hover_ms"] = statistics.median(timings)
    results["hover_text"] = shown[:160]
    rss, peak = client.rss_kib()
    results["rss_mib"] = rss / 1024
    results["peak_rss_mib"] = peak / 1024
    await client.stop()
    return results


def hover_name(workload: str) -> str:
    return "fc" if workload == "small" else "hp_25_1"


WORKLOADS = {
    "small": (small_manifest, "        step: 0.001"),
    "large": (large_manifest, "    - name: hp_25_0\n      double_range:\n        min_value: 0.001\n        max_value: 0.1\n        step: 0.001"),
}


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}" if theirs else "-"


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for workload, (make, anchor) in WORKLOADS.items():
        text = make()
        for name, command, settings in servers(args.only):
            print(f"{name}: {workload} ({len(text.splitlines())} lines) ...", file=sys.stderr, flush=True)
            rows.append(await measure(name, command, settings, workload, text, anchor, args.edits))
    return rows


def report(rows: list[dict[str, Any]]) -> str:
    metrics = [("open_ms", "open -> diagnostics (ms)"), ("change_valid_ms", "change -> diagnostics, valid (ms, median)"),
               ("change_error_ms", "change -> diagnostics, with error (ms, median)"), ("completion_ms", "completion (ms, median)"),
               ("hover_ms", "hover (ms, median)"), ("rss_mib", "RSS after the workload (MiB)"), ("peak_rss_mib", "peak RSS (MiB)")]
    out = []
    for workload in WORKLOADS:
        ours = next((r for r in rows if r["workload"] == workload and r["server"] == "hpo-lsp"), None)
        theirs = next((r for r in rows if r["workload"] == workload and r["server"] == "yaml-language-server"), None)
        lines = (ours or theirs or {}).get("lines", "?")
        out.append(f"\n## {workload} manifest ({lines} lines)\n")
        out.append("| metric | hpo-lsp | yaml-language-server | ratio (ours/theirs) |")
        out.append("|---|---|---|---|")
        for key, label in metrics:
            a = ours.get(key) if ours else None
            b = theirs.get(key) if theirs else None
            out.append(f"| {label} | {'-' if a is None else f'{a:.1f}'} | {'-' if b is None else f'{b:.1f}'} | {ratio(a, b) if a is not None and b is not None else '-'} |")
        for row in (ours, theirs):
            if row:
                out.append(f"\n{row['server']}: completion offered {row['completion_labels']}; hover: {row['hover_text']!r}")
                for warning in row.get("warnings", []):
                    out.append(f"{row['server']}: warning: {warning}")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=20, help="timed edits per kind (default 20)")
    parser.add_argument("--only", choices=["hpo", "yaml"], help="run one server only")
    parser.add_argument("--json", type=Path, default=WORK / "lsp_bench.json", help="where to write the raw results")
    args = parser.parse_args()
    rows = asyncio.run(main_async(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2))
    print(f"# hpo-lsp vs yaml-language-server ({os.cpu_count()} CPUs, Python {sys.version.split()[0]})")
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
