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
  guard of the row path), bulk-ingests each result table's columns into a temporary table and
  runs one ``INSERT … SELECT … ON CONFLICT … DO UPDATE … WHERE input_version <=
  excluded.input_version`` per result table.  Result values are converted by
  :func:`okrcore_sqlalchemy.storage.to_stored` (applied to the distinct values of each coded
  column, then spread with Arrow ``take``).

Install with ``pip install 'okrcore[adbc]'``.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, overload

import attrs
import numpy as np
from sqlalchemy import DateTime, Engine, Table, Text, cast

from okrcore import errors as E
from okrcore import kinds as K
from okrcore import rows
from okrcore.batch import BatchResult, OrgFrame, evaluate_frame
from okrcore.batch.frame import NONE_INSTANT
from okrcore.codes import (
    AMBITION_CODES,
    AMBITION_COMMITTED,
    MODE_AUTO,
    MODE_CODES,
    RANGE_MODE_CODES,
    RANGE_NONE,
    STATUS_CODES,
    STATUS_NONE,
    UNKNOWN_CODE,
    UNKNOWN_STATUS,
)
from okrcore.errors import OkrError
from okrcore.evaluate import instant_us
from okrcore.policy import Policy
from okrcore_sqlalchemy.reading import (
    _CHECKED,
    _FLAG,
    _INSTANT,
    _INTEGER,
    _KEY_COLUMNS,
    _NUMBER,
    _OBJ_ORDER,
    Progress,
    RowError,
    SourceError,
    StoreError,
    _columns_query,
    _is_instant,
    _kr_query,
    _raw,
    _Read,
    _reason,
    _row_errors,
)
from okrcore_sqlalchemy.schema import (
    _DECLARED_REFERENCES,
    Instant,
    KeyTypeError,
    Schema,
    Timestamp,
    key_type_name,
)
from okrcore_sqlalchemy.storage import to_stored

__all__ = ["AUTO_MIN_KEY_RESULTS", "IO_CHOICES", "adbc_uri"]

IO_CHOICES: Final = ("auto", "adbc", "sqlalchemy")
"""Values of ``recompute(io=...)``: ``auto`` uses ADBC when it can, else the row path."""

_log = logging.getLogger("okrcore_sqlalchemy")
_EXTRA: Final = "pip install 'okrcore[adbc]'"
_INPUT_ROLES: Final = ("objective", "key_result", "check_in", "kr_owner", "checkpoint")


class _Fallback(Exception):  # noqa: N818 - a signal, not an error
    """The columnar read found something only the row path handles (a bad value...)."""


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


# --- reading -----------------------------------------------------------------------------------


def _key_raw(table: Table, name: str) -> Any:
    """``_raw``, with UUID keys as text (the Arrow form the write casts back)."""
    column = table.c[name]
    if name in _KEY_COLUMNS and key_type_name(column) == "UUID":
        return cast(column, Text)
    return _raw(table, name)


def _fetch(cur: Any, dialect: Any, query: Any, names: Sequence[str]) -> Any:
    """Run a Core select on the ADBC cursor into an Arrow table named ``names``."""
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if dialect.name == "sqlite":
        # one batch: the driver infers a column's type from its first batch, so a NULL-only
        # first batch would type a text column as integer
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1 << 30)})
    cur.execute(sql)
    try:
        table = cur.fetch_arrow_table()
    except OSError as exc:  # the SQLite driver: a column holding values of several types
        if "Type mismatch" in str(exc):
            raise _Fallback("a column holds values of several types") from exc
        raise
    return table.rename_columns(list(names))


def _pa() -> Any:
    import pyarrow as pa
    import pyarrow.compute
    return pa


def _empty_as(pa: Any, column: Any, kind: Any) -> Any:
    """A column; an empty or all-NULL one as ``kind`` (SQLite types an empty result int64)."""
    column = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    if column.null_count == len(column):  # SQLite types a NULL-only column as integer
        return pa.nulls(len(column), kind)
    return column


