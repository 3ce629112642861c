"""Fixtures of the manifest-core tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def no_user_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make sure the variables the broken examples use are not set in the environment."""
    for name in ("CACHE_DIR", "RESULT_DIRS", "MY_VAR"):
        monkeypatch.delenv(name, raising=False)
