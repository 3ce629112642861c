"""The trial's working folder: a copy of the training definition, ``config.json`` and output folders.

Layout of ``spec.trial_dir`` (the program's current folder)::

    <definition files>      from the training definition folder: a read-only file is
                            hard-linked (the run's snapshot, see snapshot_definition, holds
                            only read-only files), any other file copied
    config.json             the trial's hyper-parameter values
    result/                 $RESULT_DIR   (val_dict_list.json goes here)
    logs/                   $LOG_DIR      (emetrics writes logs/<SUBID>/evaluation-metrics.txt)
    job-state/              $JOB_STATE_DIR
    command.txt             the command as run, after ${VAR} expansion
    stdout.log, stderr.log  the program's output streams
    hpo-exit.json           how the command ended (written by the trial launcher)

When the trial has ended, :func:`compact_trial_dir` removes the output folders and log files
it left empty, so a trial folder holds what the trial produced and nothing else.
"""

from __future__ import annotations

import json
import numbers
import os
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo_engine.errors import TrialError

__all__ = ["TrialPaths", "trial_paths", "prepare_trial_dir", "config_values", "write_config", "snapshot_definition", "compact_trial_dir"]

#: Folders never copied from a training definition.
_NOT_COPIED = frozenset({"__pycache__", ".git", ".hg", ".svn"})


@dataclass(frozen=True, slots=True)
class TrialPaths:
    """Where a trial's files are; every path is inside ``trial_dir``."""

    trial_dir: Path
    config_path: Path
    result_dir: Path
    log_dir: Path
    job_state_dir: Path
    command_path: Path
    stdout_path: Path
    stderr_path: Path
    exit_status_path: Path


def trial_paths(trial_dir: Path) -> TrialPaths:
    """The standard layout of the trial folder ``trial_dir`` (nothing is created)."""
    trial_dir = Path(trial_dir).absolute()
    return TrialPaths(
        trial_dir=trial_dir,
        config_path=trial_dir / "config.json",
        result_dir=trial_dir / "result",
        log_dir=trial_dir / "logs",
        job_state_dir=trial_dir / "job-state",
        command_path=trial_dir / "command.txt",
        stdout_path=trial_dir / "stdout.log",
        stderr_path=trial_dir / "stderr.log",
        exit_status_path=trial_dir / "hpo-exit.json",
    )


def prepare_trial_dir(
    trial_dir: Path, definition_dir: Path | None, values: Mapping[str, Any]
) -> TrialPaths:
    """Create the trial folder, copy the definition into it and write ``config.json``.

    Outputs of an earlier run of the same trial (a rerun after an interruption) are
    removed first, so stale metrics are never read. Raises :class:`TrialError` when the
    folder cannot be prepared.
    """
    paths = trial_paths(trial_dir)
    try:
        _remove_previous_outputs(paths)
        paths.trial_dir.mkdir(parents=True, exist_ok=True)
        if definition_dir is not None:
            _copy_definition(Path(definition_dir), paths.trial_dir)
        write_config(paths.config_path, values)
        for folder in (paths.result_dir, paths.log_dir, paths.job_state_dir):
            folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrialError(f"cannot prepare trial folder {paths.trial_dir}: {exc}") from exc
    return paths


