"""The scheduler: run the optimization of one training reference, trial by trial.

One run of :func:`run_reference`:

1. opens (``--resume``) or creates the :class:`~hpo_engine.runner.store.ResultStore` of the
   reference and takes its lock (one ``hpo run`` per store at a time);
2. on resume, turns trials left ``RUNNING`` by a killed run into ``INTERRUPTED`` and
   reruns them first, with their number and values (phase 1);
3. builds the optimizer, warm-started from every finished trial (phase 2), and keeps up
   to ``parallel`` trials running through a :class:`~hpo_engine.runner.backends.TrialBackend`,
   asking the optimizer for a point each time a slot frees;
4. stops when ``num_optimizer_steps`` trials are finished (COMPLETE or FAILED), when the
   optimizer has no point left, when more than ``max_failed_trials`` trials failed, or
   when asked to (Ctrl-C / SIGTERM): running trials are then cancelled and recorded
   ``INTERRUPTED``.

Every trial is written ``RUNNING`` before it is launched and gets its outcome after it
finished, each in its own transaction, so killing the process at any moment loses no
finished trial.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hpo_engine.runner.backends import TrialBackend, TrialOutcome, TrialSpec, backend_class, make_backend

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.errors import HpoError, OptimizerError
from hpo_engine.manifest.model import Manifest, TrainingReference
from hpo_engine.runner.early_stopping.monitor import EarlyStopper, stopping_backend_options
from hpo_engine.runner.storage.run_storage import RunStorage, open_run_storage
from hpo_engine.runner.store import (
    ResultStore,
    TrialRecord,
    store_folder,
)
from hpo_engine.runner.run_control import EXIT_ERROR, EXIT_OK, EXIT_TOO_MANY_FAILURES, ReferenceSummary, Reporter, RunOptions, RunStatus, StopRequest, handle_stop_signals
from hpo_engine.runner.experiment_folder import experiment_record, locked, open_store, set_aside

if TYPE_CHECKING:  # the optimizers (numpy, rbfopt) are imported when a run starts, not at CLI start-up
    from hpo_engine.optimizers.base import Optimizer

__all__ = [
    "RunOptions",
    "RunStatus",
    "ReferenceSummary",
    "StopRequest",
    "Reporter",
    "run_reference",
    "run_manifest",
    "references_to_run",
    "handle_stop_signals",
    "trial_environment",
    "EXIT_OK",
    "EXIT_ERROR",
    "EXIT_TOO_MANY_FAILURES",
]


OPTIMIZER_LOG = "optimizer.log"
#: The run's read-only copy of the training definition, hard-linked into every trial folder.
DEFINITION_SNAPSHOT = "definition"


def references_to_run(manifest: Manifest, name: str | None = None) -> list[TrainingReference]:
    """The references ``hpo run`` optimizes: those with ``hyper_parameters_optimization``, or ``name``."""
    with_hpo = [r for r in manifest.references if r.optimization is not None]
    if name is not None:
        for reference in manifest.references:
            if reference.name == name:
                if reference.optimization is None:
                    raise HpoError(f"training reference {name!r} has no hyper_parameters_optimization section")
                return [reference]
        choices = ", ".join(repr(r.name) for r in with_hpo) or "none"
        raise HpoError(f"no training reference named {name!r} (references with hyper_parameters_optimization: {choices})")
    if not with_hpo:
        raise HpoError("no training reference has a hyper_parameters_optimization section: nothing to run")
    return with_hpo


def trial_environment() -> dict[str, str]:
    """Extra environment of every trial: this interpreter's folder first on ``PATH``.

    So a manifest's ``command: python3 train.py`` (or ``python``) runs with the same Python,
    and the same installed packages, as ``hpo`` itself.
    """
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", os.defpath)
    parts = [p for p in path.split(os.pathsep) if p and p != bin_dir]
    return {"PATH": os.pathsep.join([bin_dir, *parts])}


def _data_dir(manifest: Manifest, options: RunOptions) -> str | None:
    """``--data-dir``, else ``$DATA_DIR``, else the local folder of ``training_data_reference``.

    The folder is ``connection.path``, ``target.path`` or ``source.path`` (relative to the
    manifest) when it exists on this machine; object-store references give nothing.
    """
    if options.data_dir:
        return str(Path(options.data_dir).expanduser().resolve())
    if os.environ.get("DATA_DIR"):
        return os.environ["DATA_DIR"]
    ref = manifest.training_data_reference
    if isinstance(ref, Mapping):
        parts = [ref.get(key) if isinstance(ref.get(key), Mapping) else {} for key in ("connection", "target", "source")]
        for candidate in [part.get("path") for part in parts] + [ref.get("path")]:
            if isinstance(candidate, str) and "://" not in candidate:
                path = Path(candidate).expanduser()
                path = path if path.is_absolute() else manifest.base_dir / path
                if path.is_dir():
                    return str(path.resolve())
    return None


class _ReferenceRun:
    """State of one reference's run; see :func:`run_reference`."""

    def __init__(self, manifest: Manifest, reference: TrainingReference, options: RunOptions, reporter: Reporter, stop: StopRequest) -> None:
        assert reference.optimization is not None
        self.manifest = manifest
        self.reference = reference
        self.method = reference.optimization.method
        self.space = reference.optimization.space
        self.options = options
        self.reporter = reporter
        self.stop = stop
        self.parallel = max(1, options.parallel or self.method.max_concurrent_trials)
        self.budget = self.method.num_optimizer_steps
        self.running: dict[int, Mapping[str, Any]] = {}
        self.asked: set[int] = set()  # numbers whose point this optimizer proposed
        self.launched = 0
        self.status: RunStatus | None = None
        self.message = ""
        self.definition_dir: Path | None = None
        self.data_dir = _data_dir(manifest, options)
        self.extra_env = trial_environment()
        self.stopper = EarlyStopper(self.method.early_stopping, maximize=self.method.maximize, step_name=self.method.time_interval)
        self.storage = RunStorage.local()

    # -- building trials -------------------------------------------------------------
    def spec(self, store: ResultStore, number: int, values: Mapping[str, Any]) -> TrialSpec:
        compute = self.reference.compute_configuration
        return TrialSpec(
            experiment=self.manifest.settings.name,
            reference=self.reference.name,
            number=number,
            values=dict(values),
            command=self.reference.command or "",
            definition_dir=self.definition_dir,
            trial_dir=store.trial_dir(number).resolve(),
            objective=self.method.objective,
            metrics_filename=self.method.filename,
            time_interval=self.method.time_interval,
            timeout_seconds=self.method.trial_timeout_seconds,
            data_dir=self.data_dir,
            compute_name=compute.name,
            compute_nodes=compute.nodes,
            extra_env=self.extra_env,
            withheld_env=self.storage.withheld_env,
        )

    def launch(self, store: ResultStore, backend: TrialBackend, number: int, values: Mapping[str, Any], rerun: bool) -> None:
        if rerun:
            set_aside(store, number)
            self.stopper.forget(number)
        store.record_running(number, values)
        self.running[number] = values
        self.launched += 1
        backend.launch(self.spec(store, number, values))
        self.reporter.trial_started(number, values, rerun)

    # -- outcomes --------------------------------------------------------------------
    def settle(self, store: ResultStore, outcome: TrialOutcome, optimizer: Optimizer | None) -> TrialRecord:
        values = self.running.pop(outcome.number, None)
        outcome = self.stopper.settled(outcome)
        state, reason = outcome.state, outcome.failure_reason if outcome.state is TrialState.PRUNED else None
        if state is TrialState.FAILED and (self.stop.requested or outcome.exit_code in (-signal.SIGINT, 130)):
            # killed by the same Ctrl-C that stops the run: not the program's fault, rerun it on resume
            state, reason = TrialState.INTERRUPTED, "interrupted (Ctrl-C)"
        elif state is TrialState.INTERRUPTED:
            reason = outcome.failure_reason or "interrupted"
        record = store.record_outcome(outcome, state=state, failure_reason=reason)
        if optimizer is not None and outcome.number in self.asked and record.finished and values is not None:
            if record.state is TrialState.PRUNED:
                optimizer.tell_pruned(dict(values), record.objective, record.step_reached)
            else:
                optimizer.tell(dict(values), record.objective if record.state is TrialState.COMPLETE else None)
        self.reporter.trial_finished(record)
        if (warning := self.stopper.warning_for(record, self.method.objective)) is not None:
            self.reporter.note(warning, warning=True)
        self.storage.uploads.trial_finished(record)
        return record

    def failed_count(self, store: ResultStore) -> int:
        return len(store.trials([TrialState.FAILED]))

    def over_failure_limit(self, store: ResultStore) -> bool:
        failed = self.failed_count(store)
        if failed > self.method.max_failed_trials:
            self.status = RunStatus.TOO_MANY_FAILURES
            self.message = (
                f"stopped: {failed} trials failed, more than max_failed_trials={self.method.max_failed_trials} "
                f"(see the failure reasons and the logs in {store.folder / 'trials'}/<number>/). "
                "Failed trials are kept and count toward num_optimizer_steps: fix the training program, then either "
                "raise max_failed_trials in the manifest and run `hpo run --resume`, or delete "
                f"{store.folder} to start over"
            )
            return True
        return False

    def collect(self, store: ResultStore, backend: TrialBackend, optimizer: Optimizer | None, timeout: float) -> None:
        self.storage.uploads.trials_launched()  # the uploader prepares its client now, off the way to the first launches
        outcomes = backend.wait(self.stopper.wait_seconds(timeout))
        self.stopper.poll(store, backend, self.running)  # before the outcomes: a trial's last values while it is RUNNING
        for outcome in outcomes:
            self.settle(store, outcome, optimizer)

    def cancel_running(self, store: ResultStore, backend: TrialBackend, reason: str) -> None:
        """Cancel every running trial, record what they report, mark the silent ones INTERRUPTED."""
        if self.running:
            backend.cancel_all()
            deadline = time.monotonic() + self.options.cancel_grace_seconds
            while self.running and backend.running and time.monotonic() < deadline:
                for outcome in backend.wait(min(1.0, max(0.0, deadline - time.monotonic()))):
                    self.settle(store, _as_interrupted(outcome, reason), None)
        if self.running:
            store.mark_interrupted(reason, numbers=sorted(self.running))
            for number in sorted(self.running):
                record = store.trial(number)
                if record is not None:
                    self.reporter.trial_finished(record)
            self.running.clear()

    # -- the loop --------------------------------------------------------------------
    def can_launch(self, store: ResultStore) -> bool:
        return (
            self.status is None
            and not self.stop.requested
            and len(self.running) < self.parallel
            and store.finished_count() + len(self.running) < self.budget
        )

    def execute(self, store: ResultStore, backend: TrialBackend, log: IO[str]) -> None:
        # phase 1: rerun the interrupted trials, same numbers and values
        reruns = [t for t in store.trials([TrialState.INTERRUPTED]) if not t.finished]
        reruns = reruns[: max(0, self.budget - store.finished_count())]
        if reruns:
            self.reporter.note(f"rerunning {len(reruns)} interrupted trial(s) with their values: {', '.join(str(t.number) for t in reruns)}")
        if not self.over_failure_limit(store):
            while (reruns or self.running) and not self.stop.requested:
                while reruns and self.can_launch(store):
                    trial = reruns.pop(0)
                    self.launch(store, backend, trial.number, trial.values, rerun=True)
                self.collect(store, backend, None, self.options.poll_seconds)
                if self.over_failure_limit(store):
                    break
        if self.status is not None or self.stop.requested:
            return
        # phase 2: the optimizer, warm-started from every finished trial
        if store.finished_count() >= self.budget:
            return
        optimizer = _make_optimizer(self, store, log)
        try:
            next_number = store.next_number()
            while True:
                while self.can_launch(store):
                    try:
                        values = optimizer.ask()
                    except OptimizerError as exc:
                        self.status = RunStatus.EXHAUSTED
                        self.message = f"the optimizer has no more points to propose: {exc}"
                        break
                    self.asked.add(next_number)
                    self.launch(store, backend, next_number, values, rerun=False)
                    next_number += 1
                if not self.running:
                    break
                self.collect(store, backend, optimizer, self.options.poll_seconds)
                if self.status is None and self.over_failure_limit(store):
                    break
                if self.stop.requested:
                    break
        finally:
            optimizer.close()


