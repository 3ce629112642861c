"""Training data from S3: a local cache synced once per run, fetching only changed objects.

The cache of a source is ``<cache>/<bucket>-<hash of endpoint, bucket, prefix>/files/``;
beside it ``index.json`` maps each key (relative to the prefix) to the ETag and size
(bytes) it was fetched with. A sync lists the prefix, downloads objects whose ETag or
size differ (each through a temporary file, renamed into place), and removes files whose
objects are gone. A lock file keeps two runs from syncing the same cache at once.
Keys that would leave the cache folder (``..``, absolute) are refused.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hpo_engine.errors import StorageError
from hpo_engine.runner.storage.config import S3Location

__all__ = ["SyncResult", "sync_data", "data_cache_folder"]


@dataclass(frozen=True, slots=True)
class SyncResult:
    """Where the data is and how many objects were ``fetched`` / ``reused`` / ``removed``."""

    folder: Path
    fetched: int
    reused: int
    removed: int


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


def sync_data(location: S3Location, cache: Path) -> SyncResult:
    """Bring the cache of ``location`` up to date and return its ``files/`` folder."""
    from hpo_engine.runner.storage.s3 import Bucket

    root = data_cache_folder(location, cache)
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        index_path = root / "index.json"
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
    return SyncResult(files, fetched, reused, removed)


def _write_index(path: Path, index: dict) -> None:
    partial = path.with_suffix(".json.part")
    partial.write_text(json.dumps(index, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)
