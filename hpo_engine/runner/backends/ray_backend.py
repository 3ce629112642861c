"""Trials as Ray tasks: on a private local Ray cluster, or on an existing one (``auto``, ``HOST:PORT``).

Ray is optional (the ``ray`` extra of the ``hpo-manifests`` distribution, or ``pip install 'ray[default]>=2.40'``) and imported only by :meth:`RayBackend.start`.

Each trial is one Ray task (:func:`~hpo_engine.runner.backends.ray_worker.run_trial_task`) asking
for the resources of its ``compute_configuration``
(:mod:`~hpo_engine.runner.backends.compute_resources`). The training definition is zipped once
per run and put in the object store; each task returns the outcome with the trial's
zipped outputs, which the driver writes into the trial folder of the results
(:mod:`~hpo_engine.runner.backends.ray_packaging`). Only the driver writes the store.

Faults: a trial whose Ray worker dies (killed, out of memory, node lost) is FAILED, not
retried (``max_retries=0``): rerunning a trial that brings its worker down would most
likely do it again, and the optimizer goes on with the next point; ``hpo run --resume``
does not rerun FAILED trials either. Its left-over process group is killed on its node.

Times and durations are seconds.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo_engine.errors import BackendError, TrialError
from hpo_engine.runner.trials.execute import failed_to_start
from hpo_engine.runner.trials.process import DEFAULT_KILL_GRACE_SECONDS
from hpo_engine.runner.trials.workdir import trial_paths
from hpo_engine.runner.backends.base import IntermediateValue, TrialBackend, TrialOutcome, TrialSpec
from hpo_engine.runner.trial_state import TrialState
from hpo_engine.runner.backends.compute_resources import TrialResources, trial_resources, unsatisfiable_reason
from hpo_engine.runner.backends.ray_packaging import pack_definition, unpack_outputs
from hpo_engine.runner.storage.config import S3Location
from hpo_engine.runner.storage.data_sync import NodeData

__all__ = ["RayBackend", "IGNORE_GPUS_ENV", "RAY_MISSING"]

#: Set to 1 to run trials of GPU compute configurations without asking Ray for GPUs.
IGNORE_GPUS_ENV = "HPO_RAY_IGNORE_GPUS"

#: The message when Ray is not installed.
RAY_MISSING = "Ray is not installed: pip install 'ray[default]>=2.40' (or, in a checkout of this project: pip install -e '.[ray]')"

#: Seconds, after the kill grace period, that a cancelled trial has to report before its worker is killed.
_CANCEL_MARGIN_SECONDS = 5.0
#: Longest single blocking ``ray.wait`` (seconds), so overdue cancellations are forced in time.
_LONGEST_WAIT = 1.0


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise BackendError(RAY_MISSING) from exc
    return ray


@dataclass(slots=True)
class _InFlight:
    """A launched trial whose outcome has not been fetched yet."""

    spec: TrialSpec
    ref: Any
    placement_group: Any = None
    cancel_requested: bool = False
    force_at: float | None = None  # time.monotonic() after which the worker is killed
    forced: bool = False


class RayBackend(TrialBackend):
    """Runs each trial as a Ray task; at most ``max_parallel`` in flight.

    ``address``: ``None`` starts a private local cluster with ``num_cpus`` CPUs (default:
    this machine's CPU count, at least ``max_parallel``), kept until the process exits so
    that later backends of the same process (the next training reference) reuse it;
    ``"auto"`` or ``"HOST:PORT"`` (or ``"ray://HOST:PORT"``) connects to an existing
    cluster, after checking within ``connect_timeout`` seconds that its address answers.
    When Ray is already initialized in this process, that connection is used as it is
    and left open.

    On an existing cluster the ``hpo_engine`` package is shipped to the workers
    (``runtime_env`` ``py_modules``) unless ``ship_package`` is False, so the workers need
    Ray and Python, not hpo. ``ignore_gpus`` (default: ``$HPO_RAY_IGNORE_GPUS``) asks Ray
    for no GPU whatever ``compute_configuration`` says. ``temp_dir`` is Ray's session
    folder of a private cluster (default: Ray's own). ``data_source``: S3 training data
    that each trial's task syncs into its own node's cache before the trial starts
    (:class:`~hpo_engine.runner.storage.data_sync.NodeData`, once per run and node).
    """

    name = "ray"
    #: The scheduler gives S3 training data to the backend (``data_source``) instead of syncing it itself.
    data_on_nodes = True

    def __init__(
        self,
        max_parallel: int,
        *,
        address: str | None = None,
        num_cpus: int | None = None,
        kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS,
        connect_timeout: float = 10.0,
        ignore_gpus: bool | None = None,
        ship_package: bool = True,
        temp_dir: str | os.PathLike[str] | None = None,
        data_source: S3Location | None = None,
    ) -> None:
        if max_parallel < 1:
            raise BackendError(f"max_parallel must be at least 1, got {max_parallel}")
        self.max_parallel = max_parallel
        self.address = address.strip() if isinstance(address, str) and address.strip() else None
        self.num_cpus = num_cpus
        self.kill_grace_seconds = kill_grace_seconds
        self.connect_timeout = connect_timeout
        if ignore_gpus is None:
            ignore_gpus = os.environ.get(IGNORE_GPUS_ENV, "").strip().lower() in ("1", "true", "yes", "on")
        self.ignore_gpus = ignore_gpus
        self.ship_package = ship_package
        self.temp_dir = None if temp_dir is None else str(temp_dir)
        self._node_data = None if data_source is None else NodeData(data_source, uuid.uuid4().hex)
        self._ray: Any = None
        self._owns_cluster = False
        self._board: Any = None
        self._task: Any = None
        self._killer: Any = None
        self._inflight: dict[int, _InFlight] = {}
        self._done: list[TrialOutcome] = []
        self._definitions: dict[Path, Any] = {}
        self._fits: set[tuple[str, int, float]] = set()

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Connect to (or start) the cluster and create the run's cancellation board."""
        if self._ray is not None:
            return
        ray = _import_ray()
        if ray.is_initialized():
            self._owns_cluster = False
        else:
            self._connect(ray)
            self._owns_cluster = True
        from hpo_engine.runner.backends.ray_worker import CancelBoard, kill_process_group, run_trial_task

        try:
            # One pending wait_cancel call per running trial: allow many at once.
            self._board = ray.remote(num_cpus=0, max_restarts=0, max_concurrency=100_000)(CancelBoard).remote()
            self._task = ray.remote(run_trial_task)
            self._killer = ray.remote(num_cpus=0, max_retries=0)(kill_process_group)
        except Exception as exc:  # noqa: BLE001 - any Ray failure here is a backend failure
            if self._owns_cluster:
                ray.shutdown()
            raise BackendError(f"cannot use the Ray cluster: {_one_line(exc)}") from exc
        self._ray = ray

    def _connect(self, ray: Any) -> None:
        quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
        if self.address is None:
            cpus = self.num_cpus or max(os.cpu_count() or 1, self.max_parallel)
            target = "a private local Ray cluster"
            kwargs: dict[str, Any] = dict(address="local", num_cpus=cpus, include_dashboard=False, **quiet)
            if self.temp_dir is not None:
                kwargs["_temp_dir"] = self.temp_dir
        else:
            address = _reachable_address(self.address, self.connect_timeout)
            target = f"the Ray cluster at {self.address}"
            kwargs = dict(address=address, **quiet)
            if self.ship_package:
                package = Path(__file__).resolve().parents[2]  # the hpo_engine package
                kwargs["runtime_env"] = {"py_modules": [str(package)], "excludes": ["__pycache__"]}
        try:
            ray.init(**kwargs)
        except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError, ValueError...
            raise BackendError(f"cannot start {target}: {_one_line(exc)}") from exc

    def close(self) -> None:
        """Cancel what runs, collect its outcomes (kept for :meth:`wait`), leave the cluster.

        A connection to an existing cluster is closed; a private cluster stays up until the
        process exits (for the next backend of this process).
        """
        if self._ray is None:
            return
        ray = self._ray
        try:
            self.cancel_all()
            limit = time.monotonic() + self.kill_grace_seconds + _CANCEL_MARGIN_SECONDS + 10.0
            while self._inflight and time.monotonic() < limit:
                self._done.extend(self._collect(min(_LONGEST_WAIT, max(limit - time.monotonic(), 0.0))))
            for number in sorted(self._inflight):  # never reported: give up on them
                entry = self._inflight.pop(number)
                self._done.append(failed_to_start(entry.spec, "cancelled (no answer from Ray)", interrupted=True))
            try:
                ray.kill(self._board)
            except Exception:  # noqa: BLE001
                pass
        finally:
            self._ray = None
            if self._owns_cluster:
                self._owns_cluster = False
                if self.address is not None:
                    ray.shutdown()
                # A private cluster stays up for the next reference of this `hpo run` (starting
                # one costs seconds); Ray shuts it down when the process exits (ray.shutdown's
                # documented at-exit behaviour).

    # -- the TrialBackend contract ---------------------------------------------------------
    @property
    def running(self) -> frozenset[int]:
        """Numbers of the trials launched and not yet returned by :meth:`wait`."""
        return frozenset(self._inflight) | frozenset(o.number for o in self._done)

    def launch(self, spec: TrialSpec) -> None:
        """Submit ``spec`` as a Ray task; :class:`BackendError` past ``max_parallel`` or when it can never fit."""
        ray = self._require_started()
        if spec.number in self.running:
            raise BackendError(f"trial {spec.number} is already running")
        if len(self.running) >= self.max_parallel:
            raise BackendError(
                f"cannot launch trial {spec.number}: {len(self.running)} trials already "
                f"running (max_parallel={self.max_parallel})"
            )
        resources = trial_resources(spec.compute_name, spec.compute_nodes, ignore_gpus=self.ignore_gpus)
        self._check_fits(resources)
        definition = self._definition(spec)
        options: dict[str, Any] = {
            "num_cpus": resources.cpus_per_node,
            "num_gpus": resources.gpus_per_node,
            "max_retries": 0,
            "retry_exceptions": False,
            "name": f"hpo-trial-{spec.number}",
        }
        group = None
        if resources.nodes > 1:
            from ray.util.placement_group import placement_group
            from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

            group = placement_group([resources.bundle] * resources.nodes, strategy="STRICT_SPREAD")
            options["scheduling_strategy"] = PlacementGroupSchedulingStrategy(
                placement_group=group, placement_group_bundle_index=0
            )
        ref = self._task.options(**options).remote(spec, definition, self._board, self.kill_grace_seconds, self._node_data)
        self._inflight[spec.number] = _InFlight(spec=spec, ref=ref, placement_group=group)

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        """Block up to ``timeout`` seconds for a trial to finish; return every outcome available.

        Returns ``[]`` at once when nothing is running and nothing is waiting to be returned.
        """
        outcomes, self._done = self._done, []
        if outcomes or not self._inflight:
            if self._inflight:
                outcomes.extend(self._collect(0.0))
            return outcomes
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            left = _LONGEST_WAIT if end is None else max(end - time.monotonic(), 0.0)
            outcomes = self._collect(min(left, _LONGEST_WAIT))
            if outcomes or (end is not None and time.monotonic() >= end):
                return outcomes

    def intermediate_values(self) -> list[IntermediateValue]:
        """Objective values the trial tasks reported to the board since the last call, in order."""
        if self._board is None:
            return []
        ray = self._ray
        try:
            rows = ray.get(self._board.take.remote(), timeout=self.connect_timeout)
        except Exception:  # noqa: BLE001 - board unreachable: no live values this time, outcomes still come
            return []
        return [IntermediateValue(int(n), float(step), float(value), str(source)) for n, step, value, source in rows]

    def cancel(self, number: int) -> None:
        """Stop trial ``number``; its INTERRUPTED outcome comes through :meth:`wait`.

        The trial's task stops its process group itself (SIGTERM, then SIGKILL after
        ``kill_grace_seconds``) and returns its outputs; a task still queued is dropped; a
        task that has not answered ``kill_grace_seconds`` + 5 s later is force-cancelled
        and its process group killed on its node. Unknown or finished trials are ignored.
        """
        entry = self._inflight.get(number)
        if entry is None or entry.cancel_requested or self._ray is None:
            return
        ray = self._ray
        entry.cancel_requested = True
        entry.force_at = time.monotonic() + self.kill_grace_seconds + _CANCEL_MARGIN_SECONDS
        try:
            started = ray.get(self._board.cancel.remote(number), timeout=self.connect_timeout)
        except Exception:  # noqa: BLE001 - board unreachable: the force path will do it
            started = True
        if not started:
            try:
                ray.cancel(entry.ref, force=False)  # still queued: never starts
            except Exception:  # noqa: BLE001
                pass

    # -- internals -------------------------------------------------------------------------
    def _require_started(self) -> Any:
        if self._ray is None:
            raise BackendError("the Ray backend is not started (use it as a context manager or call start())")
        return self._ray

    def _check_fits(self, resources: TrialResources) -> None:
        """Raise :class:`BackendError` when no set of alive nodes could ever hold ``resources``."""
        key = (resources.name.lower(), resources.nodes, resources.gpus_per_node)
        if key in self._fits:
            return
        nodes = [node.get("Resources", {}) for node in self._ray.nodes() if node.get("Alive")]
        reason = unsatisfiable_reason(resources, nodes)
        if reason is not None:
            raise BackendError(reason)
        self._fits.add(key)

    def _definition(self, spec: TrialSpec) -> Any:
        """The object-store reference of the packed training definition (packed once per folder)."""
        if spec.definition_dir is None:
            return None
        folder = Path(spec.definition_dir).resolve()
        if folder not in self._definitions:
            try:
                data = pack_definition(folder, exclude=[spec.trial_dir])
            except TrialError as exc:
                raise BackendError(str(exc)) from exc
            self._definitions[folder] = self._ray.put(data)
        return self._definitions[folder]

    def _collect(self, timeout: float) -> list[TrialOutcome]:
        """Outcomes of the tasks that finish within ``timeout`` seconds (forcing overdue cancellations first)."""
        ray = self._ray
        self._force_overdue()
        if not self._inflight:
            return []
        refs = [entry.ref for entry in self._inflight.values()]
        try:
            ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
            if ready:
                ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        except Exception as exc:  # noqa: BLE001 - the cluster itself is gone
            raise BackendError(f"lost the Ray cluster: {_one_line(exc)}") from exc
        ready_ids = {ref.hex() for ref in ready}
        finished = [n for n, entry in self._inflight.items() if entry.ref.hex() in ready_ids]
        return [self._outcome(self._inflight.pop(number)) for number in sorted(finished)]

    def _outcome(self, entry: _InFlight) -> TrialOutcome:
        """Fetch a finished task's result; write its outputs into the trial folder; map Ray errors."""
        ray = self._ray
        spec = entry.spec
        try:
            outcome, outputs = ray.get(entry.ref)
        except Exception as exc:  # noqa: BLE001 - every Ray error becomes the trial's outcome
            outcome = self._lost(entry, exc)
        else:
            try:
                unpack_outputs(outputs, spec.trial_dir)
            except TrialError as exc:
                outcome = dataclasses.replace(
                    outcome, state=TrialState.FAILED, objective=None, failure_reason=str(exc)
                )
            if outcome.stdout_path is not None:
                paths = trial_paths(spec.trial_dir)
                outcome = dataclasses.replace(outcome, stdout_path=paths.stdout_path, stderr_path=paths.stderr_path)
        finally:
            if entry.placement_group is not None:
                try:
                    ray.util.remove_placement_group(entry.placement_group)
                except Exception:  # noqa: BLE001
                    pass
        try:
            self._board.forget.remote(spec.number)
        except Exception:  # noqa: BLE001
            pass
        return outcome

    def _lost(self, entry: _InFlight, error: BaseException) -> TrialOutcome:
        """The outcome of a task that returned no result: cancelled, or its worker died."""
        spec = entry.spec
        if entry.cancel_requested:
            return failed_to_start(spec, "cancelled", interrupted=True)
        self._kill_leftovers(spec.number)
        ray_errors = self._ray.exceptions
        if isinstance(error, ray_errors.TaskCancelledError):
            return failed_to_start(spec, "cancelled", interrupted=True)
        if isinstance(error, (ray_errors.WorkerCrashedError, ray_errors.NodeDiedError)):
            reason = "the Ray worker running the trial died (killed, out of memory, or its node was lost)"
        elif isinstance(error, ray_errors.RayTaskError):
            reason = f"internal error on the Ray worker: {_one_line(error.cause if error.cause else error)}"
        else:
            reason = f"Ray lost the trial: {type(error).__name__}: {_one_line(error)}"
        outcome = failed_to_start(spec, reason)
        trial_paths(spec.trial_dir).trial_dir.mkdir(parents=True, exist_ok=True)
        return outcome

    def _force_overdue(self) -> None:
        """Force-cancel the cancelled tasks that did not answer in time, and kill their process groups."""
        now = time.monotonic()
        for number, entry in self._inflight.items():
            if entry.force_at is None or entry.forced or now < entry.force_at:
                continue
            entry.forced = True
            try:
                self._ray.cancel(entry.ref, force=True)
            except Exception:  # noqa: BLE001 - already finished or gone
                pass
            self._kill_leftovers(number)

    def _kill_leftovers(self, number: int) -> None:
        """SIGKILL the process group of trial ``number`` on its node, if it registered one."""
        ray = self._ray
        try:
            where = ray.get(self._board.location.remote(number), timeout=self.connect_timeout)
        except Exception:  # noqa: BLE001
            return
        if not where or where[1] is None:
            return
        node_id, group, folder = where
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        try:
            self._killer.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node_id, soft=False)
            ).remote(group, folder)
        except Exception:  # noqa: BLE001 - the node is gone, and the group with it
            pass


