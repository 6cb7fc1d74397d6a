"""How result columns are stored: the one mapping between the engine's codes and stored values.

Every path that writes result columns (the bulk job, the per-event update) or reads them back
(incremental recompute, :func:`okrcore_sqlalchemy.load_evaluation`) converts through
:func:`to_stored` and :func:`from_stored`, so a stored representation is decided in one place.

Coded columns (colours, trend, staleness, rollup mode and rule, error) are stored as readable
names (:data:`okrcore.codes.RESULT_CODE_NAMES`), their "none" as NULL; the column type is
:func:`coded_type` (a ``VARCHAR`` with a ``CHECK`` of the names, on SQLite and PostgreSQL).
A coded column that an application declared as an integer keeps the engine's codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import CheckConstraint, Enum, Integer, String, literal, or_, type_coerce
from sqlalchemy.sql.base import _NONE_NAME
from sqlalchemy.sql.sqltypes import SchemaType

from okrcore import rows
from okrcore.batch.frame import NONE_INSTANT
from okrcore.codes import RESULT_CODE_NAMES

__all__ = [
    "CODED_COLUMNS",
    "COLOUR_COLUMNS",
    "NAME_LENGTH",
    "CodedName",
    "coded_type",
    "from_stored",
    "to_stored",
    "to_stored_array",
    "to_stored_arrow",
]

COLOUR_COLUMNS: Final = frozenset({"colour", "pace_colour", "computed_colour", "forecast_colour",
                                   "range_status", "grade_band"})
"""Stored colour names: NULL is "no colour" (the batch engine's ``COLOUR_NONE``)."""
CODED_COLUMNS: Final = frozenset(RESULT_CODE_NAMES)
"""Result columns stored as names (:data:`okrcore.codes.RESULT_CODE_NAMES`); NULL is "none"."""
NAME_LENGTH: Final = 32
"""The ``VARCHAR`` length of a coded column [characters] (room for names added later)."""


class CodedName(Enum):
    """A coded result column's type: ``VARCHAR(32)`` holding one of its names, or NULL.

    A non-native :class:`sqlalchemy.Enum` (the same DDL on SQLite and PostgreSQL, readable
    values, validated when bound) whose ``CHECK`` is written as ``col = 'a' OR col = 'b' ...``
    instead of ``col IN ('a', 'b')``: SQLite evaluates an ``IN`` list of a ``CHECK`` at a
    cost of about 10 µs per row and column, an ``OR`` of equalities at no measurable cost.
    """

    cache_ok = True

    def _set_table(self, column: Any, table: Any) -> None:
        SchemaType._set_table(self, column, table)  # type: ignore[no-untyped-call]
        equal = type_coerce(column, String())
        CheckConstraint(or_(*(equal == literal(name) for name in self.enums)),
                        name=_NONE_NAME if self.name is None else self.name,
                        _type_bound=True)


def coded_type(name: str) -> CodedName:
    """The column type of a coded result column (:class:`CodedName` of its names).

    A ``VARCHAR(32)`` whose ``CHECK`` accepts the names of
    :data:`okrcore.codes.RESULT_CODE_NAMES` ``[name]`` and NULL (see ``docs/decisions.rst``).
    """
    names = [RESULT_CODE_NAMES[name][c] for c in sorted(RESULT_CODE_NAMES[name])]
    return CodedName(*names, native_enum=False, create_constraint=True, length=NAME_LENGTH,
                     validate_strings=True)


def _integer(table: Any, name: str) -> bool:
    """Whether ``table.name`` is declared as an integer column (it keeps the engine's codes)."""
    columns = getattr(table, "c", None)
    return columns is not None and name in columns and isinstance(columns[name].type, Integer)


def to_stored_array(table: Any, name: str, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """One result column as the values written to ``table.name`` (an array, vectorised).

    Coded columns as an object array of names (``None``: NULL), ``last_at`` as an object array
    of µs (``None`` for no instant); other columns as they are.  See :func:`to_stored`.
    """
    values = np.asarray(values)
    if name in CODED_COLUMNS:
        if _integer(table, name):
            if name in COLOUR_COLUMNS:
                out = values.astype(object)
                out[values < 0] = None
                return out
            return values
        return rows.stored_names(name, values)
    if name == "last_at":
        out = values.astype(object)
        out[values == NONE_INSTANT] = None
        return out
    return values


def to_stored_arrow(pa: Any, table: Any, name: str, values: npt.NDArray[Any]) -> Any:
    """One result column as an Arrow array of the values written to ``table.name``.

    The same values as :func:`to_stored` (``None`` as null), built without a Python object
    per row: coded columns stored as names are a ``take`` of their names by the code's
    position (:func:`okrcore.rows.stored_dictionary`), "none" codes, no instant and float NaN
    are masked as null.

    Parameters
    ----------
    pa : module
        :mod:`pyarrow` (an optional extra, imported by the caller).
    table, name, values
        As for :func:`to_stored`: the result table, the result column and the batch engine's
        column; a code outside its column's vocabulary raises the same ``ValueError``.
    """
    values = np.asarray(values)
    if name in CODED_COLUMNS and not _integer(table, name):
        positions, names = rows.stored_dictionary(name, values)
        return pa.array([*names, None], pa.string()).take(
            pa.array(np.where(positions < 0, len(names), positions)))
    if values.dtype.kind == "f":
        return pa.array(values, from_pandas=True)
    if name == "last_at":
        return pa.array(values, mask=values == NONE_INSTANT)
    if name in COLOUR_COLUMNS:  # a colour declared as an integer: no colour is NULL
        return pa.array(values.astype(np.int64), mask=values < 0)
    return pa.array(values.astype(np.int64) if values.dtype.kind in "iu" else values)


def to_stored(table: Any, name: str, values: npt.NDArray[Any]) -> list[Any]:
    """One result column as the values written to ``table.name`` (a Python list).

    Parameters
    ----------
    table : Table
        The result table written (its column types decide the stored form).
    name : str
        The result column (:data:`okrcore.rows.RESULT_COLUMNS`).
    values : ndarray
        The batch engine's column.

    Returns
    -------
    list
        Coded columns (:data:`CODED_COLUMNS`) as their names, "none" as ``None`` (NULL); no
        instant [``NONE_INSTANT``] as ``None``; everything else as is.  A coded column declared
        as an integer keeps the codes (no colour still NULL).

    Raises
    ------
    ValueError
        A code outside its column's vocabulary (never written).
    """
    return list(to_stored_array(table, name, values).tolist())


def from_stored(table: Any, name: str, values: Sequence[Any]) -> list[Any]:
    """Stored values of one result column back to the batch engine's values.

    The inverse of :func:`to_stored`: names (or integer codes) back to codes, NULL to the
    column's "none" code, NULL instants to ``NONE_INSTANT``.

    Raises
    ------
    ValueError
        A stored value that names no code of its column.
    """
    if name in CODED_COLUMNS:
        return list(rows.stored_codes(name, values).tolist())
    if name == "last_at":
        return [NONE_INSTANT if v is None else v for v in values]
    return list(values)
