"""Drive a stopping rule during a run: store each live value, ask the rule, stop trials.

:class:`EarlyStopper` is what the scheduler holds. At each look it takes the values the
backend followed (:meth:`~hpo_engine.runner.backends.base.TrialBackend.intermediate_values`),
stores them (one transaction), shows each stored point to the rule in store order and
stops the trials the rule names (:meth:`~hpo_engine.runner.backends.base.TrialBackend.stop_early`:
SIGTERM to the process group, SIGKILL after ``kill_grace_seconds``). When such a trial's
outcome comes back cancelled, :meth:`EarlyStopper.settled` makes it ``PRUNED`` with its
last recorded value as objective. At start, :meth:`EarlyStopper.replay` shows the rule
every point already stored, so a resumed run continues the same fold.

Curves are stored with every rule, ``none`` included (``hpo plot`` draws them).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from hpo_engine.manifest.early_stopping import EarlyStoppingSettings
from hpo_engine.runner.backends.base import TrialBackend, TrialOutcome
from hpo_engine.runner.trial_state import TrialState
from hpo_engine.runner.early_stopping import make_rule
from hpo_engine.runner.early_stopping.rules import Decision
from hpo_engine.runner.store import ResultStore, TrialRecord
from hpo_engine.runner.store_curves import CurvePoint

__all__ = ["EarlyStopper", "stopping_backend_options", "steps_saved", "format_step", "LOOK_SECONDS"]

#: Seconds between looks at running trials' values while a stopping rule is active (the
#: scheduler's wait is cut to this): a decision lands within about this much of the row that
#: caused it, plus the signal's delivery. Without a rule the scheduler's own pace holds
#: (``RunOptions.poll_seconds``).
LOOK_SECONDS = 0.02


def format_step(step: float) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5."""
    return str(int(step)) if float(step).is_integer() else f"{step:g}"


def stopping_backend_options(settings: EarlyStoppingSettings, parameters: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with ``kill_grace_seconds`` from the method when it stops trials early or sets it (``options`` win)."""
    merged = dict(options)
    if settings.enabled or "kill_grace_seconds" in parameters:
        merged.setdefault("kill_grace_seconds", settings.kill_grace_seconds)
    return merged


def steps_saved(trials: Iterable[TrialRecord], max_resource: int | None) -> tuple[float, float] | None:
    """``(steps run, steps without stopping)`` over the COMPLETE and PRUNED trials, or ``None`` when unknown.

    A trial ran the step it reached (at most the full run); without stopping each would
    have run ``max_resource`` steps, else as many as the longest COMPLETE trial.
    """
    counted = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED) and t.step_reached is not None]
    longest = [float(t.step_reached) for t in counted if t.state is TrialState.COMPLETE and t.step_reached is not None]
    full = float(max_resource) if max_resource else (max(longest) if longest else 0.0)
    if not counted or full <= 0:
        return None
    return sum(min(float(t.step_reached or 0.0), full) for t in counted), full * len(counted)


class EarlyStopper:
    """The stopping rule of one run (see the module doc). ``step_name`` names steps in messages."""

    def wait_seconds(self, poll_seconds: float) -> float:
        """How long the scheduler may wait for outcomes before the next look: ``poll_seconds``,
        cut to :data:`LOOK_SECONDS` while a stopping rule is active."""
        return min(poll_seconds, LOOK_SECONDS) if self.settings.enabled else poll_seconds

    def __init__(self, settings: EarlyStoppingSettings, *, maximize: bool, step_name: str | None = None) -> None:
        self.settings = settings
        self.rule = make_rule(settings, maximize=maximize)
        self.step_name = step_name or "step"
        #: Trial number -> the decision that stopped it (in this fold).
        self.decisions: dict[int, Decision] = {}
        self._last: dict[int, tuple[float, float]] = {}
        self._warned = False

    def _observe(self, point: CurvePoint) -> Decision | None:
        self._last[point.number] = (point.step, point.value)
        if point.number in self.decisions:
            return None  # recorded before the stop took effect: not shown to the rule
        decision = self.rule.observe(point.number, point.step, point.value)
        if decision is not None:
            self.decisions[point.number] = decision
        return decision

    def replay(self, store: ResultStore) -> None:
        """Show the rule every point of the finished trials already in ``store`` (a resumed run), in store order.

        Points of trials left RUNNING or INTERRUPTED are skipped: those trials are rerun from
        the start and their old points deleted.
        """
        finished = {t.number for t in store.trials() if t.finished}
        for point in store.curve_points():
            if point.number in finished:  # the others are rerun from the start
                self._observe(point)

    def forget(self, number: int) -> None:
        """Trial ``number`` is rerun from the start (its old points were deleted)."""
        self.decisions.pop(number, None)
        self._last.pop(number, None)

    def poll(self, store: ResultStore, backend: TrialBackend, running: Collection[int]) -> list[Decision]:
        """Store the values the backend followed, ask the rule, stop the running trials it names; returns those decisions."""
        values = backend.intermediate_values()
        if not values:
            return []
        stops = []
        for point in store.record_intermediate(values, time.time()):
            decision = self._observe(point)
            if decision is not None and self.settings.enabled and point.number in running:
                backend.stop_early(point.number)
                stops.append(decision)
        return stops

    def settled(self, outcome: TrialOutcome) -> TrialOutcome:
        """``outcome`` as the store should record it: PRUNED for a trial stopped by the rule (not COMPLETE first)."""
        decision = self.decisions.get(outcome.number)
        if decision is None or outcome.state is not TrialState.INTERRUPTED or not self.settings.enabled:
            return outcome
        _step, value = self._last.get(outcome.number, (decision.step, decision.value))
        reason = f"pruned at {self.step_name} {format_step(decision.step)} by {self.settings.rule}: {decision.why}"
        return dataclasses.replace(outcome, state=TrialState.PRUNED, objective=value, failure_reason=reason)

    def warning_for(self, record: TrialRecord, objective: str) -> str | None:
        """Once per run: a line for the user when a COMPLETE trial left no curve for the rule to act on."""
        if self._warned or not self.settings.enabled or record.state is not TrialState.COMPLETE or record.steps_run > 1:
            return None
        self._warned = True
        return (
            f"trial {record.number} recorded {record.steps_run} value(s) of {objective!r}: early stopping ({self.settings.rule}) "
            f"needs one per {self.step_name}. Record it at each {self.step_name} with EMetrics (TEST group), rewrites of "
            f"val_dict_list.json, or stdout lines such as '{self.step_name}=1 {objective}=0.5'"
        )
