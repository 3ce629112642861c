"""Read what a finished trial recorded and find its objective.

Sources, in this order; the first one that recorded the objective is used:

1. ``$RESULT_DIR/<metrics_filename>`` (``val_dict_list.json``): a JSON list of
   objects such as ``[{"steps": 3, "accuracy": 0.91}]`` or ``[{"epoch": 3, ...}]``;
2. the TEST group lines of ``evaluation-metrics.txt`` written by ``emetrics``
   (``$LOG_DIR/$SUBID/`` first, then ``$LOG_DIR/``), values decoded from the
   service's ``{"type": 2|3, "value": "..."}`` encoding;
3. ``name=value`` pairs in the program's stdout (Katib's convention), several per
   line allowed, separated by spaces or commas.

The objective is the LAST value recorded for it, in the order the rows were written
(not the best, not the one with the largest step). ``time_interval`` names the step key
(``epoch``, ``iteration``, ``step``...); it is reported, never used to reorder rows.

Everything recorded is returned JSON-safe and bounded: at most :data:`MAX_SERIES_ROWS`
rows per series (the last ones), non-finite floats as the strings ``"NaN"``,
``"Infinity"``, ``"-Infinity"``.
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_SERIES_ROWS",
    "EVALUATION_METRICS_FILE",
    "CollectedMetrics",
    "collect_metrics",
    "read_results_file",
    "read_evaluation_metrics",
    "read_stdout_metrics",
    "parse_name_values",
    "decode_value",
]

#: At most this many rows of a series are kept (the last ones).
MAX_SERIES_ROWS = 1000
#: At most this many distinct metric names are taken from stdout.
MAX_STDOUT_NAMES = 100
#: The file ``emetrics`` appends to, in ``$LOG_DIR`` or ``$LOG_DIR/$SUBID``.
EVALUATION_METRICS_FILE = "evaluation-metrics.txt"
#: Keys taken as the step (x axis) of a series when ``time_interval`` does not name one.
STEP_KEYS = ("steps", "step", "epoch", "iteration")

_MAX_LIST_ITEMS = 100
_MAX_TEXT = 1000
_INT_TYPE = 2
_FLOAT_TYPE = 3

_NAME_VALUE = re.compile(
    r"(?<![\w.\-/])([A-Za-z_][\w.\-/]*)\s*=\s*"
    r"([+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|nan|inf(?:inity)?))"
    r"(?=$|[\s,;)\]}]|\.(?:\s|$))",
    re.IGNORECASE,
)
_INTEGER = re.compile(r"[+-]?\d+")


@dataclass(frozen=True, slots=True)
class CollectedMetrics:
    """The objective (``None`` when unusable) and every recorded metric.

    ``objective`` is the last recorded value as a float; it may be NaN or infinite, in
    which case ``problem`` says so. ``problem`` is ``None`` only for a finite objective.
    """

    objective: float | None
    problem: str | None
    metrics: dict[str, Any]


@dataclass(slots=True)
class _Series:
    """Rows of one source, bounded, with the last value of each name and the objective's row."""

    objective: str
    rows: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_SERIES_ROWS))
    length: int = 0
    final: dict[str, Any] = field(default_factory=dict)
    objective_row: dict[str, Any] | None = None

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.length += 1
        self.final.update(row)
        if self.objective in row:
            self.objective_row = row

    def summary(self, time_interval: str | None) -> dict[str, Any]:
        step_key = _step_key(self.final, time_interval)
        final = {name: value for name, value in self.final.items() if name != step_key}
        return {
            "step_key": step_key,
            "final": _json_safe(final),
            "series": _json_safe(list(self.rows)),
            "series_length": self.length,
        }


