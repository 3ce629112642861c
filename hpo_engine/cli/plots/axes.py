"""matplotlib helpers shared by the plot kinds: parameter axes, markers for failed and pruned trials."""

from __future__ import annotations

from typing import Any

from hpo_engine.cli.plots.data import Axis, StoreView

__all__ = ["set_param_axis", "mark_unfinished", "empty_panel", "color_of"]


def color_of(index: int, views: list[StoreView]) -> str:
    from hpo_engine.cli.plots.data import COLORS

    return COLORS[index % len(COLORS)] if len(views) > 1 else "tab:blue"


def set_param_axis(ax: Any, axis: Axis, which: str = "x") -> None:
    """Scale and label one axis of ``ax`` for a hyper-parameter: log, category ticks or linear."""
    setter = ax.set_xlabel if which == "x" else ax.set_ylabel
    setter(axis.label)
    if axis.scale == "log":
        low, _ = ax.dataLim.intervalx if which == "x" else ax.dataLim.intervaly
        if not (0 < low < float("inf")):  # nothing drawn in data coordinates yet: keep it linear
            return
        (ax.set_xscale if which == "x" else ax.set_yscale)("log", base=axis.base)
    elif axis.scale == "category":
        positions = range(len(axis.categories))
        if which == "x":
            ax.set_xticks(positions)
            ax.set_xticklabels(axis.categories, rotation=30 if len(axis.categories) > 4 else 0, fontsize=8)
            ax.set_xlim(-0.5, len(axis.categories) - 0.5)
        else:
            ax.set_yticks(positions)
            ax.set_yticklabels(axis.categories, fontsize=8)
            ax.set_ylim(-0.5, len(axis.categories) - 0.5)


def mark_unfinished(ax: Any, xs_failed: list[float], xs_pruned: list[float], *, label: bool = True) -> None:
    """Failed trials as red crosses and pruned ones as grey triangles along the bottom of ``ax``."""
    transform = ax.get_xaxis_transform()
    if xs_failed:
        ax.scatter(xs_failed, [0.0] * len(xs_failed), marker="x", color="tab:red", transform=transform, clip_on=False,
                   label=f"failed ({len(xs_failed)})" if label else None, zorder=4)
    if xs_pruned:
        ax.scatter(xs_pruned, [0.02] * len(xs_pruned), marker="v", color="tab:gray", transform=transform, clip_on=False,
                   label=f"pruned ({len(xs_pruned)})" if label else None, zorder=4)


def empty_panel(ax: Any, title: str, message: str) -> None:
    """A panel that says why there is nothing to draw."""
    ax.set_title(title, fontsize=10)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="0.35", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
