"""parse_yaml: node spans (0-based line, code-point column), values, and reading problems."""

from __future__ import annotations

import math

import pytest

from hpo_engine.manifest.spans import Position, Span
from hpo_engine.manifest.yaml_source import MappingNode, ScalarNode, SequenceNode, SourceDocument, parse_yaml

from .support import VALID


def codes(document: SourceDocument) -> list[str]:
    return [p.code for p in document.problems]


def start(document: SourceDocument, index: int = 0) -> tuple[int, int]:
    """0-based (line, column) of the index-th problem."""
    position = document.problems[index].span.start
    return position.line, position.column


# -- the tree and its spans -------------------------------------------------------------


def test_valid_manifest_has_data_and_no_problems() -> None:
    document = parse_yaml(VALID)
    assert document.parsed and document.problems == ()
    assert isinstance(document.root, MappingNode)
    reference = document.data["training_references"][0]
    assert reference["hyper_parameters_optimization"]["hyper_parameters"][1]["int_range"] == {"min_value": 5, "max_value": 10, "power": 2}
    assert document.line_count == VALID.count("\n") + 1


def test_key_and_value_spans_are_zero_based() -> None:
    document = parse_yaml(VALID)
    path = ["training_references", 0, "hyper_parameters_optimization", "hyper_parameters", 0, "double_range", "step"]
    entry = document.entry_at(path)
    assert entry is not None and entry.key == "step"
    assert entry.key_span == Span.at(18, 8, 18, 12)
    value = document.node_at(path)
    assert isinstance(value, ScalarNode) and value.value == 0.001
    assert value.span == Span.at(18, 14, 18, 19)
    assert document.slice(value.span) == "0.001"
    assert document.line_text(18) == "        step: 0.001"


def test_sequence_items_and_navigation() -> None:
    document = parse_yaml(VALID)
    hps = document.node_at(["training_references", 0, "hyper_parameters_optimization", "hyper_parameters"])
    assert isinstance(hps, SequenceNode) and len(hps.items) == 2 and not hps.flow
    assert hps.items[1].span.start == Position(19, 6)  # the item's first key ('name')
    assert document.node_at(["training_references", 5]) is None
    assert document.node_at(["training_references", "x"]) is None
    assert document.entry_at(["training_references", 0]) is None
    # a path that does not exist points at its closest existing key
    assert document.key_or_node_span(["training_references", 0, "compute_configuration", "name"]) == Span.at(1, 2, 1, 6)
    assert document.key_or_node_span(["training_references", 0, "command", "x"]) == Span.at(2, 2, 2, 9)


def test_flow_collections_have_spans_and_flags() -> None:
    document = parse_yaml("a: [1, 2.5, x]\nb: {c: 1, d: [true, null]}\n")
    a = document.node_at(["a"])
    assert isinstance(a, SequenceNode) and a.flow and a.span == Span.at(0, 3, 0, 14)
    assert [item.span for item in a.items] == [Span.at(0, 4, 0, 5), Span.at(0, 7, 0, 10), Span.at(0, 12, 0, 13)]
    b = document.node_at(["b"])
    assert isinstance(b, MappingNode) and b.flow and b.keys() == ["c", "d"]
    assert document.data == {"a": [1, 2.5, "x"], "b": {"c": 1, "d": [True, None]}}
    assert document.entry_at(["b", "d"]).key_span == Span.at(1, 10, 1, 11)


def test_columns_count_code_points() -> None:
    text = "name: café 😀 x\nkey: [é, 😀, z]\n"
    document = parse_yaml(text)
    assert document.data == {"name": "café 😀 x", "key": ["é", "😀", "z"]}
    assert document.node_at(["name"]).span == Span.at(0, 6, 0, 14)
    items = document.node_at(["key"]).items
    assert [i.span.start.column for i in items] == [6, 9, 12]  # 😀 is one code point (two UTF-16 units)
    assert document.slice(items[1].span) == "😀"


def test_crlf_line_endings() -> None:
    document = parse_yaml("a: 1\r\nb: [1, 2]\r\nc: x\r\n")
    assert document.data == {"a": 1, "b": [1, 2], "c": "x"}
    assert document.entry_at(["c"]).key_span == Span.at(2, 0, 2, 1)
    assert document.line_text(1) == "b: [1, 2]"


