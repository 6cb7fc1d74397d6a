"""The read of the columnar recompute: ADBC selects into Arrow, checked and mapped to a frame.

:func:`read_columns` runs the row path's Core selects on an ADBC cursor, checks every value in
columns (raising :class:`_Fallback` when the row path must report one), orders the rows as the
selects' ``ORDER BY`` does and builds the frame with :func:`okrcore.rows.frame_from_codes`;
:func:`row_errors` builds the row path's row errors from the Arrow columns of the bad rows.
Private to :mod:`okrcore_sqlalchemy.columnar`, which re-exports the names used elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

import attrs
import numpy as np
from sqlalchemy import Table, Text, cast

from okrcore import errors as E
from okrcore import kinds as K
from okrcore import rows
from okrcore.batch import BatchResult, OrgFrame
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
    _columns_query,
    _kr_query,
    _raw,
    _Read,
    _row_errors,
)
from okrcore_sqlalchemy.schema import (
    Schema,
    key_type_name,
)


class _Fallback(Exception):  # noqa: N818 - a signal, not an error
    """The columnar read found something only the row path handles (a bad value...)."""


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


def _one(pa: Any, column: Any) -> Any:
    """A column as one Arrow array (no copy when it is one chunk, as the SQLite driver reads)."""
    if not isinstance(column, pa.ChunkedArray):
        return column
    if column.num_chunks == 1:
        return column.chunk(0)
    return column.combine_chunks()


def _empty_as(pa: Any, column: Any, kind: Any) -> Any:
    """A column; an empty or all-NULL one as ``kind`` (SQLite types an empty result int64)."""
    column = _one(pa, column)
    if column.null_count == len(column):  # SQLite types a NULL-only column as integer
        return pa.nulls(len(column), kind)
    return column


def _floats(pa: Any, column: Any) -> Any:
    """A number column as float64 [NaN: NULL]; a view of the Arrow buffer when it has no NULL."""
    column = _empty_as(pa, column, pa.float64())
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        raise _Fallback("a number column holds another type")
    if column.type != pa.float64():
        column = column.cast(pa.float64())
    return column.to_numpy(zero_copy_only=False)


def _instants(pa: Any, column: Any, nullable: bool = True) -> Any:
    column = _empty_as(pa, column, pa.int64())
    if not pa.types.is_integer(column.type) or (column.null_count and not nullable):
        raise _Fallback("an instant column holds another type")
    if column.type != pa.int64():
        column = column.cast(pa.int64())
    if column.null_count:
        column = column.fill_null(NONE_INSTANT)
    return column.to_numpy()


def _integers(pa: Any, column: Any) -> Any:
    column = _empty_as(pa, column, pa.int64())
    if not pa.types.is_integer(column.type) or column.null_count:
        raise _Fallback("an integer column holds another type")
    return column.cast(pa.int64()).to_numpy() if column.type != pa.int64() else \
        column.to_numpy()


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
    column = _one(pa, column)
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
    return column.cast(like.type) if column.type != like.type else column


def _rows_of(pa: Any, values: Any, keys: Any) -> Any:
    """Per value: the row of ``keys`` holding it, -1 when none (or NULL)."""
    if not len(keys) or values.type != keys.type:  # no keys: no row (types may differ)
        return np.full(len(values), -1, dtype=np.int64)
    index = pa.compute.index_in(values, value_set=keys)
    return np.asarray(index.fill_null(-1).to_numpy(), dtype=np.int64)


def _rows_in(pa: Any, parts: Sequence[Any], keys: Any) -> list[Any]:
    """:func:`_rows_of` of several columns against the same ``keys``: one hash of the keys."""
    out = [np.full(len(p), -1, dtype=np.int64) for p in parts]
    match = [i for i, p in enumerate(parts) if len(p) and len(keys) and p.type == keys.type]
    if match:
        found = _rows_of(pa, pa.chunked_array([parts[i] for i in match], keys.type), keys)
        start = 0
        for i in match:
            out[i] = found[start:start + len(parts[i])]
            start += len(parts[i])
    return out


def _codes(pa: Any, column: Any, vocabulary: Mapping[Any, int], dtype: Any,
           unknown: int) -> Any:
    """Codes of a text column (:func:`okrcore.rows.frame_from_columns`' vocabulary lookup)."""
    column = _texts(pa, column)
    names = [k for k in vocabulary if k is not None]
    table = np.asarray([vocabulary[k] for k in names] + [unknown], dtype=np.int64)
    found = _rows_of(pa, column, pa.array(names, pa.string()))
    found[found < 0] = len(names)
    out = table[found]
    if None in vocabulary and column.null_count:
        out[np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)] = \
            vocabulary[None]
    return out.astype(dtype)


