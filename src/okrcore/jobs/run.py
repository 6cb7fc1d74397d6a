"""The recompute job behind ``okrcore recompute``: read, evaluate per instant, write, report.

Sources and sinks are told apart by their spelling (:func:`kind_of`): a database URL
(``sqlite:///x.db``, ``postgresql://...``), a Parquet dataset directory, a workbook
(``.xlsx``, ``.xlsm``, ``.ods``) or an interchange document (``.json`` or ``-``).  Documents and
datasets are the core's own; databases, workbooks and the Dask executor are adapters, found
through entry points (:mod:`okrcore.jobs.adapters`).  Every number comes from the batch engine;
this module only moves columns and counts what happened.  The reports are in
:mod:`okrcore.jobs.report` and the dataset partitions in :mod:`okrcore.jobs.partitions` (both
re-exported here).
"""

from __future__ import annotations

import errno
import glob
import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import attrs
import numpy as np

from okrcore import errors as E
from okrcore.batch.convert import errors_of, to_evaluation
from okrcore.batch.engine import BatchResult, check_threads, person_items
from okrcore.batch.frame import OrgFrame
from okrcore.evaluate import isoformat
from okrcore.interchange import loads
from okrcore.jobs import adapters
from okrcore.jobs._arrow import as_of_key, is_dataset
from okrcore.jobs.adapters import SinkWriteError, SourceData, SourceReadError, StoreRefusedError
from okrcore.jobs.parquet import Dataset
from okrcore.jobs.partitions import (
    dataset_local,
    finish_instants,
    finish_people,
    recompute_partition,
)
from okrcore.jobs.report import (
    COLOURS,
    EXIT_FAILED,
    EXIT_ITEM_ERRORS,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    KINDS,
    InstantReport,
    JobError,
    JobReport,
    PartitionReport,
    Progress,
    RowError,
    _colour_counts,
    _evaluate,
    _row_errors,
)
from okrcore.jobs.snapshots import hold_snapshot, write_partition_results, write_people
from okrcore.model import Document
from okrcore.policy import Policy

__all__ = [
    "COLOURS",
    "EXIT_FAILED",
    "EXIT_ITEM_ERRORS",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "KINDS",
    "InstantReport",
    "JobError",
    "JobReport",
    "PartitionReport",
    "RowError",
    "finish_instants",
    "finish_people",
    "kind_of",
    "recompute",
    "recompute_partition",
]

_WORKBOOK_SUFFIXES: Final = (".xlsx", ".xlsm", ".ods")


def kind_of(spec: str, *, output: bool = False) -> str:
    """The kind of a source or sink: ``database``, ``dataset``, ``document`` or ``workbook``.

    A URL is a database; an existing directory with a manifest (or, for an output, any path
    that is not a document or workbook) is a dataset; ``.xlsx`` / ``.xlsm`` / ``.ods`` a
    workbook; anything else a document.
    """
    if "://" in spec:
        return "database"
    lower = spec.lower()
    if lower.endswith(_WORKBOOK_SUFFIXES) or (not output and lower.endswith(".csv")):
        return "workbook"  # a source .csv: one sheet of a workbook exported as csv files
    if spec == "-" or lower.endswith(".json"):
        return "document"
    if is_dataset(spec) or (output and not Path(spec).is_file()):
        return "dataset"
    if Path(spec).is_dir():
        raise JobError(f"{spec}: a directory without {'_okrcore_dataset.json'} is not a dataset")
    return "document"


# ------------------------------------------------------------------------------------------
# whole organisations in memory (documents, workbooks) and databases
# ------------------------------------------------------------------------------------------


def _read_document(spec: str) -> Document:
    import sys

    try:
        text = sys.stdin.buffer.read() if spec == "-" else Path(spec).read_bytes()
    except OSError as exc:
        raise JobError(f"cannot read {spec}: {exc.strerror}") from None
    try:
        return loads(text)
    except E.DocumentError as exc:
        raise JobError(f"{spec}: {exc}") from None


def _read_whole(spec: str, kind: str) -> SourceData:
    """A document, or a whole organisation read by the source adapter of ``kind``."""
    if kind == "document":
        return SourceData(_read_document(spec))
    source = adapters.source(kind)
    try:
        return source.read(spec)
    except SourceReadError as exc:
        raise JobError(str(exc)) from None


