"""The per-event path's reading side: its SQL statement cache and the queries of the affected part.

:class:`_Sql` assembles statements from Core fragments once per schema, dialect and snapshot and
runs them on the driver's cursor (a list of keys is one parameter); :func:`_read_log` reads the
change log, :func:`_read_part` what it affects, :func:`_frame` and :func:`_pinned` turn that
into the small frame :mod:`okrcore_sqlalchemy.events` evaluates, and :func:`_global_columns` and
:func:`_people` read what the frame's rows need from the rest of the stored organisation.
Private to :mod:`okrcore_sqlalchemy.events`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs
import numpy as np
from sqlalchemy import Connection, Table

from okrcore import rows
from okrcore.batch import BatchResult, OrgFrame
from okrcore.batch.engine import person_items, person_rollup
from okrcore.batch.pipeline import Pinned
from okrcore.codes import ERR_DEPENDS_ON_INVALID
from okrcore_sqlalchemy.reading import (
    RowError,
    _at,
    _checked_read,
    _raw,
    _Read,
)
from okrcore_sqlalchemy.schema import Schema
from okrcore_sqlalchemy.storage import from_stored


class _FallbackError(Exception):
    """The change log cannot be applied incrementally: run the full path."""


# --- SQL text, built once per schema, dialect and snapshot ---------------------------------------

_CACHE: dict[tuple[Any, ...], str] = {}
_SIGNATURES: dict[int, tuple[Schema, tuple[Any, ...]]] = {}


def _signature(schema: Schema) -> tuple[Any, ...]:
    """What the SQL text of a schema depends on: its tables' names and columns' types.

    (A schema of reflected tables, as the Django adapter builds, is not hashable.)
    """
    known = _SIGNATURES.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    signature = tuple((t.name, tuple((c.name, repr(c.type)) for c in t.c))
                      for t in schema.tables)
    if len(_SIGNATURES) > 64:
        _SIGNATURES.clear()
    _SIGNATURES[id(schema)] = (schema, signature)
    return signature


class _Sql:
    """Hand-assembled SQL on the driver's cursor, with key lists as one array parameter.

    Statements are compiled from Core fragments once and cached by name, so an event costs
    no SQLAlchemy compilation; a list of keys is one parameter (a JSON array read with
    ``json_each`` on SQLite, ``= ANY(CAST(… AS type[]))`` on PostgreSQL).
    """

    def __init__(self, conn: Connection, schema: Schema, when: int) -> None:
        self.conn, self.schema, self.when = conn, schema, when
        self.dialect = conn.dialect
        self.pg = conn.dialect.name == "postgresql"
        self.mark = "%s" if self.pg else "?"
        self.quote = conn.dialect.identifier_preparer.quote

    def t(self, role: str) -> Table:
        return self.schema.table(role)

    def name(self, role: str) -> str:
        return self.quote(self.t(role).name)

    def col(self, role: str, column: str, alias: str | None = None) -> str:
        """A column as the job reads it (instants as µs), qualified by ``alias``."""
        text = str(_raw(self.t(role), column).compile(
            dialect=self.dialect, compile_kwargs={"literal_binds": True}))
        if alias is not None:
            text = text.replace(f"{self.name(role)}.", f"{alias}.")
        return text

    def at(self, role: str, alias: str) -> str:
        """``alias.as_of = <the snapshot>`` (index-friendly; a literal)."""
        text = str(_at(self.t(role), "as_of", self.when).compile(
            dialect=self.dialect, compile_kwargs={"literal_binds": True}))
        return text.replace(f"{self.name(role)}.", f"{alias}.")

    def keys(self, role: str, column: str) -> str:
        """``IN (<one parameter: a list of keys of role.column>)``."""
        if self.pg:
            kind = self.t(role).c[column].type.compile(dialect=self.dialect)
            return f"= ANY(CAST({self.mark} AS {kind}[]))"
        return f"IN (SELECT value FROM json_each({self.mark}))"

    def param(self, role: str, column: str, values: Sequence[Any]) -> Any:
        """The parameter of :meth:`keys` for ``values`` (bound as the column binds them)."""
        process = self.t(role).c[column].type.bind_processor(self.dialect)
        out = [v if process is None or v is None else process(v) for v in values]
        if self.pg:
            return [v if v is None or isinstance(v, int | str) else str(v) for v in out]
        return json.dumps([v if v is None or isinstance(v, int | float | str) else str(v)
                           for v in out])

    def cached(self, key: str, build: Any) -> str:
        full = (_signature(self.schema), self.dialect.name, self.when, key)
        sql = _CACHE.get(full)
        if sql is None:
            if len(_CACHE) > 512:
                _CACHE.clear()
            sql = _CACHE[full] = build()
        return sql

    def fetch(self, sql: str, params: Sequence[Any], names: Sequence[str],
              keys: Mapping[str, tuple[str, str]] = {}) -> dict[str, list[Any]]:
        """Run on the driver's cursor; columns by name; key columns through their types."""
        cursor = self.conn.connection.cursor()
        try:
            if self.pg:  # a custom plan for each key list (a prepared generic one scans)
                cursor.execute(sql, tuple(params), prepare=False)  # type: ignore[call-arg]
            else:
                cursor.execute(sql, tuple(params))
            data = cursor.fetchall()
        finally:
            cursor.close()
        out = ({n: list(c) for n, c in zip(names, zip(*data, strict=True), strict=True)}
               if data else {n: [] for n in names})
        for name, (role, column) in keys.items():
            process = self.t(role).c[column].type.result_processor(self.dialect, None)
            if process is not None:
                out[name] = [process(v) for v in out[name]]
        return out




