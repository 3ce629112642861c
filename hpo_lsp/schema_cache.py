"""The manifest JSON Schema, loaded once per server process (completion and hover read it)."""

from __future__ import annotations

from functools import lru_cache

from hpo_engine.manifest.schema import load_schema

__all__ = ["manifest_schema"]


@lru_cache(maxsize=1)
def manifest_schema() -> dict:
    """The schema of :func:`hpo_engine.manifest.schema.load_schema`, shared (callers must not modify it)."""
    return load_schema()
