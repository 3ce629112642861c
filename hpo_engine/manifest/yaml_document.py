"""The parsed document: nodes with their key and value spans, the text's line table, lookups by path.

:class:`SourceDocument` is what :func:`hpo_engine.manifest.yaml_source.parse_yaml` returns: the
plain ``data``, the node tree (:class:`MappingNode`, :class:`SequenceNode`, :class:`ScalarNode`,
:class:`Entry`) and :class:`TextLines`. Positions are 0-based lines and 0-based columns in code
points; only CR, LF and CRLF break lines (U+0085, U+2028, U+2029 do not: LSP clients agree).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Union
from hpo_engine.manifest.problems import Problem
from hpo_engine.manifest.spans import Position, Span


PathItem = Union[str, int]


@dataclass(slots=True)
class ScalarNode:
    """A scalar: its Python ``value``, its ``span`` and its resolved YAML ``tag``."""

    value: Any
    span: Span
    tag: str = "tag:yaml.org,2002:str"
    style: str | None = None


@dataclass(slots=True)
class Entry:
    """One ``key: value`` of a mapping, with the key's own span."""

    key: str
    key_span: Span
    value: "Node"


@dataclass(slots=True)
class MappingNode:
    """A mapping; ``entries`` in text order, a duplicate key only once (the first)."""

    entries: list[Entry]
    span: Span
    flow: bool = False
    _index: dict[str, Entry] = field(default_factory=dict, repr=False)

    def get(self, key: str) -> "Node | None":
        entry = self._index.get(key)
        return entry.value if entry else None

    def entry(self, key: str) -> Entry | None:
        return self._index.get(key)

    def keys(self) -> list[str]:
        return [entry.key for entry in self.entries]

    def __contains__(self, key: object) -> bool:
        return key in self._index


@dataclass(slots=True)
class SequenceNode:
    """A sequence and its items."""

    items: list["Node"]
    span: Span
    flow: bool = False


Node = Union[ScalarNode, MappingNode, SequenceNode]


@dataclass(slots=True)
class TextLines:
    """A text with its line offsets: 0-based positions (code points) <-> offsets, lines, slices.

    Lines are broken at CR, LF and CRLF only, as LSP clients break them. YAML also breaks
    lines at U+0085, U+2028 and U+2029 and skips a leading BOM, so parser marks are turned
    into positions through their code-point index (:meth:`mark_position`), never used as is
    when the text holds one of those.
    """

    text: str
    line_starts: list[int]
    #: True when parser marks' (line, column) are already positions of this line model.
    marks_are_positions: bool = True

    @classmethod
    def of(cls, text: str) -> "TextLines":
        return cls(text, _line_starts(text), not text.startswith("\ufeff") and _YAML_ONLY_BREAK.search(text) is None)

    def mark_position(self, mark: Any) -> Position:
        """The 0-based position, inside the text, of a ruamel.yaml / libyaml mark (code-point ``index``)."""
        if self.marks_are_positions:
            last = len(self.line_starts) - 1
            if mark.line < last or (mark.line == last and self.line_starts[last] + mark.column <= len(self.text)):
                return Position(mark.line, mark.column)
        shift = 1 if self.text.startswith("\ufeff") else 0  # the parser skips the BOM
        return self.position(min(max(mark.index + shift, 0), len(self.text)))

    def offset(self, position: Position) -> int:
        """Code-point offset in :attr:`text` of a 0-based ``position`` (clamped to the text)."""
        if position.line >= len(self.line_starts):
            return len(self.text)
        return min(self.line_starts[position.line] + position.column, len(self.text))

    def position(self, offset: int) -> Position:
        """The 0-based position of code-point ``offset`` in :attr:`text`."""
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return Position(line, offset - self.line_starts[line])

    def slice(self, span: Span) -> str:
        """The text of ``span``."""
        return self.text[self.offset(span.start) : self.offset(span.end)]

    def line_text(self, line: int) -> str:
        """The text of 0-based ``line`` without its line break (empty past the end)."""
        if line >= len(self.line_starts):
            return ""
        start = self.line_starts[line]
        end = self.line_starts[line + 1] if line + 1 < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def entry_removal_span(self, key_span: Span, value_span: Span) -> Span:
        """Whole lines of a block entry (key line through value end), else just ``key: value``."""
        key_line = self.line_text(key_span.start.line)
        if key_line[: key_span.start.column].strip() == "":
            end = value_span.end
            end_line = end.line if end.column > 0 or end.line == key_span.start.line else end.line - 1
            last_line_end = len(self.line_text(end_line))
            if self.line_text(end_line)[end.column if end_line == end.line else last_line_end:].strip() == "":
                return Span(Position(key_span.start.line, 0), Position(end_line + 1, 0))
        return Span(key_span.start, value_span.end)


