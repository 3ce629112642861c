"""Trials as real processes, with the training-program contract of IBM Watson ML's HPO service.

See ``docs/trial-contract.md``. The public surface: :func:`run_trial` (one trial,
synchronous), its pieces :func:`prepare_trial`, :func:`launch_trial`,
:func:`collect_outcome`, and :func:`resolve_definition` (where the training
definition is on this machine).
"""

from __future__ import annotations

from hpo_engine.runner.trials.definition import resolve_definition
from hpo_engine.runner.trials.environment import expand_command, trial_environment, trial_support_dir
from hpo_engine.runner.trials.execute import (
    LaunchedTrial,
    PreparedTrial,
    collect_outcome,
    launch_trial,
    prepare_trial,
    run_trial,
)
from hpo_engine.runner.trials.metric_files import CollectedMetrics, collect_metrics
from hpo_engine.runner.trials.process import ProcessEnd
from hpo_engine.runner.trials.workdir import TrialPaths, prepare_trial_dir, trial_paths

__all__ = [
    "resolve_definition",
    "run_trial",
    "prepare_trial",
    "launch_trial",
    "collect_outcome",
    "PreparedTrial",
    "LaunchedTrial",
    "ProcessEnd",
    "TrialPaths",
    "trial_paths",
    "prepare_trial_dir",
    "trial_environment",
    "trial_support_dir",
    "expand_command",
    "collect_metrics",
    "CollectedMetrics",
]
