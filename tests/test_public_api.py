"""hpo_engine's documented public API: every name in __all__ resolves, and importing the package stays cheap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hpo_engine


def test_every_public_name_resolves() -> None:
    for name in hpo_engine.__all__:
        assert getattr(hpo_engine, name) is not None, name


def test_importing_the_package_imports_no_engine_part() -> None:
    code = "import sys, hpo_engine; print(sorted(m for m in sys.modules if m.startswith('hpo_engine.') and m != 'hpo_engine.errors'))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


def test_the_api_runs_a_manifest_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        "import json, os\nc = json.load(open('config.json'))\n"
        "json.dump([{'steps': 1, 'score': c['x']}], open(os.path.join(os.environ['RESULT_DIR'], 'val_dict_list.json'), 'w'))\n"
    )
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "settings: {name: api}\ntraining_references:\n- name: r\n  training_definition_url: .\n"
        f"  command: {sys.executable} train.py\n  hyper_parameters_optimization:\n    method:\n      name: grid\n"
        "      parameters:\n      - {name: objective, string_value: score}\n      - {name: maximize_or_minimize, string_value: maximize}\n"
        "      - {name: num_optimizer_steps, int_value: 3}\n    hyper_parameters:\n    - {name: x, int_values: [1, 3, 2]}\n"
    )
    loaded = hpo_engine.load_manifest(manifest)
    [summary] = hpo_engine.run_manifest(loaded, hpo_engine.RunOptions(results_root=tmp_path / "results"))
    results = hpo_engine.load_results(summary.folder)
    assert sorted(t.objective for t in results.trials) == [1.0, 2.0, 3.0]
