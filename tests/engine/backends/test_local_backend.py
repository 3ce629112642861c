"""LocalBackend: several real trial processes at once, wait, cancel, limits."""

from __future__ import annotations

import json
import shlex
import sys
import textwrap
from pathlib import Path

import pytest

from hpo_engine.runner.backends.base import TrialOutcome, TrialSpec

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.runner.backends.local import LocalBackend
from hpo_engine.errors import BackendError

PYTHON = shlex.quote(sys.executable)

# Each trial records its start, then waits (bounded) until the other trial has started,
# then records its end. Run one at a time, the first would wait in vain and the two
# intervals could not overlap.
OVERLAP = """
import json, os, sys, time
number, other = int(os.environ["SUBID"]), 1 - int(os.environ["SUBID"])
shared = sys.argv[1]
start = time.time()
open(os.path.join(shared, f"started-{number}"), "w").close()
limit = time.monotonic() + 20
while not os.path.exists(os.path.join(shared, f"started-{other}")) and time.monotonic() < limit:
    time.sleep(0.01)
json.dump({"start": start, "end": time.time()}, open(os.path.join(shared, f"times-{number}.json"), "w"))
print("accuracy=1")
"""

SLEEPER = """
import time
open("started", "w").close()
time.sleep(60)
"""


def _spec(tmp_path: Path, number: int, program: str, args: str = "", **fields) -> TrialSpec:
    definition = tmp_path / "definition"
    definition.mkdir(exist_ok=True)
    (definition / f"train{number}.py").write_text(textwrap.dedent(program))
    return TrialSpec(
        experiment="exp",
        reference="ref",
        number=number,
        values={"n": number},
        command=f"{PYTHON} train{number}.py {args}",
        definition_dir=definition,
        trial_dir=tmp_path / "trials" / str(number),
        objective="accuracy",
        **fields,
    )


def _wait_all(backend: LocalBackend, count: int) -> dict[int, TrialOutcome]:
    outcomes: dict[int, TrialOutcome] = {}
    while len(outcomes) < count:
        for outcome in backend.wait(timeout=30):
            outcomes[outcome.number] = outcome
    return outcomes


def _wait_for_file(path: Path) -> None:
    import threading

    pause = threading.Event()
    while not path.exists():
        pause.wait(0.01)


def test_two_trials_run_at_the_same_time(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with LocalBackend(max_parallel=2) as backend:
        backend.launch(_spec(tmp_path, 0, OVERLAP, str(shared)))
        backend.launch(_spec(tmp_path, 1, OVERLAP, str(shared)))
        assert backend.running == frozenset({0, 1})
        outcomes = _wait_all(backend, 2)
        assert backend.running == frozenset()
    assert {n: o.state for n, o in outcomes.items()} == {0: TrialState.COMPLETE, 1: TrialState.COMPLETE}
    first = json.loads((shared / "times-0.json").read_text())
    second = json.loads((shared / "times-1.json").read_text())
    assert first["start"] < second["end"] and second["start"] < first["end"]


def test_more_than_max_parallel_is_refused(tmp_path: Path) -> None:
    with LocalBackend(max_parallel=1) as backend:
        backend.launch(_spec(tmp_path, 0, SLEEPER))
        with pytest.raises(BackendError, match="max_parallel=1"):
            backend.launch(_spec(tmp_path, 1, SLEEPER))
        with pytest.raises(BackendError, match="already running"):
            backend.launch(_spec(tmp_path, 0, SLEEPER))
        backend.cancel(0)
        assert _wait_all(backend, 1)[0].state is TrialState.INTERRUPTED


def test_cancel_one_trial_the_other_completes(tmp_path: Path) -> None:
    with LocalBackend(max_parallel=2) as backend:
        sleeper = _spec(tmp_path, 0, SLEEPER)
        backend.launch(sleeper)
        backend.launch(_spec(tmp_path, 1, 'print("accuracy=0.5")\n'))
        _wait_for_file(sleeper.trial_dir / "started")
        backend.cancel(0)
        backend.cancel(99)  # unknown: ignored
        outcomes = _wait_all(backend, 2)
    assert outcomes[0].state is TrialState.INTERRUPTED
    assert outcomes[1].state is TrialState.COMPLETE and outcomes[1].objective == 0.5


def test_wait_returns_nothing_when_nothing_runs(tmp_path: Path) -> None:
    backend = LocalBackend(max_parallel=1)
    assert backend.wait() == []
    assert backend.running == frozenset()


def test_wait_with_a_short_timeout_returns_while_a_trial_runs(tmp_path: Path) -> None:
    with LocalBackend(max_parallel=1) as backend:
        spec = _spec(tmp_path, 0, SLEEPER)
        backend.launch(spec)
        _wait_for_file(spec.trial_dir / "started")
        assert backend.wait(timeout=0.05) == []
        assert backend.running == frozenset({0})
        backend.cancel_all()
        assert _wait_all(backend, 1)[0].state is TrialState.INTERRUPTED


def test_close_stops_running_trials_and_keeps_their_outcomes(tmp_path: Path) -> None:
    backend = LocalBackend(max_parallel=2, kill_grace_seconds=1.0)
    spec = _spec(tmp_path, 0, SLEEPER)
    with backend:
        backend.launch(spec)
        _wait_for_file(spec.trial_dir / "started")
    outcomes = backend.wait(timeout=0)
    assert [(o.number, o.state) for o in outcomes] == [(0, TrialState.INTERRUPTED)]


def test_timeouts_and_failures_come_back_as_outcomes(tmp_path: Path) -> None:
    with LocalBackend(max_parallel=2) as backend:
        backend.launch(_spec(tmp_path, 0, SLEEPER, timeout_seconds=0.5))
        backend.launch(_spec(tmp_path, 1, "import sys; sys.exit(2)\n"))
        outcomes = _wait_all(backend, 2)
    assert (outcomes[0].state, outcomes[0].failure_reason) == (TrialState.FAILED, "timed out after 0.5 s")
    assert (outcomes[1].state, outcomes[1].failure_reason) == (TrialState.FAILED, "exit code 2")


def test_max_parallel_must_be_positive() -> None:
    with pytest.raises(BackendError):
        LocalBackend(max_parallel=0)