def _floats(pa: Any, column: Any) -> Any:
    column = _empty_as(pa, column, pa.float64())
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        raise _Fallback("a number column holds another type")
    return np.array(column.cast(pa.float64()).to_numpy(zero_copy_only=False),
                    dtype=np.float64)  # writeable: the frame maps kinds in place


def _instants(pa: Any, column: Any, nullable: bool = True) -> Any:
    column = _empty_as(pa, column, pa.int64())
    if not pa.types.is_integer(column.type) or (column.null_count and not nullable):
        raise _Fallback("an instant column holds another type")
    return np.asarray(column.cast(pa.int64()).fill_null(NONE_INSTANT).to_numpy(),
                      dtype=np.int64)


def _integers(pa: Any, column: Any) -> Any:
    column = _empty_as(pa, column, pa.int64())
    if not pa.types.is_integer(column.type) or column.null_count:
        raise _Fallback("an integer column holds another type")
    return np.asarray(column.cast(pa.int64()).to_numpy(), dtype=np.int64)


def _flags(pa: Any, column: Any) -> Any:
    column = _empty_as(pa, column, pa.bool_())
    if column.null_count:
        raise _Fallback("a boolean column holds NULL")
    if pa.types.is_boolean(column.type):
        return np.array(column.to_numpy(zero_copy_only=False), dtype=np.bool_)
    if not pa.types.is_integer(column.type):
        raise _Fallback("a boolean column holds another type")
    values = column.to_numpy()
    if values.shape[0] and (values.min() < 0 or values.max() > 1):
        raise _Fallback("a boolean column holds another integer")
    return values.astype(np.bool_)


def _texts(pa: Any, column: Any) -> Any:
    column = _empty_as(pa, column, pa.string())
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise _Fallback("a text column holds another type")
    return column.cast(pa.string())


def _keys(pa: Any, column: Any, like: Any | None = None) -> Any:
    """A key column as one Arrow array, of the type of ``like`` (the keys it refers to)."""
    column = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    if like is None:
        if len(column) and column.null_count == len(column):
            return pa.nulls(len(column), pa.string())
        return column
    if column.null_count == len(column):
        return pa.nulls(len(column), like.type)
    if not len(like):  # no keys (SQLite types an empty result as integer): nothing matches
        return column
    same = ((pa.types.is_integer(column.type) and pa.types.is_integer(like.type))
            or (pa.types.is_string(column.type) and pa.types.is_string(like.type)))
    if not same:
        raise _Fallback("a key column holds another type than the keys it refers to")
    return column.cast(like.type)


def _rows_of(pa: Any, values: Any, keys: Any) -> Any:
    """Per value: the row of ``keys`` holding it, -1 when none (or NULL)."""
    if not len(keys) or values.type != keys.type:  # no keys: no row (types may differ)
        return np.full(len(values), -1, dtype=np.int64)
    index = pa.compute.index_in(values, value_set=keys)
    return np.asarray(index.fill_null(-1).to_numpy(), dtype=np.int64)


def _codes(pa: Any, column: Any, vocabulary: Mapping[Any, int], dtype: Any,
           unknown: int) -> Any:
    """Codes of a text column (:func:`okrcore.rows.frame_from_columns`' vocabulary lookup)."""
    column = _texts(pa, column)
    names = [k for k in vocabulary if k is not None]
    table = np.asarray([vocabulary[k] for k in names] + [unknown], dtype=np.int64)
    found = _rows_of(pa, column, pa.array(names, pa.string()))
    found[found < 0] = len(names)
    out = table[found]
    if None in vocabulary:
        out[np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)] = \
            vocabulary[None]
    return out.astype(dtype)


def _encode(pa: Any, parts: Sequence[Any]) -> tuple[list[Any], Any]:
    """Codes in order of first appearance over ``parts`` (NULL: -1) and their dictionary."""
    joined = pa.concat_arrays([p.combine_chunks() if hasattr(p, "combine_chunks") else p
                               for p in parts])
    encoded = joined.dictionary_encode()
    codes = np.asarray(encoded.indices.cast(pa.int32()).fill_null(-1).to_numpy(), np.int32)
    out, start = [], 0
    for p in parts:
        out.append(codes[start:start + len(p)])
        start += len(p)
    return out, encoded.dictionary


