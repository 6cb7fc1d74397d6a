"""Row checks of Parquet dataset partitions: bad values become row errors, not aborts.

:class:`_Checker` validates one partition's tables as :meth:`okrcore.jobs.parquet.Dataset.
read_partition` reads them: values of the wrong type or out of range are replaced by a neutral
value and their row is reported (and not loaded), so one bad row never aborts a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from okrcore import errors as E
from okrcore.batch.frame import NONE_INSTANT
from okrcore.batch.tables import column_array
from okrcore.jobs._arrow import _TS_COLUMNS

_INT_KINDS: Final[dict[str, type[np.integer[Any]]]] = {
    "kr_objective": np.int64, "kr_kind": np.uint8, "kr_unit": np.int32,
    "kr_range_mode": np.uint8, "kr_load": np.uint8, "obj_parent": np.int64,
    "obj_mode": np.uint8, "obj_ambition": np.uint8, "obj_status": np.int8,
    "obj_owner": np.int32, "obj_ps_unit": np.int32, "obj_load": np.uint8, "log_kr": np.int64}
_BOOL_COLUMNS: Final = frozenset({"kr_has_log", "obj_include_children", "obj_ps_auto"})
_STRUCTURAL: Final = frozenset({"kr_objective", "obj_parent", "log_kr"})
_DEFAULTS: Final = {"kr_kind": 0, "kr_target": np.nan}


class _Checker:
    """Row validation of one partition's tables: bad values become row errors.

    ``errors`` maps ``"k<row>"`` / ``"o<row>"`` to the errors found; the caller marks those
    rows as not loaded (:data:`okrcore.batch.frame.LOAD_INVALID`).
    """

    def __init__(self, pa: Any, source: str, krs: Any, objs: Any) -> None:
        self.pa = pa
        self.source = source
        self.krs, self.objs = krs, objs
        self.errors: dict[str, list[E.OkrError]] = {}
        self._ids: dict[str, list[Any]] = {}

    def _ident(self, ref: str, row: int) -> Any:
        if ref not in self._ids:
            table = self.krs if ref == "k" else self.objs
            self._ids[ref] = (table.column("id").to_pylist() if "id" in table.column_names
                              else [None] * table.num_rows)
        return self._ids[ref][row]

    def bad(self, ref: str, row: int, column: str, what: str, code: str = E.INVALID_VALUE,
            file: str | None = None, file_row: int | None = None) -> None:
        """Record a bad value of key result (``ref`` ``k``) or objective (``o``) ``row``.

        ``file`` / ``file_row``: where the value is when it is not in the row's own table
        (a check-in, an owner).
        """
        table = "key_results" if ref == "k" else "objectives"
        ident = self._ident(ref, row)
        if file is None:
            where = f"{self.source}/{table}.parquet row {row} (id {ident!r})"
            path = f"{self.source}/{table}.parquet[{row}].{column}"
        else:
            item = "key result" if ref == "k" else "objective"
            where = f"{self.source}/{file} row {file_row} ({item} {ident!r})"
            path = f"{self.source}/{file}[{file_row}].{column}"
        self.errors.setdefault(f"{ref}{row}", []).append(
            E.OkrError(code, path, f"{where}: {column} {what}"))

    def column_ok(self, table: Any, name: str, prefix: str) -> bool:
        """Whether a column has the type its values need; if not, report every value."""
        pa = self.pa
        typ = table.column(name).type
        if name in _TS_COLUMNS:
            ok = pa.types.is_timestamp(typ)
            kind = "an instant (timestamp)"
        elif name in _BOOL_COLUMNS:
            ok = pa.types.is_boolean(typ)
            kind = "a boolean"
        elif name in _INT_KINDS:
            ok = pa.types.is_integer(typ)
            kind = "an integer code"
        else:
            ok = pa.types.is_integer(typ) or pa.types.is_floating(typ)
            kind = "a number"
        if ok:
            return True
        if name in _STRUCTURAL or prefix == "log_":
            if prefix == "log_" and name != "log_kr":
                self._bad_logs(table, range(table.num_rows), table.column(name).to_pylist(),
                               name, f"is {{value}}, stored as {typ}: not {kind}")
                return False
            raise ValueError(f"{self.source}: column {name} is stored as {typ}, not {kind}")
        ref = "k" if prefix == "kr_" else "o"
        for row, value in enumerate(table.column(name).to_pylist()):
            if value is not None:
                self.bad(ref, row, name, f"is {value!r}, stored as {typ}: not {kind}",
                         E.WRONG_TYPE)
        return False

    def values(self, table: Any, name: str, prefix: str) -> Any:
        """A numeric column as an array; empty or out-of-range integer codes are reported."""
        array = column_array(table, name)
        dtype = _INT_KINDS.get(name)
        if dtype is None and name not in _BOOL_COLUMNS:
            return array  # floats: null = NaN = absent
        col = table.column(name)
        ref = "k" if prefix == "kr_" else "o"
        if col.null_count:
            mask = np.asarray(col.is_null().to_numpy(zero_copy_only=False))
            if name in _STRUCTURAL:
                raise ValueError(f"{self.source}: column {name} has empty rows")
            for row in np.flatnonzero(mask).tolist():
                self.bad(ref, row, name, "is empty", E.MISSING_FIELD)
            filled = col.fill_null(False if name in _BOOL_COLUMNS else
                                   _DEFAULTS.get(name, 0))
            array = np.asarray(filled.to_numpy())
        if dtype is not None:
            info = np.iinfo(dtype)
            wide = array.astype(np.int64, copy=False)
            out = (wide < info.min) | (wide > info.max)
            if out.any():
                if name in _STRUCTURAL:
                    raise ValueError(f"{self.source}: column {name} holds {int(wide[out][0])}")
                for row in np.flatnonzero(out).tolist():
                    self.bad(ref, row, name, f"is {int(wide[row])}: out of range",
                             E.OUT_OF_RANGE)
                array = np.where(out, _DEFAULTS.get(name, 0), wide).astype(dtype)
        return array

    def codes(self, columns: dict[str, Any], name: str, n: int, file: str) -> None:
        """Person / unit codes must be rows of ``file`` (or -1 for none)."""
        if name not in columns:
            return
        array = np.asarray(columns[name])
        out = (array < -1) | (array >= n)
        if not out.any():
            return
        ref = "k" if name.startswith("kr_") else "o"
        for row in np.flatnonzero(out).tolist():
            self.bad(ref, row, name, f"is {int(array[row])}, not a row of {file} ({n} rows)",
                     E.OUT_OF_RANGE)
        columns[name] = np.where(out, -1, array).astype(array.dtype)

    def _bad_logs(self, logs: Any, rows: Sequence[int], values: Sequence[Any], column: str,
                  what: str) -> None:
        """Check-in rows with a bad value: their key results are bad.

        ``what`` may name ``{value}``.
        """
        kr = logs.column("log_kr").to_pylist() if "log_kr" in logs.column_names else []
        for row, value in zip(rows, values, strict=True):
            k = kr[row] if row < len(kr) else None
            if isinstance(k, int) and 0 <= k < self.krs.num_rows:
                self.bad("k", k, column, what.replace("{value}", repr(value)),
                         file="check_ins.parquet", file_row=row)

    def check_ins(self, logs: Any, columns: dict[str, Any]) -> None:
        """A check-in without a finite value or an instant makes its key result bad."""
        if "log_value" in columns:
            value = np.asarray(columns["log_value"], dtype=np.float64)
            bad = ~np.isfinite(value)
            if bad.any():
                rows = np.flatnonzero(bad).tolist()
                self._bad_logs(logs, rows, [float(value[r]) for r in rows], "log_value",
                               "is {value}: a check-in value must be a finite number")
        if "log_at" in columns:
            at = np.asarray(columns["log_at"])
            rows = np.flatnonzero(at == NONE_INSTANT).tolist()
            if rows:
                self._bad_logs(logs, rows, [None] * len(rows), "log_at",
                               "is empty: a check-in needs an instant")

    def owners(self, owners: Any, n_people: int) -> tuple[Any, Any]:
        """The owners CSR (grouped by key result); persons outside people.parquet are bad."""
        pa = self.pa
        for name in ("kr", "person"):
            typ = owners.column(name).type
            if not pa.types.is_integer(typ) or owners.column(name).null_count:
                raise ValueError(f"{self.source}: owners.parquet column {name} must be "
                                 f"integers without empty rows (it is {typ})")
        kr = column_array(owners, "kr").astype(np.int64, copy=False)
        person = column_array(owners, "person")
        if person.dtype != np.int32:  # (a view of the file when it is int32 already)
            person = np.clip(person.astype(np.int64), -1, n_people).astype(np.int32)
        n_kr = self.krs.num_rows
        if kr.shape[0] and (kr.min() < 0 or kr.max() >= n_kr):
            raise ValueError(f"{self.source}: owners.parquet column kr holds a row outside "
                             f"key_results.parquet ({n_kr} rows)")
        raw = column_array(owners, "person")
        out = (raw < 0) | (raw >= n_people)
        for row in np.flatnonzero(out).tolist():
            self.bad("k", int(kr[row]), "person", f"is {int(raw[row])}, not a row of "
                     f"people.parquet ({n_people} rows)", E.OUT_OF_RANGE,
                     file="owners.parquet", file_row=row)
        keep = ~out
        if not keep.all():
            kr, person = kr[keep], person[keep]
        if kr.shape[0] > 1 and np.any(kr[1:] < kr[:-1]):
            order = np.argsort(kr, kind="stable")
            kr, person = kr[order], person[order]
        counts = np.bincount(kr, minlength=n_kr)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return offsets, person.astype(np.int32, copy=False)

    def ids(self, table: Any, ref: str) -> Any:
        """The id column as an Arrow string array; an empty id is a bad value."""
        pa = self.pa
        if "id" not in table.column_names:
            raise KeyError(f"{self.source}: column id is missing")
        ids = table.column("id").combine_chunks()
        if pa.types.is_integer(ids.type):
            ids = ids.cast(pa.string())
        elif not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
            raise ValueError(f"{self.source}: column id is stored as {ids.type}, not text")
        if ids.null_count:
            for row in np.flatnonzero(np.asarray(
                    ids.is_null().to_numpy(zero_copy_only=False))).tolist():
                self.bad(ref, row, "id", "is empty: every row needs an id", E.MISSING_FIELD)
            ids = ids.fill_null("")
        return ids

    def loads(self, load: Any, n: int, ref: str, ids: Any) -> Any:
        """The load column: rows with errors are not loaded.

        Later repeats of an id are duplicates (reported by the engine).
        """
        from okrcore.batch.frame import LOAD_DUPLICATE, LOAD_INVALID, LOAD_OK

        array = (np.zeros(n, dtype=np.uint8) if load is None
                 else np.array(load, dtype=np.uint8, copy=True))
        rows = [int(k[1:]) for k in self.errors if k[0] == ref]
        if rows:
            array[rows] = LOAD_INVALID
        codes = np.asarray(self.pa.compute.dictionary_encode(ids).indices.to_numpy(
            zero_copy_only=False))
        if codes.shape[0]:
            _, first = np.unique(codes, return_index=True)
            repeat = np.ones(n, dtype=bool)
            repeat[first] = False
            named = np.asarray(self.pa.compute.not_equal(ids, "").to_numpy(
                zero_copy_only=False))
            array[repeat & named & (array == LOAD_OK)] = LOAD_DUPLICATE
        return array
