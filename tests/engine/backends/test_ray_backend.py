"""The Ray backend on a real local Ray cluster (no mocks): one cluster of 2 CPUs for the module.

Trials run the tiny program ``train.py`` below, whose objective depends only on its
``config.json``; it records when it ran (``t0``/``t1``, seconds since the epoch) as metrics
so that overlap can be read from the outcomes, not guessed from timings.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
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
from typing import Any

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]' in this checkout)")

from typer.testing import CliRunner  # noqa: E402

from hpo_engine.runner.backends.base import TrialOutcome, TrialSpec

from hpo_engine.runner.trial_state import TrialState  # noqa: E402
from hpo_engine.runner.backends.ray_backend import IGNORE_GPUS_ENV, RayBackend  # noqa: E402
from tests.engine.conftest import process_alive  # noqa: E402
from hpo_engine.cli import app  # noqa: E402
from hpo_engine.errors import BackendError  # noqa: E402
from hpo_engine.runner.store import ResultStore  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]

PYTHON = shlex.quote(sys.executable)

TRAIN = textwrap.dedent(
    """\
    import json, os, signal, time
    cfg = json.load(open("config.json"))
    t0 = time.time()
    if cfg.get("pidfile"):  # written whole: a reader never sees it empty
        with open(cfg["pidfile"] + ".tmp", "w") as out:
            out.write(str(os.getpid()))
        os.replace(cfg["pidfile"] + ".tmp", cfg["pidfile"])
    if cfg.get("mode") == "freeze":
        # Freeze the Ray worker that runs this trial: it can no longer hear a cancellation.
        os.kill(int(os.environ["HPO_RAY_WORKER_PID"]), signal.SIGSTOP)
        time.sleep(60)
    if cfg.get("mode") == "kill":
        # Bring down the Ray worker that runs this trial, then linger as an orphan would.
        os.kill(int(os.environ["HPO_RAY_WORKER_PID"]), signal.SIGKILL)
        time.sleep(60)
    time.sleep(float(cfg.get("sleep", 0)))
    if cfg.get("shared"):  # wait (at most 30 s) until `wait_for` trials have started
        open(os.path.join(cfg["shared"], f"started-{os.environ['SUBID']}"), "w").close()
        end = time.time() + 30
        while len(os.listdir(cfg["shared"])) < cfg["wait_for"] and time.time() < end:
            time.sleep(0.01)
    score = float(cfg.get("x", 0)) * 2 + int(cfg.get("y", 0))
    print("gpus", os.environ.get("CUDA_VISIBLE_DEVICES"), "breakpoint", os.environ.get("PYTHONBREAKPOINT"))
    with open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w") as out:
        json.dump([{"steps": 1, "score": score, "t0": t0, "t1": time.time()}], out)
    """
)

MANIFEST = """\
settings:
  name: raytest
training_references:
- name: ref
  training_definition_url: ./definition
  command: python3 train.py
  compute_configuration:
    name: {compute}
  hyper_parameters_optimization:
    method:
      name: {method}
      parameters:
      - name: objective
        string_value: score
      - name: maximize_or_minimize
        string_value: maximize
      - name: num_optimizer_steps
        int_value: {steps}
      - name: random_seed
        int_value: 11
    hyper_parameters:
{parameters}
"""

XY = """\
    - name: x
      double_range:
        min_value: 0.0
        max_value: 1.0
    - name: y
      int_range:
        min_value: 1
        max_value: 5