def _as_interrupted(outcome: TrialOutcome, reason: str) -> TrialOutcome:
    if outcome.state is TrialState.COMPLETE:
        return outcome
    return TrialOutcome(
        number=outcome.number,
        state=TrialState.INTERRUPTED,
        objective=None,
        metrics=outcome.metrics,
        exit_code=outcome.exit_code,
        failure_reason=reason,
        stderr_tail=outcome.stderr_tail,
        started_at=outcome.started_at,
        ended_at=outcome.ended_at,
        stdout_path=outcome.stdout_path,
        stderr_path=outcome.stderr_path,
    )


def _adopt_unwatched(run: _ReferenceRun, store: ResultStore) -> list[int]:
    """Record the trials still marked running whose command completed after the previous run died; their numbers.

    Only a COMPLETE outcome is adopted (the launcher's ``hpo-exit.json`` says the command
    ended by itself with its result files in place); anything else is rerun.
    """
    from hpo_engine.runner.trials.execute import finished_unwatched

    adopted = []
    for trial in store.trials([TrialState.RUNNING]):
        outcome = finished_unwatched(run.spec(store, trial.number, trial.values), trial.started_at)
        if outcome is not None and outcome.state is TrialState.COMPLETE:
            store.record_outcome(outcome)
            adopted.append(trial.number)
    return adopted


