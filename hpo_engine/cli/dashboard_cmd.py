"""``hpo dashboard``: a local web dashboard of the results, live while ``hpo run`` writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hpo_engine.errors import HpoError
from hpo_engine.runner.store import DEFAULT_RESULTS_ROOT
from hpo_engine.cli.reporting import error_console, report_hpo_error

__all__ = ["dashboard_command"]


def dashboard_command(
    path: Annotated[Path, typer.Argument(help="A results folder (a store, an experiment or the results root) or a manifest.")] = DEFAULT_RESULTS_ROOT,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: a free one).")] = 8080,
    host: Annotated[str, typer.Option("--host", help="Address to bind. Anything but loopback exposes the results to the network.")] = "127.0.0.1",
    results: Annotated[Path, typer.Option("--results", help="Results root, when PATH is a manifest.")] = DEFAULT_RESULTS_ROOT,
) -> None:
    """Serve a live page and optuna-dashboard over the results (read-only), following a run while it goes."""
    from hpo_engine.cli.dashboard import is_loopback, open_dashboard
    from hpo_engine.runner.results import find_store_folders

    errors = error_console()
    try:
        folders = find_store_folders(path, results_root=results)
        watched = [path] if path.is_dir() and not path.joinpath("trials.sqlite").is_file() else folders
        if not is_loopback(host):
            errors.print(
                f"warning: binding {host}: anyone who can reach this machine on port {port} can read these results "
                "(no authentication). Use the default --host 127.0.0.1 unless you mean it.",
                style="bold yellow", markup=False, highlight=False,
            )
        dashboard = open_dashboard(
            watched, host=host, port=port,
            on_error=lambda exc: errors.print(f"hpo dashboard: {exc}", markup=False, highlight=False),
        )
    except HpoError as exc:
        report_hpo_error(errors, exc, "dashboard", path)
        raise typer.Exit(1) from None
    typer.echo(f"hpo dashboard: {', '.join(dashboard.mirror.study_names) or 'no store yet'} at {dashboard.live_url} "
               f"(optuna-dashboard: {dashboard.url}; Ctrl-C to stop)")
    try:
        dashboard.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        dashboard.close()
