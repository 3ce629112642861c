"""``hpo results``: the trials of finished (or running) experiments, sorted by objective."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from hpo_engine.errors import HpoError
from hpo_engine.runner.store import DEFAULT_RESULTS_ROOT
from hpo_engine.cli.reporting import error_console, report_error, report_hpo_error

__all__ = ["results_command", "DEFAULT_ROWS"]

#: Trials the table shows without ``--limit`` or ``--all`` (the best ones).
DEFAULT_ROWS = 20


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def results_command(
    path: Annotated[str, typer.Argument(help="A results folder (a store, an experiment or the results root), a manifest, or s3://BUCKET/PREFIX of uploaded results.", show_default=False)],
    output_format: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = OutputFormat.table,
    results: Annotated[Path, typer.Option("--results", help="Results root, when PATH is a manifest.")] = DEFAULT_RESULTS_ROOT,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help=f"Show the best N trials (table; default {DEFAULT_ROWS}).")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Show every trial (table); json and csv always hold every trial.")] = False,
    endpoint_url: Annotated[Optional[str], typer.Option("--endpoint-url", metavar="URL", help="With s3://: the S3 server (default: $AWS_ENDPOINT_URL, else AWS). Credentials come from $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY.")] = None,
) -> None:
    """Show the best trials (best first; 20 unless --limit or --all) and write best_config.json beside each store.

    With s3://BUCKET/PREFIX, the store snapshots uploaded under it are read back (nothing is written).
    """
    rows = None if show_all else (limit or DEFAULT_ROWS)
    if path.startswith("s3://"):
        _s3_results(path, endpoint_url, output_format, rows)
        return
    from hpo_engine.runner.results import find_store_folders, load_results, results_csv, results_json

    errors = error_console()
    try:
        tabled = output_format is OutputFormat.table
        loaded = [load_results(folder, with_metrics=not tabled) for folder in find_store_folders(Path(path), results_root=results)]
        for result in loaded:
            result.write_best_config()
    except HpoError as exc:
        report_hpo_error(errors, exc, "results", Path(path))
        raise typer.Exit(1) from None
    if output_format is OutputFormat.json:
        typer.echo(results_json(loaded))
        return
    if output_format is OutputFormat.csv:
        typer.echo(results_csv(loaded), nl=False)
        return
    _print_tables(loaded, rows)


def _s3_results(url: str, endpoint_url: str | None, output_format: OutputFormat, limit: int | None) -> None:
    """``hpo results s3://...``: download the snapshots into a temporary folder and show them."""
    from urllib.parse import urlsplit

    from hpo_engine.runner.results import load_results, results_csv
    from hpo_engine.runner.storage.config import S3Connection, S3Location
    from hpo_engine.runner.storage.results_upload import download_stores, temporary_folder

    errors = error_console()
    parts = urlsplit(url)
    if not parts.netloc:
        report_error(errors, f"{url}: expected s3://BUCKET/PREFIX", "results")
        raise typer.Exit(1)
    location = S3Location(S3Connection(endpoint_url=endpoint_url), parts.netloc, parts.path.strip("/"))
    with temporary_folder() as scratch:
        try:
            found = download_stores(location, Path(scratch))
            loaded = [load_results(folder) for folder, _ in found]
            where = [remote for _, remote in found]
        except HpoError as exc:
            report_error(errors, str(exc), "results")
            raise typer.Exit(1) from None
        if output_format is OutputFormat.json:
            typer.echo(json.dumps({"experiments": [{**r.to_json(), "store": url} for r, url in zip(loaded, where)]}, indent=2))
        elif output_format is OutputFormat.csv:
            typer.echo(results_csv(loaded), nl=False)
        else:
            _print_tables(loaded, limit, where)


def _print_tables(loaded: list, limit: int | None, where: list[str] | None = None) -> None:
    """One table per store; ``where`` names them when they were read from a bucket (no best_config.json written)."""
    from hpo_engine.cli.progress import format_value, format_values, hidden_trials_note, results_table
    from hpo_engine.runner.results import BEST_CONFIG_FILENAME

    console = Console()
    for index, result in enumerate(loaded):
        experiment = result.experiment
        title = f"{experiment.experiment} / {experiment.reference}: {experiment.method}, {experiment.direction} {experiment.objective}"
        console.print(results_table(experiment, result.trials, limit=limit, title=title, folder=where[index] if where else result.folder))
        note = hidden_trials_note(result.trials, limit, where[index] if where else result.folder)
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
            if where is None:
                console.print(f"best configuration: {result.folder / BEST_CONFIG_FILENAME}", highlight=False, soft_wrap=True, markup=False)
        else:
            console.print("no trial completed yet", style="yellow", soft_wrap=True)
