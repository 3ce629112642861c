"""YAML text -> a tree of nodes that remember where they are in the text.

:func:`parse_yaml` never raises on bad input: syntax errors, duplicate keys, tabs,
several documents, an empty file or a top level that is not a mapping become
:class:`~hpo_engine.manifest.problems.Problem` objects. Spans are 0-based lines and
0-based columns in code points (YAML marks), end exclusive.

The tree is composed by ruamel.yaml (with its C parser, ruamel.yaml.clib, when
installed); scalars are turned into Python values by their resolved tag.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

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
from hpo_engine.manifest.yaml_document import Entry, MappingNode, Node, ScalarNode, SequenceNode, SourceDocument, TextLines
from hpo_engine.manifest.yaml_problems import first_line_span, reading_problem, second_document_span, syntax_problem, tab_problems

__all__ = [
    "ScalarNode",
    "MappingNode",
    "SequenceNode",
    "Entry",
    "Node",
    "SourceDocument",
    "parse_yaml",
    "MAX_ALIAS_EXPANSION",
    "MAX_DOCUMENT_CHARS",
]

#: Nodes that aliases (``*name``) may add to a document once expanded, all aliases together.
#: A manifest needs a few hundred at most; a 9-line "billion laughs" file asks for 10**9.
MAX_ALIAS_EXPANSION = 100_000
#: Longest text parsed, in code points (the CLI refuses larger files before reading them).
MAX_DOCUMENT_CHARS = 20 * 1024 * 1024


# -- parsing ------------------------------------------------------------------------


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


class _AliasBudgetExceeded(Exception):
    """Aliases would expand the document past :data:`MAX_ALIAS_EXPANSION` nodes (at ``mark``)."""

    def __init__(self, mark: Any, anchor: str, expanded: int) -> None:
        super().__init__(anchor)
        self.mark, self.anchor, self.expanded = mark, anchor, expanded


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
        #: Expanded size (nodes, aliases counted as what they stand for) of each anchored node.
        self.anchor_sizes: dict[str, int] = {}
        #: Nodes that aliases have added so far (see :data:`MAX_ALIAS_EXPANSION`).
        self.alias_expansion = 0
        #: Expanded size of the node built last.
        self.last_size = 0

    def node(self, event: Any, events: Iterator[Any]) -> tuple[Node, Any]:
        kind = type(event)
        if kind is ScalarEvent:
            tag = event.tag if event.tag not in (None, "!") else (_resolve_plain(event.value) if event.implicit[0] else _TAG + "str")
            if tag.startswith("!!"):
                tag = _TAG + tag[2:]
            value = _scalar_value(tag, event.value)
            result: tuple[Node, Any] = (
                ScalarNode(value, Span(self.doc.mark_position(event.start_mark), self.doc.mark_position(event.end_mark)), tag, event.style or None),
                value,
            )
            size = 1
        elif kind is SequenceStartEvent:
            items, data = [], []
            size = 1
            for child in events:
                if type(child) is SequenceEndEvent:
                    end = child.end_mark
                    break
                node, value = self.node(child, events)
                size += self.last_size
                items.append(node)
                data.append(value)
            span = Span(self.doc.mark_position(event.start_mark), self.doc.mark_position(end))
            result = (SequenceNode(items, span, bool(event.flow_style)), data)
        elif kind is MappingStartEvent:
            result, size = self.mapping(event, events)
        elif kind is AliasEvent:
            node, value = self.anchors.get(event.anchor, (None, None))
            if node is None:
                span = Span(self.doc.mark_position(event.start_mark), self.doc.mark_position(event.end_mark))
                node, value = ScalarNode(None, span, _TAG + "null"), None
                self.last_size = 1
                return node, value
            self.last_size = self.anchor_sizes.get(event.anchor, 1)
            self.alias_expansion += self.last_size
            if self.alias_expansion > MAX_ALIAS_EXPANSION:
                raise _AliasBudgetExceeded(event.start_mark, event.anchor, self.alias_expansion)
            return node, value
        else:  # pragma: no cover - the parser only yields node events here
            raise YAMLError(f"unexpected {kind.__name__}")
        anchor = getattr(event, "anchor", None)
        if anchor:
            self.anchors[anchor] = result
            self.anchor_sizes[anchor] = size
        self.last_size = size
        return result

    def mapping(self, event: Any, events: Iterator[Any]) -> tuple[tuple[Node, Any], int]:
        """The mapping node and its data, and its expanded size in nodes."""
        size = 1
        entries: list[Entry] = []
        index: dict[str, Entry] = {}
        data: dict[str, Any] = {}
        for key_event in events:
            if type(key_event) is MappingEndEvent:
                end = key_event.end_mark
                break
            key_node, key_value = self.node(key_event, events)
            size += self.last_size
            key = _key_text(key_value) if isinstance(key_node, ScalarNode) else self.doc.slice(key_node.span)
            key_span = key_node.span
            value_node, value = self.node(next(events), events)
            size += self.last_size
            if key in index:
                self.problems.append(self._duplicate(key, key_span, value_node, index[key]))
                continue
            entry = Entry(key, key_span, value_node)
            entries.append(entry)
            index[key] = entry
            data[key] = value
        span = Span(self.doc.mark_position(event.start_mark), self.doc.mark_position(end))
        return (MappingNode(entries, span, bool(event.flow_style), index), data), size

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


def parse_yaml(text: str) -> SourceDocument:
    """Parse ``text``; never raises. Problems are reading problems only (HPO001-HPO009)."""
    problems: list[Problem] = []
    if len(text) > MAX_DOCUMENT_CHARS:
        message = f"The text is too large for a manifest ({len(text):,} characters; the limit is {MAX_DOCUMENT_CHARS:,}): it is not read."
        problems.append(reading_problem("HPO009", message, Span.at(0, 0, 0, 0)))
        return SourceDocument(text, None, None, tuple(problems), TextLines(text, [0]))
    raw_text = TextLines.of(text)
    if "\x00" in text:
        problems.append(reading_problem("HPO007", "The file holds NUL bytes: it is binary, not YAML text.", Span.at(0, 0, 0, 0)))
        return SourceDocument(text, None, None, tuple(problems))
    tabs = tab_problems(raw_text)
    builder = _Builder(raw_text)
    roots: list[tuple[Node | None, Any]] = []
    try:
        for root_node, root_data, start_mark in builder.documents(_events(text)):
            if roots:
                problems.append(
                    reading_problem(
                        "HPO004",
                        "A second YAML document starts here: a manifest is one document (remove the '---' and what follows, or split the file).",
                        second_document_span(raw_text, raw_text.mark_position(start_mark).line),
                    )
                )
                break
            roots.append((root_node, root_data))
    except _AliasBudgetExceeded as error:
        at = raw_text.mark_position(error.mark)
        message = (
            f"The alias '*{error.anchor}' expands the document past {MAX_ALIAS_EXPANSION:,} nodes "
            f"(aliases nested in aliases repeat their content): the file is not read further. Write the values out, or use fewer nested aliases."
        )
        problems.append(reading_problem("HPO008", message, Span(at, Position(at.line, at.column + 1 + len(error.anchor)))))
        return SourceDocument(text, None, None, tuple(problems), raw_text)
    except MarkedYAMLError as error:
        problem = syntax_problem(error, raw_text)
        problems.extend(tabs)
        tab_lines = {p.span.start.line for p in tabs}
        if problem.span.start.line not in tab_lines:
            problems.append(problem)
        return SourceDocument(text, None, None, tuple(problems))
    except (YAMLError, ValueError, RecursionError, UnicodeError, RuntimeError) as error:
        problems.append(reading_problem("HPO001", f"YAML syntax error: {error}", Span.at(0, 0, 0, 0)))
        return SourceDocument(text, None, None, tuple(problems))
    problems.extend(tabs)
    root, data = roots[0] if roots else (None, None)
    if root is None or (isinstance(root, ScalarNode) and root.value is None):
        problems.append(reading_problem("HPO005", "The file is empty: a manifest needs at least 'training_references'.", Span.at(0, 0, 0, 0)))
        return SourceDocument(text, None, None, tuple(problems))
    problems.extend(builder.problems)
    if not isinstance(root, MappingNode):
        kind = "a list" if isinstance(root, SequenceNode) else f"a single value ({raw_text.slice(root.span).strip()[:40]!r})"
        problems.append(
            reading_problem("HPO006", f"The top level is {kind}: a manifest is a mapping with keys such as 'settings' and 'training_references'.", first_line_span(raw_text, root.span))
        )
    return SourceDocument(text, root, data, tuple(sorted(problems, key=Problem.sort_key)), raw_text)


