"""The bulk job: store and load documents, recompute in columns, write back in one transaction.

:func:`recompute` reads the input tables with Core ``select`` statements straight into columns
(no ORM object per row), builds an :class:`~okrcore.batch.OrgFrame`
(:func:`okrcore.rows.frame_from_columns`), evaluates it with the batch engine (or, incrementally,
with :func:`okrcore.batch.incremental.recompute`), and writes every result in one transaction:
on PostgreSQL one ``INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE`` statement per result
table, on SQLite one ``executemany`` upsert per table.  Results record the as-of instant and the
policy (table of snapshots) and the version of the input they were computed from.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
import numpy as np
from sqlalchemy import (
    Connection,
    Engine,
    delete,
    insert,
    select,
)

import okrcore
from okrcore import rows
from okrcore.batch import BatchResult, OrgFrame, evaluate_frame, to_evaluation
from okrcore.batch import incremental as inc
from okrcore.evaluate import instant_us
from okrcore.policy import Policy
from okrcore_sqlalchemy._writing import (
    RecomputeReport,
    _policy_json,
    _skip_masks,
    upsert_columns,
)
from okrcore_sqlalchemy.events import (
    consume_changes,
    drop_stale,
    had_snapshot,
    read_change_ids,
)
from okrcore_sqlalchemy.reading import (
    _COLOURS,
    _I64,
    _INPUTS,
    _KEY_COLUMNS,
    _OBJ_ORDER,
    PHASES,
    Progress,
    RowError,
    SourceError,
    StoreError,
    _at,
    _attached,
    _bad_rows,
    _check_key_types,
    _columns,
    _database_errors,
    _fetch,
    _invalidated,
    _is_instant,
    _key_text,
    _key_value,
    _keys_read,
    _kr_columns,
    _latest_snapshot,
    _moment,
    _no_gc,
    _policy_from_json,
    _raw,
    _Read,
    _read,
    _reason,
    _row_dicts,
    _row_errors,
)
from okrcore_sqlalchemy.schema import (
    _DECLARED_REFERENCES,
    REFERENCE,
    KeyTypeError,
    Schema,
)
from okrcore_sqlalchemy.storage import from_stored, to_stored

__all__ = [
    "PHASES",
    "RecomputeReport",
    "RowError",
    "SourceError",
    "StoreError",
    "create_schema",
    "load_document",
    "load_evaluation",
    "recompute",
    "store_document",
    "upsert_columns",
]

def create_schema(bind: Engine, schema: Schema = REFERENCE) -> None:
    """Create the schema's tables that do not exist yet (idempotent; no Alembic)."""
    with bind.begin() as conn:
        for table in schema.tables:
            table.create(conn, checkfirst=True)


def store_document(bind: Engine, document: okrcore.Document, schema: Schema = REFERENCE) -> None:
    """Write a document into the schema in one transaction, replacing the stored organisation.

    Creates the schema if needed; stored results are kept (they record the versions they were
    computed from).  Every row starts at version 1.

    Raises
    ------
    ValueError
        The document holds an invalid item (the database holds only what the core accepts).
    """
    data = rows.document_rows(document)
    for name in ("objectives", "key_results"):
        for row in data[name]:
            row["version"] = 1
    for name in rows.TABLES:
        table = schema.table(_INPUTS[name][0])
        for column in (table.c[n] for n in _INPUTS[name][1] if n in _KEY_COLUMNS):
            for row in data[name]:
                row[column.name] = _key_value(row[column.name], column)
        for column in (table.c[n] for n in _INPUTS[name][1] if _is_instant(table.c[n].type)):
            for row in data[name]:  # µs as the datetime the column's own type binds
                if row[column.name] is not None:
                    row[column.name] = _moment(column.type, row[column.name])
    create_schema(bind, schema)
    with bind.begin() as conn:
        for name in reversed(rows.TABLES):
            conn.execute(delete(schema.table(_INPUTS[name][0])))
        for name in rows.TABLES:
            if data[name]:
                conn.execute(insert(schema.table(_INPUTS[name][0])), data[name])


