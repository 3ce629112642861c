"""The typer application ``hpo`` and its command table; each command lives in its own ``*_cmd`` module.

A command's module is imported only when that command runs: ``hpo validate`` does not pay for
the engine (the scheduler, numpy, optuna), and ``hpo --help`` lists every command from the
one-line summaries in :data:`COMMANDS` without importing any of them. This is click's documented
lazy loading of subcommands, on typer's public ``TyperGroup``: the group overrides
``resolve_command`` (a documented ``Group`` method; click's own example overrides ``get_command``,
which the help listing calls too, and would import every command to list it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

__all__ = ["app", "COMMANDS", "CommandRow", "LazyCommandGroup", "load_command"]


@dataclass(frozen=True)
class CommandRow:
    """One ``hpo`` command: ``target`` is ``"module:function"`` (a typer command function with
    ``Annotated`` parameters, its docstring the help), ``summary`` the first paragraph of that
    docstring, which ``hpo --help`` lists (``tests/engine/cli/test_app.py`` keeps them equal)."""

    target: str
    summary: str


#: Command name -> its row, in the order ``hpo --help`` lists them.
COMMANDS: dict[str, CommandRow] = {
    "validate": CommandRow("hpo_engine.cli.validate_cmd:validate_command", "Check manifests against the schema and the rules a schema cannot say."),
    "preview": CommandRow("hpo_engine.cli.preview_cmd:preview_command", "Show each reference's hyper-parameters, combination count and first points."),
    "run": CommandRow("hpo_engine.cli.run_cmd:run_command", "Run the hyper-parameter optimization of MANIFEST: num_optimizer_steps trials per training reference."),
    "results": CommandRow("hpo_engine.cli.results_cmd:results_command", "Show the best trials (best first; 20 unless --limit or --all) and write best_config.json beside each store."),
    "plot": CommandRow("hpo_engine.cli.plot_cmd:plot_command", "Draw what the search learned: history, slice, parallel coordinates, importance, contour, learning curves."),
    "sync": CommandRow("hpo_engine.cli.sync_cmd:sync_command", "Upload every result file not yet in the bucket (exactly those: the upload journal knows the rest)."),
    "export": CommandRow("hpo_engine.cli.export_cmd:export_command", "Export an experiment's trials to an Optuna storage URL, or as CSV / JSON."),
    "dashboard": CommandRow("hpo_engine.cli.dashboard_cmd:dashboard_command", "Serve a live page and optuna-dashboard over the results (read-only), following a run while it goes."),
}


def load_command(name: str) -> TyperCommand:
    """Import command ``name``'s module and build its click command (typer's documented ``typer.main.get_command``)."""
    module_name, _, function_name = COMMANDS[name].target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    single = typer.Typer(add_completion=False)
    single.command(name)(function)
    command = typer.main.get_command(single)
    assert isinstance(command, TyperCommand)
    return command


class LazyCommandGroup(TyperGroup):
    """The ``hpo`` group: ``commands`` holds a help-only entry per row of :data:`COMMANDS` (what the
    listing, ``no_args_is_help`` and "Did you mean ...?" read); :meth:`resolve_command`, which click
    calls to run a command, swaps in the real command, imported then."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, row in COMMANDS.items():
            self.commands.setdefault(name, TyperCommand(name=name, help=row.summary))
        self._loaded: dict[str, TyperCommand] = {}

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name in COMMANDS:
            if name not in self._loaded:
                self._loaded[name] = load_command(name)
            command = self._loaded[name]
        return name, command, rest


app = typer.Typer(
    name="hpo",
    cls=LazyCommandGroup,
    help="Validate, preview and run hyper-parameter optimization manifests (IBM WML HPO format).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def hpo() -> None:
    """The group itself does nothing; a command runs (typer builds a group only for an app with a callback or several commands)."""
