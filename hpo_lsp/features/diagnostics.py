"""Diagnostics: the core validator's problems, published per document version after a debounce.

* ``didOpen`` validates at once; ``didChange`` waits for quiet first (per uri), for a
  time that adapts to the document (:func:`debounce_ms`): twice its last validation
  time, at least :data:`MIN_DEBOUNCE_MS`, at most ``hpo.validation.debounceMs``; the
  whole ``debounceMs`` while changes come faster than a validation takes. A small
  manifest validates in a few milliseconds, so its diagnostics follow each key stroke;
  a 10,000-line one waits longer and is not validated for every key of a burst.
* Validation runs on the server's executor, so requests are answered meanwhile.
* A result is published with its version, and only when it is the document's
  current version and newer than what was last published: an older version's
  result never follows a newer one.
* Documents that are not manifests get nothing (an empty list only if they had
  diagnostics before, e.g. the manifest keys were deleted).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types

from ..convert import lsp_diagnostic
from ..documents import handles_language

if TYPE_CHECKING:
    from ..server import HpoLanguageServer

__all__ = ["register", "schedule", "publish_now", "debounce_ms", "MIN_DEBOUNCE_MS"]

#: The shortest wait after a change (ms): lets a burst of changes sent at once coalesce.
MIN_DEBOUNCE_MS = 8


def debounce_ms(limit_ms: int, analysis_ms: float | None, change_gap_s: float | None) -> float:
    """Milliseconds to wait after a change before validating.

    ``limit_ms`` is ``hpo.validation.debounceMs``; ``analysis_ms`` how long the
    document's last validation took (``None``: not validated yet); ``change_gap_s``
    the seconds between this change and the one before (``None``: the first change).
    """
    if analysis_ms is None:
        return float(limit_ms)
    if change_gap_s is not None and change_gap_s * 1000 < analysis_ms:
        return float(limit_ms)  # changes come faster than validations: wait for a pause
    return float(min(limit_ms, max(MIN_DEBOUNCE_MS, 2 * analysis_ms)))


def _publish(server: "HpoLanguageServer", uri: str, version: int | None, diagnostics: list[types.Diagnostic]) -> None:
    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))


async def publish_now(server: "HpoLanguageServer", uri: str) -> None:
    """Validate the current version of ``uri`` and publish, unless a newer version came meanwhile."""
    state = server.documents.get(uri)
    if state is None:
        return
    if not state.is_manifest:
        if state.published_any:
            state.published_any = False
            state.published_version = state.version
            _publish(server, uri, state.version, [])
        return
    analysis = await server.documents.analysis(uri)
    current = server.documents.get(uri)
    if analysis is None or current is not state or state.closed or analysis.version != state.version:
        return  # closed, replaced, or a newer version is on its way
    if state.published_version is not None and analysis.version is not None and analysis.version < state.published_version:
        return
    if state.early_published and analysis.version == state.published_version:
        state.early_published = False  # hpo_lsp.early published this version already
    else:
        lines = server.lines(analysis.text)
        diagnostics = [lsp_diagnostic(lines, problem) for problem in analysis.problems]
        state.published_version = analysis.version
        state.published_any = bool(diagnostics) or state.published_any
        _publish(server, uri, analysis.version, diagnostics)
    for hook in server.on_analysis:
        hook(uri)


def schedule(server: "HpoLanguageServer", uri: str, delay_ms: int | None = None) -> None:
    """(Re)start the debounce timer of ``uri``; validation and publication follow it."""
    state = server.documents.get(uri)
    if state is None:
        return
    if state.debounce is not None and not state.debounce.done():
        state.debounce.cancel()
    delay = debounce_ms(server.settings.debounce_ms, state.analysis_ms, state.change_gap) if delay_ms is None else delay_ms

    async def run() -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay / 1000)
            await publish_now(server, uri)
        except asyncio.CancelledError:
            pass
        except Exception as error:  # the guard of a background task
            import traceback

            server.log(f"validation of {uri} failed: {error}\n{traceback.format_exc()}", types.MessageType.Error)

    state.debounce = asyncio.ensure_future(run())


def register(server: "HpoLanguageServer") -> None:
    @server.handle(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(server: "HpoLanguageServer", params: types.DidOpenTextDocumentParams) -> None:
        document = params.text_document
        if not handles_language(document.uri, document.language_id):
            return
        server.documents.open(document.uri, document.version, document.text)
        schedule(server, document.uri, delay_ms=0)

    @server.handle(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(server: "HpoLanguageServer", params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri not in server.documents:
            return
        document = server.workspace.get_text_document(uri)
        server.documents.update(uri, params.text_document.version, document.source)
        schedule(server, uri)

    @server.handle(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(server: "HpoLanguageServer", params: types.DidSaveTextDocumentParams) -> None:
        # The training code next to the manifest may have changed: nothing cached here
        # depends on it except metric names, which are re-read by modification time.
        return None

    @server.handle(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(server: "HpoLanguageServer", params: types.DidCloseTextDocumentParams) -> None:
        state = server.documents.close(params.text_document.uri)
        if state is not None and state.published_any:
            _publish(server, params.text_document.uri, None, [])
