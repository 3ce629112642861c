"""``hpo preview FILE``: the expanded search space of each training reference.

Per reference: a table of hyper-parameters (kind, values or bounds, count), the
exact number of combinations, the run budget, then the first N points (seeded
samples when a dimension is continuous).
"""

from __future__ import annotations

import csv
import io
import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hpo_engine.errors import ManifestError
from hpo_engine.manifest.model import TrainingReference
from hpo_engine.cli.gc_pause import gc_paused
from hpo_engine.manifest.validation import read_manifest_text, validate_text
from hpo_engine.cli.reporting import error_console, print_problems


class PreviewFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def reference_preview(reference: TrainingReference, limit: int) -> dict[str, Any]:
    """JSON-ready preview of one reference (its search space, budget and first points)."""
    assert reference.optimization is not None
    method = reference.optimization.method
    data = reference.optimization.space.to_json(max_points=limit)
    data.update(
        reference=reference.name,
        method=method.name,
        objective=method.objective,
        direction="maximize" if method.maximize else "minimize",
        num_optimizer_steps=method.num_optimizer_steps,
    )
    return data


def _bounds_text(dimension: dict[str, Any]) -> str:
    return dimension["summary"]


def _print_table(console: Console, preview: dict[str, Any]) -> None:
    table = Table(title=f"{preview['reference']} — {preview['method']}, {preview['direction']} {preview['objective']}", title_justify="left")
    table.add_column("hyper-parameter")
    table.add_column("kind")
    table.add_column("values or bounds", overflow="fold")
    table.add_column("count", justify="right")
    for dim in preview["dimensions"]:
        count = "∞" if dim["count"] is None else f"{dim['count']:,}"
        table.add_row(dim["name"], dim["kind"], _bounds_text(dim), count)
    console.print(table)
    console.print(f"combinations: {preview['size_text']}   runs: {preview['num_optimizer_steps']} ({preview['method']})")
    points = preview["points"]
    if points:
        names = [d["name"] for d in preview["dimensions"]]
        heading = f"first {len(points)} points" if not preview["points_are_samples"] else f"{len(points)} sample points (seeded)"
        pts = Table(title=heading, title_justify="left")
        pts.add_column("#", justify="right")
        for name in names:
            pts.add_column(name, justify="right")
        for index, point in enumerate(points):
            pts.add_row(str(index), *(_cell(point[n]) for n in names))
        console.print(pts)


def _cell(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def preview_command(
    file: Annotated[Path, typer.Argument(help="Manifest file.", show_default=False)],
    reference: Annotated[str | None, typer.Option("--reference", help="Only this training reference.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="How many points to list.")] = 10,
    output_format: Annotated[PreviewFormat, typer.Option("--format", help="table, json or csv (csv: the points).")] = PreviewFormat.table,
) -> None:
    """Show each reference's hyper-parameters, combination count and first points."""
    err = error_console()
    try:
        text = read_manifest_text(file)
    except ManifestError as error:
        err.print(f"hpo preview: {error}", markup=False, highlight=False)
        raise typer.Exit(2)
    with gc_paused():  # this process only: the CLI's own, short-lived
        result = validate_text(text, source_path=file.resolve())
    if result.has_errors or result.manifest is None:
        print_problems(str(file), result.problems, err)
        raise typer.Exit(1)
    print_problems(str(file), result.problems, err)  # warnings and infos: the preview still runs
    references = [r for r in result.manifest.references if r.optimization is not None]
    if reference is not None:
        references = [r for r in references if r.name == reference]
        if not references:
            names = ", ".join(r.name for r in result.manifest.references) or "none"
            err.print(f"hpo preview: {file}: no training reference named {reference!r} with hyper_parameters_optimization (references: {names})", markup=False, highlight=False)
            raise typer.Exit(2)
    previews = [reference_preview(r, limit) for r in references]
    if output_format is PreviewFormat.json:
        typer.echo(json.dumps(previews, indent=2))
        return
    if output_format is PreviewFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for preview in previews:
            names = [d["name"] for d in preview["dimensions"]]
            writer.writerow(["reference", "index", *names])
            for index, point in enumerate(preview["points"]):
                writer.writerow([preview["reference"], index, *(point[n] for n in names)])
        typer.echo(buffer.getvalue(), nl=False)
        return
    console = Console(highlight=False)
    if not previews:
        console.print(f"{file}: no training reference has a hyper_parameters_optimization section.")
    for preview in previews:
        _print_table(console, preview)