def collect_metrics(
    *,
    objective: str,
    result_dir: Path,
    log_dir: Path,
    stdout_path: Path | None,
    metrics_filename: str = "val_dict_list.json",
    time_interval: str | None = None,
    subid: str | None = None,
) -> CollectedMetrics:
    """Read the three sources of a finished trial and pick its objective (see the module doc).

    ``subid`` is the 0-based trial number as a string (``$SUBID``); emetrics writes to
    ``log_dir/<subid>/`` when the program passed it to ``EMetrics.open``.
    """
    errors: list[str] = []
    sources: list[tuple[str, _Series]] = []

    results_path = Path(result_dir) / metrics_filename
    if results_path.is_file():
        try:
            sources.append((metrics_filename, read_results_file(results_path, objective)))
        except ValueError as exc:
            errors.append(f"{metrics_filename}: {exc}")

    groups: dict[str, _Series] = {}
    for folder in ([Path(log_dir) / subid] if subid else []) + [Path(log_dir)]:
        metrics_path = folder / EVALUATION_METRICS_FILE
        if metrics_path.is_file():
            groups = read_evaluation_metrics(metrics_path, objective)
            break
    sources.append((EVALUATION_METRICS_FILE, groups.get("test") or _Series(objective)))

    if stdout_path is not None and Path(stdout_path).is_file():
        sources.append(("stdout", read_stdout_metrics(Path(stdout_path), objective)))

    chosen = next(((name, s) for name, s in sources if s.objective_row is not None), None)
    if chosen is None:
        chosen = next(((name, s) for name, s in sources if s.length), None)

    metrics: dict[str, Any] = {"source": None, "objective": objective}
    if chosen is not None:
        source_name, series = chosen
        metrics["source"] = source_name
        metrics.update(series.summary(time_interval))
        if series.objective_row is not None and metrics["step_key"] is not None:
            metrics["objective_step"] = _json_safe(series.objective_row.get(metrics["step_key"]))
    other_groups = {name: s.summary(time_interval) for name, s in groups.items() if name != "test"}
    if other_groups:
        metrics["groups"] = other_groups
    if errors:
        metrics["errors"] = errors

    if chosen is None or chosen[1].objective_row is None:
        return CollectedMetrics(None, f"no objective {objective!r} recorded", metrics)
    raw = chosen[1].objective_row[objective]
    value = _as_float(raw)
    if value is None:
        return CollectedMetrics(
            None, f"objective {objective!r} is not a number: {str(raw)[:60]!r}", metrics
        )
    if math.isnan(value):
        return CollectedMetrics(value, "objective is NaN", metrics)
    if math.isinf(value):
        return CollectedMetrics(value, f"objective is infinite ({value})", metrics)
    return CollectedMetrics(value, None, metrics)


def read_results_file(path: Path, objective: str) -> _Series:
    """Rows of a ``val_dict_list.json``-style file (a list of objects; one object is one row).

    Raises ``ValueError`` when the file is not JSON or not objects.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from exc
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON list of objects, found {type(data).__name__}")
    series = _Series(objective)
    for row in data:
        if isinstance(row, Mapping):
            series.add({str(name): value for name, value in row.items()})
    return series


def read_evaluation_metrics(path: Path, objective: str) -> dict[str, _Series]:
    """Rows of ``evaluation-metrics.txt`` by group label, as ``{"steps": iteration, **values}``.

    Lines that are not the service's JSON records are skipped.
    """
    groups: dict[str, _Series] = {}
    with Path(path).open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(record, Mapping):
                continue
            values = record.get("values")
            if not isinstance(values, Mapping):
                continue
            etimes = record.get("etimes")
            iteration = etimes.get("iteration") if isinstance(etimes, Mapping) else None
            row: dict[str, Any] = {"steps": decode_value(iteration)}
            row.update({str(name): decode_value(value) for name, value in values.items()})
            group = str(record.get("grouplabel", ""))
            groups.setdefault(group, _Series(objective)).add(row)
    return groups


def decode_value(encoded: Any) -> Any:
    """Decode ``{"type": 2, "value": "5"}`` (int), type 3 (float), or an untyped string value."""
    if not isinstance(encoded, Mapping):
        return encoded
    value = encoded.get("value")
    kind = encoded.get("type")
    try:
        if kind == _INT_TYPE:
            return int(str(value))
        if kind == _FLOAT_TYPE:
            return float(str(value))
    except ValueError:
        pass
    return value


def read_stdout_metrics(path: Path, objective: str) -> _Series:
    """Rows of ``name=value`` pairs found in the program's stdout, one row per line that has any."""
    series = _Series(objective)
    names: set[str] = set()
    with Path(path).open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            row = {}
            for name, value in parse_name_values(line):
                if name in names or name == objective or len(names) < MAX_STDOUT_NAMES:
                    names.add(name)
                    row[name] = value
            if row:
                series.add(row)
    return series


def parse_name_values(line: str) -> list[tuple[str, int | float]]:
    """The ``name=value`` pairs of one line: ``"epoch=2 accuracy=0.93, loss=1e-2"``."""
    pairs: list[tuple[str, int | float]] = []
    for match in _NAME_VALUE.finditer(line):
        text = match.group(2)
        value: int | float = int(text) if _INTEGER.fullmatch(text) else float(text)
        pairs.append((match.group(1), value))
    return pairs


def _step_key(final: Mapping[str, Any], time_interval: str | None) -> str | None:
    if time_interval and time_interval in final:
        return time_interval
    return next((key for key in STEP_KEYS if key in final), None)


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _json_safe(value: Any, depth: int = 0) -> Any:
    """A strict-JSON copy: non-finite floats as strings, long lists and texts cut."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "..."
    if depth > 8:
        return str(value)[:_MAX_TEXT]
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, Iterable):
        items = list(value)
        if depth > 0:
            items = items[:_MAX_LIST_ITEMS]
        return [_json_safe(item, depth + 1) for item in items]
    return str(value)[:_MAX_TEXT]
