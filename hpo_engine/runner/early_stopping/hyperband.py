"""The stopping rule of method ``hyperband``: brackets of asynchronous successive halving.

With ``R = max_resource``, ``eta = reduction_factor`` and ``r = grace_period`` (steps),
``s_max`` is the largest ``s`` with ``r * eta**s <= R``. There are ``s_max + 1``
brackets, numbered ``b = 0 .. s_max`` (0-based): bracket ``b`` has its first rung at
``r * eta**b`` steps and further rungs at ``eta`` times that, below ``R``; bracket 0 is
the most aggressive (as ``asha``), bracket ``s_max`` stops least. Bracket ``b`` gets the
weight ``ceil((s_max + 1) / (s_max - b + 1) * eta**(s_max - b))``, Hyperband's number
of configurations of that bracket, and trials are dealt to brackets by their 0-based
number with smooth weighted round-robin, so any ``num_optimizer_steps`` spreads over
all brackets in those proportions. Inside a bracket, trials compete only with each
other, by :class:`~hpo_engine.runner.early_stopping.rules.AshaStopping`.

Example, ``R = 27``, ``eta = 3``, ``r = 1``: brackets with rungs (1, 3, 9), (3, 9), (9,)
and 27 (no rung: runs to the end), weights 27, 12, 6, 4; trials 0, 1, 2, ... go to
brackets 0, 1, 0, 2, 0, 3, 0, 1, ...
"""

from __future__ import annotations

import math

from hpo_engine.manifest.early_stopping import EarlyStoppingSettings
from hpo_engine.runner.early_stopping.rules import AshaStopping, Decision, StoppingRule

__all__ = ["HyperbandStopping", "bracket_weights", "bracket_sequence"]


def bracket_weights(max_resource: int, reduction_factor: int, grace_period: int) -> list[int]:
    """Weight of each bracket ``b = 0 .. s_max`` (see the module doc)."""
    s_max = 0
    while grace_period * reduction_factor ** (s_max + 1) <= max_resource:
        s_max += 1
    return [math.ceil((s_max + 1) / (s_max - b + 1) * reduction_factor ** (s_max - b)) for b in range(s_max + 1)]


def bracket_sequence(weights: list[int], count: int) -> list[int]:
    """The brackets of trials ``0 .. count - 1``: smooth weighted round-robin over ``weights``."""
    total = sum(weights)
    current = [0] * len(weights)
    sequence = []
    for _ in range(count):
        current = [c + w for c, w in zip(current, weights)]
        chosen = max(range(len(weights)), key=lambda b: (current[b], -b))
        current[chosen] -= total
        sequence.append(chosen)
    return sequence


class HyperbandStopping(StoppingRule):
    """Hyperband's brackets (see the module doc); needs ``max_resource``."""

    name = "hyperband"

    def __init__(self, settings: EarlyStoppingSettings, *, maximize: bool) -> None:
        super().__init__(settings, maximize=maximize)
        max_resource = settings.max_resource or settings.grace_period
        self.weights = bracket_weights(max_resource, settings.reduction_factor, settings.grace_period)
        self._brackets = [
            AshaStopping(settings, maximize=maximize, first_rung=settings.grace_period * settings.reduction_factor**b)
            for b in range(len(self.weights))
        ]
        self._sequence: list[int] = []

    def bracket_of(self, number: int) -> int:
        """The 0-based bracket of trial ``number`` (0-based)."""
        if number >= len(self._sequence):
            self._sequence = bracket_sequence(self.weights, max(number + 1, 2 * len(self._sequence)))
        return self._sequence[number]

    def observe(self, number: int, step: float, value: float) -> Decision | None:
        bracket = self.bracket_of(number)
        decision = self._brackets[bracket].observe(number, step, value)
        if decision is None:
            return None
        return Decision(decision.number, decision.step, decision.value, f"bracket {bracket}, {decision.why}")
