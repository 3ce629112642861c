"""Seeded hostile inputs for the fuzz tests: mutations of examples/, alias bombs, unicode
line breaks, NUL, invalid UTF-8 and huge numbers.

The same ``seed`` gives the same inputs, so a failure names the one input that caused it
(:func:`hostile_texts` yields ``(label, text)``). Used by tests/core/test_fuzz.py (the
validator and the CLI) and tests/lsp/test_fuzz_server.py (the language server).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "examples").rglob("*.yaml"))

#: Pieces a mutation inserts: YAML syntax, line breaks of every kind, NUL, aliases, huge numbers.
PIECES = (
    "\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\x00", "\ufeff", "\t", " ", "  ", "- ", ": ", "[", "]", "{", "}",
    ",", "'", '"', "#", "&a ", "*a", "&b [*a, *a, *a]", "!!binary ", "!!python/object:os.system ", "---\n", "...\n",
    "? ", "|\n", ">-\n", "1e400", "-1e400", "9" * 400, "0x" + "f" * 300, ".nan", ".inf", "é", "😀", "\\0", '"\\0"',
    "string_values: [[a], b]", "int_values: [{a: 1}, 2]", "double_values: [[1.0]]", "name: \"a\\0b\"", "name: m/1",
)


def _mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        where = rng.randint(0, len(text))
        action = rng.random()
        if action < 0.5:
            text = text[:where] + rng.choice(PIECES) + text[where:]
        elif action < 0.7:
            text = text[:where] + text[where + rng.randint(1, 20) :]
        elif action < 0.85:
            lines = text.splitlines(keepends=True)
            if lines:
                line = rng.randrange(len(lines))
                lines.insert(rng.randrange(len(lines) + 1), lines[line])
                text = "".join(lines)
        else:
            text = re.sub(r"\n", rng.choice(["\r\n", "\r", "\u2028", "\x85", "\n"]), text, count=rng.randint(1, 10))
    return text


def alias_bomb(width: int, depth: int) -> str:
    """``depth`` lists, each holding the previous one ``width`` times (width**depth items expanded)."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, depth):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    lines.append(f"training_references: *a{depth - 1}")  # what makes the language server read it
    return "\n".join(lines) + "\n"


def hostile_texts(seed: int, count: int) -> Iterator[tuple[str, str]]:
    """``count`` mutated examples plus the fixed hostile cases, as ``(label, text)``."""
    yield "alias bomb 9x9", alias_bomb(9, 9)
    yield "alias bomb 2x40", alias_bomb(2, 40)
    yield "alias bomb inside values", "training_references:\n- name: m\n  hyper_parameters_optimization:\n    hyper_parameters:\n    - name: a\n      string_values: &v [x, y]\n    - name: b\n      string_values: [*v, *v]\n"
    yield "unicode line separators", "settings:\u2028  name: x\u2028  bogus: 1\n"
    yield "NEL line breaks", "settings:\x85  name: x\x85  bogus: 1\x85"
    yield "syntax error at the end without a final newline", "settings:\n  name: [x"
    yield "quote open at the end", "settings:\n  name: 'x"
    yield "BOM then a bad key", "\ufeffsettings:\n  bogus: 1\n"
    yield "a long line", "settings:\n  name: " + "x" * 200_000 + "\n"
    yield "huge numbers", "training_references:\n- name: m\n  hyper_parameters_optimization:\n    hyper_parameters:\n    - name: a\n      int_range: {min_value: 1, max_value: " + "9" * 5000 + "}\n    - name: b\n      double_range: {min_value: 1e-400, max_value: 1e400}\n"
    rng = random.Random(seed)
    texts = [path.read_text(encoding="utf-8") for path in SEEDS]
    for index in range(count):
        source = rng.randrange(len(texts))
        yield f"seed {seed} mutation {index} of {SEEDS[source].relative_to(ROOT)}", _mutate(texts[source], rng)


def hostile_bytes(seed: int, count: int) -> Iterator[tuple[str, bytes]]:
    """Files for the CLI: invalid UTF-8, a NUL byte, a lone surrogate's bytes, and mutated texts."""
    yield "invalid UTF-8", b"settings:\n  name: \xff\xfe\n"
    yield "a NUL byte", b"settings:\n  name: a\x00b\n"
    yield "a surrogate's bytes", b"settings:\n  name: \xed\xa0\x80\n"
    for label, text in hostile_texts(seed, count):
        yield label, text.encode("utf-8", errors="surrogatepass")


def lsp_lines(text: str) -> list[str]:
    """The lines of ``text`` as an LSP client sees them: broken at CR, LF and CRLF only."""
    return re.split("\r\n|\r|\n", text)