def load_document(bind: Engine, schema: Schema = REFERENCE) -> okrcore.Document:
    """Read the stored organisation back as a document.

    Its ``as_of`` and policy are those of the latest stored snapshot (now and the default
    policy when nothing was computed yet).  For small data and round trips: the job itself
    never builds documents.  A row with a bad value in a numeric, instant or boolean column
    makes its item invalid, with the ``wrong_type`` error :func:`recompute` reports.

    Raises
    ------
    SourceError
        The database cannot be read (not a database, missing tables...).
    """
    try:
        with bind.connect() as conn:
            tables = {name: _row_dicts(conn, schema.table(role), columns)
                      for name, (role, columns) in _INPUTS.items()}
            latest = _latest_snapshot(conn, schema)
    except _database_errors(bind) as exc:
        raise SourceError(f"cannot read the organisation: {_reason(exc)}") from exc
    bad_kr, bad_obj = _bad_rows(tables)  # a bad value: an invalid item, as in recompute
    if latest is None:
        document = rows.document_from_rows(tables, datetime.now(UTC))
    else:
        as_of = rows.from_instant(latest[0])
        assert as_of is not None
        document = rows.document_from_rows(tables, as_of, _policy_from_json(latest[1]))
    return _invalidated(document, bad_kr, bad_obj) if bad_kr or bad_obj else document


def _stored(conn: Connection, schema: Schema, frame: OrgFrame, as_of: int,
            policy: Policy) -> tuple[BatchResult, dict[str, _I64]] | None:
    """The complete stored snapshot at ``as_of`` as a batch result aligned with ``frame``.

    Also returns the input versions of the key result and objective results.  ``None`` when
    the snapshot is missing, was computed with another policy, lacks a row of the frame, or
    holds a coded value outside its column's names.
    """
    assert frame.kr_ids is not None and frame.obj_ids is not None
    snaps = schema.table("snapshot")
    stored = conn.execute(select(snaps.c.policy).where(_at(snaps, "as_of", as_of))).first()
    if stored is None or stored[0] != _policy_json(policy):
        return None
    columns: dict[str, dict[str, Any]] = {}
    versions: dict[str, _I64] = {}
    for prefix, role, key, ids in (("kr", "kr_result", "kr_id", frame.kr_ids),
                                   ("obj", "objective_result", "objective_id", frame.obj_ids)):
        table = schema.table(role)
        names = [name for name, _ in rows.RESULT_COLUMNS[prefix]]
        data = _columns(conn, table, (key, "input_version", *names), (key,),
                        _at(table, "as_of", as_of))
        index = {ident: i for i, ident in enumerate(data[key])}
        order = [index.get(ident, -1) for ident in ids]
        if len(ids) != len(index) or -1 in order:
            known = set(ids)  # once: a set per row made this quadratic
            _check_key_types(data[key], [k in known for k in data[key]], ids, table.name, key)
            return None  # rows were added, removed or never stored
        try:
            columns[prefix] = {n: from_stored(table, n, [data[n][j] for j in order])
                               for n in names}
        except ValueError:
            return None  # a stored value outside its vocabulary: not a usable snapshot
        versions[prefix] = np.asarray([data["input_version"][j] for j in order], np.int64)
    table = schema.table("person_result")
    names = [name for name, _ in rows.RESULT_COLUMNS["person"]]
    data = _columns(conn, table, ("person_id", *names), ("person_id",),
                    _at(table, "as_of", as_of))
    index = {ident: i for i, ident in enumerate(data["person_id"])}
    people = list(frame.person_names or ())
    defaults = {"progress": None, "items": 0, "error_ref": -1, "seen": False}
    everyone = set(people)  # once: a set per row made this quadratic (minutes at 10^5)
    _check_key_types(data["person_id"], [p in everyone for p in data["person_id"]], people,
                     table.name, "person_id")
    columns["person"] = {n: [data[n][index[p]] if p in index else defaults[n] for p in people]
                         for n in names}
    return rows.batch_result_from_columns(as_of, policy, columns), versions


def _previous(conn: Connection, schema: Schema, read: _Read, as_of: int,
              policy: Policy) -> tuple[BatchResult, _I64] | None:
    """The stored snapshot at ``as_of`` and the key result rows changed since it was taken."""
    stored = _stored(conn, schema, read.frame, as_of, policy)
    if stored is None:
        return None
    previous, versions = stored
    if np.any(versions["obj"] != read.obj_version):
        return None  # an objective changed: its structure may have changed
    return previous, np.flatnonzero(versions["kr"] != read.kr_version)


