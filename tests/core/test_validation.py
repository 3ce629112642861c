"""validate_text, read_manifest_text, load_manifest; schema errors on the exact key or value."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpo_engine.errors import ManifestError
from hpo_engine.manifest.problems import CODES, Severity
from hpo_engine.manifest.spans import Position
from hpo_engine.manifest.validation import load_manifest, read_manifest_text, validate_document, validate_text
from hpo_engine.manifest.yaml_source import parse_yaml

from .support import EXAMPLES, VALID


def found(text: str) -> list[tuple[str, int, int]]:
    return [(p.code, p.span.start.line, p.span.start.column) for p in validate_text(text, environ={}).problems]


def only(text: str):
    (problem,) = validate_text(text, environ={}).problems
    return problem


# -- results ----------------------------------------------------------------------------------


def test_a_valid_manifest_gives_the_typed_manifest() -> None:
    result = validate_text(VALID, environ={})
    assert not result.has_errors and result.errors == ()
    reference = result.manifest.references[0]
    assert reference.name == "model1" and reference.command == "python3 train.py --data ${DATA_DIR}"
    method = reference.optimization.method
    assert (method.name, method.objective, method.maximize, method.num_optimizer_steps) == ("random", "accuracy", True, 4)
    assert reference.optimization.space.size == 36


def test_warnings_alone_still_give_a_manifest() -> None:
    result = validate_text(VALID.replace("int_value: 4", "int_value: 100"), environ={})
    assert [p.severity for p in result.problems] == [Severity.WARNING]
    assert not result.has_errors and result.manifest is not None


def test_errors_give_no_manifest() -> None:
    result = validate_text(VALID.replace("min_value: 5", "min_value: 50"), environ={})
    assert result.has_errors and result.manifest is None
    assert [p.code for p in result.errors] == ["HPO201"]


def test_problems_are_sorted_by_position_and_unique() -> None:
    text = VALID.replace("name: random", "name: rbfop").replace("power: 2", "power: 1").replace("step: 0.001", "stepp: 0.001")
    problems = validate_text(text, environ={}).problems
    assert [p.span.start for p in problems] == sorted(p.span.start for p in problems)
    assert len(set(problems)) == len(problems)
    assert {p.code for p in problems} == {"HPO104", "HPO101", "HPO205"}


def test_validate_document_reuses_a_parse() -> None:
    document = parse_yaml(VALID)
    assert validate_document(document, environ={}).problems == validate_text(VALID, environ={}).problems


def test_a_fragment_with_only_the_optimization_section() -> None:
    body = VALID.split("  hyper_parameters_optimization:\n")[1]
    text = "hyper_parameters_optimization:\n" + "".join(line[2:] + "\n" for line in body.splitlines())
    result = validate_text(text, environ={})
    assert result.problems == ()
    assert result.manifest.references[0].optimization.space.size == 36


def test_every_code_is_registered_with_a_severity_and_meaning() -> None:
    assert all(code.startswith("HPO") and len(code) == 6 for code in CODES)
    assert all(isinstance(severity, Severity) and meaning for severity, meaning in CODES.values())


# -- schema problems point at the exact key or value ------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "code", "where", "fragment"),
    [
        ("step: 0.001", 'step": 0.001', "HPO101", (18, 8), "did you mean 'step'?"),
        ("min_value: 5", "min_vlaue: 5", "HPO101", (21, 8), "did you mean 'min_value'?"),
        ("  command:", "  comand:", "HPO101", (2, 2), "did you mean 'command'?"),
        ("training_references:", "training_reference:", "HPO101", (0, 0), "did you mean 'training_references'?"),
        ("    hyper_parameters:", "    hyperparameters:", "HPO101", (13, 4), "did you mean 'hyper_parameters'?"),
        ("      int_range:", "      int_rang:", "HPO101", (20, 6), "did you mean 'int_range'?"),
        ("name: random", "name: rbfop", "HPO104", (5, 12), "did you mean 'rbfopt'?"),
        ("string_value: maximize", "string_value: maximise", "HPO104", (10, 22), "did you mean 'maximize'?"),
        ("- name: num_optimizer_steps", "- name: num_optimiser_steps", "HPO104", (11, 14), "did you mean 'num_optimizer_steps'?"),
        ("max_value: 10", "max_value: ten", "HPO103", (22, 19), "'max_value' must be an integer, but it is the string 'ten'."),
        ("string_value: accuracy", "string_value: [accuracy]", "HPO103", (8, 22), None),
    ],
)
def test_schema_problem_positions(old: str, new: str, code: str, where: tuple[int, int], fragment: str | None) -> None:
    assert old in VALID
    problem = only(VALID.replace(old, new, 1))
    assert (problem.code, (problem.span.start.line, problem.span.start.column)) == (code, where)
    if fragment:
        assert fragment in problem.message


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    problem = only(VALID.replace("        power: 2\n", "        power: 2\n        colour: red\n"))
    assert problem.code == "HPO101" and "allowed: min_value, max_value, step, power" in problem.message
    assert problem.suggestions == ()


def test_missing_required_property_points_at_the_mapping_s_first_key() -> None:
    problem = only(VALID.replace("        max_value: 10\n", ""))
    assert (problem.code, problem.span.start) == ("HPO102", Position(20, 6))  # the 'int_range' key
    assert problem.message == "Missing required property 'max_value' in 'int_range'."


def test_a_typo_is_not_also_reported_as_a_missing_property() -> None:
    assert [c for c, _, _ in found(VALID.replace("max_value: 10", "max_vlaue: 10"))] == ["HPO101"]


def test_hyper_parameter_errors_speak_of_the_chosen_kind() -> None:
    """Never jsonschema's 'is valid under each of' / 'is not valid under any of'."""
    texts = [
        VALID.replace("max_value: 10", "max_value: 10.5"),
        VALID.replace("      int_range:\n", "      int_range:\n        step: x\n"),
        VALID.replace("    - name: fc\n", "    - name: fc\n      int_values: [1]\n"),
        VALID.replace("      int_range:\n        min_value: 5\n        max_value: 10\n        power: 2\n", "      string_values: 3\n"),
    ]
    for text in texts:
        for problem in validate_text(text, environ={}).problems:
            assert "valid under" not in problem.message and "schemas" not in problem.message, problem.message


