"""The live page of ``hpo dashboard`` (``/live/``): trials and charts that follow a run within a second.

optuna-dashboard's own pages poll the server every 2-10 s (its frontend decides, by the number
of trials); this page polls :data:`POLL_MS` and so shows a trial about a second after the store
committed it, at any store size. It is a WSGI app beside optuna-dashboard's in the same server
(:class:`hpo_engine.cli.dashboard.DashboardRouter` sends it the paths under :data:`PREFIX`):

``/live/``
    The page (``live_static/live.html``): per store, the state counts, the best configuration,
    the optimization history, parallel coordinates, learning curves and hyper-parameter
    importance (PED-ANOVA, computed off the request path by
    :class:`~hpo_engine.cli.live_importance.ImportanceWorker`) (plotly.js, drawn by
    ``live_static/live.js`` from the same chart data as the VS Code results view:
    :func:`~hpo_engine.cli.plots.chart_data.store_charts`), and the trial table with each
    trial's state, objective, values, step reached, duration and links to its logs; a link per
    store to its optuna-dashboard page (importance, contour, timeline).
``/live/data.json``
    The chart data of every store, read-only. Built again only when a store committed since
    (SQLite's ``data_version`` on a read-only connection per store); its ``ETag`` lets the page
    poll with ``If-None-Match`` and get ``304`` while nothing changed.
``/live/log/<store>/<trial>/<stdout|stderr>``
    The last :data:`LOG_TAIL_BYTES` of a trial's log, as text (``<store>``: 0-based index into
    the ``stores`` of ``data.json``; ``<trial>``: the store's 0-based trial number).
``/live/plotly.min.js``
    plotly.js as the ``plotly`` Python package ships it (``plotly.offline.get_plotlyjs``):
    nothing is loaded from the network.

The page's Content-Security-Policy allows scripts, styles and requests to this server only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from hpo_engine.errors import HpoError
from hpo_engine.runner.store import ResultStore
from hpo_engine.runner.store_records import dumps_json

__all__ = ["LivePage", "PREFIX", "POLL_MS", "LOG_TAIL_BYTES", "MAX_CURVES"]

#: The path the live page is served under.
PREFIX = "/live/"
#: How often the page asks for ``data.json``, in milliseconds.
POLL_MS = 1000
#: The learning curves ``data.json`` holds at most per store (the best, the running, the newest):
#: more are unreadable in one chart and slow every refresh of a large store.
MAX_CURVES = 300
#: How much of the end of a trial's log ``/live/log/...`` serves, in bytes.
LOG_TAIL_BYTES = 1 << 20

_STATIC = {"": ("live.html", "text/html; charset=utf-8"), "live.js": ("live.js", "text/javascript; charset=utf-8"),
           "live.css": ("live.css", "text/css; charset=utf-8")}
_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'"
_STREAMS = {"stdout": "stdout.log", "stderr": "stderr.log"}

Response = tuple[str, list[tuple[str, str]], bytes]


class LivePage:
    """WSGI app of the paths under :data:`PREFIX` (see the module docstring).

    ``folders``: the store folders to show, called at each refresh (a store created during the
    run appears); ``study_id_of``: the optuna-dashboard study id of a store folder, or ``None``.
    """

    def __init__(self, folders: Callable[[], list[Path]], study_id_of: Callable[[Path], int | None] = lambda _: None) -> None:
        from hpo_engine.cli.live_importance import ImportanceWorker

        self._folders = folders
        self._importance = ImportanceWorker()
        self._study_id_of = study_id_of
        self._lock = threading.Lock()
        self._stores: dict[Path, ResultStore] = {}  # read-only connections, for data_version only
        self._charts: dict[Path, tuple[int | None, dict[str, Any]]] = {}  # folder -> (data_version read at, store_charts)
        self._key: Any = None  # (folders, their data_versions, the importance worker's version) of the body
        self._folders_shown: list[Path] = []  # the stores of the last data.json, in its order
        self._body = b""
        self._generation = 0
        self._plotly: bytes | None = None

    # -- data ----------------------------------------------------------------------------
    def _version(self, folder: Path) -> int | None:
        store = self._stores.get(folder)
        if store is None:
            try:
                store = self._stores[folder] = ResultStore.open_read_only(folder)
            except HpoError:
                return None  # being created: next poll
        try:
            return store.data_version()
        except HpoError:
            store.close()
            del self._stores[folder]
            return None

    def data(self) -> tuple[bytes, str]:
        """``data.json``'s body and ETag, built again only when a store changed since the last call
        (then only the stores that committed are read again) or a new importance came."""
        from hpo_engine.cli.plots.chart_data import store_charts

        with self._lock:
            folders = self._folders()
            versions = [self._version(folder) for folder in folders]
            key = (folders, versions, self._importance.version)
            if key != self._key or not self._body:
                stale = False
                stores = []
                for folder, version in zip(folders, versions):
                    cached = self._charts.get(folder)
                    if cached is None or cached[0] != version or version is None:  # only a store that committed is read again
                        chart = store_charts(folder, read_only=True, max_curves=MAX_CURVES)
                        if chart is None:
                            self._charts.pop(folder, None)
                            stale = True  # read again next time
                            continue
                        cached = self._charts[folder] = (version, chart)
                    chart = dict(cached[1])  # the page's own fields go on a copy
                    importance = self._importance.latest(folder, chart["complete"])
                    chart["importance"] = None if importance is None else importance.values
                    chart["importance_trials"] = None if importance is None else importance.complete
                    study = self._study_id_of(folder)
                    chart["index"] = len(stores)
                    chart["folder"] = str(folder)
                    chart["study_url"] = None if study is None else f"/dashboard/studies/{study}"
                    stores.append(chart)
                for gone in set(self._charts) - set(folders):
                    del self._charts[gone]
                self._folders_shown = [Path(s["folder"]) for s in stores]
                payload = {"generated_at": time.time(), "poll_ms": POLL_MS, "stores": stores}
                try:
                    self._body = json.dumps(payload, allow_nan=False, default=str).encode()
                except ValueError:  # a NaN or infinity somewhere (a curve point): JSON has none, they become null
                    self._body = dumps_json(payload).encode()
                self._key = None if stale else key
                self._generation += 1
            return self._body, f'"{self._generation}"'

    def close(self) -> None:
        self._importance.close()
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()

    # -- WSGI ------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, headers, body = self.respond(environ.get("PATH_INFO", ""), environ.get("HTTP_IF_NONE_MATCH"))
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body] if environ.get("REQUEST_METHOD", "GET") != "HEAD" else []

    def respond(self, path: str, if_none_match: str | None = None) -> Response:
        """The response to a GET of ``path`` (under :data:`PREFIX`): status, headers, body."""
        rest = path[len(PREFIX):] if path.startswith(PREFIX) else None
        if rest is None:
            return _redirect(PREFIX)
        if rest in _STATIC:
            name, kind = _STATIC[rest]
            body = resources.files("hpo_engine.cli").joinpath("live_static", name).read_bytes()
            return "200 OK", [("Content-Type", kind), ("Content-Security-Policy", _CSP), ("Cache-Control", "no-cache")], body
        if rest == "plotly.min.js":
            return "200 OK", [("Content-Type", "text/javascript; charset=utf-8"), ("Cache-Control", "max-age=86400")], self._plotly_js()
        if rest == "data.json":
            try:
                body, etag = self.data()
            except HpoError as exc:
                return _text("503 Service Unavailable", f"cannot read the results: {exc}")
            headers = [("ETag", etag), ("Cache-Control", "no-cache")]
            if if_none_match == etag:
                return "304 Not Modified", headers, b""
            return "200 OK", headers + [("Content-Type", "application/json")], body
        if rest.startswith("log/"):
            return self._log(rest[len("log/"):])
        return _text("404 Not Found", f"no such page: {path}")

    def _plotly_js(self) -> bytes:
        if self._plotly is None:
            from plotly.offline import get_plotlyjs

            self._plotly = get_plotlyjs().encode()
        return self._plotly

    def _log(self, rest: str) -> Response:
        parts = rest.split("/")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or parts[2] not in _STREAMS:
            return _text("404 Not Found", "a log is /live/log/<store>/<trial>/stdout or .../stderr")
        with self._lock:
            shown = list(self._folders_shown)
        index, number = int(parts[0]), int(parts[1])
        if index >= len(shown):
            return _text("404 Not Found", f"no store {index}")
        path = shown[index] / "trials" / str(number) / _STREAMS[parts[2]]
        try:
            with path.open("rb") as handle:
                size = handle.seek(0, 2)
                handle.seek(max(0, size - LOG_TAIL_BYTES))
                body = handle.read(LOG_TAIL_BYTES)
        except FileNotFoundError:
            return _text("404 Not Found", f"trial {number} has no {parts[2]} log (empty logs are not kept)")
        except OSError as exc:
            return _text("404 Not Found", f"cannot read {path.name}: {exc.strerror}")
        if size > LOG_TAIL_BYTES:
            body = f"[... the first {size - LOG_TAIL_BYTES} bytes left out ...]\n".encode() + body
        return "200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-cache")], body


def _text(status: str, message: str) -> Response:
    return status, [("Content-Type", "text/plain; charset=utf-8")], (message + "\n").encode()


def _redirect(location: str) -> Response:
    return "302 Found", [("Location", location), ("Content-Type", "text/plain; charset=utf-8")], b""
