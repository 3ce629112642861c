"""What the local training code records, read with :mod:`ast` (the code is never run).

A reference's ``training_definition_url`` may name a local folder, a ``file://`` URL or
one ``.py`` file (relative to the manifest). Its Python files tell two things:

* the **metric names** it records, for completing ``objective``'s value (the language
  server): string keys of dict literals (or ``dict(key=...)`` calls) passed to a
  ``.record(...)`` call (``em.record(EMetrics.TEST_GROUP, epoch, {'accuracy': acc})``),
  and of dict literals in a function or module that writes ``val_dict_list.json``;
* whether it records the objective **per step**, which early stopping needs
  (:func:`per_step_sources`, the validator's HPO234): an EMetrics ``record()`` of it, a
  mention of the metrics file (``val_dict_list.json`` is a list with one entry per
  step), or ``name=value`` output (a string constant ``"accuracy="``, or a generic
  ``f"{name}={value}"``) — the three sources :mod:`hpo_engine.runner.trials.follow` reads.

:class:`TrainingCode` caches what each file holds by (modification time, size); at most
:data:`MAX_FILES` files of at most :data:`MAX_FILE_BYTES` each are read per definition.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = [
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "SourceFacts",
    "TrainingCode",
    "definition_folder",
    "metric_names_in_source",
    "per_step_sources",
    "source_facts",
]

#: At most this many Python files are read per training definition.
MAX_FILES = 200
#: Files larger than this (bytes) are skipped.
MAX_FILE_BYTES = 2_000_000
_METRICS_FILE = "val_dict_list.json"
_SKIPPED_FOLDERS = frozenset({"__pycache__", "node_modules", ".venv", "venv"})
_NAME_EQUALS = re.compile(r"(?<![\w.\-/])([A-Za-z_][\w.\-/]*)\s*=(?!=)")


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What one source (or a whole definition, merged) records.

    ``metric_names`` in order of appearance; ``recorded`` the keys passed to ``record()``;
    ``strings`` every string constant that may name a metrics file; ``printed`` the names
    written as ``name=`` in string constants; ``generic_output`` whether an f-string
    writes ``{name}={value}`` for names only known at run time.
    """

    metric_names: tuple[str, ...] = ()
    recorded: frozenset[str] = frozenset()
    strings: frozenset[str] = frozenset()
    printed: frozenset[str] = frozenset()
    generic_output: bool = False

    def merged(self, other: "SourceFacts") -> "SourceFacts":
        return SourceFacts(
            tuple(dict.fromkeys(self.metric_names + other.metric_names)),
            self.recorded | other.recorded,
            self.strings | other.strings,
            self.printed | other.printed,
            self.generic_output or other.generic_output,
        )


