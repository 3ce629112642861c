import { strict as assert } from "node:assert";
import { test } from "node:test";
import { hasManifestMarkers, hasManifestName, isManifest } from "../src/manifest";

test("*.hpo.yaml and *.hpo.yml are manifests by name", () => {
  assert.ok(hasManifestName("/w/exp.hpo.yaml"));
  assert.ok(hasManifestName("C:\\w\\EXP.HPO.YML"));
  assert.ok(!hasManifestName("/w/hpo.yaml"));
  assert.ok(!hasManifestName("/w/exp.hpo.yaml.bak"));
});

test("marker keys make a YAML file a manifest", () => {
  assert.ok(hasManifestMarkers("settings:\n  name: x\ntraining_references:\n- name: a\n"));
  assert.ok(hasManifestMarkers("- name: a\n  hyper_parameters_optimization:\n    method: {}\n"));
  assert.ok(hasManifestMarkers('{"training_references": []}'));
  assert.ok(hasManifestMarkers("training_references : []"));
});

test("markers in comments, values or longer words do not count", () => {
  assert.ok(!hasManifestMarkers("# training_references: none here\nservices: {}\n"));
  assert.ok(!hasManifestMarkers("description: see training_references docs\n"));
  assert.ok(!hasManifestMarkers("my_training_references_x: 1\n"));
  assert.ok(!hasManifestMarkers("services:\n  web:\n    image: nginx\n"));
});

test("a '#' inside quotes is not a comment", () => {
  assert.ok(hasManifestMarkers('name: "a # b"\ntraining_references: []\n'));
});

test("only YAML documents are manifests", () => {
  const text = "training_references: []\n";
  assert.ok(isManifest("/w/a.yaml", "yaml", text));
  assert.ok(isManifest("/w/a.yml", "plaintext", text));
  assert.ok(isManifest("/w/any-name.txt", "hpo-yaml", ""));
  assert.ok(isManifest("Untitled-1", "yaml", text));
  assert.ok(!isManifest("/w/a.json", "json", text));
  assert.ok(isManifest("/w/empty.hpo.yaml", "yaml", ""));
  assert.ok(!isManifest("/w/compose.yaml", "yaml", "services: {}\n"));
});
