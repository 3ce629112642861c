"""Ranked "did you mean" suggestions for misspelled keys and values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

__all__ = ["similarity", "rank_similar"]

_NOISE = re.compile(r"[^0-9a-z_]+")


def _normal(word: str) -> str:
    """Lower case without stray punctuation: ``'step"'`` -> ``'step'``, ``'Min-Value'`` -> ``'min_value'``."""
    return _NOISE.sub("", word.lower().replace("-", "_").replace(" ", "_"))


def similarity(word: str, candidate: str) -> float:
    """Similarity in ``[0, 1]``; 1.0 when the two differ only by case or stray punctuation."""
    a, b = _normal(word), _normal(candidate)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    if a.startswith(b) or b.startswith(a):
        ratio = max(ratio, 0.5 + 0.4 * min(len(a), len(b)) / max(len(a), len(b)))
    return ratio


def _may_reach(a: str, b: str, cutoff: float) -> bool:
    """False when :func:`similarity` of the normalized words ``a`` and ``b`` is surely below ``cutoff``.

    A ratio is at most ``2 * min(len) / (len(a) + len(b))``; checking that first keeps a
    megabyte-long word from being compared character by character (linear, not quadratic, time).
    """
    if not a or not b or a == b or a.startswith(b) or b.startswith(a):
        return True
    return 2 * min(len(a), len(b)) / (len(a) + len(b)) >= cutoff


def rank_similar(word: str, candidates: Iterable[str], *, cutoff: float = 0.6, limit: int = 3) -> list[str]:
    """Candidates close to ``word``, most similar first (ties keep the candidates' order)."""
    normal = _normal(word)
    scored = [(similarity(word, c), i, c) for i, c in enumerate(dict.fromkeys(candidates)) if c != word and _may_reach(normal, _normal(c), cutoff)]
    scored = [item for item in scored if item[0] >= cutoff]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [c for _, _, c in scored[:limit]]