def _python_key(column: Any, value: Any) -> Any:
    """A key as the row path reads it (its column type's value: UUID, int, str)."""
    if value is not None and key_type_name(column) == "UUID":
        return uuid.UUID(str(value))
    return value


class _Keys(Sequence[Any]):
    """Keys left in their Arrow array; an item is the value the row path reads (UUID...)."""

    def __init__(self, array: Any, column: Any) -> None:
        self.array, self.column = array, column

    def __len__(self) -> int:
        return len(self.array)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return _python_key(self.column, self.array[int(index)].as_py())

    def __iter__(self) -> Iterator[Any]:
        return (_python_key(self.column, v) for v in self.array.to_pylist())


class _Column(Sequence[Any]):
    """One Arrow column read as the row path's values, only the rows asked for."""

    def __init__(self, array: Any, column: Any) -> None:
        self.array, self.column = array, column

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: Any) -> Any:
        value = self.array[int(index)].as_py()
        return _python_key(self.column, value) if self.column is not None else value


@attrs.frozen(eq=False)
class _Columns:
    """A columnar read: the frame, the Arrow keys and versions, and what row errors need."""

    frame: OrgFrame
    kr_ids: Any
    obj_ids: Any
    person_ids: Any
    kr_version: Any
    obj_version: Any
    orphans: list[RowError]
    tables: dict[str, Any]


def _orphans(pa: Any, data: Any, table: Table, key: str, ident: str, row: Any, name: str,
             out: list[RowError]) -> tuple[Any, Any]:
    """The rows of ``data`` whose ``key`` names a row (``row >= 0``), and their ``row``.

    The others are reported in ``out``.
    """
    found = row >= 0
    if bool(found.all()):
        return data, row
    values = data.column(key)
    for i in np.flatnonzero(~found).tolist():
        value = _python_key(table.c[key], values[i].as_py())
        label = _python_key(table.c[ident], data.column(ident)[i].as_py())
        out.append(RowError(name, str(label), OkrError(
            E.INVALID_VALUE, key, f"{key} {value!r} names a row that is not stored")))
    return data.filter(pa.array(found)), row[found]


def _check(pa: Any, data: Any, name: str) -> None:
    """Raise _Fallback when a checked column holds a value the row path reports as bad."""
    for column, what in _CHECKED[name].items():
        if column not in data.column_names:
            continue
        values = data.column(column)
        if what == _NUMBER:
            _floats(pa, values)
        elif what == _INSTANT:
            _instants(pa, values, nullable=(name, column) != ("check_ins", "at"))
        elif what == _FLAG:
            _flags(pa, values)
        elif what == _INTEGER:
            _integers(pa, values)


def _sorts_here(dialect: Any, *columns: Any) -> bool:
    """Whether the columnar read sorts rows itself, as the database would.

    SQLite compares text bytewise, as Arrow does; a column with a collation of its own is
    sorted by the database.
    """
    return dialect.name == "sqlite" and all(
        getattr(c.type, "collation", None) is None for c in columns)


def _ordered(pa: Any, data: Any, key: str, row: Any, then: Sequence[str]) -> tuple[Any, Any]:
    """``data`` (and ``row``) in the order of ``row``, the row its ``key`` names, then ``then``.

    Rows naming no row (``row < 0``) go last, by ``key`` (SQLite sorts NULL first): the order
    of the selects' ``ORDER BY`` (:func:`~okrcore_sqlalchemy.reading._kr_query`).
    """
    refs = data.column(key)
    keys = pa.table({"row": np.where(row < 0, np.iinfo(np.int64).max, row),
                     "known": refs.is_valid(), "key": refs, **{n: data.column(n) for n in then}})
    if _sorted(pa, keys):  # the common case: rows stored in that order
        return data, row
    order = pa.compute.sort_indices(keys, sort_keys=[(n, "ascending") for n in keys.column_names])
    return data.take(order), row[np.asarray(order.to_numpy(), dtype=np.int64)]


