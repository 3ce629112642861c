"""``hpo dashboard``'s WSGI app: a trial the mirror just added is served on the next request."""

from __future__ import annotations

import json
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import optuna

from hpo_engine.cli.dashboard import FreshDashboardApp
from hpo_engine.runner.backends.base import TrialOutcome
from hpo_engine.runner.optuna_mirror import StoreMirror
from hpo_engine.runner.store import ResultStore
from hpo_engine.runner.trial_state import TrialState

from tests.engine.analysis_data import write_store


def get(app, path: str) -> dict:
    environ: dict = {}
    setup_testing_defaults(environ)
    environ["PATH_INFO"] = path
    status: list[str] = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    assert status == ["200 OK"], (status, body[:500])
    return json.loads(body)


def complete_numbers(app) -> list[int]:
    return [t["number"] for t in get(app, "/api/studies/0")["trials"] if t["state"] == "Complete"]


def test_a_new_trial_is_served_at_once_not_after_optuna_dashboards_cache(tmp_path: Path) -> None:
    """optuna-dashboard alone serves a study's trials from a 2 s cache (below 100 trials): the same
    request right after the mirror added a trial would not show it."""
    folder = write_store(tmp_path / "exp" / "ref", 10, fail_every=0)
    storage = optuna.storages.InMemoryStorage()
    mirror = StoreMirror(storage, [folder])
    mirror.sync()
    app = FreshDashboardApp(storage, mirror)
    first = app.current()
    assert complete_numbers(app) == list(range(10))
    with ResultStore.open(folder) as store:
        store.record_running(10, {"lr": 0.01, "units": 32, "dropout": 0.1, "layers": 2, "batch": 32, "act": "relu"})
        store.record_outcome(TrialOutcome(10, TrialState.COMPLETE, 0.5, {}, 0, None, "", 1.0, 2.0))
    assert mirror.sync() == 1
    assert complete_numbers(app) == list(range(11))
    assert app.current() is not first
    assert mirror.sync() == 0 and app.current() is app.current(), "no change: the same app (and its cache)"
