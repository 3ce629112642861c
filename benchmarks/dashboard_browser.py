"""Benchmark helper: how long until a new finished trial is on a dashboard page open in headless Chromium.

Chromium runs headless with its DevTools protocol on a local port (``--remote-debugging-port``);
this module talks to it over a WebSocket (aiohttp's client, installed with the ``ray`` extra).
The page is loaded once and left open, as a user would; its own polling brings new trials.
A trial counts as on the page ("data") when a response the page received (optuna-dashboard's
``/api/studies/<id>``, hpo's ``/live/data.json``) holds it finished; and ("shown") when the page's
DOM first shows it — optuna-dashboard's trial list its new count (``N Trials``), hpo's live page
its finished count and table row — timed in the page by a MutationObserver (``_OBSERVE``).
Times are from the store commit (or, for the peer, Optuna's write).
Every host name but 127.0.0.1 is unresolvable, as in the browser test.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["LivePage", "measure_page", "optuna_trials", "live_trials", "optuna_shown", "live_shown"]


class LivePage:
    """One headless Chromium tab, driven over the DevTools protocol (call :meth:`close` when done)."""

    def __init__(self) -> None:
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            raise SystemExit("chromium is not installed (Debian package chromium)")
        self._profile = tempfile.TemporaryDirectory(prefix="hpo-bench-chromium-")
        self._process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
             "--remote-debugging-port=0", f"--user-data-dir={self._profile.name}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        port_file = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise SystemExit("chromium did not open its DevTools port")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as response:
            pages = [t for t in json.load(response) if t["type"] == "page"]
        self.websocket_url = pages[0]["webSocketDebuggerUrl"]

    def close(self) -> None:
        """Stop Chromium and its helper processes (its own process group), remove its profile."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self._process.pid, sig)
                self._process.wait(timeout=20)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        self._profile.cleanup()


class _Session:
    """The DevTools protocol over one WebSocket: commands with ids, events into a queue."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.replies: dict[int, asyncio.Future] = {}
        self.events: asyncio.Queue = asyncio.Queue()

    async def reader(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self.replies:
                self.replies.pop(data["id"]).set_result(data)
            elif "method" in data:
                await self.events.put((time.perf_counter(), data))

    async def call(self, method: str, **params: Any) -> dict:
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.replies[self.next_id] = future
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        reply = await asyncio.wait_for(future, timeout=120)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})


def optuna_trials(body: dict) -> list[tuple[int, bool]]:
    """(number, finished) of the trials in an optuna-dashboard ``/api/studies/<id>`` response."""
    return [(t["number"], t["state"] == "Complete") for t in body["trials"]]


def live_trials(body: dict) -> list[tuple[int, bool]]:
    """(number, finished) of the trials in hpo's ``/live/data.json`` (its first store; finished: complete, pruned or failed)."""
    return [(t["number"], t["state"] != "running") for t in body["stores"][0]["trials"]]


def optuna_shown(total: int, finished: int) -> str:
    """A page expression true once optuna-dashboard's trial list says ``total`` trials."""
    return f"(m => !!m && Number(m[1]) >= {total})(document.body.textContent.match(/(\\d+) Trials/))"


def live_shown(total: int, finished: int) -> str:
    """A page expression true once hpo's live page counts ``finished`` finished trials (its table has the new one)."""
    return f"Number((document.querySelector('section.store') || {{dataset: {{}}}}).dataset.finished || 0) >= {finished}"


#: Installed in the page before a trial is committed: a MutationObserver that notes (``Date.now()``,
#: milliseconds) the first DOM change after which the expression holds — the DOM the next frame
#: paints, timed in the page itself, so the benchmark's own polling of the page does not wait
#: behind the page's scripts.
_OBSERVE = """
(() => {
  window.__hpoSeen = null;
  if (window.__hpoObserver) window.__hpoObserver.disconnect();
  const holds = () => { try { return !!(EXPRESSION); } catch (e) { return false; } };
  if (holds()) { window.__hpoSeen = Date.now(); return; }
  window.__hpoObserver = new MutationObserver(() => {
    if (window.__hpoSeen === null && holds()) { window.__hpoSeen = Date.now(); window.__hpoObserver.disconnect(); }
  });
  window.__hpoObserver.observe(document.documentElement, { subtree: true, childList: true, characterData: true, attributes: true });
})()
"""


