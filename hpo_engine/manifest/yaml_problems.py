"""Reading problems of YAML text (HPO001-HPO009): syntax errors placed where a person looks, tabs, second documents.

Spans are 0-based lines and code-point columns, always inside the text.
"""

from __future__ import annotations

import bisect
import re
from ruamel.yaml.error import MarkedYAMLError
from hpo_engine.manifest.problems import Problem, Severity
from hpo_engine.manifest.spans import Position, Span
from hpo_engine.manifest.yaml_document import TextLines


def reading_problem(code: str, message: str, span: Span) -> Problem:
    return Problem(code, Severity.ERROR, message, span)


def _word_span(text: TextLines, line: int, column: int) -> Span:
    """From ``column`` to the end of the non-blank run there (at least one character)."""
    content = text.line_text(line).rstrip("\r")
    column = min(column, len(content))
    end = column
    while end < len(content) and not content[end].isspace():
        end += 1
    if end == column:
        end = min(column + 1, len(content))
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


def syntax_problem(error: MarkedYAMLError, text: TextLines) -> Problem:
    """One problem for a YAML syntax error, placed where the mistake is.

    An unclosed ``[``, ``{`` or quote is reported where it opens (the parser only
    notices on a later line); other errors where the parser stopped.
    """
    problem = (error.problem or "syntax error").strip()
    context = (error.context or "").strip()
    opening = _CONTEXT_AT_OPENING.get(context)
    problem_at = text.mark_position(error.problem_mark) if error.problem_mark is not None else None
    context_at = text.mark_position(error.context_mark) if error.context_mark is not None else None
    if context == "while parsing a flow node" and problem_at is not None:
        # e.g. "a: [" or "a: [1," at the end of the text: the parser's marks are both at
        # the end, so find the bracket that is still open there.
        end = problem_at
        rest = text.text[text.offset(end) :].lstrip()
        opener = _unclosed_flow_opener(text, end) if rest == "" or rest.startswith(("...", "---")) else None
        if opener is not None:
            bracket = text.line_text(opener.line)[opener.column]
            message = f"YAML syntax error: '{bracket}' is never closed (the text ends on line {problem_at.line + 1})"
            return reading_problem("HPO001", message, Span.at(opener.line, opener.column, opener.line, opener.column + 1))
    if opening and context_at is not None:
        found = problem.replace("but found", "found").replace("but got", "found")
        message = f"YAML syntax error: {opening} ({found} on line {problem_at.line + 1})" if problem_at else f"YAML syntax error: {opening}"
        return reading_problem("HPO001", message, _char_span(text, context_at))
    line, column = problem_at or context_at or (0, 0)
    if "\t" in problem or "'\\t'" in problem:
        return reading_problem("HPO003", "A tab character is used for indentation: YAML indents with spaces only.", _char_span(text, Position(line, column)))
    message = f"YAML syntax error: {problem}"
    if context:
        message += f" ({context}"
        if context_at is not None and context_at.line != line:
            message += f" started on line {context_at.line + 1}"
        message += ")"
    return reading_problem("HPO001", message, _word_span(text, line, column))


def _char_span(text: TextLines, at: Position) -> Span:
    """The one character at ``at`` (zero width at the end of a line or of the text)."""
    width = 1 if at.column < len(text.line_text(at.line)) else 0
    return Span(at, Position(at.line, at.column + width))


_TAB_INDENT = re.compile(r"^ *\t", re.MULTILINE)


def tab_problems(text: TextLines) -> list[Problem]:
    """A problem for each line (up to 20) whose indentation holds a tab."""
    problems = []
    for match in _TAB_INDENT.finditer(text.text):
        line_no = bisect.bisect_right(text.line_starts, match.start()) - 1
        if not text.line_text(line_no).strip():
            continue
        column = match.end() - 1 - text.line_starts[line_no]
        problems.append(
            reading_problem(
                "HPO003",
                "A tab character is used for indentation: YAML indents with spaces only.",
                Span.at(line_no, column, line_no, column + 1),
            )
        )
        if len(problems) >= 20:
            break
    return problems


def first_line_span(text: TextLines, span: Span) -> Span:
    if span.end.line == span.start.line:
        return span
    return Span(span.start, Position(span.start.line, len(text.line_text(span.start.line).rstrip())))


def second_document_span(text: TextLines, start_line: int) -> Span:
    """The ``---`` line that starts the second document (searching upwards), else its first line."""
    for line_no in range(start_line, -1, -1):
        if text.line_text(line_no).startswith("---"):
            return Span.at(line_no, 0, line_no, 3)
    return Span.at(start_line, 0, start_line, len(text.line_text(start_line).rstrip()))
