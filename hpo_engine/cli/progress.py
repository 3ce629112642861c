"""What ``hpo run`` shows: a rich progress bar, one line per finished trial, the results table.

:class:`RichReporter` is the terminal display; the base :class:`~hpo_engine.runner.scheduler.Reporter`
(``--quiet``) shows nothing; :class:`JsonReporter` (``--json``) stays silent and
:func:`run_summary_json` builds the one JSON document printed at the end.
Trial numbers are shown 0-based, as ``SUBID``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Column, Table
from rich.text import Text

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.runner.scheduler import ReferenceSummary, Reporter, RunStatus
from hpo_engine.runner.results import BEST_CONFIG_FILENAME, best_trial, sort_trials
from hpo_engine.runner.store import ExperimentRecord, TrialRecord

__all__ = [
    "RichReporter",
    "JsonReporter",
    "format_value",
    "format_values",
    "results_table",
    "run_summary_json",
]

_STATE_STYLE = {
    TrialState.COMPLETE: "green",
    TrialState.FAILED: "red",
    TrialState.INTERRUPTED: "yellow",
    TrialState.RUNNING: "cyan",
}


def format_value(value: Any) -> str:
    """Short text of a hyper-parameter or metric value (floats to 4 significant digits)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    return str(value)


def format_values(values: Mapping[str, Any]) -> str:
    """``name=value name=value`` for a point."""
    return " ".join(f"{name}={format_value(value)}" for name, value in values.items())


def _duration(trial: TrialRecord) -> str:
    return "" if trial.duration is None else f"{trial.duration:.1f}s"


