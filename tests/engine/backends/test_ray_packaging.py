"""Zips between the driver and Ray workers (no Ray needed): what is packed, kept and refused."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from hpo_engine.runner.backends.ray_packaging import (
    TRIAL_OUTPUTS,
    pack_definition,
    pack_outputs,
    unpack_definition,
    unpack_outputs,
)
from hpo_engine.errors import TrialError


@pytest.fixture
def definition(tmp_path: Path) -> Path:
    folder = tmp_path / "definition"
    (folder / "pkg").mkdir(parents=True)
    (folder / "train.py").write_text("print('hi')\n")
    (folder / "pkg" / "model.py").write_text("X = 1\n")
    (folder / "run.sh").write_text("#!/bin/sh\necho run\n")
    (folder / "run.sh").chmod(0o755)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"\0")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref\n")
    # Results inside the definition (training_definition_url: .), as `hpo run` makes them.
    trial = folder / "hpo-results" / "exp" / "ref" / "trials" / "0"
    trial.mkdir(parents=True)
    (trial / "stdout.log").write_text("old\n")
    return folder


def names(data: bytes) -> set[str]:
    return set(zipfile.ZipFile(io.BytesIO(data)).namelist())


def test_the_definition_is_packed_without_caches_vcs_and_results(definition: Path) -> None:
    trial_dir = definition / "hpo-results" / "exp" / "ref" / "trials" / "3"
    data = pack_definition(definition, exclude=[trial_dir])
    assert names(data) == {"train.py", "pkg/model.py", "run.sh"}


def test_packing_is_deterministic_and_unpacking_happens_once(definition: Path, tmp_path: Path) -> None:
    first = pack_definition(definition)
    os.utime(definition / "train.py", (0, 0))
    assert pack_definition(definition) == first  # dates are not in the archive
    cache = tmp_path / "cache"
    target = unpack_definition(first, cache)
    assert unpack_definition(first, cache) == target
    assert [entry.name for entry in cache.iterdir()] == [target.name]
    assert (target / "pkg" / "model.py").read_text() == "X = 1\n"
    assert stat.S_IMODE((target / "run.sh").stat().st_mode) & 0o111  # still executable


def test_members_outside_the_folder_are_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("../escape.txt", "no")
    with pytest.raises(TrialError, match="would land outside its folder"):
        unpack_definition(buffer.getvalue(), tmp_path / "cache")
    assert not (tmp_path / "escape.txt").exists()


def test_outputs_come_back_and_replace_an_earlier_run(tmp_path: Path) -> None:
    worker = tmp_path / "worker"
    (worker / "result").mkdir(parents=True)
    (worker / "logs" / "0").mkdir(parents=True)
    (worker / "job-state").mkdir()
    (worker / "result" / "val_dict_list.json").write_text("[]")
    (worker / "logs" / "0" / "evaluation-metrics.txt").write_text("m\n")
    for name in ("config.json", "command.txt", "stdout.log", "stderr.log"):
        (worker / name).write_text(name)
    (worker / "train.py").write_text("the definition copy stays on the worker")
    driver = tmp_path / "driver"
    (driver / "result").mkdir(parents=True)
    (driver / "result" / "stale.json").write_text("from an earlier run")
    unpack_outputs(pack_outputs(worker), driver)
    assert sorted(entry.name for entry in driver.iterdir()) == sorted(TRIAL_OUTPUTS)
    assert not (driver / "result" / "stale.json").exists()
    assert (driver / "logs" / "0" / "evaluation-metrics.txt").read_text() == "m\n"
    assert (driver / "job-state").is_dir()
    assert (driver / "stdout.log").read_text() == "stdout.log"
