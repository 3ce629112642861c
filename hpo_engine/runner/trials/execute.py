"""Run one trial as a real process, as the original service did: prepare, launch, wait, collect.

:func:`run_trial` is synchronous and self-contained (no driver state), so the local
backend runs it in a thread and the Ray backend inside a Ray task. Its pieces
(:func:`prepare_trial`, :func:`launch_trial`, :func:`collect_outcome`) are public for
backends that need to place them differently. Times are seconds since the epoch;
durations are seconds; trial numbers (``SUBID``) are 0-based.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hpo_engine.runner.backends.base import TrialOutcome, TrialSpec

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.errors import TrialError
from hpo_engine.runner.trials.environment import expand_command, trial_environment
from hpo_engine.runner.trials.metric_files import collect_metrics
from hpo_engine.runner.trials.process import DEFAULT_KILL_GRACE_SECONDS, ProcessEnd, TrialProcess, start_process, wait_process
from hpo_engine.runner.trials.workdir import TrialPaths, compact_trial_dir, prepare_trial_dir, trial_paths

__all__ = [
    "STDERR_TAIL_BYTES",
    "PreparedTrial",
    "LaunchedTrial",
    "prepare_trial",
    "launch_trial",
    "collect_outcome",
    "failed_to_start",
    "run_trial",
    "finished_unwatched",
]

#: How much of the end of stderr is kept in the outcome, in bytes.
STDERR_TAIL_BYTES = 4096


@dataclass(frozen=True, slots=True)
class PreparedTrial:
    """A trial folder ready to run: its paths, environment and the command after ``${VAR}`` expansion."""

    spec: TrialSpec
    paths: TrialPaths
    env: Mapping[str, str]
    command: str


@dataclass(frozen=True, slots=True)
class LaunchedTrial:
    """A trial whose process is running; ``started_at`` is seconds since the epoch."""

    prepared: PreparedTrial
    process: TrialProcess
    started_at: float


def prepare_trial(spec: TrialSpec, base_env: Mapping[str, str] | None = None) -> PreparedTrial:
    """Create the trial folder (definition copy, ``config.json``, output folders) and its environment.

    ``base_env`` defaults to ``os.environ``. Raises :class:`TrialError` when the trial
    cannot be prepared (no command, unwritable folder, value not JSON-representable).
    """
    if not spec.command or not spec.command.strip():
        raise TrialError(f"trial {spec.number}: the training reference has no command")
    paths = prepare_trial_dir(spec.trial_dir, spec.definition_dir, spec.values)
    env = trial_environment(spec, paths, base_env)
    command = expand_command(spec.command, env)
    try:
        paths.command_path.write_text(command + "\n", encoding="utf-8")
    except OSError as exc:
        raise TrialError(f"cannot write {paths.command_path}: {exc}") from exc
    return PreparedTrial(spec=spec, paths=paths, env=env, command=command)


def launch_trial(prepared: PreparedTrial, *, kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS) -> LaunchedTrial:
    """Start the trial's command in its folder, under the trial launcher, in a new process group; raises :class:`TrialError`.

    ``kill_grace_seconds`` is the launcher's pause between SIGTERM and SIGKILL of the trial's processes when it is stopped.
    """
    paths = prepared.paths
    started_at = time.time()
    try:
        process = start_process(
            prepared.command,
            cwd=paths.trial_dir,
            env=prepared.env,
            stdout_path=paths.stdout_path,
            stderr_path=paths.stderr_path,
            exit_status_path=paths.exit_status_path,
            kill_grace_seconds=kill_grace_seconds,
            empty_folders=(paths.result_dir, paths.log_dir, paths.job_state_dir),
        )
    except OSError as exc:
        raise TrialError(f"trial {prepared.spec.number}: cannot start /bin/sh: {exc}") from exc
    return LaunchedTrial(prepared=prepared, process=process, started_at=started_at)


def collect_outcome(prepared: PreparedTrial, started_at: float, end: ProcessEnd) -> TrialOutcome:
    """Read the metrics of a trial whose process has ended and decide its state and reason.

    Order: cancelled -> INTERRUPTED; timed out, non-zero exit, no objective, a
    non-numeric, NaN or infinite objective -> FAILED; else COMPLETE. An empty log file is
    removed (:func:`~hpo_engine.runner.trials.workdir.compact_trial_dir`; the launcher has
    already removed it, and removes the empty output folders) and its path in the outcome is ``None``.
    """
    spec, paths, env = prepared.spec, prepared.paths, prepared.env
    collected = collect_metrics(
        objective=spec.objective,
        result_dir=Path(env.get("RESULT_DIR", paths.result_dir)),
        log_dir=Path(env.get("LOG_DIR", paths.log_dir)),
        stdout_path=paths.stdout_path,
        metrics_filename=spec.metrics_filename,
        time_interval=spec.time_interval,
        subid=env.get("SUBID", str(spec.number)),
    )
    if end.cancelled:
        state, reason = TrialState.INTERRUPTED, "cancelled"
    elif end.timed_out:
        state, reason = TrialState.FAILED, f"timed out after {float(spec.timeout_seconds or 0)} s"
    elif end.exit_code != 0:
        state, reason = TrialState.FAILED, _exit_reason(end.exit_code)
    elif collected.problem is not None:
        state, reason = TrialState.FAILED, collected.problem
    else:
        state, reason = TrialState.COMPLETE, None
    stderr_tail = _tail(paths.stderr_path)
    compact_trial_dir(paths, folders=False)  # read: an empty log goes (the launcher removed the empty folders)
    return TrialOutcome(
        number=spec.number,
        state=state,
        objective=collected.objective if state is TrialState.COMPLETE else None,
        metrics=collected.metrics,
        exit_code=end.exit_code,
        failure_reason=reason,
        stderr_tail=stderr_tail,
        started_at=started_at,
        ended_at=end.ended_at,
        stdout_path=paths.stdout_path if paths.stdout_path.exists() else None,
        stderr_path=paths.stderr_path if paths.stderr_path.exists() else None,
    )


def failed_to_start(spec: TrialSpec, reason: str, *, interrupted: bool = False) -> TrialOutcome:
    """The outcome of a trial that never ran: FAILED (or INTERRUPTED) with ``reason``."""
    now = time.time()
    return TrialOutcome(
        number=spec.number,
        state=TrialState.INTERRUPTED if interrupted else TrialState.FAILED,
        objective=None,
        metrics={},
        exit_code=None,
        failure_reason=reason,
        stderr_tail="",
        started_at=now,
        ended_at=now,
    )


def run_trial(
    spec: TrialSpec,
    cancel_event: threading.Event | None = None,
    *,
    kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS,
) -> TrialOutcome:
    """Run ``spec`` to the end and return its outcome; never raises for a trial's own failure.

    Waits at most ``spec.timeout_seconds`` (seconds; ``None`` or ``<= 0``: no limit) and stops early
    when ``cancel_event`` is set; a stopped trial's process group gets SIGTERM, then
    SIGKILL after ``kill_grace_seconds``. A trial that cannot be prepared or started is
    returned FAILED with the reason.
    """
    if cancel_event is not None and cancel_event.is_set():
        return failed_to_start(spec, "cancelled", interrupted=True)
    try:
        prepared = prepare_trial(spec)
        launched = launch_trial(prepared, kill_grace_seconds=kill_grace_seconds)
    except TrialError as exc:
        return failed_to_start(spec, f"could not start: {exc}")
    end = wait_process(
        launched.process,
        timeout_seconds=spec.timeout_seconds,
        cancel_event=cancel_event,
        kill_grace_seconds=kill_grace_seconds,
    )
    return collect_outcome(prepared, launched.started_at, end)


def finished_unwatched(spec: TrialSpec, started_at: float | None) -> TrialOutcome | None:
    """The outcome of a trial whose command ended on its own while no engine waited for it, else ``None``.

    A ``hpo run`` that was SIGKILLed leaves its running trials recorded as running. The
    trial launcher writes ``hpo-exit.json`` in the trial folder when the command ends by
    itself (not when it was stopped); with that file the outcome is read from the folder
    as if the engine had watched (metrics, objective, state). ``started_at`` is the
    recorded start (seconds since the epoch). Without the file, or when the launcher had
    stopped the command, ``None``: the trial is rerun.
    """
    paths = trial_paths(spec.trial_dir)
    try:
        status = json.loads(paths.exit_status_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(status, dict) or status.get("stopped") is not False:
        return None
    exit_code, ended_at = status.get("exit_code"), status.get("ended_at")
    if not isinstance(exit_code, int) or isinstance(exit_code, bool) or not isinstance(ended_at, (int, float)):
        return None
    prepared = PreparedTrial(spec=spec, paths=paths, env=trial_environment(spec, paths), command="")
    return collect_outcome(prepared, started_at or float(ended_at), ProcessEnd(exit_code, float(ended_at)))


def _exit_reason(exit_code: int | None) -> str:
    if exit_code is not None and exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = str(-exit_code)
        return f"killed by signal {name}"
    return f"exit code {exit_code}"


def _tail(path: Path, limit: int = STDERR_TAIL_BYTES) -> str:
    try:
        with open(path, "rb") as stream:
            stream.seek(0, 2)
            size = stream.tell()
            stream.seek(max(size - limit, 0))
            data = stream.read()
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace")
