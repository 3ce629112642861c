"""``hpo export``: results into an Optuna storage (every Optuna tool then works on them), CSV or JSON."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from hpo_engine.errors import HpoError
from hpo_engine.runner.store import DEFAULT_RESULTS_ROOT
from hpo_engine.cli.reporting import error_console, report_hpo_error

__all__ = ["export_command"]


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"


def export_command(
    path: Annotated[Path, typer.Argument(help="A results folder (a store, an experiment or the results root) or a manifest.", show_default=False)],
    to: Annotated[Optional[str], typer.Option("--to", help="Optuna storage URL to write, e.g. sqlite:///study.db (one study per reference, named experiment/reference).", show_default=False)] = None,
    output_format: Annotated[Optional[ExportFormat], typer.Option("--format", help="csv or json on stdout (as `hpo results --format`).", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File for --format (default: stdout).", show_default=False)] = None,
    results: Annotated[Path, typer.Option("--results", help="Results root, when PATH is a manifest.")] = DEFAULT_RESULTS_ROOT,
) -> None:
    """Export an experiment's trials to an Optuna storage URL, or as CSV / JSON."""
    from hpo_engine.runner.results import find_store_folders, load_results, results_csv, results_json

    errors = error_console()
    try:
        if (to is None) == (output_format is None):
            raise HpoError("give exactly one of --to URL (an Optuna storage such as sqlite:///study.db) or --format csv|json")
        loaded = [load_results(folder) for folder in find_store_folders(path, results_root=results)]
        if to is not None:
            from hpo_engine.cli.plots.data import quiet_optuna
            from hpo_engine.runner.optuna_export import export_to_storage

            quiet_optuna()

            names = export_to_storage([(r.experiment, r.trials) for r in loaded], to)
            for name, result in zip(names, loaded):
                typer.echo(f"exported {len(result.trials)} trials of {result.folder} as study {name!r} to {to}")
            return
        text = results_json(loaded) + "\n" if output_format is ExportFormat.json else results_csv(loaded)
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {output}")
    except HpoError as exc:
        report_hpo_error(errors, exc, "export", path)
        raise typer.Exit(1) from None