def _encode(pa: Any, parts: Sequence[Any]) -> tuple[list[Any], Any]:
    """Codes in order of first appearance over ``parts`` (NULL: -1) and their dictionary."""
    encoded = pa.chunked_array([_one(pa, p) for p in parts], parts[0].type).dictionary_encode()
    if not encoded.num_chunks:  # every part is empty
        return [np.zeros(0, np.int32) for _ in parts], pa.array([], parts[0].type)
    dictionary = encoded.chunks[0].dictionary
    if not all(chunk.dictionary.equals(dictionary) for chunk in encoded.chunks):
        encoded = pa.chunked_array([pa.concat_arrays(
            [_one(pa, p) for p in parts])]).dictionary_encode()  # one chunk: one dictionary
        dictionary = encoded.chunks[0].dictionary
    codes = np.concatenate([  # empty chunks may be dropped: split by the parts' lengths
        np.asarray(chunk.indices.cast(pa.int32()).fill_null(-1).to_numpy(), np.int32)
        for chunk in encoded.chunks])
    out, start = [], 0
    for p in parts:
        out.append(codes[start:start + len(p)])
        start += len(p)
    return out, dictionary


def _take(values: Any, order: Any) -> Any:
    """``values`` (numpy or Arrow) at the rows ``order`` (``None``: all, as they are)."""
    if order is None:
        return values
    if isinstance(values, np.ndarray):
        return values[order]
    return values.take(order)


def _own(values: Any) -> Any:
    """``values`` as an array the frame may change in place (a copy of a view of Arrow data)."""
    return values if values.flags.writeable else values.copy()


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
    """One Arrow column read as the row path's values, only the rows asked for.

    ``order``: the fetched row of each row in frame order (``None``: the same row).  A column
    of several chunks is joined on the first item asked for (only when an item is in error).
    """

    def __init__(self, array: Any, column: Any, order: Any = None) -> None:
        self.array, self.column, self.order = array, column, order

    def __len__(self) -> int:
        return len(self.array) if self.order is None else int(self.order.shape[0])

    def __getitem__(self, index: Any) -> Any:
        if hasattr(self.array, "combine_chunks"):
            self.array = self.array.combine_chunks()
        row = int(index) if self.order is None else int(self.order[int(index)])
        value = self.array[row].as_py()
        return _python_key(self.column, value) if self.column is not None else value


@attrs.frozen(eq=False)
class _Columns:
    """A columnar read: the frame, the Arrow keys and versions, and what row errors need.

    ``tables``: per input table, ``(the Arrow table as fetched, its rows in frame order)``
    (``None``: all, as fetched), for :func:`row_errors`.
    """

    frame: OrgFrame
    kr_ids: Any
    obj_ids: Any
    person_ids: Any
    kr_version: Any
    obj_version: Any
    orphans: list[RowError]
    tables: dict[str, Any]


def _report(pa: Any, data: Any, table: Table, key: str, ident: str, lost: Any, name: str,
            out: list[RowError]) -> None:
    """Report the rows ``lost`` of ``data`` (their ``key`` names no stored row) in ``out``."""
    if not lost.shape[0]:
        return
    picked = pa.array(lost)
    values = data.column(key).take(picked).to_pylist()
    labels = data.column(ident).take(picked).to_pylist()
    for value, label in zip(values, labels, strict=True):
        value = _python_key(table.c[key], value)
        out.append(RowError(name, str(_python_key(table.c[ident], label)), OkrError(
            E.INVALID_VALUE, key, f"{key} {value!r} names a row that is not stored")))


