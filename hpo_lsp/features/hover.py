"""Hover: the schema's description of the key under the cursor (and of an enum value);
on a hyper-parameter, its expanded values and their count; on
``hyper_parameters_optimization``, the number of combinations and the run budget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from hpo_engine.manifest import schema_navigation as nav

from ..convert import engine_position, lsp_range_on_line
from ..cursor import cursor_context, line_elements
from ..summaries import dimension_of, summarize_section
from ..schema_cache import manifest_schema as schema

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..server import HpoLanguageServer

__all__ = ["register", "hover_text"]


def _hyper_parameter_path(path: tuple) -> tuple | None:
    """The path of the ``hyper_parameters`` item containing ``path``, if any."""
    for index in range(len(path) - 1):
        if path[index] == "hyper_parameters" and isinstance(path[index + 1], int):
            return path[: index + 2]
    return None


def _hyper_parameter_text(analysis: "Analysis", item_path: tuple, markdown: bool) -> str:
    spec = analysis.data_at(item_path)
    if not isinstance(spec, dict):
        return ""
    dimension, error = dimension_of(spec)
    name = spec.get("name", "?")
    code = (lambda s: f"`{s}`") if markdown else (lambda s: s)
    bold = (lambda s: f"**{s}**") if markdown else (lambda s: s)
    if dimension is None:
        return f"{bold(name)}: {error}"
    count = dimension.count
    if count is None:
        return f"{bold(name)} · {dimension.kind}: {dimension.summary()}"
    noun = "value" if count == 1 else "values"
    return f"{bold(name)} · {dimension.kind} · {count:,} {noun}: {code(dimension.summary())}"


def _section_text(analysis: "Analysis", section_path: tuple, markdown: bool) -> str:
    section = analysis.data_at(section_path)
    if not isinstance(section, dict):
        return ""
    summary = summarize_section(section)
    bold = (lambda s: f"**{s}**") if markdown else (lambda s: s)
    parts = [f"{bold(summary.combinations_text)} of {summary.parameters} hyper-parameter" + ("" if summary.parameters == 1 else "s")]
    if summary.space is not None and summary.space.size is None:
        parts[0] = f"{bold('continuous space')} ({summary.space.describe_size()}) of {summary.parameters} hyper-parameters"
    parts.append(f"budget: {summary.runs_text}")
    if summary.error:
        parts.append(f"search space not valid: {summary.error}")
    return "\n\n".join(parts)


def _best_value_text(server: "HpoLanguageServer", uri: str, analysis: "Analysis", item_path: tuple, markdown: bool) -> str:
    """The best value of this hyper-parameter in the manifest's preferred run (the newest
    complete one, else the newest: :meth:`hpo_lsp.run_results.RunResults.best_values_for`)."""
    reference = analysis.data_at(item_path[:2] + ("name",)) if item_path[0] == "training_references" else None
    name = analysis.data_at(item_path + ("name",))
    best = server.run_results.best_values_for(uri).get(str(reference))
    if best is None or name not in best.values:
        return ""
    value = f"`{best.values[name]!r}`" if markdown else repr(best.values[name])
    return f"best value found: {value} (trial {best.trial}, {best.objective_name} = {best.objective:.6g}; {best.run})"


def hover_text(server: "HpoLanguageServer", analysis: "Analysis", text: str, position: types.Position, markdown: bool, uri: str | None = None) -> tuple[str, types.Range] | None:
    """The hover text and the range it applies to, or ``None``."""
    lines = server.lines(text)
    where = engine_position(lines, position)
    line = lines.line(where.line)
    element = next((e for e in line_elements(line) if e.kind == "key" and e.column <= where.column <= max(e.key_end, len(line) if e.value else e.key_end)), None)
    if element is None:
        return None
    ctx = cursor_context(lines.lines, where.line, element.column)
    container = ctx.container
    path = container + (element.key,)
    on_key = where.column <= element.key_end
    root = schema()
    node = nav.subschema_at(root, path, {container: dict(ctx.siblings)})
    sections: list[str] = []
    title = f"**{element.key}**" if markdown else element.key
    description = nav.description_of(root, node) if node is not None else ""
    if node is None:
        sections.append(f"{title}: not a property here.")
    elif description:
        sections.append(f"{title}: {description}")
    if not on_key and node is not None:
        value = element.value
        for allowed in nav.enum_values(root, node):
            if str(allowed.value) == value and allowed.description:
                sections.append(f"{'`' + value + '`' if markdown else value}: {allowed.description}")
    item_path = _hyper_parameter_path(path)
    if item_path is not None and (len(path) == len(item_path) + 1):
        extra = _hyper_parameter_text(analysis, item_path, markdown)
        if extra:
            sections.append(extra)
        best = _best_value_text(server, uri, analysis, item_path, markdown) if uri else ""
        if best:
            sections.append(best)
    if element.key == "hyper_parameters_optimization" and on_key:
        extra = _section_text(analysis, path, markdown)
        if extra:
            sections.append(extra)
    if not sections:
        return None
    start = element.column if on_key else element.value_column
    end = element.key_end if on_key else len(line.rstrip())
    return "\n\n".join(sections), lsp_range_on_line(lines, where.line, start, end)


def register(server: "HpoLanguageServer") -> None:
    @server.handle(types.TEXT_DOCUMENT_HOVER, empty=None)
    async def hover(server: "HpoLanguageServer", params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        state = server.documents.get(uri)
        if state is None or not state.is_manifest:
            return None
        analysis = await server.documents.analysis(uri)
        if analysis is None:
            return None
        formats = server.client_supports("text_document.hover.content_format", []) or []
        markdown = types.MarkupKind.Markdown in formats
        found = hover_text(server, analysis, analysis.text, params.position, markdown, uri=uri)
        if found is None:
            return None
        text, where = found
        kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
        return types.Hover(contents=types.MarkupContent(kind=kind, value=text), range=where)
