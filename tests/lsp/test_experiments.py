"""``hpo.runExperiment`` end to end: a real server process runs a real ``hpo run``.

The experiment is tiny (3 trials of a program that prints its metrics), so the test
takes a few seconds; cancelling uses a program that would sleep for a minute.
"""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from hpo_lsp.run_results import RunResults, resume_command

pytestmark = pytest.mark.slow

TRAIN = textwrap.dedent(
    """
    import json, os, time
    config = json.load(open("config.json"))
    time.sleep(float(os.environ.get("TRAIN_SLEEP", "{sleep}")))
    accuracy = 1.0 - abs(config["learning_rate"] - 0.01) * 10 - abs(config["units"] - 32) / 1000
    print(f"accuracy={{accuracy:.6f}} loss={{1 - accuracy:.6f}}")
    """
)

MANIFEST = textwrap.dedent(
    """
    settings:
      name: tiny
    training_references:
    - name: quick
      training_definition_url: ./program
      command: {python} train.py
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
            int_value: {steps}
          - name: random_seed
            int_value: 3
        hyper_parameters:
        - name: learning_rate
          double_values: [0.001, 0.01, 0.1]
        - name: units
          int_values: [16, 32, 64]
    """
)


def write_experiment(folder: Path, *, steps: int = 3, sleep: float = 0.0) -> Path:
    (folder / "program").mkdir(parents=True, exist_ok=True)
    (folder / "program" / "train.py").write_text(TRAIN.format(sleep=sleep), encoding="utf-8")
    manifest = folder / "tiny.hpo.yaml"
    manifest.write_text(MANIFEST.format(python=sys.executable, steps=steps), encoding="utf-8")
    return manifest


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "hpo_lsp"]),
)
async def client(lsp_client: LanguageClient, tmp_path: Path):
    lsp_client.trials = []  # type: ignore[attr-defined]
    lsp_client.output = []  # type: ignore[attr-defined]

    @lsp_client.feature("hpo/trialFinished")
    def on_trial(params) -> None:
        lsp_client.trials.append(params)  # type: ignore[attr-defined]

    @lsp_client.feature("hpo/experimentOutput")
    def on_output(params) -> None:
        lsp_client.output.append(params)  # type: ignore[attr-defined]

    params = types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
        root_uri=tmp_path.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="work")],
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


def open_document(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=path.read_text() if text is None else text)
        )
    )
    return uri


def run_command(client: LanguageClient, uri: str, token: str | None, *extra):
    arguments = [uri, None, {"workDoneToken": token} if token else {}]
    return client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.runExperiment", arguments=arguments))


def _get(obj, name):
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def _keys(obj) -> set[str]:
    """Field names of a JSON object as pygls hands it over (a dict or a named tuple)."""
    return set(obj) if isinstance(obj, dict) else set(obj._fields)


async def wait_until(predicate, hang_guard: float = 120.0) -> None:
    """Polls ``predicate``; ``hang_guard`` seconds only stop a test that would hang (not a timing check)."""
    deadline = time.monotonic() + hang_guard
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting after {hang_guard} s")
        await asyncio.sleep(0.05)


