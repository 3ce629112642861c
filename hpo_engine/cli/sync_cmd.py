"""``hpo sync``: upload to S3 what runs of a manifest left pending (the server was down)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from hpo_engine.errors import HpoError
from hpo_engine.runner.store import DEFAULT_RESULTS_ROOT
from hpo_engine.cli.reporting import error_console, load_manifest_or_exit, report_error

__all__ = ["sync_command"]


def sync_command(
    manifest: Annotated[Path, typer.Argument(help="The experiment manifest (YAML) whose training_results_reference is of type s3.", show_default=False)],
    reference: Annotated[Optional[str], typer.Option("--reference", help="Sync only this training reference.")] = None,
    results: Annotated[Path, typer.Option("--results", help="Results root the experiment ran in.")] = DEFAULT_RESULTS_ROOT,
) -> None:
    """Upload every result file not yet in the bucket (exactly those: the upload journal knows the rest).

    Exit codes: 0 everything uploaded, 1 bad input, 4 some uploads still pending.
    """
    from hpo_engine.runner.scheduler import references_to_run
    from hpo_engine.runner.storage.sync import sync_reference

    errors = error_console()
    console = Console()
    loaded = load_manifest_or_exit(manifest, errors, "sync")
    pending_total = 0
    try:
        for ref in references_to_run(loaded, reference):
            uploaded, pending, url = sync_reference(loaded, ref, results)
            if pending:
                pending_total += len(pending)
                labels = sorted({u.label for u in pending}, key=lambda s: (len(s), s))
                report_error(errors, f"{len(pending)} upload(s) to {url} still pending ({', '.join(labels)}); run `hpo sync` again when the server is back", "sync")
            else:
                console.print(f"{ref.name}: {uploaded} file(s) uploaded to {url}; nothing pending", highlight=False, markup=False, soft_wrap=True)
    except HpoError as exc:
        report_error(errors, str(exc), "sync")
        raise typer.Exit(1) from None
    raise typer.Exit(4 if pending_total else 0)
