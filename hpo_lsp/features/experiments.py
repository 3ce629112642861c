"""Running experiments from the editor: ``hpo.runExperiment`` and friends.

The run itself is ``hpo run <saved manifest> --results <root> --quiet --json`` in a
separate process (``sys.executable -m hpo_engine.cli``), never inside the server. The
server polls the run's SQLite result stores (:mod:`hpo_engine.runner.store`) every
:data:`POLL_SECONDS` and turns what it finds into LSP work-done progress and
``hpo/trialFinished`` notifications. Nothing runs unless a client sends
``hpo.runExperiment``.

Commands (``workspace/executeCommand``; arguments are positional JSON values):

- ``hpo.runExperiment`` ``[uri, reference?, {"workDoneToken"?: token}?]`` -> run summary
  (see :func:`summary_json`) when the run has ended. The progress token can come from the
  third argument (pygls does not hand ``ExecuteCommandParams.workDoneToken`` to commands);
  without one the server creates its own when the client supports it.
- ``hpo.cancelExperiment`` ``[uri?]`` -> ``{"cancelled": bool}``; the progress's cancel
  (``window/workDoneProgress/cancel``) does the same.
- ``hpo.experimentResults`` ``[uri, resultsDir?]`` -> the summary of the run stored in
  ``resultsDir``, or of the manifest's preferred run (the newest complete one, else the
  newest), or ``null``; it has ``charts`` (:func:`hpo_engine.cli.plots.chart_data.charts_json`: history,
  axes, learning curves per store), ``pruning`` (reference -> early-stopping savings), ``run`` (see :func:`~hpo_lsp.run_results.run_json`) and
  ``runs`` (how many the manifest has).
- ``hpo.experimentRuns`` ``[uri]`` -> every run of the manifest, newest first
  (:func:`~hpo_lsp.run_results.run_json`: time, state, trials, best, resume command).
- ``hpo.runExperiment`` with ``{"resume": resultsDir}`` in its third argument continues that
  run (``hpo run <manifest> --results <resultsDir> --resume``); ``resultsDir`` must be one of
  the manifest's runs.

A manifest with errors is not run: one ``window/showMessage`` lists its first problems and the
command answers ``{"state": "invalid", "problems": [...]}`` (no results).

Notifications: ``hpo/trialFinished`` ``{uri, results_dir, reference, number, values, state,
objective, objective_name, metrics, step_reached, pruned_at}`` once per finished trial (complete,
failed, pruned or interrupted; ``results_dir`` is the run's results root, for a live results view), ``hpo/experimentOutput`` ``{uri, line}`` for the lines
``hpo run`` prints on stderr (errors only, it runs ``--quiet``).

Results of editor runs go to ``<manifest folder>/hpo-results/editor/<manifest stem>/<UTC
time>/`` (a new results root per run); reading them is :mod:`hpo_lsp.run_results`.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.errors import HpoError, ManifestError
from hpo_engine.runner.results import best_trial
from hpo_engine.runner.store import store_folder

from ..convert import plain_json
from ..run_results import (
    RunResults,
    StoreRead,
    editor_results_root,
    read_store,
    run_json,
    summary_json,
    trial_json,
    uri_to_path,
)

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

__all__ = [
    "RUN_COMMAND",
    "CANCEL_COMMAND",
    "RESULTS_COMMAND",
    "TRIAL_FINISHED",
    "EXPERIMENT_OUTPUT",
    "POLL_SECONDS",
    "RUNS_COMMAND",
    "register",
]

RUN_COMMAND = "hpo.runExperiment"
CANCEL_COMMAND = "hpo.cancelExperiment"
RESULTS_COMMAND = "hpo.experimentResults"
RUNS_COMMAND = "hpo.experimentRuns"
#: How many problems the "not run" message lists.
LISTED_PROBLEMS = 3
TRIAL_FINISHED = "hpo/trialFinished"
EXPERIMENT_OUTPUT = "hpo/experimentOutput"
#: Seconds between two looks at the result stores of a running experiment.
POLL_SECONDS = 0.5
#: After a cancel: seconds before SIGTERM, then before SIGKILL, of the run's process group.
TERMINATE_AFTER = 10.0
KILL_AFTER = 10.0
_FINISHED = (TrialState.COMPLETE, TrialState.FAILED, TrialState.PRUNED, TrialState.INTERRUPTED)
#: Trials that count toward ``num_optimizer_steps`` (a pruned trial counts, an interrupted one reruns).
_COUNTED = (TrialState.COMPLETE, TrialState.FAILED, TrialState.PRUNED)


# -- running ----------------------------------------------------------------------------
@dataclass
class _Run:
    uri: str
    manifest: Path
    root: Path
    folders: list[Path]
    total: int
    objective: str | None = None
    maximize: bool = True
    process: asyncio.subprocess.Process | None = None
    token: types.ProgressToken | None = None
    cancelled: bool = False
    reported: set[tuple[str, int]] = field(default_factory=set)
    #: ``trial 7 pruned at epoch 3`` for the last trial the stopping rule stopped (progress message).
    last_pruned: str | None = None
    stderr: list[str] = field(default_factory=list)


class Experiments:
    """The runs one server has started, by manifest uri (one run at a time per manifest)."""

    def __init__(self, server: LanguageServer, results: RunResults) -> None:
        self.server = server
        self.results = results
        self.runs: dict[str, _Run] = {}

    # messages ---------------------------------------------------------------------
    def _show(self, kind: types.MessageType, message: str) -> None:
        self.server.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def _notify(self, method: str, params: dict[str, Any]) -> None:
        self.server.protocol.notify(method, params)

    # the command ------------------------------------------------------------------
    def _not_run(self, uri: str, path: Path, exc: HpoError) -> dict[str, Any]:
        """One message listing the first problems (lines 1-based, as the CLI prints them)."""
        problems = [p for p in (getattr(exc, "problems", None) or []) if str(getattr(p.severity, "value", p.severity)) == "error"]
        listed = [f"line {p.span.start.line + 1}: {p.message}" for p in problems[:LISTED_PROBLEMS]]
        if problems:
            more = f" (and {len(problems) - LISTED_PROBLEMS} more)" if len(problems) > LISTED_PROBLEMS else ""
            noun = "error" if len(problems) == 1 else "errors"
            text = f"HPO: {path.name} was not run: {len(problems)} {noun} — " + "; ".join(listed) + more
            text += ("" if text.endswith((".", "?", "!")) else ".") + " See Problems."
        else:
            text = f"HPO: {path.name} was not run: {exc}"
        self._show(types.MessageType.Error, text)
        return {"uri": uri, "manifest": str(path), "state": "invalid", "trials": [], "best": None, "message": text, "problems": listed}

    async def run(self, uri: str, reference: str | None, token: types.ProgressToken | None, resume: str | None = None) -> dict[str, Any] | None:
        from hpo_engine.manifest.validation import load_manifest

        path = uri_to_path(uri)
        if path is None or not path.is_file():
            self._show(types.MessageType.Error, "HPO: save the manifest to a file before running it.")
            return None
        if uri in self.runs:
            self._show(types.MessageType.Warning, f"HPO: {path.name} is already running; stop it first (hpo.cancelExperiment).")
            return None
        ran_saved = self._warn_if_unsaved(uri, path)
        try:
            manifest = load_manifest(path)
            references = [r for r in manifest.references if r.optimization is not None and (reference is None or r.name == reference)]
            if reference is not None and not references:
                raise HpoError(f"no training reference named {reference!r} with hyper_parameters_optimization")
        except (ManifestError, HpoError) as exc:
            return self._not_run(uri, path, exc)

        if resume is not None:
            previous = self.results.run_at(path, Path(resume))
            if previous is None:
                self._show(types.MessageType.Error, f"HPO: {resume} holds no run of {path.name} to resume.")
                return None
            root = previous.root
        else:
            root = editor_results_root(path)
        run = _Run(
            uri=uri,
            manifest=path,
            root=root,
            folders=[store_folder(root, manifest.settings.name, r.name) for r in references],
            total=sum(r.optimization.method.num_optimizer_steps for r in references if r.optimization),
            objective=references[0].optimization.method.objective if references[0].optimization else None,
            maximize=references[0].optimization.method.maximize if references[0].optimization else True,
        )
        self.runs[uri] = run
        try:
            run.token = await self._begin_progress(token, f"HPO: {path.name}", run)
            return await self._execute(run, reference, ran_saved, resume is not None)
        finally:
            self.runs.pop(uri, None)

    def _warn_if_unsaved(self, uri: str, path: Path) -> bool:
        try:
            open_text = self.server.workspace.get_text_document(uri).source
            saved = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        if open_text.replace("\r\n", "\n") == saved.replace("\r\n", "\n"):
            return False
        self._show(types.MessageType.Warning, f"HPO: {path.name} has unsaved changes; running the saved file.")
        return True

    async def _begin_progress(self, token: types.ProgressToken | None, title: str, run: _Run) -> types.ProgressToken | None:
        progress = self.server.work_done_progress
        if token is None:
            capabilities = self.server.client_capabilities
            if not (capabilities.window and capabilities.window.work_done_progress):
                return None
            token = f"hpo-run-{os.getpid()}-{time.monotonic_ns()}"
            try:
                await progress.create_async(token)
            except Exception:  # the client refused: run without progress
                return None
        progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True, message=f"0/{run.total} trials", percentage=0))
        future = progress.tokens.get(token)
        if future is not None:  # window/workDoneProgress/cancel cancels this future
            future.add_done_callback(lambda f: f.cancelled() and self.cancel(run.uri))
        return token

    async def _execute(self, run: _Run, reference: str | None, ran_saved: bool, resume: bool = False) -> dict[str, Any]:
        command = [sys.executable, "-m", "hpo_engine.cli", "run", str(run.manifest), "--results", str(run.root), "--quiet", "--json"]
        if reference is not None:
            command += ["--reference", reference]
        if resume:
            command.append("--resume")
        run.process = await asyncio.create_subprocess_exec(
            *command,
            cwd=str(run.manifest.parent),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: a cancel reaches the trials too
        )
        _live_processes.add(run.process)
        stdout_task = asyncio.ensure_future(run.process.stdout.read())  # type: ignore[union-attr]
        stderr_task = asyncio.ensure_future(self._forward_stderr(run))
        try:
            while run.process.returncode is None:
                self._poll(run)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(run.process.wait()), POLL_SECONDS)
            await stderr_task
            stdout = await stdout_task
        finally:
            _live_processes.discard(run.process)
        reads = self._poll(run)
        exit_code = run.process.returncode
        state = "cancelled" if run.cancelled else ("complete" if exit_code == 0 else "failed")
        message = self._message(stdout, run, exit_code)
        summary = summary_json(run.uri, run.root, reads, state, exit_code=exit_code, message=message, ran_saved_file=ran_saved, manifest=str(run.manifest))
        stored = self.results.run_at(run.manifest, run.root)
        if stored is not None:  # the run as the history lists it (label, resume command)
            summary.update(run=run_json(run.manifest, stored), runs=len(self.results.runs(run.manifest)))
        if not reads:  # stopped or failed before any store was written: describe it from the manifest
            summary.update(objective=run.objective, maximize=run.maximize)
        if run.token is not None:
            done = sum(1 for r in reads for t in r.trials if t.state in _COUNTED)
            self.server.work_done_progress.end(run.token, types.WorkDoneProgressEnd(message=f"{state}: {done} trials"))
        if state == "failed":
            self._show(types.MessageType.Error, f"HPO: the run of {run.manifest.name} failed (exit code {exit_code}): {message}")
        return summary

    @staticmethod
    def _message(stdout: bytes, run: _Run, exit_code: int | None) -> str:
        try:
            data = json.loads(stdout.decode("utf-8", "replace") or "{}")
        except json.JSONDecodeError:
            data = {}
        parts = [str(r.get("message")) for r in data.get("references", []) if r.get("message")]
        if data.get("error"):
            parts.append(str(data["error"]))
        if not parts and run.stderr:
            parts.append(run.stderr[-1])
        if not parts and run.cancelled:
            parts.append("stopped before any trial finished")
        if not parts:
            parts.append(f"exit code {exit_code}")
        return "; ".join(parts)

    async def _forward_stderr(self, run: _Run) -> None:
        assert run.process is not None and run.process.stderr is not None
        async for raw in run.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                run.stderr.append(line)
                self._notify(EXPERIMENT_OUTPUT, {"uri": run.uri, "line": line})

    def _poll(self, run: _Run) -> list[StoreRead]:
        """Reads the stores; notifies new finished trials; reports progress. Returns what it read."""
        reads = [r for r in (read_store(f) for f in run.folders) if r is not None]
        done = running = pruned = 0
        best: tuple[float, str] | None = None
        for read in reads:
            for trial in read.trials:
                if trial.state is TrialState.RUNNING:
                    running += 1
                if trial.state not in _FINISHED:
                    continue
                if trial.state in _COUNTED:
                    done += 1
                if trial.state is TrialState.PRUNED:
                    pruned += 1
                key = (read.reference, trial.number)
                if key not in run.reported:
                    run.reported.add(key)
                    row = trial_json(read.reference, trial)
                    if trial.state is TrialState.PRUNED:
                        run.last_pruned = f"trial {trial.number} pruned at {row['pruned_at']}"
                    self._notify(TRIAL_FINISHED, {"uri": run.uri, "objective_name": read.objective, "results_dir": str(run.root), **row})
            top = best_trial(read.trials, maximize=read.maximize)
            if top is not None and top.objective is not None:
                if best is None or (top.objective > best[0] if read.maximize else top.objective < best[0]):
                    best = (top.objective, read.objective)
        if run.token is not None:
            text = f"{done}/{run.total} trials"
            if running:
                text += f" ({running} running)"
            if pruned:
                text += f", {pruned} pruned"
            if best is not None:
                text += f", best {best[1]} = {best[0]:.6g}"
            if run.cancelled:
                text += " (stopping)"
            if run.last_pruned:
                text += f" · {run.last_pruned}"
            percentage = int(100 * done / run.total) if run.total else None
            self.server.work_done_progress.report(run.token, types.WorkDoneProgressReport(message=text, percentage=percentage))
        return reads

    def cancel(self, uri: str | None) -> bool:
        """Asks the run of ``uri`` (or every run) to stop: SIGINT, then SIGTERM, then SIGKILL."""
        runs = [self.runs[uri]] if uri in self.runs else (list(self.runs.values()) if uri is None else [])
        for run in runs:
            if run.cancelled or run.process is None or run.process.returncode is not None:
                run.cancelled = True
                continue
            run.cancelled = True
            _signal_group(run.process, signal.SIGINT)
            asyncio.ensure_future(self._escalate(run.process))
        return bool(runs)

    @staticmethod
    async def _escalate(process: asyncio.subprocess.Process) -> None:
        for sig, delay in ((signal.SIGTERM, TERMINATE_AFTER), (signal.SIGKILL, KILL_AFTER)):
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(process.wait()), delay)
                return
            _signal_group(process, sig)

    def stored_results(self, uri: str, results_dir: str | None = None) -> dict[str, Any] | None:
        """The summary of the run in ``results_dir``, else of the manifest's preferred run."""
        path = uri_to_path(uri)
        if path is None:
            return None
        runs = self.results.runs(path)
        if results_dir is not None:
            run = self.results.run_at(path, Path(results_dir))
        else:
            run = next((r for r in runs if r.complete), runs[0] if runs else None)
        if run is None:
            return None
        return summary_json(uri, run.root, list(run.reads), "stored", manifest=str(path), run=run_json(path, run), runs=len(runs))

    def history(self, uri: str) -> list[dict[str, Any]]:
        """Every run of the manifest at ``uri``, newest first (for the client's picker)."""
        path = uri_to_path(uri)
        if path is None:
            return []
        return [run_json(path, run) for run in self.results.runs(path)]


