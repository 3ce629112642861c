"""``hpo dashboard``: hpo's live page and optuna-dashboard over an in-memory Optuna storage mirrored from hpo's stores.

One server, two apps (:class:`DashboardRouter`): ``/live/`` is hpo's own live page
(:mod:`hpo_engine.cli.live_page`: it polls every second, so a finished trial is on it about a
second later at any store size); ``/`` redirects there; every other path is optuna-dashboard's
(``/dashboard/...``: importance, contour, timeline and the rest of its analysis).

The storage is filled and kept in step by :class:`hpo_engine.runner.optuna_mirror.StoreMirror`
on a daemon thread (hpo's stores are opened read-only). optuna-dashboard's WSGI app
(``optuna_dashboard.wsgi``, its JavaScript bundled in the package: nothing is loaded from the
network) is served by the standard library's WSGI server, one thread per request.

Freshness: optuna-dashboard keeps the trials it read from the storage for 2 s (a study of
fewer than 100 trials), 5 s (fewer than 500) or 10 s (its ``get_trials``), per WSGI app. So
that a trial the mirror just added is served on the page's next poll, :class:`FreshDashboardApp`
hands each request to an app made by ``optuna_dashboard.wsgi`` after the mirror's last change
(:attr:`StoreMirror.generation`): a new app has an empty cache and reads the storage. Making one
costs about 1-10 ms, once per change, when the next request comes. The page itself polls the
server every 10 s (its study page; the trial list every 2 s below 100 trials, 5 s below 500):
optuna-dashboard's frontend, with no setting for it.
"""

from __future__ import annotations

import ipaddress
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from hpo_engine.errors import HpoError
from hpo_engine.runner.optuna_mirror import DEFAULT_INTERVAL

__all__ = ["is_loopback", "FreshDashboardApp", "DashboardRouter", "Dashboard", "open_dashboard"]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # one line per request would drown the terminal


class FreshDashboardApp:
    """WSGI app: optuna-dashboard's app over ``storage``, made anew when ``mirror`` changed the storage."""

    def __init__(self, storage: Any, mirror: Any) -> None:
        import optuna_dashboard

        self._make = lambda: optuna_dashboard.wsgi(storage)
        self._mirror = mirror
        self._lock = threading.Lock()
        self._generation = mirror.generation
        self._app = self._make()

    def current(self) -> Any:
        """The app for the storage as the mirror last changed it (made now if the mirror changed it since)."""
        with self._lock:
            generation = self._mirror.generation
            if generation != self._generation:
                self._app, self._generation = self._make(), generation
            return self._app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.current()(environ, start_response)


class DashboardRouter:
    """WSGI app: paths under ``/live`` to the live page, ``/`` redirected to it, the rest to optuna-dashboard."""

    def __init__(self, live: Any, optuna_app: Callable[..., Any]) -> None:
        self.live = live
        self.optuna_app = optuna_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        from hpo_engine.cli.live_page import PREFIX

        path = environ.get("PATH_INFO", "") or "/"
        if path == "/" or path == PREFIX.rstrip("/") or path.startswith(PREFIX):
            return self.live(environ, start_response)
        return self.optuna_app(environ, start_response)


class Dashboard:
    """A running dashboard: the mirror thread and the HTTP server (call :meth:`serve_forever`, then :meth:`close`)."""

    def __init__(self, server: WSGIServer, mirror: Any, stop: threading.Event, thread: threading.Thread, live: Any = None) -> None:
        self.server = server
        self.mirror = mirror
        self.live = live
        self._stop = stop
        self._thread = thread

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """optuna-dashboard's start page."""
        return f"{self.origin}/dashboard/"

    @property
    def live_url(self) -> str:
        """hpo's live page."""
        return f"{self.origin}/live/"

    def serve_forever(self) -> None:
        self.server.serve_forever(poll_interval=0.25)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.server.server_close()
        if self.live is not None:
            self.live.close()
        self.mirror.close()


def open_dashboard(
    folders: list[Path],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    interval: float = DEFAULT_INTERVAL,
    on_error: Callable[[Exception], None] | None = None,
) -> Dashboard:
    """Mirror the stores under ``folders`` (first pass done before returning) and bind the server.

    ``port`` 0 picks a free port (see :attr:`Dashboard.url`); ``interval`` is the mirror's poll period in seconds.
    Raises :class:`HpoError` when the address cannot be bound.
    """
    import optuna

    from hpo_engine.cli.live_page import LivePage
    from hpo_engine.runner.optuna_mirror import StoreMirror, run_mirror

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.InMemoryStorage()
    mirror = StoreMirror(storage, folders)
    mirror.sync()
    live = LivePage(mirror.store_folders, mirror.study_id_of)
    app = DashboardRouter(live, FreshDashboardApp(storage, mirror))
    try:
        server = make_server(host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    except OSError as exc:
        mirror.close()
        raise HpoError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    stop = threading.Event()
    thread = threading.Thread(target=run_mirror, args=(mirror, stop), kwargs={"interval": interval, "on_error": on_error},
                              name="hpo-dashboard-mirror", daemon=True)
    thread.start()
    return Dashboard(server, mirror, stop, thread, live)
