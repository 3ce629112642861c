"""Trial backends: where trials run (local processes, a Ray cluster)."""
from __future__ import annotations

from typing import Any

from hpo_engine.runner.backends.base import TrialBackend, TrialOutcome, TrialSpec, TrialState

__all__ = ["TrialBackend", "TrialOutcome", "TrialSpec", "TrialState", "BACKENDS", "make_backend"]

#: Names accepted by :func:`make_backend` (and ``hpo run --backend``).
BACKENDS: tuple[str, ...] = ("local", "ray")


def make_backend(name: str, **options: Any) -> TrialBackend:
    """The backend called ``name``, built with ``options``; imported only when asked for."""
    from hpo_engine.errors import BackendError

    if name == "local":
        from hpo_engine.runner.backends.local import LocalBackend

        return LocalBackend(**options)
    if name == "ray":
        from hpo_engine.runner.backends.ray_backend import RayBackend

        return RayBackend(**options)
    raise BackendError(f"unknown backend {name!r}; expected one of: {', '.join(BACKENDS)}")
