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
