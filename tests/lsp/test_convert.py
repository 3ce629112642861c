"""hpo_lsp.convert: the only place where index bases change (engine: 0-based lines, columns in
code points; LSP: 0-based lines, columns in the negotiated encoding's code units)."""

from __future__ import annotations

from collections import namedtuple

import pytest
from lsprotocol import converters, types

from hpo_engine.manifest.problems import Problem, Severity, Suggestion
from hpo_engine.manifest.spans import Position, Span, TextEdit
from hpo_lsp.convert import (
    DIAGNOSTIC_SOURCE,
    Lines,
    diagnostic_json,
    engine_position,
    lsp_code_action,
    lsp_diagnostic,
    lsp_position,
    lsp_range,
    lsp_range_on_line,
    lsp_severity,
    plain_json,
)

#: "é" is one UTF-16 unit and two UTF-8 bytes; "𝛼" (U+1D6FC) two UTF-16 units, four UTF-8 bytes.
TEXT = "name: x\r\n- é: 𝛼b\rlast"


def test_lines_split_like_the_yaml_reader() -> None:
    assert Lines(TEXT).lines == ["name: x", "- é: 𝛼b", "last"]
    assert Lines(TEXT).line(7) == "" and Lines(TEXT).line(-1) == ""


@pytest.mark.parametrize(
    ("encoding", "units"),
    [("utf-16", [0, 1, 2, 3, 4, 5, 7, 8]), ("utf-8", [0, 1, 2, 4, 5, 6, 10, 11]), ("utf-32", [0, 1, 2, 3, 4, 5, 6, 7])],
)
def test_columns_both_ways(encoding: str, units: list[int]) -> None:
    lines = Lines(TEXT, encoding)
    line = lines.line(1)  # "- é: 𝛼b"
    assert [lines.to_units(1, column) for column in range(len(line) + 1)] == units
    assert [lines.to_code_points(1, unit) for unit in units] == list(range(len(line) + 1))


def test_a_column_inside_a_character_or_past_the_end() -> None:
    lines = Lines(TEXT, "utf-16")
    assert lines.to_code_points(1, 6) == 5  # inside the surrogate pair of 𝛼: its start
    assert lines.to_code_points(1, 99) == len(lines.line(1))
    assert lines.to_code_points(0, -3) == 0 and lines.to_units(0, -3) == 0


def test_engine_position_clamps_lines_past_the_end() -> None:
    lines = Lines(TEXT)
    assert engine_position(lines, types.Position(line=1, character=7)) == Position(1, 6)
    assert engine_position(lines, types.Position(line=50, character=0)) == Position(2, 4)


def test_ranges() -> None:
    lines = Lines(TEXT)
    span = Span(Position(1, 2), Position(1, 6))
    assert lsp_range(lines, span) == types.Range(types.Position(1, 2), types.Position(1, 7))
    assert lsp_position(lines, Position(-1, 0)) == types.Position(0, 0)
    assert lsp_range_on_line(lines, 1, 5, 7) == types.Range(types.Position(1, 5), types.Position(1, 8))


def _problem(severity: Severity = Severity.ERROR) -> Problem:
    span = Span(Position(1, 5), Position(1, 7))
    return Problem(code="HPO101", message="Property 𝛼b is not allowed.", span=span, severity=severity,
                   suggestions=(Suggestion("Replace with beta", (TextEdit(span, "beta"),)),))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_the_json_diagnostic_is_the_lsp_one(encoding: str) -> None:
    lines = Lines(TEXT, encoding)
    for severity in Severity:
        problem = _problem(severity)
        assert diagnostic_json(lines, problem) == converters.get_converter().unstructure(lsp_diagnostic(lines, problem))
    assert lsp_diagnostic(lines, _problem()).source == DIAGNOSTIC_SOURCE


def test_severities() -> None:
    assert lsp_severity(Severity.ERROR) == types.DiagnosticSeverity.Error
    assert lsp_severity("warning") == types.DiagnosticSeverity.Warning
    assert lsp_severity("info") == types.DiagnosticSeverity.Information
    assert lsp_severity("nonsense") == types.DiagnosticSeverity.Error


def test_code_actions_pinned_to_a_version_or_not() -> None:
    lines = Lines(TEXT)
    problem = _problem()
    diagnostic = lsp_diagnostic(lines, problem)
    suggestion = problem.suggestions[0]
    pinned = lsp_code_action(lines, "file:///m.yaml", 4, suggestion, diagnostic, preferred=True)
    assert pinned.is_preferred is True and pinned.kind == types.CodeActionKind.QuickFix
    change = pinned.edit.document_changes[0]
    assert change.text_document.version == 4
    assert change.edits[0].range == types.Range(types.Position(1, 5), types.Position(1, 8))
    plain = lsp_code_action(lines, "file:///m.yaml", 4, suggestion, diagnostic, preferred=False, versioned=False)
    assert plain.is_preferred is None and plain.edit.changes["file:///m.yaml"][0].new_text == "beta"


def test_plain_json() -> None:
    Point = namedtuple("Point", ["x", "y"])
    assert plain_json({"a": Point(1, [Point(2, 3)])}) == {"a": {"x": 1, "y": [{"x": 2, "y": 3}]}}
