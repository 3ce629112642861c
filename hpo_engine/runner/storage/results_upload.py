"""Results to S3: which files of a store folder go where, uploaded as trials finish.

Key layout (``<prefix>`` is ``target.prefix``, names as in the results folder)::

    <prefix>/<experiment>/<reference>/trials/<n>/...     a finished trial's whole folder
                                                         (config.json, result/, logs/, stdout.log ...)
    <prefix>/<experiment>/<reference>/trials.sqlite      a consistent snapshot of the store (end of run)
    <prefix>/<experiment>/<reference>/results.json       ``hpo results --format json`` of the store
    <prefix>/<experiment>/<reference>/best_config.json   the best trial's values
    <prefix>/<experiment>/<reference>/optimizer.log

A trial's folder is queued as soon as its outcome is stored (COMPLETE or FAILED);
interrupted attempts, the lock, the store's WAL files and the upload journal stay local.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from hpo_engine.errors import StorageError
from hpo_engine.runner.storage.config import S3Location
from hpo_engine.runner.storage.uploads import JOURNAL_FILENAME, Upload, UploadJournal, UploadPolicy, UploadQueue
from hpo_engine.runner.store import STORE_FILENAME, ResultStore, TrialRecord

__all__ = ["ResultsUploader", "NoUploads", "store_prefix", "trial_uploads", "summary_uploads", "download_stores"]

SNAPSHOT_DIR = ".upload"
SUMMARY_FILES = ("results.json", "best_config.json", "optimizer.log")


def store_prefix(location: S3Location, folder: Path) -> str:
    """``<prefix>/<experiment>/<reference>`` for the store folder ``<root>/<experiment>/<reference>``."""
    folder = Path(folder)
    return location.key(folder.parent.name, folder.name)


def trial_uploads(location: S3Location, folder: Path, number: int) -> list[Upload]:
    """Every file of trial ``number``'s folder (0-based trial number)."""
    base = store_prefix(location, folder)
    trial_dir = Path(folder) / "trials" / str(number)
    if not trial_dir.is_dir():
        return []
    # os.walk, not rglob: the trial's empty folders are removed concurrently once it ended
    # (by the trial launcher, hpo_engine.runner.trials.launcher), and a folder that vanished has nothing to upload.
    paths = [Path(root) / name for root, _dirs, names in os.walk(trial_dir) for name in names]
    return [
        Upload(path, f"{base}/trials/{number}/{path.relative_to(trial_dir).as_posix()}", f"trial {number}")
        for path in sorted(paths)
        if path.is_file() and not path.is_symlink()
    ]


def snapshot_store(folder: Path) -> Path:
    """A consistent copy of the store (SQLite backup API) in ``<folder>/.upload/trials.sqlite``.

    Written as ``trials.sqlite.part`` without fsyncs (``synchronous=OFF``) and renamed when
    complete: a crash leaves a part file that the next snapshot replaces.
    """
    target_dir = Path(folder) / SNAPSHOT_DIR
    target_dir.mkdir(exist_ok=True)
    target = target_dir / STORE_FILENAME
    partial = target_dir / (STORE_FILENAME + ".part")
    source = sqlite3.connect(f"file:{ResultStore.path_in(folder)}?mode=ro", uri=True)
    try:
        partial.unlink(missing_ok=True)
        destination = sqlite3.connect(partial)
        try:
            # a scratch copy, renamed into place when complete: no disk flushes while it is written
            destination.execute("PRAGMA synchronous=OFF")
            source.backup(destination)
            destination.execute("PRAGMA journal_mode=DELETE")
        finally:
            destination.close()
    finally:
        source.close()
    partial.replace(target)
    return target


def summary_uploads(location: S3Location, folder: Path, trials: list[TrialRecord]) -> list[Upload]:
    """The store snapshot, results.json, best_config.json and optimizer.log (written now)."""
    from hpo_engine.runner.results import load_results, results_json

    folder = Path(folder)
    base = store_prefix(location, folder)
    snapshot = snapshot_store(folder)
    summary = folder / SNAPSHOT_DIR / "results.json"
    summary.write_text(results_json([load_results(folder)]) + "\n", encoding="utf-8")
    uploads = [Upload(snapshot, f"{base}/{STORE_FILENAME}", "store"), Upload(summary, f"{base}/results.json", "summary")]
    for name in SUMMARY_FILES[1:]:
        if (folder / name).is_file():
            uploads.append(Upload(folder / name, f"{base}/{name}", "summary"))
    return uploads


class NoUploads:
    """The results stay local (no ``training_results_reference`` of type s3)."""

    def resume(self, trials: Iterable[TrialRecord]) -> None:
        """Nothing to upload."""

    def trial_finished(self, record: TrialRecord) -> None:
        """Nothing to upload."""

    def trials_launched(self) -> None:
        """Nothing to prepare."""

    def finish(self, trials: list[TrialRecord]) -> list[Upload]:
        return []

    def close(self) -> None:
        """Nothing to stop."""


