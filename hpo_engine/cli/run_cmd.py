"""``hpo run``: run (or resume) the optimization of a manifest's training references."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from hpo_engine.runner.backends import BACKENDS
from hpo_engine.errors import HpoError
from hpo_engine.runner.scheduler import (
    EXIT_ERROR,
    ReferenceSummary,
    Reporter,
    RunOptions,
    RunStatus,
    StopRequest,
    handle_stop_signals,
    run_manifest,
)
from hpo_engine.runner.store import DEFAULT_RESULTS_ROOT
from hpo_engine.cli.reporting import error_console, load_manifest_or_exit, report_error

__all__ = ["run_command"]


def run_command(
    manifest: Annotated[Path, typer.Argument(help="The experiment manifest (YAML).", show_default=False)],
    reference: Annotated[Optional[str], typer.Option("--reference", help="Run only this training reference.")] = None,
    results: Annotated[Path, typer.Option("--results", help="Results root: stores go to DIR/<experiment>/<reference>/.")] = DEFAULT_RESULTS_ROOT,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Folder given to trials as $DATA_DIR.")] = None,
    definition: Annotated[Optional[Path], typer.Option("--definition", help="Local folder holding the training definition (overrides training_definition_url).")] = None,
    parallel: Annotated[Optional[int], typer.Option("--parallel", min=1, help="Trials at once (default: max_concurrent_trials, else 1).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an existing experiment: rerun interrupted trials, keep finished ones.")] = False,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Seed of the optimizer (default: random_seed, else a random one, stored).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON summary at the end, nothing else.")] = False,
    backend: Annotated[str, typer.Option("--backend", help=f"Where trials run: {', '.join(BACKENDS)}.")] = "local",
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", metavar="ADDRESS", help="With --backend ray: an existing cluster, `auto` or HOST:PORT (default: a private local cluster).")] = None,
) -> None:
    """Run the hyper-parameter optimization of MANIFEST: num_optimizer_steps trials per training reference.

    Exit codes: 0 done, 1 bad input or error, 3 more than max_failed_trials trials failed,
    130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
    """
    errors = error_console()
    if backend not in BACKENDS:
        report_error(errors, f"unknown backend {backend!r}; expected one of: {', '.join(BACKENDS)}")
        raise typer.Exit(EXIT_ERROR)
    if ray_address is not None and backend != "ray":
        report_error(errors, "--ray-address needs --backend ray")
        raise typer.Exit(EXIT_ERROR)
    if data_dir is not None and not data_dir.is_dir():
        report_error(errors, f"--data-dir {data_dir}: no such folder")
        raise typer.Exit(EXIT_ERROR)
    loaded = load_manifest_or_exit(manifest, errors)
    # hpo's own output keeps stdout; anything else printed in this process while trials run
    # (a library's notices, e.g. Ray's "a worker died" lines from its background thread)
    # goes to stderr, so `--json` stays one JSON document.
    stdout = sys.stdout
    if json_output or quiet:
        reporter: Reporter = Reporter()
    else:
        from hpo_engine.cli.progress import RichReporter

        reporter = RichReporter(Console(file=stdout))
    options = RunOptions(
        results_root=results,
        data_dir=str(data_dir) if data_dir is not None else None,
        definition=definition,
        parallel=parallel,
        resume=resume,
        seed=seed,
        backend=backend,
        backend_options={"address": ray_address} if backend == "ray" else {},
    )
    stop = StopRequest()
    summaries: list[ReferenceSummary] = []
    error: str | None = None
    exit_code = 0
    try:
        with handle_stop_signals(stop), contextlib.redirect_stdout(sys.stderr):
            run_manifest(loaded, options, reference_name=reference, reporter=reporter, stop=stop, on_summary=summaries.append)
    except KeyboardInterrupt:
        error = "interrupted"
        exit_code = 130
    except HpoError as exc:
        error = str(exc)
        exit_code = EXIT_ERROR
    if not exit_code:
        exit_code = next((s.exit_code for s in summaries if s.exit_code), 0)
    if json_output:
        from hpo_engine.cli.progress import run_summary_json

        typer.echo(json.dumps(run_summary_json(summaries, exit_code, error), indent=2), file=stdout)
    if error and exit_code == EXIT_ERROR:
        report_error(errors, error)
    elif (quiet or json_output) and summaries and summaries[-1].status is RunStatus.TOO_MANY_FAILURES:
        report_error(errors, summaries[-1].message)
    raise typer.Exit(exit_code)
