"""Property tests: whatever the text, parse_yaml and validate_text return problems, never raise.

Every problem must also lie inside the text (0-based line < line count), and its
severity must be the one registered for its code.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hpo_engine.manifest.problems import CODES
from hpo_engine.manifest.search_space import SearchSpace
from hpo_engine.manifest.validation import validate_text
from hpo_engine.manifest.yaml_source import parse_yaml

from .support import BROKEN, EXAMPLES, VALID

SEEDS = [VALID] + [p.read_text() for p in sorted(EXAMPLES.glob("*.yaml"))] + [p.read_text() for p in sorted(BROKEN.glob("*.yaml"))]
#: Characters that matter to YAML, plus some that do not.
YAML_ALPHABET = st.sampled_from(list(":-[]{},#&*!|>'\"%@`?\t\n \r\\$.0123456789eE+_") + ["a", "z", "é", "😀", "\x00", "\ufeff", "---", "...", "  ", "\n- ", ": "])

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check(text: str) -> None:
    document = parse_yaml(text)
    result = validate_text(text, environ={})
    assert result.document.problems == document.problems
    lines = len(re.split("\r\n|\r|\n", text))  # YAML's (and LSP's) line breaks
    for problem in result.problems:
        assert problem.code in CODES
        assert problem.severity is CODES[problem.code][0]
        assert 0 <= problem.span.start.line <= lines and problem.span.start.column >= 0
        assert problem.span.start <= problem.span.end or problem.span.end.line < problem.span.start.line  # spans are forward
        for suggestion in problem.suggestions:
            assert suggestion.title
    if result.manifest is not None:
        assert not result.has_errors
        data = result.document.data
        sections = [r.get("hyper_parameters_optimization") for r in data.get("training_references") or [] if isinstance(r, dict)] if isinstance(data, dict) else []
        with_section = [r for r, section in zip(result.manifest.references, sections) if section is not None]
        # a manifest without errors never loses a search space silently
        assert all(r.optimization is not None for r in with_section), [r.name for r in with_section]
        for reference in result.manifest.references:
            if reference.optimization is not None:
                space: SearchSpace = reference.optimization.space
                space.describe_size()
                space.to_json(max_points=3, max_values=5)  # what hpo preview and hover show


@SETTINGS
@given(st.text(max_size=400))
@example("a: [")
@example("- [\n")
@example("&a [*a]\n")
@example("? [1, 2]\n: v\n")
@example("\x00")
@example("\ufeff")
@example("a: !!binary AAAA\n")
@example("a: !!int x\n")
@example("a: !!float x\n")
@example("a: !custom 1\n")
@example("{a: 1, a: 2}\n")
@example("\r\r:")
@example("-\r\\")
def test_random_text_never_raises(text: str) -> None:
    check(text)


@SETTINGS
@given(st.lists(YAML_ALPHABET, max_size=120).map("".join))
def test_yaml_looking_text_never_raises(text: str) -> None:
    check(text)


@st.composite
def mutated_manifest(draw: st.DrawFn) -> str:
    """An example manifest with a few characters inserted, deleted or replaced."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "duplicate_line"]))
        char = draw(YAML_ALPHABET | st.characters(max_codepoint=0x1F600))
        if action == "insert":
            text = text[:position] + char + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 12)) :]
        elif action == "replace":
            text = text[:position] + char + text[position + 1 :]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                index = min(position, len(lines) - 1)
                lines.insert(index, lines[index])
                text = "".join(lines)
    return text


@SETTINGS
@given(mutated_manifest())
def test_mutated_manifests_never_raise(text: str) -> None:
    check(text)


@st.composite
def value_edit(draw: st.DrawFn) -> str:
    """VALID with one scalar value replaced by an arbitrary YAML scalar."""
    scalars = st.sampled_from(
        ["0", "-1", "1", "2.0", "0.1", "1e400", "-1e400", ".inf", "-.inf", ".nan", "1.5", "0x10", "true", "null", "~", "''", "[]", "{}", "[1, 1]", "[1.0, 1]", "[a, a]", "abc", "9" * 40, "-0.0", "1e-400", "1e-300", "-400", "400"]
    )
    base = draw(st.sampled_from([VALID, (EXAMPLES / "kinds.yaml").read_text(), (EXAMPLES / "method-grid.yaml").read_text()]))
    lines = base.splitlines(keepends=True)
    candidates = [i for i, line in enumerate(lines) if ": " in line and not line.lstrip().startswith("#")]
    index = draw(st.sampled_from(candidates))
    key = lines[index].split(": ")[0]
    lines[index] = f"{key}: {draw(scalars)}\n"
    return "".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value_edit())
def test_odd_values_never_raise(text: str) -> None:
    check(text)


def test_seeds_are_the_examples() -> None:
    """The mutations start from every example and every broken manifest, not from a few of them."""
    files = sorted(EXAMPLES.glob("*.yaml")) + sorted(BROKEN.glob("*.yaml"))
    assert len(files) > 40
    assert SEEDS == [VALID] + [f.read_text() for f in files]
