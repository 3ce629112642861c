"""The live page of ``hpo dashboard`` (``hpo_engine.cli.live_page``) over real stores, through its WSGI interface."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from wsgiref.util import setup_testing_defaults

from hpo_engine.cli.dashboard import DashboardRouter
from hpo_engine.cli.live_page import LOG_TAIL_BYTES, MAX_CURVES, LivePage
from hpo_engine.cli.plots.chart_data import curve_trials
from hpo_engine.runner.backends.base import IntermediateValue, TrialOutcome
from hpo_engine.runner.store import ResultStore
from hpo_engine.runner.trial_state import TrialState

from tests.engine.analysis_data import write_store

VALUES = {"lr": 0.01, "units": 32, "dropout": 0.1, "layers": 2, "batch": 32, "act": "relu"}


def call(app, path: str, **headers: str) -> tuple[str, dict[str, str], bytes]:
    environ: dict = {}
    setup_testing_defaults(environ)
    environ["PATH_INFO"] = path
    environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    got: list = []
    body = b"".join(app(environ, lambda status, hdrs, exc_info=None: got.append((status, dict(hdrs)))))
    return got[0][0], got[0][1], body


def page_over(*folders: Path) -> LivePage:
    return LivePage(lambda: list(folders), lambda folder: 7)


def test_data_follows_the_store_and_answers_304_while_nothing_changed(tmp_path: Path) -> None:
    folder = write_store(tmp_path / "exp" / "ref", 10, fail_every=5)
    page = page_over(folder)
    status, headers, body = call(page, "/live/data.json")
    assert status == "200 OK" and headers["Content-Type"] == "application/json"
    store = json.loads(body)["stores"][0]
    assert (store["experiment"], store["reference"], store["objective"], store["budget"]) == ("exp", "ref", "loss", 10)
    assert [t["state"] for t in store["trials"]].count("failed") == 2 and store["study_url"] == "/dashboard/studies/7"
    assert all(t["duration"] is not None for t in store["trials"]) and store["curves"]
    etag = headers["ETag"]
    # the importance arrives from its worker thread, and with it a new body: wait for it
    deadline = time.monotonic() + 60
    while store["importance_trials"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
        status, headers, body = call(page, "/live/data.json")
        store, etag = json.loads(body)["stores"][0], headers["ETag"]
    assert store["importance_trials"] == 8
    assert call(page, "/live/data.json", if_none_match=etag)[0] == "304 Not Modified"
    with ResultStore.open(folder) as writer:
        writer.record_running(10, VALUES)
    status, headers, body = call(page, "/live/data.json", if_none_match=etag)
    assert status == "200 OK" and headers["ETag"] != etag
    running = json.loads(body)["stores"][0]["trials"][-1]
    assert (running["number"], running["state"], running["duration"]) == (10, "running", None)
    with ResultStore.open(folder) as writer:
        writer.record_outcome(TrialOutcome(10, TrialState.COMPLETE, 0.001, {}, 0, None, "", 1.0, 3.5))
    store = json.loads(call(page, "/live/data.json")[2])["stores"][0]
    assert store["trials"][-1]["state"] == "complete" and store["trials"][-1]["duration"] == 2.5 and store["best"] == 10
    page.close()


def test_it_never_writes_the_store(tmp_path: Path) -> None:
    """Read-only connections: the database file is byte for byte the same (a WAL reader may add
    SQLite's shared-memory index ``-shm`` and an empty ``-wal`` beside it; both hold no data)."""
    folder = write_store(tmp_path / "exp" / "ref", 5)
    database = folder / "trials.sqlite"
    before = (database.read_bytes(), database.stat().st_mtime_ns)
    page = page_over(folder)
    assert call(page, "/live/data.json")[0] == "200 OK"
    page.close()
    assert (database.read_bytes(), database.stat().st_mtime_ns) == before
    wal = folder / "trials.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_store_that_appears_later_and_several_stores(tmp_path: Path) -> None:
    folders: list[Path] = []
    page = LivePage(lambda: list(folders))
    assert json.loads(call(page, "/live/data.json")[2])["stores"] == []
    folders.append(write_store(tmp_path / "exp" / "a", 3, reference="a"))
    folders.append(write_store(tmp_path / "exp" / "b", 4, reference="b"))
    stores = json.loads(call(page, "/live/data.json")[2])["stores"]
    assert [(s["index"], s["reference"], len(s["trials"])) for s in stores] == [(0, "a", 3), (1, "b", 4)]
    assert stores[0]["study_url"] is None


def test_trial_logs_are_served_and_nothing_else(tmp_path: Path) -> None:
    folder = write_store(tmp_path / "exp" / "ref", 3)
    logs = folder / "trials" / "1"
    logs.mkdir(parents=True)
    (logs / "stdout.log").write_text("epoch=1 loss=0.5\n")
    (logs / "stderr.log").write_bytes(b"x" * (LOG_TAIL_BYTES + 10) + b"END")
    (tmp_path / "secret.txt").write_text("TOPSECRET")
    page = page_over(folder)
    call(page, "/live/data.json")  # the page has read the store list
    status, headers, body = call(page, "/live/log/0/1/stdout")
    assert status == "200 OK" and body == b"epoch=1 loss=0.5\n" and headers["Content-Type"].startswith("text/plain")
    status, _, body = call(page, "/live/log/0/1/stderr")
    assert status == "200 OK" and body.endswith(b"END") and body.startswith(b"[... the first 13 bytes left out ...]")
    assert call(page, "/live/log/0/2/stdout")[0] == "404 Not Found"  # no log kept
    for bad in ("/live/log/0/../../secret.txt", "/live/log/0/1/../../../secret.txt", "/live/log/9/1/stdout",
                "/live/log/0/-1/stdout", "/live/log/0/1/config.json", "/live/nothing", "/live/../secret.txt"):
        status, _, body = call(page, bad)
        assert status == "404 Not Found" and b"TOPSECRET" not in body, bad


def test_the_page_its_script_and_plotly_come_from_this_server(tmp_path: Path) -> None:
    page = page_over(write_store(tmp_path / "exp" / "ref", 2))
    status, headers, body = call(page, "/live/")
    assert status == "200 OK" and b'<script src="live.js"' in body and b'<script src="plotly.min.js"' in body
    assert "default-src 'none'" in headers["Content-Security-Policy"] and "connect-src 'self'" in headers["Content-Security-Policy"]
    assert b"http" not in body.replace(b"http-equiv", b"")  # nothing from another host
    status, headers, script = call(page, "/live/live.js")
    assert status == "200 OK" and b"data.json" in script and b"If-None-Match" in script
    status, headers, plotly = call(page, "/live/plotly.min.js")
    assert status == "200 OK" and plotly.startswith(b"/**") and b"plotly.js v" in plotly[:200] and len(plotly) > 1_000_000


def test_the_router_sends_the_root_to_the_live_page_and_the_rest_to_optuna_dashboard(tmp_path: Path) -> None:
    seen: list[str] = []

    def optuna_app(environ, start_response):
        seen.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"optuna"]

    router = DashboardRouter(page_over(write_store(tmp_path / "exp" / "ref", 2)), optuna_app)
    status, headers, _ = call(router, "/")
    assert status == "302 Found" and headers["Location"] == "/live/"
    assert call(router, "/live")[0] == "302 Found"
    assert call(router, "/live/data.json")[0] == "200 OK"
    assert call(router, "/dashboard/studies/0")[2] == b"optuna" and call(router, "/api/studies/0")[2] == b"optuna"
    assert seen == ["/dashboard/studies/0", "/api/studies/0"]


