"""hpo_engine.optimizers.background_import: a module imported on a thread, waited for by the caller's own import."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from hpo_engine.optimizers import background_import


def test_a_module_imported_already_starts_no_thread() -> None:
    assert background_import.start("json") is None


def test_the_callers_import_waits_for_the_thread_and_sees_the_whole_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "hpo_slow_module.py").write_text("import time\ntime.sleep(0.3)\nDONE = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "hpo_slow_module", raising=False)
    thread = background_import.start("hpo_slow_module")
    assert thread is not None and thread.name == "hpo-import-hpo_slow_module" and not thread.daemon
    module = importlib.import_module("hpo_slow_module")  # while the thread is still in its sleep
    assert module.DONE is True
    thread.join()
    assert background_import.start("hpo_slow_module") is None


def test_an_error_is_left_to_the_callers_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "hpo_broken_module.py").write_text("raise RuntimeError('broken on purpose')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    thread = background_import.start("hpo_broken_module")
    assert thread is not None
    thread.join()
    with pytest.raises(RuntimeError, match="broken on purpose"):
        importlib.import_module("hpo_broken_module")


def test_a_process_ending_during_the_import_waits_for_it(tmp_path: Path) -> None:
    (tmp_path / "hpo_slow_module.py").write_text("import time\ntime.sleep(0.5)\nprint('imported', flush=True)\n")
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r})\nfrom hpo_engine.optimizers import background_import\nbackground_import.start('hpo_slow_module')\nprint('main done', flush=True)\n"
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "main done\nimported\n"
