"""Columnar bulk I/O of the full recompute: ADBC reads into Arrow, bulk ingest and upserts.

:func:`okrcore_sqlalchemy.recompute` uses this module for a full recompute when the engine is
a SQLite file or PostgreSQL and the ``adbc`` extra is installed (``io="auto"``):

* **read**: the same SQLAlchemy Core selects as the row path (instants through ``_raw``) are
  compiled for the engine's dialect and run on an ADBC connection (``adbc-driver-sqlite`` /
  ``adbc-driver-postgresql``) straight into Arrow tables; keys, vocabularies, people and units
  are mapped to the engine's rows and codes with Arrow compute
  (:func:`okrcore.rows.frame_from_codes`), with no Python object per row.  Every value is checked
  in columns; when one is bad (SQLite keeps text in a number column) the job falls back to the
  row path, which reports it as a row error.
* **write**: one ADBC transaction (PostgreSQL: after ``LOCK TABLE … IN SHARE MODE`` on the input
  tables; SQLite: under the write lock taken by the snapshot upsert) re-reads the versions (the
  guard of the row path; on SQLite only when another connection committed since the read,
  ``PRAGMA data_version``), deletes the change-log ids read before the input, then writes each
  result table: a new snapshot by one bulk ingest into the table (on SQLite with its secondary
  indexes built after it when the table holds no more rows than are written), else by a bulk
  ingest into a temporary table and one ``INSERT … SELECT … ON CONFLICT … DO UPDATE … WHERE
  input_version <= excluded.input_version``.  Re-running a stored snapshot of a schema with a
  change log also flags kept rows and drops removed items' results, as the row path does
  (:func:`okrcore_sqlalchemy.events.drop_stale`).  Result values are converted by
  :func:`okrcore_sqlalchemy.storage.to_stored_arrow` (the values of
  :func:`~okrcore_sqlalchemy.storage.to_stored`, as Arrow arrays).

The read lives in :mod:`okrcore_sqlalchemy._columnar_read`; :func:`recompute` looks
``read_columns`` up in this module, which re-exports it.

Install with ``pip install 'okrcore[adbc]'``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import attrs
import numpy as np
from sqlalchemy import DateTime, Engine, Table, delete

from okrcore import rows
from okrcore.batch import BatchResult, evaluate_frame
from okrcore.evaluate import instant_us
from okrcore.policy import Policy
from okrcore_sqlalchemy._columnar_read import (
    _Columns,
    _Fallback,
    _integers,
    _key_raw,
    _keys,
    _ordered,
    _pa,
    _refs,
    _sorts_here,
    row_errors,
)
from okrcore_sqlalchemy._columnar_read import _fetch as _fetch  # re-exported (bench_orm)
from okrcore_sqlalchemy._columnar_read import read_columns as read_columns  # looked up here
from okrcore_sqlalchemy._writing import _policy_json, _skip_masks
from okrcore_sqlalchemy.events import _stale_plan
from okrcore_sqlalchemy.reading import (
    _OBJ_ORDER,
    Progress,
    SourceError,
    StoreError,
    _at,
    _columns_query,
    _is_instant,
    _kr_query,
    _reason,
)
from okrcore_sqlalchemy.schema import (
    _DECLARED_REFERENCES,
    Instant,
    KeyTypeError,
    Schema,
    Timestamp,
)
from okrcore_sqlalchemy.storage import to_stored_arrow

__all__ = ["AUTO_MIN_KEY_RESULTS", "IO_CHOICES", "adbc_uri"]

IO_CHOICES: Final = ("auto", "adbc", "sqlalchemy")
"""Values of ``recompute(io=...)``: ``auto`` uses ADBC when it can, else the row path."""

_log = logging.getLogger("okrcore_sqlalchemy")
_EXTRA: Final = "pip install 'okrcore[adbc]'"
_INPUT_ROLES: Final = ("objective", "key_result", "check_in", "kr_owner", "checkpoint")


def adbc_uri(bind: Engine) -> tuple[str, str] | None:
    """The ADBC driver and URI of an engine: ``("sqlite", path)`` / ``("postgresql", url)``.

    ``None`` for in-memory SQLite and other databases (they use the row path).
    """
    url = bind.url
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = url.database or ""
        if not path or path == ":memory:" or "mode=memory" in str(url.query.get("mode", "")):
            return None
        return "sqlite", path
    if backend == "postgresql":
        return "postgresql", url.set(drivername="postgresql").render_as_string(
            hide_password=False)
    return None


def _drivers(kind: str) -> Any:
    """The ADBC DBAPI module of a database, or ImportError naming the extra."""
    try:
        import importlib

        importlib.import_module("pyarrow.compute")
        return importlib.import_module(f"adbc_driver_{kind}.dbapi")
    except ImportError as exc:
        raise ImportError(f"columnar bulk I/O needs the adbc extra: {_EXTRA}") from exc


AUTO_MIN_KEY_RESULTS: Final = 50_000
"""``io="auto"`` reads smaller organisations on the row path (importing the ADBC drivers and
pyarrow takes longer than reading them)."""


def _key_results(bind: Engine, schema: Schema) -> int | None:
    """The stored key results (``None``: the database cannot say; the row path reports it)."""
    from sqlalchemy import func, select
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with bind.connect() as conn:
            count = conn.execute(select(func.count()).select_from(
                schema.table("key_result"))).scalar()
    except SQLAlchemyError:
        return None
    return None if count is None else int(count)


def choose(bind: Engine, io: str, schema: Schema | None = None) -> bool:
    """Whether a full recompute of ``bind`` uses ADBC (``io`` of :data:`IO_CHOICES`).

    ``auto``: ADBC for a SQLite file or PostgreSQL holding at least
    :data:`AUTO_MIN_KEY_RESULTS` key results of ``schema`` (when given), with the ``adbc``
    extra installed; else the row path (a missing extra is logged as a warning).

    Raises
    ------
    ValueError
        ``io`` is not one of :data:`IO_CHOICES`, or ``io="adbc"`` with an engine ADBC cannot
        open (in-memory SQLite, another database).
    ImportError
        ``io="adbc"`` without the ``adbc`` extra.
    """
    if io not in IO_CHOICES:
        raise ValueError(f"io must be one of {', '.join(IO_CHOICES)}, got {io!r}")
    if io == "sqlalchemy":
        return False
    target = adbc_uri(bind)
    if target is None:
        if io == "adbc":
            raise ValueError(f"io='adbc' needs a SQLite file or PostgreSQL, not "
                             f"{bind.url.get_backend_name()} ({bind.url.database or 'memory'})")
        _log.info("okrcore_sqlalchemy.recompute: %s (in memory or no ADBC driver): the row "
                  "path reads and writes", bind.url.get_backend_name())
        return False
    if io == "auto" and schema is not None:
        count = _key_results(bind, schema)
        if count is None or count < AUTO_MIN_KEY_RESULTS:
            return False
    try:
        _drivers(target[0])
    except ImportError:
        if io == "adbc":
            raise
        _log.warning("okrcore_sqlalchemy.recompute: the adbc extra is not installed, so the "
                     "row path reads and writes (slower; %s)", _EXTRA)
        return False
    return True


def _connect(bind: Engine) -> Any:
    target = adbc_uri(bind)
    assert target is not None
    conn = _drivers(target[0]).connect(target[1])
    if target[0] == "sqlite":
        with conn.cursor() as cur:
            cur.execute("PRAGMA busy_timeout = 5000")  # as the sqlite3 module waits
    return conn


# --- writing -----------------------------------------------------------------------------------


def _instant_array(pa: Any, column: Any, micros: Any, dialect: str) -> Any:
    """Instants [µs; NULL kept] as the column stores them (BIGINT, timestamptz or UTC text)."""
    array = micros if isinstance(micros, pa.Array) else pa.array(micros, pa.int64())
    kind = column.type
    if not _is_instant(kind) or (dialect == "sqlite" and isinstance(kind, Instant)):
        return array  # µs as they are (an Instant on SQLite; an application's BIGINT)
    naive = isinstance(kind, DateTime) and not kind.timezone
    moment = array.cast(pa.timestamp("us", None if naive else "UTC"))
    if dialect == "postgresql":
        return moment  # timestamptz (Instant, Timestamp, DateTime(timezone=True)) or timestamp
    text = pa.compute.strftime(moment, format="%Y-%m-%d %H:%M:%S")  # with µs (Arrow's %S)
    if isinstance(kind, Timestamp):  # Django's form: µs only when there are any
        return pa.compute.replace_substring_regex(text, pattern=r"\.000000$", replacement="")
    return text  # SQLAlchemy's DateTime on SQLite: YYYY-MM-DD HH:MM:SS.ffffff


def _key_array(pa: Any, keys: Any) -> Any:
    return keys if len(keys) or not pa.types.is_null(keys.type) else keys.cast(pa.string())


def _upsert(cur: Any, dialect: Any, table: Table, keys: Sequence[str], guard: bool,
            data: Any) -> None:
    """Bulk-ingest ``data`` into a temporary table, then one set-based upsert into ``table``."""
    if not data.num_rows:
        return
    q = dialect.identifier_preparer.quote
    temp = f"okrcore_tmp_{table.name}"[:60]
    cur.execute(f"DROP TABLE IF EXISTS {q(temp)}")
    cur.adbc_ingest(temp, data, mode="create", temporary=True)
    names = list(data.column_names)
    target = q(table.name)
    if dialect.name == "postgresql":
        selects = [f"CAST({q(n)} AS {table.c[n].type.compile(dialect=dialect)})"
                   for n in names]
    else:
        selects = [q(n) for n in names]
    update = ", ".join(f"{q(n)} = excluded.{q(n)}" for n in names if n not in keys)
    where = f" WHERE {target}.input_version <= excluded.input_version" if guard else ""
    cur.execute(f"INSERT INTO {target} ({', '.join(q(n) for n in names)}) "
                f"SELECT {', '.join(selects)} FROM {q(temp)} WHERE true "
                f"ON CONFLICT ({', '.join(q(k) for k in keys)}) DO UPDATE SET {update}{where}")
    cur.execute(f"DROP TABLE {q(temp)}")


def _data_version(cur: Any, dialect: Any) -> int | None:
    """SQLite's ``PRAGMA data_version`` of the connection (``None`` on other databases).

    It changes when another connection commits; the job reads it before its input, and again
    once it holds the write lock: the same value means no other writer committed in between,
    so no input changed since it was read.
    """
    if dialect.name != "sqlite":
        return None
    cur.execute("PRAGMA data_version")
    return int(cur.fetchall()[0][0])


def _skips(cur: Any, dialect: Any, schema: Schema, read: _Columns, mark: int | None
           ) -> tuple[Any, Any, Any]:
    """The row path's guard (``_skipped_by_change``) on columns, inside the write transaction.

    ``mark``: :func:`_data_version` before the read; when it is unchanged under the write lock
    nothing changed since the read, and the versions are not read again.
    """
    if mark is not None and _data_version(cur, dialect) == mark:
        return _skip_masks(read.frame, True, np.zeros(read.frame.n_kr, bool),
                           np.zeros(read.frame.n_obj, bool))
    pa = _pa()
    t_obj = schema.table("objective")
    now_obj = _fetch(cur, dialect, _columns_query(t_obj, ("id", "version"), _OBJ_ORDER,
                                                  raw=_key_raw), ("id", "version"))
    names = ("id", "version", "objective_id", "position")
    t_kr = schema.table("key_result")
    here = _sorts_here(dialect, t_kr.c["id"], t_kr.c["objective_id"])
    now_kr = _fetch(cur, dialect, _columns_query(t_kr, names, (), raw=_key_raw) if here
                    else _kr_query(schema, names, raw=_key_raw), names)
    obj_ids = _keys(pa, now_obj.column("id"))
    same = obj_ids.equals(read.obj_ids)
    if same:
        try:
            kr_obj = _refs(pa, now_kr, "objective_id", obj_ids)
            if here:
                now_kr, kr_obj = _ordered(pa, now_kr, "objective_id", kr_obj,
                                          ("position", "id"))
        except _Fallback:  # a key of another type: not the rows that were read
            same = False
    if same:
        now_kr = now_kr.filter(pa.array(kr_obj >= 0))
        same = _keys(pa, now_kr.column("id")).equals(read.kr_ids)
    if not same:
        return _skip_masks(read.frame, False, None, None)

    def versions(column: Any) -> Any:
        try:
            return _integers(pa, column)
        except _Fallback:  # not an integer: reads as 0, as the row path does
            return np.zeros(len(column), np.int64)

    return _skip_masks(read.frame, True, versions(now_kr.column("version")) != read.kr_version,
                       versions(now_obj.column("version")) != read.obj_version)


def _first_key(cur: Any, dialect: Any, table: Table, key: str, when: int) -> Any:
    """The key column of at most one stored row of ``table`` at ``when`` (an Arrow column)."""
    pa = _pa()
    q = dialect.identifier_preparer.quote
    as_of = _instant_array(pa, table.c["as_of"], [when], dialect.name)[0].as_py()
    literal = f"{as_of}" if isinstance(as_of, int) else f"'{as_of}'"
    cur.execute(f"SELECT {q(key)} FROM {q(table.name)} WHERE {q('as_of')} = {literal} LIMIT 1")
    return cur.fetch_arrow_table().column(0)


def _check_written(cur: Any, dialect: Any, table: Table, role: str, key: str, when: int,
                   written: Any) -> None:
    """Raise unless a written result row reads back as the key type it was written with."""
    pa = _pa()
    if not len(written):
        return
    stored = _first_key(cur, dialect, table, key, when)
    if not len(stored):
        return
    kinds = [pa.types.is_integer(t) for t in (stored.type, written.type)]
    if kinds[0] != kinds[1]:
        found = "int" if kinds[0] else "str"
        raise KeyTypeError(table.name, key, _DECLARED_REFERENCES[(role, key)],
                           "int" if kinds[1] else "str", f"{found} (as stored by the database)")


_PG_COPY: Final = {"BIGINT": "int64", "DOUBLE PRECISION": "double", "BOOLEAN": "bool",
                   "TEXT": "string", "TIMESTAMP WITH TIME ZONE": "timestamp[us, tz=UTC]"}
"""PostgreSQL column types that a binary COPY of the Arrow type fills as is."""


def _appends(dialect: Any, table: Table, data: Any) -> bool:
    """Whether ``data`` can be bulk-ingested into ``table`` as it is (no cast needed)."""
    if dialect.name == "sqlite":
        return True
    for field in data.schema:
        kind = table.c[field.name].type.compile(dialect=dialect).split("(")[0]
        kind = "TEXT" if kind == "VARCHAR" else kind
        if _PG_COPY.get(kind) != str(field.type):
            return False
    return True


def _late_indexes(cur: Any, dialect: Any, table: Table, rows_new: int) -> list[str]:
    """The secondary indexes of ``table`` to drop before a bulk append and build after it.

    SQLite only, and only when ``table`` holds at most ``rows_new`` rows: building an index
    once from the sorted rows costs less than inserting each new row into it, as long as the
    rows already stored (which a rebuild sorts again) are not more than the new ones.  Unique
    indexes stay (they check).  The ``CREATE INDEX`` statements, as stored, are returned; the
    indexes are dropped in the caller's transaction (readers keep the committed state).
    """
    if dialect.name != "sqlite":
        return []
    q = dialect.identifier_preparer.quote
    cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {q(table.name)} LIMIT {rows_new + 1})")
    if int(cur.fetchall()[0][0]) > rows_new:
        return []
    cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                f"'{table.name}' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'")
    late = cur.fetchall()
    for name, _sql in late:
        cur.execute(f"DROP INDEX {q(name)}")
    return [sql for _name, sql in late]


def _write(cur: Any, dialect: Any, table: Table, keys: Sequence[str], guard: bool, data: Any,
           when: int) -> None:
    """Write result rows (one statement or ingest per table).

    Bulk ingest straight into ``table`` when it holds no row at ``when`` (a new snapshot:
    nothing to update or guard) and the columns need no cast, else :func:`_upsert`.  The
    secondary indexes are built after the append when that costs less (:func:`_late_indexes`).
    """
    if not data.num_rows:
        return
    if not len(_first_key(cur, dialect, table, keys[1], when)) and _appends(dialect, table,
                                                                          data):
        late = _late_indexes(cur, dialect, table, data.num_rows)
        cur.adbc_ingest(table.name, data, mode="append")
        for sql in late:
            cur.execute(sql)
    else:
        _upsert(cur, dialect, table, keys, guard, data)


def _change_ids(cur: Any, dialect: Any, schema: Schema) -> Any:
    """The change-log ids now (an Arrow column; ``None``: the schema keeps no change log).

    Read before the input, so the input reflects every change they name.
    """
    if schema.change is None:
        return None
    from sqlalchemy import select

    table = schema.table("change")
    return _fetch(cur, dialect, select(table.c["id"]), ("id",)).column("id")


def _consume(cur: Any, dialect: Any, schema: Schema, ids: Any) -> None:
    """Delete exactly the change-log rows ``ids`` (in the write transaction).

    Like :func:`okrcore_sqlalchemy.events.consume_changes`: the ids are ingested into a
    temporary table, then one ``DELETE … WHERE id IN (SELECT …)``.
    """
    if ids is None or not len(ids):
        return
    pa = _pa()
    q = dialect.identifier_preparer.quote
    temp = "okrcore_tmp_consumed"
    cur.execute(f"DROP TABLE IF EXISTS {q(temp)}")
    cur.adbc_ingest(temp, pa.table({"id": ids.cast(pa.int64())}), mode="create",
                    temporary=True)
    table = q(schema.table("change").name)
    cur.execute(f"DELETE FROM {table} WHERE {q('id')} IN (SELECT {q('id')} FROM {q(temp)})")
    cur.execute(f"DROP TABLE {q(temp)}")


def _drop_stale(cur: Any, dialect: Any, schema: Schema, read: _Columns, result: BatchResult,
                when: int, kr_skip: Any, obj_skip: Any) -> None:
    """:func:`okrcore_sqlalchemy.events.drop_stale` on the ADBC cursor (a stored snapshot).

    The same plan (:func:`okrcore_sqlalchemy.events._stale_plan`): one compiled ``DELETE`` of
    the results of items no longer stored, and the error codes of the kept rows of items in
    error through a temporary table and one ``UPDATE``.
    """
    pa = _pa()
    q = dialect.identifier_preparer.quote
    pg = dialect.name == "postgresql"
    assert read.kr_ids is not None
    for role, key, current, flagged, codes in _stale_plan(schema, result, kr_skip, obj_skip):
        table = schema.table(role)
        at = _at(table, "as_of", when)
        cur.execute(_literal_sql(delete(table).where(
            at, table.c[key].not_in(current.scalar_subquery())), dialect))
        if not len(flagged):
            continue
        ids = read.kr_ids if role == "kr_result" else read.obj_ids
        temp = "okrcore_tmp_flagged"
        cur.execute(f"DROP TABLE IF EXISTS {q(temp)}")
        cur.adbc_ingest(temp, pa.table({
            "key": _key_array(pa, ids.take(pa.array(flagged))),
            "error": to_stored_arrow(pa, table, "error", codes)}), mode="create",
            temporary=True)
        stored = f"s.{q('key')}"
        if pg:
            stored = f"CAST({stored} AS {table.c[key].type.compile(dialect=dialect)})"
        target = q(table.name)
        cur.execute(f"UPDATE {target} SET {q('error')} = (SELECT s.{q('error')} FROM {q(temp)} "
                    f"s WHERE {stored} = {target}.{q(key)}) WHERE {_literal_sql(at, dialect)} "
                    f"AND {target}.{q(key)} IN (SELECT {stored} FROM {q(temp)} s)")
        cur.execute(f"DROP TABLE {q(temp)}")


def _literal_sql(clause: Any, dialect: Any) -> str:
    """A SQLAlchemy statement or condition as SQL text with its values inline."""
    return str(clause.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def write_columns(cur: Any, dialect: Any, schema: Schema, read: _Columns, result: BatchResult,
                  masks: tuple[Any, Any, Any], when: int, policy_json: str,
                  progress: Progress, mark: int | None = None, changes: Any = None
                  ) -> tuple[tuple[int, int, int], int]:
    """Write the results in the cursor's transaction; return the rows written and skipped.

    ``mark``: :func:`_data_version` before the read; ``changes``: the change-log ids read
    before the input (:func:`_change_ids`), deleted in this transaction.
    """
    pa = _pa()
    kr_rows, obj_rows, person_rows = masks
    name = dialect.name
    q = dialect.identifier_preparer.quote
    if name == "postgresql":
        tables = ", ".join(q(schema.table(r).name) for r in _INPUT_ROLES)
        cur.execute(f"LOCK TABLE {tables} IN SHARE MODE")
    snaps = schema.table("snapshot")
    existed = schema.change is not None and bool(len(_first_key(cur, dialect, snaps, "as_of",
                                                                 when)))
    _upsert(cur, dialect, snaps, ("as_of",), False, pa.table({
        "as_of": _instant_array(pa, snaps.c["as_of"], [when], name),
        "policy": pa.array([policy_json], pa.string()),
        "computed_at": _instant_array(pa, snaps.c["computed_at"],
                                      [instant_us(datetime.now(UTC))], name)}))
    if name == "postgresql":  # no other writer between the check for rows and the ingest
        results = ", ".join(q(schema.table(r).name)
                            for r in ("kr_result", "objective_result", "person_result"))
        cur.execute(f"LOCK TABLE {results} IN SHARE ROW EXCLUSIVE MODE")
    kr_skip, obj_skip, person_skip = _skips(cur, dialect, schema, read, mark)
    _consume(cur, dialect, schema, changes)
    skipped = int((kr_rows & kr_skip).sum() + (obj_rows & obj_skip).sum()
                  + (person_rows & person_skip).sum())
    kr_rows, obj_rows, person_rows = kr_rows & ~kr_skip, obj_rows & ~obj_skip, \
        person_rows & ~person_skip
    masks = (kr_rows, obj_rows, person_rows)
    pa = _pa()
    for step, (table, key, guard, data) in enumerate(
            result_tables(schema, name, read, result, masks, when), start=1):
        _write(cur, dialect, table, ("as_of", key), guard, data, when)
        _check_written(cur, dialect, table, table_role(schema, table), key, when,
                       data.column(key))
        del data
        pa.default_memory_pool().release_unused()
        progress("write", step, 3)
    if existed:  # the kept rows of a stored snapshot (decision I2)
        _drop_stale(cur, dialect, schema, read, result, when, kr_skip, obj_skip)
    return (int(kr_rows.sum()), int(obj_rows.sum()), int(person_rows.sum())), skipped


def table_role(schema: Schema, table: Table) -> str:
    """The role of a result table."""
    return next(r for r in ("kr_result", "objective_result", "person_result")
                if schema.table(r) is table)


def result_tables(schema: Schema, dialect_name: str, read: _Columns, result: BatchResult,
                  masks: tuple[Any, Any, Any], when: int) -> Iterator[tuple[Table, str, bool,
                                                                              Any]]:
    """Per result table: ``(table, key column, version guard, Arrow table of the rows)``.

    The rows of each mask, as stored (:func:`~okrcore_sqlalchemy.storage.to_stored_arrow`);
    built one table at a time.
    """
    pa = _pa()
    plans = (("kr_result", "kr_id", "kr", masks[0], read.kr_ids, read.kr_version),
             ("objective_result", "objective_id", "obj", masks[1], read.obj_ids,
              read.obj_version),
             ("person_result", "person_id", "person", masks[2], read.person_ids, None))
    for role, key, prefix, mask, ids, version in plans:
        picked = np.flatnonzero(mask)
        table = schema.table(role)
        columns: dict[str, Any] = {
            "as_of": _instant_array(pa, table.c["as_of"], np.full(picked.shape[0], when,
                                                                  np.int64), dialect_name),
            key: _key_array(pa, ids.take(pa.array(picked)))}
        if version is not None:
            columns["input_version"] = pa.array(version[picked])
        for column, values in rows.result_columns(result, prefix, picked).items():
            stored = to_stored_arrow(pa, table, column, values)
            if column == "last_at" or _is_instant(table.c[column].type):
                stored = _instant_array(pa, table.c[column], stored, dialect_name)
            columns[column] = stored
        yield table, key, version is not None, pa.table(columns)


def _adbc_reason(exc: BaseException) -> str:
    """An ADBC driver's message, first line, without status code, driver tag or SQL."""
    text = _reason(exc)
    if "ERROR:" in text:  # PostgreSQL's own message (the driver's prefix may quote the SQL)
        return text[text.index("ERROR:") + len("ERROR:"):].strip()
    text = re.sub(r"^[A-Z_]+: ", "", text)
    text = re.sub(r"^\[[A-Za-z]+\] ", "", text)
    return re.sub(r"^Failed to (prepare|execute|step) query( '.*')?: ", "", text)


