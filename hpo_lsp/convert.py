"""Engine values -> LSP types, and LSP positions -> engine positions. The only place
where index bases change.

Index bases:

* engine (:mod:`hpo_engine.manifest.spans`): 0-based lines, 0-based columns in Unicode
  **code points**;
* LSP: 0-based lines, 0-based columns in the negotiated position encoding —
  **UTF-16 code units** unless the client offered ``utf-8``/``utf-32`` in
  ``general.positionEncodings`` and the server chose it (then UTF-8 bytes or code
  points).

Functions are named after what they produce (``lsp_range``, ``lsp_diagnostic``,
``engine_position``). Each takes a :class:`Lines` (the document text split in
lines, with the encoding) to convert columns.

``lsprotocol`` is imported inside the functions that build its types, not at the top:
:mod:`hpo_lsp.early` publishes the first diagnostics (:func:`diagnostic_json`) before
lsprotocol is loaded (its import is most of the server's start-up time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lsprotocol import types

    from hpo_engine.manifest.problems import Problem, Suggestion
    from hpo_engine.manifest.spans import Position, Span, TextEdit

__all__ = [
    "Lines",
    "lsp_position",
    "lsp_range",
    "lsp_severity",
    "lsp_diagnostic",
    "diagnostic_json",
    "range_json",
    "lsp_range_on_line",
    "lsp_text_edit",
    "lsp_code_action",
    "engine_position",
    "DIAGNOSTIC_SOURCE",
    "plain_json",
]

#: ``Diagnostic.source`` of every diagnostic this server publishes.
DIAGNOSTIC_SOURCE = "hpo"


def _units(char: str, encoding: str) -> int:
    code = ord(char)
    if encoding == "utf-16":
        return 2 if code > 0xFFFF else 1
    if encoding == "utf-8":
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 1


class Lines:
    """The document's lines and the LSP position encoding (``"utf-16"``, ``"utf-8"`` or ``"utf-32"``).

    Splits like the YAML reader does (``\\n``, ``\\r\\n`` or ``\\r``); converting a
    column of an ASCII line costs nothing.
    """

    __slots__ = ("lines", "encoding")

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.lines: list[str] = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.encoding = str(getattr(encoding, "value", encoding) or "utf-16").lower()

    def line(self, number: int) -> str:
        """Text of 0-based line ``number`` ('' past the end)."""
        return self.lines[number] if 0 <= number < len(self.lines) else ""

    def to_units(self, line: int, column: int) -> int:
        """Engine column (code points) -> LSP column (code units) on 0-based ``line``."""
        text = self.line(line)
        if column <= 0:
            return 0
        if self.encoding == "utf-32" or text.isascii():
            return column
        prefix = text[:column]
        units = sum(_units(c, self.encoding) for c in prefix)
        return units + max(0, column - len(prefix))

    def to_code_points(self, line: int, units: int) -> int:
        """LSP column (code units) -> engine column (code points); past the end of the
        line gives the line's length, a column inside a surrogate pair the character's start."""
        text = self.line(line)
        if units <= 0:
            return 0
        if self.encoding == "utf-32" or text.isascii():
            return min(units, len(text))
        counted = 0
        for index, char in enumerate(text):
            width = _units(char, self.encoding)
            if counted + width > units:
                return index
            counted += width
        return len(text)


def lsp_position(lines: Lines, position: Position) -> types.Position:
    """Engine :class:`~hpo_engine.manifest.spans.Position` (0-based, code points) -> LSP position (0-based, code units)."""
    from lsprotocol import types

    line = max(0, position.line)
    return types.Position(line=line, character=lines.to_units(line, position.column))


def lsp_range(lines: Lines, span: Span) -> types.Range:
    """Engine :class:`~hpo_engine.manifest.spans.Span` (half-open, code points) -> LSP range (code units)."""
    from lsprotocol import types

    return types.Range(start=lsp_position(lines, span.start), end=lsp_position(lines, span.end))


def lsp_range_on_line(lines: Lines, line: int, start_column: int, end_column: int) -> types.Range:
    """Columns ``start_column``..``end_column`` (0-based code points, half-open) of 0-based
    ``line`` -> LSP range (code units): hover and completion ranges on the cursor's line."""
    from lsprotocol import types

    line = max(0, line)
    return types.Range(
        start=types.Position(line=line, character=lines.to_units(line, start_column)),
        end=types.Position(line=line, character=lines.to_units(line, end_column)),
    )


