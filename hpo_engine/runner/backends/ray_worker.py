"""What runs on the Ray workers: the trial task, the cancellation board, the process-group killer.

Imported on the workers (by reference, through :mod:`ray`'s function export) and on the
driver. Needs only the standard library, :mod:`hpo_engine.runner.trials` and Ray, which it gets
lazily: the module imports without Ray.

A trial task (:func:`run_trial_task`) does on its worker what
:func:`hpo_engine.runner.trials.execute.run_trial` does locally, with the same pieces
(``prepare_trial``, ``launch_trial``, ``wait_process``, ``collect_outcome``), so the
metrics are collected by the same code; it runs in a private folder under
:func:`~hpo_engine.runner.backends.ray_packaging.worker_root` and returns the outcome with the
zipped outputs, then deletes the folder.

While a trial runs, its task follows the trial's metrics files and reports each new
objective value to the board (:meth:`CancelBoard.report`); the driver takes them
(:meth:`CancelBoard.take`) for the stopping rules, which stop trials by cancelling them.

Cancellation goes through one :class:`CancelBoard` actor per run: the driver marks a trial
cancelled there; the task keeps one call to the board pending (``wait_cancel``), answered
when the mark is set, whose callback sets the ``cancel_event`` that ``wait_process`` polls,
which stops the trial's process group (SIGTERM, then SIGKILL after the grace period). The
task also registers its node and the process-group id of its command there, so the
driver can kill that group (:func:`kill_process_group`) when the worker itself is gone.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpo_engine.errors import StorageError, TrialError
from hpo_engine.runner.trials.execute import collect_outcome, failed_to_start, launch_trial, prepare_trial
from hpo_engine.runner.trials.process import stop_process_group, wait_process
from hpo_engine.runner.backends.base import TrialOutcome, TrialSpec
from hpo_engine.runner.backends.ray_packaging import pack_outputs, unpack_definition, worker_root

if TYPE_CHECKING:
    from hpo_engine.runner.storage.data_sync import NodeData

__all__ = [
    "WORKER_PID_ENV",
    "NODE_IP_ENV",
    "NODE_IPS_ENV",
    "CancelBoard",
    "run_trial_task",
    "kill_process_group",
]

#: The trial's environment holds the pid of the Ray worker process running it.
WORKER_PID_ENV = "HPO_RAY_WORKER_PID"
#: ... the IP address of its node ...
NODE_IP_ENV = "HPO_RAY_NODE_IP"
#: ... and, for ``compute_configuration.nodes`` > 1, the comma-separated IPs of all its nodes (its own first).
NODE_IPS_ENV = "HPO_NODE_IPS"

#: Seconds between two looks at a running trial's metrics files.
FOLLOW_SECONDS = 0.25
#: A trial folder whose worker is dead is deleted when it is older than this (seconds).
_STALE_SECONDS = 3600.0
#: The file of a trial folder holding the pid of the worker running it.
_OWNER_FILE = ".hpo-worker-pid"

#: Variables Ray sets in its workers' environment that a trial must not inherit.
_RAY_WORKER_ONLY = frozenset(
    {"PYTHONBREAKPOINT", "SPT_NOENV", "RAY_RAYLET_PID", "RAY_JOB_ID", "RAY_LD_PRELOAD_ON_WORKERS"}
)


class CancelBoard:
    """Which trials are cancelled, and where each started one runs. Used as an async Ray actor.

    Every method runs on the actor's event loop, so a ``cancel`` and a ``register`` never
    interleave: either the trial registers first (``cancel`` returns True: it started) or
    it learns at registration that it is cancelled.
    """

    def __init__(self) -> None:
        self._cancelled: set[int] = set()
        self._events: dict[int, asyncio.Event] = {}
        self._where: dict[int, tuple[str, int | None, str | None]] = {}
        self._values: list[tuple[int, float, float, str]] = []

    def _event(self, number: int) -> asyncio.Event:
        return self._events.setdefault(number, asyncio.Event())

    async def cancel(self, number: int) -> bool:
        """Mark ``number`` cancelled; True when it had already registered (it is running)."""
        self._cancelled.add(number)
        self._event(number).set()
        return number in self._where

    async def register(self, number: int, node_id: str) -> bool:
        """A task starts trial ``number`` on ``node_id``; returns True when it is already cancelled."""
        self._where[number] = (node_id, None, None)
        return number in self._cancelled

    async def started(self, number: int, process_group: int, folder: str) -> None:
        """The trial's command runs as process group ``process_group``, in a private ``folder`` of its node."""
        node_id = self._where.get(number, ("", None, None))[0]
        self._where[number] = (node_id, process_group, folder)

    async def wait_cancel(self, number: int) -> bool:
        """Answer when ``number`` is cancelled (True) or forgotten (False): one pending call per trial."""
        await self._event(number).wait()
        return number in self._cancelled

    async def location(self, number: int) -> tuple[str, int | None, str | None] | None:
        """``(node id, process group, folder)`` of a started trial (``None``s before its command starts)."""
        return self._where.get(number)

    async def report(self, values: list[tuple[int, float, float, str]]) -> None:
        """A running trial recorded these ``(number, step, value, source)`` objective values (in order)."""
        self._values.extend(values)

    async def take(self) -> list[tuple[int, float, float, str]]:
        """Every value reported since the last call, in the order reported (the driver polls this)."""
        values, self._values = self._values, []
        return values

    async def forget(self, number: int) -> None:
        """Drop what is known of ``number`` (its outcome reached the driver); its ``wait_cancel`` answers False."""
        self._cancelled.discard(number)
        event = self._events.pop(number, None)
        if event is not None:
            event.set()
        self._where.pop(number, None)


