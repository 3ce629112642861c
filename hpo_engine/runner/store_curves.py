"""The learning curves in the result store: each objective value a trial records while it runs.

Table ``intermediate_values``: one row per (trial, step) value, in the order they
arrived (``seq``, 1-based, increasing). The stopping rules read only this table, so a
decision is a pure function of the store: after ``hpo run`` is killed and resumed, the
same decisions are taken. A rerun trial (``INTERRUPTED`` by a killed run) starts a
fresh curve: its old rows are deleted in the transaction that records it running again.

``step`` is the program's step key as written (usually 1-based epochs), or the 1-based
position of the row when the program writes none. Values are finite floats (NaN or
infinite values are not stored: no rule could compare them).

:class:`CurveStore` is a mixin of :class:`~hpo_engine.runner.store.ResultStore`
(its connection and transactions).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpo_engine.errors import StoreError
from hpo_engine.runner.trial_state import TrialState

if TYPE_CHECKING:
    from hpo_engine.runner.backends.base import IntermediateValue

__all__ = ["CURVES_SCHEMA", "CurvePoint", "CurveStore"]

CURVES_SCHEMA = """
CREATE TABLE IF NOT EXISTS intermediate_values (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    number INTEGER NOT NULL,
    step REAL NOT NULL,
    value REAL NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    recorded_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS intermediate_values_by_trial ON intermediate_values (number, seq);
"""


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One stored intermediate value; ``seq`` orders all points of the store (1-based)."""

    seq: int
    number: int
    step: float
    value: float


class CurveStore:
    """Reading and writing ``intermediate_values`` (mixed into ``ResultStore``)."""

    _db: sqlite3.Connection

    def _transaction(self) -> Any:  # pragma: no cover - provided by ResultStore
        raise NotImplementedError

    def add_curves_table(self) -> None:
        """Create the table in a store written before it existed (idempotent)."""
        try:
            for statement in CURVES_SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot add the learning-curve table to the result store: {exc}") from exc

    def record_intermediate(self, values: Iterable[IntermediateValue], recorded_at: float) -> list[CurvePoint]:
        """Store ``values`` in one transaction, in order; returns them as stored (non-finite ones skipped).

        Values of a trial that is not ``RUNNING`` (already settled, or unknown) are skipped,
        so a late value never changes a finished curve.
        """
        stored: list[CurvePoint] = []
        try:
            with self._transaction():
                running: dict[int, bool] = {}
                for item in values:
                    if not (math.isfinite(item.step) and math.isfinite(item.value)):
                        continue
                    if item.number not in running:
                        row = self._db.execute("SELECT state FROM trials WHERE number = ?", (item.number,)).fetchone()
                        running[item.number] = row is not None and row[0] == TrialState.RUNNING.value
                    if not running[item.number]:
                        continue
                    cursor = self._db.execute(
                        "INSERT INTO intermediate_values (number, step, value, source, recorded_at) VALUES (?, ?, ?, ?, ?)",
                        (item.number, float(item.step), float(item.value), item.source, recorded_at),
                    )
                    stored.append(CurvePoint(int(cursor.lastrowid or 0), item.number, float(item.step), float(item.value)))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write learning curves to the result store: {exc}") from exc
        return stored

    def curve_points(self, numbers: Sequence[int] | None = None) -> list[CurvePoint]:
        """Every stored point (or those of trials ``numbers``), in arrival order."""
        sql = "SELECT seq, number, step, value FROM intermediate_values"
        params: tuple[Any, ...] = ()
        if numbers is not None:
            sql += f" WHERE number IN ({', '.join('?' for _ in numbers)})"
            params = tuple(numbers)
        try:
            rows = self._db.execute(sql + " ORDER BY seq", params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read learning curves from the result store: {exc}") from exc
        return [CurvePoint(*row) for row in rows]

    def curves(self) -> dict[int, list[tuple[float, float]]]:
        """Trial number -> its ``(step, value)`` points in arrival order."""
        result: dict[int, list[tuple[float, float]]] = {}
        for point in self.curve_points():
            result.setdefault(point.number, []).append((point.step, point.value))
        return result
