"""An Optuna storage kept in step with hpo's stores, for the dashboard.

:class:`StoreMirror` reads each store with a read-only SQLite connection
(:meth:`ResultStore.open_read_only`: it never writes hpo's files, and a store being written
by ``hpo run`` is read between its transactions) and adds to the Optuna storage what changed
since the last :meth:`StoreMirror.sync`: new trials (running ones as RUNNING with their
values) and trials that finished since. A poll where SQLite's ``data_version`` did not move
reads nothing. A change Optuna cannot express (a finished trial rerun by ``hpo run --resume``)
rebuilds that store's study. New stores appearing under a watched folder are picked up.

:func:`run_mirror` is the background loop (a daemon thread calls it; it stops when the
given ``threading.Event`` is set). Conversion is :mod:`hpo_engine.runner.optuna_export`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpo_engine.errors import HpoError, StoreError
from hpo_engine.runner.store import STORE_FILENAME, ResultStore, TrialRecord
from hpo_engine.runner.trial_state import TrialState

if TYPE_CHECKING:
    import optuna

__all__ = ["StoreMirror", "run_mirror", "DEFAULT_INTERVAL"]

#: Seconds between two polls of the stores (a poll where nothing was committed is one PRAGMA query per store).
DEFAULT_INTERVAL = 0.25


@dataclass
class _Mirrored:
    """One store as mirrored: its read-only connection, study id, and trial number -> (trial id, state)."""

    store: ResultStore
    study_id: int
    name: str
    version: int = -1
    trials: dict[int, tuple[int, TrialState]] = field(default_factory=dict)


class StoreMirror:
    """Mirrors the stores under ``paths`` (store folders or folders holding stores) into ``storage``."""

    def __init__(self, storage: "optuna.storages.BaseStorage", paths: list[Path]) -> None:
        self.storage = storage
        self.paths = [Path(p) for p in paths]
        self._stores: dict[Path, _Mirrored] = {}
        #: How many :meth:`sync` calls changed the storage (0 before the first): readers of the
        #: storage that cache what they read (the dashboard) compare it to know when to read again.
        self.generation = 0

    def store_folders(self) -> list[Path]:
        """The store folders under the watched paths now (a store created since the last call included)."""
        found: list[Path] = []
        for path in self.paths:
            if ResultStore.exists(path):
                found.append(path)
            elif path.is_dir():
                found += sorted(p.parent for pattern in (f"*/{STORE_FILENAME}", f"*/*/{STORE_FILENAME}") for p in path.glob(pattern))
        return list(dict.fromkeys(found))

    @property
    def study_names(self) -> list[str]:
        return [m.name for m in self._stores.values()]

    def study_id_of(self, folder: Path) -> int | None:
        """The Optuna study id the store in ``folder`` is mirrored to (``None`` before its first sync)."""
        mirrored = self._stores.get(Path(folder))
        return None if mirrored is None else mirrored.study_id

    def sync(self) -> int:
        """Bring the storage up to date; returns how many trials were added or finished."""
        changes = 0
        for folder in self.store_folders():
            mirrored = self._stores.get(folder)
            if mirrored is None:
                mirrored = self._start(folder)
                if mirrored is None:
                    continue
            changes += self._sync_store(mirrored)
        if changes:
            self.generation += 1
        return changes

    def _start(self, folder: Path) -> _Mirrored | None:
        from hpo_engine.runner.optuna_export import add_store_to_storage, study_name

        try:
            store = ResultStore.open_read_only(folder)
        except StoreError:
            return None  # being created right now, or not a store: tried again next poll
        experiment = store.experiment
        name = study_name(experiment)
        taken = set(self.study_names)
        if name in taken:  # two results roots with the same experiment/reference
            name = f"{name} ({folder})"
        study_id = add_store_to_storage(self.storage, experiment, [], name=name)
        mirrored = _Mirrored(store, study_id, name)
        self._stores[folder] = mirrored
        return mirrored

    def _sync_store(self, mirrored: _Mirrored) -> int:
        from hpo_engine.runner.optuna_export import distributions_for, frozen_trial

        version = mirrored.store.data_version()
        if version == mirrored.version:
            return 0
        experiment = mirrored.store.experiment
        trials = mirrored.store.trials()
        mirrored.version = version
        distributions = distributions_for(experiment)
        if any(self._needs_rebuild(mirrored, t) for t in trials):
            self._rebuild(mirrored)
        changes = 0
        for trial in trials:
            known = mirrored.trials.get(trial.number)
            if known is not None and known[1] is trial.state:
                continue
            template = frozen_trial(trial, experiment, distributions)
            if known is None:
                trial_id = self.storage.create_new_trial(mirrored.study_id, template_trial=template)
            else:
                trial_id = known[0]
                self._finish(trial_id, template)
            mirrored.trials[trial.number] = (trial_id, trial.state)
            changes += 1
        return changes

    @staticmethod
    def _needs_rebuild(mirrored: _Mirrored, trial: TrialRecord) -> bool:
        known = mirrored.trials.get(trial.number)
        return known is not None and known[1] is not trial.state and known[1] is not TrialState.RUNNING

    def _rebuild(self, mirrored: _Mirrored) -> None:
        from hpo_engine.runner.optuna_export import add_store_to_storage

        self.storage.delete_study(mirrored.study_id)
        mirrored.study_id = add_store_to_storage(self.storage, mirrored.store.experiment, [], name=mirrored.name)
        mirrored.trials.clear()

    def _finish(self, trial_id: int, template: Any) -> None:
        """A mirrored RUNNING trial that ended: its curve, attributes, then its state and value."""
        for step, value in template.intermediate_values.items():
            self.storage.set_trial_intermediate_value(trial_id, step, value)
        for key, value in template.user_attrs.items():
            self.storage.set_trial_user_attr(trial_id, key, value)
        values = None if template.value is None else [template.value]
        self.storage.set_trial_state_values(trial_id, template.state, values)

    def close(self) -> None:
        for mirrored in self._stores.values():
            mirrored.store.close()
        self._stores.clear()


def run_mirror(
    mirror: StoreMirror,
    stop: threading.Event,
    *,
    interval: float = DEFAULT_INTERVAL,
    on_error: Callable[[Exception], None] | None = None,
) -> None:
    """Call :meth:`StoreMirror.sync` every ``interval`` seconds until ``stop`` is set.

    An error of one poll (e.g. a store locked for longer than the busy timeout) is passed to
    ``on_error`` (once while it repeats) and the next poll tries again.
    """
    last_error = ""
    while not stop.is_set():
        try:
            mirror.sync()
            last_error = ""
        except (HpoError, OSError) as exc:
            if on_error is not None and str(exc) != last_error:  # once per distinct error, not every poll
                on_error(exc)
            last_error = str(exc)
        stop.wait(interval)
