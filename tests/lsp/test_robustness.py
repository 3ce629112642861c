"""Robustness end to end: junk, huge files, closing during validation, positions past the end,
unknown commands, settings, and hypothesis-generated edit sequences through a real client."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from hpo_lsp.cursor import looks_like_manifest
from lsp_helpers import FIXTURES, change_document, code_units, lsp_position_at, record_diagnostics, open_and_wait, open_document, wait_for_diagnostics
from pytest_lsp import ClientServerConfig, LanguageClient

from hpo_engine.manifest.validation import validate_text


def big_manifest(references: int) -> str:
    lines = ["training_references:"]
    for ref in range(references):
        lines += [f"- name: model{ref}", "  command: python train.py", "  hyper_parameters_optimization:", "    method:", "      name: random",
                  "      parameters:", "      - name: objective", "        string_value: accuracy", "      - name: maximize_or_minimize",
                  "        string_value: maximize", "      - name: num_optimizer_steps", "        int_value: 40", "    hyper_parameters:"]
        for index in range(40):
            lines += [f"    - name: hp{index}", "      int_range:", "        min_value: 1", "        max_value: 64", "        step: 1"]
    return "\n".join(lines) + "\n"


async def complete(client: LanguageClient, uri: str, position: types.Position):
    return await client.text_document_completion_async(types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position))


async def test_binary_junk_is_reported_not_fatal(client: LanguageClient, tmp_path: Path):
    junk = "training_references:\n" + "".join(chr(c) for c in range(1, 4000, 7)) + "\x00\x00\ufffd"
    uri, diagnostics = await open_and_wait(client, tmp_path / "junk.yaml", junk)
    assert [d.code for d in diagnostics] == [p.code for p in validate_text(junk).problems]
    await complete(client, uri, types.Position(line=1, character=3))
    await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=3)))


async def test_positions_past_the_end_and_unknown_documents(client: LanguageClient, tmp_path: Path, seed_typo: str):
    uri, _ = await open_and_wait(client, tmp_path / "p.yaml", seed_typo)
    far = types.Position(line=10_000, character=500)
    assert await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=far)) is None
    await complete(client, uri, far)
    await complete(client, uri, types.Position(line=3, character=999))
    missing = (tmp_path / "never-opened.yaml").as_uri()
    assert await complete(client, missing, types.Position(line=0, character=0)) is None
    assert not await client.text_document_code_lens_async(types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=missing)))


async def test_unknown_command_is_answered(client: LanguageClient):
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.noSuchCommand", arguments=[1, 2]))
    assert result is None
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.previewSearchSpace", arguments=[42, "x", None]))
    assert result is None


async def test_a_huge_file_while_completion_answers(client: LanguageClient, tmp_path: Path):
    text = big_manifest(235)  # 235 x 213 + 2 = 50,057 lines
    assert len(text.split("\n")) > 50_000
    uri = (tmp_path / "huge.yaml").as_uri()
    waiter = asyncio.ensure_future(wait_for_diagnostics(client, uri, 1, timeout=120))
    open_document(client, tmp_path / "huge.yaml", text)
    # Completion is answered from the text while the validation runs.
    items = await complete(client, uri, types.Position(line=5, character=6))
    assert items is not None
    assert not waiter.done() or waiter.result() == []
    assert await waiter == []
    # An edit inside one reference: only its problems change.
    edited = text.replace("        max_value: 64", "        max_value: 0", 1)
    change_document(client, uri, 2, edited)
    diagnostics = await wait_for_diagnostics(client, uri, 2, timeout=120)
    assert [d.code for d in diagnostics] == [p.code for p in validate_text(edited).problems]


async def test_closing_during_validation(client: LanguageClient, tmp_path: Path, seed_typo: str):
    text = big_manifest(120)
    uri = open_document(client, tmp_path / "closing.yaml", text)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    # The server goes on: another document is validated and answered.
    other, diagnostics = await open_and_wait(client, tmp_path / "after.yaml", seed_typo)
    assert len(diagnostics) == 1
    assert not client.diagnostics.get(uri)


async def test_handler_errors_are_logged_and_answered_empty(client: LanguageClient, tmp_path: Path, seed_typo: str):
    uri, _ = await open_and_wait(client, tmp_path / "err.yaml", seed_typo)
    # A code action request whose diagnostics carry a range the document does not have.
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(900, 0), end=types.Position(901, 0)),
            context=types.CodeActionContext(diagnostics=[types.Diagnostic(range=types.Range(start=types.Position(900, 0), end=types.Position(901, 0)), message="x", code="HPO101", source="hpo")]),
        )
    )
    assert not result


def test_the_guard_logs_and_answers_empty():
    """Every handler runs inside ``server.guard``: an exception becomes a log message and ``empty``."""
    from hpo_lsp.setup import create_server

    server = create_server()
    logged: list[types.LogMessageParams] = []
    server.window_log_message = logged.append  # type: ignore[method-assign]

    def broken(server, params):
        raise ValueError("boom")

    async def broken_async(server, params):
        raise KeyError("bang")

    assert server.guard(broken, "textDocument/hover", empty=[])(None) == []
    assert asyncio.run(server.guard(broken_async, "textDocument/codeLens", empty=None)(None)) is None
    assert [m.type for m in logged] == [types.MessageType.Error, types.MessageType.Error]
    assert "boom" in logged[0].message and "textDocument/hover" in logged[0].message and "bang" in logged[1].message


async def test_bad_settings_fall_back_with_a_message(client: LanguageClient, tmp_path: Path, seed_typo: str):
    client.set_configuration({"validation": {"debounceMs": "soon"}, "preview": {"maxPoints": -3}}, section="hpo")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    while len([m for m in client.messages if "hpo." in m.message]) < 2:
        await client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)
    texts = " ".join(m.message for m in client.messages)
    assert "hpo.validation.debounceMs" in texts and "hpo.preview.maxPoints" in texts
    # the defaults apply: 20 preview points
    clean = seed_typo.replace('step"', "step")
    uri, _ = await open_and_wait(client, tmp_path / "set.yaml", clean)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.previewSearchSpace", arguments=[uri]))
    assert len(result["sections"][0]["points"]) == 20


async def test_no_settings_from_the_client_means_defaults(client: LanguageClient, tmp_path: Path, seed_typo: str):
    client.set_configuration({}, section="hpo")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    clean = seed_typo.replace('step"', "step")
    uri, _ = await open_and_wait(client, tmp_path / "none.yaml", clean)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.previewSearchSpace", arguments=[uri]))
    assert len(result["sections"][0]["points"]) == 20
    assert not [m for m in client.messages if "hpo." in m.message]


# -- fuzz: hypothesis edit sequences through a real client ----------------------------------

ALPHABET = st.sampled_from(list("ab_: -\n\n  \"'[]{}#0123456789.") + ["é", "𝜆", "\t", "step", "min_value: ", "- name: x\n"])
EDIT = st.tuples(st.sampled_from(["insert", "delete"]), st.floats(0, 1), st.lists(ALPHABET, min_size=1, max_size=6).map("".join), st.integers(1, 12))
REQUEST = st.sampled_from(["none", "completion", "hover", "codeAction", "symbols"])


@pytest.mark.parametrize("client_name", ["visual-studio-code", "neovim"])
def test_fuzz_edit_sequences(client_name: str, tmp_path: Path):
    seed = (FIXTURES / "seed-typo.yaml").read_text(encoding="utf-8")
    loop = asyncio.new_event_loop()
    config = ClientServerConfig(server_command=[sys.executable, "-m", "hpo_lsp"])
    client: LanguageClient = loop.run_until_complete(config.start())
    record_diagnostics(client)
    client.set_configuration({"validation": {"debounceMs": 5}}, section="hpo")
    result = loop.run_until_complete(
        client.initialize_session(types.InitializeParams(capabilities=pytest_lsp.client_capabilities(client_name), root_uri=tmp_path.as_uri()))
    )
    encoding = str(getattr(result.capabilities.position_encoding, "value", result.capabilities.position_encoding) or "utf-16")
    counter = iter(range(10_000))

    async def run(edits, requests) -> None:
        uri = (tmp_path / f"fuzz{next(counter)}.yaml").as_uri()
        text = seed
        version = 1
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))
        for (kind, where, inserted, length), request in zip(edits, requests):
            offset = int(where * len(text))
            if kind == "insert":
                start = end = lsp_position_at(text, offset, encoding)
                new_text = text[:offset] + inserted + text[offset:]
                change = types.TextDocumentContentChangePartial(range=types.Range(start=start, end=end), text=inserted)
            else:
                stop = min(len(text), offset + length)
                start, end = lsp_position_at(text, offset, encoding), lsp_position_at(text, stop, encoding)
                new_text = text[:offset] + text[stop:]
                change = types.TextDocumentContentChangePartial(range=types.Range(start=start, end=end), text="")
            version += 1
            text = new_text
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change])
            )
            identifier = types.TextDocumentIdentifier(uri=uri)
            if request == "completion":
                await client.text_document_completion_async(types.CompletionParams(text_document=identifier, position=start))
            elif request == "hover":
                await client.text_document_hover_async(types.HoverParams(text_document=identifier, position=start))
            elif request == "codeAction":
                await client.text_document_code_action_async(
                    types.CodeActionParams(text_document=identifier, range=types.Range(start=start, end=start), context=types.CodeActionContext(diagnostics=[]))
                )
            elif request == "symbols":
                await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=identifier))
        if looks_like_manifest(text):
            # a manifest: diagnostics for the final version, equal to the core validator's
            diagnostics = await wait_for_diagnostics(client, uri, version, timeout=60)
            expected = validate_text(text).problems
            assert [d.code for d in diagnostics] == [p.code for p in expected]
            lines = text.split("\n")
            for d, p in zip(diagnostics, expected):
                assert d.range.start.line == p.span.start.line
                line = lines[p.span.start.line] if p.span.start.line < len(lines) else ""
                assert d.range.start.character == code_units(line[: p.span.start.column], encoding)
        else:
            # no longer a manifest (the edits removed its keys): nothing left on it
            deadline = asyncio.get_running_loop().time() + 30
            while True:
                mine = [p for p in client.published if p.uri == uri]
                if not mine or not mine[-1].diagnostics:
                    break
                assert asyncio.get_running_loop().time() < deadline, "stale diagnostics on a document that is no longer a manifest"
                try:
                    await asyncio.wait_for(asyncio.shield(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)), 1)
                except (TimeoutError, asyncio.TimeoutError):
                    pass
        # and the server still answers
        await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(0, 0)))
        client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(EDIT, min_size=1, max_size=8), st.lists(REQUEST, min_size=8, max_size=8))
    def example(edits, requests) -> None:
        loop.run_until_complete(run(edits, requests))

    try:
        example()
        assert client.error is None
    finally:
        loop.run_until_complete(client.shutdown_session())
        loop.run_until_complete(client.stop())
        loop.close()


def test_tcp_transport(tmp_path: Path):
    """``--tcp HOST:PORT`` serves the same protocol on a socket."""
    import json
    import socket
    import subprocess
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "hpo_lsp", "--tcp", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not listen"
                assert process.poll() is None, "the server exited"
                time.sleep(0.2)
        with connection:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}}).encode()
            connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            data = b""
            while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < int(data.split(b"Content-Length: ")[1].split(b"\r\n")[0]):
                chunk = connection.recv(65536)
                assert chunk, "connection closed"
                data += chunk
            reply = json.loads(data.split(b"\r\n\r\n", 1)[1])
            assert reply["result"]["serverInfo"]["name"] == "hpo-lsp"
            assert "completionProvider" in reply["result"]["capabilities"]
    finally:
        process.kill()
        process.wait()
