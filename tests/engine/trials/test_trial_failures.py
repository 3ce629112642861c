"""Failure kinds (exit code, no objective, NaN, timeout), cancellation, and process-group cleanup."""

from __future__ import annotations

import json
import os
import shlex
import sys
import threading
import time
from pathlib import Path

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.runner.trials import run_trial
from hpo_engine.runner.trials.process import group_alive
from tests.engine.conftest import process_alive

SPAWN_AND_SLEEP = """
import os, signal, subprocess, sys, time
if len(sys.argv) > 1 and sys.argv[1] == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open("pids.tmp", "w") as out:
    out.write(f"{os.getpid()} {os.getpgid(0)} {child.pid}")
os.replace("pids.tmp", "pids.txt")
time.sleep(60)
"""


def _cancel_when_started(spec, event: threading.Event) -> threading.Thread:
    def watch() -> None:
        pids = spec.trial_dir / "pids.txt"
        while not pids.exists() and not event.wait(0.01):
            pass
        event.set()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _pids(spec) -> list[int]:
    return [int(p) for p in (spec.trial_dir / "pids.txt").read_text().split()]


def test_non_zero_exit_fails_with_the_exit_code_and_stderr_tail(make_spec) -> None:
    program = """
    import sys
    print("accuracy=0.9")
    print("x" * 10000, file=sys.stderr)
    print("Traceback: something broke", file=sys.stderr)
    sys.exit(3)
    """
    outcome = run_trial(make_spec(program))
    assert outcome.state is TrialState.FAILED
    assert outcome.failure_reason == "exit code 3"
    assert outcome.exit_code == 3
    assert outcome.objective is None
    assert outcome.stderr_tail.endswith("Traceback: something broke\n")
    assert len(outcome.stderr_tail.encode()) <= 4096
    assert outcome.metrics["final"] == {"accuracy": 0.9}  # what was recorded is kept


def test_no_objective_recorded(make_spec) -> None:
    outcome = run_trial(make_spec('print("loss=0.3")\n'))
    assert outcome.state is TrialState.FAILED
    assert outcome.failure_reason == "no objective 'accuracy' recorded"
    assert outcome.metrics["final"] == {"loss": 0.3}


def test_nan_objective(make_spec) -> None:
    program = """
    import json, os
    json.dump([{"steps": 1, "accuracy": float("nan")}], open(os.environ["RESULT_DIR"] + "/val_dict_list.json", "w"))
    """
    outcome = run_trial(make_spec(program))
    assert outcome.state is TrialState.FAILED
    assert outcome.failure_reason == "objective is NaN"
    assert outcome.objective is None


def test_nan_on_stdout(make_spec) -> None:
    outcome = run_trial(make_spec('print("accuracy=nan")\n'))
    assert (outcome.state, outcome.failure_reason) == (TrialState.FAILED, "objective is NaN")


def test_infinite_objective(make_spec) -> None:
    outcome = run_trial(make_spec('print("accuracy=-inf")\n'))
    assert outcome.state is TrialState.FAILED
    assert outcome.failure_reason.startswith("objective is infinite")


def test_timeout_fails_and_stops_the_whole_group(make_spec) -> None:
    spec = make_spec(SPAWN_AND_SLEEP, timeout_seconds=1.5)
    outcome = run_trial(spec)
    assert outcome.state is TrialState.FAILED
    assert outcome.failure_reason == "timed out after 1.5 s"
    if (spec.trial_dir / "pids.txt").exists():  # on a very slow machine it may not have got that far
        pid, group, child = _pids(spec)
        assert not group_alive(group)
        assert not process_alive(pid) and not process_alive(child)


def test_cancel_interrupts_and_the_process_group_is_gone(make_spec) -> None:
    spec = make_spec(SPAWN_AND_SLEEP)
    event = threading.Event()
    watcher = _cancel_when_started(spec, event)
    outcome = run_trial(spec, event)
    watcher.join()
    assert outcome.state is TrialState.INTERRUPTED
    assert outcome.failure_reason == "cancelled"
    pid, group, child = _pids(spec)
    assert group != os.getpgid(0)
    assert not group_alive(group)
    assert not process_alive(pid) and not process_alive(child)


def test_a_program_ignoring_sigterm_is_killed_after_the_grace_period(make_spec) -> None:
    spec = make_spec(SPAWN_AND_SLEEP, command=f"{_python()} train.py ignore-term")
    event = threading.Event()
    watcher = _cancel_when_started(spec, event)
    outcome = run_trial(spec, event, kill_grace_seconds=0.3)
    watcher.join()
    assert outcome.state is TrialState.INTERRUPTED
    pid, group, child = _pids(spec)
    assert not group_alive(group)
    assert not process_alive(pid) and not process_alive(child)


def test_processes_left_behind_are_killed_when_the_trial_ends(make_spec) -> None:
    program = """
    import subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    open("child.txt", "w").write(str(child.pid))
    print("accuracy=1")
    """
    spec = make_spec(program)
    outcome = run_trial(spec)
    assert outcome.state is TrialState.COMPLETE
    child = int((spec.trial_dir / "child.txt").read_text())
    assert not process_alive(child)


