"""HPO234: early stopping on a search whose local training code records no per-step objective.

Stopping rules (``median``, ``asha``, method ``hyperband``) decide on the values a trial
records while it runs: EMetrics ``record()`` lines, rewrites of the metrics file
(``val_dict_list.json`` or the method's ``filename``) and ``name=value`` output. When the
reference's ``training_definition_url`` is a local folder (or ``.py`` file) whose Python
code shows none of the three for the objective, no trial could ever be stopped early:
a warning at the rule (the ``early_stopping`` value, or the method name for
``hyperband``). Definitions that are remote, or hold no Python file, are not judged;
the engine warns at run time when the first trial finishes with one step or none.

This check reads files, so it runs only when the validator is given the manifest's path
(``hpo validate``, ``hpo run``, the language server); the facts are read by
:class:`hpo_engine.manifest.training_code.TrainingCode` (cached by file stamp).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hpo_engine.manifest.model import build_method_settings
from hpo_engine.manifest.problems import CODES, Problem, Suggestion
from hpo_engine.manifest.spans import TextEdit
from hpo_engine.manifest.suggest import rank_similar
from hpo_engine.manifest.training_code import TrainingCode, definition_folder, per_step_sources
from hpo_engine.manifest.yaml_source import ScalarNode, SourceDocument

__all__ = ["per_step_source_problems"]


def _rule_path(section_path: list[Any], method: Mapping[str, Any], implied: bool) -> list[Any]:
    if not implied:
        for index, item in enumerate(method.get("parameters") or []):
            if isinstance(item, Mapping) and item.get("name") == "early_stopping" and "string_value" in item:
                return section_path + ["method", "parameters", index, "string_value"]
    return section_path + ["method", "name"]


def _objective_node(document: SourceDocument, index: int, method: Mapping[str, Any]) -> ScalarNode | None:
    for position, item in enumerate(method.get("parameters") or []):
        if isinstance(item, Mapping) and item.get("name") == "objective" and "string_value" in item:
            path = ["training_references", index, "hyper_parameters_optimization", "method", "parameters", position, "string_value"]
            node = document.node_at(path)
            return node if isinstance(node, ScalarNode) else None
    return None


def per_step_source_problems(document: SourceDocument, source_path: Path, code: TrainingCode) -> list[Problem]:
    """HPO234 for each reference of ``document`` (the manifest at ``source_path``) as the module says."""
    data = document.data
    references = data.get("training_references") if isinstance(data, Mapping) else None
    if not isinstance(references, list):
        return []
    problems: list[Problem] = []
    for index, reference in enumerate(references):
        if not isinstance(reference, Mapping) or not isinstance(reference.get("hyper_parameters_optimization"), Mapping):
            continue
        method = reference["hyper_parameters_optimization"].get("method")
        if not isinstance(method, Mapping):
            continue
        settings = build_method_settings(method)
        if not settings.early_stopping.enabled or not settings.objective:
            continue
        url = reference.get("training_definition_url")
        facts = code.facts(source_path, url if isinstance(url, str) else None)
        if facts is None or per_step_sources(facts, settings.objective, settings.filename):
            continue
        implied = settings.early_stopping.rule != str(settings.parameters.get("early_stopping", "none"))
        path = _rule_path(["training_references", index, "hyper_parameters_optimization"], method, implied)
        node = document.node_at(path)
        span = node.span if isinstance(node, ScalarNode) else document.key_or_node_span(path)
        folder = definition_folder(source_path, url)
        where = f"method {settings.name}" if implied else f"early_stopping '{settings.early_stopping.rule}'"
        message = (
            f"{where} stops trials on their per-step values of '{settings.objective}', but the training code in "
            f"{folder.name if folder else url} records none (no EMetrics record() of it, no {settings.filename}, no "
            f"'{settings.objective}=' output): every trial would run to the end."
        )
        suggestions: tuple[Suggestion, ...] = ()
        recorded = [name for name in facts.metric_names if per_step_sources(facts, name, settings.filename)]
        ranked = rank_similar(settings.objective, recorded)
        objective = _objective_node(document, index, method)
        if ranked:
            message += f" Did you mean '{ranked[0]}'?"
            if objective is not None:
                suggestions = tuple(Suggestion(f"Change the objective to '{name}'", (TextEdit(objective.span, name),), name) for name in ranked)
        problems.append(Problem("HPO234", CODES["HPO234"][0], message, span, suggestions))
    return problems
