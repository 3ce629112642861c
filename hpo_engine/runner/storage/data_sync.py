"""Training data from S3: a local cache synced once per run, fetching only changed objects.

The cache of a source is ``<cache>/<bucket>-<hash of endpoint, bucket, prefix>/files/``;
beside it ``index.json`` maps each key (relative to the prefix) to the ETag and size
(bytes) it was fetched with. A sync lists the prefix, downloads objects whose ETag or
size differ (each through a temporary file, renamed into place), and removes files whose
objects are gone. A lock file keeps two runs from syncing the same cache at once.
Keys that would leave the cache folder (``..``, absolute) are refused.

With a ``run_token`` (one per ``hpo run``; the Ray backend's trials pass theirs) a cache
is synced once per run on each machine: the first sync leaves ``synced-<token>`` beside
the index, and later calls of the same run, from any process of that machine, see it
under the lock and use the files without asking the server again.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hpo_engine.errors import StorageError
from hpo_engine.runner.storage.config import S3Location, cache_root

__all__ = ["NodeData", "SyncResult", "sync_data", "check_listable", "data_cache_folder"]


@dataclass(frozen=True, slots=True)
class SyncResult:
    """Where the data is and how many objects were ``fetched`` / ``reused`` / ``removed``."""

    folder: Path
    fetched: int
    reused: int
    removed: int


@dataclass(frozen=True, slots=True)
class NodeData:
    """Training data that each machine running trials syncs into its own cache, once per run.

    Given to a backend whose trials run on other machines (Ray): the trial's task calls
    :meth:`sync` on its node before the trial starts. ``location`` holds the resolved
    credentials (never shown: :class:`~hpo_engine.runner.storage.config.S3Connection`
    keeps them out of its ``repr``); ``run_token`` is unique to the ``hpo run``.
    """

    location: S3Location
    run_token: str

    def sync(self) -> SyncResult:
        """Sync into this machine's ``cache_root()/data`` (first call of the run on this machine; later ones reuse)."""
        return sync_data(self.location, cache_root() / "data", run_token=self.run_token)


def data_cache_folder(location: S3Location, cache: Path) -> Path:
    """The cache folder of ``location`` under ``cache`` (its data is in ``files/``)."""
    identity = f"{location.connection.endpoint_url or 'aws'}|{location.bucket}|{location.prefix}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return Path(cache) / f"{location.bucket}-{digest}"


def _relative(key: str, prefix: str) -> PurePosixPath | None:
    name = key[len(prefix):] if prefix and key.startswith(prefix) else key
    if not name or name.endswith("/"):
        return None  # a "folder" marker object
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("..", ".", "") for part in path.parts) or "\\" in name:
        raise StorageError(f"training data object {key!r} would be written outside the data folder; refused")
    return path


def sync_data(location: S3Location, cache: Path, *, run_token: str | None = None) -> SyncResult:
    """Bring the cache of ``location`` up to date and return its ``files/`` folder.

    ``run_token``: see the module docstring (an already synced run counts every file as reused).
    """
    from hpo_engine.runner.storage.s3 import Bucket

    root = data_cache_folder(location, cache)
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    marker = root / f"synced-{_safe_token(run_token)}" if run_token else None
    with open(root / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        index_path = root / "index.json"
        if marker is not None and marker.is_file() and index_path.is_file():
            try:
                return SyncResult(files, 0, len(json.loads(index_path.read_text(encoding="utf-8"))), 0)
            except ValueError:
                pass  # a torn index: sync again
        try:
            index = json.loads(index_path.read_text(encoding="utf-8")) if index_path.is_file() else {}
        except ValueError:
            index = {}
        bucket = Bucket(location)
        prefix = location.prefix + "/" if location.prefix else ""
        wanted: dict[str, dict[str, object]] = {}
        fetched = reused = 0
        try:
            for info in bucket.list(prefix):
                relative = _relative(info.key, prefix)
                if relative is None:
                    continue
                name = relative.as_posix()
                wanted[name] = {"etag": info.etag, "size": info.size}
                local = files / name
                if index.get(name) == wanted[name] and local.is_file() and local.stat().st_size == info.size:
                    reused += 1
                    continue
                bucket.get_file(info.key, local)
                fetched += 1
                index[name] = wanted[name]
                _write_index(index_path, index)  # progress survives an interrupted sync
        except StorageError as exc:
            raise StorageError(f"cannot sync training data from {location.url}: {exc}") from None
        removed = 0
        for name in sorted(set(index) - set(wanted)):
            (files / name).unlink(missing_ok=True)
            del index[name]
            removed += 1
        _write_index(index_path, index)
        if marker is not None:
            for old in root.glob("synced-*"):
                old.unlink(missing_ok=True)
            marker.touch()
    return SyncResult(files, fetched, reused, removed)


def check_listable(location: S3Location) -> None:
    """Raise :class:`StorageError` unless the first page of ``location``'s objects can be listed (one request)."""
    from hpo_engine.runner.storage.s3 import Bucket

    prefix = location.prefix + "/" if location.prefix else ""
    try:
        next(iter(Bucket(location).list(prefix)), None)
    except StorageError as exc:
        raise StorageError(f"cannot read training data from {location.url}: {exc}") from None


def _safe_token(token: str) -> str:
    return "".join(c for c in token if c.isalnum() or c in "-_")[:64] or "run"


def _write_index(path: Path, index: dict) -> None:
    partial = path.with_suffix(".json.part")
    partial.write_text(json.dumps(index, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)
