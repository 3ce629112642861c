"""``hpo results``: the trials of finished (or running) experiments, sorted by objective."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from hpo_engine.errors import HpoError
from hpo_engine.runner.store import DEFAULT_RESULTS_ROOT
from hpo_engine.cli.app import app
from hpo_engine.cli.reporting import error_console
from hpo_engine.cli.run_cmd import report_hpo_error

__all__ = ["results_command", "DEFAULT_ROWS"]

#: Trials the table shows without ``--limit`` or ``--all`` (the best ones).
DEFAULT_ROWS = 20


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command("results")
def results_command(
    path: Annotated[Path, typer.Argument(help="A results folder (a store, an experiment or the results root) or a manifest.", show_default=False)],
    output_format: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = OutputFormat.table,
    results: Annotated[Path, typer.Option("--results", help="Results root, when PATH is a manifest.")] = DEFAULT_RESULTS_ROOT,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help=f"Show the best N trials (table; default {DEFAULT_ROWS}).")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Show every trial (table); json and csv always hold every trial.")] = False,
) -> None:
    """Show the best trials (best first; 20 unless --limit or --all) and write best_config.json beside each store."""
    from hpo_engine.cli.progress import format_value, format_values, hidden_trials_note, results_table
    from hpo_engine.runner.results import BEST_CONFIG_FILENAME, find_store_folders, load_results, results_csv, results_json

    errors = error_console()
    try:
        tabled = output_format is OutputFormat.table
        loaded = [load_results(folder, with_metrics=not tabled) for folder in find_store_folders(path, results_root=results)]
        for result in loaded:
            result.write_best_config()
    except HpoError as exc:
        report_hpo_error(errors, exc, "results", path)
        raise typer.Exit(1) from None
    if output_format is OutputFormat.json:
        typer.echo(results_json(loaded))
        return
    if output_format is OutputFormat.csv:
        typer.echo(results_csv(loaded), nl=False)
        return
    console = Console()
    for result in loaded:
        experiment = result.experiment
        title = f"{experiment.experiment} / {experiment.reference}: {experiment.method}, {experiment.direction} {experiment.objective}"
        rows = None if show_all else (limit or DEFAULT_ROWS)
        console.print(results_table(experiment, result.trials, limit=rows, title=title, folder=result.folder))
        note = hidden_trials_note(result.trials, rows, result.folder)
        if note:
            console.print(note, style="dim", highlight=False, soft_wrap=True, markup=False)
        best = result.best
        if best is not None:
            console.print(
                f"best {experiment.objective} = {format_value(best.objective)} (trial {best.number}): {format_values(best.values)}",
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
            console.print(f"best configuration: {result.folder / BEST_CONFIG_FILENAME}", highlight=False, soft_wrap=True, markup=False)
        else:
            console.print("no trial completed yet", style="yellow", soft_wrap=True)
