"""The upload queue: retries transient errors with backoff, never retries permanent ones, journals what succeeded."""

from __future__ import annotations

import json
from pathlib import Path

from hpo_engine.errors import StorageError
from hpo_engine.runner.storage.uploads import Upload, UploadJournal, UploadPolicy, UploadQueue

FAST = UploadPolicy(workers=2, attempts=4, first_delay_seconds=0.01, max_delay_seconds=0.02)


def _files(tmp_path: Path, count: int) -> list[Upload]:
    uploads = []
    for index in range(count):
        path = tmp_path / f"f{index}.txt"
        path.write_text(f"content {index}")
        uploads.append(Upload(path, f"k/f{index}.txt", f"trial {index}"))
    return uploads


def test_transient_errors_are_retried_and_success_is_journaled(tmp_path: Path) -> None:
    calls: dict[str, int] = {}
    stored: dict[str, bytes] = {}

    def put(path: Path, key: str) -> None:
        calls[key] = calls.get(key, 0) + 1
        if calls[key] < 3:
            raise StorageError("connection refused", transient=True)
        stored[key] = path.read_bytes()

    journal = UploadJournal(tmp_path / "uploads.jsonl")
    queue = UploadQueue(put, journal, FAST)
    uploads = _files(tmp_path, 3)
    queue.submit(uploads)
    assert queue.finish() == []
    assert calls == {u.key: 3 for u in uploads}
    assert stored == {u.key: u.path.read_bytes() for u in uploads}
    lines = [json.loads(line) for line in (tmp_path / "uploads.jsonl").read_text().splitlines()]
    assert sorted(line["key"] for line in lines) == sorted(u.key for u in uploads)
    # a new journal (a later run) knows them: nothing is pending, nothing is sent twice
    assert UploadJournal(tmp_path / "uploads.jsonl").pending(uploads) == []
    uploads[0].path.write_text("changed")
    assert UploadJournal(tmp_path / "uploads.jsonl").pending(uploads) == [uploads[0]]


def test_permanent_errors_are_reported_once_and_stay_pending(tmp_path: Path) -> None:
    calls: list[str] = []
    lines: list[str] = []

    def put(path: Path, key: str) -> None:
        calls.append(key)
        raise StorageError("NoSuchBucket")

    queue = UploadQueue(put, UploadJournal(tmp_path / "uploads.jsonl"), FAST, lines.append)
    uploads = _files(tmp_path, 4)
    queue.submit(uploads)
    pending = queue.finish()
    assert sorted(u.key for u in pending) == sorted(u.key for u in uploads)
    assert len(calls) == 8  # one try each, and one more at the end: no retries of a permanent error
    assert len(lines) == 1 and "kept locally and queued" in lines[0]
    assert not (tmp_path / "uploads.jsonl").exists()


def test_an_unexpected_exception_does_not_kill_the_workers(tmp_path: Path) -> None:
    def put(path: Path, key: str) -> None:
        if key.endswith("f0.txt"):
            raise ValueError("boom")

    queue = UploadQueue(put, UploadJournal(tmp_path / "uploads.jsonl"), FAST)
    uploads = _files(tmp_path, 5)
    queue.submit(uploads)
    assert [u.key for u in queue.finish()] == ["k/f0.txt"]


def test_the_journal_hashes_a_file_again_only_when_it_changed(tmp_path: Path) -> None:
    import hashlib
    import os

    journal = UploadJournal(tmp_path / "uploads.jsonl")
    path = tmp_path / "metrics.json"
    path.write_bytes(b"[1]")
    assert journal.sha256(path) == hashlib.sha256(b"[1]").hexdigest()
    path.write_bytes(b"[2]")  # same size: the modification time tells
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
    assert journal.sha256(path) == hashlib.sha256(b"[2]").hexdigest()


def test_journal_lines_are_readable_before_the_queue_finishes(tmp_path: Path) -> None:
    """Written through at once: a run killed before its final fsync leaves every acknowledged line."""
    journal = UploadJournal(tmp_path / "uploads.jsonl")
    journal.record("a/b", "0" * 64, 3)
    assert UploadJournal(tmp_path / "uploads.jsonl").is_done("a/b", "0" * 64)
    journal.sync()
    journal.record("a/c", "1" * 64, 4)  # reopened after a sync
    journal.sync()
    assert len((tmp_path / "uploads.jsonl").read_text().splitlines()) == 2
