"""``workspace/executeCommand`` ``hpo.previewSearchSpace``: the expanded search space as JSON.

Arguments: ``[uri]`` or ``[uri, path]`` (``path`` as the code lens sends it, e.g.
``["training_references", 0, "hyper_parameters_optimization"]``), or one object
``{"uri": ..., "path": [...], "maxPoints": N}``. Returns ``{"uri", "version",
"sections": [...]}``; each section has its path, reference name, method, budget, and
the core's ``SearchSpace.to_json(max_points)`` table (per parameter: kind, values or
bounds, count; the first N points) — or an ``error``. When there is no section to show
and the manifest has errors (a YAML syntax error...), the answer's ``error`` names the
first one (1-based line, as the CLI prints it).

``maxPoints`` is capped at :data:`~hpo_lsp.settings.PREVIEW_POINTS_LIMIT` (each section
says the ``max_points`` it used), and the points are computed in a worker thread, so a
large request neither stalls the server nor delays other requests; ``$/cancelRequest``
answers it at once (RequestCancelled).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..convert import plain_json
from ..settings import PREVIEW_POINTS_LIMIT
from ..summaries import summarize_section

if TYPE_CHECKING:
    from ..server import HpoLanguageServer

__all__ = ["register", "PREVIEW_COMMAND"]

PREVIEW_COMMAND = "hpo.previewSearchSpace"


def _arguments(args: tuple) -> tuple[str | None, list | None, int | None]:
    args = tuple(plain_json(list(args)))  # type: ignore[arg-type]
    if len(args) == 1 and isinstance(args[0], Mapping):
        data = args[0]
        return data.get("uri"), data.get("path"), data.get("maxPoints")
    uri = args[0] if args and isinstance(args[0], str) else None
    path = args[1] if len(args) > 1 and isinstance(args[1], list) else None
    points = args[2] if len(args) > 2 and isinstance(args[2], int) else None
    return uri, path, points


def register(server: "HpoLanguageServer") -> None:
    @server.handle_command(PREVIEW_COMMAND, empty=None)
    async def preview(server: "HpoLanguageServer", *args: Any) -> dict[str, Any] | None:
        uri, path, points = _arguments(args)
        if uri is None:
            return None
        analysis = await server.documents.analysis(uri)
        if analysis is None:
            return None
        if not (isinstance(points, int) and not isinstance(points, bool) and points > 0):
            await server.wait_for_settings()
        max_points = points if isinstance(points, int) and not isinstance(points, bool) and points > 0 else server.settings.preview_max_points
        max_points = min(max_points, PREVIEW_POINTS_LIMIT)
        sections = []
        for section_path, section in analysis.sections():
            if path is not None and list(section_path) != list(path):
                continue
            summary = summarize_section(section)
            entry: dict[str, Any] = {
                "path": list(section_path),
                "reference": analysis.data_at(section_path[:2] + ("name",)) if section_path[0] == "training_references" else None,
                "method": summary.method.name,
                "num_optimizer_steps": summary.method.num_optimizer_steps,
                "title": summary.lens_title(),
            }
            if summary.space is None:
                entry["error"] = summary.error
            else:
                entry.update(await asyncio.to_thread(summary.space.to_json, max_points=max_points))
                entry["max_points"] = max_points
            sections.append(entry)
        result: dict[str, Any] = {"uri": uri, "version": analysis.version, "sections": sections}
        errors = [p for p in analysis.problems if str(getattr(p.severity, "value", p.severity)) == "error"]
        if not sections and errors:
            first = errors[0]
            result["error"] = f"line {first.span.start.line + 1}: {first.message}"
        return result
