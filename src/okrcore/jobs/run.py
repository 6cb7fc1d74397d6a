"""The recompute job behind ``okrcore recompute``: read, evaluate per instant, write, report.

Sources and sinks are told apart by their spelling (:func:`kind_of`): a database URL
(``sqlite:///x.db``, ``postgresql://...``), a Parquet dataset directory, a workbook
(``.xlsx``, ``.xlsm``, ``.ods``) or an interchange document (``.json`` or ``-``).  Every number
comes from the batch engine; this module only moves columns and counts what happened.
"""

from __future__ import annotations

import errno
import glob
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import attrs
import numpy as np

from okrcore import errors as E
from okrcore.batch import engine as G
from okrcore.batch.convert import errors_of, to_evaluation
from okrcore.batch.engine import (
    BatchResult,
    check_threads,
    evaluate_frame,
    person_items,
    person_rollup,
)
from okrcore.batch.frame import OrgFrame
from okrcore.evaluate import instant_us, isoformat
from okrcore.interchange import loads
from okrcore.jobs._text import one_line
from okrcore.jobs.parquet import Dataset
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
    "finish_people",
    "kind_of",
    "recompute",
    "recompute_partition",
]

EXIT_OK: Final = 0
"""Every instant was computed and written; no row has an error."""
EXIT_ITEM_ERRORS: Final = 1
"""Completed: everything was written, but some rows have errors (listed in the summary)."""
EXIT_USAGE: Final = 2
"""Nothing was done: a wrong command line, or an input that cannot be read."""
EXIT_PARTIAL: Final = 3
"""Partial failure: some instants or partitions were written, others failed; rerun (the job is
idempotent, and ``--incremental`` redoes only what is missing)."""
EXIT_FAILED: Final = 4
"""The input was read but no result could be written (output not writable, cluster gone)."""

KINDS: Final = ("database", "dataset", "document", "workbook")
"""Kinds of sources and sinks."""
COLOURS: Final = ("green", "yellow", "red", "none")
"""Keys of the objective colour counts (``none``: no colour, e.g. null progress or an error)."""

_WORKBOOK_SUFFIXES: Final = (".xlsx", ".xlsm", ".ods")
_TABLE_NAMES: Final = {"kr": "key_results", "obj": "objectives"}

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``; phases ``read``, ``compute``, ``write``, ``people``."""


class JobError(Exception):
    """The job cannot run: a usage problem or an unreadable input (exit :data:`EXIT_USAGE`)."""


@attrs.frozen
class RowError:
    """One row that could not be evaluated (the same shape as ``okrcore_sqlalchemy``'s)."""

    table: str
    """``key_results``, ``objectives``, ``people`` (or ``check_ins``)."""
    key: str
    """The row's id (a person's name for ``people``)."""
    error: E.OkrError
    partition: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{table, key, partition, code, path, message}``."""
        return {"table": self.table, "key": self.key, "partition": self.partition,
                **self.error.to_json()}


@attrs.frozen
class PartitionReport:
    """What one partition did for one instant."""

    key: str
    as_of: datetime
    key_results: int
    objectives: int
    objective_colours: Mapping[str, int]
    errors: tuple[RowError, ...]
    seconds_read: float
    seconds_compute: float
    seconds_write: float
    reused: bool = False
    """True when ``--incremental`` found this partition's results up to date."""

    def to_meta(self, fingerprint: str, policy: Policy) -> dict[str, Any]:
        """The ``_meta.json`` written beside the partition's results."""
        return {"fingerprint": fingerprint, "policy": policy.to_json(),
                "as_of": isoformat(self.as_of), "key_results": self.key_results,
                "objectives": self.objectives, "objective_colours": dict(self.objective_colours),
                "errors": [e.to_json() for e in self.errors]}


@attrs.frozen
class InstantReport:
    """The summary of one as-of instant."""

    as_of: datetime
    key_results: int
    objectives: int
    people: int
    objective_colours: Mapping[str, int]
    errors: tuple[RowError, ...]
    seconds_read: float
    seconds_compute: float
    seconds_write: float
    partitions: int = 1
    reused: int = 0
    skipped_newer: int = 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"as_of": isoformat(self.as_of), "key_results": self.key_results,
                "objectives": self.objectives, "people": self.people,
                "objective_colours": dict(self.objective_colours),
                "errors": [e.to_json() for e in self.errors],
                "seconds": {"read": self.seconds_read, "compute": self.seconds_compute,
                            "write": self.seconds_write},
                "partitions": self.partitions, "reused": self.reused,
                "skipped_newer": self.skipped_newer}


