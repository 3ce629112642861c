"""compute_configuration -> Ray resources, and when a cluster can never hold a trial (no Ray needed)."""

from __future__ import annotations

import pytest

from hpo_engine.runner.backends.compute_resources import trial_resources, unsatisfiable_reason

CPU_NODE = {"CPU": 2.0, "memory": 1e9}
GPU_NODE = {"CPU": 8.0, "GPU": 2.0}


@pytest.mark.parametrize(
    ("name", "gpus"),
    [("k80", 1), ("p100", 1), ("v100", 1), ("k80x2", 2), ("v100x2", 2), ("k80x4", 4), ("K80", 1), ("cpu", 0)],
)
def test_names_map_to_gpus_per_node(name: str, gpus: int) -> None:
    resources = trial_resources(name)
    assert resources.gpus_per_node == gpus
    assert resources.bundle == ({"CPU": 1.0, "GPU": float(gpus)} if gpus else {"CPU": 1.0})
    assert resources.known is (name.lower() != "cpu")


def test_ignore_gpus_asks_for_cpus_only() -> None:
    resources = trial_resources("k80x4", ignore_gpus=True)
    assert resources.bundle == {"CPU": 1.0}
    assert resources.gpus_ignored


def test_nodes_are_counted_and_at_least_one() -> None:
    assert trial_resources("k80", 3).describe() == "1 CPU and 1 GPU on each of 3 nodes"
    assert trial_resources("k80", 0).nodes == 1


def test_a_gpu_trial_on_a_cpu_only_cluster_is_refused_with_the_way_out() -> None:
    reason = unsatisfiable_reason(trial_resources("k80"), [CPU_NODE, CPU_NODE])
    assert reason is not None
    assert "asks for 1 CPU and 1 GPU per trial" in reason
    assert "2 node(s), 4 CPUs, 0 GPUs in total" in reason
    assert "HPO_RAY_IGNORE_GPUS=1" in reason


def test_too_many_gpus_for_the_largest_node_is_refused() -> None:
    reason = unsatisfiable_reason(trial_resources("k80x4"), [GPU_NODE, GPU_NODE])
    assert reason is not None and "its largest node has 2 GPUs" in reason


def test_busy_is_not_unsatisfiable_and_nodes_need_distinct_nodes() -> None:
    assert unsatisfiable_reason(trial_resources("k80x2"), [CPU_NODE, GPU_NODE]) is None
    assert unsatisfiable_reason(trial_resources("k80", 2), [GPU_NODE, GPU_NODE]) is None
    reason = unsatisfiable_reason(trial_resources("k80", 2), [GPU_NODE, CPU_NODE])
    assert reason is not None and "only 1 node(s)" in reason


def test_no_compute_configuration_asks_for_no_gpu_and_fits_a_cpu_cluster() -> None:
    resources = trial_resources(None)
    assert resources.bundle == {"CPU": 1.0}
    assert resources.known
    assert unsatisfiable_reason(resources, [{"CPU": 2.0}]) is None
