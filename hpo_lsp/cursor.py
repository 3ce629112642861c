"""Where the cursor is in a manifest, from the text alone (works on YAML that does not parse).

Completion and hover run while the user types, when the document is usually not
valid YAML. This module reads the block structure from indentation, the way a
person does: each line is split into *elements* (``- `` item markers and
``key:`` keys, with their columns); the parent of a node is the nearest element
above it with a smaller column, and an item marker at the same column as a
``key:`` above it belongs to that key (an indentless sequence). The result is the
document path of the mapping the cursor is in, e.g.
``("training_references", 0, "hyper_parameters_optimization", "hyper_parameters", 3, "double_range")``.

Positions are engine positions: 0-based lines, 0-based columns in code points.
Flow collections (``[a, b]``, ``{a: 1}``) are not walked into; a value being typed
after ``key: [`` is reported with ``in_flow``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Element", "CursorContext", "line_elements", "cursor_context", "path_of_line", "looks_like_manifest", "MANIFEST_KEYS"]

#: A YAML document is a manifest when its top level has one of these keys.
MANIFEST_KEYS = ("training_references", "hyper_parameters_optimization")

_MANIFEST_RE = re.compile(r"^(?:training_references|hyper_parameters_optimization|[\"'](?:training_references|hyper_parameters_optimization)[\"'])[ \t]*:", re.M)
_KEY_RE = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\[\]{},&*!|>%@`-][^:#]*?|-[^\s:#][^:#]*?)[ \t]*:(?=[ \t]|$)""")
_DASH_RE = re.compile(r"-(?:[ \t]+|$)")
_DASH_IN_PREFIX_RE = re.compile(r"-[ \t]+")


def looks_like_manifest(text: str) -> bool:
    """True when a line at column 0 is ``training_references:`` or ``hyper_parameters_optimization:``."""
    return _MANIFEST_RE.search(text) is not None


@dataclass(frozen=True, slots=True)
class Element:
    """One structural token of a line: ``kind`` is ``"dash"`` (an item marker), ``"key"`` or ``"text"``.

    ``column`` is 0-based (code points); a key has its unquoted ``key``, the
    column where it ends (``key_end``) and its inline ``value`` ('' when none).
    """

    kind: str
    column: int
    key: str = ""
    key_end: int = 0
    value: str = ""
    value_column: int = 0


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _strip_comment(text: str) -> str:
    """Drop a trailing ``# comment`` (a ``#`` at the start or after a blank, outside quotes)."""
    quote = ""
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'" and (index == 0 or text[index - 1] in " \t:[{,"):
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] in " \t"):
            return text[:index].rstrip()
    return text.rstrip()


def line_elements(line: str) -> list[Element]:
    """The structural elements of one line, left to right (none for blank and comment lines)."""
    stripped = line.lstrip(" \t")
    if not stripped or stripped.startswith("#") or stripped.startswith("---") or stripped.startswith("..."):
        return []
    elements: list[Element] = []
    pos = len(line) - len(stripped)
    while True:
        match = _DASH_RE.match(line, pos)
        if not match:
            break
        elements.append(Element("dash", pos))
        pos = match.end()
    if pos >= len(line):
        return elements
    match = _KEY_RE.match(line, pos)
    if match:
        value_start = match.end()
        rest = line[value_start:]
        value = _strip_comment(rest).strip()
        value_column = value_start + (len(rest) - len(rest.lstrip(" \t")))
        elements.append(Element("key", pos, _unquote(match.group(1).strip()), match.start(1) + len(match.group(1)), _unquote(value), value_column))
    elif not line[pos:].startswith("#"):
        elements.append(Element("text", pos))
    return elements


@dataclass(frozen=True, slots=True)
class CursorContext:
    """What the cursor is on.

    * ``kind``: ``"key"`` (typing a key, or on a blank place where one could go),
      ``"value"`` (after ``key:``) or ``"none"`` (in a comment, past a flow value...).
    * ``container``: path of the mapping holding the key (for ``"key"``) or the key
      whose value is typed (for ``"value"``, ``path`` adds ``key``).
    * ``key``: the key whose value is typed, or the partial key typed so far.
    * ``word`` and ``word_start``: the partial word before the cursor and its column
      (what a completion replaces); ``word_end`` where that word ends after the cursor.
    * ``siblings``: the other keys of the container mapping with their inline values.
    * ``indent``: the column of the container's keys.
    * ``in_flow``: the value is inside ``[...]`` or ``{...}``.
    * ``item_start``: the cursor is right after a ``- `` with nothing typed yet.
    """

    kind: str
    container: tuple = ()
    key: str = ""
    word: str = ""
    word_start: int = 0
    word_end: int = 0
    siblings: dict[str, str] = field(default_factory=dict)
    indent: int = 0
    in_flow: bool = False
    item_start: bool = False
    line: int = 0

    @property
    def path(self) -> tuple:
        """The document path of the node under the cursor (container + key for a value)."""
        return self.container + (self.key,) if self.kind == "value" else self.container


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _ancestors(lines: Sequence[str], line: int, own: Sequence[Element], column: int, mode: str) -> tuple:
    """Path of the node at ``column`` on ``line``. ``own`` are the elements of that line left
    of the node (item markers), nearest first; ``mode`` is ``"key"`` when the node is a
    mapping key, ``"dash"`` when it is an item marker. Lines indented past every
    candidate are skipped without being parsed (fast on large files)."""
    path: list = []
    index = 0

    def visit(element: Element) -> None:
        nonlocal mode, column, index
        if element.kind == "text":
            return
        if mode == "key":
            if element.column >= column:
                return
            if element.kind == "key":
                path.insert(0, element.key)
                column = element.column
            else:
                mode, column, index = "dash", element.column, 0
        else:  # looking for the parent of an item whose dash is at ``column``
            if element.column > column:
                return
            if element.kind == "dash" and element.column == column:
                index += 1
                return
            path.insert(0, index)
            if element.kind == "key":
                path.insert(0, element.key)
                mode, column = "key", element.column
            else:
                mode, column, index = "dash", element.column, 0

    for element in own:
        visit(element)
    for number in range(min(line, len(lines)) - 1, -1, -1):
        text = lines[number]
        indent = _indent(text)
        if indent > column or (mode == "key" and indent >= column):
            continue  # deeper than anything that can be a parent or a counted sibling
        for element in reversed(line_elements(text)):
            visit(element)
        if mode == "key" and column == 0:
            break
    if mode == "dash":
        path.insert(0, index)
    return tuple(path)


