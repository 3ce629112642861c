"""The typer application ``hpo``; each command lives in its own ``*_cmd`` module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="hpo",
    help="Validate, preview and run hyper-parameter optimization manifests (IBM WML HPO format).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