@attrs.frozen
class JobReport:
    """The summary of a whole run (all instants)."""

    source: str
    output: str | None
    engine: str
    policy: Policy
    instants: tuple[InstantReport, ...]
    failures: tuple[str, ...] = ()
    seconds_total: float = 0.0
    partial_outputs: int = 0
    """Partition results written for instants that are not complete (a partial failure)."""

    @property
    def exit_code(self) -> int:
        """The exit code for a scheduler (see ``docs/operating.rst``).

        :data:`EXIT_OK`, :data:`EXIT_ITEM_ERRORS`, :data:`EXIT_PARTIAL` or :data:`EXIT_FAILED`.
        """
        if self.failures:
            return EXIT_PARTIAL if self.instants or self.partial_outputs else EXIT_FAILED
        if any(r.errors for r in self.instants):
            return EXIT_ITEM_ERRORS
        return EXIT_OK

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``okrcore recompute --json`` prints)."""
        def total(name: str) -> float:
            return float(sum(getattr(r, name) for r in self.instants))

        return {"source": self.source, "output": self.output, "engine": self.engine,
                "policy": self.policy.to_json(), "exit_code": self.exit_code,
                "instants": [r.to_json() for r in self.instants],
                "failures": list(self.failures),
                "seconds": {"read": total("seconds_read"), "compute": total("seconds_compute"),
                            "write": total("seconds_write"), "total": self.seconds_total}}


def kind_of(spec: str, *, output: bool = False) -> str:
    """The kind of a source or sink: ``database``, ``dataset``, ``document`` or ``workbook``.

    A URL is a database; an existing directory with a manifest (or, for an output, any path
    that is not a document or workbook) is a dataset; ``.xlsx`` / ``.xlsm`` / ``.ods`` a
    workbook; anything else a document.
    """
    from okrcore.jobs.parquet import is_dataset

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


def _colour_counts(colour: Any, error: Any) -> dict[str, int]:
    codes = np.where(np.asarray(error) != 0, G.COLOUR_NONE, np.asarray(colour))
    counts = np.bincount(codes.astype(np.int64) + 1, minlength=4)
    return {"none": int(counts[0]), "green": int(counts[1]), "yellow": int(counts[2]),
            "red": int(counts[3])}


def _row_errors(frame: OrgFrame, result: BatchResult, partition: str | None
                ) -> tuple[RowError, ...]:
    """Errors of key result and objective rows (people are finished separately)."""
    if not (np.any(result.kr_error) or np.any(result.obj_error)):
        return ()
    out = []
    loaded: set[int] = set()
    for key, errs in frame.load_errors.items():
        row = int(key[1:])
        table, ids = (("key_results", frame.kr_ids) if key[0] == "k"
                      else ("objectives", frame.obj_ids))
        ident = str(ids[row]) if ids is not None else key
        for err in errs:
            loaded.add(id(err))
            out.append(RowError(table, ident, err, partition))
    for err in errors_of(frame, result):
        if err.path.startswith("people.") or id(err) in loaded:
            continue
        table, ident = _locate(frame, err.path)
        out.append(RowError(table, ident, err, partition))
    return tuple(out)


def _locate(frame: OrgFrame, path: str) -> tuple[str, str]:
    """``objectives[i].key_results[j]...`` to (table, id)."""
    match = re.match(r"objectives\[(\d+)\](?:\.key_results\[(\d+)\])?", path)
    if match is None:
        return "objectives", path
    i = int(match.group(1))
    if match.group(2) is None:
        return "objectives", str(frame.obj_ids[i]) if frame.obj_ids is not None else f"o{i}"
    first = int(np.searchsorted(frame.kr_objective, i))
    row = first + int(match.group(2))
    return "key_results", str(frame.kr_ids[row]) if frame.kr_ids is not None else f"k{row}"


def _evaluate(frame: OrgFrame, moment: datetime, policy: Policy, kernel: str,
              threads: int | None) -> BatchResult:
    return evaluate_frame(frame, instant_us(moment), policy, kernel=kernel, threads=threads)


# ------------------------------------------------------------------------------------------
# datasets: partition by partition (shared with okrcore_dask)
# ------------------------------------------------------------------------------------------


def _open(dataset: str | os.PathLike[str] | Dataset) -> Dataset:
    from okrcore.jobs.parquet import Dataset

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
        The run's snapshot (:func:`okrcore.jobs.parquet.hold_snapshot`); every partition of
        a run, and :func:`finish_people`, take the same.  Default: a new one.

    Returns
    -------
    list of PartitionReport
        One per instant, in order.
    """
    from okrcore.jobs.parquet import new_snapshot, reuse_partition, write_partition_results

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
    from okrcore.jobs.parquet import (
        published,
        read_items,
        require_pyarrow,
        snapshot_dir,
        write_people,
    )

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


