"""``contour``: the objective over the two most important hyper-parameters (first store).

A filled contour of the objective interpolated over the complete trials (matplotlib's
triangulation, in log coordinates for power ranges and positions for categories) with the
trials on top; failed trials as red crosses.
"""

from __future__ import annotations

import math
from typing import Any

from hpo_engine.cli.plots.axes import empty_panel, set_param_axis
from hpo_engine.cli.plots.data import StoreView, axis_for, coordinate

__all__ = ["panels", "draw"]


def panels(views: list[StoreView]) -> int:
    return 1


def _pair(view: StoreView, context: Any) -> list[str]:
    ranked = list(context.importance(view) or {})
    names = ranked + [n for n in view.parameter_names if n not in ranked]
    return names[:2]


def draw(axes: list[Any], views: list[StoreView], context: Any) -> None:
    import numpy as np

    ax = axes[0]
    view = views[0]
    pair = _pair(view, context)
    if len(pair) < 2:
        empty_panel(ax, "contour", "needs two hyper-parameters")
        return
    axis_x, axis_y = axis_for(pair[0], [view]), axis_for(pair[1], [view])
    points = [(coordinate(axis_x, t.values.get(pair[0])), coordinate(axis_y, t.values.get(pair[1])), t.objective) for t in view.complete]
    points = [p for p in points if p[0] is not None and p[1] is not None]
    if not points:
        empty_panel(ax, "contour", "no complete trial yet")
        return
    xs, ys, zs = (np.array([p[i] for p in points], dtype=float) for i in range(3))
    tx = np.log(xs) if axis_x.scale == "log" else xs
    ty = np.log(ys) if axis_y.scale == "log" else ys
    distinct = len({(a, b) for a, b in zip(tx, ty)})
    if distinct >= 4 and np.ptp(tx) > 0 and np.ptp(ty) > 0:
        from matplotlib.tri import Triangulation

        try:
            # normalize so the triangulation is not skewed by the axes' units
            grid = Triangulation((tx - tx.min()) / np.ptp(tx), (ty - ty.min()) / np.ptp(ty))
            filled = ax.tricontourf(
                Triangulation(np.exp(tx) if axis_x.scale == "log" else tx, np.exp(ty) if axis_y.scale == "log" else ty, grid.triangles),
                zs, levels=12, cmap="viridis", alpha=0.8,
            )
            ax.figure.colorbar(filled, ax=ax, label=view.experiment.objective)
        except (ValueError, RuntimeError):  # degenerate triangulation: points only
            pass
    ax.scatter(xs, ys, c=zs, cmap="viridis", edgecolors="black", linewidths=0.4, s=16, zorder=3)
    failed = [(coordinate(axis_x, t.values.get(pair[0])), coordinate(axis_y, t.values.get(pair[1]))) for t in view.failed]
    failed = [f for f in failed if f[0] is not None and f[1] is not None and all(math.isfinite(v) for v in f)]
    if failed:
        ax.scatter([f[0] for f in failed], [f[1] for f in failed], marker="x", color="tab:red", zorder=4, label="failed")
        ax.legend(fontsize=7, loc="best")
    set_param_axis(ax, axis_x, "x")
    set_param_axis(ax, axis_y, "y")
    ax.set_title(f"contour: {view.label}", fontsize=10)
