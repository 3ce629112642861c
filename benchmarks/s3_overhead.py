"""Wall time of ``hpo run`` with results uploaded to a local S3 server, against the same run without.

20 trials (``--trials``) with ``--parallel 2``; each trial writes 1 MB (``--megabytes``) of
random bytes to ``$RESULT_DIR`` and works ``--trial-seconds`` (0.5 s) like a short training.
The S3 server is moto's standalone server (``moto[server]``) on 127.0.0.1, started once; the
whole ``hpo run`` process is timed (boto3 import, the final drain of the upload queue and the
store snapshot included). Runs alternate local / S3, ``--repeat`` (3) times each; medians and
their ratio are printed, and every object is checked to be byte-identical to the local file.

    python benchmarks/s3_overhead.py [--trials 20] [--repeat 3] [--megabytes 1] [--trial-seconds 0.5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.engine.storage.conftest import ACCESS_KEY, SECRET_KEY, S3Server, local_result_files, write_manifest  # noqa: E402

PROGRAM = """
import json, os, time
values = json.load(open("config.json"))
time.sleep(float(os.environ["BENCH_TRIAL_SECONDS"]))
open(os.path.join(os.environ["RESULT_DIR"], "blob.bin"), "wb").write(os.urandom(int(os.environ["BENCH_BYTES"])))
json.dump([{"steps": 0, "score": float(values["x"])}], open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w"))
"""


def _run(manifest: Path, results: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "hpo_engine.cli", "run", str(manifest), "--results", str(results), "--parallel", "2", "--quiet"],
                          env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"hpo run failed: {done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--megabytes", type=float, default=1.0)
    parser.add_argument("--trial-seconds", type=float, default=0.5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hpo-s3-bench-") as scratch:
        root = Path(scratch)
        server = S3Server(root)
        server.start()
        try:
            env = {**os.environ, "HPO_TEST_S3_KEY": ACCESS_KEY, "HPO_TEST_S3_SECRET": SECRET_KEY, "HPO_CACHE_DIR": str(root / "cache"),
                   "BENCH_BYTES": str(int(args.megabytes * 1024 * 1024)), "BENCH_TRIAL_SECONDS": str(args.trial_seconds)}
            with_s3 = root / "with-s3"
            with_s3.mkdir()
            local = root / "local"
            local.mkdir()
            local_manifest = write_manifest(local, server.url, steps=args.trials, parallel=2, program=PROGRAM)
            text = json.loads(local_manifest.read_text())
            del text["training_results_reference"]
            local_manifest.write_text(json.dumps(text))
            times: dict[str, list[float]] = {"local": [], "s3": []}
            client = server.client()
            for index in range(args.repeat):
                times["local"].append(_run(local_manifest, root / f"results-local-{index}", env))
                bucket = f"bench-{index}"
                client.create_bucket(Bucket=bucket)
                s3_manifest = write_manifest(with_s3, server.url, steps=args.trials, parallel=2, program=PROGRAM, prefix="bench", bucket=bucket)
                times["s3"].append(_run(s3_manifest, root / f"results-s3-{index}", env))
                store = root / f"results-s3-{index}" / "s3exp" / "ref"
                objects = server.objects(bucket)
                for relative, content in local_result_files(store).items():
                    if objects.get(f"bench/s3exp/ref/{relative}") != content:
                        raise SystemExit(f"object {relative} missing or different in {bucket}")
                print(f"run {index + 1}: local {times['local'][-1]:.2f} s, s3 {times['s3'][-1]:.2f} s ({len(objects)} objects, all byte-identical)")
        finally:
            server.kill()
    local_median, s3_median = statistics.median(times["local"]), statistics.median(times["s3"])
    print(f"median wall time: local {local_median:.2f} s, with S3 {s3_median:.2f} s, ratio {s3_median / local_median:.3f}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "times": times,
                                         "median_local": local_median, "median_s3": s3_median, "ratio": s3_median / local_median}, indent=2))


if __name__ == "__main__":
    main()
