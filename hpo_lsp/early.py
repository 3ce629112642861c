"""Cold start over stdio: the first diagnostics before pygls and lsprotocol are imported.

Importing ``lsprotocol.types`` costs about half a second (attrs builds some 570 classes),
more than everything else the server does before its first answer. So ``hpo-lsp`` over
stdio starts with :func:`serve`, which imports neither:

1. it reads the first JSON-RPC messages itself and answers ``initialize`` with
   :func:`initialize_result` — the answer the full server gives (a test compares the two
   for every client recorded by pytest-lsp);
2. it validates the manifest of the first ``didOpen`` (the same
   :class:`~hpo_lsp.analysis.Analyzer` and :func:`~hpo_lsp.convert.diagnostic_json` as
   the full server) and publishes its diagnostics;
3. then it builds the full server (:func:`hpo_lsp.setup.create_server`) and hands it every
   byte read so far, then the rest of stdin. The full server's answer to the replayed
   ``initialize`` is dropped, and it does not publish again the version already published
   (:meth:`hpo_lsp.documents.DocumentCache.published_early`).

The hand-over happens at the first message this module does not handle (a request, a
change, ``shutdown``...), right after the first manifest's diagnostics, after
:data:`IDLE_SECONDS` without a message once initialized, or at the end of the input.
No state is global: everything lives in one :class:`EarlyStart`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import select
import sys
from dataclasses import dataclass, field
from typing import Any, BinaryIO

__all__ = ["serve", "initialize_result", "position_encoding", "EarlyStart", "IDLE_SECONDS"]

logger = logging.getLogger(__name__)

#: Once initialized, this long without a message starts the full server.
IDLE_SECONDS = 0.05

_SUPPORTED_ENCODINGS = ("utf-8", "utf-16", "utf-32")
_COMMANDS = ["hpo.previewSearchSpace", "hpo.runExperiment", "hpo.cancelExperiment", "hpo.experimentResults", "hpo.experimentRuns"]


def position_encoding(capabilities: Any) -> str:
    """The encoding the server uses: the client's first supported one of
    ``general.positionEncodings``, else ``"utf-16"`` (as pygls chooses)."""
    general = capabilities.get("general") if isinstance(capabilities, dict) else None
    encodings = general.get("positionEncodings") if isinstance(general, dict) else None
    for encoding in encodings or ():
        if encoding in _SUPPORTED_ENCODINGS:
            return encoding
    return "utf-16"


def initialize_result(params: Any, name: str, version: str) -> dict[str, Any]:
    """The ``initialize`` answer of the full server for a client's ``InitializeParams`` (JSON)."""
    capabilities = params.get("capabilities") if isinstance(params, dict) else None
    capabilities = capabilities if isinstance(capabilities, dict) else {}
    sync: dict[str, Any] = {"openClose": True, "change": 2}
    synchronization = (capabilities.get("textDocument") or {}).get("synchronization") or {}
    if isinstance(synchronization, dict):
        # pygls: present (False: no handler) when the client states the capability at all
        for key in ("willSave", "willSaveWaitUntil"):
            if synchronization.get(key) is not None:
                sync[key] = False
    sync["save"] = True
    return {
        "capabilities": {
            "positionEncoding": position_encoding(capabilities),
            "textDocumentSync": sync,
            "completionProvider": {"triggerCharacters": [":", " ", "-"], "resolveProvider": False},
            "hoverProvider": True,
            "documentSymbolProvider": True,
            "codeActionProvider": {"codeActionKinds": ["quickfix"], "resolveProvider": False},
            "codeLensProvider": {"resolveProvider": False},
            "executeCommandProvider": {"commands": list(_COMMANDS)},
            "inlayHintProvider": {"resolveProvider": False},
            "workspace": {"workspaceFolders": {"supported": True, "changeNotifications": True}, "fileOperations": {}},
        },
        "serverInfo": {"name": name, "version": version},
    }


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class _Replay(io.RawIOBase):
    """The bytes already read, then the rest of the file descriptor."""

    def __init__(self, prefix: bytes, fd: int) -> None:
        self._prefix = memoryview(bytes(prefix))
        self._fd = fd

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if len(self._prefix):
            count = min(len(buffer), len(self._prefix))
            buffer[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
            return count
        data = os.read(self._fd, len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _DropAnswer:
    """stdout for the full server: drops its one answer to the replayed ``initialize``."""

    def __init__(self, out: BinaryIO, request_id: Any, sent: dict[str, Any] | None) -> None:
        self._out = out
        self._id = request_id
        self._sent = sent
        self._pending = request_id is not None

    def write(self, data: bytes) -> int:
        if self._pending:
            _, _, body = bytes(data).partition(b"\r\n\r\n")
            try:
                message = json.loads(body)
            except ValueError:
                message = None
            if isinstance(message, dict) and message.get("id") == self._id and "method" not in message:
                self._pending = False
                if message.get("result") != self._sent:
                    logger.warning("early initialize answer differs from the full server's: %s", message.get("result"))
                return len(data)
        self._out.write(data)
        return len(data)

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        self._out.close()


@dataclass
class EarlyStart:
    """What :func:`serve` read and answered before the full server started."""

    fd: int
    out: BinaryIO
    name: str
    version: str
    consumed: bytearray = field(default_factory=bytearray)
    buffer: bytearray = field(default_factory=bytearray)
    initialize_id: Any = None
    answer: dict[str, Any] | None = None
    encoding: str = "utf-16"
    initialized: bool = False
    #: uri -> (version, whether any diagnostic was published)
    published: dict[str, tuple[int | None, bool]] = field(default_factory=dict)

    # -- reading ----------------------------------------------------------------
    def _fill(self, timeout: float | None) -> bool:
        """Read what is there (waiting at most ``timeout`` s; ``None``: as long as needed)."""
        if timeout is not None:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return False
        data = os.read(self.fd, 65536)
        if not data:
            raise EOFError
        self.consumed += data
        self.buffer += data
        return True

    def next_message(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message, or ``None`` after ``timeout`` s without one. Raises EOFError at the end."""
        while True:
            head, separator, rest = bytes(self.buffer).partition(b"\r\n\r\n")
            if separator:
                length = None
                for line in head.split(b"\r\n"):
                    key, _, value = line.partition(b":")
                    if key.strip().lower() == b"content-length":
                        length = int(value.strip())
                if length is None:
                    raise ValueError("a message without Content-Length")
                if len(rest) >= length:
                    del self.buffer[: len(head) + 4 + length]
                    return json.loads(rest[:length])
            if not self._fill(timeout):
                return None

    # -- answering ------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        self.out.write(_frame(message))
        self.out.flush()

    def handle(self, message: dict[str, Any]) -> bool:
        """Handles ``message``; ``False`` when the full server must take over."""
        method = message.get("method")
        if method == "initialize" and "id" in message and self.answer is None:
            self.initialize_id = message["id"]
            params = message.get("params") or {}
            self.answer = initialize_result(params, self.name, self.version)
            self.encoding = self.answer["capabilities"]["positionEncoding"]
            self._send({"jsonrpc": "2.0", "id": self.initialize_id, "result": self.answer})
            return True
        if self.answer is None:
            return False
        if method == "initialized":
            self.initialized = True
            return True
        if method in ("workspace/didChangeConfiguration", "$/setTrace") or (isinstance(method, str) and method.startswith("$/") and "id" not in message):
            return True
        if method == "textDocument/didOpen" and "id" not in message:
            return not self._publish_open(message.get("params") or {})
        return False

    def _publish_open(self, params: dict[str, Any]) -> bool:
        """Validates and publishes an opened manifest; ``True`` when it published."""
        from .analysis import Analyzer
        from .convert import Lines, diagnostic_json
        from .cursor import looks_like_manifest
        from .documents import file_path, handles_language

        document = params.get("textDocument") or {}
        uri, text, version = document.get("uri"), document.get("text"), document.get("version")
        if not isinstance(uri, str) or not isinstance(text, str) or not handles_language(uri, document.get("languageId")):
            return False
        if not looks_like_manifest(text):
            return False
        analysis = Analyzer(source_path=file_path(uri)).analyze(text, version)
        lines = Lines(text, self.encoding)
        diagnostics = [diagnostic_json(lines, problem) for problem in analysis.problems]
        self._send({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": {"uri": uri, "version": version, "diagnostics": diagnostics}})
        self.published[uri] = (version, bool(diagnostics))
        return True

    def run(self) -> None:
        """Reads and answers until the full server must take over (see the module's docstring)."""
        try:
            while True:
                message = self.next_message(IDLE_SECONDS if self.initialized else None)
                if message is None or not isinstance(message, dict) or not self.handle(message):
                    return
        except (EOFError, ValueError, OSError):
            return


def serve(stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """Serve over stdio: the early answers, then the full server (see the module's docstring)."""
    from . import __version__

    source = stdin or sys.stdin.buffer
    out = stdout or sys.stdout.buffer
    early = EarlyStart(source.fileno(), out, "hpo-lsp", __version__)
    early.run()

    from .setup import create_server

    server = create_server()
    for uri, (version, nonempty) in early.published.items():
        server.documents.published_early(uri, version, nonempty)
    replay = io.BufferedReader(_Replay(bytes(early.consumed), early.fd))
    server.start_io(replay, _DropAnswer(out, early.initialize_id, early.answer))  # type: ignore[arg-type]
