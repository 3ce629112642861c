"""Writes docs/problem-codes.md by running ``hpo validate`` on the examples in examples/broken/.

Every message in the document is what hpo prints today, not a hand-written copy;
``tests/core/test_problem_codes_doc.py`` fails when the document is out of date.
Regenerate with::

    .venv/bin/python -m tests.core.problem_codes_doc
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

import hpo_engine.cli  # noqa: F401  (registers the commands)
from hpo_engine.cli.app import app
from hpo_engine.cli.reporting import format_problem
from hpo_engine.manifest.problems import CODES
from hpo_engine.manifest.validation import validate_text
from hpo_engine.manifest.yaml_source import MAX_DOCUMENT_CHARS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "problem-codes.md"

#: Variables the examples use that must not be set when the messages are generated.
UNSET = ("CACHE_DIR", "RESULT_DIRS", "HPO_EXAMPLE_S3_KEY", "HPO_EXAMPLE_S3_SECRET")


@dataclass(frozen=True)
class Example:
    code: str
    file: str  # relative to the repository root
    explanation: str


EXAMPLES = [
    Example("HPO001", "examples/broken/unclosed-bracket.yaml", "The text is not valid YAML. An unclosed `[`, `{` or quote is reported where it opens, not where the parser gave up; other syntax errors where the parser stopped."),
    Example("HPO001", "examples/broken/unclosed-quote.yaml", ""),
    Example("HPO002", "examples/broken/duplicate-key.yaml", "A mapping has the same key twice. YAML keeps only one of the values, so one of them is silently lost. The fix removes the later entry (all of its lines)."),
    Example("HPO003", "examples/broken/tabs.yaml", "YAML indents with spaces only; a tab in the indentation is reported on every line that has one (up to 20)."),
    Example("HPO004", "examples/broken/two-documents.yaml", "A manifest is one YAML document; a `---` line starts a second one, which hpo would ignore."),
    Example("HPO005", "examples/broken/comments-only.yaml", "The file is empty, or holds only comments or `null`."),
    Example("HPO006", "examples/broken/top-level-list.yaml", "The top level must be a mapping (`settings:`, `training_references:` ...), not a list or a single value."),
    Example("HPO008", "examples/broken/alias-bomb.yaml", "Aliases (`*name`) would expand the document past 100,000 nodes, all aliases together (a \"billion laughs\" file: each list holds the one before 9 times). The file is not read further, so neither `hpo validate` nor the language server spends memory or time on it; the problem points at the alias that crossed the budget."),
    Example("HPO101", "examples/seed-typo.yaml", "A key that the schema does not know, with the closest known keys as suggestions (ranked by similarity; the `step\"` typo of IBM's own sample is the first example). Objects whose fields are known are closed: an unknown key is an error, not ignored."),
    Example("HPO101", "examples/broken/min-vlaue.yaml", ""),
    Example("HPO102", "examples/broken/missing-command.yaml", "A required key is missing: `name` and `command` of a training reference, `min_value`/`max_value` of a range, `method` and `hyper_parameters` of an optimization section, `name` and `parameters` of a method, `training_references` at the top level (or, for a fragment, `hyper_parameters_optimization`). A key that is only misspelled is reported once, as HPO101."),
    Example("HPO103", "examples/broken/wrong-type.yaml", "A value of the wrong type: a string where a number is needed, a single value where a list is needed, and so on."),
    Example("HPO104", "examples/broken/method-rbfop.yaml", "A value that is not among the allowed ones, with the closest allowed values as suggestions: method names, method parameter names, `maximize_or_minimize`, `time_interval`."),
    Example("HPO104", "examples/broken/maximise.yaml", ""),
    Example("HPO104", "examples/broken/num-optimiser-steps.yaml", ""),
    Example("HPO105", "examples/broken/two-kinds.yaml", "A hyper-parameter has a `name` and exactly one of `double_range`, `int_range`, `double_values`, `int_values`, `string_values`; this one has none or several."),
    Example("HPO106", "examples/broken/steps-zero.yaml", "A value outside its allowed bounds or form: `num_optimizer_steps` and `max_concurrent_trials` at least 1, `max_failed_trials` at least 0, an empty `name`, `.inf`/`.nan` in a range or a value list, a `power` whose values overflow a floating-point number."),
    Example("HPO107", "examples/broken/wrong-value-key.yaml", "A known method parameter given with the wrong value key (`num_optimizer_steps` takes `int_value`; `objective` takes `string_value`; `trial_timeout_seconds` takes `double_value` or `int_value`). The fix renames the key."),
    Example("HPO201", "examples/broken/min-greater-than-max.yaml", "`min_value` is larger than `max_value`: the range is empty. The fix swaps the two values. (`min_value` equal to `max_value` is fine: it pins one value.)"),
    Example("HPO202", "examples/broken/step-not-positive.yaml", "`step` must be positive."),
    Example("HPO203", "examples/broken/step-larger-than-range.yaml", "`step` is larger than `max_value - min_value`, so only `min_value` would ever be used."),
    Example("HPO204", "examples/broken/int-range-fraction.yaml", "`int_range` needs integer bounds, step and power; use `double_range` for fractional values."),
    Example("HPO205", "examples/broken/power-one.yaml", "`power` must be positive and not 1 (`1 ** v` is 1 for every v)."),
    Example("HPO205", "examples/broken/power-negative.yaml", ""),
    Example("HPO206", "examples/broken/empty-values.yaml", "A `double_values`, `int_values` or `string_values` list is empty."),
    Example("HPO207", "examples/broken/duplicate-values.yaml", "A value is listed twice. Each value is tried once (the search space keeps one copy), so this is a warning; the fix removes the repeat."),
    Example("HPO208", "examples/broken/duplicate-hyper-parameter.yaml", "Two hyper-parameters of one reference have the same name; `config.json` can hold only one value for it."),
    Example("HPO209", "examples/broken/parameter-twice.yaml", "A method parameter is given twice; only the first is used."),
    Example("HPO210", "examples/broken/missing-objective.yaml", "`objective`, `maximize_or_minimize` and `num_optimizer_steps` are required method parameters (a misspelled one is reported as HPO104 instead)."),
    Example("HPO210", "examples/broken/missing-steps.yaml", ""),
    Example("HPO211", "examples/broken/steps-over-grid.yaml", "`num_optimizer_steps` is larger than the number of distinct points of a finite space: only that many different models exist, so the search stops early (random and grid never repeat a point)."),
    Example("HPO212", "examples/broken/rbfopt-too-few-steps.yaml", "`rbfopt` fits a model of the objective; with no more runs than hyper-parameters it cannot fit one and only samples at random."),
    Example("HPO213", "examples/broken/grid-continuous.yaml", "The `grid` method needs a finite space; a `double_range` without `step` is continuous."),
    Example("HPO214", "examples/broken/duplicate-reference.yaml", "Two training references have the same name; results are stored per reference name."),
    Example("HPO215", "examples/broken/unknown-variable.yaml", "A `${VAR}` (or `$VAR`) in `command` that is neither a standard variable (`DATA_DIR`, `RESULT_DIR`, `LOG_DIR`, `JOB_STATE_DIR`, `SUBID`, `TRAINING_ID`) nor set in the environment where hpo runs. Information only: it may be set when the experiment runs. A name close to a standard one gets a suggestion. The position is exact, also inside a command written over several lines."),
    Example("HPO216", "examples/broken/plaintext-credential.yaml", "A credential (a key named like `secret`, `password`, `access_key`, `token`, ...) written in plain text under `connection`. Write `${ENV_VAR}` instead. Placeholders such as `<ACCESS KEY>`, `${VAR}` or `***` are not warned."),
    Example("HPO217", "examples/broken/unknown-compute.yaml", "`compute_configuration.name` is not one of the original service's sizes (`k80`, `k80x2`, `k80x4`, `p100`, `v100`, `v100x2`)."),
    Example("HPO218", "examples/broken/no-hyper-parameters.yaml", "`hyper_parameters` is empty: there is nothing to optimize."),
    Example("HPO230", "examples/broken/asha-no-max-resource.yaml", "`early_stopping: asha` (and method `hyperband`) place their rungs below `max_resource`, the steps (in the `time_interval` key, e.g. epochs) of a full training run: give it."),
    Example("HPO231", "examples/broken/reduction-factor-one.yaml", "`reduction_factor` (eta) must be at least 2: each rung keeps the best 1/eta of the trials that reached it."),
    Example("HPO232", "examples/broken/grace-over-max-resource.yaml", "`grace_period` (the steps every trial runs before a rule may stop it) is larger than `max_resource`: the rule could never stop a trial."),
    Example("HPO233", "examples/broken/hyperband-with-early-stopping.yaml", "Method `hyperband` brings its own stopping rule (brackets of successive halving); an `early_stopping` rule given with it is ignored."),
    Example(
        "HPO234",
        "examples/broken/objective-not-recorded.yaml",
        "Early stopping (`median`, `asha`, method `hyperband`) decides on the values a trial records while it runs. When the reference's `training_definition_url` is a local folder or `.py` file whose Python code shows no per-step source of the objective (an EMetrics `record()` of it, the metrics file `val_dict_list.json` or the method's `filename`, or `objective=value` output), no trial could be stopped. Read with `ast` (the code is never run); remote definitions and folders without Python files are not judged. The engine also warns at run time when the first trial finishes with one step or none. A recorded name close to the objective is offered as a fix.",
    ),
    Example("HPO250", "examples/broken/s3-no-bucket.yaml", "A `training_results_reference` (or `training_data_reference`) of `type: s3` has no bucket: `target.bucket` for results, `source.bucket` (or `target.bucket`) for data."),
    Example("HPO251", "examples/broken/s3-no-endpoint.yaml", "A storage reference of `type: s3` has no `connection.endpoint_url`: boto3 then talks to AWS S3. Set it for MinIO, Ceph, IBM COS or any other S3-compatible server."),
    Example("HPO252", "examples/broken/storage-unknown-type.yaml", "A storage reference's `type` is neither `s3` nor `fs`: hpo ignores that reference (results stay local, data is not fetched)."),
    Example("HPO253", "examples/broken/definition-wml-asset.yaml", "`training_definition_url` names an asset stored by the original Watson Machine Learning service (or uses a scheme other than file, http, https, s3): hpo cannot fetch it. Point it at a folder, a `.zip`, an `http(s)://` or `s3://` zip, or run with `--definition DIR`."),
    Example("HPO254", "examples/broken/s3-unset-variable.yaml", "A `${VAR}` in a storage reference's connection or bucket is not set where the manifest is validated. `hpo run` reads it from the environment when it starts and stops with one line naming it if it is unset."),
    Example("HPO220", "examples/broken/control-character.yaml", "The experiment's name, a training reference's name, a hyper-parameter's name or the command holds a control character (a NUL, written `\\0` in a double-quoted string, cannot be part of a folder name, a program argument or an environment variable; the command may hold tabs and line breaks)."),
    Example("HPO221", "examples/broken/shared-folder.yaml", "Two training references whose names differ give one results folder: names become folder names of `[A-Za-z0-9._-]` (other characters become `_`), cut at 100 characters. The second would be refused when the experiment runs."),
    Example("HPO240", "examples/broken/startup-for-random.yaml", "A method parameter that only some methods read (`n_startup_trials`: `tpe` and `bayesian`) is given to a method that ignores it."),
    Example("HPO241", "examples/broken/startup-over-budget.yaml", "`n_startup_trials` is not smaller than `num_optimizer_steps`: every trial is sampled at random and the model is never used."),
]

#: HPO007 comes from text that holds NUL bytes (an editor buffer); a file like that is refused before parsing.
BINARY_TEXT = "settings:\n  name: x\x00\n"


def run_validate(file: str, *options: str) -> str:
    """What ``hpo validate [OPTIONS] FILE`` prints (stdout), run from the repository root."""
    previous = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(app, ["validate", *options, file], env={name: None for name in UNSET})
    finally:
        os.chdir(previous)
    return result.stdout


def binary_file_message() -> str:
    """What ``hpo validate model.bin`` prints on stderr for a binary file."""
    previous = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "model.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
        os.chdir(folder)
        try:
            result = CliRunner().invoke(app, ["validate", "model.bin"])
        finally:
            os.chdir(previous)
    assert result.exit_code == 2
    return result.stderr.strip()


def excerpt(file: str, code: str) -> str:
    """The lines around the first problem with ``code``, numbered, with carets under its span."""
    lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
    if not lines:
        return "(an empty file)"
    record = next(r for r in json.loads(run_validate(file, "--format", "json")) if r["code"] == code)
    line, column = record["line"], record["column"]
    end = record["end_column"] if record["end_line"] == line else len(lines[line - 1]) + 1
    first, last = max(1, line - 4), min(len(lines), line + 1)
    width = len(str(last))
    out = []
    for number in range(first, last + 1):
        out.append(f"{number:>{width}} | {lines[number - 1]}".rstrip())
        if number == line:
            out.append(" " * width + " | " + " " * (column - 1) + "^" * max(1, end - column))
    return "\n".join(out)


def render() -> str:
    out = [
        "# Problem codes",
        "",
        "Every problem `hpo validate` (and the language server) reports has a stable code. Errors make",
        "`hpo validate` exit 1; warnings only with `--strict`; infos never. Lines and columns are 1-based",
        "(columns count characters). This page is generated by running `hpo validate` on the manifests in",
        "[`examples/broken/`](../examples/broken/) (`.venv/bin/python -m tests.core.problem_codes_doc`); a test",
        "checks that it is up to date and lists every code.",
        "",
        "| code | severity | meaning |",
        "|---|---|---|",
    ]
    for code, (severity, meaning) in CODES.items():
        out.append(f"| [{code}](#{code.lower()}) | {severity.value} | {meaning} |")
    out.append("")
    groups = {"HPO0": "Reading the text", "HPO1": "Schema", "HPO2": "Rules a schema cannot express"}
    shown_group = None
    for code, (severity, meaning) in CODES.items():
        group = groups[code[:4]]
        if group != shown_group:
            out += [f"## {group}", ""]
            shown_group = group
        out += [f"### {code}", "", f"**{severity.value}** — {meaning}.", ""]
        if code == "HPO009":
            problem = validate_text(" " * (MAX_DOCUMENT_CHARS + 1), environ={}).problems[0]
            out += [
                f"A text over {MAX_DOCUMENT_CHARS:,} characters is not parsed (the language server gets the same answer for such a",
                "buffer); `hpo validate` refuses a file over 20 MiB before reading it, with one line on stderr and exit code 2.",
                "",
                "```text",
                format_problem("<buffer>", problem),
                "```",
                "",
            ]
            continue
        if code == "HPO007":
            problem = validate_text(BINARY_TEXT, environ={}).problems[0]
            out += [
                "The text holds NUL bytes: it is binary, not YAML. The language server reports this for such a",
                "buffer; `hpo validate` refuses such a file before parsing it, with one line on stderr and exit",
                "code 2 (as for a missing file, a folder, a file that is not UTF-8 or one over 20 MiB):",
                "",
                "```text",
                format_problem("<buffer>", problem),
                "$ hpo validate model.bin",
                binary_file_message(),
                "```",
                "",
            ]
            continue
        for example in (e for e in EXAMPLES if e.code == code):
            output = run_validate(example.file)
            if example.explanation:
                out += [example.explanation, ""]
            out += [f"[`{example.file}`](../{example.file}):", "", "```text", excerpt(example.file, code), "```", "", "```text", f"$ hpo validate {example.file}", output.rstrip("\n"), "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def main() -> None:
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
