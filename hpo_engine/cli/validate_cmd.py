"""``hpo validate FILE...``: problems as ``file:line:col: severity: message [code]``.

Exit codes: 0 without errors (``--strict``: without warnings either), 1 with
errors, 2 for usage errors or files that cannot be read.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hpo_engine.errors import ManifestError
from hpo_engine.manifest.problems import Severity
from hpo_engine.cli.gc_pause import gc_paused
from hpo_engine.manifest.validation import read_manifest_text, validate_text
from hpo_engine.cli.reporting import error_console, print_problems, problem_to_json, summary_line


class ProblemFormat(str, Enum):
    text = "text"
    json = "json"


def validate_command(
    files: Annotated[list[Path], typer.Argument(help="Manifest files to check.", show_default=False)],
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")] = False,
    output_format: Annotated[ProblemFormat, typer.Option("--format", help="text (one line per problem) or json.")] = ProblemFormat.text,
) -> None:
    """Check manifests against the schema and the rules a schema cannot say."""
    out = Console(highlight=False, soft_wrap=True)
    err = error_console()
    unreadable = False
    failed = False
    records = []
    for path in files:
        shown = str(path)
        try:
            text = read_manifest_text(path)
        except ManifestError as error:
            err.print(f"hpo validate: {error}", markup=False, highlight=False)
            unreadable = True
            continue
        with gc_paused():  # this process only: the CLI's own, short-lived
            result = validate_text(text, source_path=path.resolve())
        blocking = [p for p in result.problems if p.severity is Severity.ERROR or (strict and p.severity is Severity.WARNING)]
        failed = failed or bool(blocking)
        if output_format is ProblemFormat.json:
            records.extend(problem_to_json(shown, p) for p in result.problems)
            continue
        print_problems(shown, result.problems, out)
        if len(files) > 1 or result.problems:
            out.print(f"{shown}: {summary_line(result.problems)}", markup=False, highlight=False)
        else:
            out.print(f"{shown}: no problems", markup=False, highlight=False)
    if output_format is ProblemFormat.json:
        typer.echo(json.dumps(records, indent=2))
    if unreadable:
        raise typer.Exit(2)
    raise typer.Exit(1 if failed else 0)