def _check(pa: Any, data: Any, name: str) -> dict[str, Any]:
    """The checked columns of ``data`` as numpy arrays, in the order fetched.

    :data:`~okrcore_sqlalchemy.reading._CHECKED`: floats (NaN: NULL), instants
    (``NONE_INSTANT``: NULL), booleans, integers.  Raises _Fallback when one holds a value the
    row path reports as bad.
    """
    out: dict[str, Any] = {}
    for column, what in _CHECKED[name].items():
        if column not in data.column_names:
            continue
        values = data.column(column)
        if what == _NUMBER:
            out[column] = _floats(pa, values)
        elif what == _INSTANT:
            out[column] = _instants(pa, values, nullable=(name, column) != ("check_ins", "at"))
        elif what == _FLAG:
            out[column] = _flags(pa, values)
        elif what == _INTEGER:
            out[column] = _integers(pa, values)
    return out


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


class _Unordered(Exception):  # noqa: N818 - a signal, not an error
    """Only the database can order the rows (its text order: a collation)."""


def _in_order(keys: Sequence[Any]) -> tuple[bool, Any]:
    """Whether the rows are in ascending order of ``keys``, and which adjacent pairs tie.

    ``keys``: numpy arrays, the first the most significant; a tie is equal on every key.
    """
    n = keys[0].shape[0]
    down = np.zeros(max(n - 1, 0), dtype=np.bool_)
    tie = np.ones(max(n - 1, 0), dtype=np.bool_)
    for k in keys:
        a, b = k[:-1], k[1:]
        down |= tie & (b < a)
        tie &= a == b
    return not bool(down.any()), tie


def _text_le(pa: Any, column: Any, a: Any, b: Any) -> bool:
    """Whether ``column[a[i]] <= column[b[i]]`` for every ``i`` (Arrow's order, NULL first)."""
    if not a.shape[0]:
        return True
    pc = pa.compute
    left, right = column.take(pa.array(a)), column.take(pa.array(b))
    ok = pc.or_(left.is_null(), pc.fill_null(pc.less_equal(left, right), False))
    return bool(pc.all(ok).as_py())


def _sort(pa: Any, columns: Sequence[Any]) -> Any:
    """The stable ascending order of the rows of ``columns`` (numpy or Arrow; NULL first)."""
    table = pa.table({f"c{i}": c for i, c in enumerate(columns)})
    names = table.column_names
    if int(pa.__version__.split(".")[0]) >= 25:  # NULL placement per key
        order = pa.compute.sort_indices(table, sort_keys=[(n, "ascending", "at_start")
                                                          for n in names])
    else:
        order = pa.compute.sort_indices(table, sort_keys=[(n, "ascending") for n in names],
                                        null_placement="at_start")
    return np.asarray(order.to_numpy(), dtype=np.int64)


def _arrange(pa: Any, data: Any, key: str, row: Any, keys: Sequence[Any], text: str | None,
             here: bool) -> tuple[Any, Any]:
    """The rows of ``data`` in the order of the selects' ``ORDER BY``: ``(kept, lost)``.

    ``kept``: the rows whose ``key`` names a row (``row >= 0``) by ``row``, then ``keys``
    (numpy, per fetched row), then the text column ``text`` (``None``: ties keep the order
    fetched, as the select leaves them); ``None`` when that is every row, as fetched (the common
    case: rows stored in that order).  ``lost``: the others (orphans), by ``key`` (NULL first,
    as SQLite sorts), then ``keys`` and ``text``.  Numbers are ordered with numpy; text only
    where numbers tie.

    Raises
    ------
    _Unordered
        Text decides the order but only the database can compare it (not ``here``).
    """
    known = row >= 0
    everything = bool(known.all())
    picked = None if everything else np.flatnonzero(known)
    sort_keys = [_take(k, picked) for k in (row, *keys)]
    in_order, tie = _in_order(sort_keys)
    order = None
    if not in_order:
        order = np.lexsort(sort_keys[::-1])  # stable: ties keep the order fetched
        tie = _in_order([k[order] for k in sort_keys])[1]
    if text is not None and bool(tie.any()):
        if not here:
            raise _Unordered(f"{key}: ties that text orders")
        column = _one(pa, data.column(text))
        ties = np.flatnonzero(tie)
        rows = np.arange(sort_keys[0].shape[0]) if order is None else order
        if picked is not None:
            rows = picked[rows]
        if not _text_le(pa, column, rows[ties], rows[ties + 1]):
            order = _sort(pa, [*sort_keys, _take(column, None if picked is None
                                                 else pa.array(picked))])
    if order is not None:
        picked = order if picked is None else picked[order]
    lost = np.flatnonzero(~known)
    if lost.shape[0] > 1:
        refs = _one(pa, data.column(key)).take(pa.array(lost))
        extra = [] if text is None else [_one(pa, data.column(text)).take(pa.array(lost))]
        if here:
            lost = lost[_sort(pa, [refs, *(k[lost] for k in keys), *extra])]
        elif text is None and len(pa.compute.unique(refs)) < 2:  # one key: no text to compare
            lost = lost[np.lexsort([k[lost] for k in keys][::-1])]
        else:
            raise _Unordered(f"{key}: orphans that text orders")
    return picked, lost


