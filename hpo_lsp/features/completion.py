"""Completion from the schema and the cursor's path (works while the YAML does not parse).

* Keys allowed at the cursor minus those present (and minus the other kinds once
  a hyper-parameter has one), with snippets that fill required children
  (``double_range`` -> ``min_value``, ``max_value``).
* Enum values with their descriptions (method names, ``maximize``/``minimize``,
  ``time_interval``), and examples (compute sizes).
* Method parameter names that bring their value key (``objective`` ->
  ``string_value: ``), from the schema's ``if``/``then`` branches.
* In ``objective``'s ``string_value``: the metric names the training code records
  (:mod:`hpo_engine.manifest.training_code`).

Domain work happens in :mod:`hpo_engine.manifest.schema_navigation`, :mod:`hpo_lsp.cursor`
and :mod:`hpo_engine.manifest.training_code`; this module renders ``CompletionItem``s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from hpo_engine.manifest import schema_navigation as nav

from ..convert import engine_position, lsp_range_on_line
from ..cursor import CursorContext, cursor_context
from ..schema_cache import manifest_schema as schema

if TYPE_CHECKING:
    from ..convert import Lines
    from ..server import HpoLanguageServer

__all__ = ["register", "completion_items", "Snippet"]


class Snippet:
    """Builds one insert text as a snippet or as plain text (placeholders dropped)."""

    def __init__(self, snippets: bool) -> None:
        self.snippets = snippets
        self.parts: list[str] = []
        self.stop = 0

    def text(self, value: str) -> "Snippet":
        self.parts.append(_escape(value) if self.snippets else value)
        return self

    def placeholder(self, default: str = "", choices: list[str] | None = None) -> "Snippet":
        if not self.snippets:
            self.parts.append(default)
            return self
        self.stop += 1
        if choices:
            self.parts.append("${%d|%s|}" % (self.stop, ",".join(_escape_choice(c) for c in choices)))
        elif default:
            self.parts.append("${%d:%s}" % (self.stop, _escape(default)))
        else:
            self.parts.append("$%d" % self.stop)
        return self

    def render(self) -> str:
        return "".join(self.parts)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


def _escape_choice(text: str) -> str:
    return re.sub(r"([\\$}|,])", r"\\\1", text)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _types(node: Mapping[str, Any]) -> set[str]:
    kind = node.get("type")
    if isinstance(kind, list):
        return set(kind)
    if isinstance(kind, str):
        return {kind}
    if "properties" in node:
        return {"object"}
    return set()


def _child_schema(root: dict, node: Mapping[str, Any], name: str, siblings: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return next((k.schema for k in nav.allowed_keys(root, node, siblings) if k.name == name), {})


def _write_value(out: Snippet, root: dict, node: Mapping[str, Any], indent: int, depth: int) -> None:
    """After ``key:``: the value's skeleton (required children, a list item, a choice...)."""
    kinds = _types(node)
    required = nav.required_children(root, node) if "object" in kinds else []
    if "object" in kinds and required and depth < 3:
        for name in required:
            child = _child_schema(root, node, name)
            out.text("\n" + " " * (indent + 2) + name + ":")
            _write_value(out, root, child or {}, indent + 2, depth + 1)
        return
    if "object" in kinds:
        out.text("\n" + " " * (indent + 2)).placeholder()
        return
    if "array" in kinds:
        items = nav.resolve(root, node.get("items", {}))
        item_required = nav.required_children(root, items) if "object" in _types(items) else []
        if item_required and depth < 3:
            out.text("\n" + " " * (indent + 2) + "- ")
            for position, name in enumerate(item_required):
                child = _child_schema(root, items, name)
                if position:
                    out.text("\n" + " " * (indent + 4))
                out.text(name + ":")
                _write_value(out, root, child, indent + 4, depth + 1)
            return
        out.text(" [").placeholder().text("]")
        return
    values = [_scalar_text(v.value) for v in nav.enum_values(root, node) if not v.is_example]
    out.text(" ")
    if values:
        out.placeholder(values[0], values)
    else:
        out.placeholder()


