"""Diagnostics end to end: the core's problems, exact ranges, versions, non-manifests, UTF-16."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from lsp_helpers import change_and_wait, open_and_wait, open_document, wait_for_diagnostics
from pytest_lsp import LanguageClient

from hpo_engine.manifest.validation import validate_text


async def test_seed_typo_has_one_error_on_the_key(client: LanguageClient, tmp_path: Path, seed_typo: str):
    uri, diagnostics = await open_and_wait(client, tmp_path / "seed-typo.yaml", seed_typo)
    assert len(diagnostics) == 1
    diagnostic = diagnostics[0]
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.code == "HPO101"
    assert diagnostic.source == "hpo"
    assert "did you mean 'step'" in diagnostic.message
    # line 30 of the file (0-based 29): `        step": 0.001` -> exactly `step"`
    assert diagnostic.range == types.Range(start=types.Position(line=29, character=8), end=types.Position(line=29, character=13))
    assert seed_typo.split("\n")[29][8:13] == 'step"'


async def test_same_codes_messages_and_ranges_as_the_core(client: LanguageClient, tmp_path: Path):
    text = (
        "training_references:\n"
        "- name: a\n"
        "  command: python train.py\n"
        "  hyper_parameters_optimization:\n"
        "    method:\n"
        "      name: rbfop\n"
        "      parameters:\n"
        "      - name: objective\n"
        "        string_value: accuracy\n"
        "    hyper_parameters:\n"
        "    - name: lr\n"
        "      double_range:\n"
        "        min_value: 0.1\n"
        "        max_value: 0.01\n"
        "    - name: lr\n"
        "      int_values: [1, 2]\n"
    )
    _uri, diagnostics = await open_and_wait(client, tmp_path / "m.yaml", text)
    expected = validate_text(text).problems
    assert [d.code for d in diagnostics] == [p.code for p in expected]
    assert [d.message for d in diagnostics] == [p.message for p in expected]
    assert [(d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character) for d in diagnostics] == [
        (p.span.start.line, p.span.start.column, p.span.end.line, p.span.end.column) for p in expected
    ]
    assert {"HPO104", "HPO201", "HPO208"} <= {d.code for d in diagnostics}


def units(text: str, encoding: str) -> int:
    """Length of ``text`` in the code units of an LSP position encoding."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


async def test_utf16_columns_after_non_ascii_text(client: LanguageClient, tmp_path: Path, seed_typo: str):
    # "é" is 1 UTF-16 unit, "𝜆" (U+1D706) 2: the unknown key `"é𝜆"` is 4 code points, 5 UTF-16 units.
    text = seed_typo.replace('        step": 0.001', '        "é𝜆": 1\n        step": 0.001')
    lines = text.split("\n")
    weird_line = next(i for i, line in enumerate(lines) if "é𝜆" in line)
    _uri, diagnostics = await open_and_wait(client, tmp_path / "utf16.yaml", text)
    unknown = next(d for d in diagnostics if d.range.start.line == weird_line)
    assert unknown.range.start == types.Position(line=weird_line, character=8)
    assert unknown.range.end == types.Position(line=weird_line, character=8 + units('"é𝜆"', client.position_encoding))
    if client.position_encoding == "utf-16":
        assert unknown.range.end.character == 13


async def test_utf16_columns_on_the_same_line(client: LanguageClient, tmp_path: Path):
    text = (
        "training_references:\n"
        "- name: a\n"
        "  command: python train.py\n"
        "  compute_configuration: {name: k80, 𝜆é: 1, nodez: 2}\n"
    )
    _uri, diagnostics = await open_and_wait(client, tmp_path / "flow.yaml", text)
    expected = validate_text(text).problems
    line = text.split("\n")[3]
    for diagnostic, problem in zip(diagnostics, expected):
        prefix = line[: problem.span.start.column]
        assert diagnostic.range.start.character == units(prefix, client.position_encoding)
    assert any(d.range.start.character != p.span.start.column for d, p in zip(diagnostics, expected) if d.range.start.line == 3)


async def test_non_manifest_yaml_gets_no_diagnostics(client: LanguageClient, tmp_path: Path, seed_typo: str):
    other = open_document(client, tmp_path / "docker-compose.yaml", "services:\n  web:\n    image: nginx\n    ports: [80\n")
    # A manifest opened after it: once its diagnostics arrive, the other file's would have too.
    _uri, _diagnostics = await open_and_wait(client, tmp_path / "seed.yaml", seed_typo)
    assert other not in client.diagnostics


async def test_versions_and_fix_by_edit(client: LanguageClient, tmp_path: Path, seed_typo: str):
    uri, diagnostics = await open_and_wait(client, tmp_path / "s.yaml", seed_typo)
    assert len(diagnostics) == 1
    fixed = seed_typo.replace('step"', "step")
    assert await change_and_wait(client, uri, 2, fixed) == []
    broken = fixed.replace("      int_range:\n        min_value: 5\n        max_value: 10", "      int_range: [\n        min_value: 5", 1)
    diagnostics = await change_and_wait(client, uri, 3, broken)
    assert [d.code for d in diagnostics][:1] == ["HPO001"]


async def test_newer_version_wins_after_rapid_edits(client: LanguageClient, tmp_path: Path, seed_typo: str):
    uri, _ = await open_and_wait(client, tmp_path / "rapid.yaml", seed_typo)
    seen: list[int] = []
    waiter = wait_for_diagnostics(client, uri, 12)
    from lsp_helpers import change_document

    for version in range(2, 13):
        text = seed_typo if version % 2 else seed_typo.replace('step"', "step")
        change_document(client, uri, version, text)
    final = await waiter
    assert final == []  # version 12 is the fixed text
    del seen


async def test_closing_clears_diagnostics(client: LanguageClient, tmp_path: Path, seed_typo: str):
    uri, diagnostics = await open_and_wait(client, tmp_path / "c.yaml", seed_typo)
    assert diagnostics
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    while True:
        params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if params.uri == uri:
            break
    assert list(params.diagnostics) == []


async def test_training_code_checked_beside_the_file_and_followed(client: LanguageClient, tmp_path: Path):
    """HPO234 reads the local training code next to the manifest on disk; a change of that
    code is seen at the next validation (facts are cached by file stamp)."""
    manifest = (Path(__file__).parents[2] / "examples" / "broken" / "objective-not-recorded.yaml").read_text()
    folder = tmp_path / "objective-not-recorded"
    folder.mkdir()
    train = folder / "train.py"
    train.write_text("from emetrics import EMetrics\nwith EMetrics.open() as em:\n    em.record(EMetrics.TEST_GROUP, 1, {'accuracy': 0.5})\n")
    uri, diagnostics = await open_and_wait(client, tmp_path / "m.yaml", manifest)
    assert [d.code for d in diagnostics] == ["HPO234"]
    assert "Did you mean 'accuracy'?" in diagnostics[0].message
    train.write_text(train.read_text().replace("'accuracy'", "'val_accuracy'") + "\n")
    assert await change_and_wait(client, uri, 2, manifest + "\n") == []