def _dataset_local(dataset: str, out: str, instants: Sequence[datetime], policy: Policy,
                   kernel: str, incremental: bool, progress: Progress | None,
                   threads: int | None = None) -> tuple[list[InstantReport], list[str], int]:
    from okrcore.jobs.parquet import hold_snapshot, prune_snapshots

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


def _spreadsheet() -> Any:
    try:
        import okrcore_spreadsheet  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise JobError("workbooks need the spreadsheet adapter: pip install "
                       "'okrcore[spreadsheet]' (okrcore_spreadsheet is not installed)") from None
    return okrcore_spreadsheet


def _sqlalchemy() -> tuple[Any, Any]:
    try:
        import sqlalchemy  # type: ignore[import-not-found, unused-ignore]

        import okrcore_sqlalchemy  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise JobError("databases need the SQLAlchemy adapter: pip install "
                       "'okrcore[sqlalchemy]' (okrcore_sqlalchemy is not installed)") from None
    return sqlalchemy, okrcore_sqlalchemy


def _read_whole(spec: str, kind: str) -> Document:
    if kind == "document":
        return _read_document(spec)
    if kind == "workbook":
        return _read_workbook(spec)[0]
    sqlalchemy, adapter = _sqlalchemy()
    try:
        loaded_doc: Document = adapter.load_document(sqlalchemy.create_engine(spec))
    except adapter.SourceError as exc:
        raise JobError(f"{_safe_url(spec)}: {one_line(exc)}") from None
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise JobError(f"cannot read {_safe_url(spec)}: {_db_reason(exc)}") from None
    return loaded_doc


