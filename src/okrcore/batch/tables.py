"""Columns from Arrow, pandas or Polars tables, without copying where the dtype allows.

None of those libraries is a dependency of okrcore: a table is recognised by the module its type
comes from, and only numpy is used to take its columns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from okrcore.batch.frame import OrgFrame

__all__ = ["column_array", "frame_from_tables"]


def column_array(table: Any, name: str) -> np.ndarray[Any, Any]:
    """One column of an Arrow / pandas / Polars table (or a mapping) as a numpy array.

    Parameters
    ----------
    table : pyarrow.Table, pandas.DataFrame, polars.DataFrame or mapping
        The table.
    name : str
        The column name.

    Returns
    -------
    ndarray
        A view of the table's buffer when the column is numeric without nulls (Arrow and Polars
        share their buffers with numpy), otherwise a copy.  Arrow / Polars nulls in float
        columns become NaN.

    Raises
    ------
    KeyError
        When the column is missing.
    """
    module = type(table).__module__.split(".")[0]
    if module == "pyarrow":
        column = table.column(name)
        if column.num_chunks == 1 and column.null_count == 0:
            with contextlib.suppress(Exception):  # not zero-copy: fall back to a copy below
                return np.asarray(column.chunk(0).to_numpy(zero_copy_only=True))
        return np.asarray(column.to_numpy())
    if module == "polars":
        series = table.get_column(name)
        if series.null_count() == 0:
            return np.asarray(series.to_numpy(allow_copy=True))
        return np.asarray(series.to_numpy())
    if module == "pandas":
        return np.asarray(table[name].to_numpy())
    if isinstance(table, Mapping):
        return np.asarray(table[name])
    raise TypeError(f"unsupported table type {type(table).__name__}: give a pyarrow.Table, "
                    "pandas.DataFrame, polars.DataFrame or a mapping of arrays")


def _names(table: Any) -> list[str]:
    module = type(table).__module__.split(".")[0]
    if module == "pyarrow":
        return list(table.column_names)
    if module in ("polars", "pandas"):
        return [str(c) for c in table.columns]
    return [str(k) for k in table]


def frame_from_tables(key_results: Any, objectives: Any, check_ins: Any = None,
                      owners: Any = None) -> OrgFrame:
    """Build an :class:`OrgFrame` from tables whose columns follow the batch layout.

    Parameters
    ----------
    key_results : table
        Columns ``kr_*`` (``kr_objective``, ``kr_kind`` and ``kr_target`` required).
    objectives : table
        Columns ``obj_*`` (``obj_parent`` required).
    check_ins : table, optional
        Columns ``log_kr``, ``log_at``, ``log_value``.
    owners : table, optional
        Columns ``kr_owner_offsets`` is not a table column: give a long table with ``kr`` and
        ``person`` (one row per owner, grouped by key result in row order).

    Returns
    -------
    OrgFrame
        See :meth:`OrgFrame.from_columns`.
    """
    columns: dict[str, Any] = {}
    for table, prefix in ((key_results, "kr_"), (objectives, "obj_")):
        for name in _names(table):
            if name.startswith(prefix):
                columns[name] = column_array(table, name)
    if check_ins is not None:
        for name in ("log_kr", "log_at", "log_value"):
            columns[name] = column_array(check_ins, name)
    if owners is not None:
        kr = column_array(owners, "kr").astype(np.int64, copy=False)
        person = column_array(owners, "person").astype(np.int32, copy=False)
        n_kr = len(column_array(key_results, "kr_objective"))
        counts = np.bincount(kr, minlength=n_kr)
        columns["kr_owner_offsets"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        columns["kr_owner_ids"] = person[np.argsort(kr, kind="stable")]
    return OrgFrame.from_columns(**columns)
