"""Ray is optional: without it the backend says how to install it (no Ray needed to run this)."""

from __future__ import annotations

import sys

import pytest

from hpo_engine.backends import BACKENDS, make_backend
from hpo_engine.errors import BackendError


def test_ray_is_a_backend_choice() -> None:
    assert "ray" in BACKENDS


def test_without_ray_the_backend_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    backend = make_backend("ray", max_parallel=1)
    with pytest.raises(BackendError, match=r"^Ray is not installed: pip install 'hpo\[ray\]'$"):
        backend.start()


def test_a_malformed_address_is_refused_before_ray_is_asked() -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'hpo[ray]')")
    if ray.is_initialized():
        pytest.skip("Ray is initialized in this process: the backend would use that connection")
    backend = make_backend("ray", max_parallel=1, address="localhost")
    with pytest.raises(BackendError, match="expected auto, HOST:PORT or ray://HOST:PORT"):
        backend.start()
    assert not ray.is_initialized()
