"""The ``hpo`` application: every command in the table, listed without importing it, and start-up
that imports only what the command needs (checked on ``sys.modules`` of a real process; no timing)."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hpo_engine.cli.app import COMMANDS, app, load_command
from tests.core.support import VALID

#: Libraries no command needs before it runs; each is imported, if at all, by the code that uses it.
HEAVY = ("optuna", "numpy", "plotly", "rbfopt", "pyomo", "ray", "boto3", "botocore", "sklearn", "skopt", "scipy", "matplotlib", "pandas", "optuna_dashboard")

#: Runs ``hpo ARGS`` in this process like the console script, then writes the imported module names as JSON to $MODULES.
PROBE = textwrap.dedent(
    """
    import json, os, sys
    from hpo_engine.cli import main
    sys.argv = ["hpo", *sys.argv[1:]]
    try:
        main()
    except SystemExit as exit:
        code = exit.code
    with open(os.environ["MODULES"], "w") as handle:
        json.dump({"exit": code, "modules": sorted(sys.modules)}, handle)
    """
)


def imported_by(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    """Exit code of ``hpo ARGS`` in a fresh interpreter and every module it imported."""
    out = tmp_path / "modules.json"
    subprocess.run([sys.executable, "-c", PROBE, *args], env={**os.environ, "MODULES": str(out)}, cwd=tmp_path,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=False)
    data = json.loads(out.read_text())
    return data["exit"], set(data["modules"])


def tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_help_lists_every_command_of_the_table_in_order() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    lines = [line.strip("│ ") for line in result.stdout.splitlines()]
    listed = [line.split()[0] for line in lines if line.split() and line.split()[0] in COMMANDS]
    assert listed == list(COMMANDS)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_row_names_its_command_and_its_summary_is_the_help_first_paragraph(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert command.help is not None
    assert inspect.cleandoc(command.help).split("\n\n")[0] == COMMANDS[name].summary


def test_a_mistyped_command_is_a_usage_error_with_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["valdate", "x.yaml"])
    assert result.exit_code == 2
    assert "No such command 'valdate'. Did you mean 'validate'?" in result.output


def test_help_imports_no_command_module_and_no_heavy_library(tmp_path: Path) -> None:
    code, modules = imported_by(tmp_path, "--help")
    assert code == 0
    assert not tops(modules) & set(HEAVY)
    assert not {m for m in modules if m.startswith(("hpo_engine.runner", "hpo_engine.optimizers", "hpo_engine.manifest"))}
    assert not {m for m in modules if m.endswith("_cmd")}


def test_validate_imports_the_manifest_core_only(tmp_path: Path) -> None:
    manifest = tmp_path / "small.yaml"
    manifest.write_text(VALID, encoding="utf-8")
    code, modules = imported_by(tmp_path, "validate", str(manifest))
    assert code == 0
    assert "hpo_engine.manifest.validation" in modules
    assert not tops(modules) & {*HEAVY, "jsonschema"}  # jsonschema explains errors; a valid file needs none
    assert not {m for m in modules if m.startswith(("hpo_engine.runner", "hpo_engine.optimizers"))}
    assert {m for m in modules if m.endswith("_cmd")} == {"hpo_engine.cli.validate_cmd"}


def test_run_random_imports_numpy_but_no_other_optimizer_or_storage_library(make_experiment, tmp_path: Path) -> None:
    experiment = make_experiment(steps=1, method="random")
    code, modules = imported_by(tmp_path, "run", str(experiment.manifest), "--results", str(experiment.results), "--quiet")
    assert code == 0
    assert len(experiment.rows()) == 1  # the trial ran
    assert "numpy" in modules  # random search draws with numpy's seeded generator
    assert not tops(modules) & (set(HEAVY) - {"numpy"})


@pytest.mark.parametrize("command", ["run", "sync"])
def test_an_unreadable_manifest_is_one_line_named_after_its_command(command: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [command, str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"hpo {command}: {tmp_path / 'missing.yaml'}: no such file"]
