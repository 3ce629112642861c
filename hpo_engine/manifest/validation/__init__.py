"""The one validator: text -> problems (and, without errors, the typed manifest).

The CLI, the language server and the engine all call :func:`validate_text`
(directly or through :func:`load_manifest`); no rule lives anywhere else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hpo_engine.errors import ManifestError
from hpo_engine.manifest.model import Manifest, build_manifest
from hpo_engine.manifest.problems import Problem, Severity
from hpo_engine.manifest.training_code import TrainingCode
from hpo_engine.manifest.spans import Position, Span
from hpo_engine.manifest.yaml_source import MappingNode, SourceDocument, parse_yaml
from hpo_engine.manifest.validation.checks import semantic_problems
from hpo_engine.manifest.validation.schema_problems import schema_problems
from hpo_engine.manifest.validation.training_code_checks import per_step_source_problems

__all__ = [
    "ValidationResult",
    "validate_text",
    "validate_document",
    "read_manifest_text",
    "load_manifest",
    "MAX_MANIFEST_BYTES",
]

#: Larger files are refused before parsing (a manifest is a few hundred kB at most).
MAX_MANIFEST_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """The parsed document, its problems (sorted by position) and, without errors, the manifest."""

    document: SourceDocument
    problems: tuple[Problem, ...]
    manifest: Manifest | None

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def has_errors(self) -> bool:
        return any(p.severity is Severity.ERROR for p in self.problems)


def validate_document(
    document: SourceDocument,
    *,
    environ: Mapping[str, str] | None = None,
    source_path: Path | None = None,
    training_code: TrainingCode | None = None,
) -> ValidationResult:
    """Validate an already parsed document (the language server caches parses).

    With ``source_path`` (the manifest's file), checks that read the local training code
    run too (HPO234), through ``training_code`` (a fresh reader when ``None``).
    """
    problems = list(document.problems)
    spaces: dict = {}
    if isinstance(document.root, MappingNode):
        problems.extend(schema_problems(document))
        problems.extend(semantic_problems(document, environ, spaces))
        if source_path is not None:
            problems.extend(per_step_source_problems(document, source_path, training_code or TrainingCode()))
    unique = [_inside(problem, document) for problem in dict.fromkeys(problems)]
    unique.sort(key=Problem.sort_key)
    has_errors = any(p.severity is Severity.ERROR for p in unique)
    manifest = None
    if not has_errors and isinstance(document.data, Mapping):
        if "training_references" not in document.data and -1 in spaces:
            spaces[0] = spaces.pop(-1)  # the fragment becomes reference 0
        manifest = build_manifest(_as_manifest_data(document.data), source_path, spaces)
    return ValidationResult(document, tuple(unique), manifest)


def _inside(problem: Problem, document: SourceDocument) -> Problem:
    """``problem`` with its span moved inside the text (a guarantee: every position is a place in the file)."""
    start, end = (_clamp(position, document) for position in problem.span)
    if (start, end) == tuple(problem.span):
        return problem
    return dataclasses.replace(problem, span=Span(start, max(start, end)))


def _clamp(position: Position, document: SourceDocument) -> Position:
    last = document.line_count - 1
    if position.line > last:
        return Position(last, len(document.line_text(last)))
    if position.column > len(document.line_text(position.line)):
        return Position(position.line, len(document.line_text(position.line)))
    return position


def _as_manifest_data(data: Mapping) -> Mapping:
    """A fragment with only ``hyper_parameters_optimization`` becomes one anonymous reference."""
    if "training_references" in data or "hyper_parameters_optimization" not in data:
        return data
    return {**data, "training_references": [{"name": "fragment", "command": "", "hyper_parameters_optimization": data["hyper_parameters_optimization"]}]}


def validate_text(
    text: str,
    *,
    environ: Mapping[str, str] | None = None,
    source_path: Path | None = None,
    training_code: TrainingCode | None = None,
) -> ValidationResult:
    """Parse and validate manifest ``text``; never raises for bad input (see :func:`validate_document`)."""
    return validate_document(parse_yaml(text), environ=environ, source_path=source_path, training_code=training_code)


def read_manifest_text(path: Path | str) -> str:
    """The text of a manifest file, or :class:`ManifestError` with one clear line.

    Refuses a missing file, a folder, a file over :data:`MAX_MANIFEST_BYTES`, and
    binary or non-UTF-8 content.
    """
    path = Path(path)
    if not path.exists():
        raise ManifestError(f"{path}: no such file")
    if path.is_dir():
        raise ManifestError(f"{path}: is a folder, not a manifest file")
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise ManifestError(f"{path}: file is too large for a manifest ({size / 1048576:.1f} MiB; the limit is {MAX_MANIFEST_BYTES // 1048576} MiB)")
        raw = path.read_bytes()
    except OSError as error:
        raise ManifestError(f"{path}: cannot be read ({error.strerror or error})") from error
    if b"\x00" in raw:
        raise ManifestError(f"{path}: is a binary file, not a YAML manifest")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ManifestError(f"{path}: is not UTF-8 text (byte {error.start} cannot be decoded)") from error
    return text


def load_manifest(path: Path | str, *, environ: Mapping[str, str] | None = None) -> Manifest:
    """The typed manifest of the file at ``path``.

    Raises :class:`ManifestError` for an unreadable file (no problems) or a manifest
    with errors (``.problems`` holds every problem, warnings included).
    """
    path = Path(path)
    result = validate_text(read_manifest_text(path), environ=environ, source_path=path.resolve())
    if result.has_errors or result.manifest is None:
        count = len(result.errors)
        raise ManifestError(f"{path}: {count} error{'s' if count != 1 else ''}", result.problems)
    return result.manifest