def _make_optimizer(run: _ReferenceRun, store: ResultStore, log: IO[str]) -> Optimizer:
    from hpo_engine.optimizers import make_optimizer

    seed = store.experiment.seed
    optimizer = make_optimizer(
        run.method.name,
        run.space,
        maximize=run.method.maximize,
        seed=seed,
        budget=run.budget,
        log_stream=log,
        parameters=run.method.parameters,
    )
    history = [
        (dict(t.values), t.objective, "pruned") if t.state is TrialState.PRUNED else (dict(t.values), t.objective if t.state is TrialState.COMPLETE else None)
        for t in store.trials()
        if t.finished
    ]
    if history:
        optimizer.warm_start(history)
    return optimizer


def run_reference(
    manifest: Manifest,
    reference: TrainingReference,
    options: RunOptions = RunOptions(),
    *,
    reporter: Reporter | None = None,
    stop: StopRequest | None = None,
) -> ReferenceSummary:
    """Run (or resume) the optimization of ``reference``; see the module docstring."""
    from hpo_engine.runner.trials.definition import resolve_definition
    from hpo_engine.runner.trials.workdir import snapshot_definition

    if reference.optimization is None:
        raise HpoError(f"training reference {reference.name!r} has no hyper_parameters_optimization section")
    reporter = reporter or Reporter()
    stop = stop or StopRequest()
    folder = store_folder(options.results_root, manifest.settings.name, reference.name)
    run = _ReferenceRun(manifest, reference, options, reporter, stop)
    seed = options.seed if options.seed is not None else run.method.random_seed
    with locked(folder):
        # before the store exists: bad storage settings or definition must not leave an empty experiment behind
        on_nodes = backend_class(options.backend).data_on_nodes
        run.storage = open_run_storage(manifest, reference, folder, reporter, data_dir=run.data_dir, data_on_nodes=on_nodes)
        run.data_dir = run.storage.data_dir
        run.definition_dir = resolve_definition(
            reference.training_definition_url, manifest.base_dir, options.definition, folder / "definition-cache",
            fetch=run.storage.fetch_definition,
        )
        if run.definition_dir is not None:  # read-only, so that trial folders hard-link it rather than copy it
            run.definition_dir = snapshot_definition(run.definition_dir, folder / DEFINITION_SNAPSHOT)
        record = experiment_record(manifest, reference, seed if seed is not None else random.SystemRandom().randrange(2**31))
        created = not ResultStore.exists(folder)
        store = open_store(folder, record, options.resume, reporter)
        discard = False
        try:
            adopted = _adopt_unwatched(run, store)
            interrupted = store.mark_interrupted("the previous `hpo run` stopped while it ran")
            reporter.reference_started(store.experiment, folder, store.trials(), run.parallel)
            run.storage.start(store.trials())
            if adopted:
                which = f"trial {adopted[0]}" if len(adopted) == 1 else f"trials {', '.join(map(str, adopted))}"
                reporter.note(f"{which} finished while no `hpo run` was watching: recorded from its folder, not rerun")
            if interrupted:
                which = f"trial {interrupted[0]} was" if len(interrupted) == 1 else f"trials {', '.join(map(str, interrupted))} were"
                reporter.note(f"{which} running when the previous run stopped")
            run.stopper.replay(store)
            extra = stopping_backend_options(run.method.early_stopping, run.method.parameters, options.backend_options)
            if run.storage.node_data is not None:
                extra["data_source"] = run.storage.node_data
            backend = make_backend(options.backend, max_parallel=run.parallel, **extra)
            with open(folder / OPTIMIZER_LOG, "a", encoding="utf-8") as log, backend:
                try:
                    run.execute(store, backend, log)
                except BaseException:
                    run.cancel_running(store, backend, "interrupted: hpo run stopped on an error")
                    raise
                if stop.requested:
                    run.status = RunStatus.INTERRUPTED
                    run.message = "interrupted: running trials were stopped; `hpo run --resume` reruns them"
                    run.cancel_running(store, backend, "interrupted (Ctrl-C)")
                elif run.status is RunStatus.TOO_MANY_FAILURES:
                    run.cancel_running(store, backend, "cancelled: too many failed trials")
                else:
                    while run.running:
                        run.collect(store, backend, None, options.poll_seconds)
            if run.status is None:
                run.status = RunStatus.COMPLETE
                run.message = f"{store.finished_count()} of {run.budget} trials finished"
            elif run.status is RunStatus.EXHAUSTED:
                run.message += f" ({store.finished_count()} of {run.budget} trials finished)"
            trials = store.trials()
            from hpo_engine.runner.results import best_trial, write_best_config

            best = best_trial(trials, maximize=run.method.maximize)
            if best is not None:
                write_best_config(folder, best)
            run.storage.uploads.finish(trials)
            summary = ReferenceSummary(
                experiment=store.experiment,
                folder=folder,
                status=run.status,
                message=run.message,
                trials=tuple(trials),
                best=best,
                launched=run.launched,
                signal_number=stop.signal_number,
                early_stopping=run.method.early_stopping,
            )
        except HpoError:
            # e.g. an optimizer that cannot search this space: leave no empty experiment behind
            discard = created and run.launched == 0
            raise
        finally:
            run.storage.close()
            store.close()
            if discard:
                ResultStore.remove(folder)
    reporter.reference_finished(summary)
    return summary


def run_manifest(
    manifest: Manifest,
    options: RunOptions = RunOptions(),
    *,
    reference_name: str | None = None,
    reporter: Reporter | None = None,
    stop: StopRequest | None = None,
    on_summary: Callable[[ReferenceSummary], None] | None = None,
) -> list[ReferenceSummary]:
    """Run every reference with ``hyper_parameters_optimization`` (or only ``reference_name``), in order.

    Stops after a reference that did not complete (interrupted, too many failures).
    ``on_summary`` is called with each reference's summary as soon as it is done (so a caller
    interrupted in a later reference still has the earlier ones).
    """
    summaries = []
    stop = stop or StopRequest()
    for reference in references_to_run(manifest, reference_name):
        summary = run_reference(manifest, reference, options, reporter=reporter, stop=stop)
        summaries.append(summary)
        if on_summary is not None:
            on_summary(summary)
        if summary.status in (RunStatus.INTERRUPTED, RunStatus.TOO_MANY_FAILURES):
            break
    return summaries
