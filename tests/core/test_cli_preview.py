"""``hpo preview``: the expanded search space per reference, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .support import BROKEN, EXAMPLES, invoke


def table_rows(text: str) -> dict[str, list[str]]:
    """The first table's rows by hyper-parameter name; wrapped cells joined back with a space."""
    rows: dict[str, list[str]] = {}
    last = None
    for line in text.splitlines():
        if line.startswith("└"):
            break
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if cells[0]:
            last = rows[cells[0]] = cells
        elif last is not None:
            last[:] = [f"{a} {b}".strip() for a, b in zip(last, cells)]
    return rows


def test_seed_preview_table() -> None:
    result = invoke("preview", EXAMPLES / "seed.yaml")
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert rows == {
        "learning_rate": ["learning_rate", "double_range", "0.005, 0.006, 0.007, 0.008, 0.009, 0.01", "6"],
        "conv_filter_size1": ["conv_filter_size1", "int_range", "5, 6", "2"],
        "conv_filter_size2": ["conv_filter_size2", "int_range", "5, 6", "2"],
        "fc": ["fc", "int_range", "32, 64, 128, 256, 512, 1024", "6"],
    }
    assert "combinations: 144" in result.stdout
    assert "first 10 points" in result.stdout


def test_seed_preview_json() -> None:
    result = invoke("preview", EXAMPLES / "seed.yaml", "--format", "json", "--limit", "7")
    (preview,) = json.loads(result.stdout)
    assert preview["reference"] == "model1" and preview["method"] == "random"
    assert (preview["objective"], preview["direction"], preview["num_optimizer_steps"]) == ("accuracy", "maximize", 4)
    assert preview["size"] == 144 and preview["is_finite"] and not preview["points_are_samples"]
    dims = {d["name"]: d for d in preview["dimensions"]}
    assert dims["learning_rate"]["values"] == [0.005, 0.006, 0.007, 0.008, 0.009, 0.01]
    assert dims["conv_filter_size1"]["values"] == [5, 6] and dims["conv_filter_size2"]["values"] == [5, 6]
    assert dims["fc"]["values"] == [32, 64, 128, 256, 512, 1024] and dims["fc"]["count"] == 6
    assert len(preview["points"]) == 7
    assert preview["points"][6] == {"learning_rate": 0.005, "conv_filter_size1": 5, "conv_filter_size2": 6, "fc": 32}


def test_seed_preview_csv() -> None:
    result = invoke("preview", EXAMPLES / "seed.yaml", "--format", "csv", "--limit", "3")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [
        ["reference", "index", "learning_rate", "conv_filter_size1", "conv_filter_size2", "fc"],
        ["model1", "0", "0.005", "5", "5", "32"],
        ["model1", "1", "0.005", "5", "5", "64"],
        ["model1", "2", "0.005", "5", "5", "128"],
    ]


def test_limit() -> None:
    assert len(json.loads(invoke("preview", EXAMPLES / "seed.yaml", "--format", "json", "--limit", "200").stdout)[0]["points"]) == 144
    result = invoke("preview", EXAMPLES / "seed.yaml", "--limit", "0")
    assert result.exit_code == 0 and "combinations: 144" in result.stdout and "points" not in result.stdout
    assert invoke("preview", EXAMPLES / "seed.yaml", "--limit", "-1").exit_code == 2


def test_continuous_spaces_preview_seeded_samples() -> None:
    first = invoke("preview", EXAMPLES / "method-random.yaml", "--format", "json", "--limit", "4").stdout
    assert first == invoke("preview", EXAMPLES / "method-random.yaml", "--format", "json", "--limit", "4").stdout
    (preview,) = json.loads(first)
    assert preview["size"] is None and preview["finite_size"] == 6 and preview["points_are_samples"]
    assert all(1e-4 <= p["learning_rate"] <= 0.1 for p in preview["points"])
    table = invoke("preview", EXAMPLES / "method-random.yaml").stdout
    assert "infinite (continuous: learning_rate; 6 finite combinations)" in " ".join(table.split())
    assert "sample points (seeded)" in table


