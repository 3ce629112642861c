"""The background upload queue and its crash-safe journal.

:class:`UploadJournal` is a JSON-lines file (``uploads.jsonl`` in the store folder):
one line ``{"key": ..., "sha256": ..., "size": ...}`` per object whose upload the
server acknowledged, written (and flushed to the operating system) right after it, so a
killed ``hpo run`` loses no line. The file is fsynced when the queue finishes or closes,
not after every line: as durable as the store itself (SQLite ``synchronous=NORMAL``),
without one disk flush per object on the upload path; a crash of the whole machine may
lose the last lines, and those objects are uploaded again once (same key, same bytes).
A file is *pending* when its key is not in the journal with the file's current sha256,
so a resumed run or ``hpo sync`` uploads exactly what is missing or changed, and nothing
twice. A line torn by a crash is ignored (that object is uploaded again: once, never
lost). The sha256 of a file is computed once per size and modification time.

:class:`UploadQueue` uploads on worker threads, off the trials' path. A transient
error (connection refused, timeout, 5xx) is retried with exponential backoff
(``first_delay_seconds`` doubling up to ``max_delay_seconds``, ``attempts`` tries).
An upload that still fails stays queued locally: the first such failure is reported in
one line; after one, later items get a single try each until an upload succeeds again
(a dead server does not stall the run), and :meth:`UploadQueue.finish` retries them
once more before reporting what is pending.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hpo_engine.errors import StorageError

__all__ = ["Upload", "UploadPolicy", "UploadJournal", "UploadQueue", "file_sha256", "JOURNAL_FILENAME"]

JOURNAL_FILENAME = "uploads.jsonl"


@dataclass(frozen=True, slots=True)
class Upload:
    """Put the local file ``path`` at ``key`` (bucket-relative). ``label`` groups it in messages (e.g. ``trial 3``)."""

    path: Path
    key: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    """How uploads run and retry. Delays are seconds."""

    workers: int = 4
    attempts: int = 5
    first_delay_seconds: float = 0.5
    max_delay_seconds: float = 8.0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class UploadJournal:
    """Which keys were uploaded with which content; see the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._done: dict[str, str] = {}
        self._handle: IO[str] | None = None
        self._hashes: dict[Path, tuple[int, int, str]] = {}  # path -> (size, mtime_ns, sha256)
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                    self._done[str(entry["key"])] = str(entry["sha256"])
                except (ValueError, KeyError, TypeError):
                    continue  # a line torn by a crash

    def is_done(self, key: str, sha256: str) -> bool:
        with self._lock:
            return self._done.get(key) == sha256

    def sha256(self, path: Path) -> str:
        """:func:`file_sha256` of ``path``, computed again only when its size or modification time changed."""
        info = path.stat()
        with self._lock:
            known = self._hashes.get(path)
        if known is not None and known[:2] == (info.st_size, info.st_mtime_ns):
            return known[2]
        digest = file_sha256(path)
        with self._lock:
            self._hashes[path] = (info.st_size, info.st_mtime_ns, digest)
        return digest

    def record(self, key: str, sha256: str, size: int) -> None:
        """Journal one acknowledged upload (written through to the operating system; fsynced by :meth:`sync`)."""
        line = json.dumps({"key": key, "sha256": sha256, "size": size}) + "\n"
        with self._lock:
            if self._handle is None:
                self._handle = open(self.path, "a", encoding="utf-8")
            self._handle.write(line)
            self._handle.flush()
            self._done[key] = sha256

    def sync(self) -> None:
        """fsync what was journaled and close the file (reopened by the next :meth:`record`)."""
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            try:
                os.fsync(handle.fileno())
            finally:
                handle.close()

    def pending(self, uploads: Iterable[Upload]) -> list[Upload]:
        """The uploads whose file is not in the journal with its current content."""
        return [u for u in uploads if u.path.is_file() and not self.is_done(u.key, self.sha256(u.path))]


class UploadQueue:
    """Uploads :class:`Upload` items in the background; see the module docstring.

    ``put`` is called as ``put(path, key)`` and raises :class:`StorageError`;
    ``on_first_failure`` receives one line when an upload first fails for good.
    """

    def __init__(
        self,
        put: Callable[[Path, str], None],
        journal: UploadJournal,
        policy: UploadPolicy = UploadPolicy(),
        on_first_failure: Callable[[str], None] = lambda line: None,
    ) -> None:
        self._put = put
        self.journal = journal
        self.policy = policy
        self._on_first_failure = on_first_failure
        self._items: queue.Queue[Upload | None] = queue.Queue()
        self._failed: list[Upload] = []
        self._lock = threading.Lock()
        self._degraded = False
        self._reported = False
        self._closing = threading.Event()
        self.uploaded = 0
        self._threads: list[threading.Thread] = []  # started by the first submit

    def submit(self, uploads: Iterable[Upload]) -> None:
        with self._lock:
            if not self._threads and not self._closing.is_set():
                self._threads = [
                    threading.Thread(target=self._work, name=f"hpo-upload-{i}", daemon=True) for i in range(max(1, self.policy.workers))
                ]
                for thread in self._threads:
                    thread.start()
        for upload in uploads:
            self._items.put(upload)

    def _work(self) -> None:
        while True:
            item = self._items.get()
            try:
                if item is None:
                    return
                if self._closing.is_set():
                    continue  # stopping: left pending (not in the journal)
                self._upload(item, self.policy.attempts if not self._degraded else 1)
            finally:
                self._items.task_done()

    def _upload(self, item: Upload, attempts: int) -> bool:
        if not item.path.is_file():
            return True  # removed meanwhile (a rerun set the folder aside): nothing to keep
        try:
            sha = self.journal.sha256(item.path)
            size = item.path.stat().st_size
        except OSError:
            return True
        if self.journal.is_done(item.key, sha):
            return True
        delay = self.policy.first_delay_seconds
        for attempt in range(1, attempts + 1):
            try:
                try:
                    self._put(item.path, item.key)
                except StorageError:
                    raise
                except Exception as exc:  # never let a worker thread die: that item stays pending
                    raise StorageError(f"cannot upload {item.path.name}: {type(exc).__name__}") from None
            except StorageError as exc:
                if exc.transient and attempt < attempts and not self._closing.is_set():
                    self._closing.wait(delay)
                    delay = min(delay * 2, self.policy.max_delay_seconds)
                    continue
                with self._lock:
                    self._failed.append(item)
                    self._degraded = True
                    first, self._reported = not self._reported, True
                if first:
                    self._on_first_failure(f"upload failed, kept locally and queued: {exc}")
                return False
            self.journal.record(item.key, sha, size)
            with self._lock:
                self.uploaded += 1
                self._degraded = False
            return True
        return False  # pragma: no cover - the loop always returns

    def finish(self) -> list[Upload]:
        """Wait for the queue, retry failed uploads once, stop the workers; return what is pending."""
        if self._threads:
            self._items.join()
        with self._lock:
            failed, self._failed = self._failed, []
        still = [item for item in failed if not self._upload(item, 1)]
        with self._lock:
            self._failed = []
        self.close()
        return still

    def close(self) -> None:
        """Stop the workers (items not uploaded yet stay pending: the journal does not list them)."""
        self._closing.set()
        for _ in self._threads:
            self._items.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        self.journal.sync()
