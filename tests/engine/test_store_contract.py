"""The store contract: crash safety (a writer SIGKILLed at any moment) and finished trials that never change.

Every writer of a store (the local scheduler, the Ray driver, a resumed run) relies on these
properties; the store is one SQLite file per reference (``hpo_engine.runner.store``).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hpo_engine.errors import StoreError
from hpo_engine.runner.store import ResultStore
from hpo_engine.runner.trial_state import TrialState

from test_store import outcome, record

WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_store import outcome, record
from hpo_engine.runner.store import ResultStore
with ResultStore.create(Path({folder!r}), record(budget=100000)) as store:
    number = 0
    while True:
        store.record_running(number, {{"lr": 0.001 * number}})
        store.record_outcome(outcome(number, objective=number / 1000))
        print(number, flush=True)
        number += 1
"""


@pytest.mark.parametrize("after", [5, 40, 200])
def test_a_writer_killed_mid_run_leaves_every_reported_trial_and_no_half_row(tmp_path: Path, after: int) -> None:
    folder = tmp_path / "store"
    tests = str(Path(__file__).resolve().parent)
    program = textwrap.dedent(WRITER).format(tests=tests, folder=str(folder))
    writer = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    reported = -1
    for line in writer.stdout:
        reported = int(line)
        if reported >= after:
            break
    writer.send_signal(signal.SIGKILL)
    writer.wait(10)
    with ResultStore.open(folder) as store:
        trials = store.trials()
        complete = [t for t in trials if t.state is TrialState.COMPLETE]
        assert [t.number for t in complete][: reported + 1] == list(range(reported + 1))
        assert all(t.objective == t.number / 1000 for t in complete)
        # at most the one being written when the kill came is left running, and resume sees it
        assert len([t for t in trials if t.state is TrialState.RUNNING]) <= 1
        assert store.mark_interrupted() == [t.number for t in trials if t.state is TrialState.RUNNING]


def test_finished_trials_never_change(tmp_path: Path) -> None:
    with ResultStore.create(tmp_path / "store", record()) as store:
        store.record_running(0, {"lr": 0.1})
        store.record_outcome(outcome(0, objective=0.8))
        store.record_running(1, {"lr": 0.2})
        store.record_outcome(outcome(1, TrialState.FAILED, None, exit_code=1, failure_reason="exit code 1"))
        before = store.trials()
        with pytest.raises(StoreError):
            store.record_outcome(outcome(0, objective=0.1))
        with pytest.raises(StoreError):
            store.record_running(1, {"lr": 0.3})
        assert store.mark_interrupted() == []
    with ResultStore.open(tmp_path / "store") as reopened:
        assert reopened.trials() == before