def _signal_group(process: asyncio.subprocess.Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


_live_processes: set[asyncio.subprocess.Process] = set()


@atexit.register
def _stop_live_processes() -> None:  # the server exits: no run outlives it
    for process in list(_live_processes):
        if process.returncode is None:
            _signal_group(process, signal.SIGTERM)


# -- wiring -----------------------------------------------------------------------------
def _token_from(options: Any) -> types.ProgressToken | None:
    if isinstance(options, dict):
        token = options.get("workDoneToken")
        if isinstance(token, (str, int)) and not isinstance(token, bool):
            return token
    return None


def _resume_from(options: Any) -> str | None:
    if isinstance(options, dict) and isinstance(options.get("resume"), str) and options["resume"]:
        return options["resume"]
    return None


def register(server: LanguageServer) -> Experiments:
    """Adds ``hpo.runExperiment``, ``hpo.cancelExperiment``, ``hpo.experimentResults`` and
    ``hpo.experimentRuns`` to ``server`` (its ``run_results`` reads the stores)."""
    experiments = Experiments(server, getattr(server, "run_results", None) or RunResults())

    @server.command(RUN_COMMAND)
    async def run_experiment(ls: Any, *args: Any) -> dict[str, Any] | None:
        uri = args[0] if args and isinstance(args[0], str) else None
        if uri is None:
            raise ValueError(f"{RUN_COMMAND} needs the manifest's uri as its first argument")
        reference = args[1] if len(args) > 1 and isinstance(args[1], str) and args[1] else None
        options = plain_json(args[2]) if len(args) > 2 else None
        return await experiments.run(uri, reference, _token_from(options), _resume_from(options))

    @server.command(CANCEL_COMMAND)
    def cancel_experiment(ls: Any, *args: Any) -> dict[str, bool]:
        uri = args[0] if args and isinstance(args[0], str) else None
        return {"cancelled": experiments.cancel(uri)}

    @server.command(RESULTS_COMMAND)
    def experiment_results(ls: Any, *args: Any) -> dict[str, Any] | None:
        uri = args[0] if args and isinstance(args[0], str) else None
        results_dir = args[1] if len(args) > 1 and isinstance(args[1], str) and args[1] else None
        return experiments.stored_results(uri, results_dir) if uri else None

    @server.command(RUNS_COMMAND)
    def experiment_runs(ls: Any, *args: Any) -> list[dict[str, Any]]:
        uri = args[0] if args and isinstance(args[0], str) else None
        return experiments.history(uri) if uri else []

    return experiments
