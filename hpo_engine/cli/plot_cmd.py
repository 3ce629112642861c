"""``hpo plot``: a PNG of the objective per trial and against each hyper-parameter."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from hpo_engine.errors import HpoError
from hpo_engine.runner.store import DEFAULT_RESULTS_ROOT
from hpo_engine.cli.app import app
from hpo_engine.cli.reporting import error_console
from hpo_engine.cli.run_cmd import report_hpo_error

__all__ = ["plot_command"]


@app.command("plot")
def plot_command(
    path: Annotated[Path, typer.Argument(help="A results folder (a store, an experiment or the results root) or a manifest.", show_default=False)],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="PNG file to write (default: <store>/plot.png).")] = None,
    results: Annotated[Path, typer.Option("--results", help="Results root, when PATH is a manifest.")] = DEFAULT_RESULTS_ROOT,
) -> None:
    """Draw the objective per trial (with the running best) and against each hyper-parameter."""
    from hpo_engine.cli.plot import plot_results
    from hpo_engine.runner.results import find_store_folders, load_results

    errors = error_console()
    try:
        folders = find_store_folders(path, results_root=results)
        if output is not None and len(folders) > 1:
            raise HpoError(
                f"{path} holds {len(folders)} result stores; name one of them, or omit --output to write plot.png in each: "
                + ", ".join(str(f) for f in folders)
            )
        for folder in folders:
            written = plot_results(load_results(folder), output)
            typer.echo(f"wrote {written}")
    except HpoError as exc:
        report_hpo_error(errors, exc, "plot", path)
        raise typer.Exit(1) from None