def recompute(bind: Engine, *, as_of: datetime | None, policy: Policy, progress: Progress,
              schema: Schema, kernel: str, threads: int | None,
              finish: Callable[..., Any]) -> Any:
    """A full recompute on ADBC; ``None`` when the row path must do it (a bad value).

    ``finish(when, result, errors, written, skipped, times)`` builds the report (the job's).
    """
    import adbc_driver_manager

    dialect = bind.dialect
    t0 = time.perf_counter()
    try:
        conn = _connect(bind)
    except adbc_driver_manager.Error as exc:
        raise SourceError(f"cannot read the organisation: {_adbc_reason(exc)}") from exc
    try:
        try:
            with conn.cursor() as cur:
                mark = _data_version(cur, dialect)
                changes = _change_ids(cur, dialect, schema)  # reflected in the input
                read = read_columns(cur, dialect, schema, progress)
            conn.rollback()
            _pa().default_memory_pool().release_unused()  # the fetched batches, reordered
        except _Fallback as why:
            _log.info("okrcore_sqlalchemy.recompute: %s; the row path checks it", why)
            return None
        except (adbc_driver_manager.Error, OSError) as exc:
            raise SourceError(f"cannot read the organisation: {_adbc_reason(exc)}") from exc
        when = instant_us(datetime.now(UTC)) if as_of is None else instant_us(as_of)
        t1 = time.perf_counter()
        progress("compute", 0, 1)
        result = evaluate_frame(read.frame, when, policy, kernel=kernel, threads=threads)
        errors = read.orphans + row_errors(read, result, schema)
        read = attrs.evolve(read, tables={})  # the Arrow input is no longer needed
        _pa().default_memory_pool().release_unused()
        masks = (result.kr_error == 0, result.obj_error == 0,
                 result.person_seen & (result.person_error_ref < 0))
        progress("compute", 1, 1)
        t2 = time.perf_counter()
        try:
            with conn.cursor() as cur:
                written, skipped = write_columns(cur, dialect, schema, read, result, masks,
                                                 when, _policy_json(policy), progress, mark,
                                                 changes)
            conn.commit()
        except BaseException as exc:
            conn.rollback()
            if isinstance(exc, adbc_driver_manager.Error):
                raise StoreError(f"cannot write the results: {_adbc_reason(exc)} (nothing was "
                                 "written; the stored snapshots are as they were)") from exc
            raise
        t3 = time.perf_counter()
    finally:
        conn.close()
    return finish(when, result, errors, written, skipped, (t1 - t0, t2 - t1, t3 - t2))