def test_offsets_and_positions_are_inverse() -> None:
    document = parse_yaml(VALID)
    for offset in (0, 1, 25, 100, len(VALID) - 1):
        assert document.offset(document.position(offset)) == offset
    assert document.offset(Position(10_000, 0)) == len(VALID)
    assert document.line_text(10_000) == ""


def test_multi_line_plain_scalar_spans_its_lines() -> None:
    text = "command: python3 train.py --a ${DATA_DIR}\n  --b ${RESULT_DIR}\nnext: 1\n"
    document = parse_yaml(text)
    node = document.node_at(["command"])
    assert node.value == "python3 train.py --a ${DATA_DIR} --b ${RESULT_DIR}"
    assert node.span.start == Position(0, 9) and node.span.end == Position(1, 19)
    assert document.first_line_span(node) == Span.at(0, 9, 0, 41)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("-7", -7),
        ("0x10", 16),
        ("0o17", 15),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("-.5", -0.5),
        (".inf", math.inf),
        ("-.inf", -math.inf),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("yes", "yes"),  # YAML 1.2: not a boolean
        ("'12'", "12"),
        ('"0.5"', "0.5"),
        ("!!str 12", "12"),
        ("2023-01-01", "2023-01-01"),
        ("relu", "relu"),
    ],
)
def test_scalars_resolve_with_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    assert parse_yaml(f"a: {text}\n").data == {"a": value}


def test_nan_is_a_float() -> None:
    assert math.isnan(parse_yaml("a: .nan\n").data["a"])


def test_anchors_and_aliases_are_expanded() -> None:
    document = parse_yaml("base: &b {x: 1}\nother: *b\nbad: *nope\n")
    assert document.data == {"base": {"x": 1}, "other": {"x": 1}, "bad": None}
    assert document.problems == ()


def test_a_byte_order_mark_is_ignored() -> None:
    assert parse_yaml("\ufeffa: 1\n").data == {"a": 1}


# -- reading problems --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("a: [1, 2\nb: 3\n", (0, 3), "'[' is never closed"),
        ("a: [\n  1,\n  2\nb: 3\n", (0, 3), "'[' is never closed"),
        ("x:\n  - a: [1, 2\n  - b: 3\n", (1, 7), "'[' is never closed"),
        ("a: {x: 1,\n  y: 2\nb: 3\n", (0, 3), "'{' is never closed"),
        ("a: [1, {b: 2]\n", (0, 7), "'{' is never closed"),
        ('a: "abc\nb: 3\n', (0, 3), "the quoted string is never closed"),
        ("a: 'abc\nb: 2\n", (0, 3), "the quoted string is never closed"),
        # nothing after the opener: the parser's marks are at the end of the text
        ("a: [\n", (0, 3), "'[' is never closed"),
        ("a: [1,\n", (0, 3), "'[' is never closed"),
        ("a: {\n\n", (0, 3), "'{' is never closed"),
        ("- [\n", (0, 2), "'[' is never closed"),
        ("a: '[x'\nb: [1, {c: 2,\n# c\n", (1, 7), "'{' is never closed"),
        ("a: [1, 2]  # [\nb: {\n", (1, 3), "'{' is never closed"),
    ],
)
def test_unclosed_brackets_and_quotes_are_reported_where_they_open(text: str, where: tuple[int, int], message: str) -> None:
    document = parse_yaml(text)
    assert not document.parsed
    assert codes(document) == ["HPO001"]
    assert start(document) == where
    assert message in document.problems[0].message


def test_an_empty_flow_item_is_not_an_unclosed_bracket() -> None:
    document = parse_yaml("a: [,]\n")
    assert codes(document) == ["HPO001"] and start(document) == (0, 4)
    assert "never closed" not in document.problems[0].message


def test_other_syntax_errors_point_where_the_parser_stopped() -> None:
    document = parse_yaml("a: b: c\n")
    assert codes(document) == ["HPO001"] and start(document) == (0, 4)
    document = parse_yaml("a:\n  - 1\n  - 2\n  a: 3\n")
    assert codes(document) == ["HPO001"] and start(document) == (3, 2)
    assert "started on line 2" in document.problems[0].message


def test_tabs_in_indentation_are_one_problem_per_line() -> None:
    document = parse_yaml("a:\n\tb: 1\n\tc: 2\n")
    assert set(codes(document)) == {"HPO003"}
    assert [p.span.start for p in document.problems] == [Position(1, 0), Position(2, 0)]
    assert parse_yaml("a: 'x\ty'\n").problems == ()  # a tab inside a value is fine