def test_two_kinds_point_at_one_of_the_kind_keys() -> None:
    problem = only(VALID.replace("    - name: fc\n", "    - name: fc\n      int_values: [1]\n"))
    assert (problem.code, problem.span.start) == ("HPO105", Position(20, 6))  # 'int_values', after int_range in KINDS order
    assert problem.message == "Hyper-parameter 'fc' has int_range and int_values: a hyper-parameter has exactly one kind; keep one."


def test_no_kind_points_at_the_name() -> None:
    problem = only(VALID.replace("      int_range:\n        min_value: 5\n        max_value: 10\n        power: 2\n", ""))
    assert (problem.code, problem.span.start) == ("HPO105", Position(19, 6))
    assert "needs one of double_range, int_range, double_values, int_values, string_values" in problem.message


def test_an_unknown_kind_key_is_one_problem_with_a_suggestion() -> None:
    problem = only(VALID.replace("      int_range:", "      integer_range:"))
    assert problem.code == "HPO101" and problem.suggestions[0].replacement == "int_range"


def test_errors_in_several_references_all_point_at_their_own_reference() -> None:
    references = "".join(
        VALID.split("training_references:\n")[1].replace("name: model1", f"name: model{i}") for i in range(5)
    )
    text = "settings:\n  nam: x\ntraining_references:\n" + references.replace("model3\n", "model3\n  comand: x\n")
    problems = validate_text(text, environ={}).problems
    assert [(p.code, p.span.start.line) for p in problems] == [("HPO101", 1), ("HPO101", 3 + 3 * 23 + 1)]
    assert text.splitlines()[problems[1].span.start.line].strip() == "comand: x"


