"""Start a shell command in its own process group, wait for it, and stop its whole process tree.

Each trial runs under the trial launcher (:mod:`hpo_engine.runner.trials.launcher`), the
leader of a new session, so Ctrl-C in the terminal does not reach it. On Linux the launcher
is forked by this process's fork server (:mod:`hpo_engine.runner.trials.fork_server`; no
interpreter start per trial) and is a child subreaper: a process the trial leaves behind,
even one that called ``setsid()``, stays its descendant and is killed when the trial ends;
the fork server ends every trial when the engine process dies (SIGKILL included), and what
is left of a trial whose launcher was killed.
All durations are in seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hpo_engine.runner.trials.spawner import SERVERS, TrialProcess

__all__ = [
    "DEFAULT_KILL_GRACE_SECONDS",
    "OUTPUT_LIMIT_BYTES",
    "ProcessEnd",
    "TrialProcess",
    "start_process",
    "wait_process",
    "stop_process_group",
    "group_alive",
]

#: Seconds between SIGTERM and SIGKILL when a trial is stopped.
DEFAULT_KILL_GRACE_SECONDS = 5.0
#: Shortest and longest pause between two checks of a running process (seconds).
_FIRST_POLL = 0.002
_LONGEST_POLL = 0.1
#: Longest wait between looks at a trial's cancel event (seconds): a stop the engine decides
#: (early stopping, Ctrl-C) reaches the trial's processes within this much.
_CANCEL_POLL = 0.02
#: The launcher script, run by path with ``python -I -S`` (standard library only).
LAUNCHER = Path(__file__).with_name("launcher.py")
#: Most bytes of a trial's stdout (and, apart, of its stderr) kept on disk: the last ones.
#: A file holds at most twice this (see :mod:`~hpo_engine.runner.trials.launcher`).
OUTPUT_LIMIT_BYTES = 8 * 1024 * 1024
#: Seconds the engine waits for the launcher past its grace period before it SIGKILLs the group.
_LAUNCHER_MARGIN = 2.0


@dataclass(frozen=True, slots=True)
class ProcessEnd:
    """How a process ended. ``exit_code`` is negative (``-signal``) when a signal killed it."""

    exit_code: int | None
    ended_at: float
    timed_out: bool = False
    cancelled: bool = False


def start_process(
    command: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdout_path: Path,
    stderr_path: Path,
    exit_status_path: Path | None = None,
    kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS,
    output_limit_bytes: int = OUTPUT_LIMIT_BYTES,
    empty_folders: tuple[Path, ...] = (),
) -> TrialProcess:
    """Run ``command`` through ``/bin/sh -c`` in ``cwd`` under the trial launcher, output to files, as a new session.

    The launcher writes ``exit_status_path`` (JSON) when the command ends, and gives the
    trial's processes ``kill_grace_seconds`` between SIGTERM and SIGKILL when it is told
    to stop, and keeps the last ``output_limit_bytes`` of each output stream (0: all). The
    returned handle is the launcher's; its exit status is the command's. The launcher is forked
    by this process's fork server (:mod:`~hpo_engine.runner.trials.spawner`) where it runs,
    else started as a script. With the fork server, a log file the command left empty is removed
    before the end is told, and ``empty_folders`` that are empty after it. Raises ``OSError``
    when the process cannot be started.
    """
    grace, limit = max(kill_grace_seconds, 0.0), max(int(output_limit_bytes), 0)
    argv = ["/bin/sh", "-c", command]
    if exit_status_path is not None:
        try:
            exit_status_path.unlink()  # a status left by an earlier run of this folder is not this run's
        except FileNotFoundError:
            pass
    # read-write: the launcher reads a file's tail back when it cuts the file to its limit
    with open(stdout_path, "w+b") as stdout, open(stderr_path, "w+b") as stderr:
        if SERVERS.supported():
            request = {"argv": argv, "cwd": str(cwd), "env": dict(env), "grace": grace, "status": str(exit_status_path or ""), "limit": limit,
                       "logs": [str(stdout_path), str(stderr_path)], "empty_folders": [str(folder) for folder in empty_folders]}
            return SERVERS.spawn(request, stdout.fileno(), stderr.fileno())
        launcher = [sys.executable, "-I", "-S", str(LAUNCHER), str(os.getpid()), repr(grace), str(exit_status_path or ""), str(limit), "--"]
        popen = subprocess.Popen(
            [*launcher, *argv],
            cwd=str(cwd),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            close_fds=True,
        )
        return TrialProcess(popen.pid, popen=popen)


def wait_process(
    process: TrialProcess,
    *,
    timeout_seconds: float | None = None,
    cancel_event: threading.Event | None = None,
    kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS,
) -> ProcessEnd:
    """Wait until ``process`` exits, it runs past ``timeout_seconds``, or ``cancel_event`` is set.

    On timeout or cancellation the whole process group gets SIGTERM, then SIGKILL after
    ``kill_grace_seconds``. When the process has ended, any process it left behind in
    its group is killed, so nothing of the trial outlives it. ``timeout_seconds`` of
    ``None`` or ``<= 0`` means no limit. If the wait itself is interrupted (KeyboardInterrupt,
    a runner cancelling the task), the group is stopped before the exception propagates.
    """
    try:
        timed_out, cancelled = _wait_for_exit(process, timeout_seconds, cancel_event)
    except BaseException:
        # KeyboardInterrupt, or a task cancelled by its runner (Ray): never leave the group behind.
        stop_process_group(process, kill_grace_seconds=kill_grace_seconds)
        raise
    if timed_out or cancelled:
        stop_process_group(process, kill_grace_seconds=kill_grace_seconds)
    elif not process.ended_its_tree:
        _kill_leftovers(process.pid)
    ended_at = time.time()
    return ProcessEnd(process.returncode, ended_at, timed_out=timed_out, cancelled=cancelled)


def _wait_for_exit(
    process: TrialProcess,
    timeout_seconds: float | None,
    cancel_event: threading.Event | None,
) -> tuple[bool, bool]:
    """Wait until the process exits; returns ``(timed_out, cancelled)``.

    The end is noticed at once through the launcher's done pipe (``Popen.wait(timeout)``
    of the fallback polls and can notice it up to 50 ms late); the cancel event and the
    deadline are checked between waits of growing length (at most 20 ms apart with a cancel event).
    """
    deadline = None
    if timeout_seconds is not None and timeout_seconds > 0:
        deadline = time.monotonic() + timeout_seconds
    pause = _FIRST_POLL
    while True:
        if cancel_event is None and deadline is None:
            process.wait()
            return False, False
        wait_for = pause
        if deadline is not None:
            wait_for = min(wait_for, max(deadline - time.monotonic(), 0.0))
        if process.wait(wait_for):
            return False, False
        if cancel_event is not None and cancel_event.is_set():
            return False, True
        if deadline is not None and time.monotonic() >= deadline:
            return True, False
        pause = min(pause * 2, _LONGEST_POLL if cancel_event is None else _CANCEL_POLL)


def stop_process_group(
    process: TrialProcess, *, kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS
) -> None:
    """SIGTERM the process group of ``process``, SIGKILL it after ``kill_grace_seconds``, reap it.

    The launcher (``process``) also ends the descendants outside the group within its own
    grace period; it is given that long plus a margin before the group is SIGKILLed.
    """
    group = process.pid
    grace_end = time.monotonic() + max(kill_grace_seconds, 0.0)
    _signal_group(group, signal.SIGTERM)
    process.wait(max(kill_grace_seconds, 0.0) + _LAUNCHER_MARGIN)
    pause = _FIRST_POLL
    # Other members of the group (children of the shell) get the same grace period.
    while group_alive(group) and time.monotonic() < grace_end:
        time.sleep(pause)
        pause = min(pause * 2, _LONGEST_POLL)
    _signal_group(group, signal.SIGKILL)
    process.wait()
    _wait_group_gone(group)


def group_alive(group: int) -> bool:
    """True while some process of process group ``group`` is alive (zombies do not count)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 3 and fields[2] == str(group) and fields[0] not in ("Z", "X"):
            return True
    return False


def _kill_leftovers(group: int) -> None:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return
    _signal_group(group, signal.SIGKILL)
    _wait_group_gone(group)


def _wait_group_gone(group: int, limit_seconds: float = 5.0) -> None:
    end = time.monotonic() + limit_seconds
    pause = _FIRST_POLL
    while group_alive(group) and time.monotonic() < end:
        time.sleep(pause)
        pause = min(pause * 2, _LONGEST_POLL)


def _signal_group(group: int, sig: signal.Signals) -> None:
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass
