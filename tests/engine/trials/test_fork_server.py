"""The fork server: trial launchers forked per trial, and a trial whose launcher, or whose engine, is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.runner.trials.execute import collect_outcome, launch_trial, prepare_trial
from hpo_engine.runner.trials.process import wait_process
from tests.engine.conftest import process_alive
from hpo_engine.runner.trials.spawner import ForkServers

pytestmark = pytest.mark.skipif(not ForkServers.supported(), reason="the fork server runs on Linux")

#: A trial that leaves a setsid() daemon behind (double fork), writes its pid, then hangs.
DAEMON_THEN_HANG = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open("daemon.tmp", "w") as out:
            out.write(str(os.getpid()))
        os.rename("daemon.tmp", "daemon.txt")
        time.sleep(120)
    os._exit(0)
with open("main.tmp", "w") as out:
    out.write(str(os.getpid()))
os.rename("main.tmp", "main.txt")
time.sleep(120)
"""


def _wait_for(path: Path, limit: float = 30.0) -> int:
    end = time.monotonic() + limit
    while not path.exists():
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.01)
    return int(path.read_text())


def _wait_dead(pid: int, limit: float = 30.0) -> bool:
    end = time.monotonic() + limit
    while process_alive(pid) and time.monotonic() < end:
        time.sleep(0.01)
    return not process_alive(pid)


def test_a_sigkilled_launcher_leaves_no_daemon(make_spec) -> None:
    prepared = prepare_trial(make_spec(DAEMON_THEN_HANG))
    launched = launch_trial(prepared)
    folder = prepared.paths.trial_dir
    daemon, main = _wait_for(folder / "daemon.txt"), _wait_for(folder / "main.txt")
    assert os.getsid(daemon) != launched.process.pid  # it left the trial's session
    os.kill(launched.process.pid, signal.SIGKILL)  # the launcher, not the trial
    end = wait_process(launched.process, timeout_seconds=60)
    outcome = collect_outcome(prepared, launched.started_at, end)
    assert outcome.state is TrialState.FAILED and end.exit_code is None
    # re-parented to the fork server (a subreaper), which kills a process that is not a launcher
    assert _wait_dead(daemon) and _wait_dead(main)


def test_a_sigkilled_engine_leaves_no_daemon(make_spec, tmp_path: Path) -> None:
    spec = make_spec(DAEMON_THEN_HANG)
    engine = textwrap.dedent(f"""
        import pickle, sys
        from hpo_engine.runner.trials import run_trial
        run_trial(pickle.loads(bytes.fromhex({__import__('pickle').dumps(spec).hex()!r})))
    """)
    process = subprocess.Popen([sys.executable, "-c", engine], start_new_session=True)
    try:
        daemon, main = _wait_for(spec.trial_dir / "daemon.txt"), _wait_for(spec.trial_dir / "main.txt")
        process.kill()
        assert process.wait(timeout=30) == -signal.SIGKILL
        # the fork server sees the end of its socket and ends every trial, daemons included
        assert _wait_dead(daemon) and _wait_dead(main)
    finally:
        if process.poll() is None:
            process.kill()


def test_one_server_serves_many_trials_and_a_dead_one_is_replaced(make_spec) -> None:
    servers = ForkServers()
    first = servers.server()
    assert servers.server() is first
    first.process.kill()
    first.process.wait(timeout=30)
    second = servers.server()
    assert second is not first and second.alive()
    second.close()
    assert second.process.wait(timeout=30) == 0  # the end of its socket: it exits
