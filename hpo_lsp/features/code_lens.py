"""Code lens above each ``hyper_parameters_optimization``:
"N hyper-parameters · M combinations · K runs (method)", running ``hpo.previewSearchSpace``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..convert import lsp_range
from ..summaries import summarize_section
from .commands import PREVIEW_COMMAND

if TYPE_CHECKING:
    from ..server import HpoLanguageServer

__all__ = ["register"]


def register(server: "HpoLanguageServer") -> None:
    @server.handle(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False), empty=[])
    async def code_lens(server: "HpoLanguageServer", params: types.CodeLensParams) -> list[types.CodeLens]:
        uri = params.text_document.uri
        analysis = await server.documents.analysis(uri)
        if analysis is None:
            return []
        lines = server.lines(analysis.text)
        lenses = []
        for path, section in analysis.sections():
            span = analysis.key_span_at(path)
            if span is None:
                continue
            summary = summarize_section(section)
            command = types.Command(title=summary.lens_title(), command=PREVIEW_COMMAND, arguments=[uri, list(path)])
            lenses.append(types.CodeLens(range=lsp_range(lines, span), command=command))
        return lenses
