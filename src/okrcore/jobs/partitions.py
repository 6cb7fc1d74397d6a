"""Datasets partition by partition: the part of a recompute job an executor runs anywhere.

:func:`recompute_partition` evaluates one partition of a Parquet dataset at every instant and
writes its results; :func:`finish_people` and :func:`finish_instants` combine the people of all
partitions and publish each complete instant.  The local job runs the partitions one after the
other; an executor (the Dask adapter, found through the ``okrcore.executors`` entry points of
:mod:`okrcore.jobs.adapters`) runs them as tasks of a cluster and calls the same functions.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import attrs
import numpy as np

from okrcore import errors as E
from okrcore.batch.engine import person_items, person_rollup
from okrcore.evaluate import isoformat
from okrcore.jobs._arrow import require_pyarrow
from okrcore.jobs.parquet import Dataset
from okrcore.jobs.report import (
    COLOURS,
    InstantReport,
    PartitionReport,
    Progress,
    RowError,
    _colour_counts,
    _evaluate,
    _row_errors,
)
from okrcore.jobs.snapshots import (
    hold_snapshot,
    new_snapshot,
    prune_snapshots,
    published,
    read_items,
    reuse_partition,
    snapshot_dir,
    write_partition_results,
    write_people,
)
from okrcore.policy import Policy

__all__ = ["dataset_local", "finish_instants", "finish_people", "recompute_partition"]

_TABLE_NAMES: Final = {"kr": "key_results", "obj": "objectives"}


def _open(dataset: str | os.PathLike[str] | Dataset) -> Dataset:
    return dataset if isinstance(dataset, Dataset) else Dataset.open(dataset)


def recompute_partition(dataset: str | os.PathLike[str] | Dataset, key: str,
                        out: str | os.PathLike[str], instants: Sequence[datetime],
                        policy: Policy, *, kernel: str = "numpy", incremental: bool = False,
                        fault: Callable[[Path], None] | None = None,
                        threads: int | None = None,
                        snapshot: str | None = None) -> list[PartitionReport]:
    """Recompute one partition of a dataset at every instant and write its results.

    The results go to the run's ``snapshot`` of each instant, beside the published results,
    which stay as they are until the run publishes (:func:`finish_people`).  Each file is
    written to a temporary name and renamed into place, and ``_meta.json`` comes last, so a
    partition that dies half-way leaves no result that counts, and running it again (a retry)
    writes the same files again: no loss, no duplicates.

    Parameters
    ----------
    dataset, key, out : str
        The dataset directory, the partition, and the result directory.
    instants : sequence of datetime
        The as-of instants.
    policy : Policy
        The policy.
    kernel : {"numpy", "numba"}
        The batch kernel.
    incremental : bool
        Reuse the results of an instant whose ``_meta.json`` shows the same input fingerprint
        (SHA-256 of the partition's files, people and units) and policy.
    fault : callable, optional
        Called as ``fault(directory)`` after the partition's key result file is written and
        before the rest (fault drills: ``okrcore_dask`` kills a worker there in its tests).
    threads : int, optional
        Threads of each evaluation (:func:`okrcore.batch.evaluate_frame`; default: the CPUs
        this process may use).
    snapshot : str, optional
        The run's snapshot (:func:`okrcore.jobs.snapshots.hold_snapshot`); every partition of
        a run, and :func:`finish_people`, take the same.  Default: a new one.

    Returns
    -------
    list of PartitionReport
        One per instant, in order.
    """
    t0 = time.perf_counter()
    snapshot = snapshot or new_snapshot()
    ds = _open(dataset)
    fingerprint = ds.fingerprint(key)
    todo = []
    reports: dict[datetime, PartitionReport] = {}
    wanted = {"fingerprint": fingerprint, "policy": policy.to_json()}

    def same_input(meta: Mapping[str, Any]) -> bool:
        return all(meta.get(k) == v for k, v in wanted.items())

    for moment in instants:
        meta = (reuse_partition(out, moment, key, snapshot, same_input) if incremental
                else None)
        if meta is not None:
            reports[moment] = _reused(key, moment, meta)
        else:
            todo.append(moment)
    frame = ds.read_partition(key) if todo else None
    seconds_read = time.perf_counter() - t0
    for moment in todo:
        assert frame is not None
        t1 = time.perf_counter()
        result = _evaluate(frame, moment, policy, kernel, threads)
        items = person_items(frame, result.obj_error, result.obj_progress, result.kr_error,
                             result.kr_progress)
        errors = _row_errors(frame, result, key)
        t2 = time.perf_counter()
        report = PartitionReport(
            key, moment, frame.n_kr, frame.n_obj,
            _colour_counts(result.obj_colour, result.obj_error), errors,
            seconds_read / max(len(todo), 1), t2 - t1, 0.0)
        write_partition_results(out, moment, key, frame, result, slice(None), slice(None),
                                items, report.to_meta(fingerprint, policy), before_rest=fault,
                                snapshot=snapshot)
        reports[moment] = attrs.evolve(report, seconds_write=time.perf_counter() - t2)
    return [reports[m] for m in instants]


def _reused(key: str, moment: datetime, meta: Mapping[str, Any]) -> PartitionReport:
    errors = tuple(RowError(e["table"], e["key"], E.OkrError(e["code"], e["path"],
                                                              e["message"]), e["partition"])
                   for e in meta.get("errors", ()))
    return PartitionReport(key, moment, int(meta["key_results"]), int(meta["objectives"]),
                           dict(meta["objective_colours"]), errors, 0.0, 0.0, 0.0, reused=True)


def finish_people(dataset: str | os.PathLike[str] | Dataset, out: str | os.PathLike[str],
                  moment: datetime, partitions: Sequence[str] | None = None,
                  snapshot: str | None = None) -> tuple[int, tuple[RowError, ...]]:
    """Combine the people's items of every partition (in manifest order) and write people.

    People go to the run's ``snapshot`` of the instant, which is then published (default:
    recombine the published snapshot).

    This is what makes a partitioned run equal to one evaluation of the whole dataset: the
    items are concatenated in the order the whole frame lists them, and
    :func:`okrcore.batch.engine.person_rollup` adds them in that order.

    Returns
    -------
    people : int
        People written (everyone who owns something).
    errors : tuple of RowError
        People whose items have an error (``depends_on_invalid``, naming the item).
    """
    pa = require_pyarrow()
    ds = _open(dataset)
    keys = list(ds.partitions if partitions is None else partitions)
    snapshot_path = snapshot_dir(out, moment, snapshot)  # (none published: FileNotFoundError)
    if snapshot is None:
        snapshot = str((published(out, moment) or {}).get("snapshot") or "")
    parts = [read_items(out, moment, k, snapshot) for k in keys]
    who = np.concatenate([p[0] for p in parts]).astype(np.int64)
    bad = np.concatenate([p[1] for p in parts]).astype(bool)
    prog = np.concatenate([p[2] for p in parts]).astype(np.float64)
    position = np.arange(who.shape[0], dtype=np.int64)
    progress, counted, first_bad, seen = person_rollup(who, bad, prog, position,
                                                       len(ds.people))
    bounds = np.concatenate([[0], np.cumsum([p[0].shape[0] for p in parts])])
    n_people = len(ds.people)
    err_part: list[str | None] = [None] * n_people
    err_table: list[str | None] = [None] * n_people
    err_id: list[str | None] = [None] * n_people
    errors = []
    id_cache: dict[tuple[str, str], list[str]] = {}
    for person in np.flatnonzero(first_bad >= 0).tolist():
        pos = int(first_bad[person])
        p = int(np.searchsorted(bounds, pos, side="right")) - 1
        ref = int(parts[p][3][pos - bounds[p]])
        where = snapshot_path / f"partition={keys[p]}"
        if (keys[p], "kr") not in id_cache:
            id_cache[(keys[p], "kr")] = pa.parquet.read_table(
                where / "key_results.parquet", columns=["id"]).column("id").to_pylist()
            id_cache[(keys[p], "obj")] = pa.parquet.read_table(
                where / "objectives.parquet", columns=["id"]).column("id").to_pylist()
        n_kr = len(id_cache[(keys[p], "kr")])
        table = "obj" if ref >= n_kr else "kr"
        ident = id_cache[(keys[p], table)][ref - n_kr if table == "obj" else ref]
        err_part[person], err_table[person], err_id[person] = keys[p], _TABLE_NAMES[table], ident
        name = ds.people[person]
        kind = "objective" if table == "obj" else "key result"
        errors.append(RowError("people", name, E.OkrError(
            E.DEPENDS_ON_INVALID, f"people.{name}",
            f"person {name!r} owns {kind} {ident!r} (partition {keys[p]!r}), which has an "
            "error"), keys[p]))
    write_people(out, moment, ds.people, progress, counted, seen, err_part, err_table, err_id,
                 keys, snapshot=snapshot)
    return int(np.count_nonzero(seen)), tuple(errors)


def _combine(moment: datetime, parts: Sequence[PartitionReport], people: int,
             person_errors: Iterable[RowError], seconds_people: float) -> InstantReport:
    colours = dict.fromkeys(COLOURS, 0)
    for p in parts:
        for k, v in p.objective_colours.items():
            colours[k] += v
    return InstantReport(
        moment, sum(p.key_results for p in parts), sum(p.objectives for p in parts), people,
        colours, tuple(e for p in parts for e in p.errors) + tuple(person_errors),
        sum(p.seconds_read for p in parts), sum(p.seconds_compute for p in parts),
        sum(p.seconds_write for p in parts) + seconds_people, partitions=len(parts),
        reused=sum(p.reused for p in parts))


def dataset_local(dataset: str, out: str, instants: Sequence[datetime], policy: Policy,
                  kernel: str, incremental: bool, progress: Progress | None,
                  threads: int | None = None) -> tuple[list[InstantReport], list[str], int]:
    """Recompute every partition of a dataset in this process, then finish every instant.

    The local executor of ``okrcore recompute`` (``--engine local``): the partitions one after
    the other (:func:`recompute_partition`), all into one snapshot, then
    :func:`finish_instants`.  A partition that cannot be read is a failure, not an abort.

    Returns
    -------
    reports, failures, written
        As :func:`finish_instants` returns them.
    """
    ds = _open(dataset)
    by_instant: dict[datetime, list[PartitionReport]] = {m: [] for m in instants}
    failures: list[str] = []
    total = len(ds.partitions)
    with hold_snapshot(out) as snapshot:
        if not incremental:  # what failed runs left is of no use to a full run: free it
            for moment in instants:
                prune_snapshots(out, moment)
        for done, key in enumerate(ds.partitions):
            if progress:
                progress("compute", done, total)
            try:
                for report in recompute_partition(ds, key, out, instants, policy,
                                                  kernel=kernel, incremental=incremental,
                                                  threads=threads, snapshot=snapshot):
                    by_instant[report.as_of].append(report)
            except (OSError, ValueError, KeyError) as exc:  # the partition cannot be read
                failures.append(f"partition {key!r}: {type(exc).__name__}: {exc}")
        if progress:
            progress("compute", total, total)
        return finish_instants(ds, out, instants, by_instant, failures, progress,
                               snapshot=snapshot)


def finish_instants(dataset: str | Dataset, out: str, instants: Sequence[datetime],
                    by_instant: Mapping[datetime, Sequence[PartitionReport]],
                    failures: list[str], progress: Progress | None,
                    snapshot: str | None = None
                    ) -> tuple[list[InstantReport], list[str], int]:
    """Finish people for every instant whose partitions all succeeded; report the others.

    An instant is published (its ``snapshot`` becomes its results) only when every partition
    and its people were written; otherwise its previous results stay as they were.

    Returns the instant reports, the failures, and how many partition results were written
    (complete instants or not: a partial failure has written some).
    """
    ds = _open(dataset)
    reports = []
    for i, moment in enumerate(instants):
        if progress:
            progress("people", i, len(instants))
        parts = sorted(by_instant[moment], key=lambda r: ds.partitions.index(r.key))
        if len(parts) != len(ds.partitions):
            failures.append(f"as of {isoformat(moment)}: {len(ds.partitions) - len(parts)} "
                            "partition(s) failed; people not combined")
            continue
        t0 = time.perf_counter()
        try:
            people, person_errors = finish_people(ds, out, moment, snapshot=snapshot)
        except OSError as exc:
            failures.append(f"as of {isoformat(moment)}: people: {exc}")
            continue
        reports.append(_combine(moment, parts, people, person_errors,
                                time.perf_counter() - t0))
    if progress:
        progress("people", len(instants), len(instants))
    written = sum(1 for parts in by_instant.values() for p in parts if not p.reused)
    return reports, failures, written
