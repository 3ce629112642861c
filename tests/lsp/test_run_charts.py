"""The chart data of ``hpo.experimentResults`` and the pruned trials of an editor run.

A real server process runs a real ``hpo run`` of a grid search whose program prints one value
per epoch (``epoch=N score=...``); trials with ``x < 0.5`` then block as a slow, bad training
run would, so they end only when ASHA prunes them: a test expecting them pruned fails if the
rule does not act. No timings are asserted.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from hpo_engine.cli.plots.chart_data import MAX_CURVE_POINTS, thin_curve, charts_json
from tests.lsp.test_experiments import _get, open_document, run_command, wait_until

pytestmark = pytest.mark.slow

TRAIN = textwrap.dedent(
    """
    import json, time
    config = json.load(open("config.json"))
    x = float(config["x"])
    for epoch in (1, 2, 3):
        print(f"epoch={epoch} score={x + epoch / 100}", flush=True)
    if x < 0.5:
        time.sleep(120)
    """
)

MANIFEST = textwrap.dedent(
    """
    settings:
      name: curves
    training_references:
    - name: grid
      training_definition_url: ./program
      command: {python} train.py
      compute_configuration:
        name: k80
      hyper_parameters_optimization:
        method:
          name: grid
          parameters:
          - {{name: objective, string_value: score}}
          - {{name: maximize_or_minimize, string_value: maximize}}
          - {{name: num_optimizer_steps, int_value: 4}}
          - {{name: early_stopping, string_value: asha}}
          - {{name: max_resource, int_value: 9}}
          - {{name: time_interval, string_value: epoch}}
          - {{name: kill_grace_seconds, double_value: 5.0}}
        hyper_parameters:
        - name: x
          double_values: [0.9, 0.1, 0.2, 0.95]
        - name: optimizer
          string_values: [sgd]
        - name: units
          int_range: {{min_value: 3, max_value: 3, power: 2}}
    """
)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "hpo_lsp"]))
async def client(lsp_client: LanguageClient, tmp_path: Path):
    lsp_client.trials = []  # type: ignore[attr-defined]

    @lsp_client.feature("hpo/trialFinished")
    def on_trial(params) -> None:
        lsp_client.trials.append(params)  # type: ignore[attr-defined]

    @lsp_client.feature("hpo/experimentOutput")
    def on_output(params) -> None:
        pass

    params = types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
        root_uri=tmp_path.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="work")],
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


def _plain(value):
    """pygls hands JSON objects over as named tuples: back to dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


async def test_pruned_trials_progress_and_charts(client: LanguageClient, tmp_path: Path):
    (tmp_path / "program").mkdir()
    (tmp_path / "program" / "train.py").write_text(TRAIN, encoding="utf-8")
    manifest = tmp_path / "curves.hpo.yaml"
    manifest.write_text(MANIFEST.format(python=sys.executable), encoding="utf-8")
    uri = open_document(client, manifest)
    token = "run-curves"
    client.progress_reports.setdefault(token, [])

    summary = _plain(await run_command(client, uri, token))

    assert summary["state"] == "complete", summary
    states = {t["number"]: t["state"] for t in summary["trials"]}
    assert states == {0: "complete", 1: "pruned", 2: "pruned", 3: "complete"}
    pruned = next(t for t in summary["trials"] if t["number"] == 1)
    assert pruned["pruned_at"] == "epoch 1" and pruned["step_reached"] in (1.0, 2.0, 3.0)
    # the savings, as `hpo run` counts them: 2 complete trials ran 3 epochs of 9
    saving = summary["pruning"]["grid"]
    assert saving["pruned"] == 2 and saving["unit"] == "epochs" and saving["steps_without_stopping"] == 36
    assert saving["saved_percent"] == round(100 * (1 - saving["steps_run"] / 36))

    # progress: pruned trials count toward the budget, and the notification names the last one
    reports = [p.message for p in client.progress_reports[token] if p.kind == "report"]
    assert reports[-1].startswith("4/4 trials, 2 pruned, best score = "), reports[-1]
    assert any("trial 1 pruned at epoch 1" in r or "trial 2 pruned at epoch 1" in r for r in reports), reports
    await wait_until(lambda: len(client.trials) == 4)  # type: ignore[attr-defined]
    notified = {_get(t, "number"): _get(t, "state") for t in client.trials}  # type: ignore[attr-defined]
    assert notified == states
    assert all(_get(t, "results_dir") == summary["results_dir"] for t in client.trials)  # type: ignore[attr-defined]

    # charts: the same stored data, read again through hpo.experimentResults for that run
    stored = _plain(await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="hpo.experimentResults", arguments=[uri, summary["results_dir"]])
    ))
    (store,) = stored["charts"]["stores"]
    assert store["reference"] == "grid" and store["objective"] == "score" and store["maximize"] is True
    axes = {a["name"]: a for a in store["axes"]}
    assert axes["x"]["scale"] == "linear"
    assert axes["optimizer"]["scale"] == "category" and axes["optimizer"]["categories"] == ["sgd"]
    assert axes["units"]["scale"] == "log" and axes["units"]["base"] == 2.0
    assert [t["number"] for t in store["trials"]] == [0, 1, 2, 3]
    assert store["best"] == 3
    assert store["running_best"] == [[0, pytest.approx(0.93)], [3, pytest.approx(0.98)]]
    curves = {c["number"]: c for c in store["curves"]}
    assert curves[0]["points"] == [[1.0, pytest.approx(0.91)], [2.0, pytest.approx(0.92)], [3.0, pytest.approx(0.93)]]
    assert curves[1]["state"] == "pruned" and 1 <= len(curves[1]["points"]) <= 3
    assert store["step_key"] == "epoch"
    assert stored["pruning"] == summary["pruning"]


def test_charts_of_no_store_and_long_curves_are_thinned(tmp_path: Path) -> None:
    assert charts_json([tmp_path / "missing"]) == {"stores": []}
    points = [(float(i), float(i) / 10) for i in range(1, 1001)]
    thinned = thin_curve(points)
    assert len(thinned) <= MAX_CURVE_POINTS + 1 and thinned[0] == [1.0, 0.1] and thinned[-1] == [1000.0, 100.0]