def load_evaluation(bind: Engine, as_of: datetime | None = None,
                    schema: Schema = REFERENCE) -> okrcore.Evaluation:
    """Read stored results back as the core's :class:`~okrcore.results.Evaluation`.

    Parameters
    ----------
    bind : Engine
        The database.
    as_of : datetime, optional
        The snapshot to read (default the latest).
    schema : Schema
        The mapped classes.

    Raises
    ------
    LookupError
        No complete snapshot at that instant (or the organisation changed since).
    """
    with bind.connect() as conn, conn.begin():
        read = _read(conn, schema, lambda _p, _d, _t: None)
        snaps = schema.table("snapshot")
        query = select(_raw(snaps, "as_of"), snaps.c.policy)
        if as_of is not None:
            query = query.where(_at(snaps, "as_of", instant_us(as_of)))
        row = conn.execute(query.order_by(snaps.c.as_of.desc()).limit(1)).first()
        stored = None if row is None else _stored(conn, schema, read.frame, int(row[0]),
                                                  _policy_from_json(str(row[1])))
    if stored is None:
        raise LookupError("no complete stored snapshot" + (
            "" if as_of is None else f" at {as_of.isoformat()}"))
    return to_evaluation(_core_labels(read.frame), stored[0])


def _core_labels(frame: OrgFrame) -> OrgFrame:
    """The frame with the core's ids (the text of integer or UUID keys)."""
    def text(values: Sequence[Any] | None) -> Any:
        return None if values is None else [_key_text(v) for v in values]
    return attrs.evolve(frame, kr_ids=text(frame.kr_ids), obj_ids=text(frame.obj_ids),
                        person_names=text(frame.person_names),
                        obj_parent_names=text(frame.obj_parent_names))


def _nan_equal(a: Any, b: Any) -> Any:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f":
        return (a == b) | (np.isnan(a) & np.isnan(b))
    return a == b


def _check_written(conn: Connection, schema: Schema, role: str, key: str, when: int,
                   written: Sequence[Any]) -> None:
    """Raise unless a written result row reads back under the key it was written with.

    A key column of another type than the key it refers to (a text column receiving integer
    keys) stores keys that never match again: the results would be written and never found.
    """
    if not written:
        return
    table = schema.table(role)
    query = select(table.c[key]).where(_at(table, "as_of", when)).limit(1)
    stored = _keys_read(conn, table, _fetch(conn, query, (key,)))[key]
    if stored and type(stored[0]) is not type(written[0]):
        target = _DECLARED_REFERENCES[(role, key)]
        raise KeyTypeError(table.name, key, target, type(written[0]).__name__,
                           f"{type(stored[0]).__name__} (as stored by the database)")


def _versions(values: Sequence[Any]) -> _I64:
    """Stored versions; one that is not an integer reads as 0, as when the input was read."""
    return np.asarray([v if type(v) is int else 0 for v in values], np.int64)


def _skipped_by_change(conn: Connection, schema: Schema, read: _Read) -> tuple[Any, Any, Any]:
    """Rows whose input changed since it was read (checked inside the write transaction)."""
    frame = read.frame
    now_obj = _columns(conn, schema.table("objective"), ("id", "version"), _OBJ_ORDER)
    now_kr = _attached(rows.sort_key_results(
        now_obj["id"], _kr_columns(conn, schema, ("id", "version", "objective_id"))),
        "objective_id", set(now_obj["id"]), "key_results", "id", [])
    same = (now_obj["id"] == list(frame.obj_ids or ())
            and now_kr["id"] == list(frame.kr_ids or ()))
    return _skip_masks(frame, same, _versions(now_kr["version"]) != read.kr_version,
                       _versions(now_obj["version"]) != read.obj_version)