async def _measure(page: LivePage, url: str, study_path: str, add_trial: Callable[[], tuple[int, float]], repeat: int,
                   shown_expression: Callable[[int, int], str] | None, timeout: float,
                   trials_of: Callable[[dict], list[tuple[int, bool]]]) -> dict:
    import aiohttp

    async with aiohttp.ClientSession() as client, client.ws_connect(page.websocket_url, max_msg_size=0) as ws:
        session = _Session(ws)
        reader = asyncio.create_task(session.reader())
        await session.call("Network.enable", maxTotalBufferSize=200_000_000, maxResourceBufferSize=100_000_000)
        await session.call("Page.enable")
        requests: dict[str, str] = {}

        async def next_study_response(deadline: float) -> tuple[float, dict] | None:
            """The next finished response of the page to ``study_path``: (perf_counter when it arrived, body)."""
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                try:
                    stamp, event = await asyncio.wait_for(session.events.get(), timeout=left)
                except asyncio.TimeoutError:
                    return None
                params = event.get("params", {})
                if event["method"] == "Network.requestWillBeSent":
                    requests[params["requestId"]] = params["request"]["url"]
                elif event["method"] == "Network.loadingFinished":
                    request_url = requests.pop(params["requestId"], "")
                    if study_path in request_url and "/param_importances" not in request_url:
                        body = await session.call("Network.getResponseBody", requestId=params["requestId"])
                        try:
                            return stamp, json.loads(body["body"])
                        except ValueError:
                            continue  # a 304 (nothing changed): no body

        started = time.perf_counter()
        await session.call("Page.navigate", url=url)
        first = await next_study_response(time.perf_counter() + timeout * 6)
        if first is None:
            raise SystemExit(f"the page never loaded {study_path}")
        first_load = first[0] - started
        total = len(trials_of(first[1]))
        finished = sum(1 for _, done in trials_of(first[1]) if done)
        data_delays: list[float] = []
        text_delays: list[float] = []
        for index in range(repeat):
            total, finished = total + 1, finished + 1
            if shown_expression is not None:
                await session.call("Runtime.evaluate", expression=_OBSERVE.replace("EXPRESSION", shown_expression(total, finished)))
            number, committed = add_trial()
            committed_wall = time.time() - (time.perf_counter() - committed)
            arrived = None
            while arrived is None:
                got = await next_study_response(committed + timeout)
                if got is None:
                    break  # not on the page within ``timeout``: recorded as None
                if (number, True) in trials_of(got[1]):
                    arrived = got[0]
            data_delays.append(None if arrived is None else arrived - committed)
            if arrived is None:
                continue
            if shown_expression is not None:
                while time.perf_counter() - committed < timeout:
                    seen = await session.call("Runtime.evaluate", expression="window.__hpoSeen", returnByValue=True)
                    if isinstance(seen["result"].get("value"), (int, float)):
                        text_delays.append(seen["result"]["value"] / 1000 - committed_wall)
                        break
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.37 * (index % 4))  # land at different points of the page's and the mirror's periods
        reader.cancel()
    result = {"first_load_s": first_load, "trials_at_start": len(trials_of(first[1])), "data_delays_s": data_delays}
    if shown_expression is not None:
        result["text_delays_s"] = text_delays
    return result


def measure_page(url: str, study_path: str, add_trial: Callable[[], tuple[int, float]], *, repeat: int = 5,
                 shown_expression: Callable[[int, int], str] | None = None, timeout: float = 40.0,
                 trials_of: Callable[[dict], list[tuple[int, bool]]] = optuna_trials) -> dict:
    """Open ``url`` in a fresh headless Chromium, then ``repeat`` times: ``add_trial()`` (returns the new
    trial's number and the ``time.perf_counter()`` of its commit) and wait until the page has it.

    Returns the first load time and the delays in seconds (``data_delays_s``: in a response the page
    got, ``None`` for a trial not there within ``timeout``; ``text_delays_s``: until the page's DOM
    first makes ``shown_expression(total, finished)`` true — what a user sees, e.g.
    :func:`optuna_shown` — timed in the page by a MutationObserver).
    ``trials_of`` reads (number, finished) pairs from a response to ``study_path``.
    """
    page = LivePage()
    try:
        return asyncio.run(_measure(page, url, study_path, add_trial, repeat, shown_expression, timeout, trials_of))
    finally:
        page.close()
