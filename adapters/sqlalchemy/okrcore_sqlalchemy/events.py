"""Per-event updates: recompute only what the change log names, reading only what that needs.

:func:`recompute_changes` is what ``okrcore_sqlalchemy.recompute(engine, incremental=True)``
runs for a schema with a change log (:class:`~okrcore_sqlalchemy.ChangeMixin`).  It reads the
change log; the key results and objectives it names; every ancestor of those objectives (one
recursive CTE); every key result of the affected objectives with its check-ins, owners and
checkpoints; the direct children of affected objectives that are not affected themselves, with
their stored results (they enter their parents' rollups pinned, as
:func:`okrcore.batch.incremental.recompute` does); and, for the affected people, their other
items' stored results.  It evaluates that small frame with the batch pipeline, computes the
affected people with the core's person rule, writes only the rows whose stored values changed
and deletes exactly the change-log rows it read, in one transaction.

A structural change, a snapshot computed with another policy or none at all, or a change the
stored results cannot absorb (an objective inserted or deleted, an objective edited whose
stored result is missing, a unit code not found in the stored results) runs the full path
(:func:`okrcore_sqlalchemy.recompute` without ``incremental``), which also empties the log.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs
import numpy as np
from sqlalchemy import Connection, Engine, Table, bindparam, delete, select

from okrcore import errors as E
from okrcore import rows
from okrcore.batch import BatchResult, OrgFrame, pipeline
from okrcore.errors import OkrError
from okrcore.evaluate import instant_us
from okrcore.policy import Policy
from okrcore_sqlalchemy._events_sql import (
    _KR_RESULT,
    _OBJ_RESULT,
    _PERSON_RESULT,
    _FallbackError,
    _frame,
    _global_columns,
    _Part,
    _people,
    _pinned,
    _read_log,
    _read_part,
    _Sql,
    _stored_columns,
)
from okrcore_sqlalchemy._writing import RecomputeReport, _policy_json, upsert_columns
from okrcore_sqlalchemy.reading import (
    _COLOURS,
    Progress,
    RowError,
    SourceError,
    StoreError,
    _at,
    _database_errors,
    _key_text,
    _reason,
    _row_errors,
)
from okrcore_sqlalchemy.schema import Schema
from okrcore_sqlalchemy.storage import from_stored, to_stored

__all__ = [
    "FullRun",
    "consume_changes",
    "drop_stale",
    "had_snapshot",
    "read_change_ids",
    "recompute_changes",
]

_LOCK_KEY: Final = 0x6F6B72636F7265  # pg_advisory_xact_lock key of the incremental writers
_INPUT_ROLES: Final = ("objective", "key_result", "check_in", "kr_owner", "checkpoint")


class _StaleError(Exception):
    """The input changed, or another run consumed the log, since the read: write nothing."""

    def __init__(self, skipped: int) -> None:
        super().__init__(skipped)
        self.skipped = skipped


# --- the change log ------------------------------------------------------------------------------


def read_change_ids(conn: Connection, schema: Schema) -> list[int] | None:
    """The ids of the change-log rows now (``None``: the schema keeps no change log).

    The full recompute reads them with its input and deletes exactly these rows with
    :func:`consume_changes` in its write transaction.
    """
    if schema.change is None:
        return None
    table = schema.table("change")
    return [int(r[0]) for r in conn.execute(select(table.c.id))]


def consume_changes(conn: Connection, schema: Schema, ids: Sequence[int] | None) -> int:
    """Delete exactly the change-log rows ``ids`` (in the caller's transaction).

    Returns
    -------
    int
        The rows deleted (fewer than ``ids`` when another run consumed some already).
    """
    if schema.change is None or not ids:
        return 0
    sql = _Sql(conn, schema, 0)
    text = sql.cached("consume", lambda: (
        f"DELETE FROM {sql.name('change')} WHERE {sql.quote('id')} {sql.keys('change', 'id')}"))
    done = 0
    for lo in range(0, len(ids), 10_000):
        cursor = conn.connection.cursor()
        try:
            cursor.execute(text, (sql.param("change", "id", list(ids[lo:lo + 10_000])),))
            done += int(cursor.rowcount or 0)
        finally:
            cursor.close()
    return done


def _stale_plan(schema: Schema, result: BatchResult, kr_skip: Any, obj_skip: Any
               ) -> list[tuple[str, str, Any, Any, Any]]:
    """What :func:`drop_stale` does, per result role (the one definition of both paths).

    ``(role, key column, select of the ids still stored, rows to flag, their error codes)``:
    the results whose key is not in the select are deleted; the rows of items in error that
    were not skipped get their error code.
    """
    kr, obj = schema.table("key_result"), schema.table("objective")
    out = []
    for role, key, errors, skip, current in (
            ("kr_result", "kr_id", result.kr_error, kr_skip,
             select(kr.c.id).join(obj, obj.c.id == kr.c.objective_id)),
            ("objective_result", "objective_id", result.obj_error, obj_skip,
             select(obj.c.id))):
        flagged = (errors != 0) & ~skip
        out.append((role, key, current, np.flatnonzero(flagged), errors[flagged]))
    return out


def drop_stale(conn: Connection, schema: Schema, when: int, frame: OrgFrame,
               result: BatchResult, kr_skip: Any, obj_skip: Any) -> None:
    """After a full write at ``when``: flag the kept results of items now in error.

    A full recompute keeps the last good result of an item in error (never garbage); this
    writes the item's error code into that kept row (its other columns stay as they were),
    and deletes the results of items no longer stored.  The per-event path relies on it: a
    stored result at the snapshot carries its item's error code as last computed.  Only for a
    schema with a change log, and only when the snapshot existed before this run (a new one
    holds no kept rows).  Items skipped because their input changed meanwhile are left alone.
    """
    if schema.change is None:
        return
    assert frame.kr_ids is not None and frame.obj_ids is not None
    for role, key, current, flagged, codes in _stale_plan(schema, result, kr_skip, obj_skip):
        table = schema.table(role)
        ids = frame.kr_ids if role == "kr_result" else frame.obj_ids
        conn.execute(delete(table).where(_at(table, "as_of", when),
                                         table.c[key].not_in(current.scalar_subquery())))
        _flag_errors(conn, table, key, when, [ids[int(i)] for i in flagged], codes)


def _flag_errors(conn: Connection, table: Table, key: str, when: int, ids: Sequence[Any],
                 codes: Any) -> None:
    """Write error codes into the stored results of ``ids`` at ``when`` (rows kept)."""
    if not len(ids):
        return
    stored = to_stored(table, "error", np.asarray(codes))
    statement = (table.update().where(_at(table, "as_of", when),
                                      table.c[key] == bindparam("okr_key"))
                 .values(error=bindparam("okr_error")))
    conn.execute(statement, [{"okr_key": i, "okr_error": c}
                             for i, c in zip(ids, stored, strict=True)])


def had_snapshot(conn: Connection, schema: Schema, when: int) -> bool:
    """Whether a snapshot at ``when`` is stored (``False`` without a change log: not needed)."""
    if schema.change is None:
        return False
    snaps = schema.table("snapshot")
    return conn.execute(select(snaps.c.as_of).where(_at(snaps, "as_of", when))).first() \
        is not None


# --- the run -------------------------------------------------------------------------------------


@attrs.frozen
class _Plan:
    """The rows one run writes and deletes, with what it checks before."""

    when: int
    policy: Policy
    log_ids: list[int]
    obj_ids: list[Any]  # the affected objectives (their versions are checked)
    obj_versions: list[int]
    kr_ids: list[Any]
    kr_versions: list[int]
    writes: dict[str, dict[str, Any]]  # role -> columns
    deletes: dict[str, list[Any]]  # role -> keys of results to delete
    flags: dict[str, tuple[list[Any], Any]]  # role -> (keys, error codes) of kept rows
    errors: tuple[RowError, ...]
    colours: dict[str, int]


def _same(old: Any, new: Any) -> bool:
    """Whether a stored value (engine form) equals a new one (absent: NULL or NaN)."""
    old_absent = old is None or (isinstance(old, float) and np.isnan(old))
    new_absent = new is None or (isinstance(new, float) and np.isnan(new))
    if old_absent or new_absent:
        return old_absent and new_absent
    return bool(old == new)


def _changed(table: Table, new: Mapping[str, Any], stored: Mapping[str, list[Any]],
             names: Sequence[str], rows_: Sequence[int]) -> np.ndarray:
    """Per row of ``rows_``: whether the new result differs from the stored one (or none)."""
    differs = np.asarray([not stored["stored"][r] for r in rows_], dtype=bool)
    for name in names:
        old = from_stored(table, name, [stored[name][r] for r in rows_])
        fresh = np.asarray(new[name]).tolist()
        for j, (a, b) in enumerate(zip(old, fresh, strict=True)):
            if not differs[j] and not _same(a, b):
                differs[j] = True
    return differs


def _new_versions(stored: Mapping[str, list[Any]], versions: Any, rows_: Any) -> Any:
    """Per row: whether the stored result was computed from another input version."""
    return np.asarray([stored["input_version"][int(r)] != int(versions[int(r)])
                       for r in rows_], dtype=bool)


def _flag_differs(table: Table, stored: Mapping[str, list[Any]], errors: Any,
                  rows_: Any) -> Any:
    """Per row: whether the stored error code is another than ``errors`` (then written)."""
    old = from_stored(table, "error", [stored["error"][int(r)] for r in rows_])
    return np.asarray([o != e for o, e in zip(old, np.asarray(errors).tolist(), strict=True)],
                      dtype=bool)


def _plan(sql: _Sql, part: _Part, policy: Policy, kernel: str, threads: int | None) -> _Plan:
    """Evaluate the affected part and decide what to write."""
    schema = sql.schema
    frame, read = _frame(part)
    obj_table = schema.table("objective_result")
    kr_table, person_table = schema.table("kr_result"), schema.table("person_result")
    # a small frame: one thread (a pool's start-up costs more than the evaluation)
    result = pipeline.evaluate(frame, sql.when, policy, pipeline.backend_for(kernel),
                               pinned=_pinned(part, obj_table),
                               threads=1 if threads is None else threads)
    assert frame.obj_ids is not None and frame.kr_ids is not None
    writes: dict[str, dict[str, Any]] = {}
    deletes: dict[str, list[Any]] = {}
    # key results: every one of the affected objectives
    krs = np.arange(frame.n_kr)
    ok = result.kr_error[krs] == 0
    new = rows.result_columns(result, "kr", krs)
    differs = _changed(kr_table, new, part.kr_stored, _KR_RESULT, krs.tolist())
    differs |= _new_versions(part.kr_stored, read.kr_version, krs)
    pick = np.flatnonzero(ok & differs)
    writes["kr_result"] = {"kr_id": [frame.kr_ids[i] for i in pick.tolist()],
                           "input_version": read.kr_version[pick],
                           **{n: np.asarray(v)[pick] for n, v in new.items()}}
    stored_kr = np.asarray([bool(s) for s in part.kr_stored["stored"]], dtype=bool)
    flags: dict[str, tuple[list[Any], Any]] = {}
    bad = np.flatnonzero(~ok & stored_kr & _flag_differs(kr_table, part.kr_stored,
                                                         result.kr_error[krs], krs))
    flags["kr_result"] = ([frame.kr_ids[i] for i in bad.tolist()], result.kr_error[krs][bad])
    deletes["kr_result"] = list(part.gone_krs)
    # objectives: the affected ones (the pinned children keep theirs)
    objs = np.flatnonzero(part.affected)
    ok = result.obj_error[objs] == 0
    new = rows.result_columns(result, "obj", objs)
    new.update(_global_columns(sql, part, frame, result, objs))
    differs = _changed(obj_table, new, part.obj_stored, _OBJ_RESULT, objs.tolist())
    differs |= _new_versions(part.obj_stored, read.obj_version, objs)
    pick = np.flatnonzero(ok & differs)
    writes["objective_result"] = {"objective_id": [frame.obj_ids[i] for i in objs[pick].tolist()],
                                  "input_version": read.obj_version[objs[pick]],
                                  **{n: np.asarray(v)[pick] for n, v in new.items()}}
    stored_obj = np.asarray([bool(s) for s in part.obj_stored["stored"]], dtype=bool)[objs]
    bad = np.flatnonzero(~ok & stored_obj & _flag_differs(obj_table, part.obj_stored,
                                                          result.obj_error[objs], objs))
    flags["objective_result"] = ([frame.obj_ids[i] for i in objs[bad].tolist()],
                                 result.obj_error[objs][bad])
    deletes["objective_result"] = []
    # people
    people, columns = _people(sql, part, frame, result)
    person_rows: dict[str, Any] = {"person_id": []}
    errors = [e for e in _row_errors(read, result) if e.table != "people"]
    kids = {_key_text(i) for i, a in zip(frame.obj_ids, part.affected, strict=True) if not a}
    errors = [e for e in errors if not (e.table == "objectives" and e.key in kids)]
    if people:
        progress, items, error_ref, seen = columns
        stored = sql.fetch(sql.cached("p_res", lambda: (
            f"SELECT {sql.col('person_result', 'person_id', 'r')}, "
            f"{', '.join(_stored_columns(sql, 'person_result', 'r', _PERSON_RESULT))} "
            f"FROM {sql.name('person_result')} r WHERE {sql.at('person_result', 'r')} AND "
            f"r.{sql.quote('person_id')} {sql.keys('person_result', 'person_id')}")),
            [sql.param("person_result", "person_id", people)], ("person_id", *_PERSON_RESULT),
            {"person_id": ("person_result", "person_id")})
        at = {p: i for i, p in enumerate(stored["person_id"])}
        table: dict[str, list[Any]] = {"stored": [p in at for p in people],
                 **{n: [stored[n][at[p]] if p in at else None for p in people]
                    for n in _PERSON_RESULT}}
        new = {"progress": progress, "items": items, "error_ref": error_ref, "seen": seen}
        everyone = list(range(len(people)))
        differs = _changed(person_table, new, table, _PERSON_RESULT, everyone)
        pick = np.flatnonzero(seen & (error_ref < 0) & differs)
        person_rows = {"person_id": [people[i] for i in pick.tolist()],
                       **{n: np.asarray(v)[pick] for n, v in new.items()}}
        for i in np.flatnonzero(seen & (error_ref >= 0)).tolist():
            errors.append(RowError("people", str(people[i]), OkrError(
                E.DEPENDS_ON_INVALID, "", "owns an objective or key result that has an error")))
    writes["person_result"] = person_rows
    colours = {name: 0 for name in ("green", "yellow", "red", "none")}
    for code in result.obj_colour[objs].tolist():
        colours[_COLOURS.get(code, "none")] += 1
    return _Plan(sql.when, policy, part.log.ids,
                 [frame.obj_ids[i] for i in objs.tolist()], read.obj_version[objs].tolist(),
                 list(frame.kr_ids), read.kr_version.tolist(), writes, deletes, flags,
                 tuple(read.orphans + errors), colours)


def _versions_now(sql: _Sql, plan: _Plan) -> bool:
    """Whether the affected objectives and their key results are as read (in the write)."""
    q = sql.quote
    if not plan.obj_ids:
        return True
    now = sql.fetch(sql.cached("versions", lambda: (
        f"SELECT 0, {q('id')}, {q('version')} FROM {sql.name('objective')} "
        f"WHERE {q('id')} {sql.keys('objective', 'id')} UNION ALL "
        f"SELECT 1, {q('id')}, {q('version')} FROM {sql.name('key_result')} "
        f"WHERE {q('objective_id')} {sql.keys('key_result', 'objective_id')}")),
        [sql.param("objective", "id", plan.obj_ids),
         sql.param("key_result", "objective_id", plan.obj_ids)], ("kr", "id", "version"))
    objs = {i: v for k, i, v in zip(now["kr"], now["id"], now["version"], strict=True) if not k}
    krs = {i: v for k, i, v in zip(now["kr"], now["id"], now["version"], strict=True) if k}
    process_obj = sql.t("objective").c["id"].type.result_processor(sql.dialect, None)
    process_kr = sql.t("key_result").c["id"].type.result_processor(sql.dialect, None)
    if process_obj is not None:
        objs = {process_obj(i): v for i, v in objs.items()}
    if process_kr is not None:
        krs = {process_kr(i): v for i, v in krs.items()}
    return (objs == dict(zip(plan.obj_ids, plan.obj_versions, strict=True))
            and krs == dict(zip(plan.kr_ids, plan.kr_versions, strict=True)))


def _write(conn: Connection, sql: _Sql, plan: _Plan) -> tuple[int, int, int, int]:
    """Write the plan in the caller's transaction; ``(krs, objectives, people, skipped)``."""
    schema = sql.schema
    if sql.pg:  # incremental runs one at a time; no input changes until the commit
        names = ", ".join(sql.name(r) for r in _INPUT_ROLES)
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY}); "
                             f"LOCK TABLE {names} IN SHARE MODE")
    counts = [len(plan.writes[r].get(k, ())) for r, k in (
        ("kr_result", "kr_id"), ("objective_result", "objective_id"),
        ("person_result", "person_id"))]
    # the rows read must still be there: else another run consumed them (and wrote newer)
    if consume_changes(conn, schema, plan.log_ids) != len(plan.log_ids) or not _versions_now(
            sql, plan):
        raise _StaleError(sum(counts))
    for role, key, guard in (("kr_result", "kr_id", True),
                             ("objective_result", "objective_id", True),
                             ("person_result", "person_id", False)):
        columns = plan.writes[role]
        if not columns.get(key):
            continue
        table = schema.table(role)
        out: dict[str, Any] = {"as_of": np.full(len(columns[key]), plan.when, np.int64),
                               key: columns[key]}
        if guard:
            out["input_version"] = columns["input_version"]
        for name, _ in rows.RESULT_COLUMNS[{"kr_result": "kr", "objective_result": "obj",
                                            "person_result": "person"}[role]]:
            out[name] = to_stored(table, name, np.asarray(columns[name]))
        upsert_columns(conn, table, ("as_of", key), guard, out)
    for role, key in (("kr_result", "kr_id"), ("objective_result", "objective_id")):
        table = schema.table(role)
        gone = plan.deletes[role]
        if gone:
            conn.execute(delete(table).where(_at(table, "as_of", plan.when),
                                             table.c[key].in_(gone)))
        _flag_errors(conn, table, key, plan.when, *plan.flags[role])
    return counts[0], counts[1], counts[2], 0