@attrs.frozen
class _Log:
    ids: list[int]
    krs: list[Any]
    objectives: list[Any]
    people: list[Any]
    structural: bool


def _read_log(sql: _Sql) -> _Log:
    names = ("id", "kr_id", "objective_id", "person_id", "structural")
    text = sql.cached("log", lambda: (
        f"SELECT {', '.join(sql.col('change', n) for n in names)} FROM {sql.name('change')} "
        f"ORDER BY {sql.col('change', 'id')}"))
    data = sql.fetch(text, (), names, {n: ("change", n) for n in names[1:4]})

    def distinct(values: list[Any]) -> list[Any]:
        return list(dict.fromkeys(v for v in values if v is not None))

    return _Log([int(i) for i in data["id"]], distinct(data["kr_id"]),
                distinct(data["objective_id"]), distinct(data["person_id"]),
                any(bool(s) for s in data["structural"]))


# --- reading the affected part -------------------------------------------------------------------

_OBJ_RESULT: Final = tuple(name for name, _ in rows.RESULT_COLUMNS["obj"])
_KR_RESULT: Final = tuple(name for name, _ in rows.RESULT_COLUMNS["kr"])
_OBJ_STORED: Final = (*_OBJ_RESULT, "input_version")
_KR_STORED: Final = (*_KR_RESULT, "input_version")
_PERSON_RESULT: Final = tuple(name for name, _ in rows.RESULT_COLUMNS["person"])


@attrs.define
class _Part:
    """What one event run read."""

    log: _Log
    objectives: dict[str, list[Any]]  # members: affected objectives and pinned children
    affected: np.ndarray  # per member: affected (else a pinned child)
    obj_stored: dict[str, list[Any]]  # stored result columns per member (+ "stored": bool)
    key_results: dict[str, list[Any]]
    kr_stored: dict[str, list[Any]]
    check_ins: dict[str, list[Any]]
    owners: dict[str, list[Any]]
    checkpoints: dict[str, list[Any]]
    people: list[Any]
    gone_krs: list[Any]  # logged key results no longer stored (their results are deleted)


def _stored_columns(sql: _Sql, role: str, alias: str, names: Sequence[str]) -> list[str]:
    return [sql.col(role, n, alias) for n in names]


