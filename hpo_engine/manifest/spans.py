"""Positions and spans in manifest text.

All positions here are **0-based lines and 0-based columns counted in Unicode
code points**, as YAML marks are. The CLI adds 1 to both when it prints; the
language server converts columns to UTF-16 code units at its edge.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Position", "Span", "TextEdit"]


class Position(NamedTuple):
    """A place in the text: 0-based ``line``, 0-based ``column`` in code points.

    A named tuple: immutable, ordered, and cheap to build (a 10,000-line manifest has ~40,000 of them).
    """

    line: int
    column: int


class Span(NamedTuple):
    """A half-open range ``[start, end)`` of text (0-based, code points)."""

    start: Position
    end: Position

    @classmethod
    def at(cls, line: int, column: int, end_line: int | None = None, end_column: int | None = None) -> "Span":
        """Build a span from 0-based numbers; without an end, a zero-width span."""
        return cls(
            Position(line, column),
            Position(line if end_line is None else end_line, column if end_column is None else end_column),
        )

    def contains(self, position: Position) -> bool:
        """True when ``position`` lies inside the span (end inclusive, for a cursor after a word)."""
        return self.start <= position <= self.end


class TextEdit(NamedTuple):
    """Replace the text of ``span`` by ``new_text`` (empty ``new_text`` deletes)."""

    span: Span
    new_text: str
