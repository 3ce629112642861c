"""A real S3-compatible server for storage tests: moto's standalone server, a subprocess on 127.0.0.1.

Not in-process patching: boto3 talks HTTP to a server the test can kill (SIGKILL) and
start again on the same port (a restarted moto server is empty). Credentials are fake
but unique strings, so a test can grep for them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ACCESS_KEY = "AKIAHPOTESTKEY0000001"
SECRET_KEY = "hpo-test-secret-Zq8x1Vn3Kp7Wm2Lr5Ty9"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """``moto_server`` on ``127.0.0.1:<port>``; :meth:`kill` and :meth:`start` again on the same port."""

    def __init__(self, log_dir: Path) -> None:
        self.port = _free_port()
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.log_dir / f"moto-{time.monotonic_ns()}.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from moto.server import main; main()", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        limit = time.monotonic() + 60
        while time.monotonic() < limit:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}")
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto_server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.url, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name="us-east-1"
        )

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        client = self.client()
        found = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        return found


@pytest.fixture
def s3_server(tmp_path: Path) -> Iterator[S3Server]:
    server = S3Server(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Credentials in the environment (the manifest says ${HPO_TEST_S3_KEY}...) and a private cache."""
    values = {"HPO_TEST_S3_KEY": ACCESS_KEY, "HPO_TEST_S3_SECRET": SECRET_KEY, "HPO_CACHE_DIR": str(tmp_path / "cache")}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


#: Writes $HPO_TEST_BYTES random bytes to $RESULT_DIR/blob.bin, a log line, the objective; trial
#: $HPO_TEST_KILL_AT kills the pid in $HPO_TEST_KILL (the S3 server) once a first upload is journaled.
S3_PROGRAM = """
import json, os, signal, time
values = json.load(open("config.json"))
if os.environ.get("HPO_TEST_KILL") and os.environ["SUBID"] == os.environ.get("HPO_TEST_KILL_AT"):
    journal = os.path.join(os.getcwd(), "..", "..", "uploads.jsonl")  # wait (bounded) for a first upload
    limit = time.monotonic() + 60
    while not os.path.exists(journal) and time.monotonic() < limit:
        time.sleep(0.05)
    os.kill(int(os.environ["HPO_TEST_KILL"]), signal.SIGKILL)
size = int(os.environ.get("HPO_TEST_BYTES", "1000"))
open(os.path.join(os.environ["RESULT_DIR"], "blob.bin"), "wb").write(os.urandom(size))
data_dir = os.environ.get("DATA_DIR")
seen = sorted(os.listdir(data_dir)) if data_dir and os.path.isdir(data_dir) else []
open(os.path.join(os.environ["RESULT_DIR"], "data-seen.json"), "w").write(json.dumps(seen))
print("trial", os.environ["SUBID"], "env has secret:", any("hpo-test-secret" in v for v in os.environ.values()))
score = float(values["x"])
json.dump([{"steps": 0, "score": score}], open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w"))
"""


def write_manifest(
    folder: Path,
    endpoint: str,
    *,
    steps: int = 4,
    bucket: str = "results",
    prefix: str = "team/runs",
    data: dict[str, Any] | None = None,
    definition_url: str = "definition",
    program: str = S3_PROGRAM,
    parallel: int = 1,
    secret: str = "${HPO_TEST_S3_SECRET}",
) -> Path:
    """A manifest whose results go to ``s3://bucket/prefix`` on ``endpoint``."""
    definition = folder / "definition"
    definition.mkdir(exist_ok=True)
    (definition / "train.py").write_text(textwrap.dedent(program), encoding="utf-8")
    connection = {"endpoint_url": endpoint, "access_key_id": "${HPO_TEST_S3_KEY}", "secret_access_key": secret}
    manifest: dict[str, Any] = {
        "settings": {"name": "s3exp"},
        "training_references": [
            {
                "name": "ref",
                "training_definition_url": definition_url,
                "command": "python3 train.py",
                "compute_configuration": {"name": "k80"},
                "hyper_parameters_optimization": {
                    "method": {
                        "name": "random",
                        "parameters": [
                            {"name": "objective", "string_value": "score"},
                            {"name": "maximize_or_minimize", "string_value": "maximize"},
                            {"name": "num_optimizer_steps", "int_value": steps},
                            {"name": "max_concurrent_trials", "int_value": parallel},
                            {"name": "random_seed", "int_value": 7},
                        ],
                    },
                    "hyper_parameters": [{"name": "x", "double_range": {"min_value": 0.0, "max_value": 1.0}}],
                },
            }
        ],
        "training_results_reference": {
            "name": "results",
            "type": "s3",
            "connection": connection,
            "target": {"bucket": bucket, "prefix": prefix},
        },
    }
    if data is not None:
        manifest["training_data_reference"] = {"name": "data", "type": "s3", "connection": connection, "source": data}
    path = folder / "s3exp.yaml"
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return path


def hpo(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the ``hpo`` CLI in a subprocess (``python -m hpo_engine.cli``)."""
    return subprocess.run(
        [sys.executable, "-m", "hpo_engine.cli", *args],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, cwd=cwd,
    )


def local_result_files(store: Path) -> dict[str, bytes]:
    """What should be in the bucket: every finished trial's files and the summary, by store-relative path."""
    files = {}
    for path in sorted((store / "trials").rglob("*")):
        if path.is_file():
            files[path.relative_to(store).as_posix()] = path.read_bytes()
    for name in ("best_config.json", "optimizer.log"):
        if (store / name).is_file():
            files[name] = (store / name).read_bytes()
    return files