def recompute(
    bind: Engine,
    *,
    as_of: datetime | None = None,
    policy: Policy | None = None,
    incremental: bool = False,
    progress: Progress | None = None,
    schema: Schema = REFERENCE,
    kernel: str = "numpy",
    threads: int | None = None,
    io: str = "auto",
) -> RecomputeReport:
    r"""Recompute the stored organisation in columns and write the results in one transaction.

    Parameters
    ----------
    bind : Engine
        SQLite or PostgreSQL.
    as_of : datetime, optional
        The instant to compute for.  Default: now (UTC); with ``incremental``, the instant of
        the latest stored snapshot (the one being brought up to date), else now.
    policy : Policy, optional
        Default: okrcore's default policy.
    incremental : bool
        Recompute only the key results whose ``version`` differs from the one their stored
        result was computed from, with their objectives, ancestors and people
        (:func:`okrcore.batch.incremental.recompute`), and write only those rows.  Falls back to
        a full recompute when there is no complete snapshot at ``as_of`` with this policy, or
        when an objective or the set of key results changed.
    progress : callable, optional
        Called as ``progress(phase, done, total)`` during each phase of :data:`PHASES`.
    schema : Schema
        The mapped classes (default the reference models).
    kernel : {"numpy", "numba"}
        The batch engine's kernel.
    threads : int, optional
        Threads of the evaluation (:func:`okrcore.batch.evaluate_frame`; default: the CPUs
        this process may use).
    io : {"auto", "adbc", "sqlalchemy"}
        How a full recompute reads and writes.  ``adbc``: columnar bulk I/O
        (:mod:`okrcore_sqlalchemy.columnar`: ADBC into Arrow, bulk ingest and one set-based
        upsert per result table; needs the ``adbc`` extra and a SQLite file or PostgreSQL).
        ``sqlalchemy``: the rows of the SQLAlchemy connection.  ``auto`` (default): ADBC when
        it can and the organisation holds at least
        :data:`~okrcore_sqlalchemy.columnar.AUTO_MIN_KEY_RESULTS` key results, else (in-memory
        SQLite, another database, no ``adbc`` extra: logged; a small organisation) the rows;
        also the rows when the columnar read finds a bad value, which the row path reports.
        An incremental recompute uses the rows.

    Returns
    -------
    RecomputeReport

    Raises
    ------
    SourceError, StoreError
        The database cannot be read or written (nothing was written).
    ValueError, ImportError
        ``io="adbc"`` with an engine ADBC cannot open, or without the ``adbc`` extra.

    Notes
    -----
    Nothing is computed here: the batch engine computes (``docs/spec.rst``).  Writing is one
    transaction.  Inside it (PostgreSQL: after ``LOCK TABLE … IN SHARE MODE`` on the input
    tables; SQLite: after taking the write lock) the job re-reads the versions: a key result
    that changed since it was read is not written, nor are its objective, that objective's
    ancestors and their owners (``skipped_newer``); the upsert also never replaces a stored
    result computed from a newer input version.  Bad rows are reported, not written.  Running
    the job twice stores the same results.
    """
    report: Progress = progress or (lambda _phase, _done, _total: None)
    policy = policy or Policy()
    if incremental and schema.change is not None:  # the change log names what to recompute
        from okrcore_sqlalchemy.events import FullRun, recompute_changes

        applied = recompute_changes(bind, as_of=as_of, policy=policy, progress=report,
                                    schema=schema, kernel=kernel, threads=threads)
        if not isinstance(applied, FullRun):
            return applied
        as_of, incremental = applied.as_of, False  # structural, or no usable snapshot
    if not incremental:
        from okrcore_sqlalchemy import columnar

        if columnar.choose(bind, io, schema):

            def finish(when: int, result: BatchResult, errors: list[RowError],
                       written: tuple[int, int, int], skipped: int,
                       seconds: tuple[float, float, float]) -> RecomputeReport:
                return _report(when, policy, result, errors, written, skipped, seconds,
                               False, "adbc")
            done = columnar.recompute(bind, as_of=as_of, policy=policy, progress=report,
                                      schema=schema, kernel=kernel, threads=threads,
                                      finish=finish)
            if done is not None:
                return done  # type: ignore[no-any-return]
    t0 = time.perf_counter()
    failing = _database_errors(bind)
    try:
        with bind.connect() as conn, conn.begin():
            changes = read_change_ids(conn, schema)  # consumed by this run's write
            read = _read(conn, schema, report)
            previous = None
            when = None if as_of is None else instant_us(as_of)
            if incremental:
                if when is None:
                    latest = _latest_snapshot(conn, schema)
                    when = latest[0] if latest is not None else None
                if when is not None:
                    previous = _previous(conn, schema, read, when, policy)
    except failing as exc:
        raise SourceError(f"cannot read the organisation: {_reason(exc)}") from exc
    when = instant_us(datetime.now(UTC)) if when is None else when
    frame = read.frame
    t1 = time.perf_counter()
    report("compute", 0, 1)
    n_people = len(frame.person_names or ())
    if previous is not None:
        last, changed = previous
        result = inc.recompute(frame, last, changed, kernel=kernel, threads=threads)
        objectives, key_results = inc.affected(frame, changed)
        kr_rows = np.zeros(frame.n_kr, bool)
        kr_rows[key_results] = True
        obj_rows = np.zeros(frame.n_obj, bool)
        obj_rows[objectives] = True
        person_rows = np.zeros(n_people, bool)
        for name, _ in rows.RESULT_COLUMNS["person"]:
            person_rows |= ~_nan_equal(getattr(result, f"person_{name}"),
                                       getattr(last, f"person_{name}"))
    else:
        result = evaluate_frame(frame, when, policy, kernel=kernel, threads=threads)
        kr_rows = np.ones(frame.n_kr, bool)
        obj_rows = np.ones(frame.n_obj, bool)
        person_rows = np.ones(n_people, bool)
    errors = read.orphans + _row_errors(read, result)
    kr_rows &= result.kr_error == 0
    obj_rows &= result.obj_error == 0
    person_rows &= result.person_seen & (result.person_error_ref < 0)
    report("compute", 1, 1)
    t2 = time.perf_counter()
    written = (0, 0, 0)
    skipped = 0
    try:
        with _no_gc(), bind.connect() as conn, conn.begin():
            is_pg = conn.dialect.name == "postgresql"
            if is_pg:
                names = ", ".join(conn.dialect.identifier_preparer.quote(schema.table(r).name)
                                  for r in ("objective", "key_result", "check_in", "kr_owner",
                                            "checkpoint"))
                conn.exec_driver_sql(f"LOCK TABLE {names} IN SHARE MODE")
            existed = had_snapshot(conn, schema, when)
            upsert_columns(conn, schema.table("snapshot"), ("as_of",), False, {
                "as_of": [when], "policy": [_policy_json(policy)],
                "computed_at": [instant_us(datetime.now(UTC))]})
            kr_skip, obj_skip, person_skip = _skipped_by_change(conn, schema, read)
            consume_changes(conn, schema, changes)
            skipped = int((kr_rows & kr_skip).sum() + (obj_rows & obj_skip).sum()
                          + (person_rows & person_skip).sum())
            kr_rows &= ~kr_skip
            obj_rows &= ~obj_skip
            person_rows &= ~person_skip
            assert frame.kr_ids is not None and frame.obj_ids is not None
            plans = (
                ("kr_result", "kr_id", "kr", kr_rows, frame.kr_ids, read.kr_version),
                ("objective_result", "objective_id", "obj", obj_rows, frame.obj_ids,
                 read.obj_version),
                ("person_result", "person_id", "person", person_rows, frame.person_names or (),
                 None),
            )
            for step, (role, key, prefix, mask, ids, version) in enumerate(plans, start=1):
                picked = np.flatnonzero(mask)
                columns: dict[str, Any] = {"as_of": np.full(picked.shape[0], when, np.int64),
                                           key: [ids[int(i)] for i in picked]}
                if version is not None:
                    columns["input_version"] = version[picked]
                table = schema.table(role)
                for name, values in rows.result_columns(result, prefix, picked).items():
                    columns[name] = to_stored(table, name, values)
                upsert_columns(conn, schema.table(role), ("as_of", key), version is not None,
                               columns)
                _check_written(conn, schema, role, key, when, columns[key])
                report("write", step, len(plans))
            if existed:
                drop_stale(conn, schema, when, frame, result, kr_skip, obj_skip)
            written = (int(kr_rows.sum()), int(obj_rows.sum()), int(person_rows.sum()))
    except failing as exc:
        raise StoreError(f"cannot write the results: {_reason(exc)} (nothing was written; "
                         "the stored snapshots are as they were)") from exc
    t3 = time.perf_counter()
    return _report(when, policy, result, errors, written, skipped, (t1 - t0, t2 - t1, t3 - t2),
                   previous is not None, "sqlalchemy")


def _report(when: int, policy: Policy, result: BatchResult, errors: Sequence[RowError],
            written: tuple[int, int, int], skipped: int, seconds: tuple[float, float, float],
            incremental: bool, io: str) -> RecomputeReport:
    colours = {name: 0 for name in ("green", "yellow", "red", "none")}
    codes, counts = np.unique(result.obj_colour, return_counts=True)
    for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
        colours[_COLOURS.get(code, "none")] += count
    moment = rows.from_instant(when)
    assert moment is not None
    return RecomputeReport(
        as_of=moment, policy=policy, key_results=written[0], objectives=written[1],
        people=written[2], skipped_newer=skipped, errors=tuple(errors),
        objective_colours=colours, seconds_read=seconds[0], seconds_compute=seconds[1],
        seconds_write=seconds[2], incremental=incremental, io=io)