def test_tabs_are_reported_even_when_the_text_parses() -> None:
    document = parse_yaml("a: 1\n  \t\n")  # a blank line holding a tab
    assert document.problems == ()
    document = parse_yaml("a:\n  - 1\n \t- 2\n")
    assert "HPO003" in codes(document)
    assert any(p.span.start == Position(2, 1) for p in document.problems)


def test_two_documents() -> None:
    document = parse_yaml("a: 1\n---\nb: 2\n")
    assert codes(document) == ["HPO004"]
    assert document.problems[0].span == Span.at(1, 0, 1, 3)
    assert document.data == {"a": 1}


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "--- \n...\n", "~\n", "null\n"])
def test_empty_file(text: str) -> None:
    document = parse_yaml(text)
    assert codes(document) == ["HPO005"] and start(document) == (0, 0)
    assert not document.parsed


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("- a\n- b\n", "a list"), ("just a string\n", "a single value ('just a string')"), ("42\n", "a single value ('42')")],
)
def test_top_level_not_a_mapping(text: str, fragment: str) -> None:
    document = parse_yaml(text)
    assert codes(document) == ["HPO006"] and start(document) == (0, 0)
    assert fragment in document.problems[0].message


def test_duplicate_key_in_a_block_mapping_with_removal_edit() -> None:
    text = "settings:\n  name: x\n  description: d\n  name: y\n"
    document = parse_yaml(text)
    (problem,) = document.problems
    assert problem.code == "HPO002" and problem.span == Span.at(3, 2, 3, 6)
    assert "already set on line 2" in problem.message
    (edit,) = problem.suggestions[0].edits
    assert edit.span == Span.at(3, 0, 4, 0) and edit.new_text == ""
    assert document.data == {"settings": {"name": "x", "description": "d"}}  # the first one is kept


def test_duplicate_key_with_a_nested_value_removes_all_its_lines() -> None:
    text = "a:\n  x: 1\nb: 2\na:\n  y: 2\n  z: 3\nc: 4\n"
    (problem,) = parse_yaml(text).problems
    (edit,) = problem.suggestions[0].edits
    assert edit.span == Span.at(3, 0, 6, 0)


def test_duplicate_key_in_a_flow_mapping() -> None:
    (problem,) = parse_yaml("{a: 1, a: 2}\n").problems
    assert problem.code == "HPO002" and problem.span.start == Position(0, 7)
    assert problem.suggestions[0].edits[0].span == Span.at(0, 7, 0, 11)


def test_nul_bytes_are_binary() -> None:
    document = parse_yaml("a: 1\x00\n")
    assert codes(document) == ["HPO007"] and not document.parsed


def test_complex_and_odd_keys_do_not_break_parsing() -> None:
    document = parse_yaml("? [1, 2]\n: v\n1: one\nnull: n\ntrue: t\n")
    assert document.data == {"[1, 2]": "v", "1": "one", "null": "n", "true": "t"}


def test_recursive_alias_does_not_loop() -> None:
    document = parse_yaml("&a [*a]\n")
    assert codes(document) == ["HPO006"]


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    document = parse_yaml("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert isinstance(document, SourceDocument)


def test_a_lone_carriage_return_is_a_line_break_as_in_yaml_and_lsp() -> None:
    """Regression: lines were split on "\\n" only, so after a lone "\\r" every position drifted from the parser's."""
    document = parse_yaml("a: 1\rb: 2\rb: 3\r")
    (problem,) = document.problems
    assert problem.code == "HPO002" and problem.span == Span.at(2, 0, 2, 1)
    assert document.line_count == 4 and document.line_text(2) == "b: 3"
    assert problem.suggestions[0].edits[0].span == Span.at(2, 0, 3, 0)
    document = parse_yaml("a: 1\rb: [1\rc: 2\r")
    assert document.problems[0].span.start == Position(1, 3)
    assert document.line_text(1)[3] == "["
    mixed = parse_yaml("a: 1\r\nb: x\rc: 3\n")
    assert [mixed.line_text(i) for i in range(mixed.line_count)] == ["a: 1", "b: x", "c: 3", ""]
    assert mixed.entry_at(["c"]).key_span == Span.at(2, 0, 2, 1)
