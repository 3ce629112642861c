"""``hpo dashboard`` in a real browser while ``hpo run`` is going.

A real ``hpo run`` subprocess runs 8 slow trials (about 6 s each); a real
``hpo dashboard`` subprocess serves its results folder on 127.0.0.1; Debian's headless
Chromium loads the pages (JavaScript run, DOM dumped) with every host name but 127.0.0.1
unresolvable, so the page can only work offline. The test checks that the trial count
on the page grows as trials finish, that the charts render, that the browser asked
nothing of any other host, and saves screenshots under ``test-output/dashboard/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.dashboard_browser import live_shown, live_trials, measure_page
from hpo_engine.runner.store import ResultStore

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO / "test-output" / "dashboard"

SLOW_TRAINING = """
import json, os, time
values = json.load(open("config.json"))
rows = []
for epoch in range(1, 5):
    time.sleep(1.5)
    rows.append({"epoch": epoch, "accuracy": round(values["x"] * epoch / 4, 6)})
    json.dump(rows, open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w"))
"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed: `make test` installs it (Debian package chromium)")
    return path


def browse(url: str, *, screenshot: Path | None = None, net_log: Path | None = None) -> str:
    """The DOM of ``url`` after its scripts ran (up to 10 s of virtual time); optionally a 1400x1000 screenshot."""
    command = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--virtual-time-budget=10000",
        "--window-size=1400,1000",
    ]
    if net_log is not None:
        command.append(f"--log-net-log={net_log}")
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(command + [f"--screenshot={screenshot}", url], capture_output=True, timeout=120)
        assert done.returncode == 0 and screenshot.stat().st_size > 10_000, done.stderr[-2000:]
        return ""
    done = subprocess.run(command + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def text_of(dom: str) -> str:
    dom = re.sub(r"<(style|script)\b.*?</\1>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


def page_counts(base: str) -> tuple[int, int]:
    """(trials, complete trials) as the trial list of the first study shows them."""
    text = text_of(browse(f"{base}studies/0/trials"))
    found = re.search(r"(\d+) Trials", text)
    assert found, "the trial list shows no trial count"
    return int(found.group(1)), len(re.findall(r"Trial \d+ Complete", text))


def page_requests(net_log: Path, origin: str) -> list[str]:
    """URLs of the requests the page made (initiator ``origin``, or the page itself), from Chromium's net log.

    Chromium's own background requests (update checks, sign-in) have no page as initiator and are left out.
    """
    text = net_log.read_text(errors="replace").rstrip()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # a log cut short ends without its closing brackets
        log = json.loads(text.rstrip(",") + "]}")
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if names.get(event["type"]) == "URL_REQUEST_START_JOB" and "url" in params:
            if params.get("initiator") == origin or params["url"].startswith(origin + "/dashboard"):
                urls.append(params["url"])
    return urls


def finished_count(folder: Path) -> int:
    with ResultStore.open_read_only(folder) as store:
        return store.finished_count()


def next_finished(folder: Path):
    """``add_trial`` for :func:`measure_page`: wait until ``hpo run`` finishes one more trial; its number and when it was seen."""
    def wait() -> tuple[int, float]:
        with ResultStore.open_read_only(folder) as store:
            before = {t.number for t in store.trials() if t.finished}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                new = {t.number for t in store.trials() if t.finished} - before
                if new:
                    return min(new), time.perf_counter()
                time.sleep(0.02)
        raise AssertionError("no trial finished within 120 s")

    return wait


@pytest.fixture
def live_run(tmp_path: Path):
    """``hpo run`` of 8 slow trials in progress, and ``hpo dashboard`` on its results root (port 0)."""
    definition = tmp_path / "definition"
    definition.mkdir()
    (definition / "train.py").write_text(SLOW_TRAINING)
    manifest = {
        "settings": {"name": "live"},
        "training_references": [{
            "name": "slow", "training_definition_url": "definition", "command": "python3 train.py",
            "hyper_parameters_optimization": {
                "method": {"name": "random", "parameters": [
                    {"name": "objective", "string_value": "accuracy"},
                    {"name": "maximize_or_minimize", "string_value": "maximize"},
                    {"name": "num_optimizer_steps", "int_value": 8},
                    {"name": "random_seed", "int_value": 3},
                ]},
                "hyper_parameters": [
                    {"name": "x", "double_range": {"min_value": 0.1, "max_value": 1.0}},
                    {"name": "lr", "double_range": {"min_value": -4, "max_value": -1, "power": 10}},
                    {"name": "act", "string_values": ["relu", "tanh"]},
                ],
            },
        }],
    }
    (tmp_path / "live.yaml").write_text(json.dumps(manifest))
    results = tmp_path / "results"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run = subprocess.Popen([sys.executable, "-m", "hpo_engine.cli", "run", str(tmp_path / "live.yaml"), "--results", str(results), "--quiet"],
                           cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    store = results / "live" / "slow"
    dashboard = None
    try:
        deadline = time.monotonic() + 60
        while not ResultStore.exists(store) and time.monotonic() < deadline:
            assert run.poll() is None, run.stderr.read().decode()
            time.sleep(0.1)
        dashboard = subprocess.Popen([sys.executable, "-m", "hpo_engine.cli", "dashboard", str(results), "--port", "0"],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        line = dashboard.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+/dashboard/)", line)
        assert found, line + dashboard.stderr.read()
        yield run, store, found.group(1)
    finally:
        for process in (run, dashboard):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)


def test_dashboard_follows_a_run_in_a_real_browser(live_run, tmp_path: Path) -> None:
    run, store, base = live_run
    first_trials, first_complete = page_counts(base)
    assert first_complete < 8, "the run finished before the browser looked: trials too fast"
    browse(f"{base}studies/0", screenshot=SCREENSHOTS / "during-run.png")
    origin = base.removesuffix("/dashboard/")
    # hpo's live page, loaded once and left open: its own polling brings the next two trials
    watched = measure_page(f"{origin}/live/", "/live/data.json", next_finished(store), repeat=2,
                           shown_expression=live_shown, trials_of=live_trials, timeout=60)
    assert None not in watched["data_delays_s"] and len(watched["text_delays_s"]) == 2, watched
    browse(f"{origin}/live/", screenshot=SCREENSHOTS / "live-during-run.png")
    assert run.wait(timeout=300) == 0, run.stderr.read().decode()
    assert finished_count(store) == 8
    time.sleep(1.5)  # the dashboard polls the store every 0.5 s
    last_trials, last_complete = page_counts(base)
    assert first_trials <= last_trials == 8
    assert first_complete < last_complete == 8

    net_log = tmp_path / "netlog.json"
    dom = browse(f"{base}studies/0", net_log=net_log)
    text = text_of(dom)
    for title in ("History", "Hyperparameter Importance", "Timeline", "Intermediate values"):
        assert title in text, f"no {title!r} chart on the study page"
    assert dom.count('class="main-svg"') >= 4, "the plotly charts did not render"
    assert len(re.findall(r'class="point"', dom)) >= 8, "the history chart has no points"
    assert "Best Trial" in text
    asked = page_requests(net_log, origin)
    assert f"{origin}/static/bundle.js" in asked and any("/api/studies/0" in url for url in asked)
    assert all(url.startswith(origin + "/") for url in asked), f"the page asked other hosts: {asked}"
    live_log = tmp_path / "live-netlog.json"
    dom = browse(f"{origin}/live/", net_log=live_log)
    assert 'data-finished="8"' in dom and len(re.findall(r'<tr[^>]* data-trial="\d+"', dom)) == 8
    rendered = re.findall(r'data-chart="(\w+)"[^>]*data-rendered="1"', dom)
    assert sorted(rendered) == ["curves", "history", "importance", "parallel"], rendered
    assert dom.count('class="main-svg"') >= 3 and "best: trial" in text_of(dom)
    asked = page_requests(live_log, origin)
    assert f"{origin}/live/plotly.min.js" in asked and f"{origin}/live/data.json" in asked
    assert all(url.startswith(origin + "/") for url in asked), f"the live page asked other hosts: {asked}"
    browse(f"{origin}/live/", screenshot=SCREENSHOTS / "live.png")
    browse(f"{base}studies/0", screenshot=SCREENSHOTS / "study.png")
    browse(f"{base}studies/0/analytics", screenshot=SCREENSHOTS / "analytics.png")
    browse(f"{base}studies/0/trials", screenshot=SCREENSHOTS / "trials.png")


def test_dashboard_of_nothing_and_a_public_host_warning(tmp_path: Path) -> None:
    nothing = subprocess.run([sys.executable, "-m", "hpo_engine.cli", "dashboard", str(tmp_path / "missing")], capture_output=True, text=True, timeout=60)
    assert nothing.returncode == 1 and "no such file or folder" in nothing.stderr and "Traceback" not in nothing.stderr
    from tests.engine.analysis_data import write_store

    write_store(tmp_path / "exp" / "ref", 3)
    exposed = subprocess.Popen([sys.executable, "-m", "hpo_engine.cli", "dashboard", str(tmp_path), "--host", "0.0.0.0", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        exposed.stdout.readline()
    finally:
        os.killpg(exposed.pid, signal.SIGTERM)
        exposed.wait(timeout=30)
    warning = exposed.stderr.read()
    assert "warning" in warning and "0.0.0.0" in warning and "no authentication" in warning
