"""Ray is optional: without it the backend says how to install it (no Ray needed to run this)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hpo_engine.runner.backends import BACKENDS, make_backend
from hpo_engine.errors import BackendError


def test_ray_is_a_backend_choice() -> None:
    assert "ray" in BACKENDS


def test_without_ray_the_backend_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    backend = make_backend("ray", max_parallel=1)
    with pytest.raises(BackendError, match=r"^Ray is not installed: pip install 'ray\[default\]>=2\.40' \(or, in a checkout of this project: pip install -e '\.\[ray\]'\)$") as raised:
        backend.start()
    assert "install hpo" not in str(raised.value) and "'hpo[" not in str(raised.value)  # hpo on PyPI is another project


def test_a_malformed_address_is_refused_before_ray_is_asked() -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]' in this checkout)")
    if ray.is_initialized():
        pytest.skip("Ray is initialized in this process: the backend would use that connection")
    backend = make_backend("ray", max_parallel=1, address="localhost")
    with pytest.raises(BackendError, match="expected auto, HOST:PORT or ray://HOST:PORT"):
        backend.start()
    assert not ray.is_initialized()


def test_ray_address_without_the_ray_backend_is_refused(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hpo_engine.cli import app

    manifest = tmp_path / "m.yaml"
    manifest.write_text("settings: {name: x}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(manifest), "--ray-address", "auto"])
    assert result.exit_code == 1
    assert "--ray-address needs --backend ray" in result.stderr
