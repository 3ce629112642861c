"""Hover, code lens, inlay hints, document symbols and the preview command, end to end."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from lsp_helpers import open_and_wait, position_of
from pytest_lsp import LanguageClient

from hpo_engine.manifest.search_space import SearchSpace


async def hover(client: LanguageClient, uri: str, position: types.Position) -> str | None:
    result = await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position))
    if result is None:
        return None
    contents = result.contents
    return contents.value if isinstance(contents, types.MarkupContent) else str(contents)


async def test_hover_on_fc_shows_its_values(client: LanguageClient, tmp_path: Path, seed_typo: str):
    uri, _ = await open_and_wait(client, tmp_path / "h.yaml", seed_typo)
    text = await hover(client, uri, position_of(seed_typo, "name: fc", offset=7))
    assert text is not None
    assert "32, 64, 128, 256, 512, 1024" in text
    assert "6 values" in text
    # on the key `int_range` of fc: its description and the values too
    text = await hover(client, uri, position_of(seed_typo, "int_range", occurrence=2, offset=2))
    assert "range of integers" in text and "1024" in text


async def test_hover_many_values_shows_first_and_last(client: LanguageClient, tmp_path: Path, seed_typo: str):
    text = seed_typo.replace("        max_value: 10\n        power: 2", "        max_value: 500")
    uri, _ = await open_and_wait(client, tmp_path / "many.yaml", text)
    shown = await hover(client, uri, position_of(text, "name: fc", offset=7))
    assert "496 values" in shown and "5, 6, 7, ..., 499, 500" in shown


async def test_hover_key_description_and_enum_value(client: LanguageClient, tmp_path: Path, seed_typo: str):
    uri, _ = await open_and_wait(client, tmp_path / "d.yaml", seed_typo)
    shown = await hover(client, uri, position_of(seed_typo, "min_value: 0.005", offset=2))
    assert "Smallest value of the range" in shown
    shown = await hover(client, uri, position_of(seed_typo, "string_value: maximize", offset=16))
    assert "Larger values of the objective are better" in shown
    assert await hover(client, uri, types.Position(line=500, character=3)) is None


async def test_hover_on_the_section_shows_combinations_and_budget(client: LanguageClient, tmp_path: Path, seed_typo: str):
    clean = seed_typo.replace('step"', "step")
    uri, _ = await open_and_wait(client, tmp_path / "s.yaml", clean)
    shown = await hover(client, uri, position_of(clean, "hyper_parameters_optimization", offset=3))
    assert "144 combinations" in shown  # 6 x 2 x 2 x 6
    assert "4 runs (random)" in shown


async def test_code_lens_and_preview_command(client: LanguageClient, tmp_path: Path, seed_typo: str):
    clean = seed_typo.replace('step"', "step")
    uri, _ = await open_and_wait(client, tmp_path / "lens.yaml", clean)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert len(lenses) == 1
    lens = lenses[0]
    assert lens.range.start == position_of(clean, "hyper_parameters_optimization")
    assert lens.command.title == "4 hyper-parameters · 144 combinations · 4 runs (random)"
    assert lens.command.command == "hpo.previewSearchSpace"
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command=lens.command.command, arguments=lens.command.arguments))
    section = result["sections"][0]
    assert section["size"] == 144
    assert len(section["points"]) == 5  # hpo.preview.maxPoints from the client's settings
    fc = next(d for d in section["dimensions"] if d["name"] == "fc")
    assert fc["values"] == [32, 64, 128, 256, 512, 1024] and fc["count"] == 6
    expected = SearchSpace.from_specs([{"name": "fc", "int_range": {"min_value": 5, "max_value": 10, "power": 2}}]).to_json(max_points=5)
    assert fc["values"] == expected["dimensions"][0]["values"]
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.previewSearchSpace", arguments=[{"uri": uri, "maxPoints": 2}]))
    assert len(result["sections"][0]["points"]) == 2


async def test_inlay_hints_count_values(client: LanguageClient, tmp_path: Path, seed_typo: str):
    uri, _ = await open_and_wait(client, tmp_path / "hints.yaml", seed_typo)
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=types.Position(0, 0), end=types.Position(60, 0)))
    )
    labels = {h.position.line: h.label for h in hints}
    assert labels[position_of(seed_typo, "name: fc").line] == "6 values"
    assert labels[position_of(seed_typo, "name: conv_filter_size1").line] == "2 values"


async def test_document_symbols_outline(client: LanguageClient, tmp_path: Path, seed_typo: str):
    uri, _ = await open_and_wait(client, tmp_path / "sym.yaml", seed_typo)
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert [s.name for s in symbols] == ["model1"]
    section = symbols[0].children[0]
    assert section.name == "hyper_parameters_optimization"
    assert [c.name for c in section.children] == ["learning_rate", "conv_filter_size1", "conv_filter_size2", "fc"]
    assert [c.detail for c in section.children] == ["double_range", "int_range", "int_range", "int_range"]


async def test_lens_on_an_invalid_space_says_why(client: LanguageClient, tmp_path: Path, seed_typo: str):
    text = seed_typo.replace("min_value: 5", "min_value: 50", 1)  # fc: min > max
    uri, _ = await open_and_wait(client, tmp_path / "bad-space.yaml", text)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    title = lenses[0].command.title
    assert "search space not valid: " in title and "?" not in title, title


async def test_preview_of_a_yaml_syntax_error_names_it(client: LanguageClient, tmp_path: Path, seed_typo: str):
    text = seed_typo.replace("training_references:", "training_references: [", 1)
    uri, _ = await open_and_wait(client, tmp_path / "syntax.yaml", text)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.previewSearchSpace", arguments=[uri]))
    assert result.sections == [] if hasattr(result, "sections") else result["sections"] == []
    error = result.error if hasattr(result, "error") else result["error"]
    assert error.startswith("line ") and "hyper_parameters" not in error
