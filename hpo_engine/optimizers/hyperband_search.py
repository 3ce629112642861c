"""Method ``hyperband``: random sampling; the stopping is Hyperband's brackets.

Hyperband (Li et al., 2018) is random search plus successive halving run in several
brackets, each starting its trials at a different minimum resource. The points are
drawn exactly as :class:`~hpo_engine.optimizers.random_search.RandomSearch` draws them;
which bracket a trial belongs to, and when it is stopped, is decided by the stopping
rule the method implies (:mod:`hpo_engine.runner.early_stopping.hyperband`, from the
trial's 0-based number), so a resumed run takes the same decisions.
"""

from __future__ import annotations

from hpo_engine.optimizers.random_search import RandomSearch

__all__ = ["HyperbandSearch"]


class HyperbandSearch(RandomSearch):
    """Random sampling for Hyperband's brackets (see the module doc); never repeats a point of a finite grid."""

    name = "hyperband"
