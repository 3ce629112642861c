"""Trial backends: where trials run (local processes, a Ray cluster)."""
from .base import TrialBackend, TrialOutcome, TrialSpec, TrialState

__all__ = ["TrialBackend", "TrialOutcome", "TrialSpec", "TrialState"]
