"""``hpo run --backend ray --ray-address HOST:PORT`` against a cluster started with ``ray start --head``.

The cluster runs in a process group of its own (``ray start --block``) in a temporary folder,
with ``RAY_AUTH_MODE=disabled`` and a temporary HOME; it is stopped by its process group.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'hpo[ray]')")

pytestmark = [pytest.mark.ray, pytest.mark.slow]

RAY = Path(sys.executable).parent / "ray"

TRAIN = textwrap.dedent(
    """\
    import json, os
    cfg = json.load(open("config.json"))
    print("PYTHONPATH=" + os.environ.get("PYTHONPATH", ""))
    with open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w") as out:
        json.dump([{"steps": 1, "score": cfg["x"] * 10}], out)
    """
)

MANIFEST = """\
settings:
  name: existing
training_references:
- name: ref
  training_definition_url: ./definition
  command: python3 train.py
  compute_configuration:
    name: cpu
  hyper_parameters_optimization:
    method:
      name: grid
      parameters:
      - name: objective
        string_value: score
      - name: maximize_or_minimize
        string_value: maximize
      - name: num_optimizer_steps
        int_value: 3
    hyper_parameters:
    - name: x
      int_values: [1, 2, 3]
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """``HOST:PORT`` of a one-node cluster of 2 CPUs, and the environment to reach it with."""
    if not RAY.exists():
        pytest.skip(f"no `ray` command next to {sys.executable}")
    home = tmp_path_factory.mktemp("home")
    temp_dir = tempfile.mkdtemp(prefix="hpo-ray-head-", dir="/tmp")  # short: Ray's socket paths
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "HOME": str(home)}
    env.pop("RAY_ADDRESS", None)
    port = free_port()
    command = [
        str(RAY), "start", "--head", "--block", f"--port={port}", "--num-cpus=2",
        "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}",
        f"--ray-client-server-port={free_port()}", f"--dashboard-agent-listen-port={free_port()}",
    ]
    log = open(home / "ray-start.log", "wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        end = time.monotonic() + 120
        while not answers(port) and process.poll() is None and time.monotonic() < end:
            time.sleep(0.2)
        if not answers(port):
            pytest.fail(f"`ray start --head` did not come up:\n{(home / 'ray-start.log').read_text()}")
        yield f"127.0.0.1:{port}", env
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the daemons of the group, if any are left
        except ProcessLookupError:
            pass
        # Ray's workers run in process groups of their own: find them by the cluster's folder.
        for pid in processes_mentioning(temp_dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)


def processes_mentioning(text: str) -> list[int]:
    """Pids of the processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_a_run_on_an_existing_cluster_ships_hpo_and_brings_the_outputs_back(head: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    address, env = head
    (tmp_path / "definition").mkdir()
    (tmp_path / "definition" / "train.py").write_text(TRAIN, encoding="utf-8")
    (tmp_path / "manifest.yaml").write_text(MANIFEST, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "hpo_engine.cli", "run", str(tmp_path / "manifest.yaml"), "--results",
         str(tmp_path / "results"), "--backend", "ray", "--ray-address", address, "--parallel", "2", "--json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["references"][0]
    assert summary["counts"]["complete"] == 3
    assert summary["best"]["objective"] == 30.0
    trials = Path(summary["store"]) / "trials"
    for number in range(3):
        stdout = (trials / str(number) / "stdout.log").read_text()
        # hpo_engine came with the job (runtime_env py_modules), not from this checkout.
        assert "py_modules_files" in stdout.splitlines()[0]
        assert (trials / str(number) / "result" / "val_dict_list.json").is_file()