def results_table(
    experiment: ExperimentRecord,
    trials: Sequence[TrialRecord],
    *,
    limit: int | None = None,
    title: str | None = None,
    folder: Path | None = None,
) -> Table:
    """Trials sorted by objective (best first) with their values, state and duration."""
    names = [str(spec["name"]) for spec in experiment.search_space]
    arrow = "↑" if experiment.maximize else "↓"
    table = Table(
        title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True
    )
    table.add_column("trial", justify="right")
    table.add_column("state")
    table.add_column(f"{experiment.objective} {arrow}", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("time", justify="right")
    ranked = sort_trials(trials, maximize=experiment.maximize)
    shown = ranked if limit is None else ranked[:limit]
    for trial in shown:
        objective = format_value(trial.objective) if trial.objective is not None else ""
        table.add_row(
            str(trial.number),
            Text(trial.state.value, style=_STATE_STYLE.get(trial.state, "")),
            objective,
            *(format_value(trial.values.get(name, "")) for name in names),
            _duration(trial),
        )
    if limit is not None and len(ranked) > limit:
        table.caption = f"{len(ranked) - limit} more trials: hpo results {folder or '<folder>'}"
    return table


class RichReporter(Reporter):
    """Live progress on a terminal; plain lines (and the final bar) when the output is a file."""

    def __init__(self, console: Console | None = None, *, table_rows: int = 10) -> None:
        self.console = console or Console()
        self.table_rows = table_rows
        self._progress: Progress | None = None
        self._task: Any = None
        self._experiment: ExperimentRecord | None = None
        self._trials: dict[int, TrialRecord] = {}
        self._running: set[int] = set()
        self._started: float | None = None

    # -- helpers ---------------------------------------------------------------------
    def _print(self, *objects: Any) -> None:
        target = self._progress.console if self._progress is not None else self.console
        target.print(*objects, highlight=False, soft_wrap=True)

    def _status(self) -> str:
        assert self._experiment is not None
        failed = sum(1 for t in self._trials.values() if t.state is TrialState.FAILED)
        parts = [f"running {len(self._running)}", f"failed {failed}"]
        best = best_trial(self._trials.values(), maximize=self._experiment.maximize)
        if best is not None:
            parts.insert(0, f"best {self._experiment.objective}={format_value(best.objective)} (trial {best.number})")
            parts.append(format_values(best.values))
        return " · ".join(parts)

    def _refresh(self) -> None:
        if self._progress is not None and self._task is not None:
            finished = sum(1 for t in self._trials.values() if t.finished)
            self._progress.update(self._task, completed=finished, status=self._status())

    # -- Reporter --------------------------------------------------------------------
    def reference_started(self, experiment: ExperimentRecord, folder: Path, trials: list[TrialRecord], parallel: int) -> None:
        self._experiment = experiment
        self._started = time.monotonic()
        self._trials = {t.number: t for t in trials}
        self._running = set()
        direction = "maximize" if experiment.maximize else "minimize"
        self.console.print(
            f"[bold]{escape(experiment.experiment)}[/] / [bold]{escape(experiment.reference)}[/]: {escape(experiment.method)}, "
            f"{direction} {escape(experiment.objective)}, {experiment.budget} trials, {parallel} at a time",
            highlight=False,
            soft_wrap=True,
        )
        self.console.print(f"results: {folder}", highlight=False, soft_wrap=True, markup=False)
        finished = sum(1 for t in trials if t.finished)
        if finished:
            self.console.print(f"resuming: {finished} trials already finished", highlight=False, soft_wrap=True)
        self._progress = Progress(
            SpinnerColumn(),
            BarColumn(bar_width=24, table_column=Column(no_wrap=True, min_width=24)),
            MofNCompleteColumn(table_column=Column(no_wrap=True, min_width=7)),
            TimeElapsedColumn(table_column=Column(no_wrap=True, min_width=7)),
            TextColumn(
                "{task.fields[status]}",
                table_column=Column(no_wrap=True, overflow="ellipsis", max_width=max(20, self.console.width - 50)),
            ),
            console=self.console,
            transient=False,
            disable=not self.console.is_terminal,  # in a log file the trial lines say it all
        )
        self._task = self._progress.add_task("trials", total=experiment.budget, completed=finished, status="")
        self._progress.start()
        self._refresh()

    def trial_started(self, number: int, values: Mapping[str, Any], rerun: bool) -> None:
        self._running.add(number)
        self._refresh()

    def trial_finished(self, record: TrialRecord) -> None:
        self._running.discard(record.number)
        self._trials[record.number] = record
        assert self._experiment is not None
        style = _STATE_STYLE.get(record.state, "")
        line = Text(f"trial {record.number:>3} ")
        line.append(f"{record.state.value:<11}", style=style)
        if record.state is TrialState.COMPLETE:
            line.append(f" {self._experiment.objective}={format_value(record.objective)}")
        line.append(f"  {format_values(record.values)}")
        if record.duration is not None:
            line.append(f"  {record.duration:.1f}s", style="dim")
        if record.state is not TrialState.COMPLETE and record.failure_reason:
            line.append(f"\n          {record.failure_reason}", style=style)
        self._print(line)
        self._refresh()

    def note(self, text: str, *, warning: bool = False) -> None:
        self._print(Text(text, style="yellow" if warning else "dim"))

    def reference_finished(self, summary: ReferenceSummary) -> None:
        self._trials = {t.number: t for t in summary.trials}
        self._running = set()
        self._refresh()
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        experiment = summary.experiment
        self.console.print()
        self.console.print(results_table(experiment, summary.trials, limit=self.table_rows, folder=summary.folder))
        counts = ", ".join(
            f"{summary.count(state)} {state.value}" for state in TrialState if summary.count(state)
        )
        style = "green" if summary.status in (RunStatus.COMPLETE, RunStatus.EXHAUSTED) else "red"
        elapsed = f" in {time.monotonic() - self._started:.1f}s" if self._started is not None else ""
        self.console.print(Text(f"{summary.message} ({counts or 'no trials'}){elapsed}", style=style), soft_wrap=True)
        best = summary.best
        if best is not None:
            self.console.print(
                f"[bold]best {escape(experiment.objective)} = {format_value(best.objective)}[/] (trial {best.number}): "
                f"{escape(format_values(best.values))}",
                highlight=False,
                soft_wrap=True,
            )
            self.console.print(f"best configuration: {summary.folder / BEST_CONFIG_FILENAME}", highlight=False, soft_wrap=True, markup=False)


class JsonReporter(Reporter):
    """Silent while running; ``--json`` prints :func:`run_summary_json` at the end."""


def _summary_entry(summary: ReferenceSummary) -> dict[str, Any]:
    best = summary.best
    return {
        "experiment": summary.experiment.experiment,
        "reference": summary.experiment.reference,
        "store": str(summary.folder),
        "status": summary.status.value,
        "message": summary.message,
        "method": summary.experiment.method,
        "objective": summary.experiment.objective,
        "direction": summary.experiment.direction,
        "budget": summary.experiment.budget,
        "launched": summary.launched,
        "counts": {state.value: summary.count(state) for state in TrialState},
        "best": None
        if best is None
        else {"number": best.number, "objective": best.objective, "values": dict(best.values)},
        "best_config": str(summary.folder / BEST_CONFIG_FILENAME) if best is not None else None,
        "exit_code": summary.exit_code,
    }


def run_summary_json(summaries: Sequence[ReferenceSummary], exit_code: int, error: str | None = None) -> dict[str, Any]:
    """The ``--json`` document: one entry per reference run, the exit code, and an error if any."""
    data: dict[str, Any] = {"exit_code": exit_code, "references": [_summary_entry(s) for s in summaries]}
    if error:
        data["error"] = error
    return data