def test_a_large_store_sends_the_curves_of_the_best_the_running_and_the_newest(tmp_path: Path) -> None:
    folder = write_store(tmp_path / "exp" / "ref", MAX_CURVES + 40, fail_every=0)
    with ResultStore.open(folder) as writer:
        writer.record_running(MAX_CURVES + 40, VALUES)
        trials = writer.trials()
    best = min((t for t in trials if t.objective is not None), key=lambda t: t.objective).number
    chosen = [t.number for t in curve_trials(trials, best, MAX_CURVES)]
    assert len(chosen) == MAX_CURVES and best in chosen and MAX_CURVES + 40 in chosen
    assert chosen[-MAX_CURVES + 2:] == list(range(len(trials) - MAX_CURVES + 2, len(trials)))  # the newest
    store = json.loads(call(page_over(folder), "/live/data.json")[2])["stores"][0]
    assert len(store["trials"]) == MAX_CURVES + 41 and store["curves_total"] == MAX_CURVES + 41
    assert {c["number"] for c in store["curves"]} <= set(chosen) and best in {c["number"] for c in store["curves"]}
    assert curve_trials(trials[:10], best, None) == sorted(trials[:10], key=lambda t: t.number)


def test_values_json_has_no_word_for_are_sent_as_null(tmp_path: Path) -> None:
    folder = write_store(tmp_path / "exp" / "ref", 3, fail_every=0)
    with ResultStore.open(folder) as writer:
        writer.record_running(3, VALUES)
        writer.record_intermediate([IntermediateValue(3, 1.0, float("nan"), "stdout"), IntermediateValue(3, 2.0, 0.5, "stdout")], 1.5)
        writer.record_outcome(TrialOutcome(3, TrialState.COMPLETE, float("inf"), {}, 0, None, "", 1.0, 2.0))
    status, _, body = call(page_over(folder), "/live/data.json")
    assert status == "200 OK" and b"NaN" not in body and b"Infinity" not in body
    assert json.loads(body)["stores"][0]["trials"][3]["objective"] is None


def test_only_the_store_that_committed_is_read_again(tmp_path: Path, monkeypatch) -> None:
    import hpo_engine.cli.plots.chart_data as chart_data

    a = write_store(tmp_path / "exp" / "a", 3, reference="a")
    b = write_store(tmp_path / "exp" / "b", 3, reference="b")
    read: list[Path] = []
    real = chart_data.store_charts
    monkeypatch.setattr(chart_data, "store_charts", lambda folder, *args, **kw: read.append(folder) or real(folder, *args, **kw))
    page = page_over(a, b)
    call(page, "/live/data.json")
    assert read == [a, b]
    with ResultStore.open(b) as writer:
        writer.record_running(3, VALUES)
    stores = json.loads(call(page, "/live/data.json")[2])["stores"]
    assert read == [a, b, b] and [len(s["trials"]) for s in stores] == [3, 4]
    page.close()