class _StoreFailedError(Exception):
    """The organisation could not be stored in the output database (exit 4)."""


def _store(url: str, document: Document) -> None:
    """Store a whole organisation in a database (the ``database`` store's ``store``).

    The adapter refuses items that could not be read: nothing is written then.
    """
    store: adapters.Store = adapters.sink("database")
    try:
        opened = store.open(url)
    except SourceReadError as exc:  # "URL: reason"
        raise _StoreFailedError(f"cannot store the organisation in {exc} (nothing was "
                                "written)") from None
    try:
        with opened as session:
            session.store(document)
    except StoreRefusedError as exc:
        raise JobError(str(exc)) from None
    except SinkWriteError as exc:  # read-only, full disk: exit 4
        raise _StoreFailedError(str(exc)) from None


def _write_json(path: str, payload: Any) -> None:
    import sys

    text = json.dumps(payload, indent=2, allow_nan=False) + "\n"
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()  # a full device fails here, as a failure of this instant
        return
    _atomic_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _atomic_file(path: str, write: Callable[[Path], Any]) -> None:
    """Write a file through ``write(temporary path)`` and rename it into place.

    The temporary file is in the same directory and keeps the suffix (writers choose the
    format by it); it is removed when writing fails, so a failed or full-disk write leaves
    the previous file as it was and no stray file behind.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.stat().st_mode & 0o222:
        # a rename would replace it whatever its mode (and root ignores modes): a read-only
        # result file is protected, as an in-place write would be refused
        raise PermissionError(errno.EACCES, "the file is read-only", str(target))
    tmp = target.with_name(f".{target.stem}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
                           f"{target.suffix}")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    _remove_dead_temporaries(target)


def _remove_dead_temporaries(target: Path) -> None:
    """Remove the temporary files a killed run left beside ``target`` (its process is gone).

    Temporary files of live processes (a concurrent run writing the same file) are kept.
    """
    prefix = f".{target.stem}.tmp-"
    for stray in target.parent.glob(f"{glob.escape(prefix)}*{glob.escape(target.suffix)}"):
        pid = stray.name[len(prefix):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            stray.unlink(missing_ok=True)
        except OSError:  # alive (another user's process): keep it
            continue


def _output_path(template: str, moment: datetime, several: bool) -> str:
    if "{as_of}" in template:
        return template.replace("{as_of}", as_of_key(moment).split("=", 1)[1])
    if several:
        raise JobError(f"{template}: several instants need '{{as_of}}' in the output name")
    return template


def _whole(spec: str, kind: str, out: str | None, out_kind: str | None,
           instants: Sequence[datetime] | None, policy: Policy | None, kernel: str,
           progress: Progress | None, threads: int | None = None
           ) -> tuple[Policy, list[InstantReport], list[str]]:
    t0 = time.perf_counter()
    data = _read_whole(spec, kind)
    document = data.document
    policy = policy or document.policy
    instants = instants or (document.as_of,)
    frame = OrgFrame.from_document(document)
    seconds_read = time.perf_counter() - t0
    reports, failures = [], []
    for i, moment in enumerate(instants):
        if progress:
            progress("compute", i, len(instants))
        t1 = time.perf_counter()
        result = _evaluate(frame, moment, policy, kernel, threads)
        errors = _row_errors(frame, result, None)
        person_errors = tuple(
            RowError("people", err.path.split(".", 1)[1], err)
            for err in (errors_of(frame, result) if np.any(result.person_error_ref >= 0)
                        else ()) if err.path.startswith("people."))
        t2 = time.perf_counter()
        try:
            _write_whole(out, out_kind, document, frame, result, moment, policy,
                         several=len(instants) > 1)
        except OSError as exc:
            failures.append(f"as of {isoformat(moment)}: cannot write {out}: {exc}")
            continue
        reports.append(InstantReport(
            moment, frame.n_kr, frame.n_obj, int(np.count_nonzero(result.person_seen)),
            _colour_counts(result.obj_colour, result.obj_error),
            data.located(errors + person_errors),
            seconds_read if i == 0 else 0.0, t2 - t1, time.perf_counter() - t2))
    if progress:
        progress("compute", len(instants), len(instants))
    return policy, reports, failures


def _write_whole(out: str | None, out_kind: str | None, document: Document, frame: OrgFrame,
                 result: BatchResult, moment: datetime, policy: Policy, *,
                 several: bool) -> None:
    if out is None:
        return
    if out_kind == "document":
        evaluation = to_evaluation(frame, result)
        _write_json(_output_path(out, moment, several), evaluation.to_json())
    elif out_kind == "workbook":
        evaluation = to_evaluation(frame, result)
        dated = attrs.evolve(document, as_of=moment, policy=policy)
        sink: adapters.FileSink = adapters.sink("workbook")
        _atomic_file(_output_path(out, moment, several),
                     lambda tmp: sink.write(tmp, dated, evaluation))
    elif out_kind == "dataset":
        items = person_items(frame, result.obj_error, result.obj_progress, result.kr_error,
                             result.kr_progress)
        with hold_snapshot(out) as snapshot:
            write_partition_results(out, moment, "document", frame, result, slice(None),
                                    slice(None), items, {"as_of": isoformat(moment),
                                                         "policy": policy.to_json()},
                                    snapshot=snapshot)
            names = list(frame.person_names or ())
            refs = result.person_error_ref.tolist()
            ids_kr, ids_obj = list(frame.kr_ids or ()), list(frame.obj_ids or ())
            n = frame.n_kr
            write_people(out, moment, names, result.person_progress, result.person_items,
                         result.person_seen,
                         [None if r < 0 else "document" for r in refs],
                         [None if r < 0 else ("objectives" if r >= n else "key_results")
                          for r in refs],
                         [None if r < 0 else (ids_obj[r - n] if r >= n else ids_kr[r])
                          for r in refs], ["document"], snapshot=snapshot)


def _database(url: str, instants: Sequence[datetime], policy: Policy | None,
              incremental: bool, progress: Progress | None, kernel: str = "numpy",
              threads: int | None = None) -> tuple[Policy, list[InstantReport], list[str]]:
    """Recompute a database in place at every instant (the ``database`` store)."""
    store: adapters.Store = adapters.sink("database")
    reports: list[InstantReport] = []
    failures: list[str] = []
    used = policy or Policy()
    try:
        opened = store.open(url)
    except SourceReadError as exc:
        raise JobError(str(exc)) from None
    with opened as session:
        for moment in instants:
            try:
                got, used = session.recompute(as_of=moment, policy=policy, incremental=incremental,
                                        progress=progress, kernel=kernel, threads=threads)
            except SourceReadError as exc:  # unreadable: exit 2 when nothing was written yet
                if not reports and not failures and moment == instants[0]:
                    raise JobError(str(exc)) from None
                failures.append(f"as of {isoformat(moment)}: {exc.reason}")
                continue
            except SinkWriteError as exc:
                # read but not written (read-only, full disk): a failure of this instant (exit
                # 4 when no instant was written, 3 when some were); the message is one line
                failures.append(f"as of {isoformat(moment)}: {exc}")
                continue
            reports.append(got)
    return used, reports, failures


def recompute(source: str, *, output: str | None = None,
              instants: Sequence[datetime] | None = None, policy: Policy | None = None,
              incremental: bool = False, engine: str = "local", scheduler: str | None = None,
              workers: int = 2, kernel: str = "numpy", progress: Progress | None = None,
              threads: int | None = None) -> JobReport:
    """Run a recompute job: read ``source``, evaluate at every instant, write ``output``.

    Parameters
    ----------
    source : str
        Document (``.json`` / ``-``), workbook, Parquet dataset directory, or database URL.
    output : str, optional
        Where to write results, of any kind (see :func:`kind_of`); ``None``: a database
        source stores its results in itself, other sources write nothing (a dry run that
        still reports).  A document or workbook output for several instants needs
        ``{as_of}`` in its name.
    instants : sequence of datetime, optional
        The as-of instants (see :func:`okrcore.jobs.asof.parse_as_of`).  Default, like the
        policy: the source's own ``as_of`` (a document's or workbook's, a dataset manifest's);
        the current instant for a database (it holds the live organisation, not a snapshot)
        and for a dataset whose manifest records none.
    policy : Policy, optional
        Default: the source's own (document, workbook, dataset manifest), else
        ``betterworks``.
    incremental : bool
        Datasets: reuse partitions whose inputs did not change; databases: the adapter's
        incremental recompute; documents and workbooks are small and always recomputed.
    engine : {"local", "dask"}
        ``dask`` (datasets only) runs partitions on a Dask cluster (``okrcore_dask``).
    scheduler : str, optional
        Dask scheduler address; default: a local cluster of ``workers`` processes.
    workers : int
        Workers of the local Dask cluster.
    kernel : {"numpy", "numba"}
        The batch kernel.
    progress : callable, optional
        ``progress(phase, done, total)``.
    threads : int, optional
        Threads of each evaluation (:func:`okrcore.batch.evaluate_frame`).  Default: the
        CPUs this process may use with the local engine, and 1 per task with ``dask``, whose
        workers already run one task per worker thread.

    Returns
    -------
    JobReport
        Per instant: counts, objective colours, row errors, seconds read / compute / write.

    Raises
    ------
    JobError
        Usage problems and unreadable inputs (nothing was written).
    """
    t0 = time.perf_counter()
    kind = kind_of(source)
    out_kind = None if output is None else kind_of(output, output=True)
    if instants is not None and not instants:
        raise JobError("no as-of instant")
    try:
        check_threads(threads)
    except ValueError as exc:
        raise JobError(str(exc)) from None
    if engine not in ("local", "dask"):
        raise JobError(f"engine must be 'local' or 'dask', got {engine!r}")
    if engine == "dask" and kind != "dataset":
        raise JobError("--engine dask needs a Parquet dataset as input")
    failures: list[str]
    written = 0
    if kind == "dataset":
        try:
            ds = Dataset.open(source)
        except E.DocumentError as exc:
            raise JobError(str(exc)) from None
        used = policy or ds.policy
        instants = instants or (ds.as_of or datetime.now(UTC),)
        if output is None or out_kind != "dataset":
            raise JobError("a dataset is recomputed into a result directory: give --output DIR "
                           "(documents, workbooks and databases take whole organisations)")
        if Path(output).resolve() == Path(source).resolve():
            raise JobError("--output must not be the dataset itself")
        if engine == "dask":
            run_elsewhere = adapters.executor("dask")
            try:
                reports, failures, written = run_elsewhere(
                    source, output, instants, used, scheduler=scheduler, workers=workers,
                    kernel=kernel, incremental=incremental, progress=progress,
                    threads=threads)
            except (OSError, TimeoutError) as exc:  # the cluster cannot be reached
                reports, failures = [], [f"dask scheduler {scheduler or '(local)'}: {exc}"]
        else:
            reports, failures, written = dataset_local(source, output, instants, used,
                                                       kernel, incremental, progress, threads)
    elif kind == "database" and (output is None or output == source):
        used, reports, failures = _database(source, instants or (datetime.now(UTC),), policy,
                                            incremental, progress, kernel, threads)
    elif output is not None and out_kind == "database":
        # a document or workbook into a database: store the organisation there (replacing
        # what was stored, in one transaction), then recompute it in the database
        if kind == "database":
            raise JobError("a database is recomputed into itself: give it as the input only")
        t_read = time.perf_counter()
        data = _read_whole(source, kind)
        document = data.document
        if kind == "workbook":
            dropped = data.located(())
            if dropped:  # like an invalid item: the store refuses, so nothing is lost
                raise JobError(f"cannot store the organisation in {output}: {len(dropped)} "
                               f"row(s) of {source} could not be imported, first "
                               f"{dropped[0].error.message} (nothing was written)")
        try:
            _store(output, document)
        except _StoreFailedError as exc:
            return JobReport(source, output, engine, policy or document.policy, (),
                             (str(exc),), time.perf_counter() - t0, 0)
        used, reports, failures = _database(output, instants or (document.as_of,),
                                            policy or document.policy,
                                            incremental=False, progress=progress, kernel=kernel,
                                            threads=threads)
        if reports:
            reports[0] = attrs.evolve(
                reports[0], seconds_read=reports[0].seconds_read + time.perf_counter() - t_read)
    else:
        used, reports, failures = _whole(source, kind, output, out_kind, instants, policy,
                                         kernel, progress, threads)
    return JobReport(source, output, engine, used, tuple(reports), tuple(failures),
                     time.perf_counter() - t0, written)
