"""Reading the stored organisation for the bulk job: Core ``select`` statements into columns.

The SQL helpers (instants as µs, key columns as text), the checks of every input value (a bad
value becomes a ``wrong_type`` row error, never an abort) and the columnar read behind
:func:`okrcore_sqlalchemy.recompute` (:func:`_read`), with the errors the job reports.  The
public names here are re-exported by :mod:`okrcore_sqlalchemy.job` and the package.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Table,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

import okrcore
from okrcore import errors as E
from okrcore import rows
from okrcore._auto import gc_paused
from okrcore.batch import BatchResult, OrgFrame
from okrcore.batch.frame import LOAD_INVALID
from okrcore.codes import COLOUR_NAMES, COLOUR_NONE
from okrcore.errors import OkrError
from okrcore.interchange import loads
from okrcore.jobs._text import one_line
from okrcore.policy import Policy
from okrcore_sqlalchemy.schema import (
    _DECLARED_REFERENCES,
    Instant,
    KeyTypeError,
    Schema,
    Timestamp,
    key_type_name,
)

__all__ = ["PHASES", "RowError", "SourceError", "StoreError"]

PHASES: Final = ("read", "compute", "write")
"""Phases reported to a ``progress`` callback, in order."""

Progress = Callable[[str, int, int], None]
_COLOURS: Final = {COLOUR_NONE: "none", **dict(enumerate(COLOUR_NAMES))}
"""Colour names by code (``none`` for :data:`okrcore.codes.COLOUR_NONE`)."""
_I64 = npt.NDArray[np.int64]


class SourceError(Exception):
    """The database cannot be read as an organisation (not a database, missing tables...).

    Nothing was written.  The message is one line and never holds SQL or its parameters.
    """


class StoreError(Exception):
    """The results could not be written (a read-only database, a full disk...).

    The write transaction was rolled back: the stored snapshots are as they were.  The
    message is one line and never holds SQL or its parameters.
    """


def _database_errors(bind: Engine) -> tuple[type[BaseException], ...]:
    """The exceptions of the database and its driver (the job's raw cursor raises the latter)."""
    from sqlalchemy.exc import SQLAlchemyError

    dbapi = getattr(bind.dialect, "loaded_dbapi", None) or bind.dialect.dbapi
    driver = getattr(dbapi, "Error", None)
    return (SQLAlchemyError,) if driver is None else (SQLAlchemyError, driver)


def _reason(exc: BaseException) -> str:
    """The driver's own message, first line only: no SQL statement, no parameters."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return one_line(text.splitlines()[0] if text else type(exc).__name__)


@attrs.frozen
class RowError:
    """A stored row that could not be evaluated (its result is not written).

    Parameters
    ----------
    table : str
        ``key_results``, ``objectives``, ``people`` (a person owning an item in error), or
        ``check_ins`` / ``kr_owners`` / ``checkpoints`` for a row naming a key result that is
        not stored.
    key : str
        The row's primary key.
    error : OkrError
        Code, path (the column) and message naming the value.
    """

    table: str
    key: str
    error: OkrError

    def to_json(self) -> dict[str, Any]:
        """``{table, key, code, path, message}``."""
        return {"table": self.table, "key": self.key, **self.error.to_json()}


class _Micros(FunctionElement[int]):
    """An instant column read as µs since the Unix epoch [µs, UTC].

    Any instant type: :class:`~okrcore_sqlalchemy.Instant`, ``Timestamp`` or an application's
    own ``DateTime``.
    """

    type = BigInteger()
    name = "okrcore_micros"
    inherit_cache = True


@compiles(_Micros, "postgresql")
def _micros_pg(element: _Micros, compiler: SQLCompiler, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    return f"CAST(EXTRACT(EPOCH FROM {arg}) * 1000000 AS BIGINT)"


@compiles(_Micros, "sqlite")
def _micros_sqlite(element: _Micros, compiler: SQLCompiler, **kw: Any) -> str:
    # 'YYYY-MM-DD HH:MM:SS[.f…]' in UTC: whole seconds, then the fraction padded to 6 digits;
    # stored text that is not an instant reads as itself (not NULL: absent), so that the job
    # reports it as a bad value
    arg = compiler.process(element.clauses, **kw)
    if isinstance(element.clauses.clauses[0].type, Instant):
        return arg  # stored as integer µs on SQLite
    micros = (f"(CAST(strftime('%s', substr({arg}, 1, 19)) AS INTEGER) * 1000000 + "
              f"CAST(substr({arg} || '000000', 21, 6) AS INTEGER))")
    return f"(CASE WHEN {arg} IS NOT NULL AND {micros} IS NULL THEN {arg} ELSE {micros} END)"


def _is_instant(kind: Any) -> bool:
    """Whether a column type holds instants (read and written by the job as µs)."""
    return isinstance(kind, Instant | Timestamp | DateTime)


def _moment(kind: Any, micros: int) -> datetime:
    """An instant [µs] as the datetime bound to a column of type ``kind``.

    Aware UTC; naive UTC for a ``DateTime`` without time zone (as the job reads those).
    """
    moment = rows.from_instant(micros)
    assert moment is not None
    if isinstance(kind, DateTime) and not kind.timezone:
        return moment.replace(tzinfo=None)
    return moment


def _at(table: Table, name: str, micros: int) -> Any:
    """``table.name = micros`` that can use an index on the column (any instant type)."""
    column = table.c[name]
    if _is_instant(column.type):
        return column == literal(_moment(column.type, micros), column.type)
    return column == micros


def _raw(table: Table, name: str) -> Any:
    """A column as the job reads it: instants as integer µs, everything else as stored."""
    column = table.c[name]
    if _is_instant(column.type):
        return _Micros(column)
    return column


def _instant_storage(kind: Any, values: Sequence[Any], dialect: str) -> tuple[list[Any], str]:
    """Instants [µs; ``None`` kept] as written to a column of type ``kind`` by a raw statement.

    Returns the values and the PostgreSQL type of the column (``timestamptz`` or ``timestamp``).
    PostgreSQL: the µs themselves, turned into timestamps in SQL (:func:`_pg_instant`); SQLite:
    µs for an :class:`Instant`, Django's text for a ``Timestamp``, SQLAlchemy's text
    (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC) for a ``DateTime``.
    """
    naive = isinstance(kind, DateTime) and not kind.timezone
    pg_type = "timestamp" if naive else "timestamptz"
    if dialect != "sqlite" or isinstance(kind, Instant):
        return list(values), pg_type
    if isinstance(kind, Timestamp):
        return [kind.storage(v, dialect) for v in values], pg_type
    present = [i for i, v in enumerate(values) if v is not None]
    micros = np.asarray([values[i] for i in present], np.int64).astype("datetime64[us]")
    text = np.char.replace(np.datetime_as_string(micros, unit="us"), "T", " ")
    out: list[Any] = [None] * len(values)
    for i, value in zip(present, text.tolist(), strict=True):
        out[i] = value
    return out, pg_type


def _pg_instant(micros: str, pg_type: str) -> str:
    """SQL turning an expression of µs [BIGINT] into a PostgreSQL ``pg_type``, exactly."""
    return (f"({pg_type.upper()} 'epoch' + ({micros} / 1000000) * INTERVAL '1 second' "
            f"+ mod({micros}, 1000000) * INTERVAL '1 microsecond')")


_KEY_COLUMNS: Final = frozenset({"id", *(name for _, name in _DECLARED_REFERENCES)})
"""Columns holding the key of a role (the core's ids are their text)."""


def _key_text(value: Any) -> Any:
    """A stored key as the core's id (its text; ``None`` kept)."""
    return value if value is None or isinstance(value, str) else str(value)


def _key_value(text: Any, column: Any) -> Any:
    """The core's id (text) as a value of the key column ``column`` (int, UUID or str)."""
    if text is None:
        return None
    name = key_type_name(column)
    try:
        if name == "int":
            return int(text)
        if name == "UUID":
            return uuid.UUID(text)
    except ValueError as exc:
        raise ValueError(f"{column.table.name}.{column.name} holds {name} keys: the id "
                         f"{text!r} is not one") from exc
    return text


def _fetch(conn: Connection, query: Any, names: Sequence[str]) -> dict[str, list[Any]]:
    """Run a Core select on the DBAPI cursor and return its columns (no Row per row)."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled))
        data = cursor.fetchall()
    finally:
        cursor.close()
    if not data:
        return {n: [] for n in names}
    return {n: list(c) for n, c in zip(names, zip(*data, strict=True), strict=True)}


def _columns_query(table: Table, names: Sequence[str], order: Sequence[str], where: Any = None,
                   raw: Callable[[Table, str], Any] = _raw) -> Any:
    """The select of :func:`_columns` (also compiled for the columnar read)."""
    query = select(*[raw(table, n) for n in names]).order_by(*[table.c[o] for o in order])
    return query if where is None else query.where(where)


def _columns(conn: Connection, table: Table, names: Sequence[str], order: Sequence[str],
             where: Any = None) -> dict[str, list[Any]]:
    return _keys_read(conn, table, _fetch(conn, _columns_query(table, names, order, where),
                                          names))


def _keys_read(conn: Connection, table: Table, data: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Key columns read on the driver's cursor as the key type's values (a UUID...)."""
    for name in data:
        if name in _KEY_COLUMNS:
            process = table.c[name].type.result_processor(conn.dialect, None)
            if process is not None:
                data[name] = [process(v) for v in data[name]]
    return data


def _kr_query(schema: Schema, names: Sequence[str],
              raw: Callable[[Table, str], Any] = _raw) -> Any:
    """The select of :func:`_kr_columns` (also compiled for the columnar read)."""
    kr, obj = schema.table("key_result"), schema.table("objective")
    return (select(*[raw(kr, n) for n in names])
            .select_from(kr.outerjoin(obj, kr.c.objective_id == obj.c.id))
            .order_by(obj.c.position.is_(None), obj.c.position, obj.c.id, kr.c.objective_id,
                      kr.c.position, kr.c.id))


def _kr_columns(conn: Connection, schema: Schema, names: Sequence[str]) -> dict[str, list[Any]]:
    """Key result columns in the objectives' order (the database sorts)."""
    return _keys_read(conn, schema.table("key_result"),
                      _fetch(conn, _kr_query(schema, names), names))


def _row_dicts(conn: Connection, table: Table, names: Sequence[str]) -> list[dict[str, Any]]:
    # on the driver's cursor, as the job reads: values as stored ('maybe' in a boolean
    # column stays 'maybe', where SQLAlchemy's result processing would make it True)
    data = _keys_read(conn, table, _fetch(conn, select(*[_raw(table, n) for n in names]),
                                          names))
    columns = [[_key_text(v) for v in data[n]] if n in _KEY_COLUMNS else data[n]
               for n in names]
    return [dict(zip(names, r, strict=True)) for r in zip(*columns, strict=True)]


_INPUTS: Final = {
    "people": ("person", rows.PERSON_COLUMNS),
    "objectives": ("objective", rows.OBJECTIVE_COLUMNS),
    "key_results": ("key_result", rows.KEY_RESULT_COLUMNS),
    "kr_owners": ("kr_owner", rows.OWNER_COLUMNS),
    "checkpoints": ("checkpoint", rows.CHECKPOINT_COLUMNS),
    "check_ins": ("check_in", rows.CHECK_IN_COLUMNS),
}


def _policy_from_json(text: str) -> Policy:
    document = loads(json.dumps({"okrcore": 1, "as_of": "2000-01-01T00:00:00Z",
                                 "policy": json.loads(text), "objectives": []}))
    return document.policy


def _latest_snapshot(conn: Connection, schema: Schema) -> tuple[int, str] | None:
    table = schema.table("snapshot")
    row = conn.execute(select(_raw(table, "as_of"), table.c.policy)
                       .order_by(table.c.as_of.desc()).limit(1)).first()
    return None if row is None else (int(row[0]), str(row[1]))


@attrs.frozen(eq=False)
class _Read:
    frame: OrgFrame
    objectives: dict[str, list[Any]]
    key_results: dict[str, list[Any]]
    check_ins: dict[str, list[Any]]
    checkpoints: dict[str, list[Any]]
    kr_version: _I64
    obj_version: _I64
    orphans: list[RowError]
    bad_kr: dict[int, OkrError] = attrs.field(factory=dict)
    bad_obj: dict[int, OkrError] = attrs.field(factory=dict)


_OBJ_ORDER: Final = ("position", "id")


def _attached(columns: dict[str, list[Any]], key: str, known: set[Any], table: str,
              ident: str, orphans: list[RowError]) -> dict[str, list[Any]]:
    """The rows whose ``key`` names a known row; the others are reported in ``orphans``."""
    keep = [value in known for value in columns[key]]
    if all(keep):
        return columns
    _check_key_types(columns[key], keep, known, table, key)
    for value, ok, name in zip(columns[key], keep, columns[ident], strict=True):
        if not ok:
            orphans.append(RowError(table, str(name), OkrError(
                E.INVALID_VALUE, key, f"{key} {value!r} names a row that is not stored")))
    return {name: [v for v, ok in zip(values, keep, strict=True) if ok]
            for name, values in columns.items()}


def _check_key_types(values: Sequence[Any], found: Sequence[bool], known: Iterable[Any],
                     table: str, column: str) -> None:
    """Raise when keys were missed only because they are stored as another type.

    A key stored as text ``'1'`` never equals the integer key ``1`` it was written from: the
    rows would silently look missing.
    """
    missed = [v for v, ok in zip(values, found, strict=True) if not ok and v is not None]
    if not missed:
        return
    sample = next(iter(known), None)
    if sample is None or type(missed[0]) is type(sample):
        return
    texts = {str(k) for k in known}
    if any(str(v) in texts for v in missed):
        raise KeyTypeError(table, column, _REFERS_TO.get(column, column),
                           type(sample).__name__, type(missed[0]).__name__)


_REFERS_TO: Final = {"objective_id": "objective", "kr_id": "key_result",
                     "person_id": "person"}


_no_gc = gc_paused  # the core's pause of the cyclic collector (okrcore._auto)


_NUMBER, _INSTANT, _FLAG, _INTEGER = "a number", "an instant (integer µs)", "a boolean (0 or 1)", \
    "an integer"
_CHECKED: Final[Mapping[str, Mapping[str, str]]] = {
    "objectives": {"position": _INTEGER, "weight": _NUMBER, "start_at": _INSTANT,
                   "due_at": _INSTANT, "include_children": _FLAG, "ps_target": _NUMBER,
                   "ps_auto": _FLAG, "ps_start": _NUMBER, "version": _INTEGER},
    "key_results": {"position": _INTEGER, "start": _NUMBER, "target": _NUMBER,
                    "current": _NUMBER, "stages_total": _NUMBER, "red_low": _NUMBER,
                    "yellow_low": _NUMBER, "yellow_high": _NUMBER, "red_high": _NUMBER,
                    "due_at": _INSTANT, "weight": _NUMBER, "has_history": _FLAG,
                    "version": _INTEGER},
    "check_ins": {"seq": _INTEGER, "at": _INSTANT, "value": _NUMBER},
    "checkpoints": {"position": _INTEGER, "done": _FLAG},
    "kr_owners": {"position": _INTEGER},
}
"""The numeric, instant and boolean input columns, per table, and what each must hold.

The database's column types normally guarantee them, but SQLite stores any value in any
column (type affinity): text in a number column reaches the job as text."""

_NEUTRAL: Final = {_NUMBER: None, _INSTANT: None, _FLAG: 0, _INTEGER: 0}
"""What stands in for a bad value so that the row's item can be built (it is never written)."""


def _fits(value: Any, what: str) -> bool:
    if value is None:
        return what in (_NUMBER, _INSTANT)  # NULL: absent (NOT NULL columns never hold it)
    kind = type(value)
    if what == _NUMBER:  # a Numeric column of a custom schema reads as Decimal
        return kind in (float, int, Decimal) or isinstance(value, np.integer | np.floating)
    if what == _FLAG:
        return kind is bool or (kind is int and value in (0, 1))
    return kind is int or isinstance(value, np.integer)  # an instant or an integer


def _bad_values(columns: dict[str, list[Any]], table: str, key: str,
                rows_of: Callable[[int], int | None], key_of: Callable[[int], str]
                ) -> dict[int, list[OkrError]]:
    """Replace the bad values of the checked columns; return their errors per item row.

    ``rows_of(i)`` is the key result or objective row the table's row ``i`` belongs to (``None``:
    none); ``key_of(i)`` names the table's row in messages.  A bad value makes its item a row
    error: it is replaced by a neutral value (:data:`_NEUTRAL`) so that the rest of the
    organisation can be read, and the item is marked as not loaded, so it is never written.
    """
    bad: dict[int, list[OkrError]] = {}
    for name, what in _CHECKED[table].items():
        values = columns.get(name)
        if values is None:
            continue
        for i, value in enumerate(values):
            if _fits(value, what):
                continue
            item, where = rows_of(i), key_of(i)
            values[i] = _neutral(table, name, what)
            if item is not None:
                bad.setdefault(item, []).append(_bad_error(table, where, name, value, what))
    return bad


def _neutral(table: str, name: str, what: str) -> Any:
    return 0 if (table, name) == ("check_ins", "at") else _NEUTRAL[what]


def _bad_error(table: str, where: str, name: str, value: Any, what: str) -> OkrError:
    path = name if table in ("objectives", "key_results") else f"{table}.{name}"
    return OkrError(E.WRONG_TYPE, path,
                    one_line(f"{table} row {where}: {name} is {value!r}, not {what}"))


_ROW_KEY: Final = {"check_ins": "seq", "checkpoints": "position", "kr_owners": "position"}


def _bad_rows(tables: Mapping[str, list[dict[str, Any]]]
              ) -> tuple[dict[str, list[OkrError]], dict[str, list[OkrError]]]:
    """:func:`_bad_values` on row dicts (keys as text): errors per key result and objective id."""
    bad: dict[str, dict[str, list[OkrError]]] = {"key_results": {}, "objectives": {}}
    for table, checks in _CHECKED.items():
        for row in tables.get(table, ()):
            for name, what in checks.items():
                if name not in row or _fits(row[name], what):
                    continue
                if table in bad:
                    item, errors, where = row["id"], bad[table], repr(row["id"])
                else:
                    key = _ROW_KEY[table]
                    item, errors = row["kr_id"], bad["key_results"]
                    where = f"(kr_id {row['kr_id']!r}, {key} {row[key]!r})"
                value, row[name] = row[name], _neutral(table, name, what)
                errors.setdefault(item, []).append(_bad_error(table, where, name, value, what))
    return bad["key_results"], bad["objectives"]


def _invalidated(document: okrcore.Document, bad_kr: Mapping[str, list[OkrError]],
                 bad_obj: Mapping[str, list[OkrError]]) -> okrcore.Document:
    """The document with the items of ``bad_kr`` / ``bad_obj`` as invalid items."""
    from okrcore.model import InvalidKeyResult, InvalidObjective

    objectives: list[okrcore.Objective | InvalidObjective] = []
    for obj in document.objectives:
        krs = tuple(InvalidKeyResult(kr.id, tuple(bad_kr[kr.id]), kr.owners, 1.0)
                    if kr.id is not None and kr.id in bad_kr else kr for kr in obj.key_results)
        if obj.id is not None and obj.id in bad_obj:
            objectives.append(InvalidObjective(obj.id, tuple(bad_obj[obj.id]), obj.owner, None,
                                               1.0, krs))
        else:
            objectives.append(attrs.evolve(obj, key_results=krs))
    return attrs.evolve(document, objectives=objectives)


def _read(conn: Connection, schema: Schema, progress: Progress) -> _Read:
    with _no_gc():
        return _read_columns(conn, schema, progress)


def _read_columns(conn: Connection, schema: Schema, progress: Progress) -> _Read:
    objectives = _columns(conn, schema.table("objective"), (*rows.OBJECTIVE_COLUMNS, "version"),
                          _OBJ_ORDER)
    progress("read", 1, 5)
    key_results = rows.sort_key_results(
        objectives["id"], _kr_columns(conn, schema, (*rows.KEY_RESULT_COLUMNS, "version")))
    progress("read", 2, 5)
    check_ins = _columns(conn, schema.table("check_in"), ("kr_id", "seq", "at", "value"),
                         ("kr_id", "at", "seq"))
    progress("read", 3, 5)
    owners = _columns(conn, schema.table("kr_owner"), ("kr_id", "position", "person_id"),
                      ("kr_id", "position"))
    progress("read", 4, 5)
    checkpoints = _columns(conn, schema.table("checkpoint"),
                           ("kr_id", "position", "name", "done"), ("kr_id", "position"))
    progress("read", 5, 5)
    orphans: list[RowError] = []
    key_results = _attached(key_results, "objective_id", set(objectives["id"]), "key_results",
                            "id", orphans)
    return _checked_read(objectives, key_results, check_ins, owners, checkpoints, orphans)



def _checked_read(objectives: dict[str, list[Any]], key_results: dict[str, list[Any]],
                  check_ins: dict[str, list[Any]], owners: dict[str, list[Any]],
                  checkpoints: dict[str, list[Any]], orphans: list[RowError]) -> _Read:
    """The frame of the rows read, with bad values marked, and its read record.

    Rows of check-ins, owners and checkpoints naming a key result not read become ``orphans``;
    a value of the wrong type makes its item invalid (a ``wrong_type`` row error).  Shared by
    the full read and the per-event read (:mod:`okrcore_sqlalchemy.events`).
    """
    known = set(key_results["id"])
    check_ins = _attached(check_ins, "kr_id", known, "check_ins", "kr_id", orphans)
    owners = _attached(owners, "kr_id", known, "kr_owners", "kr_id", orphans)
    checkpoints = _attached(checkpoints, "kr_id", known, "checkpoints", "kr_id", orphans)
    obj_ids, kr_ids = objectives["id"], key_results["id"]
    kr_row = {ident: i for i, ident in enumerate(kr_ids)}
    bad_obj = _bad_values(objectives, "objectives", "id", lambda i: i,
                          lambda i: repr(_key_text(obj_ids[i])))
    bad_kr = _bad_values(key_results, "key_results", "id", lambda i: i,
                         lambda i: repr(_key_text(kr_ids[i])))
    for table, columns, key in (("check_ins", check_ins, "seq"),
                                ("checkpoints", checkpoints, "position"),
                                ("kr_owners", owners, "position")):
        krs, keys = columns["kr_id"], columns[key]
        found = _bad_values(
            columns, table, key, lambda i, krs=krs: kr_row.get(krs[i]),  # type: ignore[misc]
            lambda i, krs=krs, keys=keys, key=key: (  # type: ignore[misc]
                f"(kr_id {_key_text(krs[i])!r}, {key} {keys[i]!r})"))
        for row, errs in found.items():
            bad_kr.setdefault(row, []).extend(errs)
    frame = rows.frame_from_columns(objectives, key_results, check_ins, owners, checkpoints)
    if bad_obj or bad_kr:
        kr_load = frame.kr_load.copy()
        kr_load[list(bad_kr)] = LOAD_INVALID
        obj_load = frame.obj_load.copy()
        obj_load[list(bad_obj)] = LOAD_INVALID
        frame = attrs.evolve(frame, kr_load=kr_load, obj_load=obj_load, load_errors={
            **{f"k{r}": tuple(e) for r, e in bad_kr.items()},
            **{f"o{r}": tuple(e) for r, e in bad_obj.items()}})
    return _Read(frame, objectives, key_results, check_ins, checkpoints,
                 np.asarray(key_results["version"], dtype=np.int64),
                 np.asarray(objectives["version"], dtype=np.int64), orphans,
                 {r: e[0] for r, e in bad_kr.items()}, {r: e[0] for r, e in bad_obj.items()})


class _Bad(E.OkrValueError):
    """A value found bad when reading, raised again where the core's errors are collected."""

    def __init__(self, error: OkrError) -> None:
        super().__init__(error.code, error.path, error.message)


def _row_errors(read: _Read, result: BatchResult) -> list[RowError]:
    frame = read.frame
    assert frame.kr_ids is not None and frame.obj_ids is not None
    bad_krs = {frame.kr_ids[int(i)] for i in np.flatnonzero(result.kr_error)}
    history: dict[str, list[tuple[int, float]]] = {}
    points: dict[str, list[tuple[str, bool]]] = {}
    for kid, at, value in zip(read.check_ins["kr_id"], read.check_ins["at"],
                              read.check_ins["value"], strict=True):
        if kid in bad_krs:
            history.setdefault(kid, []).append((at, value))
    for kid, name, done in zip(read.checkpoints["kr_id"], read.checkpoints["name"],
                               read.checkpoints["done"], strict=True):
        if kid in bad_krs:
            points.setdefault(kid, []).append((name, bool(done)))

    def kr(row: int) -> None:
        if row in read.bad_kr:
            raise _Bad(read.bad_kr[row])
        data = {k: _key_text(v[row]) if k in _KEY_COLUMNS else v[row]
                for k, v in read.key_results.items()}
        key = read.key_results["id"][row]
        rows.key_result_from_row(data, history.get(key), (), points.get(key))

    def objective(row: int) -> None:
        if row in read.bad_obj:
            raise _Bad(read.bad_obj[row])
        rows.objective_from_row({k: _key_text(v[row]) if k in _KEY_COLUMNS else v[row]
                                 for k, v in read.objectives.items()})

    out = []
    for table, row, error in rows.row_errors(result, kr, objective):
        ids = frame.kr_ids if table == "key_results" else frame.obj_ids
        out.append(RowError(table, str(ids[row]), error))
    people = frame.person_names or ()
    for index in np.flatnonzero(result.person_seen & (result.person_error_ref >= 0)):
        out.append(RowError("people", str(people[int(index)]), OkrError(
            E.DEPENDS_ON_INVALID, "", "owns an objective or key result that has an error")))
    return out
