"""The early start (hpo_lsp.early): its ``initialize`` answer is the full server's, the first
diagnostics are published once, and the full server takes over with everything read so far.

Real processes over stdio with a few lines of JSON-RPC (two servers per test, which the
pytest-lsp fixture does not do). No timings are asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import converters

from hpo_lsp.features.diagnostics import MIN_DEBOUNCE_MS, debounce_ms

FIXTURES = Path(__file__).parent / "fixtures"
EARLY = [sys.executable, "-m", "hpo_lsp"]
#: The full server from the first byte (what ``hpo-lsp --tcp`` runs, over stdio).
FULL = [sys.executable, "-c", "from hpo_lsp.setup import create_server; create_server().start_io()"]
CLIENTS = ["visual-studio-code", "neovim@v0.7.0", "neovim@v0.10.0", "neovim", "emacs"]


class Rpc:
    """A blocking JSON-RPC client over a server's stdio."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.next_id = 0
        self.seen: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.process.stdout
        length = 0
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise EOFError(self.process.stderr.read().decode() if self.process.stderr else "")
            if not line.strip():
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message = json.loads(self.process.stdout.read(length))
        self.seen.append(message)
        if "id" in message and "method" in message:  # a request of the server: answer null
            self.send({"id": message["id"], "result": [None] if message["method"] == "workspace/configuration" else None})
        return message

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.read()
            if message.get("id") == self.next_id and "method" not in message:
                assert "error" not in message, message
                return message.get("result")

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def wait_for(self, predicate) -> dict[str, Any]:
        for message in self.seen:
            if predicate(message):
                return message
        while True:
            message = self.read()
            if predicate(message):
                return message

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                if stream:
                    stream.close()


def _params(client: str | None, root: Path) -> dict[str, Any]:
    capabilities = converters.get_converter().unstructure(pytest_lsp.client_capabilities(client)) if client else {}
    return {"processId": None, "rootUri": root.as_uri(), "capabilities": capabilities}


@pytest.mark.parametrize("client", CLIENTS + [None])
def test_the_early_initialize_answer_is_the_full_servers(client: str | None, tmp_path: Path) -> None:
    answers = []
    for command in (EARLY, FULL):
        rpc = Rpc(command)
        try:
            answers.append(rpc.request("initialize", _params(client, tmp_path)))
            rpc.notify("initialized", {})
        finally:
            rpc.close()
    early, full = answers
    assert early == full


def _publishes(rpc: Rpc, uri: str, version: int) -> list[dict[str, Any]]:
    return [m for m in rpc.seen if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri and m["params"]["version"] == version]


def test_first_diagnostics_come_once_then_the_full_server_answers(tmp_path: Path) -> None:
    text = (FIXTURES / "seed-typo.yaml").read_text(encoding="utf-8")
    uri = (tmp_path / "seed-typo.yaml").as_uri()
    rpc = Rpc(EARLY)
    try:
        rpc.request("initialize", _params("visual-studio-code", tmp_path))
        rpc.notify("initialized", {})
        rpc.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})
        first = rpc.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        codes = [d["code"] for d in first["params"]["diagnostics"]]
        assert "HPO101" in codes and first["params"]["version"] == 1
        # the full server has the document (from the replayed didOpen): hover and a change work
        line = next(i for i, l in enumerate(text.splitlines()) if "learning_rate" in l)
        hover = rpc.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": line, "character": text.splitlines()[line].index("learning_rate") + 2}})
        assert hover and "learning_rate" in hover["contents"]["value"]
        fixed = text.replace('step":', "step:")
        rpc.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]})
        second = rpc.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["version"] == 2)
        assert not any(d["code"] == "HPO101" for d in second["params"]["diagnostics"])
        assert len(_publishes(rpc, uri, 1)) == 1
        # the same diagnostics as the full server gives for that text
        full = Rpc(FULL)
        try:
            full.request("initialize", _params("visual-studio-code", tmp_path))
            full.notify("initialized", {})
            full.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})
            reference = full.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        finally:
            full.close()
        assert first["params"]["diagnostics"] == reference["params"]["diagnostics"]
    finally:
        rpc.close()


def test_a_request_before_any_document_goes_to_the_full_server(tmp_path: Path) -> None:
    rpc = Rpc(EARLY)
    try:
        rpc.request("initialize", _params("neovim", tmp_path))
        assert rpc.request("workspace/executeCommand", {"command": "hpo.noSuchCommand", "arguments": []}) is None
    finally:
        rpc.close()


def test_debounce_adapts_to_the_validation_time_and_the_typing_rate() -> None:
    assert debounce_ms(60, None, None) == 60  # never validated: the setting
    assert debounce_ms(60, 1.0, 0.5) == MIN_DEBOUNCE_MS  # a small manifest: at once
    assert debounce_ms(60, 20.0, 0.5) == 40  # twice the validation time
    assert debounce_ms(60, 200.0, 0.5) == 60  # at most the setting
    assert debounce_ms(60, 20.0, 0.005) == 60  # changes faster than validations: wait for a pause
    assert debounce_ms(0, 20.0, 0.5) == 0
