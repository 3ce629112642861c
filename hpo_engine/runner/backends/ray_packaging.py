"""Move files between the driver and Ray workers as zip archives in memory (no shared file system).

Two directions:

* the training definition goes out once per run: :func:`pack_definition` zips the folder
  on the driver (skipping what :mod:`hpo_engine.runner.trials.workdir` never copies, and the
  results folder when it lies inside the definition); the backend puts the bytes in the
  object store once, and each node extracts them once with :func:`unpack_definition`
  (a cache folder named after the archive's SHA-256);
* each trial's outputs come back: :func:`pack_outputs` zips the files listed in
  :data:`TRIAL_OUTPUTS` of the worker's trial folder; the driver writes them into the
  trial folder of the results with :func:`unpack_outputs`.

File modes (the executable bit) are kept; archives whose members would land outside
their folder are refused with :class:`~hpo_engine.errors.TrialError`.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tempfile
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from hpo_engine.errors import TrialError

__all__ = [
    "TRIAL_OUTPUTS",
    "NOT_PACKED",
    "CACHE_DAYS",
    "pack_definition",
    "unpack_definition",
    "pack_outputs",
    "unpack_outputs",
    "worker_root",
]

#: What comes back from a worker's trial folder: the files and folders the trial contract defines.
TRIAL_OUTPUTS: tuple[str, ...] = (
    "config.json",
    "command.txt",
    "stdout.log",
    "stderr.log",
    "result",
    "logs",
    "job-state",
)
#: Folder names never packed from a training definition (as ``trials.workdir`` never copies them).
NOT_PACKED = frozenset({"__pycache__", ".git", ".hg", ".svn"})
#: A node deletes an extracted definition that no trial used for this many days.
CACHE_DAYS = 7
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def worker_root() -> Path:
    """This machine's folder for definitions and trial folders of Ray trials (under the temp folder)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"hpo-ray-{uid}"


def pack_definition(definition_dir: Path, *, exclude: Iterable[Path] = ()) -> bytes:
    """Zip the training definition folder; folders that are or contain a path of ``exclude`` are skipped.

    ``exclude`` holds the trial folders of the run: a results folder inside the
    definition is never shipped. Symbolic links are followed, as when copying.
    Raises :class:`TrialError` when the folder cannot be read.
    """
    root = Path(definition_dir).resolve()
    excluded = [Path(path).resolve() for path in exclude]

    def skipped(folder: Path) -> bool:
        return any(folder == path or folder in path.parents for path in excluded)

    buffer = io.BytesIO()
    try:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bundle:
            for folder, names, files in os.walk(root, followlinks=True):
                base = Path(folder)
                names[:] = sorted(n for n in names if n not in NOT_PACKED and not skipped(base / n))
                for name in sorted(files):
                    path = base / name
                    _write_stable(bundle, path, path.relative_to(root).as_posix())
    except OSError as exc:
        raise TrialError(f"cannot pack training definition {root}: {exc}") from exc
    return buffer.getvalue()


def unpack_definition(data: bytes, cache_dir: Path) -> Path:
    """Extract a packed definition into ``cache_dir/<sha256 prefix>`` once; return that folder.

    Extraction goes to a staging folder renamed into place, so trials running at the same
    time on one node never see a half-extracted definition. Each use touches the folder;
    folders unused for :data:`CACHE_DAYS` days are deleted when a new one is extracted
    (a running trial works on its own copy, never on the cache).
    """
    target = Path(cache_dir) / hashlib.sha256(data).hexdigest()[:20]
    if target.is_dir():
        try:
            os.utime(target)
        except OSError:
            pass
        return target
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    _prune(Path(cache_dir), CACHE_DAYS * 86400.0)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=cache_dir))
    try:
        _extract(data, staging, what="training definition")
        try:
            os.replace(staging, target)
        except OSError:
            if not target.is_dir():  # not another trial that won the race
                raise
    except OSError as exc:
        raise TrialError(f"cannot extract the training definition into {target}: {exc}") from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _write_stable(bundle: zipfile.ZipFile, path: Path, name: str) -> None:
    """Add file ``path`` as ``name`` with a fixed date: the same folder always gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
    info.external_attr = (stat.S_IMODE(path.stat().st_mode) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(path, "rb") as source, bundle.open(info, "w") as target:
        shutil.copyfileobj(source, target, 1 << 20)


def _prune(cache_dir: Path, max_age: float) -> None:
    """Delete the cache folders of ``cache_dir`` not used for ``max_age`` seconds."""
    limit = time.time() - max_age
    for entry in cache_dir.iterdir():
        try:
            if entry.is_dir() and not entry.name.startswith(".") and entry.stat().st_mtime < limit:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass


def pack_outputs(trial_dir: Path) -> bytes:
    """Zip the :data:`TRIAL_OUTPUTS` found in ``trial_dir`` (missing ones are skipped)."""
    root = Path(trial_dir)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bundle:
        for name in TRIAL_OUTPUTS:
            path = root / name
            if path.is_file():
                bundle.write(path, name)
            elif path.is_dir():
                bundle.write(path, name)  # keep empty folders
                for folder, names, files in os.walk(path):
                    names.sort()
                    for entry in sorted(names) + sorted(files):
                        member = Path(folder) / entry
                        if member.is_file() or member.is_dir():
                            bundle.write(member, member.relative_to(root).as_posix())
    return buffer.getvalue()


def unpack_outputs(data: bytes, trial_dir: Path) -> None:
    """Write a trial's packed outputs into ``trial_dir``, replacing the outputs of an earlier run."""
    root = Path(trial_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        for name in TRIAL_OUTPUTS:
            path = root / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
        if data:
            _extract(data, root, what="trial outputs")
    except OSError as exc:
        raise TrialError(f"cannot write the trial's outputs into {root}: {exc}") from exc


def _extract(data: bytes, destination: Path, *, what: str) -> None:
    """Extract the zip ``data`` into ``destination``, keeping file modes; refuse escaping members."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            members = bundle.infolist()
            for info in members:
                name = PurePosixPath(info.filename.replace("\\", "/"))
                if name.is_absolute() or ".." in name.parts:
                    raise TrialError(f"{what}: member {info.filename!r} would land outside its folder")
            for info in members:
                path = Path(bundle.extract(info, destination))
                mode = (info.external_attr >> 16) & 0o7777
                if mode and not info.is_dir():
                    os.chmod(path, mode | stat.S_IRUSR | stat.S_IWUSR)
    except zipfile.BadZipFile as exc:
        raise TrialError(f"{what}: not a valid archive: {exc}") from exc
