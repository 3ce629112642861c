"""Benchmark: analysis speed — ``hpo plot`` CPU, the dashboard's first page, live update delay.

Synthetic stores (``benchmarks/analysis_stores.py``, the real ResultStore API, 4 hyper-parameters,
10-step learning curves, 5% failed trials):

1. ``hpo plot`` of a 1,000-trial store (default sheet, PNG), run as a real ``hpo`` process:
   CPU time (user + sys of the child), median of ``--repeat``; also ``--importance fanova`` and
   ``--html``; beside the peer, a process drawing Optuna's own ``optuna.visualization.matplotlib``
   charts (history, importance, parallel coordinates, intermediate values, slice) of the same
   study, runs interleaved.
2. The dashboard's first page on a 10,000-trial store: ``hpo dashboard`` started, then the
   wall time of what the browser fetches for the study list (``/dashboard/``, ``bundle.js``,
   ``/api/meta``, ``/api/studies``) and, for information, the study page's data (``/api/studies/0``).
   Also the start-up time (process start until the URL is printed: imports + first mirror).
3. New finished trial on the page, in a browser: on stores of 50, 1,000 and 10,000 trials
   (``--sizes``), ``hpo dashboard`` is started and hpo's live page (``/live/``: until its table
   shows the trial complete), optuna-dashboard's trial list (and, up to 1,000 trials, its
   study page) opened in headless Chromium and left open (``benchmarks/dashboard_browser.py``,
   the DevTools protocol); a finished trial is committed to the store and the delay measured
   until a response the page's own polling got holds it Complete, and until the page's text
   shows the new trial count. The peer beside it: optuna-dashboard's own server on an Optuna
   SQLite storage of the same trials (``hpo export --to``), the trial written by Optuna
   (``study.add_trial``). hpo's own part is measured too: a commit until the mirrored Optuna
   storage has the trial (1,000-trial store, no browser).

    python benchmarks/analysis_bench.py [--repeat 5] [--only plot|dashboard|live] [--sizes 50 1000 10000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from analysis_stores import make_store, values_of  # noqa: E402

from hpo_engine.runner.backends.base import TrialOutcome  # noqa: E402
from hpo_engine.runner.store import ResultStore  # noqa: E402
from hpo_engine.runner.trial_state import TrialState  # noqa: E402

HPO = [sys.executable, "-m", "hpo_engine.cli"]


def child_cpu(command: list[str]) -> float:
    """CPU seconds (user + sys) of one child process run to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


#: The peer: Optuna's own matplotlib charts of the same study (built from the same store by the
#: same converter, in memory), the same five kinds as hpo's default sheet, one PNG each at 100 dpi.
PEER_PLOT = """
import sys
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import optuna
import optuna.visualization.matplotlib as vis
from hpo_engine.runner.optuna_export import study_from_results
from hpo_engine.runner.results import load_results
optuna.logging.set_verbosity(optuna.logging.WARNING)
results = load_results(Path(sys.argv[1]))
study = study_from_results(results.experiment, results.trials)
out = Path(sys.argv[2])
for name, draw in (("history", vis.plot_optimization_history), ("importance", vis.plot_param_importances),
                   ("parallel", vis.plot_parallel_coordinate), ("curves", vis.plot_intermediate_values),
                   ("slice", vis.plot_slice)):
    ax = draw(study)
    figure = (ax.flat[0] if hasattr(ax, "flat") else ax).figure
    figure.savefig(out / f"optuna-{name}.png", dpi=100)
    plt.close(figure)
"""