class _Renderer:
    """Turns names and descriptions into ``CompletionItem``s for one request and client."""

    def __init__(self, server: "HpoLanguageServer", lines: "Lines", ctx: CursorContext) -> None:
        self.server = server
        self.lines = lines
        self.ctx = ctx
        formats = server.client_supports("text_document.completion.completion_item.documentation_format", []) or []
        self.markdown = types.MarkupKind.Markdown in formats
        self.snippets = bool(server.client_supports("text_document.completion.completion_item.snippet_support"))
        self.range = lsp_range_on_line(lines, ctx.line, ctx.word_start, ctx.word_end)
        # Right after "key:" (completion triggered by ':'): the value needs its blank.
        line = lines.line(ctx.line)
        self.lead = " " if ctx.kind == "value" and ctx.word_start > 0 and line[ctx.word_start - 1 : ctx.word_start] == ":" else ""

    def documentation(self, text: str) -> types.MarkupContent | str | None:
        if not text:
            return None
        if self.markdown:
            return types.MarkupContent(kind=types.MarkupKind.Markdown, value=text)
        return text

    def item(self, label: str, kind: types.CompletionItemKind, snippet: Snippet, *, detail: str = "", doc: str = "", order: int = 0, preselect: bool = False) -> types.CompletionItem:
        return types.CompletionItem(
            label=label,
            kind=kind,
            detail=detail or None,
            documentation=self.documentation(doc),
            sort_text=f"{order:04d}{label}",
            filter_text=label,
            text_edit=types.TextEdit(range=self.range, new_text=self.lead + snippet.render()),
            insert_text_format=types.InsertTextFormat.Snippet if self.snippets else types.InsertTextFormat.PlainText,
            insert_text_mode=types.InsertTextMode.AsIs,
            preselect=preselect or None,
        )


def _container_schema(ctx: CursorContext) -> tuple[dict, Mapping[str, Any] | None]:
    root = schema()
    siblings = {k: v for k, v in ctx.siblings.items()}
    return root, nav.subschema_at(root, ctx.container, {ctx.container: siblings})


def _key_items(renderer: _Renderer, ctx: CursorContext) -> list[types.CompletionItem]:
    root, node = _container_schema(ctx)
    if node is None:
        return []
    present = {k for k in ctx.siblings if k != ctx.word}
    excluded = set(present)
    for group in nav.exclusive_keys(root, node):
        if present & set(group):
            excluded |= set(group)
    items: list[types.CompletionItem] = []
    siblings = dict(ctx.siblings)
    for order, key in enumerate(nav.allowed_keys(root, node, siblings if "name" in siblings else None)):
        if key.name in excluded:
            continue
        out = Snippet(renderer.snippets).text(key.name + ":")
        _write_value(out, root, key.schema, ctx.indent, 0)
        detail = ("required" if key.required else "optional") + (f" · {', '.join(sorted(_types(key.schema)))}" if _types(key.schema) else "")
        items.append(renderer.item(key.name, types.CompletionItemKind.Property, out, detail=detail, doc=key.description, order=order + (0 if key.required else 100)))
    # A method parameter item with no name yet: offer "name: X" with its value key.
    if "name" not in present:
        items.extend(_parameter_items(renderer, root, node, ctx, with_name_key=True))
    return items


def _parameter_items(renderer: _Renderer, root: dict, node: Mapping[str, Any], ctx: CursorContext, *, with_name_key: bool) -> list[types.CompletionItem]:
    """``objective`` -> ``name: objective`` + newline + ``string_value: `` (from the schema's if/then)."""
    needs = nav.conditional_requirements(root, node, "name")
    if not needs:
        return []
    name_schema = next((k.schema for k in nav.allowed_keys(root, node) if k.name == "name"), {})
    descriptions = {v.value: v.description for v in nav.enum_values(root, name_schema)}
    items = []
    for order, (name, keys) in enumerate(needs.items()):
        out = Snippet(renderer.snippets).text(("name: " if with_name_key else "") + str(name))
        for key in keys:
            if key in ctx.siblings:
                continue
            value_node = _child_schema(root, node, key, {"name": name})
            out.text("\n" + " " * ctx.indent + key + ":")
            _write_value(out, root, value_node, ctx.indent, 1)
        label = str(name)
        items.append(
            renderer.item(label, types.CompletionItemKind.Value if not with_name_key else types.CompletionItemKind.Snippet, out, detail=f"method parameter · {', '.join(keys)}", doc=descriptions.get(name, ""), order=200 + order)
        )
    return items


