"""Ranked "did you mean" suggestions."""

from __future__ import annotations

import pytest

from hpo_engine.manifest.search_space import KINDS
from hpo_engine.manifest.suggest import rank_similar, similarity

RANGE_KEYS = ["min_value", "max_value", "step", "power"]
PARAMETERS = ["objective", "maximize_or_minimize", "num_optimizer_steps", "time_interval", "filename"]


@pytest.mark.parametrize(
    ("word", "candidates", "best"),
    [
        ('step"', RANGE_KEYS, "step"),
        ("min_vlaue", RANGE_KEYS, "min_value"),
        ("max_vaule", RANGE_KEYS, "max_value"),
        ("rbfop", ["random", "rbfopt", "grid"], "rbfopt"),
        ("maximise", ["maximize", "minimize"], "maximize"),
        ("minimise", ["maximize", "minimize"], "minimize"),
        ("num_optimiser_steps", PARAMETERS, "num_optimizer_steps"),
        ("Min-Value", RANGE_KEYS, "min_value"),
        ("double_rang", list(KINDS), "double_range"),
        ("string_value", list(KINDS), "string_values"),
        ("hyperparameters", ["hyper_parameters", "method"], "hyper_parameters"),
        ("traning_references", ["settings", "training_references", "training_results_reference"], "training_references"),
    ],
)
def test_the_intended_word_ranks_first(word: str, candidates: list[str], best: str) -> None:
    assert rank_similar(word, candidates)[0] == best


def test_case_and_stray_punctuation_do_not_count() -> None:
    assert similarity("STEP", "step") == 1.0
    assert similarity('step"', "step") == 1.0
    assert similarity("min-value", "min_value") == 1.0


def test_unrelated_words_get_no_suggestion() -> None:
    assert rank_similar("xyz", RANGE_KEYS) == []
    assert rank_similar("", RANGE_KEYS) == []
    assert rank_similar("banana", ["random", "rbfopt", "grid"]) == []
    assert similarity("", "step") == 0.0


def test_ranking_is_ordered_limited_and_excludes_the_word_itself() -> None:
    ranked = rank_similar("min_vlaue", RANGE_KEYS)
    assert ranked == ["min_value", "max_value"]
    assert rank_similar("step", RANGE_KEYS) == []  # the word itself is no suggestion
    assert len(rank_similar("value", ["value1", "value2", "value3", "value4", "value5"], cutoff=0.1)) == 3
    assert rank_similar("value", ["value1", "value2", "value3", "value4"], limit=2) == ["value1", "value2"]  # ties keep order


def test_duplicate_candidates_are_listed_once() -> None:
    assert rank_similar("stpe", ["step", "step", "power"]) == ["step"]
