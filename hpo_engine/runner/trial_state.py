"""The states of a trial, as the store records them and every view shows them."""

from __future__ import annotations

import enum

__all__ = ["TrialState"]


class TrialState(str, enum.Enum):
    """Life cycle of a trial as the store records it.

    ``RUNNING`` while its process runs (or when ``hpo run`` died under it, until ``--resume``
    marks it ``INTERRUPTED``); ``COMPLETE`` with an objective; ``FAILED`` without one.
    """

    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
