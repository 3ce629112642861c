"""Printing problems the way compilers do (``file:line:col: severity: message [code]``, 1-based), and
the commands' one-line errors (``hpo <command>: <message>`` on stderr)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

from hpo_engine.errors import HpoError, ManifestError
from hpo_engine.manifest.problems import Problem, Severity

if TYPE_CHECKING:
    from hpo_engine.manifest.model import Manifest

__all__ = [
    "format_problem", "problem_to_json", "print_problems", "summary_line", "error_console",
    "report_error", "report_hpo_error", "load_manifest_or_exit",
]

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def error_console() -> Console:
    """A console on stderr (no colour when it is not a terminal)."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def format_problem(path: str, problem: Problem) -> str:
    """One plain line, 1-based line and column (the message itself says "did you mean ..." when it can)."""
    start = problem.span.start
    return f"{path}:{start.line + 1}:{start.column + 1}: {problem.severity.value}: {problem.message} [{problem.code}]"


def problem_to_json(path: str, problem: Problem) -> dict[str, Any]:
    """The JSON form ``{file, line, column, end_line, end_column, severity, code, message, suggestions}`` (1-based)."""
    return {
        "file": path,
        "line": problem.span.start.line + 1,
        "column": problem.span.start.column + 1,
        "end_line": problem.span.end.line + 1,
        "end_column": problem.span.end.column + 1,
        "severity": problem.severity.value,
        "code": problem.code,
        "message": problem.message,
        "suggestions": [
            {
                "title": s.title,
                "replacement": s.replacement,
                "edits": [
                    {
                        "line": e.span.start.line + 1,
                        "column": e.span.start.column + 1,
                        "end_line": e.span.end.line + 1,
                        "end_column": e.span.end.column + 1,
                        "new_text": e.new_text,
                    }
                    for e in s.edits
                ],
            }
            for s in problem.suggestions
        ],
    }


def print_problems(path: str, problems: Iterable[Problem], console: Console) -> None:
    """Print each problem on its own line, coloured by severity when the console is a terminal."""
    for problem in problems:
        line = escape(format_problem(path, problem))
        console.print(f"[{_STYLE[problem.severity]}]{line}[/]" if console.is_terminal else line, highlight=False)


def summary_line(problems: Iterable[Problem]) -> str:
    """``"1 error, 2 warnings"`` or ``"no problems"``."""
    problems = list(problems)
    counts = []
    for severity, word in ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "info")):
        n = sum(1 for p in problems if p.severity is severity)
        if n:
            counts.append(f"{n} {word}{'s' if n != 1 and word != 'info' else ''}")
    return ", ".join(counts) if counts else "no problems"


def report_error(console: Console, message: str, command: str = "run") -> None:
    """One clear line on stderr: ``hpo <command>: <message>``."""
    console.print(f"hpo {command}: {message}", markup=False, highlight=False, soft_wrap=True)


def report_hpo_error(console: Console, error: HpoError, command: str, path: Path) -> None:
    """A manifest's problems as ``hpo validate`` prints them; any other error as one line."""
    if isinstance(error, ManifestError) and error.problems:
        print_problems(str(path), error.problems, console)
    else:
        report_error(console, str(error), command)


def load_manifest_or_exit(path: Path, errors: Console, command: str = "run") -> Manifest:
    """The manifest at ``path``; on errors print validate's lines (or one line, ``hpo <command>: ...``) and exit 1."""
    from hpo_engine.manifest.validation import load_manifest
    from hpo_engine.runner.run_control import EXIT_ERROR

    try:
        return load_manifest(path)
    except ManifestError as exc:
        if exc.problems:
            print_problems(str(path), exc.problems, errors)
        else:
            report_error(errors, str(exc), command)
        raise typer.Exit(EXIT_ERROR) from None
