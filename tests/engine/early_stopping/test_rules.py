"""The stopping rules as folds over stored points: median, asha, hyperband's brackets."""

from __future__ import annotations

import pytest

from hpo_engine.manifest.early_stopping import MEDIAN_MIN_TRIALS, STOPPING_RULES, EarlyStoppingSettings
from hpo_engine.manifest.schema import load_schema
from hpo_engine.runner.early_stopping import RULES, make_rule
from hpo_engine.runner.early_stopping.hyperband import HyperbandStopping, bracket_sequence, bracket_weights
from hpo_engine.runner.early_stopping.rules import AshaStopping, MedianStopping, rungs


def test_rule_table_rows_are_their_classes_and_the_schema_enum() -> None:
    for name in STOPPING_RULES:
        assert RULES[name].name == name
    parameter = next(
        branch["then"]["properties"]["string_value"]
        for branch in load_schema()["$defs"]["methodParameter"]["allOf"]
        if branch["if"]["properties"]["name"]["const"] == "early_stopping"
    )
    chosen = [s for s in STOPPING_RULES.values() if not s.implied_only]
    assert parameter["enum"] == [s.name for s in chosen]
    assert parameter["enumDescriptions"] == [s.description for s in chosen]


def test_rungs_are_grace_times_powers_of_eta_below_max_resource() -> None:
    assert rungs(1, 3, 27) == [1, 3, 9]
    assert rungs(2, 2, 20) == [2, 4, 8, 16]
    assert rungs(5, 3, 5) == []


def test_median_waits_for_enough_trials_and_the_grace_period() -> None:
    rule = MedianStopping(EarlyStoppingSettings("median", grace_period=2), maximize=True)
    for number in range(MEDIAN_MIN_TRIALS):
        for step in (1, 2, 3):
            assert rule.observe(number, step, 0.5 + number * 0.01) is None
    late = MEDIAN_MIN_TRIALS
    assert rule.observe(late, 1, 0.1) is None  # before grace_period
    decision = rule.observe(late, 2, 0.1)
    assert decision is not None and decision.number == late and decision.step == 2
    good = late + 1
    assert rule.observe(good, 2, 0.9) is None


def test_median_minimizing_stops_the_larger_values() -> None:
    rule = MedianStopping(EarlyStoppingSettings("median"), maximize=False)
    for number in range(MEDIAN_MIN_TRIALS):
        rule.observe(number, 1, 1.0)
    assert rule.observe(10, 1, 0.5) is None
    assert rule.observe(11, 1, 2.0) is not None


def test_asha_keeps_the_top_fraction_at_each_rung_and_never_waits() -> None:
    rule = AshaStopping(EarlyStoppingSettings("asha", max_resource=9, reduction_factor=3), maximize=True)
    assert rule.rungs == [1, 3]
    assert rule.observe(0, 1, 0.5) is None  # alone at the rung: continues
    assert rule.observe(1, 1, 0.4) is not None  # 2 values: only the best one continues
    assert rule.observe(2, 1, 0.6) is None
    assert rule.observe(3, 1, 0.55) is not None  # 4 values, keep 1
    assert rule.observe(4, 1, 0.61) is None and rule.observe(5, 1, 0.605) is None  # 5 and 6 values: keep 1, then 2
    assert rule.observe(6, 1, 0.57) is not None  # 7 values, keep 2: three are better
    # a trial that jumps past two rungs at once is judged at the first one
    decision = rule.observe(7, 4, 0.1)
    assert decision is not None and "rung 1" in decision.why


def test_the_same_points_give_the_same_decisions() -> None:
    settings = EarlyStoppingSettings("hyperband", max_resource=27, reduction_factor=3)
    points = [(n, step, ((n * 37) % 11) / 11 + step * 0.01) for n in range(30) for step in range(1, 28)]

    def decisions() -> list[tuple[int, float]]:
        rule = make_rule(settings, maximize=True)
        stopped: dict[int, float] = {}
        for number, step, value in points:
            if number not in stopped and (d := rule.observe(number, step, value)) is not None:
                stopped[number] = d.step
        return sorted(stopped.items())

    first = decisions()
    assert first and first == decisions()


def test_hyperband_brackets_follow_the_documented_schedule() -> None:
    assert bracket_weights(27, 3, 1) == [27, 12, 6, 4]
    assert bracket_sequence([27, 12, 6, 4], 8) == [0, 1, 0, 2, 0, 3, 0, 1]
    sequence = bracket_sequence([27, 12, 6, 4], 49)
    assert [sequence.count(b) for b in range(4)] == [27, 12, 6, 4]
    rule = HyperbandStopping(EarlyStoppingSettings("hyperband", max_resource=27), maximize=True)
    assert [rule.bracket_of(n) for n in range(8)] == [0, 1, 0, 2, 0, 3, 0, 1]
    # trials 0 and 2 share bracket 0 (first rung 1); trial 1 is alone in bracket 1 (first rung 3)
    assert rule.observe(0, 1, 0.9) is None
    assert rule.observe(1, 1, 0.1) is None
    assert rule.observe(2, 1, 0.2) is not None
    assert rule.observe(5, 27, 0.0) is None  # bracket 3 has no rung