def config_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain JSON values: ints stay ints, floats floats, strings strings (numpy scalars converted)."""
    return {str(name): _plain_value(name, value) for name, value in values.items()}


def write_config(path: Path, values: Mapping[str, Any]) -> None:
    """Write ``config.json``: a JSON object of hyper-parameter name -> value."""
    Path(path).write_text(json.dumps(config_values(values), indent=2) + "\n", encoding="utf-8")


def _plain_value(name: str, value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)  # numpy scalars not registered as numbers
    if callable(item):
        return _plain_value(name, item())
    raise TrialError(f"hyper-parameter {name!r}: value {value!r} cannot be written to config.json")


def _remove_previous_outputs(paths: TrialPaths) -> None:
    if not paths.trial_dir.exists():
        return  # a first run: nothing to remove
    for folder in (paths.result_dir, paths.log_dir, paths.job_state_dir):
        shutil.rmtree(folder, ignore_errors=True)  # an ended launcher may be removing it if empty
    for file in (paths.config_path, paths.command_path, paths.stdout_path, paths.stderr_path, paths.exit_status_path):
        file.unlink(missing_ok=True)


def _copy_definition(definition_dir: Path, trial_dir: Path) -> None:
    """Copy the definition, skipping VCS/cache folders and any folder that contains ``trial_dir``.

    The last rule matters when the results folder lies inside the definition folder
    (``training_definition_url: .`` with ``./hpo-results``): trials are never copied into trials.

    Symbolic links are copied as links, never followed: a link to a file or folder inside
    the definition stays as it is (it points into the copy), a link that leads outside it
    becomes a link to the absolute path it leads to. So nothing outside the definition is
    copied into a trial, and a link to a parent folder (``up -> ..``) is not a loop.
    """
    if not definition_dir.is_dir():
        raise TrialError(f"training definition folder {definition_dir} does not exist")
    source_root = definition_dir.resolve()
    target = trial_dir.resolve()
    outside: list[tuple[Path, Path]] = []  # (link in the copy, absolute path it leads to)

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {name for name in names if name in _NOT_COPIED}
        base = Path(folder)
        for name in names:
            entry = base / name
            if entry.is_symlink():
                resolved = entry.resolve()
                if resolved != source_root and source_root not in resolved.parents:
                    outside.append((target / entry.relative_to(source_root), resolved))
                    skipped.add(name)
                continue
            if entry.resolve() == target or entry.resolve() in target.parents:
                skipped.add(name)
        return skipped

    shutil.copytree(source_root, target, ignore=ignore, dirs_exist_ok=True, symlinks=True, copy_function=_link_or_copy)
    for link, destination in outside:
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(destination)


def _link_or_copy(source: str, target: str) -> str:
    """Hard-link ``source`` at ``target`` when it is read-only (no write bit), else copy it.

    A link costs no disk and no time; it is only made for a file nobody may write in place, so a
    trial cannot change what another trial runs (a trial that replaces the file, by writing a
    new one and renaming it, gets its own). Trials that run as root are not stopped by a
    missing write bit, so for them every file is copied. Across file systems, or where links
    are refused, the file is copied. An existing ``target`` (a rerun in the same folder) is replaced.
    """
    if os.path.lexists(target):
        os.unlink(target)
    if os.geteuid() != 0 and not os.stat(source).st_mode & 0o222:
        try:
            os.link(source, target)
            return target
        except OSError:
            pass
    return shutil.copy2(source, target)


def snapshot_definition(definition_dir: Path, target: Path) -> Path:
    """Copy the training definition to ``target`` once per run, every file made read-only; returns ``target``.

    Trial folders then hard-link the snapshot's files instead of copying them (see
    :func:`_link_or_copy`): 5,000 trials of a definition of a few files take a few files of
    disk, not 5,000 copies. The snapshot is what this run's trials run: editing the definition
    while the run goes on does not change them. An earlier snapshot is replaced (the trial
    folders made from it keep their files: a hard link is a file). Same copy rules as the trial
    folders (:func:`_copy_definition`). Raises :class:`TrialError` when it cannot be made.
    """
    target = Path(target)
    staging = target.with_name(f".{target.name}-{os.getpid()}")
    old = target.with_name(f".{target.name}-old-{os.getpid()}")
    try:
        for leftover in (staging, old):
            if leftover.exists():
                shutil.rmtree(leftover)
        staging.mkdir(parents=True)
        _copy_definition(Path(definition_dir), staging)
        for folder, _dirs, files in os.walk(staging):
            for name in files:
                path = os.path.join(folder, name)
                mode = os.lstat(path).st_mode
                if stat.S_ISREG(mode):
                    os.chmod(path, stat.S_IMODE(mode) & ~0o222)
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        if old.exists():
            shutil.rmtree(old)
    except OSError as exc:
        raise TrialError(f"cannot copy the training definition {definition_dir} to {target}: {exc}") from exc
    return target


def compact_trial_dir(paths: TrialPaths, *, folders: bool = True) -> None:
    """Remove what an ended trial left empty: the log files and (``folders``) ``result/``, ``logs/``, ``job-state/``.

    Best effort: a folder that holds anything, or that cannot be removed, stays.
    """
    for file in (paths.stdout_path, paths.stderr_path):
        try:
            if file.stat().st_size == 0:
                file.unlink()
        except OSError:
            pass
    for folder in (paths.result_dir, paths.log_dir, paths.job_state_dir) if folders else ():
        try:
            folder.rmdir()  # only when empty
        except OSError:
            pass