def _read_part(sql: _Sql, log: _Log) -> _Part:
    """Read what the logged changes affect (see :mod:`okrcore_sqlalchemy.events`)."""
    q = sql.quote
    obj, kr = sql.name("objective"), sql.name("key_result")
    columns = (*rows.OBJECTIVE_COLUMNS, "version")
    names = (*columns, "affected", "stored", *(f"r_{n}" for n in _OBJ_STORED))
    def branch(flag: int, where: str) -> str:
        listed = [*(sql.col("objective", n, "o") for n in columns), str(flag),
                  f"r.{q('objective_id')} IS NOT NULL",
                  *_stored_columns(sql, "objective_result", "r", _OBJ_STORED)]
        return (f"SELECT {', '.join(f'{c} AS c{i}' for i, c in enumerate(listed))} "
                f"FROM {obj} o LEFT JOIN {sql.name('objective_result')} r "
                f"ON r.{q('objective_id')} = o.{q('id')} AND {sql.at('objective_result', 'r')} "
                f"WHERE {where}")

    # the objectives named and every ancestor (one recursive query), then the members: those
    # and their direct children, with their stored results, in the objectives' order
    # (the objectives named, and those of the key results named)
    ancestors = sql.fetch(sql.cached("up", lambda: (
        f"WITH RECURSIVE up(id) AS (SELECT {q('id')} FROM {obj} WHERE {q('id')} "
        f"{sql.keys('objective', 'id')} UNION SELECT {q('objective_id')} FROM {kr} WHERE "
        f"{q('id')} {sql.keys('key_result', 'id')} UNION SELECT o.{q('parent_id')} FROM {obj} o "
        f"JOIN up ON o.{q('id')} = up.id WHERE o.{q('parent_id')} IS NOT NULL) "
        f"SELECT id FROM up")),
        [sql.param("objective", "id", log.objectives), sql.param("key_result", "id", log.krs)],
        ("id",), {"id": ("objective", "id")})["id"]
    ident, parent = f"o.{q('id')}", f"o.{q('parent_id')}"
    ids = sql.keys("objective", "id")
    members = sql.fetch(sql.cached("members", lambda: (
        f"SELECT * FROM ({branch(1, f'{ident} {ids}')} UNION ALL "
        f"{branch(0, f'{parent} {ids} AND NOT ({ident} {ids})')}) AS m ORDER BY m.c1, m.c0")),
        [sql.param("objective", "id", ancestors)] * 3, names,
        {n: ("objective", n) for n in ("id", "owner_id", "parent_id")})
    affected = np.asarray([bool(a) for a in members["affected"]], dtype=bool)
    stored_now = {i: bool(s) for i, s, a in zip(members["id"], members["stored"], affected,
                                                 strict=True) if a}
    for ident_ in log.objectives:
        if ident_ not in stored_now:
            raise _FallbackError("an objective named by the change log is not stored (deleted)")
        if not stored_now[ident_]:
            raise _FallbackError("an objective named by the change log has no stored result "
                                 "(inserted, or in error when last computed)")
    objectives = {n: members[n] for n in columns}
    obj_stored = {"stored": members["stored"], **{n: members[f"r_{n}"] for n in _OBJ_STORED}}
    ids_a = [i for i, a in zip(objectives["id"], affected, strict=True) if a]
    kr_columns = (*rows.KEY_RESULT_COLUMNS, "version")
    kr_names = (*kr_columns, "stored", *(f"r_{n}" for n in _KR_STORED))
    key_results = sql.fetch(sql.cached("kr_rows", lambda: (
        f"SELECT {', '.join(sql.col('key_result', n, 'k') for n in kr_columns)}, "
        f"r.{q('kr_id')} IS NOT NULL, "
        f"{', '.join(_stored_columns(sql, 'kr_result', 'r', _KR_STORED))} "
        f"FROM {kr} k JOIN {obj} o ON o.{q('id')} = k.{q('objective_id')} "
        f"LEFT JOIN {sql.name('kr_result')} r ON r.{q('kr_id')} = k.{q('id')} "
        f"AND {sql.at('kr_result', 'r')} "
        f"WHERE k.{q('objective_id')} {sql.keys('key_result', 'objective_id')} "
        f"ORDER BY o.{q('position')}, o.{q('id')}, k.{q('objective_id')}, k.{q('position')}, "
        f"k.{q('id')}")),
        [sql.param("key_result", "objective_id", ids_a)], kr_names,
        {"id": ("key_result", "id"), "objective_id": ("key_result", "objective_id")}) \
        if ids_a else {n: [] for n in kr_names}
    kr_stored = {"stored": key_results.pop("stored"),
                 **{n: key_results.pop(f"r_{n}") for n in _KR_STORED}}
    kr_ids = list(key_results["id"])
    wanted = list(dict.fromkeys([*kr_ids, *log.krs]))

    def child(role: str, names: tuple[str, ...], order: tuple[str, ...]) -> dict[str, list[Any]]:
        if not wanted:
            return {n: [] for n in names}
        return sql.fetch(sql.cached(role, lambda: (
            f"SELECT {', '.join(sql.col(role, n, 'c') for n in names)} FROM {sql.name(role)} c "
            f"WHERE c.{q('kr_id')} {sql.keys(role, 'kr_id')} "
            f"ORDER BY {', '.join(f'c.{q(n)}' for n in order)}")),
            [sql.param(role, "kr_id", wanted)], names,
            {n: (role, n) for n in names if n in ("kr_id", "person_id")})

    check_ins = child("check_in", ("kr_id", "seq", "at", "value"), ("kr_id", "at", "seq"))
    owners = child("kr_owner", ("kr_id", "position", "person_id"), ("kr_id", "position"))
    checkpoints = child("checkpoint", ("kr_id", "position", "name", "done"),
                        ("kr_id", "position"))
    people = list(dict.fromkeys(
        [p for p, a in zip(objectives["owner_id"], affected, strict=True) if a and p is not None]
        + [p for p in owners["person_id"] if p is not None] + log.people))
    known = set(kr_ids)
    gone = [k for k in log.krs if k not in known]
    return _Part(log, objectives, affected, obj_stored, key_results, kr_stored, check_ins,
                 owners, checkpoints, people, gone)