class ResultsUploader(NoUploads):
    """Uploads one store folder's results in the background; ``note(line, warning)`` tells the user."""

    def __init__(
        self,
        location: S3Location,
        folder: Path,
        note: Callable[[str, bool], None],
        policy: UploadPolicy = UploadPolicy(),
    ) -> None:
        self.location = location
        self.folder = Path(folder)
        self._note = note
        self._bucket = None
        self._bucket_lock = threading.Lock()
        self._preparing = threading.Event()
        self.queue = UploadQueue(self._put, UploadJournal(self.folder / JOURNAL_FILENAME), policy, lambda line: note(line, True))

    def _connect(self):
        with self._bucket_lock:
            if self._bucket is None:
                from hpo_engine.runner.storage.s3 import Bucket  # boto3, imported here only

                self._bucket = Bucket(self.location)
            return self._bucket

    def _prepare(self) -> None:
        """Import boto3 and make the client (an error resurfaces at the first upload)."""
        try:
            self._connect()
        except StorageError:
            pass

    def trials_launched(self) -> None:
        """The first trials are running and the scheduler waits: import boto3 and make the client now.

        Not earlier: on the scheduler's way to its first launches (the optimizer's import,
        the first spawns) the import would take the GIL from it and delay the first trials;
        not later: the client is ready when the first trial's files are queued.
        """
        if self._preparing.is_set():  # called at every scheduler wait: once is enough
            return
        self._preparing.set()
        threading.Thread(target=self._prepare, name="hpo-upload-connect", daemon=True).start()

    def _put(self, path: Path, key: str) -> None:
        self._connect().put_file(path, key)

    @property
    def url(self) -> str:
        return f"s3://{self.location.bucket}/{store_prefix(self.location, self.folder)}"

    def resume(self, trials: Iterable[TrialRecord]) -> None:
        """The store is open: queue every finished trial's files not in the journal (the client is made by the first upload)."""
        pending = self.queue.journal.pending(
            u for t in trials if t.finished for u in trial_uploads(self.location, self.folder, t.number)
        )
        if pending:
            labels = sorted({u.label for u in pending}, key=lambda s: (len(s), s))
            self._note(f"uploading {len(pending)} file(s) an earlier run left pending ({', '.join(labels)})", False)
            self.queue.submit(pending)

    def trial_finished(self, record: TrialRecord) -> None:
        if record.finished:
            self.queue.submit(trial_uploads(self.location, self.folder, record.number))

    def finish(self, trials: list[TrialRecord]) -> list[Upload]:
        """Upload the summary, wait for every upload; report and return what is still pending."""
        try:
            self.queue.submit(summary_uploads(self.location, self.folder, trials))
        except (OSError, sqlite3.Error, StorageError) as exc:
            self._note(f"cannot prepare the results summary for upload: {exc}", True)
        self.queue.finish()
        pending = self.queue.journal.pending(self.expected(trials))
        if pending:
            labels = sorted({u.label for u in pending}, key=lambda s: (len(s), s))
            self._note(
                f"{len(pending)} upload(s) to {self.url} pending ({', '.join(labels)}); results are kept locally in "
                f"{self.folder}: run `hpo sync` on the manifest (or `hpo run --resume`) to upload them",
                True,
            )
        else:
            self._note(f"results uploaded to {self.url} ({self.queue.uploaded} file(s) this run)", False)
        return pending

    def sync(self, trials: list[TrialRecord]) -> tuple[int, list[Upload]]:
        """Upload what is pending now (``hpo sync``): returns (files uploaded, still pending).

        The store snapshot and results.json are made again only when the store changed
        since they were made, so an unchanged experiment uploads nothing twice.
        """
        snapshot = self.folder / SNAPSHOT_DIR / STORE_FILENAME
        store_files = [ResultStore.path_in(self.folder), ResultStore.path_in(self.folder).with_name(STORE_FILENAME + "-wal")]
        newest = max((p.stat().st_mtime_ns for p in store_files if p.is_file()), default=0)
        if not snapshot.is_file() or snapshot.stat().st_mtime_ns < newest:
            summary_uploads(self.location, self.folder, trials)
        pending = self.queue.journal.pending(self.expected(trials))
        self.queue.submit(pending)
        still = self.queue.finish()
        still = self.queue.journal.pending(self.expected(trials))
        return len(pending) - len(still), still

    def expected(self, trials: Iterable[TrialRecord]) -> list[Upload]:
        """Every upload the store folder calls for now (finished trials and the summary files as they are)."""
        base = store_prefix(self.location, self.folder)
        uploads = [u for t in trials if t.finished for u in trial_uploads(self.location, self.folder, t.number)]
        snapshot_dir = self.folder / SNAPSHOT_DIR
        for path, key, label in (
            (snapshot_dir / STORE_FILENAME, STORE_FILENAME, "store"),
            (snapshot_dir / "results.json", "results.json", "summary"),
            (self.folder / "best_config.json", "best_config.json", "summary"),
            (self.folder / "optimizer.log", "optimizer.log", "summary"),
        ):
            if path.is_file():
                uploads.append(Upload(path, f"{base}/{key}", label))
        return uploads

    def close(self) -> None:
        self.queue.close()


def download_stores(location: S3Location, into: Path) -> list[tuple[Path, str]]:
    """Download every store snapshot under ``location`` (and its best_config.json) into ``into``.

    Returns ``(local folder, s3 url)`` pairs, sorted by key. Raises :class:`StorageError`
    when there is none.
    """
    from hpo_engine.runner.storage.s3 import Bucket

    bucket = Bucket(location)
    prefix = location.prefix + "/" if location.prefix else ""
    found = []
    for info in bucket.list(prefix):
        name = info.key.rsplit("/", 1)[-1]
        if name != STORE_FILENAME and name != "":
            continue
        parent = info.key[: -len(STORE_FILENAME)].rstrip("/")
        relative = parent[len(prefix):] if parent.startswith(prefix) else parent
        local = Path(into) / (relative or "store")
        if any(part in ("", ".", "..") for part in Path(relative or "store").parts):
            continue
        bucket.get_file(info.key, local / STORE_FILENAME)
        found.append((local, f"s3://{location.bucket}/{parent}"))
    if not found:
        where = f"s3://{location.bucket}/{location.prefix}".rstrip("/")
        raise StorageError(f"{where}: no hpo results here ({STORE_FILENAME} not found under it)")
    return found


def temporary_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="hpo-s3-results-")