async def test_run_reports_progress_trials_and_results(client: LanguageClient, tmp_path: Path):
    manifest = write_experiment(tmp_path)
    uri = open_document(client, manifest)
    token = "run-1"
    client.progress_reports.setdefault(token, [])

    summary = await run_command(client, uri, token)

    assert _get(summary, "state") == "complete", summary
    trials = _get(summary, "trials")
    assert len(trials) == 3 and all(_get(t, "state") == "complete" for t in trials)
    objectives = [_get(t, "objective") for t in trials]
    assert objectives == sorted(objectives, reverse=True)  # best first
    assert _get(_get(summary, "best"), "objective") == objectives[0]
    assert Path(_get(summary, "results_dir")).is_relative_to(tmp_path / "hpo-results" / "editor" / "tiny.hpo")

    await wait_until(lambda: len(client.trials) == 3)  # type: ignore[attr-defined]
    numbers = sorted(_get(t, "number") for t in client.trials)  # type: ignore[attr-defined]
    assert numbers == [0, 1, 2]
    first = client.trials[0]  # type: ignore[attr-defined]
    assert _get(first, "uri") == uri and _get(first, "reference") == "quick"
    assert _keys(_get(first, "values")) == {"learning_rate", "units"}

    kinds = [p.kind for p in client.progress_reports[token]]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
    assert client.progress_reports[token][0].cancellable is True
    reports = [p.message for p in client.progress_reports[token] if p.kind == "report"]
    assert reports[-1].startswith("3/3 trials, best accuracy = ")

    stored = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.experimentResults", arguments=[uri]))
    assert [_get(t, "number") for t in _get(stored, "trials")] == [_get(t, "number") for t in trials]

    results = RunResults()
    best = results.best_values_for(uri)["quick"]
    assert best.objective == objectives[0] and set(best.values) == {"learning_rate", "units"}
    assert best.run.startswith("run of ") and "complete, 3 trials" in best.run
    assert results.metric_names_for(uri) == ["accuracy", "loss"]


async def test_server_creates_progress_when_the_client_gives_no_token(client: LanguageClient, tmp_path: Path):
    manifest = write_experiment(tmp_path, steps=1)
    uri = open_document(client, manifest)
    summary = await run_command(client, uri, None)
    assert _get(summary, "state") == "complete"
    assert any(p and p[0].kind == "begin" and p[-1].kind == "end" for p in client.progress_reports.values())


async def _start_slow_run(client: LanguageClient, tmp_path: Path, token: str):
    manifest = write_experiment(tmp_path, steps=5, sleep=60)
    uri = open_document(client, manifest)
    client.progress_reports.setdefault(token, [])
    task = asyncio.ensure_future(run_command(client, uri, token))
    await wait_until(lambda: any(p.kind == "report" and "(1 running)" in (p.message or "") for p in client.progress_reports[token]))
    return uri, task


async def test_cancel_command_stops_the_run(client: LanguageClient, tmp_path: Path):
    uri, task = await _start_slow_run(client, tmp_path, "slow-1")
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.cancelExperiment", arguments=[uri]))
    assert _get(result, "cancelled") is True
    summary = await asyncio.wait_for(task, 120)  # a hang guard: the run ends (SIGINT, then SIGTERM, then SIGKILL)
    assert _get(summary, "state") == "cancelled"
    assert [_get(t, "state") for t in _get(summary, "trials")] == ["interrupted"]
    assert not any(p.kind == "report" and p.message.startswith("1/") for p in client.progress_reports["slow-1"])


async def test_progress_cancel_stops_the_run(client: LanguageClient, tmp_path: Path):
    _uri, task = await _start_slow_run(client, tmp_path, "slow-2")
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token="slow-2"))
    summary = await asyncio.wait_for(task, 120)
    assert _get(summary, "state") == "cancelled"


async def test_unsaved_changes_run_the_saved_file_and_say_so(client: LanguageClient, tmp_path: Path):
    manifest = write_experiment(tmp_path, steps=1)
    uri = open_document(client, manifest, text=manifest.read_text() + "# an edit not saved yet\n")
    summary = await run_command(client, uri, None)
    assert _get(summary, "state") == "complete"
    assert _get(summary, "ran_saved_file") is True
    assert any("unsaved changes" in m.message and "saved file" in m.message for m in client.messages)


async def test_a_manifest_with_errors_is_not_run(client: LanguageClient, tmp_path: Path):
    manifest = write_experiment(tmp_path)
    manifest.write_text(manifest.read_text().replace("double_values", "double_valuez"), encoding="utf-8")
    uri = open_document(client, manifest)
    summary = await run_command(client, uri, None)
    assert _get(summary, "state") == "invalid"
    assert not (tmp_path / "hpo-results").exists()
    errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1 and "was not run: 1 error" in errors[0] and "line " in errors[0] and "double_valuez" in errors[0]
    assert [p for p in _get(summary, "problems")] and not _get(summary, "trials")


