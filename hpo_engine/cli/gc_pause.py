"""Pausing Python's cyclic garbage collector around allocation-heavy work, in the CLI's own process only.

The manifest core never touches the collector: a long-lived host such as the language
server shares the process with other threads, and switching the collector off from one
thread switches it off for all. ``hpo validate`` and ``hpo preview`` are short-lived
processes of their own, so they pause it around validation.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block (restored after, even on error).

    Parsing and validating a 10,000-line manifest creates ~100,000 short-lived
    objects without cycles; the collections they trigger otherwise cost more than
    the work itself. Reference counting still frees everything as usual.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
