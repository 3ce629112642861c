"""``compute_configuration`` -> the resources one trial asks a Ray cluster for.

The original service named GPU sizes (``k80``, ``p100``, ``v100``, ``k80x2``, ``v100x2``,
``k80x4``) and a node count. On Ray a trial asks, on each of its nodes, for
:data:`CPUS_PER_NODE` CPU and the GPUs its name stands for:

=========================  ===============
name                       GPUs per node
=========================  ===============
``k80``, ``p100``, ``v100``  1
``k80x2``, ``v100x2``        2
``k80x4``                    4
any other name             0 (the validator warns about it, HPO217)
=========================  ===============

``nodes`` > 1 reserves that many nodes (one bundle of the resources above on each of
``nodes`` distinct nodes, a Ray placement group with ``STRICT_SPREAD``); the command runs
on the first one and gets the addresses of all of them in ``$HPO_NODE_IPS``.

Nothing here imports Ray: :func:`unsatisfiable_reason` takes the nodes' total resources
as plain mappings (``ray.nodes()[i]["Resources"]``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "GPUS_PER_NODE",
    "CPUS_PER_NODE",
    "TrialResources",
    "trial_resources",
    "unsatisfiable_reason",
]

#: GPUs per node for each compute configuration name of the original service.
GPUS_PER_NODE: Mapping[str, int] = {
    "k80": 1,
    "p100": 1,
    "v100": 1,
    "k80x2": 2,
    "v100x2": 2,
    "k80x4": 4,
}
#: CPUs a trial asks for on each of its nodes (its command is one process tree).
CPUS_PER_NODE = 1.0


@dataclass(frozen=True, slots=True)
class TrialResources:
    """What one trial needs: ``bundle`` (CPU, GPU counts) on each of ``nodes`` distinct nodes.

    ``known`` is False for a name outside :data:`GPUS_PER_NODE` (it then asks for no GPU);
    ``gpus_ignored`` is True when GPUs were dropped on request (``ignore_gpus``).
    """

    name: str
    nodes: int
    cpus_per_node: float
    gpus_per_node: float
    known: bool = True
    gpus_ignored: bool = False

    @property
    def bundle(self) -> dict[str, float]:
        """The Ray resources of one node's share, e.g. ``{"CPU": 1.0, "GPU": 2.0}``."""
        bundle = {"CPU": self.cpus_per_node}
        if self.gpus_per_node:
            bundle["GPU"] = self.gpus_per_node
        return bundle

    def describe(self) -> str:
        """``"1 CPU and 2 GPUs"``, ``"1 CPU on each of 3 nodes"``..."""
        parts = [_count(self.cpus_per_node, "CPU")]
        if self.gpus_per_node:
            parts.append(_count(self.gpus_per_node, "GPU"))
        text = " and ".join(parts)
        return text if self.nodes == 1 else f"{text} on each of {self.nodes} nodes"


def trial_resources(name: str | None, nodes: int = 1, *, ignore_gpus: bool = False) -> TrialResources:
    """The resources of ``compute_configuration: {name, nodes}``; names are matched case-insensitively.

    ``name`` ``None`` (the manifest names no compute configuration) asks for no GPU.

    ``nodes`` below 1 counts as 1. ``ignore_gpus`` asks for no GPU whatever the name
    (for running GPU manifests on a CPU-only cluster on purpose).
    """
    key = (name or "").strip().lower()
    known = key in GPUS_PER_NODE or name is None
    gpus = float(GPUS_PER_NODE.get(key, 0))
    return TrialResources(
        name=name or "(none)",
        nodes=max(int(nodes), 1),
        cpus_per_node=CPUS_PER_NODE,
        gpus_per_node=0.0 if ignore_gpus else gpus,
        known=known,
        gpus_ignored=ignore_gpus and gpus > 0,
    )


def unsatisfiable_reason(
    resources: TrialResources, node_totals: Iterable[Mapping[str, float]]
) -> str | None:
    """Why a cluster whose alive nodes have ``node_totals`` can never run such a trial, or ``None``.

    A trial fits when at least ``resources.nodes`` nodes each have, in total (not just
    free now), every resource of ``resources.bundle``. Busy resources are not a reason:
    the trial then waits for its turn.
    """
    totals = [dict(node) for node in node_totals]
    bundle = resources.bundle
    fitting = sum(1 for node in totals if all(node.get(k, 0.0) >= v for k, v in bundle.items()))
    if fitting >= resources.nodes:
        return None
    cluster = _cluster_summary(totals)
    wanted = f"compute_configuration {resources.name!r} asks for {resources.describe()} per trial"
    if resources.nodes > 1:
        return (
            f"{wanted}, but only {fitting} node(s) of the Ray cluster can hold that "
            f"({cluster}); lower `nodes` or add nodes to the cluster"
        )
    hint = ""
    if resources.gpus_per_node:
        most = max((node.get("GPU", 0.0) for node in totals), default=0.0)
        if most == 0:
            hint = (
                "; the cluster has no GPU: run on a cluster with GPUs, or set "
                "HPO_RAY_IGNORE_GPUS=1 to run such trials on CPUs"
            )
        else:
            hint = f"; its largest node has {_count(most, 'GPU')}: choose a smaller configuration"
    return f"{wanted}, but no node of the Ray cluster has that much ({cluster}){hint}"


def _cluster_summary(totals: list[Mapping[str, float]]) -> str:
    cpus = sum(node.get("CPU", 0.0) for node in totals)
    gpus = sum(node.get("GPU", 0.0) for node in totals)
    return f"{len(totals)} node(s), {_count(cpus, 'CPU')}, {_count(gpus, 'GPU')} in total"


def _count(value: float, unit: str) -> str:
    number = int(value) if float(value).is_integer() else value
    return f"{number} {unit}{'' if number == 1 else 's'}"