def run_trial_task(
    spec: TrialSpec,
    definition: bytes | None,
    board: Any,
    kill_grace_seconds: float,
    data: "NodeData | None" = None,
) -> tuple[TrialOutcome, bytes]:
    """Run ``spec`` on this worker; return its outcome (worker paths) and its zipped outputs.

    ``definition`` is the packed training definition (``None``: no definition). ``data``:
    S3 training data synced into this node's cache before the trial starts (once per run
    and node, under the cache's file lock), given to the trial as ``$DATA_DIR``. The
    command's ``PATH`` puts this worker's Python first, as the driver does for local
    trials. Never raises for the trial's own failure.
    """
    import ray

    context = ray.get_runtime_context()
    if _answer(board.register.remote(spec.number, context.get_node_id())):
        return failed_to_start(spec, "cancelled", interrupted=True), b""
    root = worker_root()
    folder = _trial_folder(root / "trials", spec)
    try:
        try:
            definition_dir = None
            if definition is not None:
                definition_dir = unpack_definition(definition, root / "definitions")
        except TrialError as exc:
            return failed_to_start(spec, f"could not start: {exc}"), b""
        data_dir = spec.data_dir
        if data is not None:
            try:
                data_dir = str(data.sync().folder)
            except StorageError as exc:
                return failed_to_start(spec, "could not start: " + data.location.connection.secrets.mask(exc)), b""
        local = dataclasses.replace(
            spec,
            trial_dir=folder / "trial",
            definition_dir=definition_dir,
            data_dir=data_dir,
            extra_env=_worker_env(spec, ray),
        )
        outcome = _run(local, board, kill_grace_seconds, folder)
        outputs = pack_outputs(local.trial_dir)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    # Off the trial's critical path: the worker process outlives the task.
    threading.Thread(target=shutil.rmtree, args=(folder,), kwargs={"ignore_errors": True}, daemon=True).start()
    return outcome, outputs


