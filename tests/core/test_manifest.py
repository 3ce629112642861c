"""The typed manifest built from validated data."""

from __future__ import annotations

from pathlib import Path

from hpo_engine.manifest.validation import load_manifest, validate_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_seed_manifest_becomes_typed_references_with_their_space() -> None:
    manifest = load_manifest(EXAMPLES / "seed.yaml")
    reference = manifest.reference("model1")
    assert manifest.settings.name == "Experiment1"
    assert reference.compute_configuration.name == "k80"
    assert reference.optimization is not None
    method = reference.optimization.method
    assert (method.name, method.objective, method.maximize, method.num_optimizer_steps) == ("random", "accuracy", True, 4)
    assert reference.optimization.space.size == 144


def test_a_reference_without_compute_configuration_names_none() -> None:
    text = (EXAMPLES / "seed.yaml").read_text().replace("  compute_configuration:\n      name: k80\n", "")
    result = validate_text(text)
    assert result.manifest is not None
    assert result.manifest.references[0].compute_configuration.name is None
