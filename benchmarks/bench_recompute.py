"""Benchmark of ``okrcore recompute`` from a Parquet dataset: one process against Dask.

For each size, the synthetic organisation of ``bench_batch.py`` (:mod:`synthetic`) is written
once as a dataset partitioned by alignment root into ``--partitions`` buckets of whole trees
(not timed), then recomputed at one instant, each run in a fresh process:

* ``engine-only``: the whole dataset read into one frame, then ``evaluate_frame`` alone timed
  (the batch engine's in-memory figure, the floor of the job's compute);
* ``local``: ``okrcore.jobs.recompute`` (``okrcore recompute DATASET -o OUT``), partition
  by partition in one process: read, evaluate, write results, combine people;
* ``dask``: the same job with ``--engine dask`` on a ``LocalCluster`` of ``--workers`` worker
  processes (1 thread each) on loopback; cluster start-up is timed separately.

Reported: seconds (total and the job's own read / compute / write split), key results per
second, and peak memory: the process's high-water mark (``VmHWM``) for the single process,
and for Dask the client's plus each worker's.  Usage::

    python benchmarks/bench_recompute.py --sizes 1000000 10000000 --partitions 16
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import AS_OF, synthetic_columns


def peak_rss() -> int:
    """Peak resident set size of this process [bytes] (``VmHWM``)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def make_dataset(n_kr: int, path: Path, partitions: int) -> dict[str, Any]:
    from okrcore.batch import OrgFrame
    from okrcore.jobs.parquet import write_dataset

    t0 = time.perf_counter()
    frame = OrgFrame.from_columns(**synthetic_columns(n_kr))
    write_dataset(path, {"org": frame}, partition_by="root", buckets=partitions)
    size = sum(f.stat().st_size for f in path.rglob("*.parquet"))
    return {"seconds": time.perf_counter() - t0, "bytes": size, "n_log": int(
        frame.log_kr.shape[0]), "n_obj": frame.n_obj}


def run_engine_only(dataset: str) -> dict[str, Any]:
    from okrcore.batch import evaluate_frame
    from okrcore.evaluate import instant_us
    from okrcore.jobs import parse_as_of
    from okrcore.jobs.parquet import Dataset

    ds = Dataset.open(dataset)
    t0 = time.perf_counter()
    frame, _, _ = ds.read()
    t1 = time.perf_counter()
    evaluate_frame(frame, instant_us(parse_as_of(AS_OF)[0]), ds.policy)
    t2 = time.perf_counter()
    return {"read": t1 - t0, "compute": t2 - t1, "total": t2 - t1, "peak": peak_rss()}


def run_job(dataset: str, out: str, engine: str, workers: int) -> dict[str, Any]:
    from okrcore.jobs import parse_as_of, recompute
    from okrcore.jobs.parquet import Dataset

    instants = parse_as_of(AS_OF)
    extra: dict[str, Any] = {}
    client = None
    if engine == "dask":
        import distributed

        import okrcore_dask

        t0 = time.perf_counter()
        cluster = okrcore_dask.local_cluster(workers)
        client = distributed.Client(cluster)  # type: ignore[no-untyped-call]
        extra["startup"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        reports, failures, _ = okrcore_dask.recompute_dataset(
            dataset, out, instants, Dataset.open(dataset).policy, client=client)
        total = time.perf_counter() - t0
        extra["worker_peaks"] = list(client.run(peak_rss).values())
        client.close()  # type: ignore[no-untyped-call]
        cluster.close()
        assert not failures, failures
        [report] = reports
    else:
        t0 = time.perf_counter()
        job = recompute(dataset, output=out, instants=instants)
        total = time.perf_counter() - t0
        assert not job.failures, job.failures
        [report] = job.instants
    return {"total": total, "read": report.seconds_read, "compute": report.seconds_compute,
            "write": report.seconds_write, "key_results": report.key_results,
            "people": report.people, "peak": peak_rss(), **extra}


def child(args: argparse.Namespace) -> None:
    if args.child == "engine-only":
        result = run_engine_only(args.dataset)
    else:
        result = run_job(args.dataset, args.out, args.child, args.workers)
    print(json.dumps(result))


def in_child(kind: str, dataset: Path, out: Path, workers: int) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--dataset", str(dataset), "--out",
         str(out), "--workers", str(workers)], capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", nargs="+", default=["engine-only", "local", "dask"])
    parser.add_argument("--tmp", default=None, help="scratch directory (default: a temp dir)")
    parser.add_argument("--json", default=None, help="also write the report to this file")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--dataset", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    scratch = Path(args.tmp or tempfile.mkdtemp(prefix="bench-recompute-"))
    report: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python":
                                          platform.python_version()}, "sizes": {}}
    for n in args.sizes:
        dataset = scratch / f"ds-{n}"
        shutil.rmtree(dataset, ignore_errors=True)
        made = make_dataset(n, dataset, args.partitions)
        print(f"{n:>10} KRs: dataset {made['bytes'] / 1e6:.0f} MB, {made['n_log']} check-ins, "
              f"{args.partitions} partitions, written in {made['seconds']:.1f} s", flush=True)
        rows: dict[str, Any] = {"dataset": made}
        for kind in args.runs:
            got = in_child(kind, dataset, scratch / f"out-{n}-{kind}", args.workers)
            rows[kind] = got
            line = (f"  {kind:<12} {got['total']:7.2f} s  {n / got['total'] / 1e6:6.2f} M KR/s"
                    f"  read {got['read']:.2f}  compute {got['compute']:.2f}")
            if "write" in got:
                line += f"  write {got['write']:.2f}"
            line += f"  peak {got['peak'] / 2**30:.2f} GiB"
            if "worker_peaks" in got:
                line += (" + workers " + " + ".join(f"{p / 2**30:.2f}" for p in
                                                    got["worker_peaks"]) + " GiB"
                         f"  (cluster start {got['startup']:.2f} s, not in total)")
            print(line, flush=True)
        report["sizes"][str(n)] = rows
        shutil.rmtree(dataset, ignore_errors=True)
        for kind in args.runs:
            shutil.rmtree(scratch / f"out-{n}-{kind}", ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
