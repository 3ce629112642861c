"""The one exception root of the project and its branches.

Every error the toolkit raises on purpose derives from :class:`HpoError`, so a
caller (the CLI, the language server) can catch exactly the toolkit's errors
and turn them into one clear message instead of a traceback.
"""

from __future__ import annotations

__all__ = [
    "HpoError",
    "ManifestError",
    "SearchSpaceError",
    "OptimizerError",
    "TrialError",
    "StoreError",
    "BackendError",
    "StorageError",
]


class HpoError(Exception):
    """Root of every error raised by hpo on purpose."""


class ManifestError(HpoError):
    """A manifest cannot be read or has errors; ``problems`` says which."""

    def __init__(self, message: str, problems: tuple = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class SearchSpaceError(HpoError, ValueError):
    """A hyper-parameter definition is inconsistent (bad bounds, step, power...)."""


class OptimizerError(HpoError):
    """An optimizer cannot run on this search space or has nothing left to propose."""


class TrialError(HpoError):
    """A trial could not be prepared or launched (not: the trial's program failed)."""


class StoreError(HpoError):
    """The result store cannot be opened, read or written."""


class BackendError(HpoError):
    """A trial backend (local processes, Ray) cannot start or reach its workers."""


class StorageError(HpoError):
    """Object storage (S3) or a remote training definition cannot be reached, read or written.

    Messages never hold a secret: credentials are masked before the error is raised.
    ``transient`` is True when trying again later may succeed (connection lost, 5xx).
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
