"""The manifest's JSON Schema, found in the installed package or in a checkout.

The schema file is ``schemas/hpo-manifest.schema.json`` in the repository; the
wheel ships it as ``hpo_engine/_schemas/hpo-manifest.schema.json``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from hpo_engine.errors import HpoError

__all__ = ["SCHEMA_FILENAME", "schema_path", "load_schema"]

SCHEMA_FILENAME = "hpo-manifest.schema.json"


def schema_path() -> Path:
    """Path of the schema file: inside the installed package first, else the checkout's ``schemas/``."""
    here = Path(__file__).resolve().parent.parent  # the hpo_engine package
    for candidate in (here / "_schemas" / SCHEMA_FILENAME, here.parent / "schemas" / SCHEMA_FILENAME):
        if candidate.is_file():
            return candidate
    raise HpoError(f"the manifest schema {SCHEMA_FILENAME} is missing from the installation (looked in {here / '_schemas'} and {here.parent / 'schemas'})")


@lru_cache(maxsize=1)
def _load() -> str:
    return schema_path().read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """A fresh copy of the schema as a dict (callers may modify it)."""
    return json.loads(_load())
