"""What the local training code records (hpo_engine.manifest.training_code) and HPO234."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from hpo_engine.manifest.training_code import TrainingCode, definition_folder, metric_names_in_source, per_step_sources, source_facts
from hpo_engine.manifest.validation import validate_text

EMETRICS = """
from emetrics import EMetrics
with EMetrics.open() as em:
    for epoch in range(3):
        em.record(EMetrics.TEST_GROUP, epoch, {"accuracy": 0.5, "loss": 1.0})
"""


def test_record_calls_give_names_and_a_per_step_source() -> None:
    facts = source_facts(EMETRICS)
    assert facts.metric_names == ("accuracy", "loss")
    assert per_step_sources(facts, "accuracy") == ("emetrics",)
    assert per_step_sources(facts, "val_accuracy") == ()


def test_the_metrics_file_and_stdout_are_sources() -> None:
    writes = "import json\ndef save(rows):\n    json.dump([{'steps': 1, 'acc': 0.5}], open('val_dict_list.json', 'w'))\n"
    assert per_step_sources(source_facts(writes), "anything") == ("metrics file",)
    assert metric_names_in_source(writes) == ["steps", "acc"]
    assert per_step_sources(source_facts(writes), "x", "scores.json") == ()
    printed = "for e in range(3):\n    print(f'epoch={e} accuracy={0.5:.3f}')\n"
    assert per_step_sources(source_facts(printed), "accuracy") == ("stdout",)
    assert per_step_sources(source_facts(printed), "loss") == ()
    generic = "for k, v in {'a': 1}.items():\n    print(f'{k}={v}')\n"
    assert per_step_sources(source_facts(generic), "loss") == ("stdout",)
    assert per_step_sources(source_facts("if a == b:\n    print('a == b')\n"), "a") == ()


def test_unparsable_source_has_no_facts() -> None:
    assert source_facts("def (:") == source_facts("")


def test_definition_folder(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    (tmp_path / "code").mkdir()
    assert definition_folder(manifest, "code") == tmp_path / "code"
    assert definition_folder(manifest, (tmp_path / "code").as_uri()) == tmp_path / "code"
    assert definition_folder(manifest, "https://example.org/train.zip") is None
    assert definition_folder(manifest, "missing") is None
    assert definition_folder(None, "code") is None


def test_facts_follow_file_changes(tmp_path: Path) -> None:
    code = TrainingCode()
    (tmp_path / "train.py").write_text(EMETRICS)
    manifest = tmp_path / "m.yaml"
    assert code.metric_names(manifest, ".") == ["accuracy", "loss"]
    (tmp_path / "train.py").write_text(EMETRICS.replace('"loss"', '"val_loss"') + "\n")
    os.utime(tmp_path / "train.py", ns=(1, 1))
    assert code.metric_names(manifest, ".") == ["accuracy", "val_loss"]
    assert code.facts(manifest, "https://example.org/x.zip") is None
    (tmp_path / "empty").mkdir()
    assert code.facts(manifest, "empty") is None  # no Python file: not judged


def _manifest(objective: str, rule: str, url: str = ".") -> str:
    method = "hyperband" if rule == "hyperband" else "random"
    early = "" if rule == "hyperband" else f"      - {{name: early_stopping, string_value: {rule}}}\n"
    return textwrap.dedent(
        f"""\
        training_references:
        - name: net
          training_definition_url: {url}
          command: python3 train.py
          hyper_parameters_optimization:
            method:
              name: {method}
              parameters:
              - {{name: objective, string_value: {objective}}}
              - {{name: maximize_or_minimize, string_value: maximize}}
              - {{name: num_optimizer_steps, int_value: 9}}
              - {{name: max_resource, int_value: 3}}
        """
    ) + early + textwrap.dedent(
        """\
            hyper_parameters:
            - name: lr
              double_range: {min_value: 0.001, max_value: 0.1}
        """
    ).replace("\n    ", "\n    ")


def _codes(text: str, path: Path | None) -> list[tuple[str, int, int]]:
    result = validate_text(text, source_path=path)
    return [(p.code, p.span.start.line, p.span.start.column) for p in result.problems]


def test_hpo234_at_the_rule_with_a_fix_for_the_objective(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(EMETRICS)
    manifest = tmp_path / "m.yaml"
    text = _manifest("val_accuracy", "median")
    result = validate_text(text, source_path=manifest)
    (problem,) = [p for p in result.problems if p.code == "HPO234"]
    line = text.splitlines()[problem.span.start.line]
    assert line[problem.span.start.column :].startswith("median")
    assert "Did you mean 'accuracy'?" in problem.message
    (edit,) = problem.suggestions[0].edits
    assert edit.new_text == "accuracy"
    assert text.splitlines()[edit.span.start.line][edit.span.start.column :].startswith("val_accuracy")


def test_hpo234_only_where_it_can_judge(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(EMETRICS)
    manifest = tmp_path / "m.yaml"
    assert "HPO234" not in [c for c, *_ in _codes(_manifest("accuracy", "asha"), manifest)]
    assert "HPO234" not in [c for c, *_ in _codes(_manifest("val_accuracy", "median"), None)]  # no path: no files read
    remote = _manifest("val_accuracy", "median", "https://example.org/train.zip")
    assert "HPO234" not in [c for c, *_ in _codes(remote, manifest)]
    none = _manifest("val_accuracy", "none")
    assert "HPO234" not in [c for c, *_ in _codes(none, manifest)]


def test_hpo234_for_hyperband_points_at_the_method(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(EMETRICS)
    text = _manifest("val_accuracy", "hyperband")
    found = [(line, col) for code, line, col in _codes(text, tmp_path / "m.yaml") if code == "HPO234"]
    assert len(found) == 1
    line, column = found[0]
    assert text.splitlines()[line][column:].startswith("hyperband")
