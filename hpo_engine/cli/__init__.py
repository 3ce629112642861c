"""Command-line interface ``hpo``: :data:`app` (see :mod:`hpo_engine.cli.app`), each command's module imported when it runs."""

from __future__ import annotations

import gc

from hpo_engine.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point.

    When the command is done the process exits: :func:`gc.freeze` first spares it the final
    garbage collection's walk over every object still alive (after an S3 run boto3's client
    and service models: 0.1-0.3 s of exit time, docs/benchmarks/s3.md).
    """
    try:
        app()
    finally:
        gc.freeze()
