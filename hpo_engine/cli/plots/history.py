"""``history``: the objective of each trial by number, the running best, failed and pruned trials marked."""

from __future__ import annotations

from typing import Any

from hpo_engine.cli.plots.axes import color_of, mark_unfinished
from hpo_engine.cli.plots.data import StoreView

__all__ = ["panels", "draw"]


def panels(views: list[StoreView]) -> int:
    return 1


def draw(axes: list[Any], views: list[StoreView], context: Any) -> None:
    """One panel: trials (0-based number) against the objective; one color per compared store."""
    from matplotlib.ticker import MaxNLocator

    ax = axes[0]
    first = views[0].experiment
    for index, view in enumerate(views):
        color = color_of(index, views)
        prefix = f"{view.label}: " if len(views) > 1 else ""
        ax.scatter([t.number for t in view.complete], [t.objective for t in view.complete], s=14, color=color,
                   alpha=0.75, label=f"{prefix}trial", zorder=3)
        if view.running_best:
            last = max(t.number for t in view.trials)
            xs = [n for n, _ in view.running_best] + [last]
            ys = [v for _, v in view.running_best] + [view.running_best[-1][1]]
            ax.step(xs, ys, where="post", color=color if len(views) > 1 else "tab:orange", zorder=2,
                    label=f"{prefix}best so far ({view.experiment.direction[:3]})")
        if view.best is not None:
            ax.scatter([view.best.number], [view.best.objective], s=110, facecolors="none", edgecolors="tab:green",
                       linewidths=2, label="best" if index == 0 else None, zorder=5)
        mark_unfinished(ax, [t.number for t in view.failed], [t.number for t in view.pruned], label=index == 0)
    ax.set_xlabel("trial")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(first.objective)
    title = first.experiment if len(views) > 1 else f"{first.experiment} / {first.reference}"
    ax.set_title(f"history: {title}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
