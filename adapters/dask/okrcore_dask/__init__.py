"""Scale ``okrcore recompute`` out on a Dask cluster: one task per dataset partition.

Each task reads one partition of a Parquet dataset (:mod:`okrcore.jobs.parquet`), evaluates it
with the batch engine at every instant and writes its results atomically (temporary file, then
rename; ``_meta.json`` last), exactly as the single-process job does
(:func:`okrcore.jobs.partitions.recompute_partition`).  A partition holds whole alignment trees,
so its key results and objectives need nothing from elsewhere.  People may own items in several
partitions: each task writes its people's *items* (not partial sums), and the client
concatenates them in partition order and finishes them with the core's
:func:`okrcore.batch.engine.person_rollup`, which adds them in the order a single evaluation
of the whole dataset adds them -- so the result is bit-for-bit the single-machine result
(adding partial sums per partition would round differently).

A worker that dies mid-task loses nothing: the scheduler reruns the task elsewhere, the rerun
rewrites the same files, and a partition without ``_meta.json`` never counts.  The result
directory must be on storage every worker and the client can reach (a shared filesystem).

Install with ``pip install 'okrcore[dask]'`` (dask[distributed] and pyarrow).  ``okrcore recompute
--engine dask`` finds :func:`recompute_dataset` through its entry point (group
``okrcore.executors``, name ``dask``; :mod:`okrcore.jobs.adapters`).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Final

try:
    import dask  # noqa: F401
    import distributed
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError("okrcore_dask needs dask.distributed: pip install 'okrcore[dask]'"
                      ) from exc

from okrcore.batch.engine import check_threads
from okrcore.jobs.parquet import (
    Dataset,
    as_of_key,
    hold_snapshot,
    prune_snapshots,
    require_pyarrow,
)
from okrcore.jobs.partitions import finish_instants, recompute_partition
from okrcore.jobs.report import InstantReport, PartitionReport
from okrcore.policy import Policy

__all__ = ["DEFAULT_RETRIES", "clean_temporaries", "kill_once", "local_cluster",
           "recompute_dataset"]

DEFAULT_RETRIES: Final = 2
"""Times a task that *raised* is retried (a task whose worker *died* is rerun by the
scheduler, up to its ``allowed-failures``, 3 by default)."""


def kill_once(marker: str, directory: Path) -> None:
    """Fault drill: the first task that finds ``marker`` claims it and kills its own worker.

    Used as the ``fault`` hook of :func:`okrcore.jobs.partitions.recompute_partition`: the worker
    dies half-way through a partition's files (key results written, the rest not), after
    leaving a half-written temporary file behind, as a power cut would.  The claimed marker
    (``marker + ".claimed"``) records the partition directory.
    """
    try:
        os.rename(marker, f"{marker}.claimed")
    except OSError:
        return
    Path(f"{marker}.claimed").write_text(str(directory), encoding="utf-8")
    (directory / f".objectives.parquet.tmp-{os.getpid()}-dead").write_bytes(b"PAR1 half")
    os.kill(os.getpid(), signal.SIGKILL)


def local_cluster(workers: int = 2, **kwargs: Any) -> distributed.LocalCluster:
    """A LocalCluster of ``workers`` single-threaded worker processes on loopback."""
    options: dict[str, Any] = {"n_workers": workers, "threads_per_worker": 1,
                               "processes": True, "host": "127.0.0.1",
                               "dashboard_address": ":0"}
    options.update(kwargs)
    return distributed.LocalCluster(**options)


def clean_temporaries(out: str | os.PathLike[str], instants: Sequence[datetime],
                      snapshot: str = "*") -> int:
    """Remove temporary files left by dead workers in the instants' snapshots (default all)."""
    removed = 0
    for moment in instants:
        where = Path(out) / as_of_key(moment)
        for stray in where.glob(f"{snapshot}/partition=*/.*.tmp-*"):
            stray.unlink(missing_ok=True)
            removed += 1
    return removed


