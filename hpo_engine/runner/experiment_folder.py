"""A reference's results folder: its lock, its store opened or created for a run, trials set aside.

:func:`locked` holds the folder's lock file (one ``hpo run`` per store at a time);
:func:`experiment_record` / :func:`check_same_experiment` / :func:`open_store` create the store
or reopen it for ``--resume`` (refusing a manifest whose experiment changed);
:func:`stop_orphans` ends trials a killed run left running; :func:`set_aside` moves an
interrupted trial's folder away before it is rerun.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from hpo_engine.errors import StoreError
from hpo_engine.manifest.model import Manifest, TrainingReference
from hpo_engine.runner.store import (
    ExperimentRecord,
    ResultStore,
    space_to_specs,
)
from hpo_engine.runner.run_control import Reporter


LOCK_FILENAME = ".lock"


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold ``<folder>/.lock`` (released by the OS even on SIGKILL)."""
    import fcntl

    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / LOCK_FILENAME, "a+")
    except OSError as exc:
        raise StoreError(f"cannot write to the results folder {folder}: {exc.strerror or exc} (pass --results DIR for a writable folder)") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise StoreError(f"another `hpo run` is using {folder}; wait for it to finish or stop it") from None
            raise
        yield
    finally:
        handle.close()


def experiment_record(manifest: Manifest, reference: TrainingReference, seed: int | None) -> ExperimentRecord:
    assert reference.optimization is not None
    method = reference.optimization.method
    return ExperimentRecord(
        experiment=manifest.settings.name,
        reference=reference.name,
        method=method.name,
        objective=method.objective,
        maximize=method.maximize,
        budget=method.num_optimizer_steps,
        search_space=tuple(space_to_specs(reference.optimization.space)),
        manifest_path=str(manifest.source_path.resolve()) if manifest.source_path else None,
        seed=seed,
        compute_configuration={
            "name": reference.compute_configuration.name,
            "nodes": reference.compute_configuration.nodes,
        },
        created_at=time.time(),
    )


def check_same_experiment(stored: ExperimentRecord, current: ExperimentRecord, folder: Path) -> None:
    changed = [
        what
        for what, a, b in (
            ("method", stored.method, current.method),
            ("objective", stored.objective, current.objective),
            ("maximize_or_minimize", stored.direction, current.direction),
            ("hyper_parameters", list(stored.search_space), list(current.search_space)),
        )
        if a != b
    ]
    if changed:
        raise StoreError(
            f"cannot resume {folder}: the manifest's {', '.join(changed)} changed since those trials ran; "
            "pass --results DIR to start a new experiment elsewhere"
        )


def open_store(folder: Path, record: ExperimentRecord, resume: bool, reporter: Reporter) -> ResultStore:
    if ResultStore.exists(folder):
        if not resume:
            raise StoreError(
                f"results of experiment {record.experiment!r}, reference {record.reference!r} already exist in {folder}: "
                "pass --resume to continue them, or --results DIR to start afresh elsewhere"
            )
        store = ResultStore.open(folder)
        try:
            stored = store.experiment
            check_same_experiment(stored, record, folder)
            if stored.budget != record.budget:
                reporter.note(f"num_optimizer_steps changed from {stored.budget} to {record.budget}")
                store.update_budget(record.budget)
        except BaseException:
            store.close()
            raise
        return store
    if resume:
        reporter.note(f"nothing to resume in {folder}: starting a new experiment")
    return ResultStore.create(folder, record)


def stop_orphans(folder: Path) -> list[int]:
    """Kill processes still working in ``folder`` (trials orphaned by a SIGKILLed ``hpo run``).

    Trials run in their own process groups, so killing ``hpo run`` leaves them running.
    On Linux they are found by their working folder (``/proc/<pid>/cwd``); elsewhere this
    does nothing. Returns the pids signalled.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    target = folder.resolve()
    killed = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd == target or target in cwd.parents:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
            except OSError:
                pass
    return killed


def set_aside(store: ResultStore, number: int) -> None:
    """Move an interrupted attempt's folder to ``interrupted/<number>-<attempt>`` so its files cannot be mistaken for the rerun's.

    Processes of that attempt still running (orphans of a killed run) are stopped first.
    """
    folder = store.trial_dir(number)
    if not folder.exists():
        return
    stop_orphans(folder)
    record = store.trial(number)
    attempt = record.attempts if record else 1
    target = store.folder / "interrupted" / f"{number}-attempt{attempt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    folder.rename(target)