"""


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    """A private local Ray cluster of 2 CPUs shared by the module; nothing written to the home folder."""
    saved = {name: os.environ.get(name) for name in ("RAY_AUTH_MODE", IGNORE_GPUS_ENV)}
    os.environ["RAY_AUTH_MODE"] = "disabled"
    os.environ.pop(IGNORE_GPUS_ENV, None)
    temp_dir = tempfile.mkdtemp(prefix="hpo-ray-test-", dir="/tmp")  # short: Ray's socket paths
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
        _temp_dir=temp_dir,
    )
    try:
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def definition(tmp_path: Path) -> Path:
    folder = tmp_path / "definition"
    folder.mkdir()
    (folder / "train.py").write_text(TRAIN, encoding="utf-8")
    return folder


def write_manifest(tmp_path: Path, *, compute: str = "cpu", method: str = "random", steps: int = 4, parameters: str = XY) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_text(
        MANIFEST.format(compute=compute, method=method, steps=steps, parameters=parameters), encoding="utf-8"
    )
    return path


def hpo_run(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["run", *args, "--json"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def stored_trials(summary: dict[str, Any]) -> list[Any]:
    with ResultStore.open(Path(summary["references"][0]["store"])) as store:
        return store.trials()


def make_spec(definition: Path, tmp_path: Path, number: int, **values: Any) -> TrialSpec:
    return TrialSpec(
        experiment="raytest",
        reference="ref",
        number=number,
        values=values,
        command=f"{PYTHON} train.py",
        definition_dir=definition,
        trial_dir=tmp_path / "results" / "trials" / str(number),
        objective="score",
        compute_name="cpu",
    )


def wait_all(backend: RayBackend, count: int, limit: float = 120.0) -> list[TrialOutcome]:
    outcomes: list[TrialOutcome] = []
    end = time.monotonic() + limit
    while len(outcomes) < count and time.monotonic() < end:
        outcomes.extend(backend.wait(1.0))
    assert len(outcomes) == count, f"only {len(outcomes)} of {count} trials reported"
    return sorted(outcomes, key=lambda outcome: outcome.number)


def process_gone(pid: int, limit: float = 15.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if not process_alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_same_trials_and_objectives_as_the_local_backend(ray_cluster: None, tmp_path: Path, definition: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # k80 asks for a GPU; the cluster has none: run it on CPUs on purpose.
    monkeypatch.setenv(IGNORE_GPUS_ENV, "1")
    manifest = write_manifest(tmp_path, compute="k80", steps=5)
    local_code, local = hpo_run(str(manifest), "--results", str(tmp_path / "local"), "--parallel", "2")
    ray_code, on_ray = hpo_run(str(manifest), "--results", str(tmp_path / "ray"), "--parallel", "2", "--backend", "ray")
    assert (local_code, ray_code) == (0, 0), (local, on_ray)
    local_trials, ray_trials = stored_trials(local), stored_trials(on_ray)

    def key(trials: list[Any]) -> list[tuple[Any, ...]]:
        return [(t.number, dict(t.values), t.state, t.objective) for t in trials]

    assert len(ray_trials) == 5
    assert key(ray_trials) == key(local_trials)
    assert all(t.state is TrialState.COMPLETE for t in ray_trials)
    # The outputs came back into the driver's trial folders.
    for trial in ray_trials:
        folder = Path(trial.stdout_path).parent
        assert json.loads((folder / "result" / "val_dict_list.json").read_text())[0]["score"] == trial.objective
        assert json.loads((folder / "config.json").read_text()) == dict(trial.values)
        # Ray's own worker settings do not leak into the trial.
        assert Path(trial.stdout_path).read_text().startswith("gpus None breakpoint None")


def test_trials_run_in_parallel_up_to_the_cluster_cpus(ray_cluster: None, tmp_path: Path, definition: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with RayBackend(3) as backend:
        # Each trial waits until two have started: two must run at once, or this takes 30 s.
        for number in (0, 1, 2):
            backend.launch(make_spec(definition, tmp_path, number, x=0.5, y=number, shared=str(shared), wait_for=2))
        assert backend.running == {0, 1, 2}
        outcomes = wait_all(backend, 3)
    assert [o.state for o in outcomes] == [TrialState.COMPLETE] * 3
    assert [o.objective for o in outcomes] == [1.0, 2.0, 3.0]
    intervals = [(o.metrics["final"]["t0"], o.metrics["final"]["t1"]) for o in outcomes]
    at_once = [sum(1 for s, e in intervals if s <= start < e) for start, _ in intervals]
    # Two trials overlapped; never three on 2 CPUs (one trial = 1 CPU, even while it talks to Ray).
    assert max(at_once) == 2, intervals


def test_in_flight_trials_are_bounded(ray_cluster: None, tmp_path: Path, definition: Path) -> None:
    with RayBackend(1) as backend:
        backend.launch(make_spec(definition, tmp_path, 0, x=0.1))
        with pytest.raises(BackendError, match="max_parallel=1"):
            backend.launch(make_spec(definition, tmp_path, 1, x=0.1))
        assert wait_all(backend, 1)[0].state is TrialState.COMPLETE


def test_a_killed_worker_fails_its_trial_and_the_experiment_goes_on(ray_cluster: None, tmp_path: Path, definition: Path) -> None:
    pidfile = tmp_path / "killer.pid"
    parameters = f"""\
    - name: mode
      string_values: [ok, kill, fine]
    - name: pidfile
      string_values: ["{pidfile}"]
