"""The live page's importance worker (``hpo_engine.cli.live_importance``) on real stores."""

from __future__ import annotations

import json
from pathlib import Path

from hpo_engine.cli.live_importance import ImportanceWorker
from hpo_engine.cli.live_page import LivePage
from tests.engine.analysis_data import write_store
from tests.engine.conftest import wait_until
from tests.engine.cli.test_live_page import call


def test_it_computes_off_the_request_path_and_finds_the_parameter_that_matters(tmp_path: Path) -> None:
    folder = write_store(tmp_path / "exp" / "ref", 40, fail_every=0)
    worker = ImportanceWorker()
    try:
        assert worker.latest(folder, 40) is None  # asked; computed on the worker's thread
        done = wait_until(lambda: worker.latest(folder, 40), timeout=60)
        assert done.complete == 40 and done.values is not None
        assert max(done.values, key=done.values.get) == "lr"  # the loss depends almost only on lr
        assert abs(sum(done.values.values()) - 1.0) < 1e-6
        version = worker.version
        assert worker.latest(folder, 40) is done and worker.version == version  # nothing new to compute
    finally:
        worker.close()


def test_too_few_trials_give_no_importance_and_the_page_carries_it(tmp_path: Path) -> None:
    few = write_store(tmp_path / "exp" / "few", 1, fail_every=0, reference="few")
    many = write_store(tmp_path / "exp" / "many", 40, fail_every=0, reference="many")
    page = LivePage(lambda: [few, many])
    try:
        def computed():
            stores = json.loads(call(page, "/live/data.json")[2])["stores"]
            return stores if all(s["importance_trials"] is not None for s in stores) else None

        stores = wait_until(computed, timeout=60)
        assert stores[0]["importance"] is None and stores[0]["importance_trials"] == 1
        assert stores[1]["importance_trials"] == 40 and max(stores[1]["importance"], key=stores[1]["importance"].get) == "lr"
    finally:
        page.close()
