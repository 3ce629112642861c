"""``hpo plot --html``: one self-contained interactive page (plotly, its JS inline: works offline).

The figures are Optuna's plotly charts (``optuna.visualization``) on studies built from the
stores (:mod:`hpo_engine.runner.optuna_export`): log axes for power ranges and labelled
categories come from the distributions. The history compares every store and marks failed
and pruned trials, which Optuna's history leaves out.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from hpo_engine.cli.plots import PlotContext, resolve_kinds
from hpo_engine.cli.plots.data import COLORS, StoreView

__all__ = ["plot_html", "figures"]


def _history(studies: list[Any], views: list[StoreView]) -> Any:
    """Optuna's history of every study, plus failed / pruned trials as markers at the lowest objective."""
    import plotly.graph_objects as go
    import optuna.visualization as vis

    figure = vis.plot_optimization_history(studies if len(studies) > 1 else studies[0])
    for view in views:
        floor = min((t.objective for t in view.complete), default=0.0)
        for trials, name, symbol, color in ((view.failed, "failed", "x", "red"), (view.pruned, "pruned", "triangle-down", "gray")):
            if trials:
                prefix = f"{view.label}: " if len(views) > 1 else ""
                figure.add_trace(go.Scatter(
                    x=[t.number for t in trials], y=[floor] * len(trials), mode="markers",
                    name=f"{prefix}{name} ({len(trials)})", marker={"symbol": symbol, "color": color, "size": 9},
                ))
    return figure


def figures(views: list[StoreView], kinds: list[str] | None = None, *, evaluator: str = "ped-anova") -> list[tuple[str, Any]]:
    """``[(title, plotly figure)]`` for the chosen kinds (default sheet); one figure per store except history."""
    import optuna
    import optuna.importance  # in full (scikit-learn too, when installed): the page's charts are Optuna's own
    import optuna.visualization as vis

    from hpo_engine.cli.plots.importance import EVALUATORS
    from hpo_engine.runner.optuna_export import study_from_results

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    context = PlotContext(evaluator=evaluator)
    chosen = resolve_kinds(kinds, views, context)
    studies = [study_from_results(v.experiment, v.trials) for v in views]
    result: list[tuple[str, Any]] = []
    for kind in chosen:
        if kind == "history":
            if any(v.complete for v in views):
                result.append(("history", _history(studies, views)))
            continue
        for view, study in zip(views, studies):
            title = f"{kind}: {view.label}" if len(views) > 1 else kind
            if len(view.complete) < (2 if kind in ("importance", "contour") else 1):
                continue
            if kind == "slice":
                figure = vis.plot_slice(study)
            elif kind == "parallel":
                figure = vis.plot_parallel_coordinate(study)
            elif kind == "importance":
                cls = getattr(optuna.importance, EVALUATORS[evaluator])
                try:
                    figure = vis.plot_param_importances(study, evaluator=cls())
                except (ValueError, RuntimeError, ZeroDivisionError):
                    continue
            elif kind == "contour":
                pair = list(context.importance(view) or {})[:2] or view.parameter_names[:2]
                if len(pair) < 2:
                    continue
                figure = vis.plot_contour(study, params=pair)
            else:  # curves
                figure = vis.plot_intermediate_values(study)
            result.append((title, figure))
    return result


def plot_html(views: list[StoreView], output: Path, *, kinds: list[str] | None = None, evaluator: str = "ped-anova") -> Path:
    """Write the page of ``views`` to ``output`` (plotly.js embedded once, no network needed)."""
    parts = []
    for index, (title, figure) in enumerate(figures(views, kinds, evaluator=evaluator)):
        figure.update_layout(colorway=[c.removeprefix("tab:") for c in COLORS])
        parts.append(f"<h2>{html.escape(title)}</h2>\n" + figure.to_html(full_html=False, include_plotlyjs=index == 0))
    heading = " / ".join(sorted({v.experiment.experiment for v in views}))
    body = "\n".join(parts) if parts else "<p>No complete trial yet: nothing to draw.</p>"
    page = (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>hpo plot: {html.escape(heading)}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}h2{font-size:1.1em;margin-top:2em}</style>"
        f"</head><body><h1>{html.escape(heading)}</h1>\n{body}\n</body></html>\n"
    )
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf-8")
    return output
