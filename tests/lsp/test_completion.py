"""Completion end to end: keys from the schema minus present ones, snippets with required
children, enum values, method parameters with their value key, metric names from the code."""

from __future__ import annotations

import textwrap
from pathlib import Path

from lsprotocol import types
from lsp_helpers import change_document, open_and_wait, open_document, position_of, wait_for_diagnostics
from pytest_lsp import LanguageClient


async def complete(client: LanguageClient, uri: str, position: types.Position) -> list[types.CompletionItem]:
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )
    if result is None:
        return []
    return list(result.items if isinstance(result, types.CompletionList) else result)


def labels(items: list[types.CompletionItem]) -> list[str]:
    return [item.label for item in items]


def by_label(items: list[types.CompletionItem], label: str) -> types.CompletionItem:
    return next(item for item in items if item.label == label)


def new_text(item: types.CompletionItem) -> str:
    assert isinstance(item.text_edit, types.TextEdit)
    return item.text_edit.new_text


def snippets(client: LanguageClient) -> bool:
    completion = client.capabilities.text_document.completion
    return bool(completion and completion.completion_item and completion.completion_item.snippet_support)


async def test_inside_double_range_offers_the_missing_keys(client: LanguageClient, tmp_path: Path, seed_typo: str):
    # The user is typing a new line inside `double_range:` (the document does not need to parse).
    text = seed_typo.replace('        step": 0.001\n', '        step": 0.001\n        \n', 1)
    uri, _ = await open_and_wait(client, tmp_path / "dr.yaml", text)
    line = text.split("\n").index("        ", 25)
    items = await complete(client, uri, types.Position(line=line, character=8))
    assert set(labels(items)) == {"step", "power"}  # min_value, max_value present; step" is not step
    assert by_label(items, "step").documentation


async def test_new_double_range_snippet_fills_required_children(client: LanguageClient, tmp_path: Path, seed_typo: str):
    text = seed_typo.replace("    - name: fc\n      int_range:\n        min_value: 5\n        max_value: 10\n        power: 2\n", "    - name: fc\n      dou\n")
    uri = open_document(client, tmp_path / "snip.yaml", text)
    position = position_of(text, "      dou", offset=9)
    items = await complete(client, uri, position)
    assert "double_range" in labels(items) and "int_range" in labels(items) and "name" not in labels(items)
    item = by_label(items, "double_range")
    inserted = new_text(item)
    assert inserted.startswith("double_range:\n        min_value:")
    assert "\n        max_value:" in inserted
    assert item.text_edit.range.start == types.Position(line=position.line, character=6)
    if snippets(client):
        assert item.insert_text_format == types.InsertTextFormat.Snippet and "$1" in inserted
    else:
        assert "$" not in inserted


async def test_kind_already_given_hides_the_other_kinds(client: LanguageClient, tmp_path: Path, seed_typo: str):
    text = seed_typo.replace("    - name: fc\n      int_range:\n", "    - name: fc\n      \n      int_range:\n")
    uri = open_document(client, tmp_path / "k.yaml", text)
    line = text.split("\n").index("    - name: fc") + 1
    items = await complete(client, uri, types.Position(line=line, character=6))
    assert labels(items) == []  # name and a kind present: nothing else is allowed in a hyper-parameter


async def test_enum_values_with_descriptions(client: LanguageClient, tmp_path: Path, seed_typo: str):
    text = seed_typo.replace("      name: random\n", "      name: \n")
    uri = open_document(client, tmp_path / "e.yaml", text)
    position = position_of(text, "      name: \n", offset=12)
    items = await complete(client, uri, position)
    assert labels(items) == ["random", "rbfopt", "grid", "hyperband", "tpe", "bayesian"]
    assert "RBF" in str(by_label(items, "rbfopt").documentation)
    assert "Optuna" in str(by_label(items, "tpe").documentation)
    text2 = seed_typo.replace("        string_value: maximize", "        string_value: ma")
    uri2 = open_document(client, tmp_path / "e2.yaml", text2)
    items = await complete(client, uri2, position_of(text2, "string_value: ma", offset=16))
    assert labels(items) == ["maximize", "minimize"]
    assert by_label(items, "maximize").text_edit.range.start.character == 22
    # triggered by ':' before any blank: the value gets its blank
    text3 = seed_typo.replace("      name: random\n", "      name:\n")
    uri3 = open_document(client, tmp_path / "e3.yaml", text3)
    items = await complete(client, uri3, position_of(text3, "      name:\n", offset=11))
    assert new_text(by_label(items, "grid")) == " grid"


