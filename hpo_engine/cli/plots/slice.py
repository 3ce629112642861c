"""``slice``: the objective against each hyper-parameter (log axes for power ranges, labelled categories)."""

from __future__ import annotations

from typing import Any

from hpo_engine.cli.plots.axes import color_of, mark_unfinished, set_param_axis
from hpo_engine.cli.plots.data import StoreView, axis_for, coordinate

__all__ = ["panels", "draw"]


def _names(views: list[StoreView]) -> list[str]:
    names: dict[str, None] = {}
    for view in views:
        names.update(dict.fromkeys(view.parameter_names))
    return list(names)


def panels(views: list[StoreView]) -> int:
    return max(1, len(_names(views)))


def draw(axes: list[Any], views: list[StoreView], context: Any) -> None:
    """One panel per hyper-parameter; failed / pruned trials marked at their value along the bottom."""
    objective = views[0].experiment.objective
    for ax, name in zip(axes, _names(views)):
        axis = axis_for(name, views)
        for index, view in enumerate(views):
            points = [(coordinate(axis, t.values.get(name)), t.objective) for t in view.complete]
            points = [(x, y) for x, y in points if x is not None]
            ax.scatter([x for x, _ in points], [y for _, y in points], s=14, alpha=0.75, color=color_of(index, views),
                       label=view.label if len(views) > 1 else None, zorder=3)
            if view.best is not None:
                x = coordinate(axis, view.best.values.get(name))
                if x is not None:
                    ax.scatter([x], [view.best.objective], s=110, facecolors="none", edgecolors="tab:green", linewidths=2, zorder=5)
            failed = [coordinate(axis, t.values.get(name)) for t in view.failed]
            pruned = [coordinate(axis, t.values.get(name)) for t in view.pruned]
            mark_unfinished(ax, [x for x in failed if x is not None], [x for x in pruned if x is not None], label=False)
        set_param_axis(ax, axis, "x")
        ax.set_ylabel(objective)
        ax.set_title(f"slice: {name}", fontsize=10)
        ax.grid(alpha=0.3)
        if len(views) > 1:
            ax.legend(fontsize=7, loc="best")
