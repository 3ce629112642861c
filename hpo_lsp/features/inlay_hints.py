"""Inlay hints: each hyper-parameter's value count at the end of its ``- name:`` line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..convert import lsp_position
from ..summaries import dimension_of

if TYPE_CHECKING:
    from ..server import HpoLanguageServer

__all__ = ["register"]


def register(server: "HpoLanguageServer") -> None:
    @server.handle(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False), empty=[])
    async def inlay_hints(server: "HpoLanguageServer", params: types.InlayHintParams) -> list[types.InlayHint]:
        analysis = await server.documents.analysis(params.text_document.uri)
        if analysis is None:
            return []
        from hpo_engine.manifest.spans import Position

        lines = server.lines(analysis.text)
        first, last = params.range.start.line, params.range.end.line
        hints = []
        for path, section in analysis.sections():
            specs = section.get("hyper_parameters")
            if not isinstance(specs, list):
                continue
            for index, spec in enumerate(specs):
                span = analysis.span_at(path + ("hyper_parameters", index, "name"))
                if span is None or not first <= span.end.line <= last:
                    continue
                dimension, _error = dimension_of(spec)
                if dimension is None:
                    continue
                count = dimension.count
                label = "continuous" if count is None else f"{count:,} value" + ("" if count == 1 else "s")
                end = Position(span.end.line, len(lines.line(span.end.line).rstrip()))
                hints.append(
                    types.InlayHint(
                        position=lsp_position(lines, end),
                        label=label,
                        padding_left=True,
                        tooltip=dimension.summary(),
                    )
                )
        return hints
