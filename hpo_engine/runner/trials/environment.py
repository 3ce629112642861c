"""The environment a trial runs in, and ``${VAR}`` expansion of its command.

A trial inherits the current environment plus the variables the original service set:
``SUBID`` (the 0-based trial number, as a string), ``RESULT_DIR``, ``LOG_DIR``,
``JOB_STATE_DIR``, ``DATA_DIR`` and ``TRAINING_ID``; ``PYTHONPATH`` starts with the
folder holding ``emetrics.py`` so that ``from emetrics import EMetrics`` works.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from hpo_engine.runner.backends.base import TrialSpec
from hpo_engine.runner.trials.workdir import TrialPaths

__all__ = ["trial_support_dir", "trial_environment", "training_id", "expand_command"]

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def trial_support_dir() -> Path:
    """The folder holding the modules trials import (``emetrics.py``); put on ``PYTHONPATH``."""
    return Path(__file__).resolve().parent.parent / "trial_support"


def training_id(spec: TrialSpec) -> str:
    """``spec.training_id``, or ``<experiment>-<reference>-<number>`` when it is empty."""
    return spec.training_id or f"{spec.experiment}-{spec.reference}-{spec.number}"


def trial_environment(
    spec: TrialSpec, paths: TrialPaths, base_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The trial's environment: ``base_env`` (default ``os.environ``) plus the service's variables.

    ``DATA_DIR`` is ``spec.data_dir`` when given, else whatever ``base_env`` holds (unset
    if neither). ``spec.withheld_env`` (credential variables) are removed from it;
    ``spec.extra_env`` is applied last and may override anything.
    """
    env = dict(os.environ if base_env is None else base_env)
    for name in spec.withheld_env:
        env.pop(name, None)
    env["SUBID"] = str(spec.number)
    env["RESULT_DIR"] = str(paths.result_dir)
    env["LOG_DIR"] = str(paths.log_dir)
    env["JOB_STATE_DIR"] = str(paths.job_state_dir)
    env["TRAINING_ID"] = training_id(spec)
    if spec.data_dir is not None:
        env["DATA_DIR"] = str(spec.data_dir)
    support = str(trial_support_dir())
    inherited = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = support + (os.pathsep + inherited if inherited else "")
    env.update({str(name): str(value) for name, value in spec.extra_env.items()})
    return env


def expand_command(command: str, env: Mapping[str, str]) -> str:
    """Replace ``${VAR}`` and ``$VAR`` by their values in ``env``; unknown variables stay as written.

    Values are inserted as they are (not shell-quoted), as the original service did; the
    result runs through ``/bin/sh -c``.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env.get(name, match.group(0))

    return _VARIABLE.sub(replace, command)
