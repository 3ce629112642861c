"""The incremental validation (by training reference) gives exactly the core validator's problems."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpo_engine.manifest.validation import validate_text
from hpo_lsp.analysis import FULL_VALIDATION_LINES, Analyzer


def manifest(references: int = 10, hyper_parameters: int = 8) -> list[str]:
    lines = ["settings:", "  name: fuzz", "training_references:"]
    for ref in range(references):
        lines += [f"- name: model{ref}", "  command: python train.py ${DATA_DIR}", "  compute_configuration:", "    name: k80",
                  "  hyper_parameters_optimization:", "    method:", "      name: random", "      parameters:", "      - name: objective",
                  "        string_value: accuracy", "      - name: maximize_or_minimize", "        string_value: maximize",
                  "      - name: num_optimizer_steps", "        int_value: 4", "    hyper_parameters:"]
        for index in range(hyper_parameters):
            lines += [f"    - name: hp{index}", "      int_range:", "        min_value: 1", "        max_value: 8", "        step: 1"]
    lines += ["training_results_reference:", "  name: results", "  type: s3"]
    return lines


BASE = manifest()
assert len(BASE) >= FULL_VALIDATION_LINES

REPLACEMENTS = [
    "        step\": 0.001", "        max_value: 0", "        min_value: 9", "- name: model1", "      name: rbfop", "  nodes: two",
    "      double_range: [", "    - name: hp1", "        step: 100", "  command: ${SECRET} run", "\tname: tab", "      int_values: [1, 1]",
    "---", "  unknown_key: 1", "settings: 2", "  name: again", "  type: s4", "    name: k81", "", "# comment", "- name: extra", "  command: x", "        power: 1", "- [", "hyper_parameters_optimization: 3",
]
EDIT = st.tuples(st.sampled_from(["replace", "insert", "delete"]), st.integers(0, len(BASE) - 1), st.sampled_from(REPLACEMENTS))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.lists(st.lists(EDIT, min_size=1, max_size=3), min_size=1, max_size=4))
def test_incremental_equals_full_validation(versions):
    analyzer = Analyzer()
    lines = list(BASE)
    first = analyzer.analyze("\n".join(lines), 1)
    assert first.problems == validate_text("\n".join(lines)).problems
    for number, edits in enumerate(versions, start=2):
        for kind, where, text in edits:
            where = min(where, len(lines) - 1)
            if kind == "replace":
                lines[where] = text
            elif kind == "insert":
                lines.insert(where, text)
            elif len(lines) > 1:
                del lines[where]
        text = "\n".join(lines)
        analysis = analyzer.analyze(text, number)
        full = validate_text(text)
        assert analysis.problems == full.problems
        # node lookups agree with the whole document's
        if full.document.root is not None and analysis.pieces:
            for index in range(min(analysis.reference_count(), 3)):
                path = ("training_references", index, "hyper_parameters_optimization")
                expected = full.document.entry_at(path)  # None when the reference has no such key
                if expected is not None:
                    assert analysis.key_span_at(path) == expected.key_span
                    assert analysis.data_at(path) == full.document.data["training_references"][index]["hyper_parameters_optimization"]


def test_one_edit_revalidates_one_reference():
    analyzer = Analyzer()
    text = "\n".join(BASE)
    analyzer.analyze(text, 1)
    edited = text.replace("        max_value: 8", "        max_value: 0", 1)
    analysis = analyzer.analyze(edited, 2)
    assert analysis.full is None and len(analysis.pieces) == 10
    assert sum(1 for piece in analysis.pieces if piece.result.document.text.count("\n") < 100) == 1
    assert analysis.problems == validate_text(edited).problems
