"""Command-line interface ``hpo``: :data:`app` (see :mod:`hpo_engine.cli.app`), each command's module imported when it runs."""

from __future__ import annotations

from hpo_engine.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