def _frame(part: _Part) -> tuple[OrgFrame, _Read]:
    """The members' frame (bad values marked as in the full read) and its read record."""
    objectives, key_results = part.objectives, rows.sort_key_results(
        part.objectives["id"], part.key_results)
    orphans: list[RowError] = []
    read = _checked_read(objectives, key_results, part.check_ins, part.owners,
                         part.checkpoints, orphans)
    return read.frame, read


def _pinned(part: _Part, table: Table) -> Pinned:
    """The pinned children: their stored results (none stored: in error when computed)."""
    stored = np.asarray([bool(s) for s in part.obj_stored["stored"]], dtype=bool)

    def floats(name: str) -> Any:
        return np.asarray(from_stored(table, name, part.obj_stored[name]), dtype=np.float64)

    error = np.where(stored, np.asarray(
        [0 if e is None else e for e in from_stored(table, "error", part.obj_stored["error"])],
        dtype=np.int64), ERR_DEPENDS_ON_INVALID).astype(np.uint8)
    history = np.asarray([bool(h) for h in from_stored(table, "has_history",
                                                       part.obj_stored["has_history"])])
    return Pinned(mask=~part.affected, error=error, progress=floats("progress"),
                  previous=floats("previous"), forecast=floats("forecast_progress"),
                  history=history & stored)


# --- global row numbers of the stored columns that hold them -------------------------------------


def _objective_rank(sql: _Sql, ident: Any, position: Any) -> int:
    """The row of an objective in the full frame (objectives in ``position, id`` order)."""
    q = sql.quote
    text = sql.cached("rank", lambda: (
        f"SELECT COUNT(*) FROM {sql.name('objective')} o WHERE o.{q('position')} < {sql.mark} "
        f"OR (o.{q('position')} = {sql.mark} AND o.{q('id')} < {sql.mark})"))
    process = sql.t("objective").c["id"].type.bind_processor(sql.dialect)
    key = ident if process is None else process(ident)
    return int(sql.fetch(text, (position, position, key), ("n",))["n"][0])


def _unit_code(sql: _Sql, unit: str) -> int:
    """The stored code of a unit, from an objective stored as summing it (-1: none found)."""
    q = sql.quote
    text = sql.cached("unit", lambda: (
        f"SELECT r.{q('sum_unit')} FROM {sql.name('objective_result')} r "
        f"JOIN {sql.name('objective')} o ON o.{q('id')} = r.{q('objective_id')} "
        f"WHERE {sql.at('objective_result', 'r')} AND r.{q('sum_unit')} >= 0 AND "
        f"(o.{q('ps_unit')} = {sql.mark} OR (o.{q('ps_unit')} IS NULL AND EXISTS ("
        f"SELECT 1 FROM {sql.name('key_result')} k WHERE k.{q('objective_id')} = o.{q('id')} "
        f"AND k.{q('unit')} = {sql.mark}))) LIMIT 1"))
    found = sql.fetch(text, (unit, unit), ("code",))["code"]
    return int(found[0]) if found else -1