def test_a_misspelled_training_references_is_one_problem() -> None:
    """Regression: the typo also gave "A manifest needs 'training_references'" (HPO102)."""
    assert found(VALID.replace("training_references:", "training_reference:")) == [("HPO101", 0, 0)]
    assert found(VALID.replace("training_references:", "Training_References:")) == [("HPO101", 0, 0)]


def test_top_level_problems() -> None:
    assert found("settings:\n  name: x\n") == [("HPO102", 0, 0)]
    assert only("settings:\n  name: x\n").message == "A manifest needs 'training_references' (or a 'hyper_parameters_optimization' section)."
    assert found("training_references: []\n") == [("HPO106", 0, 21)]
    assert found("training_references: 3\n") == [("HPO103", 0, 21)]
    assert found(VALID + "settings: {name: ''}\n") == [("HPO106", 24, 17)]


def test_reading_problems_stop_validation() -> None:
    result = validate_text("a: [1, 2\n", environ={})
    assert [p.code for p in result.problems] == ["HPO001"] and result.manifest is None


# -- files ----------------------------------------------------------------------------------------


def test_read_manifest_text(tmp_path: Path) -> None:
    assert read_manifest_text(EXAMPLES / "seed.yaml").startswith("settings:")
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfsettings: {}\n")
    assert read_manifest_text(bom) == "settings: {}\n"
    for path, fragment in [
        (tmp_path / "nope.yaml", "no such file"),
        (tmp_path, "is a folder"),
    ]:
        with pytest.raises(ManifestError, match=fragment) as caught:
            read_manifest_text(path)
        assert "\n" not in str(caught.value) and caught.value.problems == ()


def test_load_manifest(tmp_path: Path) -> None:
    manifest = load_manifest(EXAMPLES / "seed.yaml")
    assert manifest.source_path == (EXAMPLES / "seed.yaml").resolve()
    assert manifest.base_dir == EXAMPLES.resolve()
    assert manifest.settings.name == "Experiment1" and manifest.settings.author_email == "bobsmith@example.com"
    reference = manifest.reference("model1")
    assert reference.optimization.space.size == 144
    assert manifest.training_results_reference["type"] == "s3"
    with pytest.raises(KeyError):
        manifest.reference("nope")


def test_load_manifest_with_errors_carries_every_problem() -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifest(EXAMPLES / "seed-typo.yaml")
    assert str(caught.value) == f"{EXAMPLES / 'seed-typo.yaml'}: 1 error"
    assert [p.code for p in caught.value.problems] == ["HPO101"]


def test_load_manifest_of_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file") as caught:
        load_manifest(tmp_path / "nope.yaml")
    assert caught.value.problems == ()


def test_settings_name_defaults_to_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "my-experiment.yaml"
    path.write_text(VALID)
    assert load_manifest(path, environ={}).settings.name == "my-experiment"


def test_validating_in_a_thread_never_switches_the_collector_off_for_the_process() -> None:
    """The language server validates on a worker thread: the garbage collector stays on for every thread."""
    import gc
    import threading

    from hpo_engine.manifest.validation import validate_text

    item = "      - name: p{i}\n        double_range: {{min_value: 0.1, max_value: 0.9, step: 0.1}}\n"
    text = (
        "hyper_parameters_optimization:\n  method:\n    name: random\n    parameters:\n"
        "    - {name: objective, string_value: accuracy}\n    - {name: maximize_or_minimize, string_value: maximize}\n"
        "    - {name: num_optimizer_steps, int_value: 3}\n  hyper_parameters:\n"
        + "".join(item.format(i=i).replace("      ", "  ", 1) for i in range(300))
    )
    done = threading.Event()
    samples: list[bool] = []

    def work() -> None:
        for _ in range(3):
            validate_text(text)
        done.set()

    thread = threading.Thread(target=work)
    thread.start()
    while not done.is_set():
        samples.append(gc.isenabled())
    thread.join()
    assert samples and all(samples)
