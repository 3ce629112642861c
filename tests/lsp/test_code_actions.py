"""Quick fixes end to end: the core's ranked suggestions as code actions, first one preferred."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from lsp_helpers import apply_edits, change_and_wait, open_and_wait
from pytest_lsp import LanguageClient

from hpo_engine.manifest.validation import validate_text


def edits_of(action: types.CodeAction, uri: str) -> list[types.TextEdit]:
    edit = action.edit
    assert edit is not None
    if edit.document_changes:
        return [e for change in edit.document_changes for e in change.edits]
    return list(edit.changes[uri])


async def actions_for(client: LanguageClient, uri: str, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostics[0].range,
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    return list(result or [])


async def test_step_typo_quick_fix_gives_a_clean_manifest(client: LanguageClient, tmp_path: Path, seed_typo: str):
    uri, diagnostics = await open_and_wait(client, tmp_path / "seed-typo.yaml", seed_typo)
    actions = await actions_for(client, uri, diagnostics)
    assert actions, "no quick fix"
    first = actions[0]
    assert first.kind == types.CodeActionKind.QuickFix
    assert first.is_preferred is True
    assert "step" in first.title
    assert all(not a.is_preferred for a in actions[1:])
    fixed = apply_edits(seed_typo, edits_of(first, uri))
    assert fixed == seed_typo.replace('step": 0.001', "step: 0.001")
    assert fixed.split("\n")[29] == "        step: 0.001"
    assert validate_text(fixed).problems == ()
    assert await change_and_wait(client, uri, 2, fixed) == []


async def test_versioned_edit_when_the_client_supports_it(client: LanguageClient, tmp_path: Path, seed_typo: str):
    uri, diagnostics = await open_and_wait(client, tmp_path / "v.yaml", seed_typo, version=7)
    action = (await actions_for(client, uri, diagnostics))[0]
    if client.capabilities.workspace and client.capabilities.workspace.workspace_edit and client.capabilities.workspace.workspace_edit.document_changes:
        assert action.edit.document_changes[0].text_document.version == 7
    else:
        assert uri in action.edit.changes


TEXT = """\
training_references:
- name: a
  command: python train.py
  hyper_parameters_optimization:
    method:
      name: rbfop
      parameters:
      - name: objective
        string_value: accuracy
      - name: maximize_or_minimize
        string_value: maximise
      - name: num_optimizer_steps
        int_value: 40
    hyper_parameters:
    - name: lr
      double_range:
        min_value: 0.1
        max_value: 0.01
    - name: units
      int_values: [16, 32]
      int_values: [8]
"""


async def test_every_problem_with_a_suggestion_gets_its_fixes_in_core_order(client: LanguageClient, tmp_path: Path):
    uri, diagnostics = await open_and_wait(client, tmp_path / "many.yaml", TEXT)
    problems = validate_text(TEXT).problems
    with_fixes = [p for p in problems if p.suggestions]
    assert {p.code for p in with_fixes} >= {"HPO104", "HPO201", "HPO002"}
    for problem, diagnostic in zip(problems, diagnostics):
        if not problem.suggestions:
            continue
        actions = await actions_for(client, uri, [diagnostic])
        assert [a.title for a in actions] == [s.title for s in problem.suggestions]
        assert actions[0].is_preferred is True
        fixed = apply_edits(TEXT, edits_of(actions[0], uri))
        assert problem not in validate_text(fixed).problems


async def test_no_actions_for_a_clean_document(client: LanguageClient, tmp_path: Path, seed_typo: str):
    clean = seed_typo.replace('step"', "step")
    uri, diagnostics = await open_and_wait(client, tmp_path / "clean.yaml", clean)
    assert diagnostics == []
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(0, 0), end=types.Position(60, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert not result
