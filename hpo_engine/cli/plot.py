"""``hpo plot``: PNG sheets (and HTML pages) of one or several stores; the kinds are in :mod:`hpo_engine.cli.plots`."""

from __future__ import annotations

from pathlib import Path

from hpo_engine.runner.results import StoreResults

__all__ = ["plot_results", "DEFAULT_PLOT_FILENAME", "DEFAULT_HTML_FILENAME"]

DEFAULT_PLOT_FILENAME = "plot.png"
DEFAULT_HTML_FILENAME = "plot.html"


def plot_results(
    results: StoreResults | list[StoreResults],
    output: Path | None = None,
    *,
    kinds: list[str] | None = None,
    html: bool = False,
    evaluator: str = "ped-anova",
    dpi: int = 100,
) -> Path:
    """Draw ``results`` (one store, or several compared) into ``output``; returns the path written.

    ``output`` defaults to ``plot.png`` (``plot.html`` with ``html``) in the first store's folder.
    """
    from hpo_engine.cli.plots import plot_png, view_of

    stores = results if isinstance(results, list) else [results]
    views = [view_of(r) for r in stores]
    if len({v.label for v in views}) < len(views):  # same reference names in different experiments
        views = [view_of(r, label=f"{r.experiment.experiment}/{r.experiment.reference}") for r in stores]
    if output is None:
        output = stores[0].folder / (DEFAULT_HTML_FILENAME if html else DEFAULT_PLOT_FILENAME)
    if html:
        from hpo_engine.cli.plots.html import plot_html

        return plot_html(views, Path(output), kinds=kinds, evaluator=evaluator)
    return plot_png(views, Path(output), kinds=kinds, evaluator=evaluator, dpi=dpi)
