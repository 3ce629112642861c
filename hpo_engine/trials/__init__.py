"""Trials as real processes, with the training-program contract of IBM Watson ML's HPO service.

See ``docs/trial-contract.md``. The public surface: :func:`run_trial` (one trial,
synchronous), its pieces :func:`prepare_trial`, :func:`launch_trial`,
:func:`collect_outcome`, and :func:`resolve_definition` (where the training
definition is on this machine).
"""

from __future__ import annotations

from .definition import resolve_definition
from .environment import expand_command, trial_environment, trial_support_dir
from .execute import (
    LaunchedTrial,
    PreparedTrial,
    collect_outcome,
    launch_trial,
    prepare_trial,
    run_trial,
)
from .metrics import CollectedMetrics, collect_metrics
from .process import ProcessEnd
from .workdir import TrialPaths, prepare_trial_dir, trial_paths

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
