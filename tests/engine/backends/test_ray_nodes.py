"""``compute_configuration.nodes`` on a real two-node Ray cluster (two raylets on this machine).

Uses Ray's own ``ray.cluster_utils.Cluster``; its files go to a temporary folder
(``RAY_TMPDIR``) and nothing to the home folder (``RAY_AUTH_MODE=disabled``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'hpo[ray]')")

from hpo_engine.runner.backends.base import TrialSpec

from hpo_engine.runner.trial_state import TrialState  # noqa: E402
from hpo_engine.runner.backends.ray_backend import RayBackend  # noqa: E402
from hpo_engine.runner.backends.ray_worker import NODE_IPS_ENV  # noqa: E402
from hpo_engine.errors import BackendError  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]

TRAIN = f"import os\nprint('{NODE_IPS_ENV}=' + os.environ.get('{NODE_IPS_ENV}', ''))\nprint('score=1')\n"


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[None]:
    from ray.cluster_utils import Cluster

    saved = {name: os.environ.get(name) for name in ("RAY_AUTH_MODE", "RAY_TMPDIR")}
    temp_dir = tempfile.mkdtemp(prefix="hpo-ray-nodes-", dir="/tmp")  # short: Ray's socket paths
    (Path(temp_dir) / "ray").mkdir()
    os.environ.update(RAY_AUTH_MODE="disabled", RAY_TMPDIR=temp_dir)
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False, "temp_dir": temp_dir},
    )
    try:
        cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR")
        cluster.wait_for_nodes()
        yield
    finally:
        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def spec(tmp_path: Path, number: int, nodes: int) -> TrialSpec:
    definition = tmp_path / "definition"
    definition.mkdir(exist_ok=True)
    (definition / "train.py").write_text(TRAIN, encoding="utf-8")
    return TrialSpec(
        experiment="nodes", reference="ref", number=number, values={"x": 1},
        command=f"{sys.executable} train.py", definition_dir=definition,
        trial_dir=tmp_path / "trials" / str(number), objective="score",
        compute_name="cpu", compute_nodes=nodes,
    )


def test_a_two_node_trial_holds_two_nodes_and_knows_them(two_nodes: None, tmp_path: Path) -> None:
    from ray.util import placement_group_table

    with RayBackend(1) as backend:
        backend.launch(spec(tmp_path, 0, nodes=2))
        outcomes: list = []
        while not outcomes:
            outcomes = backend.wait(5.0)
    assert outcomes[0].state is TrialState.COMPLETE, outcomes[0].failure_reason
    line = (tmp_path / "trials" / "0" / "stdout.log").read_text().splitlines()[0]
    assert line.startswith(f"{NODE_IPS_ENV}=")
    assert len(line.split("=", 1)[1].split(",")) == 2
    # The reservation ends with the trial.
    assert {entry["state"] for entry in placement_group_table().values()} == {"REMOVED"}


def test_more_nodes_than_the_cluster_has_is_refused(two_nodes: None, tmp_path: Path) -> None:
    with RayBackend(1) as backend:
        with pytest.raises(BackendError, match="only 2 node"):
            backend.launch(spec(tmp_path, 0, nodes=3))