def bench_plot(work: Path, repeat: int) -> dict:
    """CPU of whole processes, interleaved run by run: hpo's sheet (PED-ANOVA, fANOVA, HTML) and the peer."""
    store = make_store(work / "plot" / "digits" / "mlp", 1000, seed=1)
    peer_script = work / "optuna_plots.py"
    peer_script.write_text(PEER_PLOT)
    commands = {
        "png": HPO + ["plot", str(store), "-o", str(work / "sheet.png")],
        "png_fanova": HPO + ["plot", str(store), "--importance", "fanova", "-o", str(work / "sheet-fanova.png")],
        "html": HPO + ["plot", str(store), "--html", "-o", str(work / "sheet.html")],
        "optuna_matplotlib": [sys.executable, str(peer_script), str(store), str(work)],
        "hpo_help": HPO + ["--help"],
    }
    runs: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            runs[name].append(child_cpu(command))
    report: dict = {"trials": 1000}
    for name, values in runs.items():
        report[f"{name}_cpu_s"] = values
        report[f"{name}_cpu_median_s"] = statistics.median(values)
    report["ratio_png_to_optuna"] = report["png_cpu_median_s"] / report["optuna_matplotlib_cpu_median_s"]
    return report


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def start_dashboard(path: Path) -> tuple[subprocess.Popen, str, float]:
    started = time.perf_counter()
    process = subprocess.Popen(HPO + ["dashboard", str(path), "--port", "0"], stdout=subprocess.PIPE, text=True, start_new_session=True)
    line = process.stdout.readline()
    found = re.search(r"(http://127\.0\.0\.1:\d+)/dashboard/", line)
    if not found:
        raise SystemExit(f"dashboard did not start: {line!r}")
    return process, found.group(1), time.perf_counter() - started


def start_peer(url: str) -> tuple[subprocess.Popen, str, float]:
    """optuna-dashboard's own command on an Optuna storage URL, on a free port."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    command = [str(Path(sys.executable).with_name("optuna-dashboard")), url, "--port", str(port), "--host", "127.0.0.1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    origin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            fetch(origin + "/api/meta")
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("optuna-dashboard did not start")
            time.sleep(0.1)
    return process, origin, time.perf_counter() - started


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def bench_first_page(work: Path, repeat: int) -> dict:
    store = make_store(work / "big" / "digits" / "mlp", 10_000, seed=2)
    process, origin, startup = start_dashboard(store)
    try:
        first, study = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            for path in ("/dashboard/", "/static/bundle.js", "/api/meta", "/api/studies"):
                fetch(origin + path)
            first.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            body = fetch(origin + "/api/studies/0")
            study.append(time.perf_counter() - t0)
        trials = len(json.loads(body)["trials"])
    finally:
        stop(process)
    return {"trials": trials, "startup_s": startup, "first_page_s": first, "first_page_median_s": statistics.median(first),
            "study_data_s": study, "study_data_median_s": statistics.median(study)}


def bench_mirror(work: Path, repeat: int, trials: int = 1000) -> dict:
    """hpo's part of the delay: a trial committed to the store until the mirrored Optuna storage has it finished."""
    import threading

    import optuna

    from hpo_engine.runner.optuna_mirror import StoreMirror, run_mirror

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = make_store(work / f"mirror-{trials}" / "digits" / "mlp", trials, seed=4)
    storage = optuna.storages.InMemoryStorage()
    mirror = StoreMirror(storage, [folder])
    stop = threading.Event()
    thread = threading.Thread(target=run_mirror, args=(mirror, stop), daemon=True)
    t0 = time.perf_counter()
    mirror.sync()
    first_sync = time.perf_counter() - t0
    thread.start()
    delays = []
    import random

    rng = random.Random(1)
    try:
        with ResultStore.open(folder) as store:
            for _ in range(repeat):
                complete = (optuna.trial.TrialState.COMPLETE,)
                before = len(storage.get_all_trials(0, deepcopy=False, states=complete))
                number = store.next_number()
                store.record_running(number, values_of(rng))
                store.record_outcome(TrialOutcome(number, TrialState.COMPLETE, 0.5, {}, 0, None, "", time.time(), time.time()))
                committed = time.perf_counter()
                while len(storage.get_all_trials(0, deepcopy=False, states=complete)) == before:
                    time.sleep(0.005)
                delays.append(time.perf_counter() - committed)
    finally:
        stop.set()
        thread.join()
        mirror.close()
    return {"trials": trials, "first_sync_s": first_sync, "delays_s": delays, "median_s": statistics.median(delays), "max_s": max(delays)}


def _store_writer(folder: Path, seed: int):
    """``add_trial()`` for :func:`dashboard_browser.measure_page`: one finished trial committed to the hpo store."""
    import random

    rng = random.Random(seed)

    def add_trial() -> tuple[int, float]:
        with ResultStore.open(folder) as store:
            number = store.next_number()
            store.record_running(number, values_of(rng))
            store.record_outcome(TrialOutcome(number, TrialState.COMPLETE, 0.5, {}, 0, None, "", time.time(), time.time()))
        return number, time.perf_counter()

    return add_trial