def _task(key: str, dataset: str, out: str, instants: Sequence[datetime], policy: Policy,
          kernel: str, incremental: bool, marker: str | None, threads: int | None = None,
          snapshot: str | None = None) -> list[PartitionReport]:
    fault: Callable[[Path], None] | None = (
        None if marker is None else partial(kill_once, marker))
    # one thread per task unless told: the cluster already runs a task per worker thread
    return recompute_partition(dataset, key, out, instants, policy, kernel=kernel,
                               incremental=incremental, fault=fault,
                               threads=1 if threads is None else threads,
                               snapshot=snapshot)


def recompute_dataset(dataset: str, out: str, instants: Sequence[datetime], policy: Policy,
                      *, scheduler: str | None = None, workers: int = 2,
                      client: distributed.Client | None = None, kernel: str = "numpy",
                      incremental: bool = False,
                      progress: Callable[[str, int, int], None] | None = None,
                      retries: int = DEFAULT_RETRIES, fault_marker: str | None = None,
                      threads: int | None = None
                      ) -> tuple[list[InstantReport], list[str], int]:
    """Recompute a Parquet dataset on a Dask cluster, partition by partition.

    Parameters
    ----------
    dataset, out : str
        The dataset directory and the result directory (shared by workers and client).
    instants : sequence of datetime
        The as-of instants.
    policy : Policy
        The policy.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); default: a
        :func:`local_cluster` of ``workers`` processes, closed at the end.
    client : distributed.Client, optional
        Use this client instead (takes precedence over ``scheduler``).
    kernel, incremental, progress
        As for :func:`okrcore.jobs.run.recompute`.
    retries : int
        Retries of a task that raised.
    fault_marker : str, optional
        Fault drill: see :func:`kill_once`.
    threads : int, optional
        Threads of each task's evaluations (default 1: the cluster already runs one task
        per worker thread, so more would oversubscribe its cores).

    Returns
    -------
    reports : list of InstantReport
        One per instant whose partitions all succeeded (people combined).
    failures : list of str
        One line per partition that failed after its retries, and per instant left incomplete.
    written : int
        Partition results written (reused ones not counted).
    """
    require_pyarrow()
    check_threads(threads)
    ds = Dataset.open(dataset)
    own_cluster = None
    if client is None:
        if scheduler is None:
            own_cluster = local_cluster(workers)
            client = distributed.Client(own_cluster)
        else:
            client = distributed.Client(scheduler)
    own_client = own_cluster is not None or scheduler is not None
    try:
        with hold_snapshot(out) as snapshot:
            return _run(client, ds, dataset, out, instants, policy, kernel, incremental,
                        progress, retries, fault_marker, threads, snapshot)
    finally:
        if own_client:
            client.close()
        if own_cluster is not None:
            own_cluster.close()


def _run(client: distributed.Client, ds: Dataset, dataset: str, out: str,
         instants: Sequence[datetime], policy: Policy, kernel: str, incremental: bool,
         progress: Callable[[str, int, int], None] | None, retries: int,
         fault_marker: str | None, threads: int | None, snapshot: str
         ) -> tuple[list[InstantReport], list[str], int]:
    """One run on a connected client: every partition into ``snapshot``, then publish."""
    if not incremental:  # what failed runs left is of no use to a full run: free it
        for moment in instants:
            prune_snapshots(out, moment)
    token = f"{os.getpid()}-{time.monotonic_ns()}"
    futures = client.map(_task, list(ds.partitions), dataset=str(dataset), out=str(out),
                         instants=list(instants), policy=policy, kernel=kernel,
                         incremental=incremental, marker=fault_marker, retries=retries,
                         threads=threads, snapshot=snapshot,
                         key=[f"okrcore-partition-{k}-{token}" for k in ds.partitions],
                         pure=False)
    by_instant: dict[datetime, list[PartitionReport]] = {m: [] for m in instants}
    failures: list[str] = []
    total = len(futures)
    if progress:
        progress("compute", 0, total)
    for done, future in enumerate(distributed.as_completed(futures), start=1):
        key = ds.partitions[futures.index(future)]
        try:
            reports: list[PartitionReport] = future.result()
        except Exception as exc:
            failures.append(f"partition {key!r}: {type(exc).__name__}: {exc}")
        else:
            for report in reports:
                by_instant[report.as_of].append(report)
        if progress:
            progress("compute", done, total)
    clean_temporaries(out, instants, snapshot)
    return finish_instants(str(dataset), str(out), instants, by_instant, failures,
                           progress, snapshot=snapshot)
