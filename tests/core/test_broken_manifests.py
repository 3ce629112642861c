"""Table-driven: each broken manifest in examples/broken/ gives exactly the expected problems.

Positions are what ``hpo validate --format json`` prints: 1-based lines and columns
(code points). Each row is (file, [(line, column, severity, code), ...], exit code).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import BROKEN, EXAMPLES, invoke, validate_json

E, W, I = "error", "warning", "info"

TABLE: list[tuple[str, list[tuple[int, int, str, str]], int]] = [
    # typos, with ranked suggestions
    ("../seed-typo.yaml", [(9, 28, W, "HPO253"), (30, 9, E, "HPO101")], 1),
    ("min-vlaue.yaml", [(18, 9, E, "HPO101")], 1),
    ("method-rbfop.yaml", [(7, 13, E, "HPO104")], 1),
    ("maximise.yaml", [(12, 23, E, "HPO104")], 1),
    ("num-optimiser-steps.yaml", [(13, 15, E, "HPO104")], 1),
    # schema
    ("missing-command.yaml", [(3, 3, E, "HPO102")], 1),
    ("wrong-type.yaml", [(18, 20, E, "HPO103")], 1),
    ("two-kinds.yaml", [(18, 7, E, "HPO105")], 1),
    ("steps-zero.yaml", [(14, 20, E, "HPO106")], 1),
    ("wrong-value-key.yaml", [(14, 9, E, "HPO107")], 1),
    # what JSON Schema cannot say
    ("min-greater-than-max.yaml", [(18, 20, E, "HPO201")], 1),
    ("step-not-positive.yaml", [(20, 15, E, "HPO202"), (25, 15, E, "HPO202")], 1),
    ("step-larger-than-range.yaml", [(20, 15, E, "HPO203")], 1),
    ("int-range-fraction.yaml", [(18, 20, E, "HPO204")], 1),
    ("power-one.yaml", [(20, 16, E, "HPO205")], 1),
    ("power-negative.yaml", [(20, 16, E, "HPO205")], 1),
    ("empty-values.yaml", [(17, 22, E, "HPO206")], 1),
    ("duplicate-values.yaml", [(17, 35, W, "HPO207"), (22, 9, W, "HPO207")], 0),
    ("duplicate-hyper-parameter.yaml", [(21, 13, E, "HPO208")], 1),
    ("parameter-twice.yaml", [(15, 15, E, "HPO209")], 1),
    ("missing-objective.yaml", [(8, 7, E, "HPO210")], 1),
    ("missing-direction.yaml", [(8, 7, E, "HPO210")], 1),
    ("missing-steps.yaml", [(8, 7, E, "HPO210")], 1),
    ("steps-over-grid.yaml", [(14, 20, W, "HPO211")], 0),
    ("rbfopt-too-few-steps.yaml", [(14, 20, W, "HPO212")], 0),
    ("startup-for-random.yaml", [(15, 15, W, "HPO240")], 0),
    ("startup-over-budget.yaml", [(16, 20, W, "HPO241")], 0),
    ("grid-continuous.yaml", [(7, 13, E, "HPO213")], 1),
    ("duplicate-reference.yaml", [(26, 9, E, "HPO214")], 1),
    ("unknown-variable.yaml", [(5, 13, I, "HPO215"), (5, 36, I, "HPO215")], 0),
    ("plaintext-credential.yaml", [(31, 24, W, "HPO216")], 0),
    ("unknown-compute.yaml", [(6, 11, W, "HPO217")], 0),
    ("no-hyper-parameters.yaml", [(15, 23, E, "HPO218")], 1),
    ("asha-no-max-resource.yaml", [(12, 46, E, "HPO230")], 1),
    ("reduction-factor-one.yaml", [(14, 45, E, "HPO231")], 1),
    ("grace-over-max-resource.yaml", [(14, 41, E, "HPO232")], 1),
    ("hyperband-with-early-stopping.yaml", [(13, 46, W, "HPO233")], 0),
    ("objective-not-recorded.yaml", [(13, 46, W, "HPO234")], 0),
    # storage fields
    ("s3-no-bucket.yaml", [(31, 3, E, "HPO250")], 1),
    ("s3-no-endpoint.yaml", [(27, 3, W, "HPO251")], 0),
    ("storage-unknown-type.yaml", [(31, 9, W, "HPO252")], 0),
    ("definition-wml-asset.yaml", [(4, 28, W, "HPO253")], 0),
    ("s3-unset-variable.yaml", [(29, 20, I, "HPO254"), (30, 24, I, "HPO254")], 0),
    ("control-character.yaml", [(3, 9, E, "HPO220")], 1),
    ("shared-folder.yaml", [(26, 9, E, "HPO221")], 1),
    # reading the text
    ("unclosed-bracket.yaml", [(17, 19, E, "HPO001")], 1),
    ("unclosed-quote.yaml", [(3, 9, E, "HPO001")], 1),
    ("duplicate-key.yaml", [(5, 3, E, "HPO002")], 1),
    ("tabs.yaml", [(4, 1, E, "HPO003")], 1),
    ("two-documents.yaml", [(26, 1, E, "HPO004")], 1),
    ("empty.yaml", [(1, 1, E, "HPO005")], 1),
    ("comments-only.yaml", [(1, 1, E, "HPO005")], 1),
    ("top-level-list.yaml", [(2, 1, E, "HPO006")], 1),
    ("alias-bomb.yaml", [(7, 8, E, "HPO008")], 1),
]


@pytest.mark.parametrize(("name", "expected", "exit_code"), TABLE, ids=[row[0] for row in TABLE])
def test_broken_manifest(name: str, expected: list, exit_code: int, no_user_variables: None) -> None:
    code, records = validate_json(BROKEN / name)
    assert [(r["line"], r["column"], r["severity"], r["code"]) for r in records] == expected
    assert code == exit_code


def test_every_broken_example_is_in_the_table() -> None:
    listed = {Path(name).name for name, _, _ in TABLE}
    assert {p.name for p in BROKEN.glob("*.yaml")} <= listed


def suggestion(record: dict, index: int = 0) -> dict:
    return record["suggestions"][index]


def edits(record: dict, index: int = 0) -> list[tuple[int, int, int, int, str]]:
    return [(e["line"], e["column"], e["end_line"], e["end_column"], e["new_text"]) for e in suggestion(record, index)["edits"]]


@pytest.mark.parametrize(
    ("name", "replacement", "span"),
    [
        ("../seed-typo.yaml", "step", (30, 9, 30, 14)),
        ("min-vlaue.yaml", "min_value", (18, 9, 18, 18)),
        ("method-rbfop.yaml", "rbfopt", (7, 13, 7, 18)),
        ("maximise.yaml", "maximize", (12, 23, 12, 31)),
        ("num-optimiser-steps.yaml", "num_optimizer_steps", (13, 15, 13, 34)),
        ("unknown-compute.yaml", "k80", (6, 11, 6, 14)),
        ("wrong-value-key.yaml", "int_value", (14, 9, 14, 21)),
    ],
)
def test_did_you_mean_replaces_the_exact_word(name: str, replacement: str, span: tuple) -> None:
    _, records = validate_json(BROKEN / name)
    (record,) = [r for r in records if r["code"] != "HPO253"]  # the seed's WML asset URL: a warning of its own
    assert suggestion(record)["replacement"] == replacement
    assert f"did you mean '{replacement}'" in record["message"] or record["code"] == "HPO107"
    assert edits(record) == [(*span, replacement)]
    assert (record["line"], record["column"], record["end_line"], record["end_column"]) == span


def test_seed_typo_is_reported_on_the_key_with_its_quote() -> None:
    code, records = validate_json(EXAMPLES / "seed-typo.yaml")
    (record,) = [r for r in records if r["code"] == "HPO101"]
    assert code == 1
    assert record["message"] == "Unknown property 'step\"' in 'double_range'; did you mean 'step'?"
    line = (EXAMPLES / "seed-typo.yaml").read_text().splitlines()[record["line"] - 1]
    assert line[record["column"] - 1 : record["end_column"] - 1] == 'step"'


def test_min_greater_than_max_offers_the_swap() -> None:
    _, (record,) = validate_json(BROKEN / "min-greater-than-max.yaml")
    assert "min_value (0.01) is larger than max_value (0.005)" in record["message"]
    assert suggestion(record)["title"] == "Swap min_value and max_value"
    assert edits(record) == [(18, 20, 18, 24, "0.005"), (19, 20, 19, 25, "0.01")]


def test_duplicate_key_offers_to_remove_its_line() -> None:
    _, (record,) = validate_json(BROKEN / "duplicate-key.yaml")
    assert "already set on line 3" in record["message"]
    assert edits(record) == [(5, 1, 6, 1, "")]


def test_duplicate_values_offer_their_removal() -> None:
    _, (flow, block) = validate_json(BROKEN / "duplicate-values.yaml")
    assert edits(flow) == [(17, 33, 17, 39, "")]  # ", relu"
    assert edits(block) == [(22, 1, 23, 1, "")]  # the whole "- 32" line


def test_unclosed_bracket_is_reported_where_it_opens() -> None:
    _, (record,) = validate_json(BROKEN / "unclosed-bracket.yaml")
    line = (BROKEN / "unclosed-bracket.yaml").read_text().splitlines()[record["line"] - 1]
    assert line[record["column"] - 1] == "["
    assert "'[' is never closed" in record["message"]


def test_unclosed_quote_is_reported_where_it_opens() -> None:
    _, (record,) = validate_json(BROKEN / "unclosed-quote.yaml")
    line = (BROKEN / "unclosed-quote.yaml").read_text().splitlines()[record["line"] - 1]
    assert line[record["column"] - 1] == '"'
    assert "quoted string is never closed" in record["message"]


def test_unknown_variable_columns_inside_a_multi_line_command(no_user_variables: None) -> None:
    _, records = validate_json(BROKEN / "unknown-variable.yaml")
    lines = (BROKEN / "unknown-variable.yaml").read_text().splitlines()
    spans = [lines[r["line"] - 1][r["column"] - 1 : r["end_column"] - 1] for r in records]
    assert spans == ["${CACHE_DIR}", "${RESULT_DIRS}"]
    assert "did you mean ${RESULT_DIR}" in records[1]["message"]
    assert edits(records[1]) == [(5, 36, 5, 50, "${RESULT_DIR}")]


def test_a_variable_set_in_the_environment_is_not_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE_DIR", "/tmp/cache")
    monkeypatch.delenv("RESULT_DIRS", raising=False)
    _, records = validate_json(BROKEN / "unknown-variable.yaml")
    assert [r["column"] for r in records] == [36]


def test_credential_placeholders_are_not_warned() -> None:
    _, records = validate_json(BROKEN / "plaintext-credential.yaml")
    assert [r["message"].split("'")[1] for r in records] == ["secret_access_key"]
    assert suggestion(records[0])["replacement"] == "${SECRET_ACCESS_KEY}"


def test_the_seed_manifest_warns_only_about_its_wml_asset_url_not_its_placeholders() -> None:
    code, records = validate_json(EXAMPLES / "seed.yaml")
    assert (code, [(r["line"], r["code"]) for r in records]) == (0, [(9, "HPO253")])
    assert "--definition DIR" in records[0]["message"]


@pytest.mark.parametrize("name", ["kinds.yaml", "method-random.yaml", "method-rbfopt.yaml", "method-grid.yaml"])
def test_good_examples_pass_strict(name: str) -> None:
    assert validate_json(EXAMPLES / name, extra=("--strict",)) == (0, [])


# -- files that cannot be read ---------------------------------------------------------------


def assert_one_clear_line(result, *fragments: str) -> None:
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hpo validate: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_missing_file(tmp_path: Path) -> None:
    assert_one_clear_line(invoke("validate", tmp_path / "nope.yaml"), "nope.yaml: no such file")


def test_directory(tmp_path: Path) -> None:
    assert_one_clear_line(invoke("validate", tmp_path), "is a folder")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "model.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert_one_clear_line(invoke("validate", path), "binary")


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("settings:\n  name: caf\xe9\n".encode("latin-1"))
    assert_one_clear_line(invoke("validate", path), "not UTF-8", "byte 21")  # 0-based byte offset of the é


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    from hpo_engine.manifest.validation import MAX_MANIFEST_BYTES

    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(MAX_MANIFEST_BYTES + 1)  # sparse: no disk space used
    assert_one_clear_line(invoke("validate", path), "too large")


def test_an_unreadable_file_among_good_ones_still_checks_the_others(tmp_path: Path) -> None:
    result = invoke("validate", EXAMPLES / "seed.yaml", tmp_path / "nope.yaml", EXAMPLES / "seed-typo.yaml")
    assert result.exit_code == 2
    assert "seed-typo.yaml:30:9: error:" in result.stdout
    assert "seed.yaml: 1 warning" in result.stdout
    assert result.stderr.count("\n") == 1
