"""``hpo plot``: one PNG per store with the objective per trial and against each hyper-parameter.

The first panel shows each COMPLETE trial's objective by trial number (0-based) and the
running best as a step line; failed trials are marked on the x axis. Each other panel
shows the objective against one hyper-parameter: a log x axis for ``power`` ranges,
category positions for ``string_values``. The best trial is circled everywhere.
matplotlib runs with the non-interactive Agg backend (no display needed).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.runner.results import StoreResults, best_trial, running_best
from hpo_engine.manifest.search_space import Dimension, StringValues

__all__ = ["plot_results", "DEFAULT_PLOT_FILENAME"]

DEFAULT_PLOT_FILENAME = "plot.png"


def _is_log(dimension: Dimension | None) -> bool:
    return dimension is not None and getattr(dimension, "power", None) is not None


def plot_results(results: StoreResults, output: Path | None = None, *, dpi: int = 110) -> Path:
    """Draw ``results`` into ``output`` (default ``<store>/plot.png``); returns the path written."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    output = Path(output) if output is not None else results.folder / DEFAULT_PLOT_FILENAME
    experiment = results.experiment
    try:
        space = experiment.space
        dimensions: dict[str, Any] = {d.name: d for d in space}
    except Exception:  # an old or odd store: plot without scale information
        dimensions = {}
    names = results.parameter_names
    complete = [t for t in results.trials if t.state is TrialState.COMPLETE and t.objective is not None and math.isfinite(t.objective)]
    failed = [t for t in results.trials if t.state is TrialState.FAILED]
    best = best_trial(results.trials, maximize=experiment.maximize)

    panels = 1 + len(names)
    columns = min(3, panels)
    rows = math.ceil(panels / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[panels:]:
        ax.set_visible(False)

    direction = "max" if experiment.maximize else "min"
    ax = flat[0]
    ax.scatter([t.number for t in complete], [t.objective for t in complete], s=22, color="tab:blue", label="trial", zorder=3)
    steps = running_best(results.trials, maximize=experiment.maximize)
    if steps:
        last = max(t.number for t in results.trials)
        xs = [n for n, _ in steps] + [last]
        ys = [v for _, v in steps] + [steps[-1][1]]
        ax.step(xs, ys, where="post", color="tab:orange", label=f"best so far ({direction})", zorder=2)
    if failed:
        ax.scatter(
            [t.number for t in failed], [0.0] * len(failed), marker="x", color="tab:red",
            transform=ax.get_xaxis_transform(), clip_on=False, label=f"failed ({len(failed)})", zorder=4,
        )
    if best is not None:
        ax.scatter([best.number], [best.objective], s=120, facecolors="none", edgecolors="tab:green", linewidths=2, label="best", zorder=5)
    ax.set_xlabel("trial")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(experiment.objective)
    ax.set_title(f"{experiment.experiment} / {experiment.reference}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")

    for ax, name in zip(flat[1:], names):
        dimension = dimensions.get(name)
        points = [(t.values.get(name), t.objective) for t in complete if name in t.values]
        categorical = isinstance(dimension, StringValues) or any(isinstance(x, str) for x, _ in points)
        if categorical:
            categories = list(dimension.values()) if isinstance(dimension, StringValues) else sorted({str(x) for x, _ in points})
            position = {str(c): i for i, c in enumerate(categories)}
            xs = [position.get(str(x), -1) for x, _ in points]
            ax.set_xticks(range(len(categories)))
            ax.set_xticklabels([str(c) for c in categories], rotation=30 if len(categories) > 4 else 0, fontsize=8)
            ax.set_xlim(-0.5, len(categories) - 0.5)
            best_x = position.get(str(best.values.get(name))) if best is not None else None
        else:
            xs = [float(x) for x, _ in points]
            best_x = float(best.values[name]) if best is not None and isinstance(best.values.get(name), (int, float)) else None
            if _is_log(dimension) and all(x > 0 for x in xs):
                ax.set_xscale("log", base=float(dimension.power))  # type: ignore[union-attr]
        ax.scatter(xs, [y for _, y in points], s=22, color="tab:blue", zorder=3)
        if best is not None and best_x is not None:
            ax.scatter([best_x], [best.objective], s=120, facecolors="none", edgecolors="tab:green", linewidths=2, zorder=5)
        ax.set_xlabel(name + (" (log)" if _is_log(dimension) and not categorical else ""))
        ax.set_ylabel(experiment.objective)
        ax.grid(alpha=0.3)

    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=dpi, format="png")
    plt.close(figure)
    return output
