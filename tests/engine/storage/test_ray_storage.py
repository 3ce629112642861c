"""On ``--backend ray`` the driver uploads (after each trial's outputs came back) and trials get the synced data."""

from __future__ import annotations

import json
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
