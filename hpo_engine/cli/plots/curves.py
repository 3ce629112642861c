"""``curves``: learning curves, the objective each trial recorded per step (from its metrics series).

Complete trials are solid lines, pruned trials dashed grey, failed trials dotted red; the
best trial is drawn thick. One color per store when several are compared.
"""

from __future__ import annotations

from typing import Any

from hpo_engine.cli.plots.axes import color_of, empty_panel
from hpo_engine.cli.plots.data import StoreView, is_pruned

__all__ = ["panels", "draw", "has_curves"]


def panels(views: list[StoreView]) -> int:
    return 1


def has_curves(views: list[StoreView], context: Any) -> bool:
    return any(len(context.curve(v, t)) > 1 for v in views for t in v.trials)


def draw(axes: list[Any], views: list[StoreView], context: Any) -> None:
    from matplotlib.collections import LineCollection

    ax = axes[0]
    drawn = 0
    step_key = None
    for index, view in enumerate(views):
        solid, pruned, failed = [], [], []
        for trial in view.trials:
            curve = context.curve(view, trial)
            if len(curve) < 1:
                continue
            step_key = step_key or trial.metrics.get("step_key")
            target = pruned if is_pruned(trial) else failed if trial.state.value == "failed" else solid
            target.append(curve)
            if view.best is not None and trial.number == view.best.number:
                ax.plot([s for s, _ in curve], [v for _, v in curve], color="tab:green", linewidth=2.2, zorder=5,
                        label="best" if index == 0 else None)
        color = color_of(index, views)
        if solid:
            ax.add_collection(LineCollection(solid, colors=color, linewidths=0.8, alpha=0.5,
                                             label=view.label if len(views) > 1 else "complete"))
        if pruned:
            ax.add_collection(LineCollection(pruned, colors="tab:gray", linewidths=0.8, linestyles="dashed", alpha=0.6,
                                             label=f"pruned ({len(pruned)})" if index == 0 else None))
        if failed:
            ax.add_collection(LineCollection(failed, colors="tab:red", linewidths=0.8, linestyles="dotted", alpha=0.6,
                                             label=f"failed ({len(failed)})" if index == 0 else None))
        drawn += len(solid) + len(pruned) + len(failed)
    if not drawn:
        empty_panel(ax, "learning curves", "no trial recorded values per step")
        return
    ax.autoscale_view()
    ax.set_xlabel(str(step_key or "step"))
    ax.set_ylabel(views[0].experiment.objective)
    ax.set_title("learning curves", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