def _trial_folder(trials: Path, spec: TrialSpec) -> Path:
    """A new private folder for ``spec`` under ``trials``, marked with this worker's pid.

    The first trial of a worker process also deletes the folders left by workers that died
    (killed with their driver) more than :data:`_STALE_SECONDS` ago.
    """
    trials.mkdir(parents=True, exist_ok=True)
    _prune_dead_folders_once(trials)
    folder = Path(tempfile.mkdtemp(prefix=f"{_safe(spec.experiment)}-{spec.number}-", dir=trials))
    (folder / _OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")
    return folder


@functools.cache
def _prune_dead_folders_once(trials: Path) -> None:
    """:func:`_prune_dead_folders` the first time this worker process sees ``trials``."""
    _prune_dead_folders(trials)


def _prune_dead_folders(trials: Path) -> None:
    limit = time.time() - _STALE_SECONDS
    for folder in trials.iterdir():
        try:
            if folder.stat().st_mtime > limit:
                continue
            owner = int((folder / _OWNER_FILE).read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue
        if not _alive(owner):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_process_group(process_group: int, folder: str | None = None) -> bool:
    """SIGKILL process group ``process_group`` on this node, then delete the trial's ``folder``.

    Returns True when a signal was sent.
    """
    try:
        os.killpg(process_group, signal.SIGKILL)
        sent = True
    except (ProcessLookupError, PermissionError):
        sent = False
    if folder and Path(folder).parent == worker_root() / "trials":
        shutil.rmtree(folder, ignore_errors=True)
    return sent


def _run(spec: TrialSpec, board: Any, kill_grace_seconds: float, folder: Path) -> TrialOutcome:
    """``run_trial`` with the command's process group registered and cancellation from the board."""
    try:
        prepared = prepare_trial(spec, _base_env())
        launched = launch_trial(prepared)
    except TrialError as exc:
        return failed_to_start(spec, f"could not start: {exc}")
    cancel_event = threading.Event()
    try:
        # The registration is waited for (a few ms): a trial that freezes or kills this worker
        # right away must still be findable, so the driver can kill its process group. The
        # second call is not waited for: the board answers it when the trial is cancelled (or
        # forgotten, or gone with its driver), and the callback sets the event wait_process polls.
        try:
            _answer(board.started.remote(spec.number, launched.process.pid, str(folder)), timeout=10.0)
        except Exception:  # noqa: BLE001 - board unreachable: the trial still runs; only force-kill is lost
            pass
        board.wait_cancel.remote(spec.number).future().add_done_callback(
            functools.partial(_on_board_answer, cancel_event)
        )
        follower = _CurveReporter(spec, board)
        try:
            end = wait_process(
                launched.process,
                timeout_seconds=spec.timeout_seconds,
                cancel_event=cancel_event,
                kill_grace_seconds=kill_grace_seconds,
            )
        finally:
            follower.finish()  # the last values reach the board before the outcome reaches the driver
    except BaseException:
        # The worker is being stopped (ray.cancel, its job ending): the trial goes with it.
        stop_process_group(launched.process, kill_grace_seconds=min(kill_grace_seconds, 1.0))
        raise
    return collect_outcome(prepared, launched.started_at, end)


class _CurveReporter:
    """Follows the trial's metrics files on this worker and reports new objective values to the board.

    One thread per trial task looks every :data:`FOLLOW_SECONDS` seconds
    (:class:`~hpo_engine.runner.trials.follow.TrialFollower`, new bytes only) and waits for
    each report, so values arrive in order; :meth:`finish` stops it and reports the rest.
    """

    def __init__(self, spec: TrialSpec, board: Any) -> None:
        from hpo_engine.runner.trials.follow import follower_for

        self._follower = follower_for(spec)
        self._board = board
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=f"hpo-follow-{spec.number}", daemon=True)
        self._thread.start()

    def _send(self) -> None:
        with self._lock:
            values = [(v.number, v.step, v.value, v.source) for v in self._follower.poll()]
            if values:
                try:
                    _answer(self._board.report.remote(values), timeout=10.0)
                except Exception:  # noqa: BLE001 - board unreachable: values are lost, the outcome still has the curve
                    pass

    def _loop(self) -> None:
        while not self._stop.wait(FOLLOW_SECONDS):
            self._send()

    def finish(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15.0)
        self._send()


def _on_board_answer(cancel_event: threading.Event, answer: concurrent.futures.Future) -> None:
    """Set ``cancel_event`` when the board says cancelled, or cannot answer (the driver is gone)."""
    try:
        cancelled = answer.result()
    except BaseException:  # noqa: BLE001 - the board (and its driver) is gone: stop the trial
        cancelled = True
    if cancelled:
        cancel_event.set()


def _answer(ref: Any, timeout: float = 60.0) -> Any:
    """The value of ``ref``, waited for on a future rather than with ``ray.get``.

    A task blocked in ``ray.get`` (or ``ray.wait``) lends its CPU back to Ray, which then
    starts another trial on it: more trials than CPUs would run. A future does not.
    """
    return ref.future().result(timeout=timeout)


def _base_env() -> dict[str, str]:
    """This worker's environment without what Ray sets for its own workers only.

    Kept: ``OMP_NUM_THREADS`` (Ray sets it to the trial's CPUs) and ``CUDA_VISIBLE_DEVICES``.
    """
    return {name: value for name, value in os.environ.items() if name not in _RAY_WORKER_ONLY}


def _worker_env(spec: TrialSpec, ray: Any) -> dict[str, str]:
    """``spec.extra_env`` fitted to this worker: its Python first on ``PATH``, the Ray variables added."""
    env = dict(spec.extra_env)
    if "PATH" in env:
        # The driver put its own interpreter's folder first; here it is this worker's.
        bin_dir = str(Path(sys.executable).parent)
        inherited = os.environ.get("PATH", os.defpath)
        parts = [part for part in inherited.split(os.pathsep) if part and part != bin_dir]
        env["PATH"] = os.pathsep.join([bin_dir, *parts])
    env[WORKER_PID_ENV] = str(os.getpid())
    node_ip = ray.util.get_node_ip_address()
    env[NODE_IP_ENV] = node_ip
    node_ips = _placement_group_ips(ray)
    if node_ips:
        env[NODE_IPS_ENV] = ",".join(node_ips)
    return env


def _placement_group_ips(ray: Any) -> list[str]:
    """IPs of the nodes of this task's placement group, bundle order (its own bundle 0 first)."""
    group = ray.util.get_current_placement_group()
    if group is None:
        return []
    table = ray.util.placement_group_table(group)
    addresses = {node["NodeID"]: node["NodeManagerAddress"] for node in ray.nodes()}
    bundles = table.get("bundles_to_node_id", {})
    return [addresses.get(bundles[index], "") for index in sorted(bundles)]


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:40] or "trial"
