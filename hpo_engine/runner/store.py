"""The result store: one SQLite file per (experiment, reference), safe against SIGKILL.

Layout: ``<results root>/<experiment>/<reference>/trials.sqlite`` with the trial folders
``trials/<number>/`` beside it. Names are sanitized (:func:`safe_name`) so that nothing is
ever written outside the results root.

Every state change is one transaction (SQLite in WAL mode, ``synchronous=NORMAL``: a
committed transaction survives the death of the process). A trial is written
``RUNNING`` *before* it is launched and gets its outcome *after* it finished, so a run
killed at any moment leaves only finished trials (kept) and ``RUNNING`` rows (rerun by
``hpo run --resume`` as the same number with the same values).

Trial numbers are 0-based (``SUBID``); times are seconds since the epoch.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from hpo_engine.runner.backends.base import TrialOutcome
from hpo_engine.runner.trial_state import TrialState
from hpo_engine.errors import StoreError
from hpo_engine.runner.store_curves import CURVES_SCHEMA, CurveStore
from hpo_engine.runner.store_records import DEFAULT_RESULTS_ROOT, ExperimentRecord, FINISHED_STATES, STORE_FILENAME, TrialRecord, dumps_json, safe_name, space_from_specs, space_to_specs, store_folder

__all__ = [
    "STORE_FILENAME",
    "DEFAULT_RESULTS_ROOT",
    "FINISHED_STATES",
    "ExperimentRecord",
    "TrialRecord",
    "ResultStore",
    "safe_name",
    "store_folder",
    "space_to_specs",
    "space_from_specs",
]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiment (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    schema_version INTEGER NOT NULL,
    experiment TEXT NOT NULL,
    reference TEXT NOT NULL,
    manifest_path TEXT,
    method TEXT NOT NULL,
    objective TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('maximize', 'minimize')),
    budget INTEGER NOT NULL,
    seed INTEGER,
    compute_configuration TEXT NOT NULL,
    search_space TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    number INTEGER PRIMARY KEY CHECK (number >= 0),
    parameter_values TEXT NOT NULL,
    state TEXT NOT NULL,
    objective REAL,
    metrics TEXT NOT NULL DEFAULT '{}',
    started_at REAL,
    ended_at REAL,
    exit_code INTEGER,
    failure_reason TEXT,
    stderr_tail TEXT NOT NULL DEFAULT '',
    stdout_path TEXT,
    stderr_path TEXT,
    attempts INTEGER NOT NULL DEFAULT 1
);
""" + CURVES_SCHEMA


