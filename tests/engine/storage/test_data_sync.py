"""Training data from S3: synced into the cache once, only changed objects fetched, given as $DATA_DIR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpo_engine.errors import StorageError
from hpo_engine.runner.storage.config import S3Connection, S3Location
from hpo_engine.runner.storage.data_sync import sync_data
from tests.engine.storage.conftest import ACCESS_KEY, SECRET_KEY, hpo, write_manifest


def _location(server) -> S3Location:
    return S3Location(S3Connection(server.url, ACCESS_KEY, SECRET_KEY), "data", "sets/digits")


def test_sync_fetches_only_changed_objects(tmp_path: Path, s3_server) -> None:
    client = s3_server.client()
    client.create_bucket(Bucket="data")
    client.put_object(Bucket="data", Key="sets/digits/train.csv", Body=b"a,b\n1,2\n")
    client.put_object(Bucket="data", Key="sets/digits/sub/test.csv", Body=b"a,b\n3,4\n")
    client.put_object(Bucket="data", Key="sets/other.csv", Body=b"not under the prefix")
    first = sync_data(_location(s3_server), tmp_path / "cache")
    assert (first.fetched, first.reused) == (2, 0)
    assert (first.folder / "train.csv").read_bytes() == b"a,b\n1,2\n"
    assert (first.folder / "sub" / "test.csv").read_bytes() == b"a,b\n3,4\n"
    assert not (first.folder / "other.csv").exists()
    second = sync_data(_location(s3_server), tmp_path / "cache")
    assert (second.fetched, second.reused, second.folder) == (0, 2, first.folder)
    client.put_object(Bucket="data", Key="sets/digits/train.csv", Body=b"a,b\n9,9\n")
    client.delete_object(Bucket="data", Key="sets/digits/sub/test.csv")
    third = sync_data(_location(s3_server), tmp_path / "cache")
    assert (third.fetched, third.reused, third.removed) == (1, 0, 1)
    assert (third.folder / "train.csv").read_bytes() == b"a,b\n9,9\n"
    assert not (third.folder / "sub" / "test.csv").exists()


def test_hostile_key_is_refused(tmp_path: Path, s3_server) -> None:
    client = s3_server.client()
    client.create_bucket(Bucket="data")
    client.put_object(Bucket="data", Key="sets/digits/../../escape.txt", Body=b"x")
    with pytest.raises(StorageError, match="outside the data folder"):
        sync_data(_location(s3_server), tmp_path / "cache")
    assert not list(tmp_path.rglob("escape.txt"))


def test_unreachable_server_masks_the_secret(tmp_path: Path, s3_server) -> None:
    s3_server.kill()
    location = S3Location(S3Connection(s3_server.url + "/" + SECRET_KEY, ACCESS_KEY, SECRET_KEY), "data", "x")
    with pytest.raises(StorageError) as caught:
        sync_data(location, tmp_path / "cache")
    assert SECRET_KEY not in str(caught.value) and "****" in str(caught.value)


def test_data_reaches_trials_and_data_dir_overrides(tmp_path: Path, s3_server, s3_env) -> None:
    client = s3_server.client()
    client.create_bucket(Bucket="results")
    client.create_bucket(Bucket="data")
    client.put_object(Bucket="data", Key="sets/digits/train.csv", Body=b"1,2\n")
    manifest = write_manifest(tmp_path, s3_server.url, steps=2, data={"bucket": "data", "prefix": "sets/digits"})
    done = hpo("run", str(manifest), "--results", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    assert "1 object(s) fetched" in done.stdout
    seen = [json.loads(p.read_text()) for p in sorted((tmp_path / "results").rglob("data-seen.json"))]
    assert seen == [["train.csv"], ["train.csv"]]
    own = tmp_path / "own-data"
    own.mkdir()
    (own / "mine.txt").write_text("x")
    again = hpo("run", str(manifest), "--results", str(tmp_path / "results2"), "--data-dir", str(own))
    assert again.returncode == 0, again.stderr
    assert "fetched" not in again.stdout
    seen = [json.loads(p.read_text()) for p in sorted((tmp_path / "results2").rglob("data-seen.json"))]
    assert seen == [["mine.txt"], ["mine.txt"]]


def test_a_run_token_syncs_once_per_machine_and_a_new_run_syncs_again(tmp_path: Path, s3_server) -> None:
    client = s3_server.client()
    client.create_bucket(Bucket="data")
    client.put_object(Bucket="data", Key="sets/digits/train.csv", Body=b"a,b\n1,2\n")
    first = sync_data(_location(s3_server), tmp_path / "cache", run_token="run-1")
    assert (first.fetched, first.reused) == (1, 0)
    client.put_object(Bucket="data", Key="sets/digits/train.csv", Body=b"a,b\n7,7,7\n")
    # the same run on the same machine (another trial, another worker): the server is not asked again
    again = sync_data(_location(s3_server), tmp_path / "cache", run_token="run-1")
    assert (again.fetched, again.reused, again.folder) == (0, 1, first.folder)
    assert (first.folder / "train.csv").read_bytes() == b"a,b\n1,2\n"
    # a new run syncs: the changed object is fetched, the marker is replaced
    later = sync_data(_location(s3_server), tmp_path / "cache", run_token="run-2")
    assert (later.fetched, later.reused) == (1, 0)
    assert (later.folder / "train.csv").read_bytes() == b"a,b\n7,7,7\n"
    assert [p.name for p in later.folder.parent.glob("synced-*")] == ["synced-run-2"]


def test_two_processes_of_one_run_sync_one_cache_once(tmp_path: Path, s3_server) -> None:
    """Two trial tasks starting at once on one node: the lock serializes them, the second reuses."""
    import subprocess
    import sys

    client = s3_server.client()
    client.create_bucket(Bucket="data")
    for index in range(5):
        client.put_object(Bucket="data", Key=f"sets/digits/part-{index}.bin", Body=bytes([index]) * 200_000)
    script = (
        "import json, sys\n"
        "from hpo_engine.runner.storage.config import S3Connection, S3Location\n"
        "from hpo_engine.runner.storage.data_sync import sync_data\n"
        f"location = S3Location(S3Connection({s3_server.url!r}, {ACCESS_KEY!r}, {SECRET_KEY!r}), 'data', 'sets/digits')\n"
        f"result = sync_data(location, __import__('pathlib').Path({str(tmp_path / 'cache')!r}), run_token='run-x')\n"
        "print(json.dumps([result.fetched, result.reused]))\n"
    )
    workers = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    counts = sorted(json.loads(worker.communicate(timeout=120)[0]) for worker in workers)
    assert all(worker.returncode == 0 for worker in workers)
    assert counts == [[0, 5], [5, 0]]  # one fetched everything, the other fetched nothing
