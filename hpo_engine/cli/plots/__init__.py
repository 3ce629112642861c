"""``hpo plot`` kinds: one module per kind, the :data:`KINDS` table, PNG sheets and HTML pages.

Each kind module has ``panels(views) -> int`` (how many axes it needs) and
``draw(axes, views, context)``. :func:`plot_png` lays the chosen kinds out on one sheet;
:func:`hpo_engine.cli.plots.html.plot_html` writes the interactive (plotly) page.
Several stores (references of one experiment) are drawn together for comparison.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpo_engine.cli.plots.data import StoreView, view_of
from hpo_engine.runner.store import TrialRecord

__all__ = ["KINDS", "DEFAULT_KINDS", "PlotContext", "plot_png", "view_of", "StoreView"]

#: Kind name -> module (under ``hpo_engine.cli.plots``) drawing it; in sheet order.
KINDS: dict[str, str] = {
    "history": "history",
    "importance": "importance",
    "parallel": "parallel",
    "curves": "curves",
    "contour": "contour",
    "slice": "slice",
}
#: The default sheet: the most useful kinds (``curves`` only where trials recorded per-step values).
DEFAULT_KINDS = ("history", "importance", "parallel", "curves", "slice")
#: One panel's cell on the sheet, (width, height) in inches.
PANEL_SIZE = (4.6, 3.6)
#: Space around each panel's axes for its tick labels, axis labels and title, (left, right, bottom, top) in inches.
PANEL_MARGINS = (0.95, 0.2, 0.75, 0.4)


def kind_module(kind: str) -> Any:
    return importlib.import_module(f"hpo_engine.cli.plots.{KINDS[kind]}")


@dataclass
class PlotContext:
    """What several kinds share, computed once per drawing: importances and learning curves."""

    evaluator: str = "ped-anova"
    _importance: dict[int, dict[str, float] | None] = field(default_factory=dict)
    _curves: dict[tuple[int, int], list[tuple[int, float]]] = field(default_factory=dict)

    def importance(self, view: StoreView) -> dict[str, float] | None:
        from hpo_engine.cli.plots.importance import importances

        if id(view) not in self._importance:
            self._importance[id(view)] = importances(view, self.evaluator)
        return self._importance[id(view)]

    def curve(self, view: StoreView, trial: TrialRecord) -> list[tuple[int, float]]:
        from hpo_engine.runner.optuna_export import trial_curve

        key = (id(view), trial.number)
        if key not in self._curves:
            live = view.live_curves.get(trial.number)
            self._curves[key] = list(live) if live else trial_curve(trial, view.experiment.objective)
        return self._curves[key]


def resolve_kinds(kinds: list[str] | None, views: list[StoreView], context: PlotContext) -> list[str]:
    """The kinds to draw: those asked for, or the default sheet (without ``curves`` when there are none)."""
    if kinds:
        return list(dict.fromkeys(kinds))
    chosen = list(DEFAULT_KINDS)
    if not kind_module("curves").has_curves(views, context):
        chosen.remove("curves")
    return chosen


def plot_png(views: list[StoreView], output: Path, *, kinds: list[str] | None = None, evaluator: str = "ped-anova", dpi: int = 100) -> Path:
    """Draw ``kinds`` (default sheet) of ``views`` into the PNG ``output``; returns ``output``.

    Panels are :data:`PANEL_SIZE` inches with :data:`PANEL_MARGINS`, at most 3 per row; matplotlib
    runs with the Agg backend.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    context = PlotContext(evaluator=evaluator)
    chosen = resolve_kinds(kinds, views, context)
    modules = [kind_module(k) for k in chosen]
    counts = [m.panels(views) for m in modules]
    total = sum(counts)
    columns = min(3, total)
    rows = -(-total // columns)
    width, height = PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows
    figure, grid = plt.subplots(rows, columns, figsize=(width, height), squeeze=False)
    # Fixed margins (inches, the same for every panel) instead of tight_layout, which measures
    # every text of the sheet once more (a third of the drawing's CPU).
    left, right, bottom, top = PANEL_MARGINS
    figure.subplots_adjust(
        left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
        wspace=(left + right) / (PANEL_SIZE[0] - left - right), hspace=(bottom + top) / (PANEL_SIZE[1] - bottom - top),
    )
    flat = [ax for row in grid for ax in row]
    for ax in flat[total:]:
        ax.set_visible(False)
    start = 0
    for module, count in zip(modules, counts):
        module.draw(flat[start:start + count], views, context)
        start += count
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=dpi, format="png")
    plt.close(figure)
    return output