def _as_fetched(row: Any) -> tuple[Any, Any]:
    """``(kept, lost)`` of :func:`_arrange` for rows the database ordered."""
    known = row >= 0
    return (None if bool(known.all()) else np.flatnonzero(known)), np.flatnonzero(~known)


def _refs(pa: Any, data: Any, key: str, keys: Any) -> Any:
    """Per row of ``data``: the row of ``keys`` its ``key`` names (-1: none)."""
    return _rows_of(pa, _keys(pa, data.column(key), keys), keys)


def _read_names(columns: Sequence[str]) -> tuple[str, ...]:
    """The columns the columnar read selects: all but ``name``, and the ``version``.

    No check and no rule reads an objective's or a key result's name (it is free text).
    """
    return (*(n for n in columns if n != "name"), "version")


def read_columns(cur: Any, dialect: Any, schema: Schema, progress: Progress) -> _Columns:
    """Read the organisation on an ADBC cursor into a frame (see the module docstring).

    Every table is selected without ``ORDER BY`` where the read can order its rows as the
    database would (:func:`_arrange`); owners and checkpoints are ordered by the database.

    Raises
    ------
    _Fallback
        A value that the row path must check (it reports it as a row error).
    """
    pa = _pa()
    t_obj, t_kr = schema.table("objective"), schema.table("key_result")
    t_log, t_own, t_pt = (schema.table(r) for r in ("check_in", "kr_owner", "checkpoint"))
    names_obj, names_kr = _read_names(rows.OBJECTIVE_COLUMNS), _read_names(rows.KEY_RESULT_COLUMNS)
    obj_here = _sorts_here(dialect, t_obj.c["id"])
    objectives = _fetch(cur, dialect, _columns_query(t_obj, names_obj, () if obj_here else
                                                     _OBJ_ORDER, raw=_key_raw), names_obj)
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
    data = {"objectives": objectives, "key_results": key_results, "check_ins": check_ins,
            "kr_owners": owners, "checkpoints": checkpoints}
    values = {name: _check(pa, table, name) for name, table in data.items()}
    orphans: list[RowError] = []
    orders: dict[str, Any] = {"objectives": None}
    if obj_here:  # the selects' ORDER BY position, id
        orders["objectives"] = _arrange(
            pa, objectives, "id", np.zeros(objectives.num_rows, np.int64),
            [values["objectives"]["position"]], "id", True)[0]
    obj_ids = _take(_keys(pa, objectives.column("id")), orders["objectives"])
    kr_obj = _refs(pa, key_results, "objective_id", obj_ids)
    try:
        orders["key_results"], lost = _arrange(pa, key_results, "objective_id", kr_obj,
                                               [values["key_results"]["position"]], "id", here)
    except _Unordered:  # the database sorts (a collation decides)
        key_results = data["key_results"] = _fetch(
            cur, dialect, _kr_query(schema, names_kr, raw=_key_raw), names_kr)
        values["key_results"] = _check(pa, key_results, "key_results")
        kr_obj = _refs(pa, key_results, "objective_id", obj_ids)
        orders["key_results"], lost = _as_fetched(kr_obj)
    _report(pa, key_results, t_kr, "objective_id", "id", lost, "key_results", orphans)
    kr_ids = _take(_keys(pa, key_results.column("id")), orders["key_results"])
    log_kr, own_kr, point_kr = _rows_in(pa, [_keys(pa, t.column("kr_id"), kr_ids) for t in (
        check_ins, owners, checkpoints)], kr_ids)
    try:  # the frame orders check-ins by key result row: only orphans may need text
        orders["check_ins"], lost = _arrange(pa, check_ins, "kr_id", log_kr, [
            values["check_ins"]["at"], values["check_ins"]["seq"]], None, here)
    except _Unordered:
        check_ins = data["check_ins"] = _fetch(cur, dialect, log_query, names_log)
        values["check_ins"] = _check(pa, check_ins, "check_ins")
        log_kr = _refs(pa, check_ins, "kr_id", kr_ids)
        orders["check_ins"], lost = _as_fetched(log_kr)
    _report(pa, check_ins, t_log, "kr_id", "kr_id", lost, "check_ins", orphans)
    orders["kr_owners"], lost = _as_fetched(own_kr)
    _report(pa, owners, t_own, "kr_id", "kr_id", lost, "kr_owners", orphans)
    orders["checkpoints"], lost = _as_fetched(point_kr)
    _report(pa, checkpoints, t_pt, "kr_id", "kr_id", lost, "checkpoints", orphans)
    refs = {"kr": _take(kr_obj, orders["key_results"]), "log": _take(log_kr, orders["check_ins"]),
            "own": _take(own_kr, orders["kr_owners"]),
            "point": _take(point_kr, orders["checkpoints"])}
    kr_version = _take(values["key_results"].pop("version"), orders["key_results"])
    obj_version = _take(values["objectives"].pop("version"), orders["objectives"])
    frame, person_ids = _frame(pa, schema, data, values, orders, refs, obj_ids, kr_ids)
    return _Columns(frame, kr_ids, obj_ids, person_ids, kr_version, obj_version, orphans,
                    {name: (data[name], orders[name]) for name in (
                        "key_results", "objectives", "check_ins", "checkpoints")})


