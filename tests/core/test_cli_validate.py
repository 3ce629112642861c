"""``hpo validate``: compiler-style lines, exit codes 0/1/2, --strict, --format json."""

from __future__ import annotations

import json
from pathlib import Path

from hpo_engine.cli.reporting import format_problem, problem_to_json, summary_line
from hpo_engine.manifest.validation import validate_text

from .support import BROKEN, EXAMPLES, VALID, invoke

JSON_KEYS = {"file", "line", "column", "end_line", "end_column", "severity", "code", "message", "suggestions"}


def test_the_typo_example_prints_one_line_with_the_suggestion_and_exits_1() -> None:
    result = invoke("validate", "examples/seed-typo.yaml")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "examples/seed-typo.yaml:9:28: warning: This is an asset of the original Watson Machine Learning service, which hpo cannot fetch: "
        "point it at a folder, a .zip, or an http(s):// or s3:// zip, or run with --definition DIR. [HPO253]",
        "examples/seed-typo.yaml:30:9: error: Unknown property 'step\"' in 'double_range'; did you mean 'step'? [HPO101]",
        "examples/seed-typo.yaml: 1 error, 1 warning",
    ]
    assert result.stderr == ""


def test_a_clean_manifest_exits_0() -> None:
    result = invoke("validate", EXAMPLES / "kinds.yaml")
    assert result.exit_code == 0
    assert result.stdout == f"{EXAMPLES / 'kinds.yaml'}: no problems\n"


def test_several_files_each_get_a_summary() -> None:
    result = invoke("validate", EXAMPLES / "method-grid.yaml", EXAMPLES / "kinds.yaml", BROKEN / "steps-over-grid.yaml")
    assert result.exit_code == 0  # a warning does not fail
    lines = result.stdout.splitlines()
    assert lines[0].endswith("method-grid.yaml: no problems") and lines[1].endswith("kinds.yaml: no problems")
    assert ":14:20: warning: num_optimizer_steps is 100" in lines[2] and lines[2].endswith("[HPO211]")
    assert lines[3].endswith("steps-over-grid.yaml: 1 warning")


def test_errors_in_any_file_exit_1() -> None:
    assert invoke("validate", EXAMPLES / "seed.yaml", EXAMPLES / "seed-typo.yaml").exit_code == 1


def test_strict_makes_warnings_fail_but_not_infos(no_user_variables: None) -> None:
    assert invoke("validate", BROKEN / "steps-over-grid.yaml").exit_code == 0
    assert invoke("validate", "--strict", BROKEN / "steps-over-grid.yaml").exit_code == 1
    assert invoke("validate", "--strict", BROKEN / "unknown-variable.yaml").exit_code == 0
    assert invoke("validate", "--strict", EXAMPLES / "kinds.yaml").exit_code == 0
    assert invoke("validate", "--strict", EXAMPLES / "seed.yaml").exit_code == 1  # its WML asset URL (HPO253)


def test_json_format() -> None:
    result = invoke("validate", "--format", "json", "examples/seed-typo.yaml")
    assert result.exit_code == 1
    wml, record = json.loads(result.stdout)
    assert (wml["line"], wml["code"], wml["severity"]) == (9, "HPO253", "warning")
    assert set(record) == JSON_KEYS
    assert record == {
        "file": "examples/seed-typo.yaml",
        "line": 30,
        "column": 9,
        "end_line": 30,
        "end_column": 14,
        "severity": "error",
        "code": "HPO101",
        "message": "Unknown property 'step\"' in 'double_range'; did you mean 'step'?",
        "suggestions": [
            {
                "title": "Change 'step\"' to 'step'",
                "replacement": "step",
                "edits": [{"line": 30, "column": 9, "end_line": 30, "end_column": 14, "new_text": "step"}],
            }
        ],
    }


def test_json_format_of_clean_and_several_files() -> None:
    result = invoke("validate", "--format", "json", EXAMPLES / "kinds.yaml")
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])
    result = invoke("validate", "--format", "json", BROKEN / "power-one.yaml", BROKEN / "tabs.yaml")
    records = json.loads(result.stdout)
    assert [(Path(r["file"]).name, r["code"]) for r in records] == [("power-one.yaml", "HPO205"), ("tabs.yaml", "HPO003")]
    assert all(set(r) == JSON_KEYS for r in records)


def test_json_format_with_an_unreadable_file_is_still_json(tmp_path: Path) -> None:
    result = invoke("validate", "--format", "json", tmp_path / "nope.yaml", BROKEN / "tabs.yaml")
    assert result.exit_code == 2
    assert [r["code"] for r in json.loads(result.stdout)] == ["HPO003"]
    assert "no such file" in result.stderr


def test_usage_errors_exit_2() -> None:
    assert invoke("validate").exit_code == 2
    assert invoke("validate", "--format", "xml", EXAMPLES / "seed.yaml").exit_code == 2
    assert invoke("validate", "--nope", EXAMPLES / "seed.yaml").exit_code == 2


def test_format_problem_is_one_based(tmp_path: Path) -> None:
    (problem,) = validate_text(VALID.replace("power: 2", "power: 1"), environ={}).problems
    assert problem.span.start.line == 23 and problem.span.start.column == 15
    assert format_problem("m.yaml", problem) == "m.yaml:24:16: error: power 1 makes every value 1: remove 'power' or use a base such as 2 or 10. [HPO205]"
    record = problem_to_json("m.yaml", problem)
    assert (record["line"], record["column"], record["end_line"], record["end_column"]) == (24, 16, 24, 17)


def test_summary_line() -> None:
    problems = validate_text(VALID.replace("int_value: 4", "int_value: 400").replace("${DATA_DIR}", "${A} ${B}").replace("power: 2", "power: 1"), environ={}).problems
    assert summary_line(problems) == "1 error, 2 info"
    assert summary_line([]) == "no problems"


def test_the_console_script_runs_as_a_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    hpo = Path(sys.executable).with_name("hpo")
    done = subprocess.run([str(hpo), "validate", "examples/seed-typo.yaml"], capture_output=True, text=True, cwd=EXAMPLES.parent, timeout=120)
    assert done.returncode == 1
    assert "examples/seed-typo.yaml:30:9: error: Unknown property 'step\"'" in done.stdout
    done = subprocess.run([str(hpo), "validate", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.splitlines()) == 1


def test_crlf_and_byte_order_mark_do_not_move_positions(tmp_path: Path) -> None:
    text = (EXAMPLES / "seed-typo.yaml").read_text()
    path = tmp_path / "windows.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    result = invoke("validate", "--format", "json", path)
    (record,) = [r for r in json.loads(result.stdout) if r["code"] == "HPO101"]
    assert (record["line"], record["column"], record["end_column"]) == (30, 9, 14)


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    text = (EXAMPLES / "seed.yaml").read_text().replace(
        "  author:\n    name: Bob Smith\n    email: bobsmith@example.com\n", "  author: {name: Bøb 😀 Smith, emäil: bob@example.com}\n"
    )
    path = tmp_path / "unicode.yaml"
    path.write_text(text, encoding="utf-8")
    (record,) = [r for r in json.loads(invoke("validate", "--format", "json", path).stdout) if r["code"] != "HPO253"]
    assert (record["line"], record["column"], record["code"]) == (4, 31, "HPO101")
    line = text.splitlines()[record["line"] - 1]
    assert line[record["column"] - 1 : record["end_column"] - 1] == "emäil"
    assert record["suggestions"][0]["replacement"] == "email"