"""
    manifest = write_manifest(tmp_path, method="grid", steps=3, parameters=parameters)
    code, summary = hpo_run(str(manifest), "--results", str(tmp_path / "ray"), "--backend", "ray")
    assert code == 0, summary
    trials = {t.values["mode"]: t for t in stored_trials(summary)}
    assert len(trials) == 3
    assert trials["kill"].state is TrialState.FAILED
    assert "Ray worker" in trials["kill"].failure_reason
    assert trials["ok"].state is trials["fine"].state is TrialState.COMPLETE
    # The program outlived its worker; the backend killed its process group.
    assert process_gone(int(pidfile.read_text()))


def test_a_gpu_request_on_a_cpu_only_cluster_is_refused(ray_cluster: None, tmp_path: Path, definition: Path) -> None:
    manifest = write_manifest(tmp_path, compute="k80", steps=2)
    result = CliRunner().invoke(app, ["run", str(manifest), "--results", str(tmp_path / "r"), "--backend", "ray"])
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "compute_configuration 'k80' asks for 1 CPU and 1 GPU per trial" in message
    assert "the cluster has no GPU" in message

    with RayBackend(1) as backend:
        spec = make_spec(definition, tmp_path, 0)
        for name, nodes, expected in (("v100x2", 1, "2 GPUs"), ("k80x4", 1, "4 GPUs"), ("cpu", 2, "only 1 node")):
            with pytest.raises(BackendError, match=expected):
                backend.launch(dataclasses.replace(spec, compute_name=name, compute_nodes=nodes))
        assert backend.running == frozenset()


def test_cancel_stops_a_running_trial_and_drops_a_queued_one(ray_cluster: None, tmp_path: Path, definition: Path) -> None:
    pids = {number: tmp_path / f"{number}.pid" for number in (0, 1, 2)}
    with RayBackend(4, kill_grace_seconds=2.0) as backend:
        # Two trials fill the 2 CPUs; the third (whichever Ray did not start) waits in Ray's queue.
        for number, pidfile in pids.items():
            backend.launch(make_spec(definition, tmp_path, number, sleep=60, pidfile=str(pidfile)))
        end = time.monotonic() + 60
        while sum(p.exists() for p in pids.values()) < 2 and time.monotonic() < end:
            assert backend.wait(0.1) == []
        running = [n for n, p in pids.items() if p.exists()]
        assert len(running) == 2
        queued = next(n for n in pids if n not in running)
        stopped, kept = running
        backend.cancel(queued)
        backend.cancel(stopped)
        outcomes = {o.number: o for o in wait_all(backend, 2, limit=30)}
        assert set(outcomes) == {queued, stopped}
        assert outcomes[stopped].state is outcomes[queued].state is TrialState.INTERRUPTED
        assert outcomes[stopped].failure_reason == "cancelled"
        assert not pids[queued].exists()
        assert process_gone(int(pids[stopped].read_text()))
        # Stopped by its own task (not force-cancelled): its folder came back (its stdout.log
        # too, had it printed anything: an empty log is not kept).
        assert (tmp_path / "results" / "trials" / str(stopped) / "command.txt").exists()
        assert backend.running == {kept}
    # Leaving the block cancelled the last trial; its outcome was kept for wait().
    assert [(o.number, o.state) for o in backend.wait(0)] == [(kept, TrialState.INTERRUPTED)]
    assert process_gone(int(pids[kept].read_text()))


def test_a_trial_whose_worker_does_not_answer_is_force_cancelled(ray_cluster: None, tmp_path: Path, definition: Path) -> None:
    pidfile = tmp_path / "frozen.pid"
    with RayBackend(1, kill_grace_seconds=1.0) as backend:
        backend.launch(make_spec(definition, tmp_path, 0, mode="freeze", pidfile=str(pidfile)))
        end = time.monotonic() + 60
        while not pidfile.exists() and time.monotonic() < end:
            assert backend.wait(0.1) == []
        backend.cancel(0)
        # The frozen worker cannot stop its trial; after the grace period (1 s) + 5 s the
        # driver force-cancels the task and kills the trial's process group on its node.
        (outcome,) = wait_all(backend, 1, limit=60)
    assert outcome.state is TrialState.INTERRUPTED
    assert outcome.failure_reason == "cancelled"
    assert process_gone(int(pidfile.read_text()))


GATED = textwrap.dedent(
    """\
    import json, os, time
    cfg = json.load(open("config.json"))
    open(os.path.join(cfg["piddir"], f"{os.environ['SUBID']}-{os.getpid()}"), "w").close()
    if cfg["x"] > 1:  # wait for the gate (the resumed run), at most a minute
        end = time.time() + 60
        while not os.path.exists(cfg["gate"]) and time.time() < end:
            time.sleep(0.05)
    with open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w") as out:
        json.dump([{"steps": 1, "score": cfg["x"]}], out)
    """
)


def test_a_killed_driver_resumes_with_resume(ray_cluster: None, tmp_path: Path) -> None:
    folder = tmp_path / "definition"
    folder.mkdir()
    (folder / "train.py").write_text(GATED, encoding="utf-8")
    piddir, gate = tmp_path / "pids", tmp_path / "gate"
    piddir.mkdir()
    parameters = f"""\
    - name: x
      int_values: [1, 2, 3, 4]
    - name: piddir
      string_values: ["{piddir}"]
    - name: gate
      string_values: ["{gate}"]
