"""The backend contract: every backend of ``hpo_engine.runner.backends.BACKENDS`` passes this suite.

Real trial processes, run through each backend (local processes; a private Ray cluster of
2 CPUs): a trial runs and its outputs come back into its folder; two run at once; cancel
ends a running trial and its process; a timeout fails it; a killed trial fails without
stopping the backend. A new backend inherits the suite by its row in the table.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hpo_engine.runner.backends import BACKENDS, make_backend
from hpo_engine.runner.backends.base import TrialBackend, TrialOutcome, TrialSpec
from hpo_engine.runner.trial_state import TrialState
from tests.engine.conftest import process_alive

PYTHON = shlex.quote(sys.executable)

PROGRAM = """
import json, os, signal, sys, time
mode = sys.argv[1]
config = json.load(open("config.json"))
open(os.path.join(os.environ["RESULT_DIR"], "model.txt"), "w").write(f"model {config['n']}")
if mode == "overlap":  # wait (bounded) until the other trial of the pair has started too
    shared, me = sys.argv[2], int(os.environ["SUBID"])
    open(os.path.join(shared, f"started-{me}"), "w").close()
    limit = time.monotonic() + 60
    while not os.path.exists(os.path.join(shared, f"started-{1 - me}")) and time.monotonic() < limit:
        time.sleep(0.02)
    print("overlapped" if os.path.exists(os.path.join(shared, f"started-{1 - me}")) else "alone")
if mode == "sleep":
    open(sys.argv[2], "w").write(str(os.getpid()))
    time.sleep(120)
if mode == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
json.dump([{"steps": 1, "accuracy": 0.5 + config["n"] / 100}], open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w"))
print("done")
"""


def _ray_backend() -> Iterator[Callable[[int], TrialBackend]]:
    pytest.importorskip("ray")
    import ray

    os.environ["RAY_AUTH_MODE"] = "disabled"
    temp_dir = tempfile.mkdtemp(prefix="hpo-ray-contract-", dir="/tmp")  # short: Ray's socket paths
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR", _temp_dir=temp_dir)
    try:
        yield lambda parallel: make_backend("ray", max_parallel=parallel, kill_grace_seconds=2.0)
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(scope="module", params=[pytest.param(name, marks=[pytest.mark.ray] if name == "ray" else []) for name in BACKENDS])
def backend_factory(request: pytest.FixtureRequest) -> Iterator[Callable[[int], TrialBackend]]:
    """Builds a started backend of the parametrized kind for N parallel trials."""
    if request.param == "ray":
        yield from _ray_backend()
    else:
        yield lambda parallel: make_backend(request.param, max_parallel=parallel, kill_grace_seconds=2.0)


@pytest.fixture
def definition(tmp_path: Path) -> Path:
    folder = tmp_path / "definition"
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(PROGRAM), encoding="utf-8")
    return folder


def spec(definition: Path, tmp_path: Path, number: int, args: str, **fields: object) -> TrialSpec:
    return TrialSpec(
        experiment="contract",
        reference="ref",
        number=number,
        values={"n": number},
        command=f"{PYTHON} train.py {args}",
        definition_dir=definition,
        trial_dir=tmp_path / "results" / "trials" / str(number),
        objective="accuracy",
        **fields,  # type: ignore[arg-type]
    )


def wait_for(backend: TrialBackend, count: int, limit: float = 120.0) -> list[TrialOutcome]:
    outcomes: list[TrialOutcome] = []
    end = time.monotonic() + limit
    while len(outcomes) < count and time.monotonic() < end:
        outcomes.extend(backend.wait(1.0))
    assert len(outcomes) == count, f"only {len(outcomes)} of {count} trials reported"
    return sorted(outcomes, key=lambda o: o.number)


def wait_until(condition: Callable[[], bool], limit: float = 60.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def process_gone(pid: int) -> bool:
    return not process_alive(pid)


def test_a_trial_runs_and_its_outputs_come_back(backend_factory: Callable[[int], TrialBackend], definition: Path, tmp_path: Path) -> None:
    with backend_factory(1) as backend:
        backend.launch(spec(definition, tmp_path, 3, "plain"))
        assert backend.running == frozenset({3})
        [outcome] = wait_for(backend, 1)
        assert backend.running == frozenset()
    assert (outcome.state, outcome.objective, outcome.exit_code) == (TrialState.COMPLETE, 0.53, 0)
    folder = tmp_path / "results" / "trials" / "3"
    assert json.loads((folder / "config.json").read_text()) == {"n": 3}
    assert (folder / "result" / "model.txt").read_text() == "model 3"
    assert outcome.stdout_path is not None and "done" in outcome.stdout_path.read_text()


def test_two_trials_run_at_once(backend_factory: Callable[[int], TrialBackend], definition: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with backend_factory(2) as backend:
        for number in (0, 1):
            backend.launch(spec(definition, tmp_path, number, f"overlap {shared}"))
        outcomes = wait_for(backend, 2)
    assert [o.state for o in outcomes] == [TrialState.COMPLETE] * 2
    assert all("overlapped" in o.stdout_path.read_text() for o in outcomes if o.stdout_path)


def test_cancel_ends_a_running_trial_and_its_process(backend_factory: Callable[[int], TrialBackend], definition: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "sleeper.pid"
    with backend_factory(1) as backend:
        backend.launch(spec(definition, tmp_path, 0, f"sleep {pidfile}"))
        assert wait_until(lambda: pidfile.exists() and pidfile.read_text().isdigit())
        backend.cancel(0)
        [outcome] = wait_for(backend, 1)
    assert outcome.state is TrialState.INTERRUPTED
    assert wait_until(lambda: process_gone(int(pidfile.read_text())), 15)


def test_a_trial_past_its_timeout_fails(backend_factory: Callable[[int], TrialBackend], definition: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "slow.pid"
    with backend_factory(1) as backend:
        backend.launch(spec(definition, tmp_path, 0, f"sleep {pidfile}", timeout_seconds=1.0))
        [outcome] = wait_for(backend, 1)
    assert (outcome.state, outcome.failure_reason) == (TrialState.FAILED, "timed out after 1.0 s")
    assert wait_until(lambda: process_gone(int(pidfile.read_text())), 15)


def test_a_killed_trial_fails_and_the_backend_goes_on(backend_factory: Callable[[int], TrialBackend], definition: Path, tmp_path: Path) -> None:
    with backend_factory(1) as backend:
        backend.launch(spec(definition, tmp_path, 0, "kill"))
        [killed] = wait_for(backend, 1)
        backend.launch(spec(definition, tmp_path, 1, "plain"))
        [after] = wait_for(backend, 1)
    assert killed.state is TrialState.FAILED and any(word in (killed.failure_reason or "") for word in ("SIGKILL", "137"))
    assert after.state is TrialState.COMPLETE


def test_close_cancels_what_still_runs(backend_factory: Callable[[int], TrialBackend], definition: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "left.pid"
    backend = backend_factory(1)
    backend.start()
    backend.launch(spec(definition, tmp_path, 0, f"sleep {pidfile}"))
    assert wait_until(lambda: pidfile.exists() and pidfile.read_text().isdigit())
    backend.close()
    assert wait_until(lambda: process_gone(int(pidfile.read_text())), 15)