def _frame(pa: Any, schema: Schema, data: Mapping[str, Any],
           values: dict[str, dict[str, Any]], orders: Mapping[str, Any],
           refs: Mapping[str, Any], obj_ids: Any, kr_ids: Any) -> tuple[OrgFrame, Any]:
    """The frame of the columns (the vocabulary and key mapping of ``frame_from_columns``).

    ``values``: the checked columns of each table (:func:`_check`), in the order fetched,
    consumed; ``orders``: each table's rows in frame order (:func:`_arrange`).
    """
    t_obj, t_kr = schema.table("objective"), schema.table("key_result")
    objectives, key_results, owners = data["objectives"], data["key_results"], data["kr_owners"]
    o_obj, o_kr = orders["objectives"], orders["key_results"]
    krv, objv = values["key_results"], values["objectives"]
    kr: dict[str, Any] = {name: _take(krv.pop(name), o_kr) for name in (
        "start", "target", "current", "stages_total", "red_low", "yellow_low", "yellow_high",
        "red_high", "weight", "due_at", "has_history")}
    for name in ("start", "target", "current", "stages_total", "has_history"):
        kr[name] = _own(kr[name])  # used in place by frame_from_codes
    kr["objective"] = refs["kr"]
    kr["kind"] = _take(_codes(pa, key_results.column("kind"),
                              {k.name: k.code for k in K.KINDS.values()}, np.uint8,
                              UNKNOWN_CODE), o_kr)
    kr["range_mode"] = _take(_codes(pa, key_results.column("range_mode"),
                                    {None: RANGE_NONE, **RANGE_MODE_CODES}, np.uint8,
                                    UNKNOWN_CODE), o_kr)
    blank = pa.scalar(None, pa.string())

    def unit_names(column: Any, order: Any) -> Any:
        text = _take(_texts(pa, column), None if order is None else pa.array(order))
        return pa.compute.if_else(pa.compute.equal(text, ""), blank, text)

    (kr["unit"], ps_unit), units = _encode(pa, [unit_names(key_results.column("unit"), o_kr),
                                                unit_names(objectives.column("ps_unit"), o_obj)])
    o_obj_arrow = None if o_obj is None else pa.array(o_obj)
    owner_of = _take(_keys(pa, objectives.column("owner_id")), o_obj_arrow)
    o_own = orders["kr_owners"]
    explicit_person = _take(_keys(pa, owners.column("person_id")),
                            None if o_own is None else pa.array(o_own))
    if owner_of.null_count == len(owner_of):
        owner_of = pa.nulls(len(owner_of), explicit_person.type)
    else:
        explicit_person = _keys(pa, explicit_person, owner_of)
    (obj_owner, explicit), people = _encode(pa, [owner_of, explicit_person])
    parents = _keys(pa, _take(_one(pa, objectives.column("parent_id")), o_obj_arrow), obj_ids)
    parent = _rows_of(pa, parents, obj_ids)
    parent[(parent < 0) & ~np.asarray(parents.is_null().to_numpy(zero_copy_only=False),
                                      dtype=np.bool_)] = -2

    def codes(name: str, vocabulary: Mapping[Any, int], dtype: Any, unknown: int) -> Any:
        return _take(_codes(pa, objectives.column(name), vocabulary, dtype, unknown), o_obj)

    obj: dict[str, Any] = {
        "parent": parent, **{name: _take(objv.pop(column), o_obj) for name, column in (
            ("weight", "weight"), ("start_at", "start_at"), ("due_at", "due_at"),
            ("include_children", "include_children"), ("ps_target", "ps_target"),
            ("ps_auto", "ps_auto"), ("ps_start", "ps_start"))},
        "mode": codes("mode", {None: MODE_AUTO, **MODE_CODES}, np.uint8, UNKNOWN_CODE),
        "ambition": codes("ambition", {None: AMBITION_COMMITTED, **AMBITION_CODES}, np.uint8,
                          UNKNOWN_CODE),
        "status": codes("status", {None: STATUS_NONE, **STATUS_CODES}, np.int8,
                        UNKNOWN_STATUS),
        "owner": obj_owner, "ps_unit": ps_unit,
    }
    logv, o_log = values["check_ins"], orders["check_ins"]
    logs = {"kr": refs["log"], "at": _take(logv.pop("at"), o_log),
            "value": _take(logv.pop("value"), o_log)}
    explicit_rows = {"kr": refs["own"], "person": explicit}
    points = {"kr": refs["point"],
              "done": _take(values["checkpoints"].pop("done"),
                            orders["checkpoints"]).astype(np.float64)}
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
    (krs, kr_order), (objs, obj_order) = read.tables["key_results"], read.tables["objectives"]
    t_kr, t_obj = schema.table("key_result"), schema.table("objective")

    def columns(data: Any, table: Table, order: Any) -> dict[str, Any]:
        return {n: _Column(data.column(n), table.c[n] if n in _KEY_COLUMNS else None, order)
                for n in data.column_names if n != "version"}  # no copy: read row by row

    def children(name: str, role: str, names: Sequence[str]) -> dict[str, list[Any]]:
        data, order = read.tables[name]
        if not bad.shape[0] or not len(data):
            return {n: [] for n in names}
        wanted = read.kr_ids.take(pa.array(bad))
        found = pa.compute.is_in(_keys(pa, data.column("kr_id"), read.kr_ids), value_set=wanted)
        found = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.bool_)
        kept = np.arange(len(data)) if order is None else order
        picked = data.take(pa.array(kept[found[kept]]))
        out = {n: picked.column(n).to_pylist() for n in names}
        column = schema.table(role).c["kr_id"]
        out["kr_id"] = [_python_key(column, v) for v in out["kr_id"]]
        return out

    shim = _Read(read.frame, columns(objs, t_obj, obj_order), columns(krs, t_kr, kr_order),
                 children("check_ins", "check_in", ("kr_id", "at", "value")),
                 children("checkpoints", "checkpoint", ("kr_id", "name", "done")),
                 read.kr_version, read.obj_version, [])
    return _row_errors(shim, result)
