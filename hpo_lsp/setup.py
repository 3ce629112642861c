"""The one place that wires the server: every feature module is listed here.

A feature is a module of :mod:`hpo_lsp.features` with ``register(server)``, which
registers its LSP methods through ``server.handle(...)`` (each handler guarded:
an exception is logged and answered with an empty result). To add a feature,
add its module to :data:`FEATURES`.
"""

from __future__ import annotations

from types import ModuleType

from .features import (
    code_actions,
    code_lens,
    commands,
    completion,
    configuration,
    diagnostics,
    experiments,
    hover,
    inlay_hints,
    symbols,
)
from .server import HpoLanguageServer

__all__ = ["FEATURES", "create_server"]

#: Feature modules, registered in this order.
FEATURES: tuple[ModuleType, ...] = (
    configuration,
    diagnostics,
    code_actions,
    completion,
    hover,
    code_lens,
    inlay_hints,
    symbols,
    commands,
    experiments,
)


def create_server() -> HpoLanguageServer:
    """A new server with every feature registered (not started)."""
    server = HpoLanguageServer()
    for feature in FEATURES:
        feature.register(server)
    return server
