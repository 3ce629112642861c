"""Open documents and their analyses, one per uri and version.

Each open document has a :class:`DocumentState`: its latest text and version,
whether it is a manifest at all, and an :class:`~hpo_lsp.analysis.Analyzer` that
remembers the previous version's pieces. Analyses run on the server's
validation executor (off the event loop); a request for the analysis of a
version already being analyzed waits for that same run instead of starting a
second one. Results are kept for the latest version only.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .analysis import Analysis, Analyzer
from .cursor import looks_like_manifest

if TYPE_CHECKING:
    from .server import HpoLanguageServer

__all__ = ["DocumentState", "DocumentCache", "handles_language", "file_path"]

#: Language ids of documents the server looks at (then only manifests get anything).
LANGUAGE_IDS = frozenset({"yaml", "hpo-yaml", "hpo", "hpo-manifest", "yaml.hpo"})


def handles_language(uri: str, language_id: str | None) -> bool:
    """YAML documents only: by language id, or by extension when the id is unknown."""
    if language_id and language_id.lower() in LANGUAGE_IDS:
        return True
    return uri.lower().endswith((".yaml", ".yml"))


@dataclass(slots=True)
class DocumentState:
    """One open document. ``published_version`` is the version of the last diagnostics sent."""

    uri: str
    version: int | None
    text: str
    is_manifest: bool
    analyzer: Analyzer = field(default_factory=Analyzer)
    analysis: Analysis | None = None
    running: tuple[int | None, asyncio.Future] | None = None
    published_version: int | None = None
    published_any: bool = False
    debounce: asyncio.Task | None = None
    closed: bool = False
    #: Milliseconds the last analysis of this document took (``None`` before the first).
    analysis_ms: float | None = None
    #: ``time.monotonic()`` of the last change, and the gap before it (seconds).
    changed_at: float | None = None
    change_gap: float | None = None
    #: The diagnostics of ``published_version`` went out before the server ran (hpo_lsp.early).
    early_published: bool = False


class DocumentCache:
    """The open documents of one server."""

    def __init__(self, server: "HpoLanguageServer") -> None:
        self._server = server
        self._states: dict[str, DocumentState] = {}
        #: uri -> (version, any diagnostics): published by :mod:`hpo_lsp.early` before this server ran
        self._early: dict[str, tuple[int | None, bool]] = {}

    def published_early(self, uri: str, version: int | None, nonempty: bool) -> None:
        """Diagnostics of ``uri`` at ``version`` were published before this server started
        (:mod:`hpo_lsp.early`): the replayed ``didOpen`` of that version does not publish them again."""
        self._early[uri] = (version, nonempty)

    def __contains__(self, uri: str) -> bool:
        return uri in self._states

    def get(self, uri: str) -> DocumentState | None:
        return self._states.get(uri)

    def open(self, uri: str, version: int | None, text: str) -> DocumentState:
        analyzer = Analyzer(source_path=file_path(uri), training_code=self._server.training_code)
        state = DocumentState(uri, version, text, looks_like_manifest(text), analyzer=analyzer)
        early = self._early.pop(uri, None)
        if early is not None and early[0] == version and version is not None:
            state.published_version, state.published_any = early
            state.early_published = True
        self._states[uri] = state
        return state

    def update(self, uri: str, version: int | None, text: str) -> DocumentState:
        state = self._states.get(uri)
        if state is None:
            return self.open(uri, version, text)
        state.version = version
        state.text = text
        state.is_manifest = looks_like_manifest(text)
        now = time.monotonic()
        state.change_gap = None if state.changed_at is None else now - state.changed_at
        state.changed_at = now
        return state

    def close(self, uri: str) -> DocumentState | None:
        state = self._states.pop(uri, None)
        if state is not None:
            state.closed = True
            if state.debounce is not None:
                state.debounce.cancel()
        return state

    def uris(self) -> list[str]:
        return list(self._states)

    def cached(self, uri: str) -> Analysis | None:
        """The analysis of the document's current version if it is done, else ``None``."""
        state = self._states.get(uri)
        if state is None or state.analysis is None or state.analysis.version != state.version:
            return None
        return state.analysis

    def latest(self, uri: str) -> Analysis | None:
        """The most recent finished analysis, possibly of an older version."""
        state = self._states.get(uri)
        return None if state is None else state.analysis

    async def analysis(self, uri: str) -> Analysis | None:
        """The analysis of the document's current version (``None`` for non-manifests or closed documents).

        Runs on the validation executor; concurrent callers for one version share one run.
        """
        state = self._states.get(uri)
        if state is None or not state.is_manifest:
            return None
        if state.analysis is not None and state.analysis.version == state.version:
            return state.analysis
        version, text = state.version, state.text
        if state.running is not None and state.running[0] == version:
            future = state.running[1]
        else:
            loop = asyncio.get_running_loop()
            future = asyncio.ensure_future(loop.run_in_executor(self._server.validation_executor, _timed, state, text, version))
            state.running = (version, future)
        analysis = await asyncio.shield(future)
        if state.running is not None and state.running[1] is future:
            state.running = None
        if state.analysis is None or _newer(analysis.version, state.analysis.version):
            state.analysis = analysis
        return analysis


def file_path(uri: str) -> Path | None:
    """The file a ``file:`` uri names, ``None`` for other schemes (an unsaved document)."""
    from pygls.uris import to_fs_path  # stdlib only: cheap, also on hpo_lsp.early's path

    path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path) if path else None


def _timed(state: DocumentState, text: str, version: int | None) -> Analysis:
    started = time.perf_counter()
    try:
        return state.analyzer.analyze(text, version)
    finally:
        state.analysis_ms = (time.perf_counter() - started) * 1000


def _newer(candidate: int | None, current: int | None) -> bool:
    if candidate is None or current is None:
        return True
    return candidate >= current
