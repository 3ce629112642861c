"""``hpo plot``: analysis charts of stores, a PNG sheet by default or an interactive HTML page."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from hpo_engine.errors import HpoError
from hpo_engine.runner.store import DEFAULT_RESULTS_ROOT
from hpo_engine.cli.reporting import error_console, report_hpo_error

__all__ = ["plot_command"]


class PlotKind(str, Enum):
    history = "history"
    slice = "slice"
    parallel = "parallel"
    importance = "importance"
    contour = "contour"
    curves = "curves"


class Evaluator(str, Enum):
    ped_anova = "ped-anova"
    fanova = "fanova"


def plot_command(
    path: Annotated[Path, typer.Argument(help="A results folder (a store, an experiment or the results root) or a manifest.", show_default=False)],
    kind: Annotated[Optional[list[PlotKind]], typer.Option("--kind", "-k", help="Chart to draw (repeatable); default: a sheet of history, importance, parallel, curves, slice.", show_default=False)] = None,
    html: Annotated[bool, typer.Option("--html", help="Write a self-contained interactive HTML page (plotly, works offline) instead of a PNG.")] = False,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default: <store>/plot.png or plot.html). With several stores, one file comparing them.")] = None,
    importance: Annotated[Evaluator, typer.Option("--importance", help="Importance evaluator (Optuna's): ped-anova or fanova (needs scikit-learn).")] = Evaluator.ped_anova,
    results: Annotated[Path, typer.Option("--results", help="Results root, when PATH is a manifest.")] = DEFAULT_RESULTS_ROOT,
) -> None:
    """Draw what the search learned: history, slice, parallel coordinates, importance, contour, learning curves."""
    from hpo_engine.cli.plot import plot_results
    from hpo_engine.cli.plots.data import quiet_optuna
    from hpo_engine.runner.results import find_store_folders, load_results

    errors = error_console()
    kinds = [k.value for k in kind] if kind else None
    quiet_optuna()
    try:
        loaded = [load_results(folder) for folder in find_store_folders(path, results_root=results)]
        groups = [loaded] if output is not None else [[r] for r in loaded]
        for group in groups:
            written = plot_results(group, output, kinds=kinds, html=html, evaluator=importance.value)
            typer.echo(f"wrote {written}")
    except HpoError as exc:
        report_hpo_error(errors, exc, "plot", path)
        raise typer.Exit(1) from None
    except ImportError as exc:  # fANOVA without scikit-learn
        errors.print(f"hpo plot: {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None
