"""Results to S3 through ``hpo run`` / ``hpo sync`` / ``hpo results s3://``, against a real moto server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.engine.storage.conftest import ACCESS_KEY, SECRET_KEY, hpo, local_result_files, write_manifest

PREFIX = "team/runs/s3exp/ref"


def _store(tmp_path: Path) -> Path:
    return tmp_path / "results" / "s3exp" / "ref"


def test_every_result_file_reaches_the_bucket_byte_identical(tmp_path: Path, s3_server, s3_env) -> None:
    s3_server.client().create_bucket(Bucket="results")
    manifest = write_manifest(tmp_path, s3_server.url, steps=4, parallel=2)
    done = hpo("run", str(manifest), "--results", str(tmp_path / "results"), env={"HPO_TEST_BYTES": "300000"})
    assert done.returncode == 0, done.stderr + done.stdout
    assert f"results uploaded to s3://results/{PREFIX}" in done.stdout
    store = _store(tmp_path)
    bucket = s3_server.objects("results")
    expected = local_result_files(store)
    assert len([k for k in expected if k.endswith("blob.bin")]) == 4
    for relative, content in expected.items():
        assert bucket.get(f"{PREFIX}/{relative}") == content, relative
    # the snapshot is a readable store with every trial; results.json lists them
    snapshot = tmp_path / "snapshot.sqlite"
    snapshot.write_bytes(bucket[f"{PREFIX}/trials.sqlite"])
    rows = sqlite3.connect(snapshot).execute("SELECT number, state FROM trials ORDER BY number").fetchall()
    assert rows == [(n, "complete") for n in range(4)]
    assert len(json.loads(bucket[f"{PREFIX}/results.json"])["experiments"][0]["trials"]) == 4
    # nothing else: no lock, journal, WAL or definition cache in the bucket
    assert not [k for k in bucket if k.endswith((".lock", "uploads.jsonl", "-wal", "-shm"))]


def test_no_secret_in_results_store_bucket_or_trial_environment(tmp_path: Path, s3_server, s3_env) -> None:
    s3_server.client().create_bucket(Bucket="results")
    manifest = write_manifest(tmp_path, s3_server.url, steps=2)
    done = hpo("run", str(manifest), "--results", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    shown = hpo("results", str(tmp_path / "results"), "--format", "json")
    for text in (done.stdout, done.stderr, shown.stdout):
        assert SECRET_KEY not in text and ACCESS_KEY not in text
    for path in (tmp_path / "results").rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert SECRET_KEY.encode() not in content and ACCESS_KEY.encode() not in content, path
    for key, content in s3_server.objects("results").items():
        assert SECRET_KEY.encode() not in content and ACCESS_KEY.encode() not in content, key
    logs = [p.read_text() for p in (tmp_path / "results").rglob("stdout.log")]
    assert logs and all("env has secret: False" in log for log in logs)


def test_killed_server_run_finishes_and_sync_uploads_exactly_the_pending(tmp_path: Path, s3_server, s3_env) -> None:
    s3_server.client().create_bucket(Bucket="results")
    manifest = write_manifest(tmp_path, s3_server.url, steps=5)
    env = {"HPO_TEST_KILL": str(s3_server.process.pid), "HPO_TEST_KILL_AT": "2"}
    done = hpo("run", str(manifest), "--results", str(tmp_path / "results"), env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    out = done.stdout + done.stderr
    assert "upload failed, kept locally and queued" in out
    assert "pending (" in out and "hpo sync" in out
    store = _store(tmp_path)
    rows = sqlite3.connect(store / "trials.sqlite").execute("SELECT count(*) FROM trials WHERE state='complete'").fetchone()
    assert rows == (5,)
    journal = [json.loads(line)["key"] for line in (store / "uploads.jsonl").read_text().splitlines()]
    assert len(journal) == len(set(journal))
    expected = {f"{PREFIX}/{k}" for k in local_result_files(store)} | {f"{PREFIX}/trials.sqlite", f"{PREFIX}/results.json"}
    pending = expected - set(journal)
    assert any("/trials/4/" in key for key in pending)  # trials after the kill could not be uploaded

    # sync while the server is still down: exit 4, still pending, nothing lost
    failed = hpo("sync", str(manifest), "--results", str(tmp_path / "results"))
    assert failed.returncode == 4, failed.stderr
    assert "still pending" in failed.stderr

    # a new (empty) server on the same port: sync uploads exactly what the journal lacks
    s3_server.start()
    s3_server.client().create_bucket(Bucket="results")
    synced = hpo("sync", str(manifest), "--results", str(tmp_path / "results"))
    assert synced.returncode == 0, synced.stderr
    assert "nothing pending" in synced.stdout
    bucket = s3_server.objects("results")
    assert set(bucket) == pending
    local = local_result_files(store)
    for key in pending - {f"{PREFIX}/trials.sqlite", f"{PREFIX}/results.json"}:
        assert bucket[key] == local[key[len(PREFIX) + 1:]]
    again = hpo("sync", str(manifest), "--results", str(tmp_path / "results"))
    assert again.returncode == 0 and "0 file(s) uploaded" in again.stdout


def test_resume_uploads_what_an_earlier_run_left_pending(tmp_path: Path, s3_server, s3_env) -> None:
    s3_server.client().create_bucket(Bucket="results")
    manifest = write_manifest(tmp_path, s3_server.url, steps=3)
    env = {"HPO_TEST_KILL": str(s3_server.process.pid), "HPO_TEST_KILL_AT": "1"}
    assert hpo("run", str(manifest), "--results", str(tmp_path / "results"), env=env).returncode == 0
    # what reached the killed server: the journal's keys (which of trial 0's files made it before
    # the kill depends on timing); the snapshots (trials.sqlite, results.json) are sent again anyway
    journal = {json.loads(line)["key"] for line in (_store(tmp_path) / "uploads.jsonl").read_text().splitlines()}
    uploaded = {k for k in journal if "/trials/" in k}
    assert uploaded, journal
    s3_server.start()
    s3_server.client().create_bucket(Bucket="results")
    write_manifest(tmp_path, s3_server.url, steps=4)  # one more trial
    resumed = hpo("run", str(manifest), "--results", str(tmp_path / "results"), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "an earlier run left pending" in resumed.stdout
    keys = set(s3_server.objects("results"))
    for number in (1, 2, 3):
        assert f"{PREFIX}/trials/{number}/result/blob.bin" in keys
    assert not uploaded & keys  # uploaded before the kill: not twice


def test_results_read_back_from_the_bucket(tmp_path: Path, s3_server, s3_env) -> None:
    s3_server.client().create_bucket(Bucket="results")
    manifest = write_manifest(tmp_path, s3_server.url, steps=3)
    assert hpo("run", str(manifest), "--results", str(tmp_path / "results")).returncode == 0
    local = json.loads(hpo("results", str(tmp_path / "results"), "--format", "json").stdout)
    env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1"}
    remote = hpo("results", "s3://results/team/runs", "--endpoint-url", s3_server.url, "--format", "json", env=env)
    assert remote.returncode == 0, remote.stderr
    data = json.loads(remote.stdout)["experiments"]
    assert data[0]["store"] == f"s3://results/{PREFIX}"
    assert [t["number"] for t in data[0]["trials"]] == [t["number"] for t in local["experiments"][0]["trials"]]
    table = hpo("results", f"s3://results/{PREFIX}", "--endpoint-url", s3_server.url, env=env)
    assert table.returncode == 0 and "best score" in table.stdout
    missing = hpo("results", "s3://results/nothing-here", "--endpoint-url", s3_server.url, env=env)
    assert missing.returncode == 1 and "no hpo results here" in missing.stderr and "Traceback" not in missing.stderr


def test_unset_credential_variable_is_one_clear_line(tmp_path: Path, s3_server, s3_env) -> None:
    manifest = write_manifest(tmp_path, s3_server.url, secret="${HPO_TEST_UNSET_SECRET}")
    done = hpo("run", str(manifest), "--results", str(tmp_path / "results"), env={"HPO_TEST_UNSET_SECRET": ""})
    assert done.returncode == 1
    assert "HPO_TEST_UNSET_SECRET is not set" in done.stderr and "Traceback" not in done.stderr
    assert not (_store(tmp_path) / "trials.sqlite").exists()


def test_the_seed_placeholder_endpoint_stops_the_run_with_one_line(tmp_path: Path, s3_env) -> None:
    manifest = write_manifest(tmp_path, "<URL>")
    done = hpo("run", str(manifest), "--results", str(tmp_path / "results"))
    assert done.returncode == 1
    assert "endpoint_url '<URL>' is not an http:// or https:// URL" in done.stderr and "Traceback" not in done.stderr
    assert not (_store(tmp_path) / "trials.sqlite").exists()
