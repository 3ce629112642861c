"""``parallel``: parallel coordinates, one vertical axis per hyper-parameter and one for the objective.

Each axis is scaled to 0..1: by log for power ranges, by position for categories, linearly
otherwise. Complete trials are lines colored by objective (one color per store when several
are compared); failed trials are dashed red lines over the hyper-parameter axes only.
"""

from __future__ import annotations

import math
from typing import Any

from hpo_engine.cli.plots.axes import empty_panel
from hpo_engine.cli.plots.data import COLORS, Axis, StoreView, axis_for, coordinate
from hpo_engine.cli.plots.slice import _names

__all__ = ["panels", "draw"]


def panels(views: list[StoreView]) -> int:
    return 1


def _scaler(axis: Axis, values: list[float]) -> tuple[Any, list[tuple[float, str]]]:
    """A function value -> 0..1 for ``axis`` and the (position, text) ticks to print beside it."""
    if axis.scale == "category":
        count = max(1, len(axis.categories) - 1)
        return (lambda x: x / count), [(i / count, c) for i, c in enumerate(axis.categories)]
    log = axis.scale == "log"
    data = [math.log(v) if log else v for v in values]
    low, high = (min(data), max(data)) if data else (0.0, 1.0)
    span = (high - low) or 1.0

    def scale(x: float) -> float:
        return ((math.log(x) if log else x) - low) / span

    ends = [math.exp(low), math.exp(high)] if log else [low, high]
    return scale, [(0.0, f"{ends[0]:.3g}"), (1.0, f"{ends[1]:.3g}")]


def draw(axes: list[Any], views: list[StoreView], context: Any) -> None:
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection

    ax = axes[0]
    names = _names(views)
    complete = [(i, t) for i, v in enumerate(views) for t in v.complete]
    if not names or not complete:
        empty_panel(ax, "parallel coordinates", "no complete trial yet")
        return
    objective = views[0].experiment.objective
    columns = [axis_for(n, views) for n in names]
    scalers = []
    for axis in columns:
        seen = [coordinate(axis, t.values.get(axis.name)) for v in views for t in v.trials]
        scalers.append(_scaler(axis, [x for x in seen if x is not None]))
    objectives = [t.objective for _, t in complete]
    low, high = min(objectives), max(objectives)
    span = (high - low) or 1.0

    def line(trial: Any, with_objective: bool) -> list[tuple[float, float]] | None:
        points = []
        for position, (axis, (scale, _)) in enumerate(zip(columns, scalers)):
            x = coordinate(axis, trial.values.get(axis.name))
            if x is None:
                return None
            points.append((float(position), scale(x)))
        if with_objective:
            points.append((float(len(columns)), (trial.objective - low) / span))
        return points

    colormap = colormaps["viridis"]
    segments, colors = [], []
    for index, trial in complete:
        points = line(trial, True)
        if points is not None:
            segments.append(points)
            colors.append(COLORS[index % len(COLORS)] if len(views) > 1 else colormap((trial.objective - low) / span))
    ax.add_collection(LineCollection(segments, colors=colors, linewidths=0.9, alpha=0.6))
    failed = [p for v in views for t in v.failed if (p := line(t, False)) is not None]
    if failed:
        ax.add_collection(LineCollection(failed, colors="tab:red", linewidths=0.8, linestyles="dashed", alpha=0.5,
                                         label=f"failed ({len(failed)})"))
        ax.legend(fontsize=7, loc="upper right")
    ticks = [t for _, t in scalers] + [[(0.0, f"{low:.3g}"), (1.0, f"{high:.3g}")]]
    for position, column_ticks in enumerate(ticks):
        ax.axvline(position, color="0.3", linewidth=0.8)
        for y, text in column_ticks:
            ax.text(position + 0.04, y, text, fontsize=7, va="center", color="0.2")
    ax.set_xticks(range(len(ticks)))
    ax.set_xticklabels([a.label for a in columns] + [objective], rotation=20, fontsize=8)
    ax.set_yticks([])
    ax.set_xlim(-0.2, len(ticks) - 0.6)
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("parallel coordinates", fontsize=10)