def _sorted(pa: Any, keys: Any) -> bool:
    """Whether the rows of ``keys`` are in ascending order of its columns (NULL first)."""
    if keys.num_rows < 2:
        return True
    pc = pa.compute
    ok = None
    for name in reversed(keys.column_names):
        column = keys.column(name).combine_chunks()
        if column.null_count:
            return False  # rare (a NULL key): sort
        a, b = column.slice(0, len(column) - 1), column.slice(1)
        if ok is None:
            ok = pc.less_equal(a, b)
        else:
            ok = pc.or_(pc.less(a, b), pc.and_(pc.equal(a, b), ok))
    return bool(pc.all(ok).as_py())


def _ranked(row: Any, position: Any) -> bool:
    """Whether ``(row, position)`` orders the rows fully.

    No tie among the rows naming a row, and at most one naming none.
    """
    known = row >= 0
    if int((~known).sum()) > 1:
        return False
    r, p = row[known], position[known]
    order = np.lexsort((p, r))
    r, p = r[order], p[order]
    return not bool(np.any((r[1:] == r[:-1]) & (p[1:] == p[:-1])))


def _refs(pa: Any, data: Any, key: str, keys: Any) -> Any:
    """Per row of ``data``: the row of ``keys`` its ``key`` names (-1: none)."""
    return _rows_of(pa, _keys(pa, data.column(key), keys), keys)


def read_columns(cur: Any, dialect: Any, schema: Schema, progress: Progress) -> _Columns:
    """Read the organisation on an ADBC cursor into a frame (see the module docstring).

    Raises
    ------
    _Fallback
        A value that the row path must check (it reports it as a row error).
    """
    pa = _pa()
    t_obj, t_kr = schema.table("objective"), schema.table("key_result")
    t_log, t_own, t_pt = (schema.table(r) for r in ("check_in", "kr_owner", "checkpoint"))
    names_obj = (*rows.OBJECTIVE_COLUMNS, "version")
    names_kr = (*rows.KEY_RESULT_COLUMNS, "version")
    objectives = _fetch(cur, dialect, _columns_query(t_obj, names_obj, _OBJ_ORDER,
                                                     raw=_key_raw), names_obj)
    progress("read", 1, 5)
    here = _sorts_here(dialect, t_kr.c["id"], t_kr.c["objective_id"], t_log.c["kr_id"])
    key_results = _fetch(cur, dialect, _columns_query(t_kr, names_kr, (), raw=_key_raw),
                         names_kr)
    progress("read", 2, 5)
    names_log = ("kr_id", "seq", "at", "value")
    log_query = _columns_query(t_log, names_log, ("kr_id", "at", "seq"), raw=_key_raw)
    check_ins = _fetch(cur, dialect, log_query.order_by(None), names_log)
    progress("read", 3, 5)
    names_own = ("kr_id", "position", "person_id")
    owners = _fetch(cur, dialect, _columns_query(t_own, names_own, ("kr_id", "position"),
                                                 raw=_key_raw), names_own)
    progress("read", 4, 5)
    names_pt = ("kr_id", "position", "name", "done")
    checkpoints = _fetch(cur, dialect, _columns_query(t_pt, names_pt, ("kr_id", "position"),
                                                      raw=_key_raw), names_pt)
    progress("read", 5, 5)
    for data, name in ((objectives, "objectives"), (key_results, "key_results"),
                       (check_ins, "check_ins"), (owners, "kr_owners"),
                       (checkpoints, "checkpoints")):
        _check(pa, data, name)
    orphans: list[RowError] = []
    obj_ids = _keys(pa, objectives.column("id"))
    kr_obj = _refs(pa, key_results, "objective_id", obj_ids)
    # the selects' ORDER BY, in columns: SQLite compares text as Arrow does; elsewhere the
    # text order (collation) must not matter, else the database sorts
    if here:
        key_results, kr_obj = _ordered(pa, key_results, "objective_id", kr_obj,
                                       ("position", "id"))
    elif _ranked(kr_obj, _integers(pa, key_results.column("position"))):
        key_results, kr_obj = _ordered(pa, key_results, "objective_id", kr_obj, ("position",))
    else:
        key_results = _fetch(cur, dialect, _kr_query(schema, names_kr, raw=_key_raw), names_kr)
        kr_obj = _refs(pa, key_results, "objective_id", obj_ids)
    key_results, kr_obj = _orphans(pa, key_results, t_kr, "objective_id", "id", kr_obj,
                                   "key_results", orphans)
    kr_ids = _keys(pa, key_results.column("id"))
    log_kr = _refs(pa, check_ins, "kr_id", kr_ids)
    if here or len(pa.compute.unique(check_ins.column("kr_id").filter(
            pa.array(log_kr < 0)))) < 2:  # the frame orders by row: only orphans need text
        check_ins, log_kr = _ordered(pa, check_ins, "kr_id", log_kr, ("at", "seq"))
    else:
        check_ins = _fetch(cur, dialect, log_query, names_log)
        log_kr = _refs(pa, check_ins, "kr_id", kr_ids)
    check_ins, log_kr = _orphans(pa, check_ins, t_log, "kr_id", "kr_id", log_kr, "check_ins",
                                 orphans)
    owners, own_kr = _orphans(pa, owners, t_own, "kr_id", "kr_id",
                              _refs(pa, owners, "kr_id", kr_ids), "kr_owners", orphans)
    checkpoints, point_kr = _orphans(pa, checkpoints, t_pt, "kr_id", "kr_id",
                                     _refs(pa, checkpoints, "kr_id", kr_ids), "checkpoints",
                                     orphans)
    frame, person_ids = _frame(pa, schema, objectives, key_results, check_ins, owners,
                               checkpoints, obj_ids, kr_ids,
                               {"kr": kr_obj, "log": log_kr, "own": own_kr, "point": point_kr})
    kr_version = _integers(pa, key_results.column("version"))
    obj_version = _integers(pa, objectives.column("version"))
    return _Columns(frame, kr_ids, obj_ids, person_ids, kr_version, obj_version, orphans,
                    {"key_results": key_results.drop_columns(["version"]),
                     "objectives": objectives.drop_columns(["version"]),
                     "check_ins": check_ins, "checkpoints": checkpoints})


