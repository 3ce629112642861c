"""Wall time of ``hpo run`` with results uploaded to a local S3 server, against the same run without.

20 trials (``--trials``) with ``--parallel 2``; each trial writes 1 MB (``--megabytes``) of
random bytes to ``$RESULT_DIR`` and works ``--trial-seconds`` (0.5 s) like a short training.
The S3 server is moto's standalone server (``moto[server]``) on 127.0.0.1, started once; the
whole ``hpo run`` process is timed (boto3 import, the final drain of the upload queue and the
store snapshot included). Runs alternate local / S3, ``--repeat`` (3) times each; medians and
their ratio are printed, and every object is checked to be byte-identical to the local file.

Besides wall time each run reports the CPU seconds of ``hpo run`` with its trials
(``getrusage`` of the children) and of the S3 server process (``/proc/<pid>/stat``), and
the *tail*: seconds from the end of the last trial (the store's ``ended_at``) to the exit of
``hpo run``. ``--nice-server N`` runs the server at nice ``N`` (19: it gets the CPU only
when nothing else wants it), to tell the server's share of the 2 cores from ours.

    python benchmarks/s3_overhead.py [--trials 20] [--repeat 3] [--megabytes 1] [--trial-seconds 0.5]
                                     [--nice-server N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run(manifest: Path, results: Path, env: dict[str, str], server_pid: int) -> dict[str, float]:
    """Wall seconds of one ``hpo run``, its CPU seconds (with its trials), the server's CPU seconds, and the tail."""
    before, server_before = resource.getrusage(resource.RUSAGE_CHILDREN), _cpu_seconds(server_pid)
    start_epoch, start = time.time(), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "hpo_engine.cli", "run", str(manifest), "--results", str(results), "--parallel", "2", "--quiet"],
                          env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after, server_after = resource.getrusage(resource.RUSAGE_CHILDREN), _cpu_seconds(server_pid)
    if done.returncode != 0:
        raise SystemExit(f"hpo run failed: {done.stderr}")
    from hpo_engine.runner.store import ResultStore

    with ResultStore.open(results / "s3exp" / "ref") as store:
        last_end = max(t.ended_at or 0.0 for t in store.trials())
    return {
        "wall": elapsed,
        "hpo_cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "server_cpu": server_after - server_before,
        "tail": start_epoch + elapsed - last_end,
    }


def _medians(rows: list[dict[str, float]]) -> dict[str, float]:
    return {name: statistics.median(row[name] for row in rows) for name in rows[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--megabytes", type=float, default=1.0)
    parser.add_argument("--trial-seconds", type=float, default=0.5)
    parser.add_argument("--nice-server", type=int, default=0, help="nice value of the S3 server process (0: as the runs)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hpo-s3-bench-") as scratch:
        root = Path(scratch)
        server = S3Server(root)
        server.start()
        assert server.process is not None
        if args.nice_server:
            os.setpriority(os.PRIO_PROCESS, server.process.pid, args.nice_server)
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
            times: dict[str, list[dict[str, float]]] = {"local": [], "s3": []}
            client = server.client()
            for index in range(args.repeat):
                times["local"].append(_run(local_manifest, root / f"results-local-{index}", env, server.process.pid))
                bucket = f"bench-{index}"
                client.create_bucket(Bucket=bucket)
                s3_manifest = write_manifest(with_s3, server.url, steps=args.trials, parallel=2, program=PROGRAM, prefix="bench", bucket=bucket)
                times["s3"].append(_run(s3_manifest, root / f"results-s3-{index}", env, server.process.pid))
                store = root / f"results-s3-{index}" / "s3exp" / "ref"
                objects = server.objects(bucket)
                for relative, content in local_result_files(store).items():
                    if objects.get(f"bench/s3exp/ref/{relative}") != content:
                        raise SystemExit(f"object {relative} missing or different in {bucket}")
                local_row, s3_row = times["local"][-1], times["s3"][-1]
                print(f"run {index + 1}: local {local_row['wall']:.2f} s (cpu {local_row['hpo_cpu']:.2f}, tail {local_row['tail']:.2f}), "
                      f"s3 {s3_row['wall']:.2f} s (cpu {s3_row['hpo_cpu']:.2f}, server cpu {s3_row['server_cpu']:.2f}, "
                      f"tail {s3_row['tail']:.2f}) ({len(objects)} objects, all byte-identical)", flush=True)
        finally:
            server.kill()
    local, s3 = _medians(times["local"]), _medians(times["s3"])
    print(f"medians: local {local['wall']:.2f} s, with S3 {s3['wall']:.2f} s, ratio {s3['wall'] / local['wall']:.3f}; "
          f"hpo cpu {local['hpo_cpu']:.2f} / {s3['hpo_cpu']:.2f} s, server cpu {s3['server_cpu']:.2f} s, "
          f"tail {local['tail']:.2f} / {s3['tail']:.2f} s")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "runs": times,
                                         "median_local": local, "median_s3": s3, "ratio": s3["wall"] / local["wall"]}, indent=2))


if __name__ == "__main__":
    main()