def _dict_keys(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Dict):
        return [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return [k.arg for k in node.keywords if k.arg]
    return []


def _mentions_metrics_file(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and _METRICS_FILE in n.value for n in ast.walk(node))


def _generic_name_value(node: ast.JoinedStr) -> bool:
    """``f"{k}={v}"``: a formatted value, a constant ending in ``=``, a formatted value."""
    parts = node.values
    for before, middle, after in zip(parts, parts[1:], parts[2:]):
        if (
            isinstance(before, ast.FormattedValue)
            and isinstance(after, ast.FormattedValue)
            and isinstance(middle, ast.Constant)
            and isinstance(middle.value, str)
            and middle.value.strip() == "="
        ):
            return True
    return False


def _file_metric_names(tree: ast.Module) -> list[str]:
    names: list[str] = []
    scopes: list[ast.AST] = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for scope in scopes + [tree]:
        if scope is tree:  # module level: only statements outside functions
            body = [s for s in tree.body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        else:
            body = [scope]
        if not any(_mentions_metrics_file(s) for s in body):
            continue
        for statement in body:
            for node in ast.walk(statement):
                names.extend(_dict_keys(node))
    return names


def source_facts(source: str) -> SourceFacts:
    """What one Python source records (empty facts when it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return SourceFacts()
    names: list[str] = []
    recorded: list[str] = []
    strings: set[str] = set()
    printed: set[str] = set()
    generic = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record":
            for argument in list(node.args) + [k.value for k in node.keywords]:
                keys = _dict_keys(argument)
                names.extend(keys)
                recorded.extend(keys)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) <= 10_000:
            strings.add(node.value)
            for match in _NAME_EQUALS.finditer(node.value):
                printed.add(match.group(1))
        elif isinstance(node, ast.JoinedStr) and not generic:
            generic = _generic_name_value(node)
    names.extend(_file_metric_names(tree))
    unique = tuple(dict.fromkeys(n for n in names if n))
    return SourceFacts(unique, frozenset(recorded), frozenset(strings), frozenset(printed), generic)


def metric_names_in_source(source: str) -> list[str]:
    """Metric names recorded by one Python source, in order of appearance (no duplicates)."""
    return list(source_facts(source).metric_names)


def per_step_sources(facts: SourceFacts, objective: str, metrics_file: str = _METRICS_FILE) -> tuple[str, ...]:
    """The per-step sources of ``objective`` the code shows: ``"emetrics"``, ``"metrics file"``, ``"stdout"``."""
    found = []
    if objective in facts.recorded:
        found.append("emetrics")
    if any(metrics_file in text for text in facts.strings):
        found.append("metrics file")
    if objective in facts.printed or facts.generic_output:
        found.append("stdout")
    return tuple(found)


def definition_folder(manifest_path: Path | None, url: str | None) -> Path | None:
    """The local file or folder of a ``training_definition_url``, ``None`` when remote or missing."""
    if not url or not isinstance(url, str):
        return None
    parsed = urlparse(url)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
    elif parsed.scheme and len(parsed.scheme) > 1:
        return None
    else:
        path = Path(os.path.expandvars(os.path.expanduser(url)))
    if not path.is_absolute():
        if manifest_path is None:
            return None
        path = manifest_path.parent / path
    return path if path.exists() else None


def _python_files(location: Path) -> list[Path]:
    if location.is_file():
        return [location] if location.suffix == ".py" else []
    files: list[Path] = []
    for root, dirs, filenames in os.walk(location):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_FOLDERS)
        files.extend(Path(root) / f for f in sorted(filenames) if f.endswith(".py"))
        if len(files) >= MAX_FILES:
            break
    return files[:MAX_FILES]


class TrainingCode:
    """Facts of local training definitions, cached per file by (modification time ns, size)."""

    def __init__(self) -> None:
        self._files: dict[Path, tuple[tuple[int, int], SourceFacts]] = {}

    def _file(self, path: Path) -> SourceFacts:
        try:
            stat = path.stat()
        except OSError:
            return SourceFacts()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._files.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        facts = SourceFacts()
        if stat.st_size <= MAX_FILE_BYTES:
            try:
                facts = source_facts(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                facts = SourceFacts()
        self._files[path] = (stamp, facts)
        return facts

    def facts(self, manifest_path: Path | None, url: str | None) -> SourceFacts | None:
        """Merged facts of the local Python files at ``url``; ``None`` when it is not local or has none."""
        location = definition_folder(manifest_path, url)
        files = _python_files(location) if location is not None else []
        if not files:
            return None
        return _merge(self._file(path) for path in files)

    def metric_names(self, manifest_path: Path | None, url: str | None) -> list[str]:
        """Metric names recorded by the local training code at ``url`` (relative to the manifest)."""
        facts = self.facts(manifest_path, url)
        return [] if facts is None else list(facts.metric_names)


def _merge(all_facts: Iterable[SourceFacts]) -> SourceFacts:
    merged = SourceFacts()
    for facts in all_facts:
        merged = merged.merged(facts)
    return merged
