"""Trial backends: where trials run (local processes, a Ray cluster).

:data:`BACKENDS` is the one table of backends: ``hpo run --backend`` name -> the
:class:`~hpo_engine.runner.backends.base.TrialBackend` class as ``"module:Class"``, imported
only when asked for (Ray's import alone costs seconds). Adding a backend: its class, one row
here; the backend contract suite (``tests/engine/backends/test_backend_contract.py``) runs on it.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from hpo_engine.errors import BackendError
from hpo_engine.lazy_table import LazyClassTable
from hpo_engine.runner.backends.base import TrialBackend, TrialOutcome, TrialSpec

__all__ = ["TrialBackend", "TrialOutcome", "TrialSpec", "BACKENDS", "make_backend"]

#: ``hpo run --backend`` names -> their TrialBackend class, imported when first asked for.
BACKENDS: LazyClassTable[TrialBackend] = LazyClassTable(
    MappingProxyType(
        {
            "local": "hpo_engine.runner.backends.local:LocalBackend",
            "ray": "hpo_engine.runner.backends.ray_backend:RayBackend",
        }
    ),
    TrialBackend,
    "backend",
    BackendError,
)


def backend_class(name: str) -> type[TrialBackend]:
    """The class of backend ``name`` (imported now). Raises :class:`BackendError` for an unknown name."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; expected one of: {', '.join(BACKENDS)}")
    return BACKENDS[name]


def make_backend(name: str, **options: Any) -> TrialBackend:
    """The backend called ``name``, built with ``options``; imported only when asked for."""
    return backend_class(name)(**options)