def _reference_url(server: "HpoLanguageServer", uri: str, ctx: CursorContext, lines: "Lines") -> str | None:
    """The ``training_definition_url`` of the reference around the cursor."""
    if len(ctx.container) >= 2 and ctx.container[0] == "training_references" and isinstance(ctx.container[1], int):
        analysis = server.documents.latest(uri)
        if analysis is not None:
            url = analysis.data_at(("training_references", ctx.container[1], "training_definition_url"))
            if isinstance(url, str):
                return url
        # Not parsed yet: the reference's lines are those between its item marker and the next one.
        text_lines = lines.lines
        top = min(ctx.line, len(text_lines) - 1)
        dash = None
        for number in range(top, -1, -1):
            match = re.match(r"^( *)- ", text_lines[number])
            if match and len(match.group(1)) <= 2:
                dash, top = len(match.group(1)), number
                break
        if dash is None:
            return None
        for number in range(top, len(text_lines)):
            line = text_lines[number]
            if number > top and re.match(r"^ {0,%d}\S" % dash, line):
                break
            match = re.match(r"^\s*(?:-\s+)?training_definition_url\s*:\s*(\S+)", line)
            if match:
                return match.group(1).strip("\"'")
    return None


def _value_items(server: "HpoLanguageServer", uri: str, renderer: _Renderer, ctx: CursorContext) -> list[types.CompletionItem]:
    root, container = _container_schema(ctx)
    if container is None:
        return []
    node = nav.subschema_at(root, ctx.path, {ctx.container: dict(ctx.siblings)})
    items: list[types.CompletionItem] = []
    if ctx.key == "name" and nav.conditional_requirements(root, container, "name"):
        return _parameter_items(renderer, root, container, ctx, with_name_key=False)
    for order, value in enumerate(nav.enum_values(root, node)):
        text = _scalar_text(value.value)
        out = Snippet(renderer.snippets).text(text)
        items.append(renderer.item(text, types.CompletionItemKind.EnumMember if not value.is_example else types.CompletionItemKind.Value, out, detail="example" if value.is_example else "", doc=value.description, order=order))
    if ctx.key == "string_value" and ctx.siblings.get("name") == "objective":
        url = _reference_url(server, uri, ctx, renderer.lines)
        manifest_path = Path(to_fs_path(uri)) if uri.startswith("file:") else None
        static = list(server.training_code.metric_names(manifest_path, url))
        for order, metric in enumerate(static):
            out = Snippet(renderer.snippets).text(metric)
            items.append(renderer.item(metric, types.CompletionItemKind.Field, out, detail="metric recorded by the training code", order=order))
        for order, metric in enumerate(m for m in server.run_results.metric_names_for(uri) if m not in static):
            out = Snippet(renderer.snippets).text(metric)
            items.append(renderer.item(metric, types.CompletionItemKind.Field, out, detail="metric seen in the last run's results", order=len(static) + order))
    return items


def completion_items(server: "HpoLanguageServer", uri: str, text: str, position: types.Position) -> list[types.CompletionItem]:
    """The completion items at an LSP ``position`` of ``text``."""
    lines = server.lines(text)
    where = engine_position(lines, position)
    ctx = cursor_context(lines.lines, where.line, where.column)
    if ctx.kind == "none" or ctx.in_flow:
        return []
    renderer = _Renderer(server, lines, ctx)
    if ctx.kind == "key":
        return _key_items(renderer, ctx)
    return _value_items(server, uri, renderer, ctx)


def _blank(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def register(server: "HpoLanguageServer") -> None:
    @server.handle(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[":", " ", "-"], resolve_provider=False),
        empty=None,
    )
    def completion(server: "HpoLanguageServer", params: types.CompletionParams) -> types.CompletionList | None:
        state = server.documents.get(params.text_document.uri)
        if state is None or not (state.is_manifest or _blank(state.text)):
            return None
        items = completion_items(server, params.text_document.uri, state.text, params.position)
        return types.CompletionList(is_incomplete=False, items=items)