class ResultStore(CurveStore):
    """The SQLite store of one (experiment, reference). Use :meth:`create` or :meth:`open`."""

    def __init__(self, folder: Path, connection: sqlite3.Connection) -> None:
        self.folder = Path(folder)
        self._db = connection

    # -- opening -------------------------------------------------------------------
    @staticmethod
    def path_in(folder: Path) -> Path:
        return Path(folder) / STORE_FILENAME

    @classmethod
    def exists(cls, folder: Path) -> bool:
        return cls.path_in(folder).is_file()

    @classmethod
    def _connect(cls, folder: Path) -> sqlite3.Connection:
        path = cls.path_in(folder)
        try:
            db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the result store {path}: {exc}") from exc
        return db

    @classmethod
    def create(cls, folder: Path, experiment: ExperimentRecord) -> "ResultStore":
        """A new, empty store in ``folder`` (created); an error if one is already there."""
        folder = Path(folder)
        if cls.exists(folder):
            raise StoreError(f"a result store already exists in {folder}")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the results folder {folder}: {exc.strerror or exc}") from exc
        db = cls._connect(folder)
        store = cls(folder, db)
        created = experiment.created_at or time.time()
        with store._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(
                "INSERT INTO experiment (id, schema_version, experiment, reference, manifest_path, method, objective,"
                " direction, budget, seed, compute_configuration, search_space, created_at)"
                " VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    SCHEMA_VERSION,
                    experiment.experiment,
                    experiment.reference,
                    experiment.manifest_path,
                    experiment.method,
                    experiment.objective,
                    experiment.direction,
                    experiment.budget,
                    experiment.seed,
                    dumps_json(experiment.compute_configuration),
                    dumps_json(list(experiment.search_space)),
                    created,
                ),
            )
        return store

    @classmethod
    def open(cls, folder: Path) -> "ResultStore":
        """The existing store in ``folder``; :class:`StoreError` when there is none or it is unreadable."""
        folder = Path(folder)
        if not cls.exists(folder):
            raise StoreError(f"no result store ({STORE_FILENAME}) in {folder}")
        store = cls(folder, cls._connect(folder))
        store.experiment  # noqa: B018 - fail early on a file that is not a store
        store.add_curves_table()  # a store written before live curves were kept
        return store

    @classmethod
    def open_read_only(cls, folder: Path) -> "ResultStore":
        """The existing store in ``folder`` opened for reading only (SQLite ``mode=ro``).

        Never writes the file, also while ``hpo run`` writes it (WAL readers see each
        committed transaction). Writing through it raises :class:`StoreError`. It may be
        handed to another thread (one thread at a time uses it).
        """
        folder = Path(folder)
        path = cls.path_in(folder)
        if not path.is_file():
            raise StoreError(f"no result store ({STORE_FILENAME}) in {folder}")
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA busy_timeout=30000")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the result store {path}: {exc}") from exc
        store = cls(folder, db)
        store.experiment  # noqa: B018 - fail early on a file that is not a store
        return store

    def data_version(self) -> int:
        """A number that changes whenever another connection commits to the store (SQLite's ``data_version``)."""
        try:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the result store {self.path_in(self.folder)}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    @classmethod
    def remove(cls, folder: Path) -> None:
        """Delete the store files of ``folder`` (a closed store with no trial worth keeping)."""
        path = cls.path_in(folder)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions --------------------------------------------------------------
    class _Tx:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def __enter__(self) -> None:
            self.db.execute("BEGIN IMMEDIATE")

        def __exit__(self, exc_type: object, *rest: object) -> None:
            if exc_type is None:
                self.db.execute("COMMIT")
            else:
                self.db.execute("ROLLBACK")

    def _transaction(self) -> "ResultStore._Tx":
        return ResultStore._Tx(self._db)

    def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        try:
            with self._transaction():
                return self._db.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to the result store {self.path_in(self.folder)}: {exc}") from exc

    # -- reading -------------------------------------------------------------------
    @property
    def experiment(self) -> ExperimentRecord:
        try:
            row = self._db.execute(
                "SELECT experiment, reference, manifest_path, method, objective, direction, budget, seed,"
                " compute_configuration, search_space, created_at FROM experiment WHERE id = 1"
            ).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path_in(self.folder)} is not an hpo result store: {exc}") from exc
        if row is None:
            raise StoreError(f"{self.path_in(self.folder)} has no experiment record")
        return ExperimentRecord(
            experiment=row[0],
            reference=row[1],
            manifest_path=row[2],
            method=row[3],
            objective=row[4],
            maximize=row[5] == "maximize",
            budget=row[6],
            seed=row[7],
            compute_configuration=json.loads(row[8]),
            search_space=tuple(json.loads(row[9])),
            created_at=row[10],
        )

    _COLUMNS = (
        "number, parameter_values, state, objective, metrics, started_at, ended_at, exit_code,"
        " failure_reason, stderr_tail, stdout_path, stderr_path, attempts,"
        " (SELECT COUNT(*) FROM intermediate_values i WHERE i.number = trials.number),"
        " (SELECT step FROM intermediate_values i WHERE i.number = trials.number ORDER BY seq DESC LIMIT 1)"
    )

    @staticmethod
    def _record(row: tuple[Any, ...]) -> TrialRecord:
        return TrialRecord(
            number=row[0],
            values=json.loads(row[1]),
            state=TrialState(row[2]),
            objective=row[3],
            metrics=json.loads(row[4]),
            started_at=row[5],
            ended_at=row[6],
            exit_code=row[7],
            failure_reason=row[8],
            stderr_tail=row[9] or "",
            stdout_path=row[10],
            stderr_path=row[11],
            attempts=row[12],
            steps_run=row[13],
            step_reached=row[14],
        )

    def trials(self, states: Sequence[TrialState] | None = None, *, with_metrics: bool = True) -> list[TrialRecord]:
        """Every trial (or those in ``states``), by number; without ``with_metrics``, each with empty ``metrics`` (not read)."""
        columns = self._COLUMNS if with_metrics else self._COLUMNS.replace(" metrics,", " '{}',", 1)
        sql = f"SELECT {columns} FROM trials"
        params: tuple[Any, ...] = ()
        if states is not None:
            sql += f" WHERE state IN ({', '.join('?' for _ in states)})"
            params = tuple(TrialState(s).value for s in states)
        try:
            rows = self._db.execute(sql + " ORDER BY number", params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the result store {self.path_in(self.folder)}: {exc}") from exc
        return [self._record(row) for row in rows]

    def trial(self, number: int) -> TrialRecord | None:
        row = self._db.execute(f"SELECT {self._COLUMNS} FROM trials WHERE number = ?", (number,)).fetchone()
        return None if row is None else self._record(row)

    def __iter__(self) -> Iterator[TrialRecord]:
        return iter(self.trials())

    def finished_count(self) -> int:
        return self._db.execute(
            "SELECT COUNT(*) FROM trials WHERE state IN (?, ?, ?)",
            (TrialState.COMPLETE.value, TrialState.FAILED.value, TrialState.PRUNED.value),
        ).fetchone()[0]

    def next_number(self) -> int:
        """The number of the next new trial: one past the highest recorded (0 for an empty store)."""
        value = self._db.execute("SELECT MAX(number) FROM trials").fetchone()[0]
        return 0 if value is None else value + 1

    def trial_dir(self, number: int) -> Path:
        return self.folder / "trials" / str(number)

    # -- writing (one transaction each) ----------------------------------------------
    def record_running(self, number: int, values: Mapping[str, Any], started_at: float | None = None) -> None:
        """Record that trial ``number`` is about to be launched.

        A new number is inserted; an ``INTERRUPTED`` (or stale ``RUNNING``) trial being rerun
        keeps its number and values and counts one more attempt. A finished trial is never
        overwritten: that is a :class:`StoreError`.
        """
        started = time.time() if started_at is None else started_at
        try:
            with self._transaction():
                row = self._db.execute("SELECT state FROM trials WHERE number = ?", (number,)).fetchone()
                if row is None:
                    self._db.execute(
                        "INSERT INTO trials (number, parameter_values, state, started_at) VALUES (?, ?, ?, ?)",
                        (number, dumps_json(values), TrialState.RUNNING.value, started),
                    )
                elif TrialState(row[0]) in FINISHED_STATES:
                    raise StoreError(f"trial {number} is already finished ({row[0]}); it is never rerun")
                else:
                    self._db.execute("DELETE FROM intermediate_values WHERE number = ?", (number,))
                    self._db.execute(
                        "UPDATE trials SET state = ?, started_at = ?, ended_at = NULL, objective = NULL, metrics = '{}',"
                        " exit_code = NULL, failure_reason = NULL, stderr_tail = '', attempts = attempts + 1"
                        " WHERE number = ?",
                        (TrialState.RUNNING.value, started, number),
                    )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to the result store {self.path_in(self.folder)}: {exc}") from exc

    def record_outcome(self, outcome: TrialOutcome, state: TrialState | None = None, failure_reason: str | None = None) -> TrialRecord:
        """Store what became of a trial (``state``/``failure_reason`` override the outcome's)."""
        state = TrialState(state or outcome.state)
        objective = outcome.objective
        if objective is not None and not math.isfinite(objective):
            objective = None
        reason = failure_reason if failure_reason is not None else outcome.failure_reason
        updated = self._write(
            "UPDATE trials SET state = ?, objective = ?, metrics = ?, started_at = COALESCE(?, started_at), ended_at = ?,"
            " exit_code = ?, failure_reason = ?, stderr_tail = ?, stdout_path = ?, stderr_path = ? WHERE number = ? AND state = 'running'",
            (
                state.value,
                objective if state in (TrialState.COMPLETE, TrialState.PRUNED) else None,
                dumps_json(dict(outcome.metrics)),
                outcome.started_at or None,
                outcome.ended_at,
                outcome.exit_code,
                reason,
                outcome.stderr_tail or "",
                str(outcome.stdout_path) if outcome.stdout_path else None,
                str(outcome.stderr_path) if outcome.stderr_path else None,
                outcome.number,
            ),
        )
        if updated != 1:
            earlier = self.trial(outcome.number)
            if earlier is None:
                raise StoreError(f"trial {outcome.number} was never recorded as running")
            raise StoreError(f"trial {outcome.number} is {earlier.state.value} already: a finished trial's record never changes")
        record = self.trial(outcome.number)
        assert record is not None
        return record

    def mark_interrupted(self, reason: str = "interrupted", numbers: Sequence[int] | None = None) -> list[int]:
        """Turn ``RUNNING`` trials (all, or ``numbers``) into ``INTERRUPTED``; returns their numbers."""
        try:
            with self._transaction():
                sql = "SELECT number FROM trials WHERE state = ?"
                params: tuple[Any, ...] = (TrialState.RUNNING.value,)
                if numbers is not None:
                    sql += f" AND number IN ({', '.join('?' for _ in numbers)})"
                    params += tuple(numbers)
                found = [row[0] for row in self._db.execute(sql, params).fetchall()]
                for number in found:
                    self._db.execute(
                        "UPDATE trials SET state = ?, failure_reason = ?, ended_at = COALESCE(ended_at, ?) WHERE number = ?",
                        (TrialState.INTERRUPTED.value, reason, time.time(), number),
                    )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to the result store {self.path_in(self.folder)}: {exc}") from exc
        return found

    def update_budget(self, budget: int) -> None:
        """Record a new ``num_optimizer_steps`` (a resumed run whose manifest changed it)."""
        self._write("UPDATE experiment SET budget = ? WHERE id = 1", (budget,))