def test_reference_option(tmp_path: Path) -> None:
    text = (EXAMPLES / "method-grid.yaml").read_text()
    two = text + text.split("training_references:\n")[1].replace("name: grid-search", "name: second").replace("[relu, tanh]", "[relu]")
    path = tmp_path / "two.yaml"
    path.write_text(two)
    both = json.loads(invoke("preview", path, "--format", "json").stdout)
    assert [p["reference"] for p in both] == ["grid-search", "second"]
    (second,) = json.loads(invoke("preview", path, "--format", "json", "--reference", "second").stdout)
    assert second["size"] == 9
    result = invoke("preview", path, "--reference", "third")
    assert result.exit_code == 2
    assert "no training reference named 'third'" in result.stderr and "grid-search, second" in result.stderr


def test_every_kind_is_shown() -> None:
    result = invoke("preview", EXAMPLES / "kinds.yaml", "--format", "json", "--limit", "1")
    (preview,) = json.loads(result.stdout)
    kinds = {d["name"]: (d["kind"], d["count"]) for d in preview["dimensions"]}
    assert kinds["dropout"] == ("double_range", None) and kinds["weight_decay"] == ("double_range", None)
    assert kinds["epochs"] == ("int_range", 1) and kinds["batch_size"] == ("int_range", 4)
    assert {k for k, _ in kinds.values()} == {"double_range", "int_range", "double_values", "int_values", "string_values"}
    decay = next(d for d in preview["dimensions"] if d["name"] == "weight_decay")
    assert decay["scale"] == "log" and [round(b, 12) for b in decay["bounds"]] == [1e-05, 0.1]


def test_a_manifest_with_errors_gets_validate_s_output_and_exit_1() -> None:
    result = invoke("preview", "examples/seed-typo.yaml")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "examples/seed-typo.yaml:30:9: error: Unknown property 'step\"' in 'double_range'; did you mean 'step'? [HPO101]"
    assert [line.split(" [")[-1] for line in result.stderr.splitlines()] == ["HPO253]", "HPO101]"]  # the WML asset URL warns too


def test_a_manifest_with_warnings_is_previewed() -> None:
    result = invoke("preview", BROKEN / "duplicate-values.yaml", "--format", "json")
    assert result.exit_code == 0
    (preview,) = json.loads(result.stdout)
    assert [d["values"] for d in preview["dimensions"]] == [["relu", "tanh"], [32, 64]]


def test_unreadable_files_exit_2(tmp_path: Path) -> None:
    for path in (tmp_path / "nope.yaml", tmp_path):
        result = invoke("preview", path)
        assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
        assert result.stderr.startswith("hpo preview: ")


def test_a_manifest_without_optimization(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text("training_references:\n- name: plain\n  command: python3 train.py\n")
    result = invoke("preview", path)
    assert result.exit_code == 0 and "no training reference has a hyper_parameters_optimization section" in " ".join(result.stdout.split())


def test_a_huge_space_is_counted_and_its_first_points_listed(tmp_path: Path) -> None:
    dims = "".join(f"    - name: d{i}\n      int_range:\n        min_value: 0\n        max_value: 999\n" for i in range(5))
    text = (EXAMPLES / "method-grid.yaml").read_text().split("    hyper_parameters:\n")[0] + "    hyper_parameters:\n" + dims
    path = tmp_path / "huge.yaml"
    path.write_text(text)
    (preview,) = json.loads(invoke("preview", path, "--format", "json", "--limit", "100").stdout)
    assert preview["size"] == 10**15
    assert len(preview["points"]) == 100 and preview["points"][99] == {"d0": 0, "d1": 0, "d2": 0, "d3": 0, "d4": 99}
    assert all(len(d["values"]) == 50 and d["values_truncated"] for d in preview["dimensions"])
    table = invoke("preview", path, "--limit", "3").stdout
    assert "combinations: 1,000,000,000,000,000" in table
    assert table_rows(table)["d0"] == ["d0", "int_range", "0, 1, 2, ..., 998, 999", "1,000"]
