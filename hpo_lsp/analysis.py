"""Validation of one document version, incremental by training reference.

The core validator (:func:`hpo_engine.manifest.validation.validate_text`) parses the whole
text; on a 10,900-line manifest that takes over a second, most of it in the YAML
parser. A language server re-validates after every edit, and an edit touches one
training reference. So a large manifest is validated in pieces, *with the core
validator only* (no rule lives here):

* one **chunk** per ``training_references`` item: ``training_references:`` and that
  item alone, a one-reference manifest; its problems are moved down to the item's
  lines. Chunks are cached by their text (wherever the item moved): an edit
  re-validates one chunk.
* one **skeleton**: the document with each reference reduced to its ``name`` line
  and placeholders for the other keys the schema requires. It yields the
  document-level problems (settings, results reference, the list itself) and the
  ones between references (two references with one name).

The union of their problems, sorted as the validator sorts, is the document's
problems. Whenever the layout is not the plain one this relies on (a flow list,
a reference without a ``- name:`` first line, a second YAML document) or any piece
has a reading problem (syntax error, tab...), the whole text is validated at once
instead, so the result is always the core validator's. Small documents are always
validated at once. ``tests/lsp/test_analysis.py`` checks both ways agree on
hypothesis-generated edits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hpo_engine.manifest.problems import Problem
from hpo_engine.manifest.spans import Position, Span, TextEdit
from hpo_engine.manifest.training_code import TrainingCode
from hpo_engine.manifest.validation import ValidationResult, validate_text

__all__ = ["Analysis", "Analyzer", "Piece", "FULL_VALIDATION_LINES", "shift_span", "shift_problem"]

#: Documents with fewer lines are validated whole (a few milliseconds).
FULL_VALIDATION_LINES = 400

#: Reading problems that stop the parser: with one of these, validate the whole text.
_STOPPING_CODES = frozenset({"HPO001", "HPO003", "HPO004", "HPO005", "HPO006", "HPO007"})

_LINE_IN_MESSAGE_RE = re.compile(r"(\bon line )(\d+)")
_NAME_RE = re.compile(r"name[ \t]*:[ \t]+\S")


@dataclass(frozen=True, slots=True)
class Piece:
    """One training reference's share of a validation: its problems and where its
    nodes are. ``result`` holds the reference as item ``index``; ``delta`` is added to
    the result's line numbers to get the document's (the reference moved since)."""

    start: int
    end: int
    result: ValidationResult
    index: int
    delta: int
    problems: tuple[Problem, ...]


@dataclass(slots=True)
class Analysis:
    """Problems of one document version and the parsed pieces they came from.

    ``full`` is the whole-text result when the text was validated at once (always
    for small documents). ``pieces`` has one entry per training reference when the
    layout allowed it (line ranges 0-based, end exclusive) and ``skeleton`` the
    document-level result.
    """

    version: int | None
    text: str
    problems: tuple[Problem, ...]
    full: ValidationResult | None = None
    pieces: list[Piece] = field(default_factory=list)
    skeleton: ValidationResult | None = None
    #: skeleton line -> document line (the skeleton's nodes are on skeleton lines)
    skeleton_lines: tuple[int, ...] = ()

    def _locate(self, path: Sequence[Any]) -> tuple[ValidationResult | None, tuple, Any]:
        """The result holding ``path``, the path inside it, and span -> document span."""
        path = tuple(path)
        if self.pieces and len(path) >= 2 and path[0] == "training_references" and isinstance(path[1], int):
            if 0 <= path[1] < len(self.pieces):
                piece = self.pieces[path[1]]
                return piece.result, ("training_references", piece.index) + path[2:], lambda span: shift_span(span, piece.delta)
            return None, path, None
        if self.full is not None:
            return self.full, path, lambda span: span
        table = self.skeleton_lines
        return self.skeleton, path, lambda span: map_span(span, table)

    def data_at(self, path: Sequence[Any]) -> Any:
        """Plain data at a document path (``None`` when absent or unparsed)."""
        result, local, _delta = self._locate(path)
        data = None if result is None else result.document.data
        for part in local:
            if isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data):
                data = data[part]
            elif isinstance(part, str) and isinstance(data, Mapping):
                data = data.get(part)
            else:
                return None
        return data

    def span_at(self, path: Sequence[Any]) -> Span | None:
        """Span of the node at a document path (0-based, code points), ``None`` when absent."""
        result, local, delta = self._locate(path)
        if result is None or result.document.root is None:
            return None
        try:
            node = result.document.node_at(local)
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
        return None if node is None else delta(node.span)

    def key_span_at(self, path: Sequence[Any]) -> Span | None:
        """Span of the key of the mapping entry at a document path, ``None`` when absent."""
        result, local, delta = self._locate(path)
        if result is None or result.document.root is None or not local or not isinstance(local[-1], str):
            return None
        try:
            entry = result.document.entry_at(local)
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
        return None if entry is None else delta(entry.key_span)

    def reference_count(self) -> int:
        if self.pieces:
            return len(self.pieces)
        references = self.data_at(("training_references",))
        return len(references) if isinstance(references, list) else 0

    def sections(self) -> list[tuple[tuple, Mapping[str, Any]]]:
        """Every ``hyper_parameters_optimization`` mapping with its document path."""
        found: list[tuple[tuple, Mapping[str, Any]]] = []
        top = self.data_at(("hyper_parameters_optimization",))
        if isinstance(top, Mapping):
            found.append((("hyper_parameters_optimization",), top))
        for index in range(self.reference_count()):
            path = ("training_references", index, "hyper_parameters_optimization")
            section = self.data_at(path)
            if isinstance(section, Mapping):
                found.append((path, section))
        return found


def shift_span(span: Span, delta: int) -> Span:
    """``span`` moved ``delta`` lines down (columns unchanged)."""
    if not delta:
        return span
    return Span(Position(span.start.line + delta, span.start.column), Position(span.end.line + delta, span.end.column))


def _map_position(position: Position, table: Sequence[int]) -> Position:
    line = position.line
    if 0 <= line < len(table):
        return Position(table[line], position.column)
    last = table[-1] if table else 0
    return Position(last + 1 + line - len(table), position.column)


def map_span(span: Span, table: Sequence[int]) -> Span:
    """``span`` with its lines looked up in ``table`` (skeleton line -> document line)."""
    return Span(_map_position(span.start, table), _map_position(span.end, table))


def map_problem(problem: Problem, table: Sequence[int]) -> Problem:
    """``problem`` (span and edits) with its lines looked up in ``table``."""
    suggestions = tuple(
        replace(s, edits=tuple(TextEdit(map_span(e.span, table), e.new_text) for e in s.edits)) for s in problem.suggestions
    )
    message = problem.message
    if " line " in message:
        message = _LINE_IN_MESSAGE_RE.sub(lambda m: f"{m.group(1)}{_map_position(Position(int(m.group(2)) - 1, 0), table).line + 1}", message)
    return replace(problem, span=map_span(problem.span, table), suggestions=suggestions, message=message)


def shift_problem(problem: Problem, delta: int) -> Problem:
    """``problem`` (its span and its suggestions' edits) moved ``delta`` lines down."""
    if not delta:
        return problem
    suggestions = tuple(
        replace(s, edits=tuple(TextEdit(shift_span(e.span, delta), e.new_text) for e in s.edits)) for s in problem.suggestions
    )
    message = problem.message
    if " line " in message:
        # A message may name another line ("already set on line 11", 1-based): move it too.
        message = _LINE_IN_MESSAGE_RE.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + delta}", message)
    return replace(problem, span=shift_span(problem.span, delta), suggestions=suggestions, message=message)


