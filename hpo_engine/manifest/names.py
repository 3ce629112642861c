"""Names of experiments and references as folder names: one rule for the validator and the store."""

from __future__ import annotations

import re

__all__ = ["FOLDER_NAME_LENGTH", "folder_name", "control_character"]

#: Longest folder name made from a name, in characters.
FOLDER_NAME_LENGTH = 100

_NOT_KEPT = re.compile(r"[^A-Za-z0-9._-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def folder_name(name: str) -> str:
    """A folder name made from ``name`` that stays inside its parent.

    Path separators and anything outside ``[A-Za-z0-9._-]`` become ``_``; leading dots are
    dropped (no ``.``, ``..`` or hidden folders); the result is cut at
    :data:`FOLDER_NAME_LENGTH` characters; an empty result becomes ``unnamed``. Different
    names can give one folder (``m/1`` and ``m_1``): the validator reports that (HPO221).
    """
    text = _NOT_KEPT.sub("_", str(name)).strip("._")
    return text[:FOLDER_NAME_LENGTH] or "unnamed"


def control_character(text: str, *, allow_whitespace: bool = False) -> tuple[int, str] | None:
    """The 0-based index and the character of the first control character in ``text``, else ``None``.

    With ``allow_whitespace``, tab, line feed and carriage return are allowed (a command over several lines).
    """
    for match in _CONTROL.finditer(text):
        if allow_whitespace and match.group() in "\t\n\r":
            continue
        return match.start(), match.group()
    return None
