"""Manifests used by the language-server benchmark (benchmarks/lsp_bench.py).

``small_manifest()`` is the 26-line manifest of the peer measurement; ``large_manifest()``
has 50 training references x 40 hyper-parameters (10,900 lines), as measured for
Red Hat's yaml-language-server in ../shared/reference/peers.md.
"""

from __future__ import annotations

__all__ = ["small_manifest", "large_manifest", "KINDS_CYCLE"]

SMALL = """\
training_references:
- name: model1
  training_definition_url: ./training
  command: python3 train.py --data ${DATA_DIR}
  compute_configuration:
    name: k80
  hyper_parameters_optimization:
    method:
      name: random
      parameters:
      - name: objective
        string_value: accuracy
      - name: maximize_or_minimize
        string_value: maximize
      - name: num_optimizer_steps
        int_value: 4
    hyper_parameters:
    - name: learning_rate
      double_range:
        min_value: 0.005
        max_value: 0.01
        step: 0.001
    - name: fc
      int_range:
        min_value: 5
        max_value: 10
"""


def small_manifest() -> str:
    """A valid 26-line manifest (one reference, two hyper-parameters)."""
    return SMALL


def _hyper_parameter(ref: int, index: int) -> list[str]:
    """Five lines (every kind written as a five-line block so the line count is exact)."""
    kind = index % 4
    name = f"hp_{ref}_{index}"
    if kind == 0:
        return [f"    - name: {name}", "      double_range:", "        min_value: 0.001", "        max_value: 0.1", "        step: 0.001"]
    if kind == 1:
        return [f"    - name: {name}", "      int_range:", "        min_value: 5", "        max_value: 10", "        power: 2"]
    if kind == 2:
        return [f"    - name: {name}", "      int_range:", "        min_value: 1", "        max_value: 64", "        step: 1"]
    return [f"    - name: {name}", "      string_values:", "      - relu", "      - tanh", "      - sigmoid"]


KINDS_CYCLE = ("double_range", "int_range", "int_range", "string_values")


def large_manifest(references: int = 50, hyper_parameters: int = 40) -> str:
    """A valid manifest of ``references`` x ``hyper_parameters`` (10,900 lines by default)."""
    out: list[str] = ["training_references:"]
    for ref in range(references):
        out += [
            f"- name: model{ref}",
            "  training_definition_url: ./training",
            "  command: python3 train.py --data ${DATA_DIR}",
            "  compute_configuration:",
            "    name: k80",
            "  hyper_parameters_optimization:",
            "    method:",
            "      name: random",
            "      parameters:",
            "      - name: objective",
            "        string_value: accuracy",
            "      - name: maximize_or_minimize",
            "        string_value: maximize",
            "      - name: num_optimizer_steps",
            "        int_value: 40",
            "    hyper_parameters:",
        ]
        for index in range(hyper_parameters):
            out += _hyper_parameter(ref, index)
    # 1 + 50 * (16 + 200) = 10,801: pad with a results reference to reach 10,900 lines.
    tail = ["training_results_reference:", "  name: results", "  connection:", "    endpoint_url: ${ENDPOINT}", "  target:", "    bucket: results", "  type: s3"]
    out += tail
    missing = 10_900 - len(out) if (references, hyper_parameters) == (50, 40) else 0
    out[1:1] = [] if missing <= 0 else []
    text = "\n".join(out) + "\n"
    if missing > 0:
        settings = ["settings:", "  name: large-benchmark", "  description: >-"] + [f"    line {i} of a long description" for i in range(missing - 3)]
        text = "\n".join(settings) + "\n" + text
    return text