def _optuna_writer(url: str, name: str, seed: int):
    """``add_trial()`` for the peer: one finished trial written by Optuna itself into its RDB storage."""
    import random

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=name, storage=url)
    rng = random.Random(seed)
    distributions = {"learning_rate": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True),
                     "dropout": optuna.distributions.FloatDistribution(0.0, 0.5)}

    def add_trial() -> tuple[int, float]:
        values = values_of(rng)
        trial = optuna.trial.create_trial(params={k: values[k] for k in distributions}, distributions=distributions, value=0.5)
        study.add_trial(trial)
        number = study.get_trials(deepcopy=False)[-1].number
        return number, time.perf_counter()

    return add_trial


def bench_live(work: Path, repeat: int, sizes: tuple[int, ...] = (50, 1000, 10_000)) -> list[dict]:
    """A new finished trial until it is on a page open in headless Chromium: hpo's dashboard beside
    optuna-dashboard's own server on an Optuna SQLite storage of the same trials, written by Optuna."""
    from dashboard_browser import live_shown, live_trials, measure_page, optuna_shown, optuna_trials

    report = []
    for trials in sizes:
        folder = make_store(work / f"live-{trials}" / "digits" / "mlp", trials, seed=3)
        db = work / f"live-{trials}.db"
        subprocess.run(HPO + ["export", str(folder), "--to", f"sqlite:///{db}"], check=True, stdout=subprocess.DEVNULL)
        for name in ("hpo", "optuna-dashboard"):
            pages = ([("live", True)] if name == "hpo" else []) + [("trials", True)] + ([("study", False)] if trials <= 1000 else [])
            if name == "hpo":
                process, origin, startup = start_dashboard(folder)
                study, add_trial = 0, _store_writer(folder, seed=trials)
            else:
                process, origin, startup = start_peer(f"sqlite:///{db}")
                study, add_trial = 1, _optuna_writer(f"sqlite:///{db}", "digits/mlp", seed=trials)
            try:
                for page, count_text in pages:
                    if page == "live":  # hpo's own live page
                        measured = measure_page(f"{origin}/live/", "/live/data.json", add_trial, repeat=repeat,
                                                shown_expression=live_shown, trials_of=live_trials)
                    else:
                        url = f"{origin}/dashboard/studies/{study}" + ("/trials" if page == "trials" else "")
                        measured = measure_page(url, f"/api/studies/{study}", add_trial, repeat=repeat,
                                                shown_expression=optuna_shown if count_text else None, trials_of=optuna_trials)
                    shown = [d for d in measured["data_delays_s"] if d is not None]
                    measured.update(trials=trials, dashboard=name, page=page, startup_s=startup,
                                    not_shown_within_40_s=len(measured["data_delays_s"]) - len(shown),
                                    data_median_s=statistics.median(shown) if shown else None,
                                    data_max_s=max(shown) if shown else None)
                    if count_text and measured["text_delays_s"]:
                        measured.update(text_median_s=statistics.median(measured["text_delays_s"]),
                                        text_max_s=max(measured["text_delays_s"]))
                    print(json.dumps({k: v for k, v in measured.items() if not k.endswith("delays_s")}), file=sys.stderr)
                    report.append(measured)
            finally:
                stop(process)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", choices=["plot", "dashboard", "live"], action="append", help="run only these parts")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 1000, 10_000], help="store sizes of the live part")
    args = parser.parse_args()
    parts = set(args.only or ["plot", "dashboard", "live"])
    with tempfile.TemporaryDirectory(prefix="hpo-analysis-bench-") as tmp:
        work = Path(tmp)
        report: dict = {"cpus": os.cpu_count()}
        if "plot" in parts:
            report["plot"] = bench_plot(work, args.repeat)
        if "dashboard" in parts:
            report["dashboard"] = bench_first_page(work, args.repeat)
        if "live" in parts:
            report["mirror"] = bench_mirror(work, max(args.repeat, 5))
            report["live"] = bench_live(work, max(args.repeat, 5), tuple(args.sizes))
        report["load"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