def _snapshot(conn: Connection, schema: Schema,
              as_of: datetime | None) -> tuple[int | None, str | None]:
    """The snapshot brought up to date (default the latest) and its policy's JSON text."""
    sql = _Sql(conn, schema, 0)
    if as_of is None:
        found = sql.fetch(sql.cached("latest", lambda: (
            f"SELECT {sql.col('snapshot', 'as_of')}, {sql.col('snapshot', 'policy')} "
            f"FROM {sql.name('snapshot')} ORDER BY {sql.quote('as_of')} DESC LIMIT 1")),
            (), ("as_of", "policy"))
        if not found["as_of"]:
            return None, None
        return int(found["as_of"][0]), str(found["policy"][0])
    when = instant_us(as_of)
    snaps = schema.table("snapshot")
    row = conn.execute(select(snaps.c.policy).where(_at(snaps, "as_of", when))).first()
    return when, None if row is None else str(row[0])


@attrs.frozen
class FullRun:
    """The per-event run cannot apply the log: recompute everything at ``as_of``.

    Parameters
    ----------
    as_of : datetime or None
        The stored snapshot to recompute (``None``: none stored; the caller's default).
    """

    as_of: datetime | None


def recompute_changes(bind: Engine, *, as_of: datetime | None, policy: Policy,
                      progress: Progress, schema: Schema, kernel: str,
                      threads: int | None) -> RecomputeReport | FullRun:
    """Apply the change log: the per-event incremental recompute (see the module docstring).

    Parameters are those of :func:`okrcore_sqlalchemy.recompute` (``schema.change`` set).

    Returns
    -------
    RecomputeReport or FullRun
        ``incremental=True`` with the rows written; or :class:`FullRun` when the change log
        or the stored results call for a full recompute (the caller runs it).
    """
    t0 = time.perf_counter()
    failing = _database_errors(bind)
    progress("read", 0, 1)
    plan = None
    try:
        with bind.connect() as conn, conn.begin():
            when, stored_policy = _snapshot(conn, schema, as_of)
            if when is not None and stored_policy == _policy_json(policy):
                sql = _Sql(conn, schema, when)
                log = _read_log(sql)
                if not log.ids:
                    moment = rows.from_instant(when)
                    assert moment is not None
                    return RecomputeReport(moment, policy, 0, 0, 0, 0, (), dict.fromkeys(
                        ("green", "yellow", "red", "none"), 0), time.perf_counter() - t0,
                        0.0, 0.0, True)
                if not log.structural:
                    try:
                        part = _read_part(sql, log)
                        t1 = time.perf_counter()
                        progress("read", 1, 1)
                        progress("compute", 0, 1)
                        plan = _plan(sql, part, policy, kernel, threads)
                    except _FallbackError:
                        plan = None
                    except ValueError:  # a stored coded value outside its names
                        plan = None  # (okrcore.rows.stored_codes): the snapshot is not used
    except failing as exc:
        raise SourceError(f"cannot read the organisation: {_reason(exc)}") from exc
    if plan is None:  # a structural change, or what the stored results cannot absorb
        return FullRun(None if when is None else rows.from_instant(when))
    t2 = time.perf_counter()
    progress("compute", 1, 1)
    try:
        with bind.connect() as conn, conn.begin():
            sql = _Sql(conn, schema, plan.when)
            krs, objectives, people, skipped = _write(conn, sql, plan)
    except _StaleError as stale:  # rolled back: the log rows stay for the next run
        krs, objectives, people, skipped = 0, 0, 0, stale.skipped
    except failing as exc:
        raise StoreError(f"cannot write the results: {_reason(exc)} (nothing was written; "
                         "the stored snapshots are as they were)") from exc
    progress("write", 1, 1)
    t3 = time.perf_counter()
    moment = rows.from_instant(plan.when)
    assert moment is not None
    return RecomputeReport(moment, plan.policy, krs, objectives, people, skipped, plan.errors,
                           plan.colours, t1 - t0, t2 - t1, t3 - t2, True)