def _global_columns(sql: _Sql, part: _Part, frame: OrgFrame, result: BatchResult,
                    rows_: np.ndarray) -> dict[str, Any]:
    """``parent`` and ``sum_unit`` of the affected objectives ``rows_`` in the full frame.

    The stored value of an objective the log does not name is still right (its parent did
    not change; the unit vocabulary changes only with structural changes); otherwise the
    parent's row is taken from a sibling's stored value or counted, and a unit's code from
    another objective stored as summing it.
    """
    ids, parents = part.objectives["id"], part.objectives["parent_id"]
    logged = set(part.log.objectives)
    stored = part.obj_stored
    parent_out = np.asarray(result.obj_parent[rows_], dtype=np.int64).copy()
    unit_out = np.asarray(result.obj_sum_unit[rows_], dtype=np.int64).copy()
    names = frame.unit_names or []
    ranks: dict[Any, int] = {}
    for i, p in zip(range(len(ids)), parents, strict=True):
        if (ids[i] not in logged and stored["stored"][i] and p is not None
                and stored["parent"][i] is not None and stored["parent"][i] >= 0):
            ranks.setdefault(p, int(stored["parent"][i]))
    positions = dict(zip(ids, part.objectives["position"], strict=True))
    for j, row in enumerate(rows_.tolist()):
        was = stored["parent"][row] if stored["stored"][row] else None
        if parent_out[j] >= 0:
            parent = parents[row]
            if ids[row] not in logged and was is not None and was >= 0:
                parent_out[j] = was
            else:
                if parent not in ranks:
                    ranks[parent] = _objective_rank(sql, parent, positions[parent])
                parent_out[j] = ranks[parent]
        code = int(unit_out[j])
        if code >= 0:
            old = stored["sum_unit"][row] if stored["stored"][row] else None
            if old is not None and old >= 0:
                unit_out[j] = old
            else:
                found = _unit_code(sql, names[code])
                if found < 0:
                    raise _FallbackError(f"the code of unit {names[code]!r} is not stored")
                unit_out[j] = found
    return {"parent": parent_out, "sum_unit": unit_out}


# --- people --------------------------------------------------------------------------------------


