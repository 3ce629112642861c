"""hpo store -> Optuna study: distributions, states, params, curves; `export_to_storage` into SQLite."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo_engine.errors import HpoError
from hpo_engine.runner.optuna_export import distributions_for, export_to_storage, study_from_results, trial_curve
from hpo_engine.runner.results import load_results

from tests.engine.analysis_data import write_store


@pytest.fixture
def results(tmp_path: Path):
    return load_results(write_store(tmp_path / "store", 20))


def test_distributions_follow_the_search_space(results) -> None:
    d = distributions_for(results.experiment)
    assert d["lr"] == FloatDistribution(1e-4, 1e-1, log=True)
    assert d["units"] == FloatDistribution(16.0, 128.0, log=True)
    assert d["dropout"] == FloatDistribution(0.0, 0.5, step=0.1)
    assert d["layers"] == IntDistribution(1, 3)
    assert d["batch"] == CategoricalDistribution((16, 32, 64))
    assert d["act"] == CategoricalDistribution(("relu", "tanh", "sigmoid"))


def test_study_has_every_trial_with_its_state_value_and_params(results) -> None:
    study = study_from_results(results.experiment, results.trials)
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    trials = study.get_trials(deepcopy=False)
    assert [t.number for t in trials] == [t.number for t in results.trials] == list(range(20))
    for ours, theirs in zip(results.trials, trials):
        assert theirs.user_attrs["hpo_number"] == ours.number
        if ours.state.value == "failed":
            assert theirs.state == optuna.trial.TrialState.FAIL and theirs.value is None
        else:
            assert theirs.state == optuna.trial.TrialState.COMPLETE and theirs.value == ours.objective
            assert theirs.params["act"] == ours.values["act"] and math.isclose(theirs.params["lr"], ours.values["lr"])
            assert theirs.intermediate_values == dict(trial_curve(ours, "loss"))
            assert len(theirs.intermediate_values) == 6
    assert study.best_trial.number == results.best.number


def test_importance_finds_the_parameter_the_loss_depends_on(results) -> None:
    study = study_from_results(results.experiment, results.trials)
    importances = optuna.importance.get_param_importances(study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
    assert next(iter(importances)) == "lr" and importances["lr"] > 0.5


def test_export_to_sqlite_is_an_optuna_storage(tmp_path: Path) -> None:
    first = load_results(write_store(tmp_path / "a", 10, reference="a"))
    second = load_results(write_store(tmp_path / "b", 7, reference="b", seed=3))
    url = f"sqlite:///{tmp_path / 'study.db'}"
    names = export_to_storage([(first.experiment, first.trials), (second.experiment, second.trials)], url)
    assert names == ["exp/a", "exp/b"]
    assert sorted(s.study_name for s in optuna.get_all_study_summaries(url)) == names
    loaded = optuna.load_study(study_name="exp/b", storage=url)
    assert len(loaded.trials) == 7 and loaded.best_value == second.best.objective
    with pytest.raises(HpoError, match="already has a study"):
        export_to_storage([(first.experiment, first.trials)], url)


def test_export_to_a_bad_url(results) -> None:
    with pytest.raises(HpoError, match="not an Optuna storage URL"):
        export_to_storage([(results.experiment, results.trials)], "study.db")
    with pytest.raises(HpoError, match="cannot open the Optuna storage"):
        export_to_storage([(results.experiment, results.trials)], "nosuchdialect://x")
