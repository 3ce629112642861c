"""Command-line interface ``hpo``. Importing a ``*_cmd`` module registers its command on :data:`app`."""

from __future__ import annotations

import gc

from hpo_engine.cli.app import app
from hpo_engine.cli import validate_cmd, preview_cmd  # noqa: F401  (register commands)
from hpo_engine.cli import run_cmd, results_cmd, plot_cmd, sync_cmd  # noqa: F401  (register engine commands)
from hpo_engine.cli import export_cmd, dashboard_cmd  # noqa: F401  (register analysis commands)

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
