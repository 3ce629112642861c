"""On ``--backend ray`` the driver uploads (after each trial's outputs came back) and trials get the synced data."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="Ray is not installed (pip install 'hpo[ray]')")

from tests.engine.storage.conftest import SECRET_KEY, hpo, local_result_files, write_manifest  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]

PREFIX = "team/runs/s3exp/ref"


def test_ray_run_uploads_from_the_driver_and_trials_see_the_data(tmp_path: Path, s3_server, s3_env) -> None:
    client = s3_server.client()
    client.create_bucket(Bucket="results")
    client.create_bucket(Bucket="data")
    client.put_object(Bucket="data", Key="sets/d/train.csv", Body=b"1,2\n")
    manifest = write_manifest(tmp_path, s3_server.url, steps=3, parallel=2, data={"bucket": "data", "prefix": "sets/d"})
    done = hpo("run", str(manifest), "--results", str(tmp_path / "results"), "--backend", "ray", env={"HPO_RAY_IGNORE_GPUS": "1"}, timeout=600)
    assert done.returncode == 0, done.stderr + done.stdout
    store = tmp_path / "results" / "s3exp" / "ref"
    seen = [json.loads(p.read_text()) for p in sorted(store.rglob("data-seen.json"))]
    assert seen == [["train.csv"]] * 3
    bucket = s3_server.objects("results")
    expected = local_result_files(store)
    assert len([k for k in expected if k.endswith("val_dict_list.json")]) == 3
    for relative, content in expected.items():
        assert bucket.get(f"{PREFIX}/{relative}") == content, relative
    for content in bucket.values():
        assert SECRET_KEY.encode() not in content


#: Records where $DATA_DIR is and what it holds; sleeps so that two trials overlap (one per worker node).
NODE_PROGRAM = """
import json, os, time
values = json.load(open("config.json"))
data_dir = os.environ["DATA_DIR"]
seen = {"data_dir": data_dir, "files": sorted(os.listdir(data_dir)),
        "train": open(os.path.join(data_dir, "train.csv")).read(),
        "secret_in_env": any("hpo-test-secret" in v for v in os.environ.values())}
json.dump(seen, open(os.path.join(os.environ["RESULT_DIR"], "data-seen.json"), "w"))
time.sleep(2)
json.dump([{"steps": 0, "score": float(values["x"])}], open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w"))
"""


@pytest.fixture
def three_nodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A Ray cluster of three raylets on this machine: a head with no CPU (trials never run on it)
    and two 1-CPU worker nodes, each with its own ``HPO_CACHE_DIR`` (its node-local cache)."""
    import ray
    from ray.cluster_utils import Cluster

    temp_dir = tempfile.mkdtemp(prefix="hpo-ray-data-", dir="/tmp")  # short: Ray's socket paths
    (Path(temp_dir) / "ray").mkdir()
    caches = {name: tmp_path / f"cache-{name}" for name in ("head", "b", "c")}
    for name, value in (("RAY_AUTH_MODE", "disabled"), ("RAY_TMPDIR", temp_dir), ("HPO_CACHE_DIR", str(caches["head"]))):
        monkeypatch.setenv(name, value)
    cluster = None
    if ray.is_initialized():
        ray.shutdown()  # an earlier test's private cluster (RayBackend leaves it up until exit)
    try:
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False, "temp_dir": temp_dir})
        for name in ("b", "c"):
            monkeypatch.setenv("HPO_CACHE_DIR", str(caches[name]))  # the raylet, and so its workers, inherit it
            cluster.add_node(num_cpus=1)
        monkeypatch.setenv("HPO_CACHE_DIR", str(caches["head"]))
        ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR")
        cluster.wait_for_nodes()
        ray.shutdown()
        yield cluster.address, caches, Path(temp_dir)
    finally:
        if cluster is not None:
            cluster.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_each_worker_node_syncs_the_data_into_its_own_cache_and_the_driver_uploads(tmp_path: Path, s3_server, s3_env, three_nodes) -> None:
    address, caches, ray_dir = three_nodes
    client = s3_server.client()
    client.create_bucket(Bucket="results")
    client.create_bucket(Bucket="data")
    client.put_object(Bucket="data", Key="sets/d/train.csv", Body=b"1,2\n")
    manifest = write_manifest(tmp_path, s3_server.url, steps=4, parallel=2, program=NODE_PROGRAM, data={"bucket": "data", "prefix": "sets/d"})
    env = {"HPO_RAY_IGNORE_GPUS": "1", "RAY_AUTH_MODE": "disabled", "RAY_TMPDIR": str(ray_dir), "HPO_CACHE_DIR": str(caches["head"])}
    done = hpo("run", str(manifest), "--results", str(tmp_path / "results"), "--backend", "ray", "--ray-address", address,
               env=env, timeout=600)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "synced by each Ray node" in done.stdout + done.stderr
    store = tmp_path / "results" / "s3exp" / "ref"
    seen = [json.loads(p.read_text()) for p in sorted(store.rglob("data-seen.json"))]
    assert len(seen) == 4
    worker_caches = {str(caches["b"]): "b", str(caches["c"]): "c"}
    nodes = set()
    for trial in seen:
        assert trial["files"] == ["train.csv"] and trial["train"] == "1,2\n" and not trial["secret_in_env"], trial
        owner = [name for root, name in worker_caches.items() if trial["data_dir"].startswith(root + "/data/")]
        assert owner, f"{trial['data_dir']} is not in a worker node's cache"
        nodes.update(owner)
    assert nodes == {"b", "c"}, "two trials at once on two 1-CPU nodes: both nodes ran trials"
    for name in ("b", "c"):
        [folder] = [p.parent for p in (caches[name] / "data").glob("*/files")]
        assert (folder / "files" / "train.csv").read_bytes() == b"1,2\n"
        assert len(list(folder.glob("synced-*"))) == 1  # synced once by this run on that node
    assert not (caches["head"] / "data").exists(), "the driver does not sync data it never uses"
    # the driver uploads: its journal lists every trial's files, and the bucket holds the driver's copies
    journal = [json.loads(line)["key"] for line in (store / "uploads.jsonl").read_text().splitlines()]
    expected = local_result_files(store)
    for relative, content in expected.items():
        assert f"{PREFIX}/{relative}" in journal, relative
        assert s3_server.objects("results").get(f"{PREFIX}/{relative}") == content, relative
    # the secret reached no file: results, caches, Ray's session folder (logs, spilled objects)
    for root in (tmp_path, ray_dir):
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink() and "moto-" not in path.name:
                assert SECRET_KEY.encode() not in path.read_bytes(), path