@dataclass(slots=True)
class _Layout:
    """Where the ``training_references`` items are: 0-based ``(start, end)`` line ranges."""

    list_line: int
    items: list[tuple[int, int]]
    dash_column: int


_LIST_RE = re.compile(r"^(?:training_references|\"training_references\"|'training_references')[ \t]*:[ \t]*(?:#.*)?$", re.M)
_SECOND_DOCUMENT_RE = re.compile(r"\n(?:---|\.\.\.)(?:[ \t]|$)", re.M)


def _layout(text: str) -> _Layout | None:
    """Find the reference items with regular expressions over the whole text (fast on large files)."""
    match = _LIST_RE.search(text)
    if match is None or _SECOND_DOCUMENT_RE.search(text):
        return None
    list_line = text.count("\n", 0, match.start())
    first = re.compile(r"^([ ]*)(-)(?:[ \t]|$)|^[ \t]*[^ \t\n#]", re.M).search(text, match.end())
    if first is None or first.group(2) is None:
        return None
    dash = len(first.group(1))
    item_re = re.compile(r"^ {%d}-(?:[ \t]|$)" % dash, re.M)
    end_re = re.compile(r"^ {0,%d}(?![ \t\r\n#]|-[ \t]|-$)" % dash, re.M)
    stop = end_re.search(text, first.start())
    limit = stop.start() if stop else len(text)
    offsets = [m.start() for m in item_re.finditer(text, first.start(), limit)]
    if not offsets:
        return None
    items: list[tuple[int, int]] = []
    line = text.count("\n", 0, offsets[0])
    starts = [line]
    for previous, offset in zip(offsets, offsets[1:]):
        line += text.count("\n", previous, offset)
        starts.append(line)
    end_line = text.count("\n", 0, limit) if stop else text.count("\n") + 1
    for index, start in enumerate(starts):
        items.append((start, starts[index + 1] if index + 1 < len(starts) else end_line))
    return _Layout(list_line, items, dash)


