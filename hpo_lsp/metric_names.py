"""Metric names the training code records, for completing ``objective``'s value.

Reads the local Python files of a reference's ``training_definition_url`` (a folder,
a ``file://`` URL or a single ``.py`` file, relative to the manifest) with
:mod:`ast` — the code is never run — and collects the string keys of

* dict literals (or ``dict(key=...)`` calls) passed to a ``.record(...)`` call
  (``em.record(EMetrics.TEST_GROUP, epoch, {'accuracy': acc})``), and
* dict literals in a function or module that writes ``val_dict_list.json``.

Results are cached per file by modification time and size.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = ["MetricNames", "metric_names_in_source", "definition_folder"]

#: At most this many Python files are read per training definition.
MAX_FILES = 200
#: Files larger than this are skipped.
MAX_FILE_BYTES = 2_000_000
_METRICS_FILE = "val_dict_list.json"


def _dict_keys(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Dict):
        return [k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return [k.arg for k in node.keywords if k.arg]
    return []


def _mentions_metrics_file(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and _METRICS_FILE in n.value for n in ast.walk(node))


def metric_names_in_source(source: str) -> list[str]:
    """Metric names recorded by one Python source, in order of appearance (no duplicates)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record":
            for argument in list(node.args) + [k.value for k in node.keywords]:
                names.extend(_dict_keys(argument))
    scopes: list[ast.AST] = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for scope in scopes + [tree]:
        body = scope.body if scope is tree else [scope]
        if scope is tree:
            # module level: only statements outside functions
            body = [s for s in tree.body if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        if not any(_mentions_metrics_file(s) for s in body):
            continue
        for statement in body:
            for node in ast.walk(statement):
                names.extend(_dict_keys(node))
    return list(dict.fromkeys(n for n in names if n))


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


class MetricNames:
    """Metric names per training definition, cached per file by (mtime, size)."""

    def __init__(self) -> None:
        self._files: dict[Path, tuple[tuple[int, int], list[str]]] = {}

    def _file(self, path: Path) -> list[str]:
        try:
            stat = path.stat()
        except OSError:
            return []
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._files.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        names: list[str] = []
        if stat.st_size <= MAX_FILE_BYTES:
            try:
                names = metric_names_in_source(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                names = []
        self._files[path] = (stamp, names)
        return names

    def for_definition(self, manifest_path: Path | None, url: str | None) -> list[str]:
        """Metric names recorded by the local training code at ``url`` (relative to the manifest)."""
        location = definition_folder(manifest_path, url)
        if location is None:
            return []
        if location.is_file():
            files = [location] if location.suffix == ".py" else []
        else:
            files = []
            for root, dirs, filenames in os.walk(location):
                dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("__pycache__", "node_modules", ".venv", "venv")]
                files.extend(Path(root) / f for f in sorted(filenames) if f.endswith(".py"))
                if len(files) >= MAX_FILES:
                    break
        names: list[str] = []
        for path in files[:MAX_FILES]:
            names.extend(self._file(path))
        return list(dict.fromkeys(names))