"""
    manifest = write_manifest(tmp_path, method="grid", steps=4, parameters=parameters)
    results = tmp_path / "results"
    ray_tmp = tempfile.mkdtemp(prefix="hpo-ray-drv-", dir="/tmp")
    worker_tmp = tmp_path / "tmp"  # the dead workers' trial folders stay in there
    worker_tmp.mkdir()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "HOME": str(tmp_path), "RAY_TMPDIR": ray_tmp,
           "TMPDIR": str(worker_tmp)}
    command = [sys.executable, "-m", "hpo_engine.cli", "run", str(manifest), "--results", str(results),
               "--backend", "ray", "--parallel", "2", "--quiet"]
    # The driver and its private cluster in a process group of their own, killed at once.
    with open(tmp_path / "driver.log", "wb") as log:
        driver = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        end = time.monotonic() + 180
        while len(list(piddir.iterdir())) < 3 and driver.poll() is None and time.monotonic() < end:
            time.sleep(0.1)
        assert len(list(piddir.iterdir())) == 3, (tmp_path / "driver.log").read_text()
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
        for entry in piddir.iterdir():  # the orphaned trials of the dead cluster
            try:
                os.killpg(os.getpgid(int(entry.name.split("-")[1])), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        shutil.rmtree(ray_tmp, ignore_errors=True)
    gate.touch()
    code, summary = hpo_run(str(manifest), "--results", str(results), "--backend", "ray", "--parallel", "2", "--resume")
    assert code == 0, summary
    trials = stored_trials(summary)
    assert sorted((t.values["x"], t.state, t.objective) for t in trials) == [
        (x, TrialState.COMPLETE, float(x)) for x in (1, 2, 3, 4)
    ]
    assert sorted(t.attempts for t in trials) == [1, 1, 2, 2]  # the two that ran when the driver died


def test_references_of_one_run_share_one_private_cluster_gone_at_exit(tmp_path: Path, definition: Path) -> None:
    manifest = write_manifest(tmp_path, steps=2)
    text = manifest.read_text()
    second = text[text.index("- name: ref"):].replace("- name: ref", "- name: ref2", 1)
    manifest.write_text(text + second)
    ray_tmp = tempfile.mkdtemp(prefix="hpo-ray-two-", dir="/tmp")
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "HOME": str(tmp_path), "RAY_TMPDIR": ray_tmp}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "hpo_engine.cli", "run", str(manifest), "--results", str(tmp_path / "r"),
             "--backend", "ray", "--json"],
            capture_output=True, text=True, env=env, timeout=300,
        )
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        reasons = []
        for reference in summary["references"]:
            with ResultStore.open(Path(reference["store"])) as store:
                reasons += [(t.number, t.state, t.failure_reason, t.stderr_tail) for t in store.trials()]
        assert [r["counts"]["complete"] for r in summary["references"]] == [2, 2], reasons
        sessions = [p for p in (Path(ray_tmp) / "ray").iterdir() if p.name.startswith("session_2")]
        assert len(sessions) == 1
        # The cluster went down with the process.
        end = time.monotonic() + 30
        while processes_mentioning(ray_tmp) and time.monotonic() < end:
            time.sleep(0.1)
        assert processes_mentioning(ray_tmp) == []
    finally:
        for pid in processes_mentioning(ray_tmp):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)


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


def test_an_unreachable_address_fails_fast_with_one_line(tmp_path: Path, definition: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    manifest = write_manifest(tmp_path, steps=1)
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "HOME": str(tmp_path)}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "hpo_engine.cli", "run", str(manifest), "--results", str(tmp_path / "r"),
         "--backend", "ray", "--ray-address", f"127.0.0.1:{port}"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"cannot reach the Ray cluster at 127.0.0.1:{port}" in lines[0]
    assert "ray start --head" in lines[0]

