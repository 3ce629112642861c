"""The language server object: state shared by the features, and the guard every handler runs in.

Features never reach for a module-global server: :func:`hpo_lsp.setup.create_server`
builds one :class:`HpoLanguageServer` and passes it to each feature's ``register``.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from hpo_engine.manifest.training_code import TrainingCode
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from . import __version__
from .documents import DocumentCache
from .run_results import RunResults
from .settings import Settings

if TYPE_CHECKING:
    from .convert import Lines

__all__ = ["HpoLanguageServer", "HpoProtocol", "SERVER_NAME"]

SERVER_NAME = "hpo-lsp"
logger = logging.getLogger(__name__)


class HpoProtocol(LanguageServerProtocol):
    """pygls' protocol, except that an unknown command is logged and answered with ``null``."""

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams):
        if params.command not in self.fm.commands:
            server = self._server
            if isinstance(server, HpoLanguageServer):
                server.log(f"unknown command {params.command!r}", types.MessageType.Warning)
            return None
        return (yield from super().lsp_workspace__execute_command(params))


class HpoLanguageServer(LanguageServer):
    """Holds the open documents, the settings, the validation executor, the metric cache and the run results."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("protocol_cls", HpoProtocol)
        super().__init__(SERVER_NAME, __version__, *args, **kwargs)
        self.settings = Settings()
        #: Set once the client's settings were asked for after ``initialized`` (or could not be):
        #: requests whose answer depends on a setting wait for it (a preview sent right after
        #: the first diagnostics must use the client's ``maxPoints``, not the default).
        self.settings_ready = asyncio.Event()
        #: One worker: validations of all documents run there, off the event loop, in order.
        self.validation_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hpo-validate")
        self.documents = DocumentCache(self)
        #: What the local training code of each manifest records (completion of the objective, HPO234).
        self.training_code = TrainingCode()
        #: Stores of experiment runs read for hover, completion and the run commands (bounded cache).
        self.run_results = RunResults()
        #: Called after every document analysis that got published (features hook in here).
        self.on_analysis: list[Callable[[str], None]] = []

    async def wait_for_settings(self, timeout: float = 5.0) -> None:
        """Wait (at most ``timeout`` seconds) for the settings asked for after ``initialized``."""
        try:
            await asyncio.wait_for(self.settings_ready.wait(), timeout)
        except asyncio.TimeoutError:
            pass  # a client that never answers: the defaults stay

    # -- positions ---------------------------------------------------------------
    @property
    def position_encoding(self) -> str:
        """The negotiated LSP position encoding ("utf-16" unless the client chose otherwise)."""
        try:
            encoding = self.workspace.position_encoding
        except RuntimeError:
            return "utf-16"
        return str(getattr(encoding, "value", encoding) or "utf-16")

    def lines(self, text: str) -> "Lines":
        from .convert import Lines

        return Lines(text, self.position_encoding)

    # -- messages ------------------------------------------------------------------
    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        """Send ``window/logMessage`` (and log locally); never raises."""
        logger.log(logging.ERROR if kind == types.MessageType.Error else logging.INFO, message)
        try:
            self.window_log_message(types.LogMessageParams(type=kind, message=message))
        except Exception:  # pragma: no cover - the transport is gone
            pass

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        """Send ``window/showMessage``; never raises."""
        try:
            self.window_show_message(types.ShowMessageParams(type=kind, message=message))
        except Exception:  # pragma: no cover
            pass

    def client_supports(self, dotted: str, default: Any = False) -> Any:
        """A client capability by its snake_case dotted path, e.g. ``"workspace.configuration"``."""
        node: Any = self.client_capabilities
        for part in dotted.split("."):
            node = getattr(node, part, None)
            if node is None:
                return default
        return node

    # -- wiring ------------------------------------------------------------------
    def handle(self, method: str, options: Any = None, *, empty: Any = None) -> Callable:
        """Register ``handler(server, params)`` for an LSP ``method`` inside the guard:
        an exception is logged (``window/logMessage``) and ``empty`` is answered."""

        def decorator(handler: Callable) -> Callable:
            self.feature(method, options)(self.guard(handler, method, empty))
            return handler

        return decorator

    def guard(self, handler: Callable, what: str, empty: Any = None) -> Callable:
        """Wrap ``handler(server, *args)`` so it never raises (see :meth:`handle`)."""
        server = self

        if asyncio.iscoroutinefunction(handler):

            async def guarded_async(*args: Any) -> Any:
                try:
                    return await handler(server, *args)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    server.log(f"{what} failed:\n{traceback.format_exc()}", types.MessageType.Error)
                    return empty

            guarded_async.__name__ = getattr(handler, "__name__", "handler")
            return guarded_async

        def guarded(*args: Any) -> Any:
            try:
                return handler(server, *args)
            except Exception:
                server.log(f"{what} failed:\n{traceback.format_exc()}", types.MessageType.Error)
                return empty

        guarded.__name__ = getattr(handler, "__name__", "handler")
        return guarded

    def handle_command(self, name: str, *, empty: Any = None) -> Callable:
        """Register ``handler(server, *arguments)`` for ``workspace/executeCommand`` ``name``, guarded."""

        def decorator(handler: Callable) -> Callable:
            guarded = self.guard(handler, f"command {name}", empty)

            if asyncio.iscoroutinefunction(guarded):

                async def command(*args: Any) -> Any:
                    return await guarded(*args)

            else:

                def command(*args: Any) -> Any:
                    return guarded(*args)

            self.command(name)(command)
            return handler

        return decorator
