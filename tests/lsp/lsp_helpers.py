"""Helpers for the end-to-end tests: open/change documents and wait for their diagnostics."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

FIXTURES = Path(__file__).parent / "fixtures"


def record_diagnostics(client: LanguageClient) -> None:
    """Keep every ``publishDiagnostics`` the client receives in ``client.published``
    (pytest-lsp keeps only the last list per uri, without its version)."""
    if hasattr(client, "published"):
        return
    client.published = []  # type: ignore[attr-defined]
    features = client.protocol.fm.features
    original = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def recorder(params: types.PublishDiagnosticsParams):
        client.published.append(params)  # type: ignore[attr-defined]
        return original(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = recorder


async def wait_for_diagnostics(client: LanguageClient, uri: str, version: int, timeout: float = 30.0) -> list[types.Diagnostic]:
    """Wait (no fixed sleep) until diagnostics of ``uri`` at ``version`` have arrived."""
    record_diagnostics(client)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for params in reversed(client.published):  # type: ignore[attr-defined]
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"no diagnostics for {uri} version {version}")
        # shielded: a timeout must not cancel pytest-lsp's own future
        try:
            await asyncio.wait_for(asyncio.shield(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)), min(remaining, 1.0))
        except (TimeoutError, asyncio.TimeoutError):
            pass


def open_document(client: LanguageClient, path: Path, text: str, version: int = 1, language_id: str = "yaml") -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text))
    )
    return uri


async def open_and_wait(client: LanguageClient, path: Path, text: str, version: int = 1) -> tuple[str, list[types.Diagnostic]]:
    uri = path.as_uri()
    waiter = asyncio.ensure_future(wait_for_diagnostics(client, uri, version))
    open_document(client, path, text, version)
    return uri, await waiter


def change_document(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def change_and_wait(client: LanguageClient, uri: str, version: int, text: str) -> list[types.Diagnostic]:
    waiter = asyncio.ensure_future(wait_for_diagnostics(client, uri, version))
    change_document(client, uri, version, text)
    return await waiter


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (UTF-16 columns) to ``text``, last first."""
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        start = sum(len(line) + 1 for line in lines[: position.line])
        line = lines[position.line] if position.line < len(lines) else ""
        units = 0
        for index, char in enumerate(line):
            if units >= position.character:
                return start + index
            units += 2 if ord(char) > 0xFFFF else 1
        return start + len(line)

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
        lines = text.split("\n")
    return text


def position_of(text: str, needle: str, occurrence: int = 0, offset: int = 0) -> types.Position:
    """LSP position (UTF-16) of the ``occurrence``-th ``needle`` in ``text``, plus ``offset`` characters."""
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    index += offset
    line = text.count("\n", 0, index)
    line_start = text.rfind("\n", 0, index) + 1
    prefix = text[line_start:index]
    return types.Position(line=line, character=sum(2 if ord(c) > 0xFFFF else 1 for c in prefix))


def code_units(text: str, encoding: str) -> int:
    """Length of ``text`` in the code units of an LSP position encoding."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def lsp_position_at(text: str, offset: int, encoding: str = "utf-16") -> types.Position:
    """LSP position of the code-point ``offset`` in ``text`` (lines split on ``\\n``)."""
    line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return types.Position(line=line, character=code_units(text[line_start:offset], encoding))
