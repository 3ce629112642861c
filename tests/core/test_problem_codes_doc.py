"""docs/problem-codes.md lists every code, and its messages are what hpo prints today."""

from __future__ import annotations

import re

from hpo_engine.manifest.problems import CODES

from .problem_codes_doc import DOC, EXAMPLES, render


def test_every_code_has_a_section_with_its_severity() -> None:
    text = DOC.read_text(encoding="utf-8")
    headings = re.findall(r"^### (HPO\d{3})$", text, flags=re.MULTILINE)
    assert headings == list(CODES)
    for code, (severity, meaning) in CODES.items():
        assert f"| [{code}](#{code.lower()}) | {severity.value} | {meaning} |" in text
        assert f"### {code}\n\n**{severity.value}** — {meaning}." in text


def test_every_code_but_the_binary_and_the_huge_one_has_a_printed_example() -> None:
    text = DOC.read_text(encoding="utf-8")
    for code in CODES:
        assert re.search(rf":\d+:\d+: (error|warning|info): .* \[{code}\]$", text, flags=re.MULTILINE), code
    assert {e.code for e in EXAMPLES} == set(CODES) - {"HPO007", "HPO009"}  # no 20 MiB file is shipped


def test_the_document_is_up_to_date() -> None:
    """Regenerate with: .venv/bin/python -m tests.core.problem_codes_doc"""
    assert DOC.read_text(encoding="utf-8") == render()