def test_cancelled_before_start_never_runs(make_spec) -> None:
    spec = make_spec('open("ran", "w")\n')
    event = threading.Event()
    event.set()
    outcome = run_trial(spec, event)
    assert outcome.state is TrialState.INTERRUPTED
    assert not (spec.trial_dir / "ran").exists()


def test_a_trial_that_cannot_start_is_failed_not_raised(make_spec) -> None:
    outcome = run_trial(make_spec("print(1)\n", command="  "))
    assert outcome.state is TrialState.FAILED
    assert outcome.failure_reason.startswith("could not start:")
    assert "no command" in outcome.failure_reason


def test_command_not_found_is_an_exit_code(make_spec) -> None:
    outcome = run_trial(make_spec("print(1)\n", command="no-such-program-hpo --x"))
    assert outcome.state is TrialState.FAILED
    assert outcome.failure_reason == "exit code 127"
    assert "not found" in outcome.stderr_tail


def _python() -> str:
    import shlex
    import sys

    return shlex.quote(sys.executable)


def test_an_interrupted_wait_stops_the_group_before_propagating(make_spec) -> None:
    import signal

    import pytest

    spec = make_spec(SPAWN_AND_SLEEP)
    main = threading.get_ident()

    def interrupt_when_started() -> None:
        while not (spec.trial_dir / "pids.txt").exists():
            threading.Event().wait(0.01)
        signal.pthread_kill(main, signal.SIGINT)  # what Ctrl-C does to a blocked wait

    watcher = threading.Thread(target=interrupt_when_started, daemon=True)
    watcher.start()
    with pytest.raises(KeyboardInterrupt):
        run_trial(spec, kill_grace_seconds=1.0)
    watcher.join()
    pid, group, child = _pids(spec)
    assert not group_alive(group)
    assert not process_alive(pid) and not process_alive(child)


DAEMONIZE = """
import os, sys, time
if os.fork() == 0:          # the classic double fork: setsid(), fork again, the parent exits
    os.setsid()
    if os.fork() == 0:
        with open("daemon.tmp", "w") as out:
            out.write(str(os.getpid()))
        os.rename("daemon.tmp", "daemon.txt")
        time.sleep(120)
    os._exit(0)
limit = time.monotonic() + 30
while not os.path.exists("daemon.txt") and time.monotonic() < limit:
    time.sleep(0.01)
print("accuracy=1")
"""


def test_a_daemon_that_left_the_process_group_is_killed_when_the_trial_ends(make_spec) -> None:
    spec = make_spec(DAEMONIZE)
    outcome = run_trial(spec)
    assert outcome.state is TrialState.COMPLETE, outcome.failure_reason
    daemon = int((spec.trial_dir / "daemon.txt").read_text())
    assert os.getpgid(0) != daemon
    assert not process_alive(daemon)
    status = json.loads((spec.trial_dir / "hpo-exit.json").read_text())
    assert status["exit_code"] == 0 and status["stopped"] is False


def test_a_daemon_is_killed_when_the_trial_is_cancelled(make_spec) -> None:
    spec = make_spec(DAEMONIZE.replace('print("accuracy=1")', "time.sleep(60)"))
    event = threading.Event()

    def cancel_when_daemon_runs() -> None:
        limit = time.monotonic() + 30
        while not (spec.trial_dir / "daemon.txt").exists() and time.monotonic() < limit:
            time.sleep(0.01)
        event.set()

    watcher = threading.Thread(target=cancel_when_daemon_runs)
    watcher.start()
    outcome = run_trial(spec, event, kill_grace_seconds=1.0)
    watcher.join()
    assert outcome.state is TrialState.INTERRUPTED
    assert not process_alive(int((spec.trial_dir / "daemon.txt").read_text()))
    assert json.loads((spec.trial_dir / "hpo-exit.json").read_text())["stopped"] is True


def test_the_exit_status_is_the_commands_own(make_spec) -> None:
    python = shlex.quote(sys.executable)
    killed = run_trial(make_spec("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", number=1, command=f"exec {python} train.py"))
    assert killed.exit_code == -11 and killed.failure_reason == "killed by signal SIGSEGV"
    exited = run_trial(make_spec("raise SystemExit(3)", number=2))
    assert exited.exit_code == 3


def test_output_over_the_limit_keeps_a_bounded_tail(make_spec) -> None:
    from hpo_engine.runner.trials.process import OUTPUT_LIMIT_BYTES

    program = f"""
    import sys
    line = "x" * 1023 + "\\n"
    for _ in range({3 * OUTPUT_LIMIT_BYTES // 1024 + 100}):  # three limits and a bit of output
        sys.stdout.write(line)
    sys.stderr.write("only a little on stderr\\n")
    print("accuracy=0.5")
    """
    spec = make_spec(program)
    outcome = run_trial(spec)
    assert outcome.state is TrialState.COMPLETE and outcome.objective == 0.5  # the last line is kept
    size = spec.trial_dir.joinpath("stdout.log").stat().st_size
    assert OUTPUT_LIMIT_BYTES <= size < 2 * OUTPUT_LIMIT_BYTES + 200
    with open(spec.trial_dir / "stdout.log", "rb") as stream:
        first = stream.readline().decode()
    assert first.startswith(f"[hpo: output over {OUTPUT_LIMIT_BYTES} bytes: the first ") and "are dropped" in first
    assert (spec.trial_dir / "stderr.log").read_text() == "only a little on stderr\n"
