"""The result columns of a batch evaluation (:class:`BatchResult`) and their ``out=`` buffers.

Split out of :mod:`okrcore.batch.engine` (issue 18), which re-exports :class:`BatchResult`.
"""

from __future__ import annotations

import typing
from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt

from okrcore.batch._blocks import F64, I8, I64, B
from okrcore.batch.frame import OrgFrame
from okrcore.policy import Policy

__all__ = ["BatchResult"]


@attrs.frozen(eq=False)
class BatchResult:
    """Columns of results, one row per key result, objective and person of the frame.

    Rows with an error have ``*_error != 0`` and their other values are meaningless.  Colours
    are codes (:data:`COLOUR_GREEN` ...; :data:`COLOUR_NONE` = null), trends likewise; absent
    floats are NaN, absent booleans are carried by a companion mask.
    """

    as_of: int
    policy: Policy
    kr_error: npt.NDArray[np.uint8]
    kr_error_ref: I64
    kr_value: F64
    kr_raw: F64
    kr_progress: F64
    kr_expected: F64
    kr_colour: I8
    kr_pace_colour: I8
    kr_range_status: I8
    kr_contributes: B
    kr_trend: I8
    kr_stale: I8
    kr_last_at: I64
    kr_forecast_value: F64
    kr_forecast_progress: F64
    kr_forecast_colour: I8
    kr_grade_score: F64
    kr_grade_band: I8
    kr_grade_success: B
    obj_error: npt.NDArray[np.uint8]
    obj_error_ref: I64
    obj_mode: npt.NDArray[np.uint8]
    obj_rule: npt.NDArray[np.uint8]
    obj_progress: F64
    obj_raw: F64
    obj_expected: F64
    obj_colour: I8
    obj_computed_colour: I8
    obj_trend: I8
    obj_stale: I8
    obj_forecast_progress: F64
    obj_forecast_colour: I8
    obj_grade_score: F64
    obj_grade_band: I8
    obj_grade_success: B
    obj_sum_unit: npt.NDArray[np.int32]
    obj_sum_target: F64
    obj_sum_start: F64
    obj_sum_value: F64
    obj_sum_progress: F64
    obj_previous: F64
    obj_has_history: B
    obj_parent: I64
    obj_in_cycle: B
    person_progress: F64
    person_items: I64
    person_error_ref: I64
    person_seen: B


def _column_dtypes() -> dict[str, np.dtype[Any]]:
    """The dtype of every array column of :class:`BatchResult`, read from its annotations."""
    hints = typing.get_type_hints(BatchResult)
    dtypes: dict[str, np.dtype[Any]] = {}
    for field in attrs.fields(BatchResult):
        hint = hints[field.name]
        if typing.get_origin(hint) is np.ndarray:  # npt.NDArray[scalar]
            (scalar,) = typing.get_args(typing.get_args(hint)[1])
            dtypes[field.name] = np.dtype(scalar)
    return dtypes


_RESULT_DTYPES: Final = _column_dtypes()
"""The dtype of every column of :class:`BatchResult` (what ``out=`` buffers must have)."""


def _n_people(frame: OrgFrame) -> int:
    """The number of people of a frame (its names, else the largest owner id + 1)."""
    if frame.person_names is not None:
        return len(frame.person_names)
    return int(max(int(frame.obj_owner.max(initial=-1)),
                   int(frame.kr_owner_ids.max(initial=-1))) + 1)


def _check_out(out: BatchResult, frame: OrgFrame) -> None:
    """Check that ``out`` can receive the result of ``frame``; raise ``ValueError`` if not.

    Every column must have the frame's row count and the result's dtype, be contiguous and
    writeable, and share no memory with another column or with an input column of the frame
    (the evaluation writes some columns while it still reads its inputs).
    """
    lengths = {"kr": frame.n_kr, "obj": frame.n_obj, "person": _n_people(frame)}
    columns = []
    for name, dtype in _RESULT_DTYPES.items():
        column = getattr(out, name)
        length = lengths[name.split("_", 1)[0]]
        if (not isinstance(column, np.ndarray) or column.shape != (length,)
                or column.dtype != dtype):
            got = (f"shape {column.shape}, dtype {column.dtype}"
                   if isinstance(column, np.ndarray) else type(column).__name__)
            raise ValueError(f"out.{name}: expected shape ({length},) and dtype {dtype}; "
                             f"got {got}")
        if not (column.flags.c_contiguous and column.flags.writeable):
            raise ValueError(f"out.{name}: must be contiguous and writeable")
        columns.append((name, column))
    inputs = [(f.name, a) for f in attrs.fields(OrgFrame)
              if isinstance(a := getattr(frame, f.name), np.ndarray)]
    for i, (name, column) in enumerate(columns):
        if not column.shape[0]:
            continue
        for other, array in columns[i + 1:] + inputs:
            if array.shape[0] and np.may_share_memory(column, array):
                where = f"out.{other}" if other in _RESULT_DTYPES else f"frame.{other}"
                raise ValueError(f"out.{name}: shares memory with {where}")


def _buffer(out: BatchResult | None, name: str, length: int) -> npt.NDArray[Any]:
    """The column ``name`` of ``out`` (already checked), else a new uninitialised one."""
    if out is None:
        return np.empty(length, _RESULT_DTYPES[name])
    column: npt.NDArray[Any] = getattr(out, name)
    return column


def _put(out: BatchResult | None, name: str, column: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``column``, or with ``out`` a copy in its buffer ``name`` (the column can then go)."""
    if out is None:
        return column
    buffer: npt.NDArray[Any] = getattr(out, name)
    if column is not buffer:  # (a pass may have written into the buffer already)
        np.copyto(buffer, column)
    return buffer


def _into(out: BatchResult | None, result: BatchResult) -> BatchResult:
    """``result``, with its columns copied into ``out``'s buffers when ``out`` is given.

    The passes over key results already wrote most columns into ``out``; only the others
    (mostly the objectives' and people's) are copied.
    """
    if out is None:
        return result
    for name in _RESULT_DTYPES:
        _put(out, name, getattr(result, name))
    return attrs.evolve(out, as_of=result.as_of, policy=result.policy)