class Analyzer:
    """Validates versions of one document, reusing the references that did not change."""

    def __init__(
        self,
        required_reference_keys: Sequence[str] = ("name", "command"),
        *,
        source_path: Path | None = None,
        training_code: TrainingCode | None = None,
    ) -> None:
        """``source_path`` is the document's file (``None`` when unsaved or not a file): with
        it, the checks that read the local training code run too, through ``training_code``."""
        #: item text -> the piece validated for it (at the line it had then)
        self._pieces: dict[str, Piece] = {}
        self._required = [k for k in required_reference_keys if k != "name"]
        self._source_path = source_path
        self._training_code = training_code or TrainingCode() if source_path is not None else None

    def _validate(self, text: str) -> ValidationResult:
        """The core validator, with the document's path (the skeleton has no training code to read)."""
        return validate_text(text, source_path=self._source_path, training_code=self._training_code)

    def analyze(self, text: str, version: int | None = None) -> Analysis:
        """Validate ``text``; the result's problems are the core validator's."""
        lines = text.split("\n")
        layout = _layout(text) if len(lines) >= FULL_VALIDATION_LINES else None
        if layout is not None and self._usable(lines, layout):
            if self._pieces:
                analysis = self._incremental(text, lines, layout, version)
                if analysis is not None:
                    return analysis
            return self._full(text, lines, layout, version)
        self._pieces = {}
        result = self._validate(text)
        return Analysis(version, text, result.problems, full=result)

    def _usable(self, lines: Sequence[str], layout: _Layout) -> bool:
        if len(layout.items) < 2:
            return False
        for start, end in layout.items:
            body = lines[start][layout.dash_column + 2 :]
            if not _NAME_RE.match(body) or end - start < 1 + len(self._required):
                return False
        return True

    def _skeleton(self, lines: Sequence[str], layout: _Layout) -> tuple[ValidationResult, tuple[int, ...]]:
        """Each reference cut to its ``name`` line and placeholders for the required keys.

        Returns the result (problems already on the document's lines) and the table
        skeleton line -> document line."""
        kept: list[str] = []
        table: list[int] = []
        indent = " " * (layout.dash_column + 2)
        position = 0
        for start, end in layout.items:
            kept.extend(lines[position:start])
            table.extend(range(position, start))
            kept.append(lines[start])
            table.append(start)
            for offset, required in enumerate(self._required, start=1):
                kept.append(f"{indent}{required}: x")
                table.append(start + offset)
            position = end
        kept.extend(lines[position:])
        table.extend(range(position, len(lines)))
        result = validate_text("\n".join(kept))
        mapped = tuple(map_problem(p, table) for p in result.problems)
        return ValidationResult(result.document, mapped, result.manifest), tuple(table)

    def _full(self, text: str, lines: Sequence[str], layout: _Layout, version: int | None) -> Analysis:
        """Validate at once, and remember each reference's problems for the next edits."""
        result = self._validate(text)
        if any(p.code in _STOPPING_CODES for p in result.problems):
            self._pieces = {}
            return Analysis(version, text, result.problems, full=result)
        skeleton, table = self._skeleton(lines, layout)
        document_level = set(skeleton.problems)
        pieces: list[Piece] = []
        self._pieces = {}
        for index, (start, end) in enumerate(layout.items):
            own = tuple(p for p in result.problems if start <= p.span.start.line < end and p not in document_level)
            piece = Piece(start, end, result, index, 0, own)
            pieces.append(piece)
            self._pieces["\n".join(lines[start:end])] = piece
        return Analysis(version, text, result.problems, full=result, pieces=pieces, skeleton=skeleton, skeleton_lines=table)

    def _incremental(self, text: str, lines: Sequence[str], layout: _Layout, version: int | None) -> Analysis | None:
        pieces: list[Piece] = []
        kept: dict[str, Piece] = {}
        for start, end in layout.items:
            item_text = "\n".join(lines[start:end])
            cached = self._pieces.get(item_text) or kept.get(item_text)
            if cached is not None:
                delta = start - (cached.start - cached.delta)
                piece = Piece(start, end, cached.result, cached.index, delta, tuple(shift_problem(p, start - cached.start) for p in cached.problems))
            else:
                # A one-reference manifest: the list's key on line 0, the reference from line 1.
                result = self._validate(lines[layout.list_line] + "\n" + item_text + "\n")
                if any(p.code in _STOPPING_CODES for p in result.problems):
                    return None
                delta = start - 1
                piece = Piece(start, end, result, 0, delta, tuple(shift_problem(p, delta) for p in result.problems))
            pieces.append(piece)
            kept[item_text] = piece
        skeleton, table = self._skeleton(lines, layout)
        if any(p.code in _STOPPING_CODES for p in skeleton.problems):
            return None
        self._pieces = kept
        merged = list(skeleton.problems)
        for piece in pieces:
            merged.extend(piece.problems)
        unique = list(dict.fromkeys(merged))
        unique.sort(key=Problem.sort_key)
        return Analysis(version, text, tuple(unique), pieces=pieces, skeleton=skeleton, skeleton_lines=table)
