"""YAML text -> a tree of nodes that remember where they are in the text.

:func:`parse_yaml` never raises on bad input: syntax errors, duplicate keys, tabs,
several documents, an empty file or a top level that is not a mapping become
:class:`~hpo_engine.manifest.problems.Problem` objects. Spans are 0-based lines and
0-based columns in code points (YAML marks), end exclusive.

The tree is composed by ruamel.yaml (with its C parser, ruamel.yaml.clib, when
installed); scalars are turned into Python values by their resolved tag.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    StreamEndEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from hpo_engine.manifest.problems import Problem, Severity, Suggestion
from hpo_engine.manifest.spans import Position, Span, TextEdit

__all__ = [
    "ScalarNode",
    "MappingNode",
    "SequenceNode",
    "Entry",
    "Node",
    "SourceDocument",
    "parse_yaml",
]

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
    """A text with its line offsets: 0-based positions (code points) <-> offsets, lines, slices."""

    text: str
    line_starts: list[int]

    @classmethod
    def of(cls, text: str) -> "TextLines":
        return cls(text, _line_starts(text))

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


# -- parsing ------------------------------------------------------------------------

#: Line breaks as YAML and LSP count them: "\r\n", "\r" or "\n".
_LINE_BREAK = re.compile("\r\n|\r|\n")


def _line_starts(text: str) -> list[int]:
    """Code-point offsets where each 0-based line starts."""
    return [0, *(match.end() for match in _LINE_BREAK.finditer(text))]


_INT_RE = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")


#: ruamel.yaml's C parser (ruamel.yaml.clib) when installed, else ``None`` (pure-Python fallback).
_C_PARSER: Any = YAML(typ="safe", pure=False).Parser
if not getattr(_C_PARSER, "__module__", "").startswith("ruamel.yaml.clib"):
    _C_PARSER = None


def _events(text: str) -> Iterator[Any]:
    """The YAML events of ``text``, from a parser made for this call (thread-safe, nothing kept)."""
    if _C_PARSER is None:
        yield from YAML(typ="safe", pure=True).parse(text)
        return
    parser = _C_PARSER(text)
    while True:
        event = parser.get_event()
        yield event
        if type(event) is StreamEndEvent:
            return


def _scalar_value(tag: str, text: str) -> Any:
    """The Python value of a resolved scalar (YAML 1.2 core schema, as ruamel resolves it)."""
    suffix = tag.rsplit(":", 1)[-1]
    try:
        if suffix == "null":
            return None
        if suffix == "bool":
            return text.lower() in ("true", "yes", "on", "y")
        if suffix == "int":
            cleaned = text.replace("_", "")
            sign = -1 if cleaned.startswith("-") else 1
            body = cleaned.lstrip("+-")
            if body.startswith(("0x", "0X")):
                return sign * int(body[2:], 16)
            if body.startswith(("0o", "0O")):
                return sign * int(body[2:], 8)
            if body.startswith(("0b", "0B")):
                return sign * int(body[2:], 2)
            return sign * int(body, 10)
        if suffix == "float":
            lowered = text.lower().replace("_", "")
            if lowered in (".inf", "+.inf"):
                return math.inf
            if lowered == "-.inf":
                return -math.inf
            if lowered == ".nan":
                return math.nan
            return float(lowered)
    except ValueError:
        return text
    return text


def _key_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_CORE_RE = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_CORE_RE = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_TAG = "tag:yaml.org,2002:"


_PLAIN_STRING_START = frozenset("abcdeghijklmopqrsuvwxyzABCDEGHIJKLMOPQRSUVWXYZ_/$<")


def _resolve_plain(text: str) -> str:
    """The YAML 1.2 core-schema tag of a plain (unquoted) scalar."""
    if text[:1] in _PLAIN_STRING_START:
        return _TAG + "str"  # cannot be null, bool or a number: skip the patterns (most keys)
    if _NULL_RE.match(text):
        return _TAG + "null"
    if _BOOL_RE.match(text):
        return _TAG + "bool"
    if _INT_CORE_RE.match(text):
        return _TAG + "int"
    if _FLOAT_CORE_RE.match(text):
        return _TAG + "float"
    return _TAG + "str"


def _mark_position(mark: Any) -> Position:
    return Position(mark.line, mark.column)


class _Builder:
    """Builds :data:`Node` trees and plain data from the C parser's event stream.

    Composing from events directly (instead of ruamel's composer and resolver)
    keeps parsing of a 10,000-line manifest fast; scalars are resolved with the
    YAML 1.2 core schema, as ruamel.yaml does by default.
    """

    def __init__(self, document: "TextLines") -> None:
        self.doc = document
        self.problems: list[Problem] = []
        self.anchors: dict[str, tuple[Node, Any]] = {}

    def node(self, event: Any, events: Iterator[Any]) -> tuple[Node, Any]:
        kind = type(event)
        if kind is ScalarEvent:
            tag = event.tag if event.tag not in (None, "!") else (_resolve_plain(event.value) if event.implicit[0] else _TAG + "str")
            if tag.startswith("!!"):
                tag = _TAG + tag[2:]
            value = _scalar_value(tag, event.value)
            result: tuple[Node, Any] = (
                ScalarNode(value, Span(Position(event.start_mark.line, event.start_mark.column), Position(event.end_mark.line, event.end_mark.column)), tag, event.style or None),
                value,
            )
        elif kind is SequenceStartEvent:
            items, data = [], []
            for child in events:
                if type(child) is SequenceEndEvent:
                    end = child.end_mark
                    break
                node, value = self.node(child, events)
                items.append(node)
                data.append(value)
            span = Span(_mark_position(event.start_mark), _mark_position(end))
            result = (SequenceNode(items, span, bool(event.flow_style)), data)
        elif kind is MappingStartEvent:
            result = self.mapping(event, events)
        elif kind is AliasEvent:
            node, value = self.anchors.get(event.anchor, (None, None))
            if node is None:
                span = Span(_mark_position(event.start_mark), _mark_position(event.end_mark))
                node, value = ScalarNode(None, span, _TAG + "null"), None
            return node, value
        else:  # pragma: no cover - the parser only yields node events here
            raise YAMLError(f"unexpected {kind.__name__}")
        anchor = getattr(event, "anchor", None)
        if anchor:
            self.anchors[anchor] = result
        return result

    def mapping(self, event: Any, events: Iterator[Any]) -> tuple[Node, Any]:
        entries: list[Entry] = []
        index: dict[str, Entry] = {}
        data: dict[str, Any] = {}
        for key_event in events:
            if type(key_event) is MappingEndEvent:
                end = key_event.end_mark
                break
            key_node, key_value = self.node(key_event, events)
            key = _key_text(key_value) if isinstance(key_node, ScalarNode) else self.doc.slice(key_node.span)
            key_span = key_node.span
            value_node, value = self.node(next(events), events)
            if key in index:
                self.problems.append(self._duplicate(key, key_span, value_node, index[key]))
                continue
            entry = Entry(key, key_span, value_node)
            entries.append(entry)
            index[key] = entry
            data[key] = value
        span = Span(_mark_position(event.start_mark), _mark_position(end))
        return MappingNode(entries, span, bool(event.flow_style), index), data

    def documents(self, events: Iterator[Any]) -> Iterator[tuple[Node | None, Any, Any]]:
        """``(root, data, start_mark)`` per document; an empty document gives ``(None, None, mark)``."""
        for event in events:
            if type(event) is not DocumentStartEvent:
                continue
            first = next(events)
            if type(first) is DocumentEndEvent:
                yield None, None, first.start_mark
                continue
            node, data = self.node(first, events)
            yield node, data, event.start_mark
            for closing in events:
                if type(closing) is DocumentEndEvent:
                    break

    def _duplicate(self, key: str, key_span: Span, value: Node, first: Entry) -> Problem:
        edits = (TextEdit(self.doc.entry_removal_span(key_span, value.span), ""),)
        return Problem(
            "HPO002",
            Severity.ERROR,
            f"Duplicate key '{key}': it is already set on line {first.key_span.start.line + 1}; YAML keeps only one of them.",
            key_span,
            (Suggestion(f"Remove the duplicate '{key}'", edits),),
        )


def _reading_problem(code: str, message: str, span: Span) -> Problem:
    return Problem(code, Severity.ERROR, message, span)


def _word_span(text: TextLines, line: int, column: int) -> Span:
    """From ``column`` to the end of the non-blank run there (at least one character)."""
    content = text.line_text(line).rstrip("\r")
    end = column
    while end < len(content) and not content[end].isspace():
        end += 1
    if end == column:
        end = min(column + 1, max(len(content), column))
    return Span(Position(line, column), Position(line, end))


_CONTEXT_AT_OPENING = {
    "while parsing a flow sequence": "'[' is never closed",
    "while parsing a flow mapping": "'{' is never closed",
    "while scanning a quoted scalar": "the quoted string is never closed",
}


def _unclosed_flow_opener(text: TextLines, end: Position) -> Position | None:
    """The innermost ``[`` or ``{`` still open at ``end`` (quotes and comments skipped), else ``None``."""
    stack: list[Position] = []
    for line_no in range(min(end.line, len(text.line_starts) - 1) + 1):
        line = text.line_text(line_no)
        if line_no == end.line:
            line = line[: end.column]
        quote = ""
        for column, char in enumerate(line):
            if quote:
                if char == quote:
                    quote = ""
            elif char in "'\"" and (column == 0 or line[column - 1] in " \t[{,:"):
                quote = char
            elif char == "#" and (column == 0 or line[column - 1] in " \t"):
                break
            elif char in "[{":
                stack.append(Position(line_no, column))
            elif char in "]}" and stack:
                stack.pop()
    return stack[-1] if stack else None


def _syntax_problem(error: MarkedYAMLError, text: TextLines) -> Problem:
    """One problem for a YAML syntax error, placed where the mistake is.

    An unclosed ``[``, ``{`` or quote is reported where it opens (the parser only
    notices on a later line); other errors where the parser stopped.
    """
    problem = (error.problem or "syntax error").strip()
    context = (error.context or "").strip()
    opening = _CONTEXT_AT_OPENING.get(context)
    if context == "while parsing a flow node" and error.problem_mark is not None:
        # e.g. "a: [" or "a: [1," at the end of the text: the parser's marks are both at
        # the end, so find the bracket that is still open there.
        end = Position(error.problem_mark.line, error.problem_mark.column)
        rest = text.text[text.offset(end) :].lstrip()
        opener = _unclosed_flow_opener(text, end) if rest == "" or rest.startswith(("...", "---")) else None
        if opener is not None:
            bracket = text.line_text(opener.line)[opener.column]
            message = f"YAML syntax error: '{bracket}' is never closed (the text ends on line {error.problem_mark.line + 1})"
            return _reading_problem("HPO001", message, Span.at(opener.line, opener.column, opener.line, opener.column + 1))
    if opening and error.context_mark is not None:
        mark = error.context_mark
        found = problem.replace("but found", "found").replace("but got", "found")
        message = f"YAML syntax error: {opening} ({found} on line {error.problem_mark.line + 1})" if error.problem_mark else f"YAML syntax error: {opening}"
        return _reading_problem("HPO001", message, Span.at(mark.line, mark.column, mark.line, mark.column + 1))
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line, mark.column) if mark is not None else (0, 0)
    if "\t" in problem or "'\\t'" in problem:
        return _reading_problem("HPO003", "A tab character is used for indentation: YAML indents with spaces only.", Span.at(line, column, line, column + 1))
    message = f"YAML syntax error: {problem}"
    if context:
        message += f" ({context}"
        if error.context_mark is not None and error.context_mark.line != line:
            message += f" started on line {error.context_mark.line + 1}"
        message += ")"
    return _reading_problem("HPO001", message, _word_span(text, line, column))


_TAB_INDENT = re.compile(r"^ *\t", re.MULTILINE)


def _tab_problems(text: TextLines) -> list[Problem]:
    """A problem for each line (up to 20) whose indentation holds a tab."""
    problems = []
    for match in _TAB_INDENT.finditer(text.text):
        line_no = bisect.bisect_right(text.line_starts, match.start()) - 1
        if not text.line_text(line_no).strip():
            continue
        column = match.end() - 1 - text.line_starts[line_no]
        problems.append(
            _reading_problem(
                "HPO003",
                "A tab character is used for indentation: YAML indents with spaces only.",
                Span.at(line_no, column, line_no, column + 1),
            )
        )
        if len(problems) >= 20:
            break
    return problems


def parse_yaml(text: str) -> SourceDocument:
    """Parse ``text``; never raises. Problems are reading problems only (HPO001-HPO007)."""
    raw_text = TextLines.of(text)
    problems: list[Problem] = []
    if "\x00" in text:
        problems.append(_reading_problem("HPO007", "The file holds NUL bytes: it is binary, not YAML text.", Span.at(0, 0, 0, 0)))
        return SourceDocument(text, None, None, tuple(problems))
    tab_problems = _tab_problems(raw_text)
    builder = _Builder(raw_text)
    roots: list[tuple[Node | None, Any]] = []
    try:
        for root_node, root_data, start_mark in builder.documents(_events(text)):
            if roots:
                problems.append(
                    _reading_problem(
                        "HPO004",
                        "A second YAML document starts here: a manifest is one document (remove the '---' and what follows, or split the file).",
                        _second_document_span(raw_text, start_mark.line),
                    )
                )
                break
            roots.append((root_node, root_data))
    except MarkedYAMLError as error:
        problem = _syntax_problem(error, raw_text)
        problems.extend(tab_problems)
        tab_lines = {p.span.start.line for p in tab_problems}
        if problem.span.start.line not in tab_lines:
            problems.append(problem)
        return SourceDocument(text, None, None, tuple(problems))
    except (YAMLError, ValueError, RecursionError, UnicodeError, RuntimeError) as error:
        problems.append(_reading_problem("HPO001", f"YAML syntax error: {error}", Span.at(0, 0, 0, 0)))
        return SourceDocument(text, None, None, tuple(problems))
    problems.extend(tab_problems)
    root, data = roots[0] if roots else (None, None)
    if root is None or (isinstance(root, ScalarNode) and root.value is None):
        problems.append(_reading_problem("HPO005", "The file is empty: a manifest needs at least 'training_references'.", Span.at(0, 0, 0, 0)))
        return SourceDocument(text, None, None, tuple(problems))
    problems.extend(builder.problems)
    if not isinstance(root, MappingNode):
        kind = "a list" if isinstance(root, SequenceNode) else f"a single value ({raw_text.slice(root.span).strip()[:40]!r})"
        problems.append(
            _reading_problem("HPO006", f"The top level is {kind}: a manifest is a mapping with keys such as 'settings' and 'training_references'.", _first_line(raw_text, root.span))
        )
    return SourceDocument(text, root, data, tuple(sorted(problems, key=Problem.sort_key)), raw_text)


def _first_line(text: TextLines, span: Span) -> Span:
    if span.end.line == span.start.line:
        return span
    return Span(span.start, Position(span.start.line, len(text.line_text(span.start.line).rstrip())))


def _second_document_span(text: TextLines, start_line: int) -> Span:
    """The ``---`` line that starts the second document (searching upwards), else its first line."""
    for line_no in range(start_line, -1, -1):
        if text.line_text(line_no).startswith("---"):
            return Span.at(line_no, 0, line_no, 3)
    return Span.at(start_line, 0, start_line, len(text.line_text(start_line).rstrip()))
