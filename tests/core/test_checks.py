"""The checks JSON Schema cannot express (hpo_engine.manifest.validation.checks), through validate_text.

Positions here are the validator's own: 0-based line, 0-based code-point column.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hpo_engine.manifest.problems import CODES, Severity
from hpo_engine.manifest.spans import Position
from hpo_engine.manifest.validation import validate_text
from hpo_engine.manifest.validation.checks import KNOWN_COMPUTE_NAMES, REQUIRED_METHOD_PARAMETERS, STANDARD_VARIABLES

from .support import VALID

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"

HP = "    hyper_parameters:\n"
METHOD = "      name: random\n"
STEPS = "        int_value: 4\n"


def with_hyper_parameters(block: str, *, method: str = "random", steps: int = 4) -> str:
    """VALID with its hyper-parameters replaced by ``block`` (item lines at 4 spaces)."""
    head = VALID.split(HP)[0].replace(METHOD, f"      name: {method}\n").replace(STEPS, f"        int_value: {steps}\n")
    return head + HP + block


def problems(text: str, environ: dict[str, str] | None = None) -> list[tuple[str, int, int]]:
    """(code, 0-based line, 0-based column) of every problem."""
    result = validate_text(text, environ={} if environ is None else environ)
    return [(p.code, p.span.start.line, p.span.start.column) for p in result.problems]


def only(text: str, environ: dict[str, str] | None = None):
    (problem,) = validate_text(text, environ={} if environ is None else environ).problems
    return problem


def test_the_valid_manifest_has_no_problem() -> None:
    result = validate_text(VALID, environ={})
    assert result.problems == () and result.manifest is not None


# -- ranges -------------------------------------------------------------------------------


def test_min_greater_than_max_points_at_min_value_and_offers_the_swap() -> None:
    text = with_hyper_parameters("    - name: lr\n      double_range:\n        min_value: 0.1\n        max_value: 0.01\n")
    problem = only(text)
    assert problem.code == "HPO201" and problem.severity is Severity.ERROR
    assert problem.span.start == Position(16, 19)
    assert problem.message == "min_value (0.1) is larger than max_value (0.01): the range is empty."
    (swap,) = problem.suggestions
    assert [(e.span.start, e.new_text) for e in swap.edits] == [(Position(16, 19), "0.01"), (Position(17, 19), "0.1")]


def test_min_equal_to_max_pins_a_value() -> None:
    text = with_hyper_parameters("    - name: lr\n      double_range:\n        min_value: 0.1\n        max_value: 0.1\n", steps=1)
    assert problems(text) == []


@pytest.mark.parametrize("step", ["0", "-0.5"])
def test_step_not_positive(step: str) -> None:
    text = with_hyper_parameters(f"    - name: lr\n      double_range:\n        min_value: 0.0\n        max_value: 1.0\n        step: {step}\n")
    problem = only(text)
    assert (problem.code, problem.span.start) == ("HPO202", Position(18, 14))
    assert step in problem.message


@pytest.mark.parametrize(("kind", "low", "high", "step"), [("double_range", "0.005", "0.01", "0.1"), ("int_range", "1", "4", "5")])
def test_step_larger_than_the_span(kind: str, low: str, high: str, step: str) -> None:
    text = with_hyper_parameters(f"    - name: x\n      {kind}:\n        min_value: {low}\n        max_value: {high}\n        step: {step}\n")
    problem = only(text)
    assert (problem.code, problem.span.start) == ("HPO203", Position(18, 14))
    assert f"step ({step}) is larger than the range {low}..{high}" in problem.message


def test_step_equal_to_the_span_is_fine() -> None:
    text = with_hyper_parameters("    - name: x\n      double_range:\n        min_value: 0.0\n        max_value: 0.5\n        step: 0.5\n", steps=2)
    assert problems(text) == []


@pytest.mark.parametrize(("key", "value"), [("min_value", "1.5"), ("max_value", "4.25"), ("step", "0.5")])
def test_int_range_needs_integers(key: str, value: str) -> None:
    spec = {"min_value": "1", "max_value": "4", "step": "1"} | {key: value}
    body = "".join(f"        {k}: {v}\n" for k, v in spec.items())
    problem = only(with_hyper_parameters(f"    - name: n\n      int_range:\n{body}"))
    assert problem.code == "HPO204"
    assert f"'{key}' is {value}" in problem.message and "double_range" in problem.message


@pytest.mark.parametrize(("power", "fragment"), [("1", "power 1 makes every value 1"), ("-2", "must be positive and not 1, but it is -2"), ("0", "but it is 0")])
def test_power_not_positive_or_one(power: str, fragment: str) -> None:
    text = with_hyper_parameters(f"    - name: fc\n      int_range:\n        min_value: 5\n        max_value: 10\n        power: {power}\n")
    problem = only(text)
    assert (problem.code, problem.span.start) == ("HPO205", Position(18, 15))
    assert fragment in problem.message


def test_fractional_power_on_a_double_range_is_fine() -> None:
    text = with_hyper_parameters("    - name: x\n      double_range:\n        min_value: 1\n        max_value: 3\n        power: 0.5\n")
    assert problems(text) == []


@pytest.mark.parametrize(
    ("spec", "where", "fragment"),
    [
        ("{min_value: .nan, max_value: 1}", (15, 32), "'min_value' must be a finite number, but it is .nan."),
        ("{min_value: 0, max_value: .inf}", (15, 46), "'max_value' must be a finite number, but it is .inf."),
        ("{min_value: 0, max_value: 1, step: .inf}", (15, 55), "'step' must be a finite number"),
    ],
)
def test_non_finite_bounds_are_errors(spec: str, where: tuple[int, int], fragment: str) -> None:
    """Regression: .inf/.nan passed validation and the reference silently lost its search space."""
    problem = only(with_hyper_parameters(f"    - name: x\n      double_range: {spec}\n"))
    assert (problem.code, (problem.span.start.line, problem.span.start.column)) == ("HPO106", where)
    assert fragment in problem.message


def test_non_finite_values_are_errors() -> None:
    found = problems(with_hyper_parameters("    - name: x\n      double_values: [.inf, 1, .nan]\n"))
    assert found == [("HPO106", 15, 22), ("HPO106", 15, 31)]


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        ("{min_value: 0, max_value: 400, power: 10}", (15, 46)),  # 10 ** 400: at the max_value
        ("{min_value: 0, max_value: 400, step: 1, power: 10}", (15, 46)),
        ("{min_value: -2000, max_value: 3, power: 0.5}", (15, 32)),  # 0.5 ** -2000: at the min_value
    ],
)
def test_power_overflowing_a_float_is_an_error(spec: str, where: tuple[int, int]) -> None:
    """Regression: these validated, then `hpo preview` died with OverflowError."""
    problem = only(with_hyper_parameters(f"    - name: x\n      double_range: {spec}\n"))
    assert (problem.code, (problem.span.start.line, problem.span.start.column)) == ("HPO106", where)
    assert "too large" in problem.message


def test_int_range_with_an_integer_power_stays_exact_up_to_the_float_range() -> None:
    result = validate_text(with_hyper_parameters("    - name: n\n      int_range: {min_value: 0, max_value: 300, power: 10}\n"), environ={})
    assert result.problems == ()
    dimension = result.manifest.references[0].optimization.space["n"]
    assert dimension.value_at(-1) == 10**300 and type(dimension.value_at(-1)) is int


@pytest.mark.parametrize("high", ["400", "9999999999999999999999999999999999999999"])
def test_int_range_with_a_power_beyond_the_float_range_is_an_error(high: str) -> None:
    """Regression: 2 ** 10**40 validated, then hpo preview (and hover) tried to compute it: memory and time without end."""
    problem = only(with_hyper_parameters(f"    - name: n\n      int_range: {{min_value: 5, max_value: {high}, power: 10}}\n"))
    assert (problem.code, problem.span.start) == ("HPO106", Position(15, 43))
    assert "too large" in problem.message


# -- value lists ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["double_values", "int_values", "string_values"])
def test_empty_values(kind: str) -> None:
    problem = only(with_hyper_parameters(f"    - name: x\n      {kind}: []\n"))
    assert problem.code == "HPO206" and problem.message == f"'{kind}' is empty: list at least one value."


def test_duplicate_values_are_warnings_and_the_manifest_keeps_one_copy() -> None:
    """Regression: the warning was right, but the reference lost its search space (None)."""
    text = with_hyper_parameters("    - name: act\n      string_values: [relu, tanh, relu]\n    - name: beta\n      double_values: [0.5, 1, 1.0]\n", steps=4)
    result = validate_text(text, environ={})
    assert [(p.code, p.severity) for p in result.problems] == [("HPO207", Severity.WARNING), ("HPO207", Severity.WARNING)]
    assert "'relu' is listed twice (first at position 1)" in result.problems[0].message
    assert result.manifest is not None
    space = result.manifest.references[0].optimization.space
    assert list(space["act"].values()) == ["relu", "tanh"]
    assert list(space["beta"].values()) == [0.5, 1.0]
    assert space.size == 4


# -- names ----------------------------------------------------------------------------------


def test_two_hyper_parameters_with_one_name() -> None:
    text = with_hyper_parameters("    - name: x\n      int_values: [1]\n    - name: y\n      int_values: [2]\n    - name: x\n      int_values: [3]\n", steps=1)
    problem = only(text)
    assert (problem.code, problem.span.start) == ("HPO208", Position(18, 12))
    assert "first as item 1" in problem.message


def test_two_training_references_with_one_name() -> None:
    text = VALID + "- name: model1\n  command: python3 other.py\n"
    problem = only(text)
    assert (problem.code, problem.span.start) == ("HPO214", Position(24, 8))


# -- the method -------------------------------------------------------------------------------


def test_method_parameter_given_twice() -> None:
    text = VALID.replace(STEPS, STEPS + "      - name: num_optimizer_steps\n        int_value: 9\n")
    problem = only(text)
    assert (problem.code, problem.span.start) == ("HPO209", Position(13, 14))


@pytest.mark.parametrize("missing", REQUIRED_METHOD_PARAMETERS)
def test_each_required_method_parameter(missing: str) -> None:
    lines = VALID.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.strip() == f"- name: {missing}")
    text = "".join(lines[:index] + lines[index + 2 :])
    problem = only(text)
    assert (problem.code, problem.span.start) == ("HPO210", Position(6, 6))  # the 'parameters' key
    assert problem.message == f"The method needs the parameter '{missing}'."


def test_all_required_parameters_missing_is_one_problem() -> None:
    text = VALID.split("      parameters:\n")[0] + "      parameters:\n      - name: random_seed\n        int_value: 3\n" + HP + VALID.split(HP)[1]
    problem = only(text)
    assert problem.code == "HPO210"
    assert "'objective', 'maximize_or_minimize', 'num_optimizer_steps'" in problem.message


def test_a_misspelled_required_parameter_is_reported_once() -> None:
    text = VALID.replace("- name: num_optimizer_steps", "- name: num_optimiser_steps")
    assert [c for c, _, _ in problems(text)] == ["HPO104"]


def test_wrong_value_key_for_a_method_parameter() -> None:
    text = VALID.replace("        int_value: 4\n", "        double_value: 4.0\n")
    problem = only(text)
    assert problem.code == "HPO107" and problem.suggestions[0].replacement == "int_value"


def test_run_controls_are_accepted_with_their_value_kinds() -> None:
    controls = (
        "      - name: max_concurrent_trials\n        int_value: 2\n"
        "      - name: max_failed_trials\n        int_value: 0\n"
        "      - name: trial_timeout_seconds\n        int_value: 60\n"
        "      - name: random_seed\n        int_value: 7\n"
        "      - name: time_interval\n        string_value: epoch\n"
        "      - name: filename\n        string_value: metrics.json\n"
    )
    result = validate_text(VALID.replace(STEPS, STEPS + controls), environ={})
    assert result.problems == ()
    method = result.manifest.references[0].optimization.method
    assert (method.max_concurrent_trials, method.max_failed_trials, method.trial_timeout_seconds, method.random_seed) == (2, 0, 60.0, 7)
    assert (method.time_interval, method.filename) == ("epoch", "metrics.json")


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("max_concurrent_trials", "int_value: 0", "HPO106"),
        ("trial_timeout_seconds", "double_value: -5", "HPO106"),
        ("trial_timeout_seconds", "int_value: 0", "HPO106"),
        ("max_failed_trials", "int_value: -1", "HPO106"),
        ("random_seed", "string_value: abc", "HPO107"),
        ("trial_timeout_seconds", "string_value: 1h", "HPO107"),
        ("time_interval", "string_value: epochs", "HPO104"),
    ],
)
def test_bad_run_controls(name: str, value: str, code: str) -> None:
    text = VALID.replace(STEPS, STEPS + f"      - name: {name}\n        {value}\n")
    assert code in [c for c, _, _ in problems(text)]


# -- budget -----------------------------------------------------------------------------------


def test_more_steps_than_grid_points_is_a_warning() -> None:
    text = VALID.replace(STEPS, "        int_value: 200\n")
    problem = only(text)
    assert (problem.code, problem.severity, problem.span.start) == ("HPO211", Severity.WARNING, Position(12, 19))
    assert problem.message == "num_optimizer_steps is 200, but only 36 distinct models exist in this grid."


def test_more_steps_than_grid_points_says_model_once() -> None:
    text = with_hyper_parameters("    - name: x\n      int_values: [1]\n", steps=2)
    assert "only 1 distinct model exists" in only(text).message


def test_steps_on_a_space_with_a_continuous_dimension_are_never_too_many() -> None:
    text = with_hyper_parameters("    - name: x\n      double_range: {min_value: 0, max_value: 1}\n", steps=10_000)
    assert problems(text) == []


def test_rbfopt_with_too_few_steps_is_a_warning() -> None:
    text = with_hyper_parameters("    - name: a\n      double_range: {min_value: 0, max_value: 1}\n    - name: b\n      double_range: {min_value: 0, max_value: 1}\n", method="rbfopt", steps=2)
    problem = only(text)
    assert (problem.code, problem.severity) == ("HPO212", Severity.WARNING)
    assert "(2 runs for 2 hyper-parameters)" in problem.message
    assert problems(text.replace("int_value: 2", "int_value: 3")) == []


def test_grid_needs_a_finite_space() -> None:
    text = with_hyper_parameters("    - name: dropout\n      double_range: {min_value: 0, max_value: 0.5}\n    - name: n\n      int_values: [1, 2]\n", method="grid")
    problem = only(text)
    assert (problem.code, problem.span.start) == ("HPO213", Position(5, 12))
    assert "'dropout' is continuous" in problem.message


def test_grid_on_a_finite_space_is_fine() -> None:
    assert problems(VALID.replace(METHOD, "      name: grid\n")) == []


def test_empty_hyper_parameters() -> None:
    problem = only(VALID.split(HP)[0] + "    hyper_parameters: []\n")
    assert problem.code == "HPO218"


# -- references -------------------------------------------------------------------------------


def test_unknown_variable_in_a_multi_line_command_points_inside_it() -> None:
    text = VALID.replace("  command: python3 train.py --data ${DATA_DIR}\n", "  command: python3 train.py --data ${DATA_DIR}\n    --x ${SUBID} --cache ${CACHE_DIR} --y $HOME_DIR\n")
    found = validate_text(text, environ={}).problems
    assert [(p.code, p.severity, p.span.start, p.span.end) for p in found] == [
        ("HPO215", Severity.INFO, Position(3, 25), Position(3, 37)),
        ("HPO215", Severity.INFO, Position(3, 42), Position(3, 51)),
    ]
    assert validate_text(text, environ={"CACHE_DIR": "/c", "HOME_DIR": "/h"}).problems == ()


def test_unknown_variable_close_to_a_standard_one_gets_a_suggestion() -> None:
    problem = only(VALID.replace("${DATA_DIR}", "${DATA_DIRS}"))
    assert "did you mean ${DATA_DIR}?" in problem.message
    assert problem.suggestions[0].edits[0].new_text == "${DATA_DIR}"


def test_every_standard_variable_is_known() -> None:
    command = " ".join(f"${{{name}}}" for name in STANDARD_VARIABLES)
    assert problems(VALID.replace("--data ${DATA_DIR}", command)) == []


def test_a_variable_in_a_quoted_command_points_at_the_source_text() -> None:
    text = VALID.replace("  command: python3 train.py --data ${DATA_DIR}\n", '  command: "python3 \\u00e9 ${OOPS}"\n')
    problem = only(text)
    assert problem.span.start == Position(2, 27)
    assert text.splitlines()[2][27:34] == "${OOPS}"


@pytest.mark.parametrize(
    ("key", "value", "warned"),
    [
        ("secret_access_key", "wJalrXUtnFEMI/K7MDENG", True),
        ("access_key_id", "AKIAIOSFODNN7EXAMPLE", True),
        ("password", "hunter2", True),
        ("secret_access_key", "<SECRET ACCESS KEY>", False),
        ("access_key_id", "<ACCESS KEY>", False),
        ("secret_access_key", "${AWS_SECRET}", False),
        ("secret_access_key", "$AWS_SECRET", False),
        ("endpoint_url", "https://s3.example.com", False),
    ],
)
def test_credentials_in_plain_text(key: str, value: str, warned: bool) -> None:
    section = "training_results_reference" if key != "password" else "training_data_reference"
    text = VALID + f"{section}:\n  name: r\n  connection:\n    {key}: {value}\n  type: s3\n"
    found = tuple(p for p in validate_text(text, environ={}).problems if p.code == "HPO216")  # not the storage checks
    if not warned:
        assert found == ()
        return
    (problem,) = found
    assert (problem.code, problem.severity, problem.span.start) == ("HPO216", Severity.WARNING, Position(27, 4 + len(key) + 2))
    variable = key.upper()
    assert problem.suggestions[0].replacement == f"${{{variable}}}"


@pytest.mark.parametrize("name", KNOWN_COMPUTE_NAMES)
def test_known_compute_configurations(name: str) -> None:
    assert problems(VALID.replace("  hyper_parameters_optimization:\n", f"  compute_configuration:\n    name: {name}\n  hyper_parameters_optimization:\n", 1)) == []


def test_unknown_compute_configuration_is_a_warning() -> None:
    text = VALID.replace("  hyper_parameters_optimization:\n", "  compute_configuration:\n    name: p10\n  hyper_parameters_optimization:\n", 1)
    problem = only(text)
    assert (problem.code, problem.severity, problem.span.start) == ("HPO217", Severity.WARNING, Position(4, 10))
    assert problem.suggestions and problem.suggestions[0].replacement == "p100"


def test_every_problem_uses_its_registered_severity() -> None:
    texts = [
        VALID.replace(STEPS, "        int_value: 200\n"),
        VALID.replace("${DATA_DIR}", "${NOPE}"),
        VALID + "- name: model1\n  command: x\n",
        with_hyper_parameters("    - name: act\n      string_values: [a, a]\n"),
    ]
    for text in texts:
        for problem in validate_text(text, environ={}).problems:
            assert problem.severity is CODES[problem.code][0]


def test_out_of_bounds_method_parameters_are_named_after_the_parameter() -> None:
    """Regression: a negative or zero trial_timeout_seconds passed (and meant 'no limit'); messages said 'int_value'."""
    timeout = only(VALID.replace(STEPS, STEPS + "      - name: trial_timeout_seconds\n        double_value: -5\n"))
    assert (timeout.code, timeout.span.start) == ("HPO106", Position(14, 22))
    assert timeout.message == "'trial_timeout_seconds' must be more than 0, but it is -5."
    steps = only(VALID.replace(STEPS, "        int_value: 0\n"))
    assert steps.message == "'num_optimizer_steps' must be at least 1, but it is 0."


def test_int_range_bounds_written_as_integral_floats_are_checked() -> None:
    """Regression: JSON Schema accepts 2.0 as an integer, but the checks skipped the range, so
    min > max went unreported and the reference silently lost its search space."""
    problem = only(with_hyper_parameters("    - name: n\n      int_range:\n        min_value: 5\n        max_value: 2.0\n"))
    assert problem.code == "HPO201"
    result = validate_text(with_hyper_parameters("    - name: n\n      int_range:\n        min_value: 1.0\n        max_value: 3\n", steps=3), environ={})
    assert result.problems == ()
    assert list(result.manifest.references[0].optimization.space["n"].values()) == [1, 2, 3]


def test_integral_floats_in_int_values_and_int_method_parameters_are_ints() -> None:
    """Regression: 'int_value: 4.0' validated (an integer to JSON Schema) but ran 1 trial, and
    'int_values: [1.0, 2]' validated but the reference silently lost its search space."""
    text = with_hyper_parameters("    - name: n\n      int_values: [1.0, 2, 3]\n", steps=3)
    text = text.replace("        int_value: 3\n", "        int_value: 3.0\n      - name: max_concurrent_trials\n        int_value: 2.0\n      - name: random_seed\n        int_value: 7.0\n")
    result = validate_text(text, environ={})
    assert result.problems == ()
    optimization = result.manifest.references[0].optimization
    assert list(optimization.space["n"].values()) == [1, 2, 3]
    method = optimization.method
    assert (method.num_optimizer_steps, method.max_concurrent_trials, method.random_seed) == (3, 2, 7)
    assert all(type(v) is int for v in (method.num_optimizer_steps, method.max_concurrent_trials, method.random_seed))


def test_unknown_key_in_a_hyper_parameter_names_the_hyper_parameter() -> None:
    text = (EXAMPLES_DIR / "seed.yaml").read_text().replace("    - name: fc\n      int_range:", "    - name: fc\n      int_rnge:")
    messages = [p.message for p in validate_text(text).problems if p.code == "HPO101"]
    assert messages == ["Unknown property 'int_rnge' in hyper-parameter 'fc'; did you mean 'int_range'?"]


def test_a_variable_without_braces_is_quoted_as_written_and_fixed_with_braces() -> None:
    text = (EXAMPLES_DIR / "seed.yaml").read_text().replace("--learningRate 0.001", "--learningRate $LERNING_RATE")
    [problem] = [p for p in validate_text(text, environ={}).problems if p.code == "HPO215"]
    assert problem.message.startswith("$LERNING_RATE is not a standard variable")


BLOCK_2D = "    - name: lr\n      double_range:\n        min_value: -4\n        max_value: -1\n        power: 10\n    - name: u\n      int_range:\n        min_value: 1\n        max_value: 8\n"


def _with_startup(method: str, startup: int, steps: int) -> str:
    text = with_hyper_parameters(BLOCK_2D, method=method, steps=steps)
    return text.replace(STEPS.replace("4", str(steps)), STEPS.replace("4", str(steps)) + f"      - name: n_startup_trials\n        int_value: {startup}\n", 1)


@pytest.mark.parametrize("method", ["tpe", "bayesian"])
def test_n_startup_trials_below_the_budget_is_fine_for_the_methods_that_read_it(method: str) -> None:
    assert problems(_with_startup(method, 5, 20)) == []


@pytest.mark.parametrize("method", ["random", "rbfopt", "grid"])
def test_n_startup_trials_for_a_method_that_ignores_it_is_warned(method: str) -> None:
    codes = [code for code, _, _ in problems(_with_startup(method, 5, 20))]
    assert "HPO240" in codes and "HPO241" not in codes


def test_n_startup_trials_not_below_the_budget_is_warned() -> None:
    assert [code for code, _, _ in problems(_with_startup("tpe", 20, 20))] == ["HPO241"]
