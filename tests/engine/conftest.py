"""Fixtures for engine tests (store, scheduler, results, CLI): manifests whose trials are tiny real programs.

Manifests are written as JSON, which is YAML. Trials run ``python3 train.py``: the engine
puts the interpreter running hpo first on ``PATH``, so ``python3`` is this test's Python.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

#: Objective ``score = x + y``, written as val_dict_list.json; appends "SUBID PGID" to $HPO_TEST_STARTS,
#: writes a ``marker`` file in its working folder, and can wait for sibling trials ($HPO_TEST_SHARED).
SCORE_PROGRAM = """
import json, os, time
values = json.load(open("config.json"))
starts = os.environ.get("HPO_TEST_STARTS")
if starts:
    with open(starts, "a") as handle:
        handle.write(f"{os.environ['SUBID']} {os.getpgid(0)}\\n")
open("marker", "w").write(os.environ["SUBID"])
time.sleep(float(os.environ.get("HPO_TEST_SLEEP", "0")))
shared = os.environ.get("HPO_TEST_SHARED")  # wait (bounded) until HPO_TEST_WAIT_FOR trials have started
if shared:
    open(os.path.join(shared, "started-" + os.environ["SUBID"]), "w").close()
    limit = time.monotonic() + 20
    while len(os.listdir(shared)) < int(os.environ["HPO_TEST_WAIT_FOR"]) and time.monotonic() < limit:
        time.sleep(0.01)
flag = os.environ.get("HPO_TEST_SLOW_FLAG")
while flag and os.path.exists(flag):
    time.sleep(0.05)
score = float(values["x"]) + float(values["y"])
json.dump([{"steps": 0, "score": score / 2}, {"steps": 1, "score": score}],
          open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w"))
"""

DEFAULT_SPACE = [
    {"name": "x", "double_range": {"min_value": 0.0, "max_value": 1.0}},
    {"name": "y", "int_values": [1, 2, 3]},
]


@dataclass
class Experiment:
    manifest: Path
    results: Path
    name: str
    reference: str

    @property
    def folder(self) -> Path:
        return self.results / self.name / self.reference

    def rows(self) -> list[tuple[int, str, int]]:
        """``(number, state, attempts)`` read straight from SQLite (works while hpo runs)."""
        path = self.folder / "trials.sqlite"
        if not path.exists():
            return []
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
            try:
                return db.execute("SELECT number, state, attempts FROM trials ORDER BY number").fetchall()
            finally:
                db.close()
        except sqlite3.Error:
            return []


@pytest.fixture
def make_experiment(tmp_path: Path) -> Callable[..., Experiment]:
    """``make_experiment(program=SCORE_PROGRAM, steps=4, method="random", space=..., **method_params)``."""

    def build(
        program: str = SCORE_PROGRAM,
        *,
        steps: int = 4,
        method: str = "random",
        space: list[dict[str, Any]] | None = None,
        objective: str = "score",
        direction: str = "maximize",
        name: str = "exp",
        reference: str = "ref",
        definition_url: str = "definition",
        command: str = "python3 train.py",
        **params: Any,
    ) -> Experiment:
        definition = tmp_path / "definition"
        definition.mkdir(exist_ok=True)
        (definition / "train.py").write_text(textwrap.dedent(program), encoding="utf-8")
        parameters = [
            {"name": "objective", "string_value": objective},
            {"name": "maximize_or_minimize", "string_value": direction},
            {"name": "num_optimizer_steps", "int_value": steps},
        ]
        for key, value in params.items():
            kind = "int_value" if isinstance(value, int) else "double_value" if isinstance(value, float) else "string_value"
            parameters.append({"name": key, kind: value})
        manifest = {
            "settings": {"name": name},
            "training_references": [
                {
                    "name": reference,
                    "training_definition_url": definition_url,
                    "command": command,
                    "compute_configuration": {"name": "k80"},
                    "hyper_parameters_optimization": {
                        "method": {"name": method, "parameters": parameters},
                        "hyper_parameters": space if space is not None else DEFAULT_SPACE,
                    },
                }
            ],
        }
        path = tmp_path / f"{name}.yaml"
        path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return Experiment(manifest=path, results=tmp_path / "results", name=name, reference=reference)

    return build


def wait_until(condition: Callable[[], Any], timeout: float = 60.0, interval: float = 0.05) -> Any:
    """Poll ``condition`` until it returns a true value; fail the test after ``timeout`` seconds."""
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie or a vanished process does not), read from ``/proc``."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def hpo_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hpo_engine.cli", *args]


@pytest.fixture(name="kill_groups_from")
def kill_groups_from_fixture() -> Callable[[Path], None]:
    """:func:`kill_groups_from`, for tests that SIGKILL ``hpo run`` and must stop its orphaned trials."""
    return kill_groups_from


def kill_groups_from(starts: Path) -> None:
    """Kill the process groups listed in a starts log (orphaned trials of a SIGKILLed run)."""
    if not starts.exists():
        return
    for line in starts.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                os.killpg(int(parts[1]), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
