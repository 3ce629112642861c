"""Document symbols: an outline of training references, their optimization section and hyper-parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..convert import lsp_range
from ..summaries import kind_of

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..convert import Lines
    from ..server import HpoLanguageServer

__all__ = ["register", "document_symbols"]


def _symbol(lines: "Lines", analysis: "Analysis", path: tuple, name: str, kind: types.SymbolKind, detail: str, children: list) -> types.DocumentSymbol | None:
    span = analysis.span_at(path)
    key = analysis.key_span_at(path) if isinstance(path[-1], str) else None
    if span is None:
        return None
    selection = key or span
    whole = lsp_range(lines, span)
    if key is not None:
        whole = types.Range(start=lsp_range(lines, key).start, end=whole.end)
    selection_range = lsp_range(lines, selection)
    if (selection_range.start.line, selection_range.start.character) < (whole.start.line, whole.start.character):
        whole = types.Range(start=selection_range.start, end=whole.end)
    return types.DocumentSymbol(name=name or "?", kind=kind, range=whole, selection_range=selection_range, detail=detail or None, children=children or None)


def _section_symbol(lines: "Lines", analysis: "Analysis", path: tuple, section: Any) -> types.DocumentSymbol | None:
    children = []
    specs = section.get("hyper_parameters") if isinstance(section, dict) else None
    for index, spec in enumerate(specs if isinstance(specs, list) else []):
        name = spec.get("name") if isinstance(spec, dict) else None
        child = _symbol(lines, analysis, path + ("hyper_parameters", index), str(name or f"#{index + 1}"), types.SymbolKind.Variable, kind_of(spec) or "", [])
        if child is not None:
            children.append(child)
    return _symbol(lines, analysis, path, "hyper_parameters_optimization", types.SymbolKind.Namespace, f"{len(children)} hyper-parameters", children)


def document_symbols(lines: "Lines", analysis: "Analysis") -> list[types.DocumentSymbol]:
    symbols: list[types.DocumentSymbol] = []
    for path, section in analysis.sections():
        if path[0] == "hyper_parameters_optimization":
            symbol = _section_symbol(lines, analysis, path, section)
            if symbol is not None:
                symbols.append(symbol)
    for index in range(analysis.reference_count()):
        reference = analysis.data_at(("training_references", index))
        if not isinstance(reference, dict):
            continue
        children = []
        section = reference.get("hyper_parameters_optimization")
        if isinstance(section, dict):
            child = _section_symbol(lines, analysis, ("training_references", index, "hyper_parameters_optimization"), section)
            if child is not None:
                children.append(child)
        symbol = _symbol(lines, analysis, ("training_references", index), str(reference.get("name") or f"reference {index + 1}"), types.SymbolKind.Module, "training reference", children)
        if symbol is not None:
            symbols.append(symbol)
    return symbols


def register(server: "HpoLanguageServer") -> None:
    @server.handle(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL, empty=[])
    async def symbols(server: "HpoLanguageServer", params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        analysis = await server.documents.analysis(params.text_document.uri)
        if analysis is None:
            return []
        return document_symbols(server.lines(analysis.text), analysis)
