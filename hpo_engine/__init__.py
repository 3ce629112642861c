"""hpo engine: manifests, validation, search spaces, optimizers, trial runners and result stores."""

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

__all__ = [
    "__version__",
    "HpoError",
    "ManifestError",
    "SearchSpaceError",
    "OptimizerError",
    "TrialError",
    "StoreError",
    "BackendError",
]
