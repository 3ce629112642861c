"""Follow a running trial's metrics: the objective's values as the program records them.

The same three sources as :mod:`hpo_engine.runner.trials.metric_files` reads after the end:

1. ``$RESULT_DIR/<metrics_filename>`` (``val_dict_list.json``): re-read whole when its
   size or modification time changes (programs rewrite it); rows past those already
   seen are new;
2. the TEST group lines of ``evaluation-metrics.txt`` (``$LOG_DIR/$SUBID/`` or
   ``$LOG_DIR/``), appended and flushed by ``emetrics`` at each ``record``;
3. ``name=value`` pairs in stdout: ``epoch=3 accuracy=0.91`` (one row per line).

Appended files are read from where the last look stopped, complete lines only: a
look costs one ``stat`` per source when nothing changed. A trial's curve comes from
one source: the first that records the objective (in the order above when several
start at the same look); the others are then ignored, so a program that both logs
with EMetrics and prints its accuracy is not counted twice.

The step of a row is its ``time_interval`` key, else the first of ``steps``, ``step``,
``epoch``, ``iteration`` it has, else its 1-based position among the source's rows that
hold the objective.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpo_engine.runner.backends.base import IntermediateValue, TrialSpec
from hpo_engine.runner.trials.metric_files import (
    EVALUATION_METRICS_FILE,
    as_float,
    parse_evaluation_line,
    parse_name_values,
    step_key,
)
from hpo_engine.runner.trials.workdir import trial_paths

__all__ = ["TrialFollower", "follower_for", "MAX_READ_BYTES"]

#: At most this many new bytes of one appended file are read per look.
MAX_READ_BYTES = 1 << 20


@dataclass(slots=True)
class _Appended:
    """An appended file read incrementally: the offset reached and the unfinished last line."""

    path: Path
    offset: int = 0
    partial: bytes = b""

    def new_lines(self) -> list[str]:
        try:
            size = self.path.stat().st_size
        except OSError:
            return []
        if size < self.offset:  # truncated: start again
            self.offset, self.partial = 0, b""
        if size == self.offset:
            return []
        try:
            with open(self.path, "rb") as stream:
                stream.seek(self.offset)
                data = stream.read(min(size - self.offset, MAX_READ_BYTES))
        except OSError:
            return []
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        return [line.decode("utf-8", errors="replace") for line in lines]


@dataclass(slots=True)
class _Rewritten:
    """A file rewritten whole (``val_dict_list.json``): re-read when its size or mtime change."""

    path: Path
    signature: tuple[int, int] | None = None
    seen: int = 0

    def new_rows(self) -> list[Mapping[str, Any]]:
        try:
            stat = self.path.stat()
        except OSError:
            return []
        signature = (stat.st_size, stat.st_mtime_ns)
        if signature == self.signature:
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError):
            return []  # being written: the next look sees the whole file
        self.signature = signature
        if isinstance(data, Mapping):
            data = [data]
        if not isinstance(data, list):
            return []
        rows = [row for row in data if isinstance(row, Mapping)]
        new = rows[self.seen :]
        self.seen = max(self.seen, len(rows))
        return new


@dataclass(slots=True)
class TrialFollower:
    """Follows one trial's metrics files; :meth:`poll` returns the objective values recorded since the last call.

    ``number`` is the 0-based trial number (``SUBID``); ``result_dir``, ``log_dir`` and
    ``stdout_path`` are where the trial writes (on the machine that runs it).
    """

    number: int
    objective: str
    result_dir: Path
    log_dir: Path
    stdout_path: Path
    metrics_filename: str = "val_dict_list.json"
    time_interval: str | None = None
    chosen: str | None = None
    _results: _Rewritten = field(init=False)
    _evaluation: list[_Appended] = field(init=False)
    _stdout: _Appended = field(init=False)
    _counts: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._results = _Rewritten(Path(self.result_dir) / self.metrics_filename)
        self._evaluation = [
            _Appended(Path(self.log_dir) / str(self.number) / EVALUATION_METRICS_FILE),
            _Appended(Path(self.log_dir) / EVALUATION_METRICS_FILE),
        ]
        self._stdout = _Appended(Path(self.stdout_path))

    def poll(self) -> list[IntermediateValue]:
        """New ``(step, value)`` points of the objective, in the order the program recorded them."""
        found: list[tuple[str, list[Mapping[str, Any]]]] = []
        if self.chosen in (None, self.metrics_filename):
            found.append((self.metrics_filename, list(self._results.new_rows())))
        if self.chosen in (None, EVALUATION_METRICS_FILE):
            rows: list[Mapping[str, Any]] = []
            for source in self._evaluation:
                for line in source.new_lines():
                    parsed = parse_evaluation_line(line)
                    if parsed is not None and parsed[0] == "test":
                        rows.append(parsed[1])
            found.append((EVALUATION_METRICS_FILE, rows))
        if self.chosen in (None, "stdout"):
            rows = []
            for line in self._stdout.new_lines():
                pairs = dict(parse_name_values(line))
                if pairs:
                    rows.append(pairs)
            found.append(("stdout", rows))
        points: list[IntermediateValue] = []
        for source, rows in found:
            if self.chosen not in (None, source):
                continue
            for row in rows:
                point = self._point(source, row)
                if point is not None:
                    self.chosen = source
                    points.append(point)
        return points

    def _point(self, source: str, row: Mapping[str, Any]) -> IntermediateValue | None:
        if self.objective not in row:
            return None
        value = as_float(row[self.objective])
        if value is None:
            return None
        count = self._counts.get(source, 0) + 1
        self._counts[source] = count
        key = step_key(row, self.time_interval)
        step = as_float(row.get(key)) if key is not None else None
        return IntermediateValue(self.number, float(count) if step is None else step, value, source)


def follower_for(spec: TrialSpec, trial_dir: Path | None = None) -> TrialFollower:
    """The follower of trial ``spec``, whose folder is ``trial_dir`` (default ``spec.trial_dir``).

    The folders are those the trial runner gives the program (:func:`~hpo_engine.runner.trials.workdir.trial_paths`).
    """
    paths = trial_paths(Path(trial_dir or spec.trial_dir))
    return TrialFollower(
        number=spec.number,
        objective=spec.objective,
        result_dir=paths.result_dir,
        log_dir=paths.log_dir,
        stdout_path=paths.stdout_path,
        metrics_filename=spec.metrics_filename,
        time_interval=spec.time_interval,
    )