def _position_of(path: Path, needle: str, offset: int = 0) -> types.Position:
    for number, line in enumerate(path.read_text().splitlines()):
        if needle in line:
            return types.Position(line=number, character=line.index(needle) + offset)
    raise AssertionError(f"{needle!r} not in {path}")


async def test_after_a_run_hover_shows_the_best_value_and_completion_the_metrics(client: LanguageClient, tmp_path: Path):
    manifest = write_experiment(tmp_path)
    uri = open_document(client, manifest)
    hover_position = _position_of(manifest, "name: learning_rate", 2)
    before = await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=hover_position))
    assert before is None or "best value found" not in before.contents.value

    summary = await run_command(client, uri, None)
    best = _get(_get(summary, "best"), "values")

    after = await client.text_document_hover_async(types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=hover_position))
    assert after is not None and f"best value found: `{_get(best, 'learning_rate')!r}`" in after.contents.value

    objective_value = _position_of(manifest, "string_value: accuracy", len("string_value: "))
    completion = await client.text_document_completion_async(
        types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=uri), position=objective_value)
    )
    items = completion.items if isinstance(completion, types.CompletionList) else completion or []
    labels = {item.label: item.detail for item in items}
    assert "loss" in labels and "last run" in (labels["loss"] or "")


async def test_run_history_prefers_complete_runs_and_an_incomplete_run_resumes(client: LanguageClient, tmp_path: Path):
    manifest = write_experiment(tmp_path)
    uri = open_document(client, manifest)
    complete = await run_command(client, uri, None)
    assert _get(complete, "state") == "complete"
    # a later run, stopped after its first trial started: incomplete
    (tmp_path / "program" / "train.py").write_text(TRAIN.format(sleep=60), encoding="utf-8")
    token = "slow-history"
    client.progress_reports.setdefault(token, [])
    task = asyncio.ensure_future(run_command(client, uri, token))
    await wait_until(lambda: any(p.kind == "report" and "(1 running)" in (p.message or "") for p in client.progress_reports[token]))
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.cancelExperiment", arguments=[uri]))
    stopped = await asyncio.wait_for(task, 120)
    assert _get(stopped, "state") == "cancelled"

    runs = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.experimentRuns", arguments=[uri]))
    assert [_get(r, "state") for r in runs] == ["incomplete", "complete"]  # newest first
    assert _get(runs[1], "trials") == 3 and _get(_get(runs[1], "best"), "objective") == _get(_get(complete, "best"), "objective")
    resume = _get(runs[0], "resume")
    assert list(_get(resume, "command")) == resume_command(manifest, Path(_get(runs[0], "results_dir")))
    assert _get(runs[1], "resume") is None

    # "Show results" and hover's best value: the complete run, though a newer one exists
    shown = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.experimentResults", arguments=[uri]))
    assert _get(shown, "results_dir") == _get(runs[1], "results_dir") and len(_get(shown, "trials")) == 3
    picked = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.experimentResults", arguments=[uri, _get(runs[0], "results_dir")]))
    assert _get(picked, "results_dir") == _get(runs[0], "results_dir")
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=_position_of(manifest, "name: learning_rate", 2))
    )
    assert hover is not None and "complete, 3 trials" in hover.contents.value

    # the resume command continues the stopped run in its own folder until its budget is done
    (tmp_path / "program" / "train.py").write_text(TRAIN.format(sleep=0), encoding="utf-8")
    resumed = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="hpo.runExperiment", arguments=[uri, None, {"resume": _get(runs[0], "results_dir")}])
    )
    assert _get(resumed, "state") == "complete" and _get(resumed, "results_dir") == _get(runs[0], "results_dir")
    assert len([t for t in _get(resumed, "trials") if _get(t, "state") == "complete"]) == 3
    runs = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="hpo.experimentRuns", arguments=[uri]))
    assert [_get(r, "state") for r in runs] == ["complete", "complete"]


def test_the_run_results_cache_is_bounded(tmp_path: Path) -> None:
    results = RunResults(max_stores=2)
    for index in range(5):
        results.read(tmp_path / f"store-{index}")  # no store there: cached as None
    assert len(results) == 2
