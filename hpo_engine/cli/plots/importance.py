"""``importance``: hyper-parameter importance from Optuna's evaluators on a study built from the store.

PED-ANOVA (``optuna.importance.PedAnovaImportanceEvaluator``) by default; fANOVA
(``FanovaImportanceEvaluator``, needs scikit-learn) with ``evaluator="fanova"``. Importances are
normalized to sum to 1. Fewer than two complete trials: no importance (the panel says so).

Import cost: ``optuna.importance``'s package ``__init__`` imports its fANOVA evaluator, which
imports scikit-learn (and with it ``scipy.stats``) whenever scikit-learn is installed: 1.5-2 s of
CPU that PED-ANOVA never uses. For PED-ANOVA, when neither ``optuna.importance`` nor scikit-learn
is imported yet, :func:`optuna_importance` imports ``optuna.importance`` with scikit-learn hidden for that import only
(``sys.modules["sklearn"] = None``, which makes ``import sklearn`` fail: Optuna then treats it as
not installed), and afterwards puts the import state back as it was (``optuna.importance``
forgotten, scikit-learn importable): a later ``import optuna.importance`` in the same process
loads it afresh with fANOVA working.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from hpo_engine.cli.plots.axes import color_of, empty_panel
from hpo_engine.cli.plots.data import StoreView

__all__ = ["EVALUATORS", "importances", "optuna_importance", "panels", "draw"]

#: Evaluator name -> Optuna class name in ``optuna.importance``.
EVALUATORS = {"ped-anova": "PedAnovaImportanceEvaluator", "fanova": "FanovaImportanceEvaluator"}


@contextmanager
def optuna_importance(evaluator: str = "ped-anova") -> Iterator[ModuleType]:
    """``optuna.importance``, imported without scikit-learn when ``evaluator`` does not need it (see the module doc)."""
    import optuna

    package = "optuna.importance"
    if evaluator == "fanova" or package in sys.modules or "sklearn" in sys.modules:
        import optuna.importance

        yield optuna.importance
        return
    before = set(sys.modules)
    sys.modules["sklearn"] = None  # type: ignore[assignment]  # the import system's "not installed" marker
    try:
        try:
            import optuna.importance
        finally:  # hidden for this import only: scikit-learn is importable again while PED-ANOVA runs
            if "sklearn" in sys.modules and sys.modules["sklearn"] is None:
                del sys.modules["sklearn"]
        yield optuna.importance
    finally:
        for name in [n for n in sys.modules if n not in before and (n == package or n.startswith(package + "."))]:
            del sys.modules[name]
        if "importance" in vars(optuna):
            delattr(optuna, "importance")


def importances(view: StoreView, evaluator: str = "ped-anova") -> dict[str, float] | None:
    """``{parameter: importance}`` (sum 1, largest first) of one store, ``None`` when it cannot be computed."""
    from hpo_engine.runner.optuna_export import study_from_results

    if len(view.complete) < 2:
        return None
    study = study_from_results(view.experiment, view.trials)
    with optuna_importance(evaluator) as module:
        cls = getattr(module, EVALUATORS[evaluator])
        try:
            return dict(module.get_param_importances(study, evaluator=cls(seed=0) if evaluator == "fanova" else cls()))
        except (ValueError, RuntimeError, ZeroDivisionError):  # e.g. every value identical
            return None


def panels(views: list[StoreView]) -> int:
    return 1


def draw(axes: list[Any], views: list[StoreView], context: Any) -> None:
    ax = axes[0]
    computed = [(v, context.importance(v)) for v in views]
    computed = [(v, imp) for v, imp in computed if imp]
    if not computed:
        empty_panel(ax, "importance", "needs two complete trials\nwith different values")
        return
    names = list(computed[0][1])
    for _, imp in computed[1:]:
        names += [n for n in imp if n not in names]
    names.reverse()  # largest at the top
    height = 0.8 / len(computed)
    for index, (view, imp) in enumerate(computed):
        ys = [i + (index - (len(computed) - 1) / 2) * height for i in range(len(names))]
        ax.barh(ys, [imp.get(n, 0.0) for n in names], height=height, color=color_of(index, views),
                label=view.label if len(computed) > 1 else None)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel(f"importance ({context.evaluator})")
    ax.set_xlim(0, 1)
    ax.set_title("hyper-parameter importance", fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    if len(computed) > 1:
        ax.legend(fontsize=7, loc="lower right")