def _reachable_address(address: str, timeout: float) -> str:
    """The ``HOST:PORT`` (or ``ray://HOST:PORT``) to give ``ray.init``, checked to answer within ``timeout`` s.

    ``auto`` is resolved as Ray does (``$RAY_ADDRESS``, then the last ``ray start`` on this
    machine). Raises :class:`BackendError` with one line when the address is malformed,
    unknown or does not answer: ``ray.init`` itself would wait for minutes.
    """
    text = address
    if address == "auto":
        found = _auto_address()
        if found is None:
            raise BackendError(
                "--ray-address auto: no running Ray cluster found on this machine "
                "(start one with `ray start --head`, or give HOST:PORT)"
            )
        text = found
    scheme = "ray://" if text.startswith("ray://") else ""
    host, sep, port = text[len(scheme):].rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit():
        raise BackendError(f"invalid Ray address {address!r}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        if isinstance(exc, TimeoutError) or isinstance(exc, socket.timeout):
            why = f"no answer within {timeout:g} s"
        raise BackendError(
            f"cannot reach the Ray cluster at {address} ({host}:{port}): {why}; "
            "is `ray start --head` running there?"
        ) from None
    return text


def _auto_address() -> str | None:
    """What ``ray.init(address="auto")`` connects to, as its documentation says: ``$RAY_ADDRESS``,
    else the address of the latest ``ray start`` on this machine (``/tmp/ray/ray_current_cluster``,
    under ``$RAY_TMPDIR`` when set); ``None`` when there is neither."""
    if os.environ.get("RAY_ADDRESS", "").strip() not in ("", "auto"):
        return os.environ["RAY_ADDRESS"].strip()
    record = Path(os.environ.get("RAY_TMPDIR") or "/tmp") / "ray" / "ray_current_cluster"
    try:
        text = record.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text.splitlines()[0].strip() if text else None


def _one_line(error: BaseException | str) -> str:
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split())[:500]
