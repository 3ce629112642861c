"""Hostile input through a real client: the fuzz corpus of tests/core (alias bombs, unicode
line breaks, NUL, huge numbers, mutated examples) opened in the server, and preview requests
that ask for a billion points or are cancelled."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

from hpo_lsp.cursor import looks_like_manifest
from lsp_helpers import code_units, open_and_wait

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.fuzz_corpus import hostile_texts, lsp_lines  # noqa: E402

SEED = 13


def grid_manifest(dimensions: int, values: int) -> str:
    """A grid of ``values ** dimensions`` points."""
    lines = ["training_references:", "- name: m", "  command: python t.py", "  hyper_parameters_optimization:", "    method:", "      name: grid",
             "      parameters:", "      - {name: objective, string_value: accuracy}", "      - {name: maximize_or_minimize, string_value: maximize}",
             "      - {name: num_optimizer_steps, int_value: 4}", "    hyper_parameters:"]
    lines += [f"    - {{name: h{d}, int_range: {{min_value: 1, max_value: {values}}}}}" for d in range(dimensions)]
    return "\n".join(lines) + "\n"


def assert_inside(text: str, diagnostic: types.Diagnostic, encoding: str, label: str) -> None:
    lines = lsp_lines(text)
    for position in (diagnostic.range.start, diagnostic.range.end):
        assert 0 <= position.line < len(lines), (label, diagnostic.code, position)
        assert 0 <= position.character <= code_units(lines[position.line], encoding), (label, diagnostic.code, position)


async def test_hostile_documents_get_diagnostics_inside_them(client: LanguageClient, tmp_path: Path):
    encoding = client.position_encoding  # type: ignore[attr-defined]
    for index, (label, text) in enumerate(hostile_texts(SEED, 20)):
        if not looks_like_manifest(text):
            text += "\ntraining_references:\n"  # the server reads only files that look like manifests
        _, diagnostics = await open_and_wait(client, tmp_path / f"hostile-{index}.yaml", text)
        assert diagnostics or label.startswith("seed"), label  # every fixed case has a problem to show
        for diagnostic in diagnostics:
            assert_inside(text, diagnostic, encoding, label)
    # and the server still answers
    assert await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.noSuchCommand")) is None


async def test_an_alias_bomb_is_one_diagnostic_at_the_alias(client: LanguageClient, tmp_path: Path):
    text = (Path(__file__).resolve().parents[2] / "examples" / "broken" / "alias-bomb.yaml").read_text()
    _, diagnostics = await open_and_wait(client, tmp_path / "bomb.yaml", text)
    assert [(d.code, d.range.start.line, d.range.start.character) for d in diagnostics] == [("HPO008", 6, 7)]


async def test_a_billion_preview_points_are_capped(client: LanguageClient, tmp_path: Path):
    uri, diagnostics = await open_and_wait(client, tmp_path / "grid.yaml", grid_manifest(6, 40))
    assert [d.code for d in diagnostics] == ["HPO211"] or not [d for d in diagnostics if d.severity == types.DiagnosticSeverity.Error]
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="hpo.previewSearchSpace", arguments=[{"uri": uri, "maxPoints": 1_000_000_000}])
    )
    (section,) = result["sections"]
    assert section["max_points"] == 10_000 and len(section["points"]) == 10_000 and section["size"] == 40**6
    # a later request is answered as usual
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert symbols


async def test_a_cancelled_preview_is_answered_and_the_server_goes_on(client: LanguageClient, tmp_path: Path):
    uri, _ = await open_and_wait(client, tmp_path / "grid.yaml", grid_manifest(6, 40))
    params = types.ExecuteCommandParams(command="hpo.previewSearchSpace", arguments=[{"uri": uri, "maxPoints": 10_000}])
    future = asyncio.wrap_future(client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id="preview-to-cancel"))
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="preview-to-cancel"))
    try:
        answer = await future
    except JsonRpcRequestCancelled:
        answer = None  # cancelled before it finished
    assert answer is None or len(answer.sections[0]["points"] if hasattr(answer, "sections") else answer["sections"][0]["points"]) == 10_000
    # requests sent after it are answered
    small = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.previewSearchSpace", arguments=[{"uri": uri, "maxPoints": 3}]))
    assert len(small["sections"][0]["points"]) == 3


async def test_odd_max_points_fall_back_to_the_setting(client: LanguageClient, tmp_path: Path):
    uri, _ = await open_and_wait(client, tmp_path / "grid.yaml", grid_manifest(2, 10))
    for points in (0, -5, True, "many", 2.5):
        result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.previewSearchSpace", arguments=[{"uri": uri, "maxPoints": points}]))
        assert len(result["sections"][0]["points"]) == 5, points  # the fixture's hpo.preview.maxPoints