def _frame(pa: Any, schema: Schema, objectives: Any, key_results: Any, check_ins: Any,
           owners: Any, checkpoints: Any, obj_ids: Any, kr_ids: Any,
           refs: Mapping[str, Any]) -> tuple[OrgFrame, Any]:
    """The frame of the columns (the vocabulary and key mapping of ``frame_from_columns``)."""
    t_obj, t_kr = schema.table("objective"), schema.table("key_result")
    kr: dict[str, Any] = {name: _floats(pa, key_results.column(name)) for name in (
        "start", "target", "current", "stages_total", "red_low", "yellow_low", "yellow_high",
        "red_high", "weight")}
    kr["objective"] = refs["kr"]
    kr["kind"] = _codes(pa, key_results.column("kind"),
                        {k.name: k.code for k in K.KINDS.values()}, np.uint8, UNKNOWN_CODE)
    kr["range_mode"] = _codes(pa, key_results.column("range_mode"),
                              {None: RANGE_NONE, **RANGE_MODE_CODES}, np.uint8, UNKNOWN_CODE)
    kr["due_at"] = _instants(pa, key_results.column("due_at"))
    kr["has_history"] = _flags(pa, key_results.column("has_history"))
    blank = pa.scalar(None, pa.string())

    def unit_names(column: Any) -> Any:
        text = _texts(pa, column)
        return pa.compute.if_else(pa.compute.equal(text, ""), blank, text)

    (kr["unit"], ps_unit), units = _encode(pa, [unit_names(key_results.column("unit")),
                                                unit_names(objectives.column("ps_unit"))])
    owner_of = _keys(pa, objectives.column("owner_id"))
    explicit_person = _keys(pa, owners.column("person_id"))
    if owner_of.null_count == len(owner_of):
        owner_of = pa.nulls(len(owner_of), explicit_person.type)
    else:
        explicit_person = _keys(pa, explicit_person, owner_of)
    (obj_owner, explicit), people = _encode(pa, [owner_of, explicit_person])
    parents = _keys(pa, objectives.column("parent_id"), obj_ids)
    parent = _rows_of(pa, parents, obj_ids)
    parent[(parent < 0) & ~np.asarray(parents.is_null().to_numpy(zero_copy_only=False),
                                      dtype=np.bool_)] = -2
    obj: dict[str, Any] = {
        "parent": parent, "weight": _floats(pa, objectives.column("weight")),
        "start_at": _instants(pa, objectives.column("start_at")),
        "due_at": _instants(pa, objectives.column("due_at")),
        "mode": _codes(pa, objectives.column("mode"), {None: MODE_AUTO, **MODE_CODES},
                       np.uint8, UNKNOWN_CODE),
        "ambition": _codes(pa, objectives.column("ambition"),
                           {None: AMBITION_COMMITTED, **AMBITION_CODES}, np.uint8,
                           UNKNOWN_CODE),
        "status": _codes(pa, objectives.column("status"), {None: STATUS_NONE, **STATUS_CODES},
                         np.int8, UNKNOWN_STATUS),
        "include_children": _flags(pa, objectives.column("include_children")),
        "owner": obj_owner, "ps_unit": ps_unit,
        "ps_target": _floats(pa, objectives.column("ps_target")),
        "ps_auto": _flags(pa, objectives.column("ps_auto")),
        "ps_start": _floats(pa, objectives.column("ps_start")),
    }
    logs = {"kr": refs["log"],
            "at": _instants(pa, check_ins.column("at"), nullable=False),
            "value": _floats(pa, check_ins.column("value"))}
    explicit_rows = {"kr": refs["own"],
                     "person": explicit}
    points = {"kr": refs["point"],
              "done": _flags(pa, checkpoints.column("done")).astype(np.float64)}
    person_column = schema.table("person").c["id"]
    frame = rows.frame_from_codes(
        obj, kr, logs, explicit_rows, points, kr_ids=_Keys(kr_ids, t_kr.c["id"]),
        obj_ids=_Keys(obj_ids, t_obj.c["id"]), person_names=_Keys(people, person_column),
        unit_names=units.to_pylist(), obj_parent_names=_Keys(parents, t_obj.c["id"]))
    return frame, people


