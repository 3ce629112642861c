"""The stopping rules ``none``, ``median`` and ``asha``: folds over the stored learning curves.

A rule sees the objective values of every trial of the experiment one at a time, in the
order the store received them (:class:`~hpo_engine.runner.store_curves.CurvePoint`
``seq``), and says for each whether that trial should stop there. It keeps only what it
learnt from the points before, so its decisions are a pure function of the stored
curves: ``hpo run --resume`` replays the store and takes the same decisions. Once a
trial is told to stop, its later points (recorded before the stop took effect) are
not shown to the rule (:class:`~hpo_engine.runner.early_stopping.monitor.EarlyStopper`).

Steps are the program's step key as written (see :mod:`hpo_engine.manifest.early_stopping`);
``maximize`` says which values are better.
"""

from __future__ import annotations

import math
import statistics
from abc import ABC, abstractmethod
from dataclasses import dataclass

from hpo_engine.manifest.early_stopping import MEDIAN_MIN_TRIALS, EarlyStoppingSettings

__all__ = ["Decision", "StoppingRule", "NoStopping", "MedianStopping", "AshaStopping", "rungs"]


@dataclass(frozen=True, slots=True)
class Decision:
    """Stop trial ``number``: at ``step`` (its step key as written) its value was ``value``; ``why`` for people."""

    number: int
    step: float
    value: float
    why: str


def rungs(first: int, reduction_factor: int, max_resource: int) -> list[int]:
    """``first * reduction_factor**k`` for k = 0, 1, ... below ``max_resource`` (steps)."""
    found = []
    step = first
    while step < max_resource:
        found.append(step)
        step *= reduction_factor
    return found


class StoppingRule(ABC):
    """A stopping rule; :meth:`observe` is called with every point, in store order."""

    name: str = "abstract"

    def __init__(self, settings: EarlyStoppingSettings, *, maximize: bool) -> None:
        self.settings = settings
        self.maximize = maximize

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` is strictly better than ``b``."""
        return a > b if self.maximize else a < b

    @abstractmethod
    def observe(self, number: int, step: float, value: float) -> Decision | None:
        """Trial ``number`` recorded ``value`` at ``step``: a :class:`Decision` to stop it, or ``None``."""


class NoStopping(StoppingRule):
    """Rule ``none``: every trial runs to its end."""

    name = "none"

    def observe(self, number: int, step: float, value: float) -> Decision | None:
        return None


class MedianStopping(StoppingRule):
    """Rule ``median``: stop a trial whose best value so far is worse than the median at its step.

    From step ``grace_period`` on, a trial's best value so far is compared with the values
    other trials recorded at the same step (earlier in the store; a trial's last value at
    that step), leaving out the trials this rule stopped (their curves were cut for being
    bad; Vizier and Optuna's MedianPruner compare with the trials that were not stopped);
    with at least :data:`MEDIAN_MIN_TRIALS` of them, a best value worse than their median
    stops the trial (the median stopping rule of Google Vizier).
    """

    name = "median"

    def __init__(self, settings: EarlyStoppingSettings, *, maximize: bool) -> None:
        super().__init__(settings, maximize=maximize)
        self._best: dict[int, float] = {}
        self._at_step: dict[float, dict[int, float]] = {}
        self._stopped: set[int] = set()

    def observe(self, number: int, step: float, value: float) -> Decision | None:
        best = self._best.get(number)
        best = value if best is None or self.better(value, best) else best
        self._best[number] = best
        others = [v for n, v in self._at_step.get(step, {}).items() if n != number and n not in self._stopped]
        self._at_step.setdefault(step, {})[number] = value
        if number in self._stopped or step < self.settings.grace_period or len(others) < MEDIAN_MIN_TRIALS:
            return None
        median = statistics.median(others)
        if self.better(median, best):
            self._stopped.add(number)
            return Decision(number, step, value, f"best so far {best:.4g} is worse than the median {median:.4g} of {len(others)} trials at that step")
        return None


class AshaStopping(StoppingRule):
    """Rule ``asha``: asynchronous successive halving (Li et al., 2020), the stopping variant.

    Rungs are at ``grace_period * reduction_factor**k`` steps below ``max_resource``. When a
    trial first records a value at or past a rung, that value joins the values recorded
    there before it; the trial continues only if it ranks among the best
    ``max(1, n // reduction_factor)`` of those ``n`` values (ties in its favour), else it
    stops. The first trial at a rung always continues: decisions never wait for other
    trials (as Optuna's SuccessiveHalvingPruner and the ASHA paper's top-k rule).
    """

    name = "asha"

    def __init__(self, settings: EarlyStoppingSettings, *, maximize: bool, first_rung: int | None = None) -> None:
        super().__init__(settings, maximize=maximize)
        first = first_rung if first_rung is not None else settings.grace_period
        self.rungs = rungs(first, settings.reduction_factor, settings.max_resource or 0)
        self._reached: dict[int, float] = {}
        self._recorded: dict[int, list[float]] = {rung: [] for rung in self.rungs}

    def observe(self, number: int, step: float, value: float) -> Decision | None:
        previous = self._reached.get(number, -math.inf)
        self._reached[number] = max(previous, step)
        decision = None
        for rung in self.rungs:
            if not previous < rung <= step:
                continue
            recorded = self._recorded[rung]
            recorded.append(value)
            keep = max(1, len(recorded) // self.settings.reduction_factor)
            better = sum(1 for other in recorded if self.better(other, value))
            if better >= keep and decision is None:
                decision = Decision(
                    number, step, value,
                    f"rung {rung}: {value:.4g} is not among the best {keep} of {len(recorded)} trials there",
                )
        return decision