@dataclass(slots=True)
class SourceDocument:
    """A parsed YAML text: the node tree (``None`` when it could not be read), plain data, problems."""

    text: str
    root: Node | None
    data: Any
    problems: tuple[Problem, ...]
    lines: TextLines | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.lines is None:
            self.lines = TextLines.of(self.text)

    @property
    def parsed(self) -> bool:
        """True when the text was read as YAML (even if its content has problems)."""
        return self.root is not None

    # -- navigation ---------------------------------------------------------------
    def node_at(self, path: Sequence[PathItem]) -> Node | None:
        """The node at ``path`` (keys and 0-based indexes), or ``None``."""
        node: Node | None = self.root
        for item in path:
            if isinstance(node, MappingNode) and isinstance(item, str):
                node = node.get(item)
            elif isinstance(node, SequenceNode) and isinstance(item, int) and 0 <= item < len(node.items):
                node = node.items[item]
            else:
                return None
        return node

    def entry_at(self, path: Sequence[PathItem]) -> Entry | None:
        """The mapping entry whose key is the last item of ``path``, or ``None``."""
        if not path or not isinstance(path[-1], str):
            return None
        parent = self.node_at(path[:-1])
        return parent.entry(path[-1]) if isinstance(parent, MappingNode) else None

    def key_or_node_span(self, path: Sequence[PathItem]) -> Span:
        """Where to point for ``path``: the key when the path ends in a key, else the node, else the closest parent."""
        for cut in range(len(path), -1, -1):
            sub = path[:cut]
            entry = self.entry_at(sub)
            if entry is not None:
                return entry.key_span
            node = self.node_at(sub)
            if node is not None:
                return self.first_line_span(node)
        return Span.at(0, 0, 0, 0)

    def first_line_span(self, node: Node) -> Span:
        """The span of ``node`` cut at the end of its first line (a sequence item: its first key)."""
        if isinstance(node, MappingNode) and node.entries and not node.flow:
            return node.entries[0].key_span
        start = node.span.start
        end = node.span.end
        if end.line != start.line:
            end = Position(start.line, len(self.line_text(start.line)))
        return Span(start, end)

    # -- text (see :class:`TextLines`) ---------------------------------------------
    def offset(self, position: Position) -> int:
        """Code-point offset in :attr:`text` of a 0-based ``position`` (clamped to the text)."""
        return self.lines.offset(position)

    def position(self, offset: int) -> Position:
        """The 0-based position of code-point ``offset`` in :attr:`text`."""
        return self.lines.position(offset)

    def slice(self, span: Span) -> str:
        """The text of ``span``."""
        return self.lines.slice(span)

    def line_text(self, line: int) -> str:
        """The text of 0-based ``line`` without its line break (empty past the end)."""
        return self.lines.line_text(line)

    @property
    def line_count(self) -> int:
        return self.lines.line_count


#: Line breaks as YAML and LSP count them: "\r\n", "\r" or "\n".
_LINE_BREAK = re.compile("\r\n|\r|\n")


#: Line breaks for YAML only (NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR): LSP clients do not break there.
_YAML_ONLY_BREAK = re.compile("[\x85\u2028\u2029]")


def _line_starts(text: str) -> list[int]:
    """Code-point offsets where each 0-based line starts."""
    return [0, *(match.end() for match in _LINE_BREAK.finditer(text))]