def row_errors(read: _Columns, result: BatchResult, schema: Schema) -> list[RowError]:
    """The row path's row errors, built from the Arrow columns of the bad rows only."""
    pa = _pa()
    bad = np.flatnonzero(result.kr_error)
    krs, objs = read.tables["key_results"], read.tables["objectives"]
    t_kr, t_obj = schema.table("key_result"), schema.table("objective")

    def columns(data: Any, table: Table) -> dict[str, Any]:
        return {n: _Column(data.column(n).combine_chunks(),
                           table.c[n] if n in _KEY_COLUMNS else None)
                for n in data.column_names}

    def children(name: str, role: str, names: Sequence[str]) -> dict[str, list[Any]]:
        data = read.tables[name]
        if not bad.shape[0] or not len(data):
            return {n: [] for n in names}
        wanted = read.kr_ids.take(pa.array(bad))
        picked = data.filter(pa.compute.is_in(_keys(pa, data.column("kr_id"), read.kr_ids),
                                              value_set=wanted))
        out = {n: picked.column(n).to_pylist() for n in names}
        column = schema.table(role).c["kr_id"]
        out["kr_id"] = [_python_key(column, v) for v in out["kr_id"]]
        return out

    shim = _Read(read.frame, columns(objs, t_obj), columns(krs, t_kr),
                 children("check_ins", "check_in", ("kr_id", "at", "value")),
                 children("checkpoints", "checkpoint", ("kr_id", "name", "done")),
                 read.kr_version, read.obj_version, [])
    return _row_errors(shim, result)


# --- writing -----------------------------------------------------------------------------------