def range_json(lines: Lines, span: Span) -> dict[str, Any]:
    """:func:`lsp_range` as plain JSON (``{"start": {"line", "character"}, "end": ...}``)."""

    def point(position: Position) -> dict[str, int]:
        line = max(0, position.line)
        return {"line": line, "character": lines.to_units(line, position.column)}

    return {"start": point(span.start), "end": point(span.end)}


def engine_position(lines: Lines, position: types.Position) -> Position:
    """LSP position (0-based, code units) -> engine position (0-based, code points).

    A line past the end of the document is clamped to the last line (column at its end).
    """
    from hpo_engine.manifest.spans import Position

    line = max(0, position.line)
    last = len(lines.lines) - 1
    if line > last:
        return Position(last, len(lines.line(last)))
    return Position(line, lines.to_code_points(line, position.character))


#: Engine severity -> LSP ``DiagnosticSeverity`` number (1 Error, 2 Warning, 3 Information).
_SEVERITIES = {"error": 1, "warning": 2, "info": 3}


def _severity_number(severity: object) -> int:
    return _SEVERITIES.get(str(getattr(severity, "value", severity)), 1)


def lsp_severity(severity: object) -> types.DiagnosticSeverity:
    """Engine :class:`~hpo_engine.manifest.problems.Severity` -> LSP severity (unknown -> Error)."""
    from lsprotocol import types

    return types.DiagnosticSeverity(_severity_number(severity))


def lsp_diagnostic(lines: Lines, problem: Problem) -> types.Diagnostic:
    """A :class:`~hpo_engine.manifest.problems.Problem` -> LSP diagnostic: same code, severity, message;
    range converted to code units; ``data`` keeps nothing the client must send back
    (quick fixes are recomputed from the cached validation of the same version)."""
    from lsprotocol import types

    return types.Diagnostic(
        range=lsp_range(lines, problem.span),
        message=problem.message,
        severity=lsp_severity(problem.severity),
        code=problem.code,
        source=DIAGNOSTIC_SOURCE,
    )


def diagnostic_json(lines: Lines, problem: Problem) -> dict[str, Any]:
    """:func:`lsp_diagnostic` as plain JSON, without lsprotocol (for :mod:`hpo_lsp.early`)."""
    return {
        "range": range_json(lines, problem.span),
        "message": problem.message,
        "severity": _severity_number(problem.severity),
        "code": problem.code,
        "source": DIAGNOSTIC_SOURCE,
    }


def lsp_text_edit(lines: Lines, edit: TextEdit) -> types.TextEdit:
    """Engine :class:`~hpo_engine.manifest.spans.TextEdit` -> LSP text edit (range in code units)."""
    from lsprotocol import types

    return types.TextEdit(range=lsp_range(lines, edit.span), new_text=edit.new_text)


def lsp_code_action(
    lines: Lines,
    uri: str,
    version: int | None,
    suggestion: Suggestion,
    diagnostic: types.Diagnostic,
    *,
    preferred: bool,
    versioned: bool = True,
) -> types.CodeAction:
    """A problem's :class:`~hpo_engine.manifest.problems.Suggestion` -> a quick-fix code action.

    With ``versioned`` the edit is a ``documentChanges`` entry pinned to ``version``
    (the client refuses it if the text changed); otherwise a plain ``changes`` map.
    """
    from lsprotocol import types

    edits: Sequence[types.TextEdit] = [lsp_text_edit(lines, edit) for edit in suggestion.edits]
    if versioned and version is not None:
        workspace_edit = types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                    edits=list(edits),
                )
            ]
        )
    else:
        workspace_edit = types.WorkspaceEdit(changes={uri: list(edits)})
    return types.CodeAction(
        title=suggestion.title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=preferred or None,
        edit=workspace_edit,
    )


def plain_json(value: object) -> object:
    """JSON data as plain dicts and lists: pygls may hand untyped JSON objects
    (command arguments, configuration values) over as named tuples."""
    if hasattr(value, "_asdict"):
        return {k: plain_json(v) for k, v in value._asdict().items()}  # type: ignore[attr-defined]
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    return value
