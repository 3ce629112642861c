"""The server's settings, read through ``workspace/configuration`` (section ``hpo``).

| setting | default | meaning |
|---|---|---|
| ``hpo.validation.debounceMs`` | 60 | quiet time after an edit before validating (0..10000 ms) |
| ``hpo.preview.maxPoints`` | 20 | grid points returned by ``hpo.previewSearchSpace`` (1..10000) |

A client that sends nothing gets the defaults; a bad value falls back to its
default and the problem is returned as a message for the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Settings", "parse_settings", "SECTION"]

#: The configuration section the server asks the client for.
SECTION = "hpo"
#: Most grid points one ``hpo.previewSearchSpace`` answer holds, whatever the request asks.
PREVIEW_POINTS_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated settings; every field has a default."""

    debounce_ms: int = 60
    preview_max_points: int = 20


_FIELDS: dict[str, tuple[tuple[str, ...], str, int, int]] = {
    # field: (path under "hpo", json name, minimum, maximum)
    "debounce_ms": (("validation", "debounceMs"), "hpo.validation.debounceMs", 0, 10_000),
    "preview_max_points": (("preview", "maxPoints"), "hpo.preview.maxPoints", 1, PREVIEW_POINTS_LIMIT),
}


def _lookup(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, Mapping):
            return None
        # Accept both nested ({"validation": {"debounceMs": 5}}) and dotted keys.
        dotted = ".".join(path[path.index(part):])
        if dotted in data and part != dotted:
            return data[dotted]
        data = data.get(part)
    return data


def parse_settings(data: Any) -> tuple[Settings, list[str]]:
    """Settings from the client's ``hpo`` section (``None`` or ``{}`` -> defaults).

    Returns the settings and one message per value that fell back to its default.
    """
    defaults = Settings()
    values: dict[str, int] = {}
    messages: list[str] = []
    for field, (path, name, low, high) in _FIELDS.items():
        raw = _lookup(data, path)
        default = getattr(defaults, field)
        if raw is None:
            values[field] = default
            continue
        number = raw
        if isinstance(raw, float) and raw.is_integer():
            number = int(raw)
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            messages.append(f"hpo: {name} must be an integer from {low} to {high}, but got {raw!r}; using {default}.")
            values[field] = default
        else:
            values[field] = number
    return Settings(**values), messages