def _stored(pa: Any, table: Table, name: str, values: Any, kind: str) -> Any:
    """One result column as an Arrow array of stored values (through ``to_stored``).

    Floats: NaN as NULL.  Other columns: :func:`to_stored` of their distinct values, spread
    back with ``take`` (one conversion per distinct value, not per row).
    """
    values = np.asarray(values)
    if kind == "float":
        return pa.array(values, from_pandas=True)
    distinct, inverse = np.unique(values, return_inverse=True)
    stored = to_stored(table, name, distinct)
    return pa.array(stored).take(pa.array(inverse.astype(np.int64)))


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


def _skips(cur: Any, dialect: Any, schema: Schema, read: _Columns) -> tuple[Any, Any, Any]:
    """The row path's guard (``_skipped_by_change``) on columns, inside the write transaction."""
    from okrcore_sqlalchemy.job import _skip_masks

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


def _write(cur: Any, dialect: Any, table: Table, keys: Sequence[str], guard: bool, data: Any,
           when: int) -> None:
    """Write result rows (one statement or ingest per table).

    Bulk ingest straight into ``table`` when it holds no row at ``when`` (a new snapshot:
    nothing to update or guard) and the columns need no cast, else :func:`_upsert`.
    """
    if not data.num_rows:
        return
    if not len(_first_key(cur, dialect, table, keys[1], when)) and _appends(dialect, table,
                                                                          data):
        cur.adbc_ingest(table.name, data, mode="append")
    else:
        _upsert(cur, dialect, table, keys, guard, data)


def write_columns(cur: Any, dialect: Any, schema: Schema, read: _Columns, result: BatchResult,
                  masks: tuple[Any, Any, Any], when: int, policy_json: str,
                  progress: Progress) -> tuple[tuple[int, int, int], int]:
    """Write the results in the cursor's transaction; return the rows written and skipped."""
    pa = _pa()
    kr_rows, obj_rows, person_rows = masks
    name = dialect.name
    q = dialect.identifier_preparer.quote
    if name == "postgresql":
        tables = ", ".join(q(schema.table(r).name) for r in _INPUT_ROLES)
        cur.execute(f"LOCK TABLE {tables} IN SHARE MODE")
    snaps = schema.table("snapshot")
    _upsert(cur, dialect, snaps, ("as_of",), False, pa.table({
        "as_of": _instant_array(pa, snaps.c["as_of"], [when], name),
        "policy": pa.array([policy_json], pa.string()),
        "computed_at": _instant_array(pa, snaps.c["computed_at"],
                                      [instant_us(datetime.now(UTC))], name)}))
    if name == "postgresql":  # no other writer between the check for rows and the ingest
        results = ", ".join(q(schema.table(r).name)
                            for r in ("kr_result", "objective_result", "person_result"))
        cur.execute(f"LOCK TABLE {results} IN SHARE ROW EXCLUSIVE MODE")
    kr_skip, obj_skip, person_skip = _skips(cur, dialect, schema, read)
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
    return (int(kr_rows.sum()), int(obj_rows.sum()), int(person_rows.sum())), skipped


def table_role(schema: Schema, table: Table) -> str:
    """The role of a result table."""
    return next(r for r in ("kr_result", "objective_result", "person_result")
                if schema.table(r) is table)


def result_tables(schema: Schema, dialect_name: str, read: _Columns, result: BatchResult,
                  masks: tuple[Any, Any, Any], when: int) -> Iterator[tuple[Table, str, bool,
                                                                              Any]]:
    """Per result table: ``(table, key column, version guard, Arrow table of the rows)``.

    The rows of each mask, as stored (:func:`_stored`); built one table at a time.
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
        for (column, kind), values in zip(rows.RESULT_COLUMNS[prefix],
                                          rows.result_columns(result, prefix, picked).values(),
                                          strict=True):
            stored = _stored(pa, table, column, values, kind)
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
    return re.sub(r"^Failed to (prepare|execute) query( '.*')?: ", "", text)


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
        from okrcore_sqlalchemy.job import _policy_json

        try:
            with conn.cursor() as cur:
                written, skipped = write_columns(cur, dialect, schema, read, result, masks,
                                                 when, _policy_json(policy), progress)
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