def _siblings(lines: Sequence[str], line: int, column: int, own: Sequence[Element]) -> dict[str, str]:
    """Keys at ``column`` in the mapping around ``line`` (above and below), with inline values."""
    found: dict[str, str] = {}
    for element in own:
        if element.kind == "key" and element.column == column:
            found.setdefault(element.key, element.value)
    # An item marker on this line left of the keys starts a new mapping here.
    stop = any(e.kind == "dash" and e.column < column for e in own)
    for number in ([] if stop else range(min(line, len(lines)) - 1, -1, -1)):
        text = lines[number]
        if _indent(text) > column:
            continue
        elements = list(reversed(line_elements(text)))
        for element in elements:
            if element.kind == "text" or element.column > column:
                continue
            if element.column == column and element.kind == "key":
                found.setdefault(element.key, element.value)
                continue
            if element.column == column and element.kind == "dash":
                continue
            stop = True
            break
        if stop:
            break
    for number in range(line + 1, len(lines)):
        if _indent(lines[number]) > column:
            continue
        elements = line_elements(lines[number])
        if not elements:
            continue
        first = next((e for e in elements if e.kind != "text"), None)
        if first is None:
            continue
        if first.column < column:
            break
        if first.column == column and first.kind == "dash":
            continue
        for element in elements:
            if element.kind == "key" and element.column == column:
                found.setdefault(element.key, element.value)
    return found


def path_of_line(lines: Sequence[str], line: int, column: int | None = None) -> tuple:
    """The path of the key written on ``line`` (or of the mapping at ``column`` on a blank line)."""
    return cursor_context(lines, line, column if column is not None else len(lines[line]) if line < len(lines) else 0).path


def cursor_context(lines: Sequence[str], line: int, column: int) -> CursorContext:
    """The :class:`CursorContext` at 0-based ``line`` and ``column`` (code points) of ``lines``.

    Never raises for positions past the end: they are clamped.
    """
    if not lines:
        return CursorContext("key")
    line = min(max(line, 0), len(lines) - 1)
    text = lines[line]
    column = min(max(column, 0), len(text))
    prefix = text[:column]
    after = text[column:]
    word_tail = re.match(r"[^\s:,\]\}#]*", after)
    word_end = column + (len(word_tail.group(0)) if word_tail else 0)

    if prefix.lstrip().startswith("#") or ("#" in prefix and re.search(r"(^|\s)#", prefix)):
        return CursorContext("none", line=line)

    indent = len(prefix) - len(prefix.lstrip(" \t"))
    pos = indent
    dashes: list[Element] = []
    while True:
        match = _DASH_IN_PREFIX_RE.match(prefix, pos)
        if not match:
            break
        dashes.append(Element("dash", pos))
        pos = match.end()
    rest = prefix[pos:]
    own = line_elements(text)
    key_match = _KEY_RE.match(text, pos) if rest else None
    if key_match and key_match.end() <= column:
        key = _unquote(key_match.group(1).strip())
        value_text = text[key_match.end():column]
        stripped_value = value_text.lstrip(" \t")
        value_start = key_match.end() + (len(value_text) - len(stripped_value))
        in_flow = stripped_value.startswith(("[", "{"))
        word, word_start = stripped_value, value_start
        if in_flow:
            cut = max(stripped_value.rfind(c) for c in "[{,") + 1
            tail = stripped_value[cut:]
            word = tail.lstrip()
            word_start = value_start + cut + (len(tail) - len(word))
        if word[:1] and word[:1] in "\"'":
            word, word_start = word[1:], word_start + 1
        ancestors = _ancestors(lines, line, list(reversed(dashes)), pos, "key")
        siblings = _siblings(lines, line, pos, own)
        return CursorContext(
            "value", ancestors, key, word, word_start, word_end, siblings, pos, in_flow, False, line
        )

    if rest.strip() == "":
        key_column = column if not dashes else pos
        if not dashes and rest:
            key_column = column
        word, word_start = "", column
    else:
        key_column = pos
        word, word_start = rest.strip(), pos
        if word[:1] and word[:1] in "\"'":
            word, word_start = word[1:], word_start + 1
    container = _ancestors(lines, line, list(reversed(dashes)), key_column, "key")
    other = [e for e in own if not (e.kind == "key" and e.column == key_column)]
    siblings = _siblings(lines, line, key_column, other)
    return CursorContext(
        "key", container, word, word, word_start, word_end, siblings, key_column, False, bool(dashes) and not rest.strip(), line
    )