async def test_method_parameter_names_bring_their_value_key(client: LanguageClient, tmp_path: Path, seed_typo: str):
    text = seed_typo.replace("      - name: num_optimizer_steps\n        int_value: 4\n", "      - name: \n")
    uri = open_document(client, tmp_path / "p.yaml", text)
    items = await complete(client, uri, position_of(text, "      - name: \n", offset=14))
    assert "objective" in labels(items) and "num_optimizer_steps" in labels(items)
    assert new_text(by_label(items, "objective")).startswith("objective\n        string_value:")
    assert new_text(by_label(items, "num_optimizer_steps")).startswith("num_optimizer_steps\n        int_value:")
    # After "- " with nothing typed: the whole "name: X" + value key.
    text2 = seed_typo.replace("      - name: num_optimizer_steps\n        int_value: 4\n", "      - \n")
    uri2 = open_document(client, tmp_path / "p2.yaml", text2)
    items = await complete(client, uri2, position_of(text2, "      - \n", offset=8))
    assert new_text(by_label(items, "time_interval")).startswith("name: time_interval\n        string_value:")


async def test_objective_offers_metrics_recorded_by_the_training_code(client: LanguageClient, tmp_path: Path, seed_typo: str):
    code = tmp_path / "training"
    code.mkdir()
    (code / "train.py").write_text(
        textwrap.dedent(
            """
            import json
            from emetrics import EMetrics
            with EMetrics.open("1") as em:
                for epoch in range(3):
                    em.record(EMetrics.TEST_GROUP, epoch, {'accuracy': 0.5, 'loss': 0.1})
            def save(result_dir, history):
                rows = [{"val_f1": h} for h in history]
                with open(result_dir + "/val_dict_list.json", "w") as out:
                    json.dump(rows, out)
            """
        )
    )
    text = seed_typo.replace("training_definition_url: ./convolutional_network", "training_definition_url: ./training")
    text = text.replace("        string_value: accuracy", "        string_value: ")
    uri = open_document(client, tmp_path / "metrics.yaml", text)
    items = await complete(client, uri, position_of(text, "string_value: \n", offset=14))
    assert {"accuracy", "loss", "val_f1"} <= set(labels(items))


async def test_top_level_keys_minus_present(client: LanguageClient, tmp_path: Path, seed_typo: str):
    text = seed_typo + "\n"
    uri = open_document(client, tmp_path / "top.yaml", text)
    items = await complete(client, uri, types.Position(line=len(text.split("\n")) - 1, character=0))
    assert set(labels(items)) == {"training_data_reference", "hyper_parameters_optimization"}


async def test_completion_while_the_yaml_is_broken(client: LanguageClient, tmp_path: Path, seed_typo: str):
    text = seed_typo.replace("      int_range:\n        min_value: 5\n        max_value: 6\n    - name: fc", "      int_range: [\n        \n    - name: fc", 1)
    uri = open_document(client, tmp_path / "broken.yaml", text)
    await wait_for_diagnostics(client, uri, 1)
    line = text.split("\n").index("      int_range: [") + 1
    items = await complete(client, uri, types.Position(line=line, character=8))
    assert {"min_value", "max_value", "step", "power"} <= set(labels(items))


async def test_non_manifest_gets_no_completion(client: LanguageClient, tmp_path: Path):
    uri = open_document(client, tmp_path / "other.yaml", "services:\n  web:\n    \n")
    items = await complete(client, uri, types.Position(line=2, character=4))
    assert items == []
    change_document(client, uri, 2, "services:\n  web:\n    im\n")
    assert await complete(client, uri, types.Position(line=2, character=6)) == []


async def test_early_stopping_rules_come_with_their_descriptions(client: LanguageClient, tmp_path: Path, seed_typo: str):
    text = seed_typo.replace(
        "      - name: num_optimizer_steps\n        int_value: 4\n",
        "      - name: num_optimizer_steps\n        int_value: 4\n      - name: early_stopping\n        string_value: \n",
    )
    uri = open_document(client, tmp_path / "es.yaml", text)
    items = await complete(client, uri, position_of(text, "        string_value: \n", offset=22))
    assert labels(items) == ["none", "median", "asha"]
    assert "successive halving" in str(by_label(items, "asha").documentation).lower()
