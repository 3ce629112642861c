"""hpo engine: manifests, validation, search spaces, optimizers, trial runners and result stores.

The public API, for programs that use hpo as a library (the CLI, the language server and the
tests use the same functions):

- :func:`validate_text` (text -> :class:`ValidationResult` with problems and, when valid, the
  typed :class:`Manifest`), :func:`load_manifest` (a file -> :class:`Manifest`, or
  :class:`ManifestError` with ``.problems``);
- :class:`SearchSpace`, and :data:`METHODS` (method name -> optimizer class);
- :func:`run_manifest` (run every training reference; :class:`RunOptions`) and
  :func:`load_results` (read a finished or running experiment's store);
- the exception root :class:`HpoError` and its subclasses.

Names are imported on first use (PEP 562), so ``import hpo_engine`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from hpo_engine.errors import (
    BackendError,
    HpoError,
    ManifestError,
    OptimizerError,
    SearchSpaceError,
    StoreError,
    TrialError,
)

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_LAZY = {
    "validate_text": "hpo_engine.manifest.validation",
    "load_manifest": "hpo_engine.manifest.validation",
    "ValidationResult": "hpo_engine.manifest.validation",
    "Manifest": "hpo_engine.manifest.model",
    "SearchSpace": "hpo_engine.manifest.search_space",
    "METHODS": "hpo_engine.optimizers",
    "run_manifest": "hpo_engine.runner.scheduler",
    "RunOptions": "hpo_engine.runner.run_control",
    "load_results": "hpo_engine.runner.results",
}

__all__ = [
    "__version__",
    *_LAZY,
    "HpoError",
    "ManifestError",
    "SearchSpaceError",
    "OptimizerError",
    "TrialError",
    "StoreError",
    "BackendError",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hpo_engine' has no attribute {name!r}")
