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
