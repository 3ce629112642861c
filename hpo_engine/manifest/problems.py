"""Problems found in a manifest, with stable codes and suggested fixes.

A :class:`Problem` is what the validator returns, what ``hpo validate`` prints and
what the language server turns into a diagnostic. Its span is 0-based (lines and
code-point columns); every code is listed with an example in ``docs/problem-codes.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from hpo_engine.manifest.spans import Span, TextEdit

__all__ = ["Severity", "Suggestion", "Problem", "CODES"]


class Severity(str, Enum):
    """How serious a problem is. Only errors make ``hpo validate`` exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for errors, 1 for warnings, 2 for infos (sort key)."""
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One way to fix a problem: a title for people and the edits that apply it.

    ``replacement`` is the single proposed word (a key or a value) when the fix is
    "did you mean ...", else ``None``.
    """

    title: str
    edits: tuple[TextEdit, ...]
    replacement: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem at ``span``; ``suggestions`` are ranked, the most likely first."""

    code: str
    severity: Severity
    message: str
    span: Span
    suggestions: tuple[Suggestion, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        return (self.span.start, self.severity.rank, self.code)


#: Every stable problem code with its default severity and a one-line meaning.
#: docs/problem-codes.md shows an example of each; tests check the two agree.
CODES: dict[str, tuple[Severity, str]] = {
    # Reading the text
    "HPO001": (Severity.ERROR, "YAML syntax error"),
    "HPO002": (Severity.ERROR, "duplicate key in a mapping"),
    "HPO003": (Severity.ERROR, "tab character used for indentation"),
    "HPO004": (Severity.ERROR, "more than one YAML document in the file"),
    "HPO005": (Severity.ERROR, "the file is empty"),
    "HPO006": (Severity.ERROR, "the top level is not a mapping"),
    "HPO007": (Severity.ERROR, "the file cannot be read as text"),
    "HPO008": (Severity.ERROR, "aliases expand the document past the budget"),
    "HPO009": (Severity.ERROR, "the text is too large for a manifest"),
    # Schema
    "HPO101": (Severity.ERROR, "unknown property"),
    "HPO102": (Severity.ERROR, "missing required property"),
    "HPO103": (Severity.ERROR, "value of the wrong type"),
    "HPO104": (Severity.ERROR, "value not among the allowed ones"),
    "HPO105": (Severity.ERROR, "a hyper-parameter needs exactly one kind"),
    "HPO106": (Severity.ERROR, "value outside its allowed bounds or form"),
    "HPO107": (Severity.ERROR, "method parameter given with the wrong value key"),
    # What JSON Schema cannot say
    "HPO201": (Severity.ERROR, "min_value larger than max_value"),
    "HPO202": (Severity.ERROR, "step not positive"),
    "HPO203": (Severity.ERROR, "step larger than the range"),
    "HPO204": (Severity.ERROR, "int_range with a non-integer bound or step"),
    "HPO205": (Severity.ERROR, "power not positive or equal to 1"),
    "HPO206": (Severity.ERROR, "empty list of values"),
    "HPO207": (Severity.WARNING, "the same value twice in a list"),
    "HPO208": (Severity.ERROR, "two hyper-parameters with one name"),
    "HPO209": (Severity.ERROR, "a method parameter given twice"),
    "HPO210": (Severity.ERROR, "a required method parameter is missing"),
    "HPO211": (Severity.WARNING, "more optimizer steps than distinct points in the grid"),
    "HPO212": (Severity.WARNING, "rbfopt with too few steps to fit its model"),
    "HPO213": (Severity.ERROR, "grid method on a space with a continuous dimension"),
    "HPO214": (Severity.ERROR, "two training references with one name"),
    "HPO215": (Severity.INFO, "${VAR} in command that is neither standard nor set"),
    "HPO216": (Severity.WARNING, "credentials written in plain text"),
    "HPO217": (Severity.WARNING, "unknown compute configuration"),
    "HPO218": (Severity.ERROR, "no hyper-parameters to optimize"),
    # Early stopping
    "HPO230": (Severity.ERROR, "asha or hyperband without max_resource"),
    "HPO231": (Severity.ERROR, "reduction_factor smaller than 2"),
    "HPO232": (Severity.ERROR, "grace_period larger than max_resource"),
    "HPO233": (Severity.WARNING, "early_stopping given with a method that has its own rule"),
    "HPO234": (Severity.WARNING, "early stopping, but the training code records no per-step objective"),
    "HPO250": (Severity.ERROR, "storage reference of type s3 without a bucket"),
    "HPO251": (Severity.WARNING, "storage reference of type s3 without endpoint_url"),
    "HPO252": (Severity.WARNING, "unknown storage type"),
    "HPO253": (Severity.WARNING, "training definition URL that cannot be fetched"),
    "HPO254": (Severity.INFO, "${VAR} in a storage reference that is not set"),
    "HPO220": (Severity.ERROR, "a name or command holds a control character"),
    "HPO221": (Severity.ERROR, "two training references share one results folder"),
    "HPO240": (Severity.WARNING, "a method parameter the chosen method does not read"),
    "HPO241": (Severity.WARNING, "n_startup_trials not smaller than num_optimizer_steps"),
}
