"""Quick fixes: each problem's suggestions (ranked by the core), the first one preferred.

The server only converts :class:`~hpo_engine.manifest.problems.Suggestion` edits; it never
decides a fix itself. Fixes are computed from the analysis of the document's
current version, and pinned to that version when the client supports
``documentChanges``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..convert import DIAGNOSTIC_SOURCE, lsp_code_action, lsp_diagnostic

if TYPE_CHECKING:
    from ..server import HpoLanguageServer

__all__ = ["register"]


def _overlaps(a: types.Range, b: types.Range) -> bool:
    start_a, end_a = (a.start.line, a.start.character), (a.end.line, a.end.character)
    start_b, end_b = (b.start.line, b.start.character), (b.end.line, b.end.character)
    return start_a <= end_b and start_b <= end_a


def _same(a: types.Diagnostic, b: types.Diagnostic) -> bool:
    return a.code == b.code and a.range == b.range and (b.source in (None, DIAGNOSTIC_SOURCE))


def register(server: "HpoLanguageServer") -> None:
    @server.handle(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix], resolve_provider=False),
        empty=[],
    )
    async def code_actions(server: "HpoLanguageServer", params: types.CodeActionParams) -> list[types.CodeAction]:
        only = params.context.only
        if only and not any(str(kind.value if hasattr(kind, "value") else kind).startswith("quickfix") for kind in only):
            return []
        analysis = await server.documents.analysis(params.text_document.uri)
        if analysis is None:
            return []
        lines = server.lines(analysis.text)
        versioned = bool(server.client_supports("workspace.workspace_edit.document_changes"))
        sent = list(params.context.diagnostics or [])
        actions: list[types.CodeAction] = []
        for problem in analysis.problems:
            if not problem.suggestions:
                continue
            diagnostic = lsp_diagnostic(lines, problem)
            if sent:
                matching = next((d for d in sent if _same(diagnostic, d)), None)
                if matching is None:
                    continue
                diagnostic = matching
            elif not _overlaps(diagnostic.range, params.range):
                continue
            for rank, suggestion in enumerate(problem.suggestions):
                actions.append(
                    lsp_code_action(lines, params.text_document.uri, analysis.version, suggestion, diagnostic, preferred=rank == 0, versioned=versioned)
                )
        return actions
