"""The storage fields: HPO250-HPO254, and the schema the editor's completion and hover read."""

from __future__ import annotations

import pytest

from hpo_engine.manifest import schema_navigation as nav
from hpo_engine.manifest.problems import Severity
from hpo_engine.manifest.schema import load_schema
from hpo_engine.manifest.validation import validate_text
from hpo_engine.manifest.validation.storage_checks import KNOWN_STORAGE_TYPES, is_wml_asset_url

BODY = """\
training_references:
- name: m
  training_definition_url: {url}
  command: python3 train.py
  hyper_parameters_optimization:
    method:
      name: random
      parameters:
      - {{name: objective, string_value: acc}}
      - {{name: maximize_or_minimize, string_value: maximize}}
      - {{name: num_optimizer_steps, int_value: 2}}
    hyper_parameters:
    - {{name: lr, double_range: {{min_value: 0.1, max_value: 0.2}}}}
"""


def _codes(extra: str, url: str = "./code", environ: dict | None = None) -> list[tuple[str, Severity, int]]:
    found = validate_text(BODY.format(url=url) + extra, environ=environ or {"K": "1", "S": "2"}).problems
    return [(p.code, p.severity, p.span.start.line) for p in found]


S3 = """training_results_reference:
  type: s3
  connection: {{endpoint_url: "http://127.0.0.1:9000", access_key_id: "${{K}}", secret_access_key: "${{S}}"}}
  target: {target}
"""


def test_a_complete_s3_reference_has_no_problem() -> None:
    assert _codes(S3.format(target="{bucket: results, prefix: a/b}")) == []


def test_missing_bucket_is_an_error_at_the_target() -> None:
    assert _codes(S3.format(target="{prefix: a/b}")) == [("HPO250", Severity.ERROR, 16)]


def test_data_reference_reads_source_then_target() -> None:
    data = 'training_data_reference:\n  type: s3\n  connection: {endpoint_url: "http://h"}\n  source: {prefix: x}\n'
    assert [c[0] for c in _codes(data)] == ["HPO250"]
    assert _codes(data.replace("source: {prefix: x}", "target: {bucket: d}")) == []


def test_missing_endpoint_is_a_warning_and_unknown_type_suggests_s3() -> None:
    assert _codes("training_results_reference:\n  type: s3\n  target: {bucket: r}\n") == [("HPO251", Severity.WARNING, 14)]
    found = validate_text(BODY.format(url="./c") + "training_results_reference:\n  type: S33\n  target: {bucket: r}\n").problems
    assert [p.code for p in found] == ["HPO252"] and found[0].suggestions[0].replacement == "s3"
    assert _codes("training_results_reference:\n  type: fs\n  target: {path: out}\n") == []


def test_unset_variable_is_information() -> None:
    assert _codes(S3.format(target="{bucket: r}"), environ={"K": "1"}) == [("HPO254", Severity.INFO, 15)]


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("https://ibm-watson-ml.mybluemix.net/v3/ml_assets/training_definitions/abc", True),
        ("https://us-south.ml.cloud.ibm.com/whatever.zip", True),
        ("ftp://example.com/train.zip", True),
        ("http://10.0.0.5/defs/train.zip", False),
        ("s3://code/train.zip", False),
        ("file:code", False),
        ("./code.zip", False),
    ],
)
def test_definition_urls_that_cannot_be_fetched_are_warned(url: str, warned: bool) -> None:
    assert (_codes("", url=url) == [("HPO253", Severity.WARNING, 2)]) is warned
    assert is_wml_asset_url(url) is (warned and not url.startswith("ftp"))


def test_schema_describes_the_storage_fields_for_completion_and_hover() -> None:
    root = load_schema()
    for section in ("training_results_reference", "training_data_reference"):
        node = nav.subschema_at(root, [section])
        keys = {k.name: k.description for k in nav.allowed_keys(root, node)}
        assert {"type", "connection"} <= set(keys)
        assert [v.value for v in nav.enum_values(root, nav.subschema_at(root, [section, "type"]))] == list(KNOWN_STORAGE_TYPES)
        connection = {k.name: k.description for k in nav.allowed_keys(root, nav.subschema_at(root, [section, "connection"]))}
        assert "endpoint_url" in connection and "${ENV_VAR}" in connection["secret_access_key"]
    target = {k.name for k in nav.allowed_keys(root, nav.subschema_at(root, ["training_results_reference", "target"]))}
    assert {"bucket", "prefix"} <= target
    source = {k.name for k in nav.allowed_keys(root, nav.subschema_at(root, ["training_data_reference", "source"]))}
    assert {"bucket", "prefix"} <= source
    url = nav.description_of(root, nav.subschema_at(root, ["training_references", 0, "training_definition_url"]))
    assert "s3://" in url and "https://" in url
