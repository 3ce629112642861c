"""Fuzz: seeded hostile inputs (tests/core/fuzz_corpus.py) through validate_text and ``hpo validate``.

No exception, no traceback, a bounded answer to alias bombs, and every position inside the
text in the client's line model (CR, LF, CRLF; columns in code points here, 1-based in the CLI).
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from hpo_engine.manifest.problems import CODES
from hpo_engine.manifest.spans import Position
from hpo_engine.manifest.validation import validate_text

from .fuzz_corpus import hostile_bytes, hostile_texts, lsp_lines
from .support import invoke

SEED = 13
MUTATIONS = 400


def assert_inside(lines: list[str], position: Position, what: str) -> None:
    assert 0 <= position.line < len(lines), f"{what}: line {position.line} of {len(lines)}"
    assert 0 <= position.column <= len(lines[position.line]), f"{what}: column {position.column} of {len(lines[position.line])}"


def check_text(label: str, text: str) -> None:
    result = validate_text(text, environ={})
    lines = lsp_lines(text)
    for problem in result.problems:
        assert problem.code in CODES, label
        assert problem.span.start <= problem.span.end, (label, problem)
        assert_inside(lines, problem.span.start, f"{label}: {problem.code} start")
        assert_inside(lines, problem.span.end, f"{label}: {problem.code} end")
        for suggestion in problem.suggestions:
            for edit in suggestion.edits:
                assert_inside(lines, edit.span.start, f"{label}: {problem.code} edit")
                assert_inside(lines, edit.span.end, f"{label}: {problem.code} edit")


def test_hostile_texts_never_raise_and_stay_inside_the_text() -> None:
    for label, text in hostile_texts(SEED, MUTATIONS):
        check_text(label, text)


def test_an_alias_bomb_is_one_problem_at_the_alias_without_expanding_it() -> None:
    from .fuzz_corpus import alias_bomb

    text = alias_bomb(9, 9)
    tracemalloc.start()
    try:
        result = validate_text(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(p.code, p.span.start) for p in result.problems] == [("HPO008", Position(5, 9))]
    assert peak < 50 * 1024 * 1024  # 9**9 expanded items would be gigabytes


def test_a_shared_alias_within_the_budget_still_works() -> None:
    text = "training_references:\n- name: m\n  command: python t.py\n  hyper_parameters_optimization:\n    method: &method\n      name: random\n      parameters:\n      - {name: objective, string_value: acc}\n      - {name: maximize_or_minimize, string_value: maximize}\n      - {name: num_optimizer_steps, int_value: 2}\n    hyper_parameters:\n    - {name: a, string_values: [x, y]}\n- name: n\n  command: python t.py\n  hyper_parameters_optimization:\n    method: *method\n    hyper_parameters:\n    - {name: a, string_values: [x, y]}\n"
    result = validate_text(text, environ={})
    assert not result.problems
    assert result.manifest is not None and [r.optimization.method.name for r in result.manifest.references] == ["random", "random"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("settings:\u2028  name: x\u2028  bogus: 1\n", [(0, 0, "HPO102"), (0, 22, "HPO101")]),  # one line for an LSP client
        ("settings:\x85  name: x\x85  bogus: 1\n", [(0, 0, "HPO102"), (0, 22, "HPO101")]),
        ("\ufeffsettings:\n  bogus: 1\n", [(0, 1, "HPO102"), (1, 2, "HPO101")]),
        ("a: [", [(0, 3, "HPO001")]),  # the '[' that is never closed, on the file's only line
        ("settings:\n  name: 'x", [(1, 8, "HPO001")]),
    ],
)
def test_positions_are_in_the_clients_line_model(text: str, expected: list[tuple[int, int, str]]) -> None:
    problems = validate_text(text, environ={}).problems
    assert [(p.span.start.line, p.span.start.column, p.code) for p in problems] == expected
    check_text(repr(text), text)


def test_a_list_inside_values_is_a_type_error_not_a_crash() -> None:
    text = "training_references:\n- name: m\n  command: python t.py\n  hyper_parameters_optimization:\n    method: {name: random, parameters: [{name: objective, string_value: acc}, {name: maximize_or_minimize, string_value: maximize}, {name: num_optimizer_steps, int_value: 2}]}\n    hyper_parameters:\n    - name: a\n      string_values: [[a], b]\n"
    problems = validate_text(text, environ={}).problems
    assert [(p.code, p.span.start) for p in problems] == [("HPO103", Position(7, 22))]


@pytest.mark.parametrize(
    ("names", "code"),
    [(["a\x00b"], "HPO220"), (["m/1", "m_1"], "HPO221"), (["x" * 100 + "1", "x" * 100 + "2"], "HPO221")],
)
def test_names_that_cannot_become_folders_are_reported(names: list[str], code: str) -> None:
    references = "".join(f'- name: "{n.encode("unicode_escape").decode()}"\n  command: python t.py\n' for n in names)
    problems = validate_text("training_references:\n" + references, environ={}).problems
    assert [p.code for p in problems] == [code]
    assert problems[0].span.start.line == 2 * len(names) - 1


def test_the_cli_answers_every_hostile_file_in_json(tmp_path: Path) -> None:
    for index, (label, data) in enumerate(hostile_bytes(SEED, 40)):
        path = tmp_path / f"input-{index}.yaml"
        path.write_bytes(data)
        result = invoke("validate", "--format", "json", path)
        assert result.exception is None or isinstance(result.exception, SystemExit), (label, result.exception)
        assert result.exit_code in (0, 1, 2), label
        if result.exit_code == 2:
            assert str(path) in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, label
            continue
        lines = lsp_lines(data.decode("utf-8-sig"))
        for record in json.loads(result.stdout):
            for line, column in ((record["line"], record["column"]), (record["end_line"], record["end_column"])):
                assert_inside(lines, Position(line - 1, column - 1), f"{label}: {record['code']}")
