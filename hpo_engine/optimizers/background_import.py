"""Import a heavy library on a thread of its own while the first trials run.

``rbfopt`` (which imports pyomo, about 1.5 s of CPU) and ``skopt`` (scikit-learn, about 1 s) are
needed only once a method's model proposes its first point; a method that knows its first
point(s) without the library (rbfopt: its initial design, :mod:`~hpo_engine.optimizers.space_filling`;
bayesian: ``n_startup_trials`` random points) calls :func:`start` when it proposes them,
so the import overlaps the first trial instead of delaying it (and a parallel slot that frees
later does not wait for it).

The thread only runs ``importlib.import_module``; Python's import lock makes the caller's own
``import`` wait for it to finish and then see the whole module. An error is not raised there but
left to the caller's own ``import``, which raises it again with its message. The thread is not a
daemon: a process that ends before the import is done waits for it (never killed mid-import).
"""

from __future__ import annotations

import importlib
import sys
import threading

__all__ = ["start"]


def _import(module: str) -> None:
    try:
        importlib.import_module(module)
    except BaseException:  # noqa: BLE001 - the caller's own import raises it again, with its message
        return


def start(module: str) -> threading.Thread | None:
    """Start importing ``module`` (a dotted name) on a new thread and return it; ``None`` when it
    is imported (or being imported) already."""
    if module in sys.modules:
        return None
    thread = threading.Thread(target=_import, args=(module,), name=f"hpo-import-{module}")
    thread.start()
    return thread
