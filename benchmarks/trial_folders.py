"""Benchmark: disk taken by trial folders (issue 13: 5,000 trial folders took 139 MB for 2.5 MB of data).

Runs N trials of ``echo score=$x`` (method random) through the real engine (``run_reference``,
local backend) with a small training definition (``train.py``, ``README.md``, ``requirements.txt``,
a ``lib/`` package of two modules: 5 files, 6.4 kB), then reports the disk the ``trials/``
folder takes (``du -s``: allocated blocks, and ``du -s --apparent-size``: the bytes of the
files), the number of files and folders, per trial and scaled to 5,000 trials. Run it with the
tree whose engine is measured first on ``sys.path`` (``ROOT`` below: this checkout).

    python benchmarks/trial_folders.py [--trials 1000] [--json out.json] [--ray-tune-python PY]

``--ray-tune-python PY`` also runs the peer: Ray Tune (``PY`` is a Python with ``ray[tune]``,
which this project does not install) with as many trials of a function trainable that reports
one metric, storage on the same file system, and the same ``du`` of its experiment folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hpo_engine.manifest.validation import load_manifest  # noqa: E402
from hpo_engine.runner.scheduler import Reporter, RunOptions, run_reference  # noqa: E402

TRAIN = "import json\nvalues = json.load(open('config.json'))\nprint('score=%s' % values['x'])\n" + "# a realistic training script is a few kB\n" * 40


def write_experiment(folder: Path, trials: int) -> Path:
    definition = folder / "definition"
    (definition / "lib").mkdir(parents=True)
    (definition / "train.py").write_text(TRAIN)
    (definition / "README.md").write_text("# training definition\n" * 20)
    (definition / "requirements.txt").write_text("numpy\n")
    (definition / "lib" / "__init__.py").write_text("")
    (definition / "lib" / "model.py").write_text("def model():\n    return None\n" * 30)
    manifest = {
        "settings": {"name": "folders"},
        "training_references": [{
            "name": "ref", "training_definition_url": "definition", "command": "echo score=$SUBID",
            "hyper_parameters_optimization": {
                "method": {"name": "random", "parameters": [
                    {"name": "objective", "string_value": "score"},
                    {"name": "maximize_or_minimize", "string_value": "maximize"},
                    {"name": "num_optimizer_steps", "int_value": trials},
                    {"name": "random_seed", "int_value": 1},
                ]},
                "hyper_parameters": [{"name": "x", "double_range": {"min_value": 0.0, "max_value": 1.0}}],
            },
        }],
    }
    path = folder / "folders.yaml"
    path.write_text(json.dumps(manifest))
    return path


RAY_TUNE_PEER = """
import os, subprocess, sys, tempfile, time
from pathlib import Path
import ray
from ray import tune

def trainable(config):
    tune.report({"score": config["x"]})

trials, root = int(sys.argv[1]), Path(sys.argv[2])
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
start = time.perf_counter()
tune.Tuner(trainable, param_space={"x": tune.uniform(0, 1)},
           tune_config=tune.TuneConfig(num_samples=trials, metric="score", mode="max"),
           run_config=tune.RunConfig(storage_path=str(root), name="folders", verbose=0)).fit()
print(time.perf_counter() - start, ray.__version__)
"""


def ray_tune_peer(python: str, trials: int, folder: Path) -> dict:
    """The same measurement of Ray Tune's experiment folder (``python`` has ``ray[tune]``)."""
    root = folder / "ray-tune"
    done = subprocess.run([python, "-c", RAY_TUNE_PEER, str(trials), str(root)], capture_output=True, text=True, check=True)
    wall, version = done.stdout.split()[-2:]
    experiment = root / "folders"
    files = dirs = 0
    for _root, names, entries in os.walk(experiment):
        dirs += len(names)
        files += len(entries)
    return {"ray_version": version, "wall_s": float(wall), "du_bytes": du(experiment), "apparent_bytes": du(experiment, "--apparent-size"),
            "files": files, "folders": dirs}


def du(path: Path, *extra: str) -> int:
    """``du -s -B1`` of ``path`` in bytes."""
    return int(subprocess.run(["du", "-s", "-B1", *extra, str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--ray-tune-python", default=None, help="a Python with ray[tune]: measure Ray Tune's folders too")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hpo-trial-folders-"))
    manifest = load_manifest(write_experiment(folder, args.trials))
    start = time.perf_counter()
    summary = run_reference(manifest, manifest.references[0], RunOptions(results_root=folder / "results", parallel=2), reporter=Reporter())
    wall = time.perf_counter() - start
    trials = summary.folder / "trials"
    files = dirs = 0
    for _root, names, entries in os.walk(trials):
        dirs += len(names)
        files += len(entries)
    report = {
        "engine": str(ROOT), "trials": args.trials, "wall_s": wall,
        "du_bytes": du(trials), "apparent_bytes": du(trials, "--apparent-size"), "files": files, "folders": dirs,
        "whole_experiment_du_bytes": du(summary.folder),
    }
    n = args.trials
    print(
        f"{ROOT}: {n} trials in {wall:.1f} s | trials/: du {report['du_bytes'] / 1e6:.1f} MB "
        f"({report['du_bytes'] / n / 1024:.1f} KiB per trial, {report['du_bytes'] / n * 5000 / 1e6:.0f} MB for 5,000), "
        f"apparent {report['apparent_bytes'] / 1e6:.2f} MB; {files / n:.1f} files and {dirs / n:.1f} folders per trial; "
        f"whole experiment folder du {report['whole_experiment_du_bytes'] / 1e6:.1f} MB"
    )
    if args.ray_tune_python:
        peer = ray_tune_peer(args.ray_tune_python, n, folder)
        report["ray_tune"] = peer
        print(
            f"Ray Tune {peer['ray_version']}: {n} trials in {peer['wall_s']:.1f} s | experiment folder: du {peer['du_bytes'] / 1e6:.1f} MB "
            f"({peer['du_bytes'] / n / 1024:.1f} KiB per trial, {peer['du_bytes'] / n * 5000 / 1e6:.0f} MB for 5,000), "
            f"apparent {peer['apparent_bytes'] / 1e6:.2f} MB; {peer['files'] / n:.1f} files and {peer['folders'] / n:.1f} folders per trial"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    subprocess.run(["rm", "-rf", str(folder)], check=False)


if __name__ == "__main__":
    main()