def _people(sql: _Sql, part: _Part, frame: OrgFrame, result: BatchResult
            ) -> tuple[list[Any], Any]:
    """The affected people's results (the core's rule over all their items, in order).

    Items the run recomputed take their new results; the others their stored ones (an item
    without a stored result was in error when computed).
    """
    people = part.people
    if not people:
        return [], None
    q = sql.quote
    obj, kr, own = sql.name("objective"), sql.name("key_result"), sql.name("kr_owner")
    param = [sql.param("kr_owner", "person_id", people)]
    objectives = sql.fetch(sql.cached("p_obj", lambda: (
        f"SELECT o.{q('id')}, o.{q('owner_id')}, r.{q('objective_id')} IS NOT NULL, "
        f"{sql.col('objective_result', 'error', 'r')}, "
        f"{sql.col('objective_result', 'progress', 'r')} FROM {obj} o "
        f"LEFT JOIN {sql.name('objective_result')} r ON r.{q('objective_id')} = o.{q('id')} "
        f"AND {sql.at('objective_result', 'r')} WHERE o.{q('id')} IN ("
        f"SELECT {q('id')} FROM {obj} WHERE {q('owner_id')} {sql.keys('kr_owner', 'person_id')} "
        f"UNION SELECT k.{q('objective_id')} FROM {kr} k JOIN {own} w ON w.{q('kr_id')} = "
        f"k.{q('id')} WHERE w.{q('person_id')} {sql.keys('kr_owner', 'person_id')}) "
        f"ORDER BY o.{q('position')}, o.{q('id')}")),
        param * 2, ("id", "owner_id", "stored", "error", "progress"),
        {"id": ("objective", "id"), "owner_id": ("objective", "owner_id")})
    key_results = sql.fetch(sql.cached("p_kr", lambda: (
        f"SELECT k.{q('id')}, k.{q('objective_id')}, r.{q('kr_id')} IS NOT NULL, "
        f"{sql.col('kr_result', 'error', 'r')}, {sql.col('kr_result', 'progress', 'r')} "
        f"FROM {kr} k JOIN {obj} o ON o.{q('id')} = k.{q('objective_id')} "
        f"LEFT JOIN {sql.name('kr_result')} r ON r.{q('kr_id')} = k.{q('id')} "
        f"AND {sql.at('kr_result', 'r')} WHERE k.{q('id')} IN (SELECT {q('kr_id')} FROM {own} "
        f"WHERE {q('person_id')} {sql.keys('kr_owner', 'person_id')}) "
        f"ORDER BY o.{q('position')}, o.{q('id')}, k.{q('objective_id')}, k.{q('position')}, "
        f"k.{q('id')}")),
        param, ("id", "objective_id", "stored", "error", "progress"),
        {"id": ("key_result", "id"), "objective_id": ("key_result", "objective_id")})
    entries = sql.fetch(sql.cached("p_own", lambda: (
        f"SELECT {q('kr_id')}, {q('person_id')} FROM {own} "
        f"WHERE {q('person_id')} {sql.keys('kr_owner', 'person_id')} "
        f"ORDER BY {q('kr_id')}, {q('position')}")),
        param, ("kr_id", "person_id"),
        {"kr_id": ("kr_owner", "kr_id"), "person_id": ("kr_owner", "person_id")})
    # the run's own results replace the stored ones
    assert frame.obj_ids is not None and frame.kr_ids is not None
    new_obj = {i: r for r, i in enumerate(frame.obj_ids) if part.affected[r]}
    new_kr = {i: r for r, i in enumerate(frame.kr_ids)}

    def item_columns(data: dict[str, list[Any]], new: dict[Any, int], error: Any,
                     progress: Any) -> tuple[Any, Any]:
        bad = np.asarray([not s or bool(e) for s, e in zip(data["stored"], data["error"],
                                                          strict=True)], dtype=bool)
        prog = np.asarray([np.nan if p is None else p for p in data["progress"]], np.float64)
        for j, ident in enumerate(data["id"]):
            r = new.get(ident)
            if r is not None:
                bad[j], prog[j] = bool(error[r] != 0), progress[r]
        return bad, prog

    obj_bad, obj_prog = item_columns(objectives, new_obj, result.obj_error, result.obj_progress)
    kr_bad, kr_prog = item_columns(key_results, new_kr, result.kr_error, result.kr_progress)
    codes = {p: i for i, p in enumerate(people)}

    def person(p: Any) -> int:
        return codes.setdefault(p, len(codes))

    obj_row = {i: r for r, i in enumerate(objectives["id"])}
    kr_row = {i: r for r, i in enumerate(key_results["id"])}
    keep = [k in kr_row for k in entries["kr_id"]]
    owner_kr = np.asarray([kr_row[k] for k, ok in zip(entries["kr_id"], keep, strict=True)
                           if ok], dtype=np.int64)
    owner_person = np.asarray([person(p) for p, ok in zip(entries["person_id"], keep,
                                                          strict=True) if ok], dtype=np.int32)
    order = np.argsort(owner_kr, kind="stable")
    n_kr = len(key_results["id"])
    mini = OrgFrame.from_columns(
        kr_objective=np.asarray([obj_row[o] for o in key_results["objective_id"]], np.int64),
        kr_kind=np.zeros(n_kr, np.uint8), kr_target=np.zeros(n_kr),
        obj_parent=np.full(len(objectives["id"]), -1, np.int64),
        obj_owner=np.asarray([-1 if o is None else person(o) for o in objectives["owner_id"]],
                             np.int32),
        kr_owner_offsets=np.concatenate([[0], np.cumsum(np.bincount(owner_kr, minlength=n_kr))]
                                        ).astype(np.int64),
        kr_owner_ids=owner_person[order])
    who, bad, prog, ref = person_items(mini, obj_bad.astype(np.uint8), obj_prog,
                                       kr_bad.astype(np.uint8), kr_prog)
    progress, items, error_ref, seen = person_rollup(who, bad, prog, ref, len(codes))
    n = len(people)
    return people, (progress[:n], items[:n], error_ref[:n], seen[:n])