def _db_reason(exc: BaseException) -> str:
    """A database error as one line: the driver's message, without SQL or parameters."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return one_line(text.splitlines()[0] if text else type(exc).__name__)


class _StoreFailedError(Exception):
    """The organisation could not be stored in the output database (exit 4)."""


def _read_workbook(spec: str) -> tuple[Document, Any]:
    """The document of a workbook import and the import (``okrcore_spreadsheet.ImportResult``).

    A whole-workbook problem (unreadable, a missing or ambiguous sheet, a merged header, a
    formula without a stored value, too many rows) is a one-line :class:`JobError` (exit 2).
    """
    module = _spreadsheet()
    unreadable = (OSError, getattr(module, "WorkbookError", OSError))
    try:
        loaded = module.read_workbook(spec)
    except unreadable as exc:
        raise JobError(f"cannot read {spec}: {exc}") from None
    # an ImportResult: the document (bad rows as invalid items) and the sheet errors
    document: Document = getattr(loaded, "document", loaded)
    return document, loaded


_SHEET_TABLES: Final = {"Objectives": "objectives", "Key results": "key_results",
                        "Check-ins": "check_ins", "Checkpoints": "checkpoints"}


def _import_errors(loaded: Any, errors: Sequence[RowError]) -> tuple[RowError, ...]:
    """The job's row errors of a workbook: each names its sheet, cell, column and value.

    The errors of rows the import kept (as invalid items) are located in their cells; the
    errors of rows it could not attach to anything (a key result naming an unknown objective,
    a check-in naming an unknown key result) are added, so no row is dropped silently.
    """
    locate = getattr(loaded, "locate", None)
    if locate is None:
        return tuple(errors)
    out = []
    for e in errors:
        where = locate(e.error.path)
        if where is not None and not e.error.message.startswith(f"{where[0]}!"):
            sheet, cell, value = where
            shown = repr(value) if len(repr(value)) <= 60 else f"{repr(value)[:57]}..."
            e = attrs.evolve(e, error=attrs.evolve(
                e.error, message=f"{sheet}!{cell} (value {shown}): {e.error.message}"))
        out.append(e)
    for s in getattr(loaded, "errors", ()):
        if s.code != "unknown_reference":
            continue  # the rows kept as invalid items: reported above through the frame
        out.append(RowError(_SHEET_TABLES.get(s.sheet, s.sheet), s.key or f"{s.sheet}!{s.cell}",
                            E.OkrError(s.code, f"{s.sheet}!{s.cell}", str(s))))
    return tuple(out)


def _store(url: str, document: Document) -> None:
    """Store a whole organisation in a database (``okrcore_sqlalchemy.store_document``).

    The adapter refuses items that could not be read: nothing is written then.
    """
    sqlalchemy, adapter = _sqlalchemy()
    try:
        bind = sqlalchemy.create_engine(url)
        adapter.store_document(bind, document)
    except ValueError as exc:
        raise JobError(f"cannot store the organisation in {_safe_url(url)}: {one_line(exc)} "
                       "(nothing was written)") from None
    except sqlalchemy.exc.SQLAlchemyError as exc:  # read-only, full disk: exit 4
        raise _StoreFailedError(f"cannot store the organisation in {_safe_url(url)}: "
                           f"{_db_reason(exc)} (nothing was written)") from None


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
    from okrcore.jobs.parquet import as_of_key

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
    loaded = None
    if kind == "workbook":
        document, loaded = _read_workbook(spec)
    else:
        document = _read_whole(spec, kind)
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
            _import_errors(loaded, errors + person_errors),
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
        module = _spreadsheet()
        _atomic_file(_output_path(out, moment, several),
                     lambda tmp: module.write_workbook(tmp, dated, evaluation))
    elif out_kind == "dataset":
        from okrcore.jobs.parquet import hold_snapshot, write_partition_results, write_people

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


def _safe_url(url: str) -> str:
    """A database URL for messages, with its password hidden."""
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        if parsed.password is not None:
            return one_line(parsed.render_as_string(hide_password=True))
    except Exception:  # any URL SQLAlchemy cannot parse is shown as given
        pass
    return one_line(url)


def _database(url: str, instants: Sequence[datetime], policy: Policy | None,
              incremental: bool, progress: Progress | None, kernel: str = "numpy",
              threads: int | None = None) -> tuple[Policy, list[InstantReport], list[str]]:
    sqlalchemy, adapter = _sqlalchemy()
    try:
        bind = sqlalchemy.create_engine(url)
    except (sqlalchemy.exc.SQLAlchemyError, ValueError) as exc:
        raise JobError(f"{_safe_url(url)}: {_db_reason(exc)}") from None
    reports: list[InstantReport] = []
    failures: list[str] = []
    used = policy or Policy()
    for moment in instants:
        try:
            got = adapter.recompute(bind, as_of=moment, policy=policy, incremental=incremental,
                                    progress=progress, kernel=kernel, threads=threads)
        except adapter.SourceError as exc:  # unreadable: exit 2 when nothing was written yet
            if not reports and not failures and moment == instants[0]:
                raise JobError(f"{_safe_url(url)}: {one_line(exc)}") from None
            failures.append(f"as of {isoformat(moment)}: {one_line(exc)}")
            continue
        except (adapter.StoreError, sqlalchemy.exc.SQLAlchemyError) as exc:
            # read but not written (read-only, full disk): a failure of this instant (exit 4
            # when no instant was written, 3 when some were); the message is one line
            failures.append(f"as of {isoformat(moment)}: {_safe_url(url)}: {_db_reason(exc)}")
            continue
        used = got.policy
        reports.append(InstantReport(
            got.as_of, got.key_results, got.objectives, got.people,
            dict(got.objective_colours),
            tuple(RowError(e.table, e.key, e.error) for e in got.errors),
            got.seconds_read, got.seconds_compute, got.seconds_write,
            skipped_newer=got.skipped_newer))
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
        from okrcore.jobs.parquet import Dataset

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
            try:
                import okrcore_dask
            except ImportError as exc:
                raise JobError(str(exc)) from None
            try:
                reports, failures, written = okrcore_dask.recompute_dataset(
                    source, output, instants, used, scheduler=scheduler, workers=workers,
                    kernel=kernel, incremental=incremental, progress=progress,
                    threads=threads)
            except (OSError, TimeoutError) as exc:  # the cluster cannot be reached
                reports, failures = [], [f"dask scheduler {scheduler or '(local)'}: {exc}"]
        else:
            reports, failures, written = _dataset_local(source, output, instants, used,
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
        if kind == "workbook":
            document, loaded = _read_workbook(source)
            dropped = _import_errors(loaded, ())
            if dropped:  # like an invalid item: the store refuses, so nothing is lost
                raise JobError(f"cannot store the organisation in {output}: {len(dropped)} "
                               f"row(s) of {source} could not be imported, first "
                               f"{dropped[0].error.message} (nothing was written)")
        else:
            document = _read_whole(source, kind)
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
