"""The vectorised batch engine: every rule of the scalar reference, over whole columns.

:func:`evaluate_frame` computes, for every key result, objective and person of an
:class:`~okrcore.batch.frame.OrgFrame`, what :func:`okrcore.evaluate` computes for one document,
with numpy and no Python loop per key result.  The results are equal to the scalar path's
element by element: the same floating-point operations in the same order (per-group sums are
left-to-right scatter-adds, exactly like the scalar path's running sums).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import typing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, NamedTuple, TypeVar

import attrs
import numpy as np
import numpy.typing as npt

from okrcore import formulas as F
from okrcore.batch._vector import (
    RANGE_LIMITS as RANGE_LIMITS,
)
from okrcore.batch._vector import (
    _approx_le as _approx_le,
)
from okrcore.batch._vector import (
    _clamp as _clamp,
)
from okrcore.batch._vector import (
    _expected as _expected,
)
from okrcore.batch._vector import (
    _grade as _grade,
)
from okrcore.batch._vector import (
    _graded as _graded,
)
from okrcore.batch._vector import (
    _halve_overflows as _halve_overflows,
)
from okrcore.batch._vector import (
    _hits_high as _hits_high,
)
from okrcore.batch._vector import (
    _hits_low as _hits_low,
)
from okrcore.batch._vector import (
    _kr_pace as _kr_pace,
)
from okrcore.batch._vector import (
    _pace as _pace,
)
from okrcore.batch._vector import (
    _pace_colour as _pace_colour,
)
from okrcore.batch._vector import (
    _pace_conditions as _pace_conditions,
)
from okrcore.batch._vector import (
    _range_limit as _range_limit,
)
from okrcore.batch._vector import (
    _range_status as _range_status,
)
from okrcore.batch._vector import (
    _raw_progress as _raw_progress,
)
from okrcore.batch._vector import (
    _row_index as _row_index,
)
from okrcore.batch._vector import (
    _safe_div as _safe_div,
)
from okrcore.batch._vector import (
    _stale as _stale,
)
from okrcore.batch._vector import (
    _trend as _trend,
)
from okrcore.batch._vector import (
    _worst as _worst,
)
from okrcore.batch.frame import OrgFrame
from okrcore.codes import (  # re-exported: defined once in okrcore.codes
    COLOUR_GREEN as COLOUR_GREEN,
)
from okrcore.codes import (
    COLOUR_NONE as COLOUR_NONE,
)
from okrcore.codes import (
    COLOUR_RED as COLOUR_RED,
)
from okrcore.codes import (
    COLOUR_YELLOW as COLOUR_YELLOW,
)
from okrcore.codes import (
    ERR_ALIGNMENT_CYCLE as ERR_ALIGNMENT_CYCLE,
)
from okrcore.codes import (
    ERR_DEGENERATE_GOAL as ERR_DEGENERATE_GOAL,
)
from okrcore.codes import (
    ERR_DEPENDS_ON_INVALID as ERR_DEPENDS_ON_INVALID,
)
from okrcore.codes import (
    ERR_DUPLICATE_ID as ERR_DUPLICATE_ID,
)
from okrcore.codes import (
    ERR_FIELD_BREAKPOINTS as ERR_FIELD_BREAKPOINTS,
)
from okrcore.codes import (
    ERR_FIELD_DEGENERATE as ERR_FIELD_DEGENERATE,
)
from okrcore.codes import (
    ERR_FIELD_NEGATIVE_WEIGHT as ERR_FIELD_NEGATIVE_WEIGHT,
)
from okrcore.codes import (
    ERR_FIELD_NOT_FINITE as ERR_FIELD_NOT_FINITE,
)
from okrcore.codes import (
    ERR_FIELD_OUT_OF_RANGE as ERR_FIELD_OUT_OF_RANGE,
)
from okrcore.codes import (
    ERR_FIELD_TIMELINE as ERR_FIELD_TIMELINE,
)
from okrcore.codes import (
    ERR_FIELD_UNKNOWN_VALUE as ERR_FIELD_UNKNOWN_VALUE,
)
from okrcore.codes import (
    ERR_INVALID_TIMELINE as ERR_INVALID_TIMELINE,
)
from okrcore.codes import (
    ERR_LOAD as ERR_LOAD,
)
from okrcore.codes import (
    ERR_MIXED_DIRECTIONS as ERR_MIXED_DIRECTIONS,
)
from okrcore.codes import (
    ERR_NO_CONTRIBUTING_METRIC as ERR_NO_CONTRIBUTING_METRIC,
)
from okrcore.codes import (
    ERR_NO_SUM_UNIT as ERR_NO_SUM_UNIT,
)
from okrcore.codes import (
    ERR_NONE as ERR_NONE,
)
from okrcore.codes import (
    ERR_NOT_FINITE as ERR_NOT_FINITE,
)
from okrcore.codes import (
    ERR_UNKNOWN_PARENT as ERR_UNKNOWN_PARENT,
)
from okrcore.codes import (
    KIND_BINARY as KIND_BINARY,
)
from okrcore.codes import (
    KIND_CHECKPOINTS as KIND_CHECKPOINTS,
)
from okrcore.codes import (
    KIND_METRIC as KIND_METRIC,
)
from okrcore.codes import (
    KIND_MILESTONE as KIND_MILESTONE,
)
from okrcore.codes import (
    KIND_STAGED as KIND_STAGED,
)
from okrcore.codes import (
    LOAD_OK as LOAD_OK,
)
from okrcore.codes import (
    NONE_INSTANT as NONE_INSTANT,
)
from okrcore.codes import (
    RULE_CHILDREN as RULE_CHILDREN,
)
from okrcore.codes import (
    RULE_EMPTY as RULE_EMPTY,
)
from okrcore.codes import (
    RULE_EXPLICIT as RULE_EXPLICIT,
)
from okrcore.codes import (
    RULE_MIXED as RULE_MIXED,
)
from okrcore.codes import (
    RULE_SAME_UNIT as RULE_SAME_UNIT,
)
from okrcore.codes import (
    RULE_SETTINGS as RULE_SETTINGS,
)
from okrcore.codes import (
    TREND_NONE as TREND_NONE,
)
from okrcore.codes import (
    TREND_PROGRESSED as TREND_PROGRESSED,
)
from okrcore.codes import (
    TREND_REGRESSED as TREND_REGRESSED,
)
from okrcore.codes import (
    TREND_STALLED as TREND_STALLED,
)
from okrcore.formulas import MICROSECONDS_PER_DAY
from okrcore.policy import Policy

__all__ = [
    "COLOUR_GREEN",
    "COLOUR_NONE",
    "COLOUR_RED",
    "COLOUR_YELLOW",
    "ERR_ALIGNMENT_CYCLE",
    "ERR_DEGENERATE_GOAL",
    "ERR_DEPENDS_ON_INVALID",
    "ERR_DUPLICATE_ID",
    "ERR_INVALID_TIMELINE",
    "ERR_LOAD",
    "ERR_MIXED_DIRECTIONS",
    "ERR_NONE",
    "ERR_NOT_FINITE",
    "ERR_NO_CONTRIBUTING_METRIC",
    "ERR_NO_SUM_UNIT",
    "ERR_UNKNOWN_PARENT",
    "KERNELS",
    "RULE_CHILDREN",
    "RULE_EMPTY",
    "RULE_EXPLICIT",
    "RULE_MIXED",
    "RULE_SAME_UNIT",
    "RULE_SETTINGS",
    "TREND_NONE",
    "TREND_PROGRESSED",
    "TREND_REGRESSED",
    "TREND_STALLED",
    "BatchResult",
    "check_threads",
    "evaluate_frame",
    "kernels_available",
    "person_items",
    "person_rollup",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]



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


def _group_sum(groups: I64, weights: Any, length: int) -> F64:
    """Left-to-right per-group sums (np.bincount adds in input order)."""
    if groups.shape[0] == 0:
        return np.zeros(length)
    summed: F64 = np.bincount(groups, weights=np.asarray(weights, dtype=np.float64),
                              minlength=length).astype(np.float64, copy=False)
    return summed


def _group_blocks(groups: I64) -> list[tuple[int, int]]:
    """Blocks of about :data:`BLOCK_ROWS` rows of non-decreasing ``groups``, cut between groups."""
    n = groups.shape[0]
    cuts = np.unique(np.searchsorted(groups, groups[::BLOCK_ROWS], side="left")).tolist()
    return list(zip(cuts, [*cuts[1:], n], strict=True)) if n else []


def _sorted_group_count(groups: I64, length: int, mask: B) -> I64:
    """Per group: the rows where ``mask`` is set, for non-decreasing ``groups``.

    Whole groups at a time (``np.bincount`` of each block of whole groups).
    """
    counted = np.zeros(length, dtype=np.int64)

    def block(lo: int, hi: int) -> None:
        g = groups[lo:hi]
        first = int(g[0])
        counted[first:int(g[-1]) + 1] = np.bincount(g[mask[lo:hi]] - first,
                                                    minlength=int(g[-1]) + 1 - first)

    _map_blocks(block, _group_blocks(groups))
    return counted


def _validate_key_results(frame: OrgFrame) -> npt.NDArray[np.uint8]:
    """Per key result row: the first field error, vectorised (0 = none), block by block."""
    n = frame.n_kr
    code = np.zeros(n, dtype=np.uint8)
    _map_blocks(lambda lo, hi: _validate_block(frame, slice(lo, hi), code[lo:hi]),
                _row_blocks(n))
    return code


def _validate_block(frame: OrgFrame, block: slice, code: npt.NDArray[np.uint8]) -> None:
    """The field errors of the key result rows ``block`` into ``code`` (every check is per row).

    A row keeps the first error found, in this order: not finite, unknown value, negative
    weight, degenerate, breakpoints out of order, counted kinds out of range.
    """
    def flag(mask: Any, err: int) -> None:
        code[(code == 0) & mask] = err

    def flag_rows(rows: I64, err: int) -> None:
        rows = rows[code[rows] == 0]
        code[rows] = err

    kind = frame.kr_kind[block]
    current = frame.kr_current[block]
    start, target, weight = frame.kr_start[block], frame.kr_target[block], frame.kr_weight[block]
    mode = frame.kr_range_mode[block]
    red_low, yellow_low = frame.kr_red_low[block], frame.kr_yellow_low[block]
    yellow_high, red_high = frame.kr_yellow_high[block], frame.kr_red_high[block]
    finite = (np.isfinite(start) & np.isfinite(target) & np.isfinite(weight)
              & ~np.isinf(current))
    for limit in (red_low, yellow_low, yellow_high, red_high):
        finite &= ~np.isinf(limit)
    flag(~finite, ERR_FIELD_NOT_FINITE)
    flag((kind > 4) | (mode > 3), ERR_FIELD_UNKNOWN_VALUE)
    flag(weight < 0, ERR_FIELD_NEGATIVE_WEIGHT)
    metric = kind == KIND_METRIC
    flat = (target == start) & ((mode == 0) | (mode == 3))
    flag(metric & flat, ERR_FIELD_DEGENERATE)
    # the breakpoint chain of the range metrics, on their rows only
    ranged = np.flatnonzero(metric & (mode > 0))
    out_of_order = np.zeros(ranged.shape[0], dtype=bool)
    highest = np.full(ranged.shape[0], -np.inf)
    for column in (red_low, yellow_low, target, yellow_high, red_high):
        value = column[ranged]
        present = ~np.isnan(value)
        out_of_order |= present & (value < highest)
        highest = np.where(present, np.maximum(highest, value), highest)
    flag_rows(ranged[out_of_order], ERR_FIELD_BREAKPOINTS)
    # the counted kinds, on their rows only
    rows = np.flatnonzero((kind == KIND_MILESTONE) | (kind == KIND_STAGED)
                          | (kind == KIND_BINARY) | (kind == KIND_CHECKPOINTS))
    total, done = target[rows], current[rows]
    whole_total = (total >= 1) & (total == np.floor(total))
    done_ok = np.isnan(done) | ((done >= 0) & (done <= total)
                                & (done == np.floor(np.where(np.isnan(done), 0, done))))
    flag_rows(rows[~(whole_total & done_ok & (start[rows] == 0))], ERR_FIELD_OUT_OF_RANGE)


def _validate_objectives(frame: OrgFrame) -> npt.NDArray[np.uint8]:
    """Per objective row: the first field error, vectorised (0 = none)."""
    code = np.zeros(frame.n_obj, dtype=np.uint8)

    def flag(mask: Any, err: int) -> None:
        code[(code == 0) & mask] = err

    ps_target, ps_start = frame.obj_ps_target, frame.obj_ps_start
    flag(~np.isfinite(frame.obj_weight) | np.isinf(ps_target) | np.isinf(ps_start),
         ERR_FIELD_NOT_FINITE)
    flag((frame.obj_mode > 2) | (frame.obj_ambition > 1) | (frame.obj_status > 3)
         | (frame.obj_status < -1), ERR_FIELD_UNKNOWN_VALUE)
    flag(frame.obj_weight < 0, ERR_FIELD_NEGATIVE_WEIGHT)
    timed = (frame.obj_start != NONE_INSTANT) & (frame.obj_due != NONE_INSTANT)
    flag(timed & (frame.obj_due <= frame.obj_start), ERR_FIELD_TIMELINE)
    flag((frame.obj_ps_unit >= 0) & ~frame.obj_ps_auto & np.isnan(ps_target),
         ERR_FIELD_OUT_OF_RANGE)
    return code


KERNELS: Final = ("numpy", "numba")
"""Kernels :func:`evaluate_frame` accepts."""


def kernels_available() -> tuple[str, ...]:
    """The kernels that can run here: ``numpy`` always, ``numba`` with the ``fast`` extra."""
    from okrcore.batch import _numba

    return ("numpy", "numba") if _numba.available() else ("numpy",)


def _numba_kr_pass(frame: OrgFrame, logs: _Logs, obj_start_kr: I64, due_kr: I64,
                   aspirational: B, as_of: int, policy: Policy, out: BatchResult | None
                   ) -> tuple[F64, F64, F64, I8, F64, I8, I8, F64, I8, B]:
    """The fused per key result pass (see :mod:`okrcore.batch._numba`)."""
    from okrcore.batch import _numba

    n = frame.n_kr
    bufs = tuple(_buffer(out, name, n) for name in (
        "kr_value", "kr_raw", "kr_progress", "kr_range_status", "kr_expected",
        "kr_pace_colour", "kr_colour", "kr_grade_score", "kr_grade_band", "kr_grade_success"))
    _numba.kr_pass(
        frame.kr_kind, frame.kr_start, frame.kr_target, frame.kr_current, logs.has_entry,
        logs.value, frame.kr_range_mode, frame.kr_red_low, frame.kr_yellow_low,
        frame.kr_yellow_high, frame.kr_red_high, obj_start_kr, due_kr, aspirational, as_of,
        _numba.UNCAPPED if policy.cap is None else float(policy.cap),
        policy.strict_breakpoints, policy.tolerance, _numba.pace_rule_code(policy.pace),
        float(policy.pace.yellow), float(policy.pace.red), float(policy.grade_yellow),
        float(policy.grade_green), float(policy.aspirational_success), *bufs)
    value, raw, progress, status, expected, pace, colour, score, band, success = bufs
    return value, raw, progress, status, expected, pace, colour, score, band, success


BLOCK_ROWS = 1 << 16
"""Rows per block of the numpy kernel's passes over key results and objectives.

Their temporaries stay small (in cache, and never allocated column-wide)."""

_T = TypeVar("_T")
_THREADS: Final = contextvars.ContextVar[int]("okrcore_batch_threads", default=1)
"""Threads of the numpy kernel's block passes in the current evaluation."""


def _map_blocks(block: Callable[[int, int], _T], bounds: Sequence[tuple[int, int]]) -> list[_T]:
    """``[block(lo, hi) for lo, hi in bounds]``, on the evaluation's threads.

    Every block writes only its own rows (and returns the rest), so the blocks may run in
    any order and at the same time: numpy releases the GIL inside its loops.  Thread ``t``
    takes blocks ``t, t + threads, ...``; the results come back in block order.
    """
    threads = min(_THREADS.get(), len(bounds))
    if threads <= 1:
        return [block(lo, hi) for lo, hi in bounds]

    def share(t: int) -> list[_T]:
        return [block(lo, hi) for lo, hi in bounds[t::threads]]

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="okrcore") as pool:
        shares = list(pool.map(share, range(threads)))
    results: list[_T] = []
    for i in range(len(bounds)):
        results.append(shares[i % threads][i // threads])
    return results


def _row_blocks(n: int) -> list[tuple[int, int]]:
    """Blocks of :data:`BLOCK_ROWS` rows of ``n``."""
    return [(lo, min(lo + BLOCK_ROWS, n)) for lo in range(0, n, BLOCK_ROWS)]


def _fill(column: npt.NDArray[Any], value: Any) -> None:
    """``column.fill(value)``, block by block on the evaluation's threads.

    A fresh column's pages are first touched here: on several threads, so are its page faults.
    """
    def block(lo: int, hi: int) -> None:
        column[lo:hi] = value

    _map_blocks(block, _row_blocks(column.shape[0]))


def _default_threads() -> int:
    """The numpy kernel's default number of threads: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _kr_timeline(frame: OrgFrame, rows: slice) -> tuple[I64, I64, I64]:
    """Key results ``rows``: their objective's start, their due (else the objective's), rows."""
    obj = frame.kr_objective[rows]
    due = frame.kr_due[rows]
    return frame.obj_start[obj], np.where(due != NONE_INSTANT, due, frame.obj_due[obj]), obj


def _numpy_key_results(frame: OrgFrame, kr_error: npt.NDArray[np.uint8], as_of: int,
                       policy: Policy, out: BatchResult | None = None
                       ) -> tuple[_Logs, tuple[Any, ...], tuple[Any, ...]]:
    """Every per key result step of the numpy kernel, in one pass of blocks of rows.

    For each block of rows, in turn: the check-in logs (:func:`_logs_block`), the key result
    step (:func:`_kr_block`) and the step after it (:func:`_post_block`).  Each step reads only
    its own rows of the one before, so the three run on a block while it is in cache, and the
    previous check-in values never leave the block.

    Returns the logs (has an entry, the as-of value, the last instant and the forecast column,
    which become ``kr_value``, ``kr_last_at`` and ``kr_forecast_value``), the key result
    columns (value, raw and clamped progress, range status, expected progress, pace colour,
    colour, grade score, band and success) and the post columns (trend, staleness, forecast
    value, progress, range status and colour, has a forecast) followed by the rows where the
    previous and forecast states differ from now, with their values and clamped progress.
    ``kr_error`` gains ``invalid_timeline`` and ``not_finite``.
    """
    n = frame.n_kr
    logs = _Logs(np.empty(n, np.bool_), _buffer(out, "kr_value", n), np.zeros(0, np.bool_),
                 np.zeros(0), _buffer(out, "kr_last_at", n), _buffer(out, "kr_forecast_value", n))
    # (the as-of check-in values become the values, in place)
    kr = (logs.value, *(_buffer(out, name, n) for name in _KR_PASS_COLUMNS[1:]))
    post = (_buffer(out, "kr_trend", n), _buffer(out, "kr_stale", n), logs.forecast,
            _buffer(out, "kr_forecast_progress", n), np.empty(n, np.int8),
            _buffer(out, "kr_forecast_colour", n), np.empty(n, np.bool_))
    bounds = _log_bounds(frame)

    def block(lo: int, hi: int) -> tuple[Any, ...]:
        rows = slice(lo, hi)
        timeline = _kr_timeline(frame, rows)
        local = _Logs(logs.has_entry[rows], logs.value[rows], np.empty(hi - lo, np.bool_),
                      np.empty(hi - lo), logs.last_at[rows], logs.forecast[rows])
        _logs_of_block(frame, bounds, lo, as_of, timeline[0], timeline[1], local)
        _kr_block(frame, rows, local, kr_error, timeline, as_of, policy,
                  tuple(column[rows] for column in kr))
        return _post_block(frame, rows, local, kr_error, kr[1][rows], kr[2][rows],
                           kr[3][rows], timeline[0], as_of, policy,
                           tuple(column[rows] for column in post))

    parts = list(zip(*_map_blocks(block, _row_blocks(n)), strict=True))
    joined = [np.concatenate(part) for part in parts] if parts else [np.zeros(0)] * 5
    index = _index_dtype(n)
    scenario_rows = (joined[0].astype(index, copy=False), joined[1], joined[2],
                     joined[3].astype(index, copy=False), joined[4])
    return logs, kr, post + scenario_rows


def _index_dtype(n: int) -> type[np.signedinteger[Any]]:
    """int32 when every index below ``n`` fits (held index columns take half the memory)."""
    return np.int32 if n <= np.iinfo(np.int32).max else np.int64


_KR_PASS_COLUMNS: Final = (
    "kr_value", "kr_raw", "kr_progress", "kr_range_status", "kr_expected", "kr_pace_colour",
    "kr_colour", "kr_grade_score", "kr_grade_band", "kr_grade_success")
"""The columns of the numpy kernel's key result step, in :func:`_kr_block`'s order."""


def _kr_block(frame: OrgFrame, rows: slice, logs: _Logs, kr_error: npt.NDArray[np.uint8],
              timeline: tuple[I64, I64, I64], as_of: int, policy: Policy,
              columns: tuple[Any, ...]) -> None:
    """The key result step of the numpy kernel on key results ``rows`` (one block).

    Value, raw and clamped progress, range status, expected progress, pace colour, colour and
    grade, written into ``columns`` (the block's slices, in :data:`_KR_PASS_COLUMNS` order);
    ``logs`` are the block's own.  ``kr_error`` gains ``invalid_timeline`` (a due not after
    the objective's start) and then ``not_finite`` where the raw progress overflows.  Every
    step is elementwise, so a block computes exactly what the whole column would.
    """
    strict = policy.strict_breakpoints
    v, raw, progress, status, expected, pace, colour, score, band, success = columns
    # the value: the last check-in, else the explicit current value, else the baseline
    # (the as-of check-in values are already in ``v``: it is the logs' value column)
    current = frame.kr_current[rows]
    no_entry = ~logs.has_entry
    np.copyto(v, current, where=no_entry)
    no_entry &= np.isnan(current)
    np.copyto(v, frame.kr_start[rows], where=no_entry)
    start, due, obj = timeline
    err = kr_error[rows]
    kr_due = frame.kr_due[rows]
    err[(err == 0) & (kr_due != NONE_INSTANT) & (start != NONE_INSTANT)
        & (kr_due <= start)] = ERR_INVALID_TIMELINE
    r = _raw_progress(frame, v, strict, rows)
    err[(err == 0) & ~np.isfinite(r)] = ERR_NOT_FINITE
    r[err != 0] = 0.0
    raw[:] = r
    p = _clamp(r, policy.cap, progress)
    s = _range_status(frame, v, strict, rows)
    status[:] = s
    e = _expected(as_of, start, due)
    expected[:] = e
    c = _kr_pace(frame.kr_kind[rows], v, p, e, due, as_of, policy)
    pace[:] = c
    np.maximum(c, s, out=colour)
    score[:], band[:], success[:] = _grade(p, frame.obj_ambition[obj] == 1, policy)


def _post_block(frame: OrgFrame, rows: slice, logs: _Logs, kr_error: npt.NDArray[np.uint8],
                raw: F64, progress: F64, status: I8, obj_start: I64, as_of: int,
                policy: Policy, columns: tuple[Any, ...]) -> tuple[Any, ...]:
    """After the key result step (numpy kernel), on key results ``rows`` (one block).

    Trend, staleness, the forecast's value (in the logs' forecast column, in place), progress,
    range status and colour, written into ``columns`` (the block's slices of trend, stale,
    forecast value, progress, status, colour and has a forecast); ``logs``, ``raw``,
    ``progress``, ``status`` and ``obj_start`` (each key result's objective's start) are the
    block's own.  Returns the rows where the previous and forecast states differ from now,
    with their values and clamped progress (the rollups replace them).
    """
    strict = policy.strict_breakpoints
    tol = policy.tolerance
    window = policy.stale_days * MICROSECONDS_PER_DAY
    lo = rows.start
    trend, stale, value, fc_progress, fc_status, fc_colour, has_fc = columns
    # every row's starting values, then the rows that have them
    trend[:] = TREND_NONE
    stale[:] = -1
    fc_progress[:] = np.nan
    fc_status[:] = status
    fc_colour[:] = COLOUR_NONE
    # the previous state matters only where there is a check-in: compute it there alone
    logged = np.flatnonzero(logs.has_entry)
    logged_rows = logged + lo
    prev_logged = np.where(logs.has_previous[logged], logs.previous[logged],
                           frame.kr_start[rows][logged])
    prev_raw = _raw_progress(frame, prev_logged, strict, logged_rows)
    prev_clamped = _clamp(np.where(kr_error[rows][logged] == 0, prev_raw, 0.0), policy.cap)
    trend[logged] = _trend(prev_raw, raw[logged], tol)
    # staleness only on the rows with a check-in log (the others are null, -1)
    log_rows = np.flatnonzero(frame.kr_has_log[rows])
    stale[log_rows] = _stale(progress[log_rows], tol, logs.has_entry[log_rows],
                             logs.last_at[log_rows], obj_start[log_rows], as_of, window)
    # the forecast column of the logs becomes the forecast value (in place)
    kind = frame.kr_kind[rows]
    value[~(((kind == KIND_METRIC) | (kind == KIND_STAGED)) & np.isfinite(value))] = np.nan
    np.logical_not(np.isnan(value), out=has_fc)
    fc = np.flatnonzero(has_fc)
    fc_raw = _raw_progress(frame, value[fc], strict, fc + lo)
    beyond = ~np.isfinite(fc_raw)
    if bool(beyond.any()):
        # (uncapped) a projection beyond floating point is no forecast
        has_fc[fc[beyond]] = False
        value[fc[beyond]] = np.nan
        fc, fc_raw = fc[~beyond], fc_raw[~beyond]
    fc_rows = fc + lo
    fc_clamped = _clamp(fc_raw, policy.cap)
    fc_status[fc] = _range_status(frame, value[fc], strict, fc_rows)
    fc_pace = _pace_colour(fc_clamped, np.ones(fc.shape[0]), policy)
    fc_colour[fc] = _worst(fc_pace, fc_status[fc])
    fc_progress[fc] = fc_clamped
    index = _index_dtype(frame.n_kr)
    return (logged_rows.astype(index), prev_logged, prev_clamped, fc_rows.astype(index),
            fc_clamped)


def _first_of_runs(keys: I64) -> tuple[I64, I64]:
    """For a sorted key array: each distinct key and the index of its first occurrence."""
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    return keys[starts], starts


# ------------------------------------------------------------------------------------------
# check-in logs
# ------------------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class _Logs:
    """Per key result: the as-of value, the previous value, the last instant, the forecast."""

    has_entry: B
    value: F64
    has_previous: B
    previous: F64
    last_at: I64
    forecast: F64


def _numba_logs(frame: OrgFrame, as_of: int, obj_start_of_kr: I64, due_of_kr: I64,
                last_at: I64 | None = None) -> _Logs:
    """The check-in logs at ``as_of`` (numba kernel), given each key result's timeline."""
    from okrcore.batch import _numba

    n = frame.n_kr
    offsets = np.empty(n + 1, dtype=np.int64)
    # log rows are sorted by key result: one sequential pass gives the CSR offsets
    if not _numba.load().csr_of_sorted(frame.log_kr, offsets):
        counts = np.bincount(frame.log_kr, minlength=n) if frame.log_kr.shape[0] else (
            np.zeros(n, dtype=np.int64))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return _Logs(*_numba.logs_pass(offsets, frame.log_at, frame.log_value, as_of,
                                   np.ascontiguousarray(obj_start_of_kr),
                                   np.ascontiguousarray(due_of_kr),
                                   float(MICROSECONDS_PER_DAY), last_at=last_at))


def _numpy_logs(frame: OrgFrame, as_of: int, out: BatchResult | None = None) -> _Logs:
    """The check-in logs at ``as_of`` (numpy kernel), block by block of key results.

    Per key result: whether it has an entry, the latest value and instant, the previous value
    and the least-squares forecast.  Log rows are sorted by key result: a block of key results
    owns a slice of log rows, and everything is computed per key result, so blocks give the
    same values as one pass.  With ``out``, the value, last instant and forecast are written
    into its ``kr_value``, ``kr_last_at`` and ``kr_forecast_value`` (they become those columns).
    """
    n = frame.n_kr
    logs = _Logs(np.empty(n, np.bool_), _buffer(out, "kr_value", n), np.empty(n, np.bool_),
                 np.empty(n), _buffer(out, "kr_last_at", n), _buffer(out, "kr_forecast_value", n))
    bounds = _log_bounds(frame)

    def block(lo: int, hi: int) -> None:
        start, due, _ = _kr_timeline(frame, slice(lo, hi))
        _logs_of_block(frame, bounds, lo, as_of, start, due,
                       _Logs(*(getattr(logs, f.name)[lo:hi] for f in attrs.fields(_Logs))))

    _map_blocks(block, _row_blocks(n))
    return logs


def _log_bounds(frame: OrgFrame) -> I64:
    """The first log row of each block of :data:`BLOCK_ROWS` key results (and the end).

    Log rows are sorted by key result, so a block of key results owns one slice of them.
    """
    n = frame.n_kr
    return np.searchsorted(frame.log_kr, np.arange(0, n + BLOCK_ROWS, BLOCK_ROWS).clip(0, n))


def _logs_of_block(frame: OrgFrame, bounds: I64, lo: int, as_of: int, obj_start_of_kr: I64,
                   due_of_kr: I64, out: _Logs) -> None:
    """:func:`_logs_block` of the block of key results that starts at row ``lo``."""
    rows = slice(int(bounds[lo // BLOCK_ROWS]), int(bounds[lo // BLOCK_ROWS + 1]))
    _logs_block(frame.log_kr[rows] - lo, frame.log_at[rows], frame.log_value[rows], as_of,
                obj_start_of_kr, due_of_kr, out)


def _logs_block(kr: I64, at: I64, val: F64, as_of: int, obj_start_of_kr: I64, due_of_kr: I64,
                out: _Logs) -> None:
    """The check-in logs of ``n`` key results (``kr`` in ``0..n-1``), written into ``out``."""
    n = obj_start_of_kr.shape[0]
    keep = at <= as_of
    # a later entry at the same instant overwrites the earlier one: keep the last of each run
    # (rows are sorted by key result and instant, so the known entries of a key result are a
    # prefix of its rows: one mask selects the kept entries of the known ones)
    if kr.shape[0] > 1:
        keep[:-1] &= (kr[1:] != kr[:-1]) | (at[1:] != at[:-1])
    kr, at, val = kr[keep], at[keep], val[keep]
    count = np.bincount(kr, minlength=n) if kr.shape[0] else np.zeros(n, dtype=np.int64)
    ends = np.cumsum(count)
    np.greater(count, 0, out=out.has_entry)
    np.greater(count, 1, out=out.has_previous)
    has_entry, has_previous = out.has_entry, out.has_previous
    value, last_at, previous, forecast = out.value, out.last_at, out.previous, out.forecast
    value.fill(np.nan)
    last_at.fill(NONE_INSTANT)
    previous.fill(np.nan)
    forecast.fill(np.nan)
    if kr.shape[0]:
        rows = np.flatnonzero(has_entry)
        last = ends[rows] - 1
        value[rows] = val[last]
        last_at[rows] = at[last]
        rows = np.flatnonzero(has_previous)
        previous[rows] = val[ends[rows] - 2]
    # forecast: least squares through the period's entries (instants >= the objective's start)
    if kr.shape[0]:
        period_start = obj_start_of_kr[kr]
        in_period = (period_start == NONE_INSTANT) | (at >= period_start)
        pk, pt, pv = kr[in_period], at[in_period], val[in_period]
        m = np.bincount(pk, minlength=n) if pk.shape[0] else np.zeros(n, dtype=np.int64)
        eligible = m >= 2
        ids = np.flatnonzero(eligible)
        if ids.shape[0]:
            # in the compact index of the eligible key results (the same sums, in row order)
            sel = eligible[pk]
            rank = np.cumsum(eligible) - 1
            pk, pt, pv = rank[pk[sel]], pt[sel], pv[sel]
            k = ids.shape[0]
            mc = m[ids]
            first = np.cumsum(mc) - mc
            origin = pt[first]
            x = (pt - origin[pk]).astype(np.float64) / MICROSECONDS_PER_DAY
            mf = mc.astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                mean_x = np.bincount(pk, weights=x, minlength=k) / mf
                mean_v = np.bincount(pk, weights=pv, minlength=k) / mf
                dx = x - mean_x[pk]
                sxx = np.bincount(pk, weights=dx * dx, minlength=k)
                sxv = np.bincount(pk, weights=dx * (pv - mean_v[pk]), minlength=k)
                due = due_of_kr[ids]
                at_due = (due - origin).astype(np.float64) / MICROSECONDS_PER_DAY
                line = mean_v + (sxv / sxx) * (at_due - mean_x)
            ok = (sxx != 0) & (due != NONE_INSTANT)
            forecast[ids[ok]] = line[ok]


# ------------------------------------------------------------------------------------------
# alignment graph
# ------------------------------------------------------------------------------------------


def _graph(frame: OrgFrame, out: BatchResult | None = None) -> tuple[I64, B, I64]:
    """Parent links, cycle membership and heights (children before parents).

    Returns ``parent`` (-1 none), ``in_cycle`` and ``height`` (0 for objectives without
    children; -1 for objectives on a cycle).  With ``out``, ``parent`` and ``in_cycle`` are
    its buffers ``obj_parent`` and ``obj_in_cycle``.
    """
    m = frame.n_obj
    parent = _buffer(out, "obj_parent", m)
    np.copyto(parent, frame.obj_parent)
    parent[frame.obj_load != LOAD_OK] = -1
    parent[parent < 0] = -1
    linked = parent >= 0
    # peel leaves: what remains is exactly the cycles (a functional graph)
    remaining_children = np.bincount(parent[linked], minlength=m) if m else np.zeros(0, np.int64)
    height = np.full(m, -1, dtype=np.int64)
    alive = _buffer(out, "obj_in_cycle", m)
    alive[:] = True
    level = 0
    frontier = np.flatnonzero(remaining_children == 0)
    # each step costs the size of its frontier (no pass over all m rows), so a chain of
    # objectives is peeled in linear time
    while frontier.shape[0]:
        height[frontier] = level
        alive[frontier] = False
        ups = parent[frontier]
        ups = ups[ups >= 0]
        if ups.shape[0] == 0:
            break
        np.subtract.at(remaining_children, ups, 1)
        ups = np.unique(ups)
        frontier = ups[(remaining_children[ups] == 0) & alive[ups]]
        level += 1
    in_cycle = alive
    # a node hanging below a cycle keeps its height (computed from its own children)
    return parent, in_cycle, height


# ------------------------------------------------------------------------------------------
# rollups
# ------------------------------------------------------------------------------------------


@attrs.frozen(eq=False)
class _Structure:
    """What the rollup of each objective is, decided from structure alone."""

    n_krs: I64
    mode: npt.NDArray[np.uint8]  # 1 mean, 2 sum
    rule: npt.NDArray[np.uint8]
    uses_children: B
    sum_unit: npt.NDArray[np.int32]
    contributes: B  # per KR: counted in its objective's rollup (weight > 0; in sum: the unit)
    sum_error: npt.NDArray[np.uint8]
    sum_start: F64
    sum_target: F64
    target_auto: B
    offsets: I64 | None = None  # CSR of the key result rows of each objective (numba kernel)
    summed: B | None = None  # per KR: counted in its objective's sum (numba kernel)
    # numpy kernel: per objective the sum of its key results' weights (the same in every
    # scenario), and the rows counted in sums with their objectives
    weight_total: F64 | None = None
    summed_rows: I64 | None = None
    summed_obj: I64 | None = None


def _structure(frame: OrgFrame, kr_ok: B, kernel: str = "numpy",
               out: BatchResult | None = None) -> _Structure:
    """The rollup structure of every objective (see :class:`_Structure`).

    With ``out``, the columns that are also result columns (``mode``, ``sum_unit``,
    ``sum_start``, ``sum_target``) are its buffers ``obj_mode``, ``obj_sum_unit``, ...
    """
    m = frame.n_obj
    obj = frame.kr_objective
    if kernel == "numba":
        return _numba_structure(frame, kr_ok, out)
    grouped = bool(np.all(obj[1:] >= obj[:-1])) if obj.shape[0] > 1 else True
    if not grouped:
        raise ValueError("key result rows must be grouped by objective (sort by kr_objective)")
    # per key result work in blocks of whole objectives (no objective is cut, so every
    # per-objective sum adds the same rows in the same order as over the whole column);
    # objectives without key results keep the starting values
    blocks = _group_blocks(obj)
    n_krs = np.zeros(m, dtype=np.int64)
    all_plain = np.ones(m, dtype=bool)
    same_unit = np.ones(m, dtype=bool)
    same_dir = np.ones(m, dtype=bool)
    wm_first_unit = np.full(m, -2, dtype=np.int32)
    wm_units_differ = np.zeros(m, dtype=bool)
    unit_first = np.full(m, -1, dtype=np.int32)  # the unit of each objective's first row
    weight_total = np.zeros(m)
    direction = np.empty(obj.shape[0], dtype=np.int8)

    def first_pass(lo: int, hi: int) -> None:
        # (each block has whole objectives: it writes only its own rows and objectives)
        rows = slice(lo, hi)
        local, first_obj, objs = _block_groups(obj, lo, hi)
        n_krs[objs] = np.bincount(local)
        weight_total[objs] = np.bincount(local, weights=frame.kr_weight[rows])
        # direction: the sign of target - start as int8; NaN is its own code, counted as
        # down (as numpy's int64 cast of a NaN sign, the int64 minimum, is)
        with np.errstate(over="ignore"):  # (an overflow keeps its sign)
            span = frame.kr_target[rows] - frame.kr_start[rows]
        d = direction[rows]
        np.subtract((span > 0).view(np.int8), (span < 0).view(np.int8), out=d)
        d[np.isnan(span)] = -128
        metric = frame.kr_kind[rows] == KIND_METRIC
        plain = all_plain[objs]
        plain[local[~(metric & (frame.kr_range_mode[rows] == 0))]] = False
        all_plain[objs] = plain
        # "every row of a group equals its first row" is "no two neighbours in a group differ"
        same_group = local[1:] == local[:-1]
        unit = frame.kr_unit[rows]
        runs, idx = _first_of_runs(local)
        unit_first[runs + first_obj] = unit[idx]
        for result, column in ((same_unit, unit), (same_dir, d)):
            same = result[objs]
            same[local[1:][same_group & (column[1:] != column[:-1])]] = False
            result[objs] = same
        # the unit of a sum: the one unit of the weighted metrics
        wm = np.flatnonzero(metric & (frame.kr_weight[rows] > 0))
        wm_obj, wm_unit = local[wm], unit[wm]
        if wm.shape[0]:
            runs, idx = _first_of_runs(wm_obj)
            wm_first_unit[runs + first_obj] = wm_unit[idx]
            wm_units_differ[wm_obj[1:][(wm_obj[1:] == wm_obj[:-1])
                                       & (wm_unit[1:] != wm_unit[:-1])] + first_obj] = True

    _map_blocks(first_pass, blocks)
    has_krs = n_krs > 0
    has_settings = frame.obj_ps_unit >= 0
    explicit = frame.obj_mode != 0
    auto_same = has_krs & all_plain & same_unit & (unit_first >= 0) & same_dir
    # mode: explicit, else sum with settings or one unit, else mean; mean without key results
    mode = _buffer(out, "obj_mode", m)
    np.copyto(mode, np.where(has_settings | auto_same, np.uint8(2), np.uint8(1)))
    np.copyto(mode, frame.obj_mode, where=explicit)
    mode[~has_krs] = 1
    # the rule, the first that applies: explicit, settings, same unit, mixed; children alone
    rule = np.full(m, RULE_MIXED, dtype=np.uint8)
    rule[auto_same] = RULE_SAME_UNIT
    rule[has_settings] = RULE_SETTINGS
    rule[explicit] = RULE_EXPLICIT
    rule[~has_krs] = RULE_CHILDREN
    uses_children = ~has_krs | frame.obj_include_children
    # the unit of a sum: the settings' unit, else the one unit of the weighted metrics
    sum_unit = _buffer(out, "obj_sum_unit", m)
    np.copyto(sum_unit, wm_first_unit)
    np.copyto(sum_unit, frame.obj_ps_unit, where=has_settings)
    sum_error = np.zeros(m, dtype=np.uint8)
    is_sum = (mode == 2) & has_krs
    no_unit = is_sum & ~has_settings & ((wm_first_unit == -2) | wm_units_differ)
    sum_error[no_unit] = ERR_NO_SUM_UNIT
    # the rows that count in a sum: weighted metrics of the sum's unit; sums from 0.0 over
    # them in row order (the rows left out would add 0.0, which changes no such sum: it is
    # never -0.0)
    n_contrib = np.zeros(m, dtype=np.int32)
    up = np.zeros(m, dtype=np.int32)
    down = np.zeros(m, dtype=np.int32)
    # (the sums of the rows counted; settings override them below)
    starts = _buffer(out, "obj_sum_start", m)
    targets = _buffer(out, "obj_sum_target", m)
    starts[:] = 0.0
    targets[:] = 0.0
    contributes = np.empty(obj.shape[0], dtype=bool)

    def second_pass(lo: int, hi: int) -> I64:
        rows = slice(lo, hi)
        local, first_obj, objs = _block_groups(obj, lo, hi)
        weight_ok = frame.kr_weight[rows] > 0
        wm = np.flatnonzero((frame.kr_kind[rows] == KIND_METRIC) & weight_ok)
        wm_obj = local[wm] + first_obj
        picked = (frame.kr_unit[rows][wm] == sum_unit[wm_obj]) & is_sum[wm_obj]
        cs, cs_obj = wm[picked], local[wm[picked]]
        k = objs.stop - objs.start
        n_contrib[objs] = np.bincount(cs_obj, minlength=k)
        cs_dir = direction[rows][cs]
        up[objs] = np.bincount(cs_obj[cs_dir > 0], minlength=k)
        down[objs] = np.bincount(cs_obj[cs_dir < 0], minlength=k)
        starts[objs] = np.bincount(cs_obj, weights=frame.kr_start[rows][cs], minlength=k)
        targets[objs] = np.bincount(cs_obj, weights=frame.kr_target[rows][cs], minlength=k)
        c = contributes[rows]
        np.logical_and(weight_ok, ~is_sum[objs][local], out=c)
        c[cs] = True
        c &= kr_ok[rows]
        return np.asarray(cs[kr_ok[rows][cs]] + lo)

    summed_rows = _map_blocks(second_pass, blocks)
    sum_error[is_sum & (sum_error == 0) & (n_contrib == 0)] = ERR_NO_CONTRIBUTING_METRIC
    sum_error[is_sum & (sum_error == 0) & (up > 0) & (down > 0)] = ERR_MIXED_DIRECTIONS
    sum_start = starts
    np.copyto(sum_start, frame.obj_ps_start,
              where=has_settings & ~np.isnan(frame.obj_ps_start))
    target_auto = ~has_settings | frame.obj_ps_auto
    sum_target = targets
    np.copyto(sum_target, frame.obj_ps_target, where=~target_auto)
    sum_error[is_sum & (sum_error == 0) & (sum_target == sum_start)] = ERR_DEGENERATE_GOAL
    # the rows counted in sums and their objectives, held through all three rollups
    summed = (np.concatenate(summed_rows) if summed_rows else np.zeros(0, np.int64)).astype(
        _index_dtype(obj.shape[0]), copy=False)
    del summed_rows
    summed_obj = obj[summed].astype(_index_dtype(m), copy=False)
    return _Structure(n_krs, mode, rule, uses_children, sum_unit, contributes, sum_error,
                      sum_start, sum_target, target_auto, weight_total=weight_total,
                      summed_rows=summed, summed_obj=summed_obj)


def _block_groups(groups: I64, lo: int, hi: int) -> tuple[I64, int, slice]:
    """Rows ``lo:hi`` of non-decreasing ``groups``: groups from 0, the first, the groups."""
    block = groups[lo:hi]
    first = int(block[0])
    return block - first, first, slice(first, int(block[-1]) + 1)


def _numba_structure(frame: OrgFrame, kr_ok: B, out: BatchResult | None = None
                     ) -> _Structure:
    """:func:`_structure` as one fused kernel over each objective's key result rows."""
    from okrcore.batch import _numba

    kernels = _numba.load()
    m = frame.n_obj
    offsets = np.empty(m + 1, dtype=np.int64)
    if not kernels.csr_of_sorted(frame.kr_objective, offsets):
        raise ValueError("key result rows must be grouped by objective (sort by kr_objective)")
    st = _Structure(
        n_krs=np.empty(m, np.int64), mode=_buffer(out, "obj_mode", m),
        rule=np.empty(m, np.uint8), uses_children=np.empty(m, np.bool_),
        sum_unit=_buffer(out, "obj_sum_unit", m), contributes=np.empty(frame.n_kr, np.bool_),
        sum_error=np.empty(m, np.uint8), sum_start=_buffer(out, "obj_sum_start", m),
        sum_target=_buffer(out, "obj_sum_target", m), target_auto=np.empty(m, np.bool_),
        offsets=offsets, summed=np.empty(frame.n_kr, np.bool_))
    kernels.structure(
        offsets, frame.kr_kind, frame.kr_range_mode, frame.kr_start, frame.kr_target,
        frame.kr_weight, frame.kr_unit, np.ascontiguousarray(kr_ok), frame.obj_mode,
        frame.obj_ps_unit, frame.obj_ps_auto, frame.obj_ps_start, frame.obj_ps_target,
        frame.obj_include_children, st.n_krs, st.mode, st.rule, st.uses_children, st.sum_unit,
        st.sum_error, st.sum_start, st.sum_target, st.target_auto, st.contributes, st.summed)
    return st


@attrs.frozen(eq=False)
class _Tree:
    """The alignment forest for the numba rollup kernel."""

    order: I64  # objectives with a height, by height (children before parents), row order
    level_offsets: I64  # the objectives of height h are order[level_offsets[h]:...[h + 1]]
    child_offsets: I64  # CSR: the children of o are children[child_offsets[o]:...[o + 1]]
    children: I64  # in row order within each parent
    others: I64  # the objectives without a height (on an alignment cycle), row order


def _tree(parent: I64, height: I64) -> _Tree:
    from okrcore.batch import _numba

    m = parent.shape[0]
    max_h = int(height.max()) if m else -1
    # the rows of each height in row order, by one stable sort (not one pass per height)
    by_height = np.argsort(height, kind="stable")
    # where each height 0..max_h starts, and the end (cycles, height -1, come first: left out)
    bounds = np.searchsorted(height[by_height], np.arange(0, max_h + 2))
    order = by_height[bounds[0]:]
    level_offsets = (bounds - bounds[0]).astype(np.int64)
    count = int(np.count_nonzero((parent >= 0) & (height >= 0)))
    offsets = np.empty(m + 1, dtype=np.int64)
    children = np.empty(count, dtype=np.int64)
    _numba.load().children(parent, height, offsets, children)
    return _Tree(order.astype(np.int64, copy=False), level_offsets, offsets, children,
                 np.flatnonzero(height < 0))


def _kr_part(frame: OrgFrame, st: _Structure, value: F64, progress: F64, cap: float | None,
             delta: tuple[Any, F64, F64] | None = None,
             sums_out: tuple[F64, F64] | None = None) -> tuple[F64, F64, F64, F64]:
    """Per objective: Σ w·p of its key results, the sum-mode value, raw and clamped progress.

    ``delta`` (a scenario: ascending rows, int32 or int64, with their values and clamped
    progress) replaces those rows' value and progress; the columns themselves are left as they
    are.  Blocks of whole objectives (numpy kernel): each objective's rows are added in row
    order from 0.0, as one ``np.bincount`` over every row would add them.  ``sums_out`` (two
    columns per objective) receives the sum-mode value and clamped progress.
    """
    m = frame.n_obj
    obj = frame.kr_objective
    w = frame.kr_weight
    summed_rows, summed_obj = st.summed_rows, st.summed_obj
    # objectives without key results (no block reaches them) keep 0.0
    weighted = np.zeros(m)
    if sums_out is None:
        value_sum = np.zeros(m)
    else:
        value_sum = sums_out[0]
        _fill(value_sum, 0.0)
    d_rows, d_value, d_prog = delta if delta is not None else (None, None, None)
    if summed_rows is None or summed_obj is None:
        # (numba kernel's structure) every row counted in its objective's sum
        summed = st.summed if st.summed is not None else st.contributes & (st.mode[obj] == 2)
        summed_rows = np.flatnonzero(summed)
        summed_obj = obj[summed_rows]

    def block(lo: int, hi: int) -> None:
        g = obj[lo:hi]
        first = int(g[0])
        k = int(g[-1]) + 1 - first
        p, v = progress[lo:hi], value[lo:hi]
        if d_rows is not None and d_value is not None and d_prog is not None:
            a, b = np.searchsorted(d_rows, (lo, hi))
            at = d_rows[a:b] - lo
            p, v = p.copy(), v.copy()
            p[at] = d_prog[a:b]
            v[at] = d_value[a:b]
        with np.errstate(over="ignore", invalid="ignore"):  # rescued by the rollup (1e308)
            weighted[first:first + k] = np.bincount(g - first, weights=w[lo:hi] * p,
                                                    minlength=k)
        # the rows left out of a sum would add 0.0, which changes no such sum (never -0.0)
        a, b = np.searchsorted(summed_rows, (lo, hi))
        value_sum[first:first + k] = np.bincount(summed_obj[a:b] - first,
                                                 weights=v[summed_rows[a:b] - lo], minlength=k)

    _map_blocks(block, _group_blocks(obj))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        raw_sum = np.subtract(value_sum, st.sum_start)
        span = st.sum_target - st.sum_start
        _halve_overflows(raw_sum, span, value_sum, st.sum_start, st.sum_target)
        raw_sum /= span
        # a total beyond floating point: no finite progress (not_finite)
        raw_sum[~(np.isfinite(value_sum) & np.isfinite(st.sum_start)
                  & np.isfinite(st.sum_target))] = np.nan
    return weighted, value_sum, raw_sum, _clamp(raw_sum, cap,
                                                None if sums_out is None else sums_out[1])


class _Level(NamedTuple):
    """One height of the alignment forest, for the numpy kernel's rollups.

    Row indices are int32 when every objective row fits (they are held through all three
    rollups).
    """

    rows: npt.NDArray[Any]  # the objectives of this height (row order)
    kids: npt.NDArray[Any]  # the objectives whose parent is at this height
    up: npt.NDArray[Any]  # per kid: its parent's position among ``rows``


def _levels(parent: I64, height: I64) -> list[_Level]:
    """Per height: its rows, the rows whose parent is at it, and where each parent is.

    What every rollup scenario needs from the forest alone, computed once per evaluation.
    """
    m = parent.shape[0]
    index = _index_dtype(m)
    kids = np.flatnonzero(parent >= 0).astype(index)
    kid_level = height[parent[kids]]
    max_height = int(height.max()) if m else -1
    level_of = np.empty(m, dtype=index)  # a row's position in its level
    levels = []
    # rows and kids of each height in row order, by one stable sort each (not one pass over
    # all rows per height: a chain of objectives has as many heights as rows)
    heights = np.arange(max_height + 2)
    by_height = np.argsort(height, kind="stable")
    row_bounds = np.searchsorted(height[by_height], heights)
    by_kid_level = np.argsort(kid_level, kind="stable")
    kid_bounds = np.searchsorted(kid_level[by_kid_level], heights)
    for level in range(max_height + 1):
        rows = by_height[row_bounds[level]:row_bounds[level + 1]].astype(index)
        level_kids = (kids[by_kid_level[kid_bounds[level]:kid_bounds[level + 1]]] if level
                      else np.zeros(0, dtype=index))
        level_of[rows] = np.arange(rows.shape[0], dtype=index)
        levels.append(_Level(rows, level_kids, level_of[parent[level_kids]]))
    return levels


@attrs.frozen(eq=False)
class _Forest:
    """What the numpy kernel's rollups need from the forest and the structure alone.

    The same in every scenario (now, previous, forecast): computed once per evaluation.
    """

    levels: list[_Level]
    own_total: F64  # per objective: its own key results' weight (1.0 for a sum, 0.0 if none)
    plain_sum: B  # per objective: a sum whose progress is just the sum (no aligned child in it)
    sum_rows: I64  # the objectives that sum their own key results


def _forest(parent: I64, height: I64, st: _Structure) -> _Forest:
    """:func:`_levels` and the per objective constants of the rollups (numpy kernel)."""
    levels = _levels(parent, height)
    # the objectives rolled up (height >= 0) that have an aligned child: a child of such an
    # objective is never on a cycle, so these are the parents of the levels' children
    has_children = np.zeros(parent.shape[0], dtype=bool)
    for level in levels:
        has_children[level.rows[level.up]] = True  # the kids' parents
    has_krs = st.n_krs > 0
    summing = (st.mode == 2) & has_krs
    assert st.weight_total is not None
    own_total = np.where(has_krs, np.where(summing, 1.0, st.weight_total), 0.0)
    # a sum with include_children but no aligned child is just the sum (raw as is)
    plain_sum = summing & (~st.uses_children | ~has_children)
    return _Forest(levels, own_total, plain_sum, np.flatnonzero(summing))


def _rollup(frame: OrgFrame, st: _Structure, height: I64, parent: I64,
            kr_value: F64, kr_progress: F64, cap: float | None, *,
            valid: B | None = None, errors: tuple[npt.NDArray[np.uint8], I64] | None = None,
            kid_has_fc: B | None = None, kid_now: F64 | None = None,
            pin: tuple[B, F64, B | None, npt.NDArray[np.uint8] | None] | None = None,
            kernel: str = "numpy", tree: _Tree | None = None, fc_start: B | None = None,
            forest: _Forest | None = None, delta: tuple[Any, F64, F64] | None = None,
            progress_out: F64 | None = None, raw_out: F64 | None = None,
            sums_out: tuple[F64, F64] | None = None,
            override: tuple[B, F64, F64] | None = None
            ) -> tuple[F64, F64 | None, F64, B, F64]:
    """Objective progress (NaN = null), raw and summed value, forecast flags, summed part.

    Level by level up the alignment tree (children before parents).  With ``errors`` (the
    evaluation "now"), invalid children make the objectives that roll them up
    ``depends_on_invalid`` and overflowing results become ``not_finite``, in the scalar
    path's order.  With ``kid_has_fc`` (the forecast scenario), children without a forecast
    take part with their progress now (``kid_now``), and the returned flags say which
    objectives have a forecast.

    numpy kernel: ``delta`` gives the scenario's key result rows that differ from
    ``kr_value`` and ``kr_progress`` (see :func:`_kr_part`); progress is written into
    ``progress_out`` when given, raw progress into ``raw_out`` when given (raw is computed
    only in the evaluation "now" or when asked for).  ``sums_out`` receives the summed part's
    value and progress (both kernels).  numba kernel: ``override`` (per key result: a mask, a
    progress and a value) replaces the progress and value of the masked rows (the forecast
    state: its rows with a forecast).
    """
    m = frame.n_obj
    obj = frame.kr_objective
    n = frame.n_kr
    if tree is not None and st.offsets is not None:
        # numba: the key result sums and the tree in one fused pass
        from okrcore.batch import _numba

        progress, raw, has_fc, pinned = _rollup_start(m, obj, st, errors, kid_has_fc, pin,
                                                      fc_start)
        scenario = (0 if errors is not None else (2 if kid_has_fc is not None else 1))
        err, ref = errors if errors is not None else (np.zeros(m, np.uint8),
                                                      np.zeros(m, np.int64))
        # the summed part's value and progress: written in the evaluation "now" only
        value_sum, prog_sum = sums_out if sums_out is not None else (np.empty(m), np.empty(m))
        summed = st.summed if st.summed is not None else st.contributes & (st.mode[obj] == 2)
        over, over_progress, over_value = (override if override is not None else
                                           (np.zeros(0, np.bool_), np.zeros(0), np.zeros(0)))
        _numba.load().rollup_fused(
            tree.order, tree.level_offsets, tree.child_offsets, tree.children, tree.others,
            st.offsets, frame.kr_weight, np.ascontiguousarray(kr_progress),
            np.ascontiguousarray(kr_value), np.ascontiguousarray(over),
            np.ascontiguousarray(over_progress), np.ascontiguousarray(over_value), summed,
            st.sum_start, st.sum_target,
            _numba.UNCAPPED if cap is None else float(cap), n, st.mode == 2, st.uses_children,
            frame.obj_weight, frame.obj_due, pinned, scenario, err, ref,
            valid if valid is not None else np.ones(m, np.bool_),
            kid_now if kid_now is not None else progress, has_fc, progress, raw, value_sum,
            prog_sum)
        return progress, raw, value_sum, has_fc, prog_sum
    if forest is None:
        forest = _forest(parent, height, st)
    # the own part of every objective: Σ w·p of its key results, or a sum's progress
    own_weighted, value_sum, raw_sum, prog_sum = _kr_part(frame, st, kr_value, kr_progress,
                                                          cap, delta, sums_out)
    own_weighted[forest.sum_rows] = prog_sum[forest.sum_rows]
    own_total, plain_sum = forest.own_total, forest.plain_sum
    want_raw = errors is not None or raw_out is not None
    progress, raw, has_fc, pinned = _rollup_start(m, obj, st, errors, kid_has_fc, pin,
                                                  fc_start, progress_out,
                                                  raw_out if want_raw else np.zeros(0))
    for level_rows, kids, up in forest.levels:
        if errors is not None and kids.shape[0]:
            obj_error, obj_ref = errors
            bad_kids = kids[obj_error[kids] != 0]
            if bad_kids.shape[0]:
                ups, first = np.unique(parent[bad_kids], return_index=True)
                open_ = (obj_error[ups] == 0) | (obj_error[ups] >= ERR_NO_CONTRIBUTING_METRIC)
                hit = ups[open_ & st.uses_children[ups] & ~pinned[ups]]
                ref = np.full(m, -1, dtype=np.int64)
                ref[ups] = bad_kids[first] + n
                obj_error[hit] = ERR_DEPENDS_ON_INVALID
                obj_ref[hit] = ref[hit]
        k = level_rows.shape[0]
        if k <= _THIN_ROWS and kids.shape[0] <= _THIN_KIDS:
            # a thin level (a chain of objectives has one row per level): the same operations
            # on Python floats, without the fixed cost of some forty numpy calls
            _thin_level(frame, st, level_rows, kids, up, own_total, own_weighted, plain_sum,
                        prog_sum, raw_sum, kr_progress, delta, progress, raw, want_raw,
                        pinned, errors, valid, kid_has_fc, kid_now, has_fc)
            continue
        if kids.shape[0]:
            assert errors is not None or valid is not None
            # (whether each kid is valid, computed at the kids only: not a pass over every row
            # per level)
            ok_kid: B = ((errors[0][kids] == 0) if errors is not None
                         else typing.cast(B, valid)[kids])
            if kid_has_fc is not None and kid_now is not None:
                counted_now = (ok_kid & ~np.isnan(kid_now[kids])
                               & (frame.obj_weight[kids] > 0))
                lift = kids[counted_now & has_fc[kids] & st.uses_children[parent[kids]]]
                lift = lift[~pinned[parent[lift]]]
                # (has_fc is read at the kids below, written at their parents: another level)
                has_fc[parent[lift]] = True
            # each child's counted weight, progress and weight x progress, block by block
            wk, kp, wkp = (np.empty(kids.shape[0]), np.empty(kids.shape[0]),
                           np.empty(kids.shape[0]))

            def kid_block(lo: int, hi: int, kids: Any = kids, ok_kid: B = ok_kid,
                          wk: F64 = wk, kp: F64 = kp, wkp: F64 = wkp) -> None:
                these = kids[lo:hi]
                p = progress[these]
                if kid_has_fc is not None and kid_now is not None:
                    p = np.where(has_fc[these], p, kid_now[these])
                w = frame.obj_weight[these]
                counted = ok_kid[lo:hi] & ~np.isnan(p) & (w > 0)
                block_w = np.where(counted, w, 0.0)
                wk[lo:hi] = block_w
                kp[lo:hi] = np.where(counted, p, 0.0)
                with np.errstate(over="ignore", invalid="ignore"):  # rescued by level_block
                    wkp[lo:hi] = block_w * kp[lo:hi]

            _map_blocks(kid_block, _row_blocks(kids.shape[0]))
            # per parent, its children in row order (the parents are this level's rows)
            ctot_level = _group_sum(up, wk, k)
            cw_level = _group_sum(up, wkp, k)
            del wkp
            level_kids: tuple[Any, F64, F64] | None = (up, wk, kp)
        else:
            ctot_level = cw_level = np.zeros(k)
            level_kids = None

        def level_block(lo: int, hi: int, level_rows: Any = level_rows,
                        ctot_level: F64 = ctot_level, cw_level: F64 = cw_level,
                        level_kids: tuple[Any, F64, F64] | None = level_kids) -> None:
            block = slice(lo, hi)
            keep = ~pinned[level_rows[block]]
            rows = level_rows[block][keep]
            uses = st.uses_children[rows]
            plain = plain_sum[rows]
            mixed_total = own_total[rows] + np.where(uses, ctot_level[block][keep], 0.0)
            numerator = own_weighted[rows] + np.where(uses, cw_level[block][keep], 0.0)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                mixed = numerator / mixed_total
            # (a NaN numerator: an infinite progress of weight 0, which the scalar path skips)
            rescue = ~plain & (np.isinf(mixed_total) | ~np.isfinite(numerator))
            rescue &= (errors[0][rows] == 0) if errors is not None else (
                valid[rows] if valid is not None else True)
            for at in np.flatnonzero(rescue).tolist():
                # weights or progress near 1e308 (rare): the scalar path's rescaled mean
                mixed[at] = _rescaled_mean(
                    frame, st, int(rows[at]), kr_progress, delta, prog_sum,
                    level_kids if bool(uses[at]) else None,
                    lo + int(np.flatnonzero(keep)[at]))
            null = ~plain & (mixed_total == 0)
            mean = np.where(null, np.nan, mixed)
            level_progress = np.where(plain, prog_sum[rows], mean)
            progress[rows] = level_progress
            if want_raw:
                level_raw = np.where(plain, raw_sum[rows], mean)
                raw[rows] = level_raw
            if errors is not None:
                obj_error = errors[0]
                # (a sum with children hides its raw progress inside the mean: its own)
                beyond = ~np.isfinite(level_raw) & ~null
                beyond |= (st.mode[rows] == 2) & (st.n_krs[rows] > 0) & np.isnan(raw_sum[rows])
                overflow = rows[(obj_error[rows] == 0) & beyond]
                obj_error[overflow] = ERR_NOT_FINITE
            if kid_has_fc is not None:
                # (a projected progress beyond floating point is no forecast)
                good = (frame.obj_due[rows] != NONE_INSTANT) & np.isfinite(level_progress)
                if valid is not None:
                    good &= valid[rows]
                has_fc[rows] &= good

        _map_blocks(level_block, _row_blocks(k))

    return progress, raw if want_raw else None, value_sum, has_fc, prog_sum


_THIN_ROWS: Final = 4
"""A level of at most this many objectives ..."""
_THIN_KIDS: Final = 16
"""... and children is rolled up on Python floats by :func:`_thin_level`."""


def _thin_level(frame: OrgFrame, st: _Structure, level_rows: Any, kids: Any, up: Any,
                own_total: F64, own_weighted: F64, plain_sum: B, prog_sum: F64, raw_sum: F64,
                kr_progress: F64, delta: tuple[Any, F64, F64] | None, progress: F64,
                raw: F64, want_raw: bool, pinned: B,
                errors: tuple[npt.NDArray[np.uint8], I64] | None, valid: B | None,
                kid_has_fc: B | None, kid_now: F64 | None, has_fc: B) -> None:
    """One thin level of :func:`_rollup` (numpy kernel) on Python floats.

    The operations of the level's numpy code, value by value and in the same order (IEEE
    doubles either way): each parent's children summed from 0.0 in row order, then the
    objective's own part plus the children, the mean, the rescue of overflowing sums, the
    ``not_finite`` errors and the forecast flags.
    """
    def ok(c: int) -> bool:
        if errors is not None:
            return bool(errors[0][c] == 0)
        assert valid is not None
        return bool(valid[c])

    forecast = kid_has_fc is not None and kid_now is not None
    k = len(level_rows)
    ctot = [0.0] * k
    cw = [0.0] * k
    wk: list[float] = []
    kp: list[float] = []
    kid_list = kids.tolist()
    up_list = up.tolist()
    rows = level_rows.tolist()
    parent = {c: rows[u] for c, u in zip(kid_list, up_list, strict=True)}
    if forecast and kid_list:
        assert kid_now is not None
        lift = [c for c in kid_list
                if ok(c) and not math.isnan(kid_now[c]) and frame.obj_weight[c] > 0
                and has_fc[c] and st.uses_children[parent[c]] and not pinned[parent[c]]]
        for c in lift:  # (read at the kids, written at their parents: another level)
            has_fc[parent[c]] = True
    for c, u in zip(kid_list, up_list, strict=True):
        p = float(progress[c])
        if forecast and not has_fc[c]:
            assert kid_now is not None
            p = float(kid_now[c])
        w = float(frame.obj_weight[c])
        counted = ok(c) and not math.isnan(p) and w > 0
        bw = w if counted else 0.0
        pk = p if counted else 0.0
        wk.append(bw)
        kp.append(pk)
        ctot[u] += bw
        cw[u] += bw * pk
    level_kids = (up, np.asarray(wk), np.asarray(kp)) if kid_list else None
    for at, o in enumerate(rows):
        if pinned[o]:
            continue
        uses = bool(st.uses_children[o])
        plain = bool(plain_sum[o])
        mixed_total = float(own_total[o]) + (ctot[at] if uses else 0.0)
        numerator = float(own_weighted[o]) + (cw[at] if uses else 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mixed = float(np.float64(numerator) / np.float64(mixed_total))
        valid_o = bool(errors[0][o] == 0) if errors is not None else (
            bool(valid[o]) if valid is not None else True)
        if not plain and (math.isinf(mixed_total) or not math.isfinite(numerator)) and valid_o:
            mixed = _rescaled_mean(frame, st, o, kr_progress, delta, prog_sum,
                                   level_kids if uses else None, at)
        null = not plain and mixed_total == 0
        mean = math.nan if null else mixed
        level_progress = float(prog_sum[o]) if plain else mean
        progress[o] = level_progress
        if want_raw:
            level_raw = float(raw_sum[o]) if plain else mean
            raw[o] = level_raw
            beyond = (not null and not math.isfinite(level_raw)) or (
                st.mode[o] == 2 and st.n_krs[o] > 0 and math.isnan(raw_sum[o]))
            if errors is not None and errors[0][o] == 0 and beyond:
                errors[0][o] = ERR_NOT_FINITE
        if kid_has_fc is not None:
            good = frame.obj_due[o] != NONE_INSTANT and math.isfinite(level_progress)
            if valid is not None:
                good = good and bool(valid[o])
            has_fc[o] = bool(has_fc[o]) and good


def _rescaled_mean(frame: OrgFrame, st: _Structure, o: int, kr_progress: F64,
                   delta: tuple[Any, F64, F64] | None, prog_sum: F64,
                   level_kids: tuple[Any, F64, F64] | None, position: int) -> float:
    """Objective ``o``'s mean by :func:`okrcore.formulas.rescaled_mean` (numpy kernel).

    For the rare objective whose plain sums overflow: its own items (key results in row order,
    or its summed part), then its counted children in row order (``level_kids``: per child of
    the level its parent's position, counted weight and progress; ``position`` is ``o``'s).
    """
    own: list[tuple[float, float]] = []
    lo, hi = np.searchsorted(frame.kr_objective, (o, o + 1)).tolist()
    if st.mode[o] == 2 and hi > lo:
        own.append((1.0, float(prog_sum[o])))
    else:
        p = kr_progress[lo:hi].copy()
        if delta is not None:
            d_rows, _, d_prog = delta
            a, b = np.searchsorted(d_rows, (lo, hi))
            p[d_rows[a:b] - lo] = d_prog[a:b]
        own = [(w, v) for w, v in zip(frame.kr_weight[lo:hi].tolist(), p.tolist(), strict=True)
               if w > 0]
    kids: list[tuple[float, float]] = []
    if level_kids is not None:
        up, wk, kp = level_kids
        at = np.flatnonzero(up == position)
        kids = [(w, v) for w, v in zip(wk[at].tolist(), kp[at].tolist(), strict=True) if w > 0]
    return F.rescaled_mean([own, kids])[0]


def _rollup_start(m: int, obj: I64, st: _Structure, errors: Any, kid_has_fc: B | None,
                  pin: Any, fc_start: B | None, progress: F64 | None = None,
                  raw: F64 | None = None) -> tuple[F64, F64, B, B]:
    """The rollup's starting columns: progress and raw (NaN), forecast flags, pinned rows.

    ``progress`` and ``raw`` are filled when given (else new).
    """
    for column in (progress, raw):
        if column is not None:
            _fill(column, np.nan)
    progress = np.full(m, np.nan) if progress is None else progress
    raw = np.full(m, np.nan) if raw is None else raw
    has_fc = np.zeros(m, dtype=bool)
    if fc_start is not None:
        has_fc = fc_start
    elif kid_has_fc is not None:
        has_fc = _sorted_group_count(obj, m, _counted_forecasts(st, kid_has_fc)) > 0
    pinned = np.zeros(m, dtype=bool)
    if pin is not None:
        # objectives whose results are known (incremental recompute): fixed, never computed
        pinned, pin_progress, pin_fc, pin_error = pin
        progress[pinned] = pin_progress[pinned]
        if pin_fc is not None:
            has_fc[pinned] = pin_fc[pinned]
        if errors is not None and pin_error is not None:
            errors[0][pinned] = pin_error[pinned]
    return progress, raw, has_fc, pinned


def _counted_forecasts(st: _Structure, kr_has_fc: B) -> B:
    """Key results that have a forecast and count in their objective's rollup."""
    return np.asarray(kr_has_fc & st.contributes)


def evaluate_frame(frame: OrgFrame, as_of: int, policy: Policy | None = None, *,
                   kernel: str = "numpy", out: BatchResult | None = None,
                   threads: int | None = None) -> BatchResult:
    r"""Evaluate every key result, objective and person of a frame at ``as_of``.

    Parameters
    ----------
    frame : OrgFrame
        The organisation in columns (key result rows grouped by objective).
    as_of : int
        The instant of evaluation [µs since the Unix epoch].
    policy : Policy, optional
        Default: the ``betterworks`` preset.
    kernel : {"numpy", "numba"}
        ``numba`` runs the per key result pass and the per objective sums as fused parallel
        kernels (the ``fast`` extra); the results are identical.
    out : BatchResult, optional
        Buffers to write the result into, usually a previous result of a frame of the same
        shape: every column must have this frame's row count and the dtype of a fresh
        result, be contiguous and writeable and share no memory with another
        column or with the frame's columns, else ``ValueError`` names the column.  Both
        kernels write their per key result passes straight into it and copy the other
        columns; the returned result holds ``out``'s arrays, so a job that evaluates again
        and again allocates its result columns only once.  If the evaluation raises, the
        buffers' contents are undefined.
    threads : int, optional
        Threads of the evaluation (default: the CPUs this process may use).  The numpy
        kernel runs its blocks of rows on them (1: all in the calling thread); the numba
        kernel runs its parallel loops on at most this many of numba's threads (capped at
        ``NUMBA_NUM_THREADS``; default: numba's current count).  Blocks write disjoint rows,
        so the result does not depend on it.  A caller that already runs evaluations in
        parallel (a Dask worker, a process pool) passes 1, or its share of the cores.

    Returns
    -------
    BatchResult
        Result columns; rows with an error carry its code in ``kr_error`` / ``obj_error``.

    Notes
    -----
    The same rules as :func:`okrcore.evaluate` (``docs/spec.rst``), vectorised: key result
    progress :math:`\min(\max((c-s)/(t-s), 0), \text{cap})` and its range variants; objective
    rollups by per-objective scatter-adds (:math:`\sum w_i p_i / \sum w_i`, or
    :math:`(\sum c_i - S)/(T - S)`), level by level up the alignment tree; people as the
    equal-weight mean of their items.
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {', '.join(KERNELS)}; got {kernel!r}")
    with _evaluation_threads(kernel, threads):
        return _evaluate(frame, as_of, policy or Policy(), None, kernel, out)


def check_threads(threads: int | None) -> None:
    """Refuse a ``threads`` argument that is neither ``None`` nor a positive integer.

    Parameters
    ----------
    threads : int or None
        The ``threads`` of :func:`evaluate_frame` and of the jobs that pass it on.

    Raises
    ------
    ValueError
        ``threads must be a positive integer; got …`` (``bool`` counts as not an integer).
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"threads must be a positive integer; got {threads!r}")


@contextlib.contextmanager
def _evaluation_threads(kernel: str, threads: int | None) -> Iterator[None]:
    """The threads of one evaluation (``threads`` of :func:`evaluate_frame`), checked."""
    check_threads(threads)
    token = _THREADS.set(_default_threads() if threads is None else threads)
    try:
        if kernel == "numba":
            from okrcore.batch import _numba

            with _numba.threads_limited(threads):
                yield
        else:
            yield
    finally:
        _THREADS.reset(token)


@attrs.frozen(eq=False)
class _Pinned:
    """Objectives whose results are already known (children outside an incremental update)."""

    mask: B
    error: npt.NDArray[np.uint8]
    progress: F64
    previous: F64
    forecast: F64
    history: B


def _evaluate(frame: OrgFrame, as_of: int, policy: Policy, pinned: _Pinned | None,
              kernel: str = "numpy", out: BatchResult | None = None) -> BatchResult:
    tol = policy.tolerance
    n, m = frame.n_kr, frame.n_obj
    obj = frame.kr_objective
    if out is not None:
        _check_out(out, frame)

    # --- objective identity and graph -----------------------------------------------------
    obj_error = _buffer(out, "obj_error", m)
    _fill(obj_error, 0)
    obj_ref = _buffer(out, "obj_error_ref", m)
    _fill(obj_ref, -1)
    obj_error[frame.obj_load == 1] = ERR_LOAD
    obj_field = (np.zeros(m, dtype=np.uint8) if frame.validated
                 else _validate_objectives(frame))
    obj_error[(obj_error == 0) & (obj_field != 0)] = obj_field[(obj_error == 0) & (obj_field != 0)]
    obj_error[frame.obj_load == 2] = ERR_DUPLICATE_ID
    broken = obj_error != 0  # could not be read: its key results depend on it
    unknown = (frame.obj_parent == -2) & ~broken
    obj_error[unknown] = ERR_UNKNOWN_PARENT
    # (hgt: each objective's height in the forest, -1 on a cycle)
    parent, in_cycle, hgt = _graph(frame, out)
    obj_error[in_cycle & (obj_error == 0)] = ERR_ALIGNMENT_CYCLE

    # --- key results -----------------------------------------------------------------------
    kr_ref = _buffer(out, "kr_error_ref", n)
    _fill(kr_ref, -1)
    if kernel == "numba":
        kr_error, obj_start_kr, due_kr, aspirational = _numba_front(frame, broken, out)
    else:
        kr_error = _buffer(out, "kr_error", n)
        _fill(kr_error, 0)
        kr_error[frame.kr_load == 1] = ERR_LOAD
        kr_field = (np.zeros(n, dtype=np.uint8) if frame.validated
                    else _validate_key_results(frame))
        kr_error[(kr_error == 0) & (kr_field != 0)] = kr_field[(kr_error == 0) & (kr_field != 0)]
        kr_error[frame.kr_load == 2] = ERR_DUPLICATE_ID
        kr_error[(kr_error == 0) & broken[obj]] = ERR_DEPENDS_ON_INVALID
        # the objective's start and due of each key result are gathered block by block in
        # the one pass over key results, which also flags invalid_timeline

    if kernel == "numba":
        logs = _numba_logs(frame, as_of, obj_start_kr, due_kr, _buffer(out, "kr_last_at", n))
    else:
        logs, kr_columns, post = _numpy_key_results(frame, kr_error, as_of, policy, out)
    if kernel == "numba":
        value, raw, progress, status, expected, pace, colour, score, band, success = (
            _numba_kr_pass(frame, logs, obj_start_kr, due_kr, aspirational, as_of, policy, out))
        kr_error[(kr_error == 0) & ~np.isfinite(raw)] = ERR_NOT_FINITE
        bad = np.flatnonzero(kr_error != 0)
        if bad.shape[0]:
            # error rows are evaluated at raw 0 like the numpy path (their values are unused)
            raw[bad] = 0.0
            progress[bad] = _clamp(raw[bad], policy.cap)
            pace[bad] = _kr_pace(frame.kr_kind[bad], value[bad], progress[bad], expected[bad],
                                 due_kr[bad], as_of, policy)
            colour[bad] = _worst(pace[bad], status[bad])
            g_score, g_band, g_success = _grade(progress[bad], aspirational[bad], policy)
            score[bad], band[bad], success[bad] = g_score, g_band, g_success
    else:
        value, raw, progress, status, expected, pace, colour, score, band, success = kr_columns
        del kr_columns
    if kernel == "numba":
        # the due instants, ambitions and as-of check-in values were for the pass above alone
        del due_kr, aspirational
        logs = attrs.evolve(logs, value=np.zeros(0))
        post = _numba_post(frame, kr_error, value, raw, progress, status, logs, obj_start_kr,
                           as_of, policy, out)
        trend, stale, fc_value, fc_progress, fc_status, fc_colour, has_fc = post[:7]
        prev_in_value, prev_in_progress = post[7:]
        prev_part = fc_part = None
        # the objectives' starts, the previous check-in values and the fitted forecasts were
        # for the passes over key results alone: let them go
        del obj_start_kr
        logs = attrs.evolve(logs, previous=np.zeros(0), forecast=np.zeros(0))
    else:
        trend, stale, fc_value, fc_progress, fc_status, fc_colour, has_fc = post[:7]
        # the rows where the previous / forecast states differ from now, with their values
        # and clamped progress (the previous check-in values never left their blocks)
        prev_part, fc_part = post[7:10], post[10:]

        # (the numba kernel's columns of the previous state: numpy replaces rows instead)
        prev_in_value = prev_in_progress = None
    del post  # (its scenario columns go as soon as their rollup is done)

    # --- objectives ------------------------------------------------------------------------
    kr_ok = kr_error == 0
    st = _structure(frame, kr_ok, kernel, out)
    if kernel == "numba":
        agg = _numba_aggregates(frame, st, kr_error, logs, has_fc, stale, status, fc_status)
        first_bad, fc_start, obj_hist, obj_stale, worst_hit, worst_hit_null, fc_worst = agg
    else:
        first_bad = np.full(m, -1, dtype=np.int64)
        bad_rows = np.flatnonzero(~kr_ok)
        if bad_rows.shape[0]:
            objs, idx = _first_of_runs(obj[bad_rows])
            first_bad[objs] = bad_rows[idx]
        fc_start = None
    needs_bad_kr = (obj_error == 0) & (first_bad >= 0)
    obj_error[needs_bad_kr] = ERR_DEPENDS_ON_INVALID
    obj_ref[needs_bad_kr] = first_bad[needs_bad_kr]
    del first_bad, needs_bad_kr
    has_krs = st.n_krs > 0
    sum_err = (obj_error == 0) & (st.mode == 2) & has_krs & (st.sum_error != 0)
    obj_error[sum_err] = st.sum_error[sum_err]
    del sum_err
    tree = _tree(parent, hgt) if kernel == "numba" else None
    forest = _forest(parent, hgt, st) if tree is None else None
    pin_now = pin_prev = pin_fc = None
    if pinned is not None:
        pin_now = (pinned.mask, pinned.progress, None, pinned.error)
        pin_prev = (pinned.mask, pinned.previous, None, None)
        pin_fc = (pinned.mask, pinned.forecast, ~np.isnan(pinned.forecast), None)
    # numpy: the objective columns are written straight into the result's buffers
    tail = ({name: _buffer(out, name, m) for name in _TAIL_COLUMNS} if forest is not None
            else {})
    obj_progress, obj_raw, value_sum, _, sum_progress = _rollup(
        frame, st, hgt, parent, value, progress, policy.cap, errors=(obj_error, obj_ref),
        pin=pin_now, kernel=kernel, tree=tree, forest=forest,
        progress_out=_buffer(out, "obj_progress", m) if forest is not None else None,
        raw_out=_buffer(out, "obj_raw", m) if forest is not None else None,
        sums_out=(_buffer(out, "obj_sum_value", m), _buffer(out, "obj_sum_progress", m)))
    assert obj_raw is not None
    ok = obj_error == 0
    if forest is not None:
        obj_progress[~ok] = np.nan
        obj_raw[~ok] = np.nan
    else:
        obj_progress = _put(out, "obj_progress", np.where(ok, obj_progress, np.nan))
        obj_raw = _put(out, "obj_raw", np.where(ok, obj_raw, np.nan))
    has_progress = ~np.isnan(obj_progress)
    # numpy: the previous and forecast states differ from now only on the rows with a
    # check-in, and on the rows with a forecast (their rollups replace those rows' values)
    prev_obj, _, _, _, _ = _rollup(
        frame, st, hgt, parent, value if prev_in_value is None else prev_in_value,
        progress if prev_in_progress is None else prev_in_progress, policy.cap, valid=ok,
        pin=pin_prev, kernel=kernel, tree=tree, forest=forest, delta=prev_part,
        progress_out=tail.get("obj_previous"))
    prev_part = None
    del prev_in_value, prev_in_progress
    fc_delta = None
    if fc_part is not None:
        fc_rows, fc_clamped = fc_part
        fc_delta = (fc_rows, fc_value[fc_rows], fc_clamped)
        fc_part = None
        del fc_rows, fc_clamped
    fc_obj_progress, _, _, fc_ok, _ = _rollup(
        frame, st, hgt, parent, value, progress, policy.cap,
        valid=ok, kid_has_fc=has_fc, kid_now=obj_progress, pin=pin_fc, kernel=kernel,
        tree=tree, fc_start=fc_start, forest=forest, delta=fc_delta,
        progress_out=tail.get("obj_forecast_progress"),
        # numba: the rows with a forecast take its value and clamped progress
        override=(has_fc, fc_progress, fc_value) if tree is not None else None)
    del fc_delta
    fc_ok &= ok
    # the rows counted in sums were for the rollups alone
    st = attrs.evolve(st, summed_rows=None, summed_obj=None, summed=None)

    # history: only through what the rollup counts
    if kernel != "numba":
        counted_kr = st.contributes & kr_ok
        obj_hist = _sorted_group_count(obj, m, counted_kr & logs.has_entry) > 0
    if pinned is not None:
        obj_hist[pinned.mask] = pinned.history[pinned.mask]
    child_counted = ok & has_progress & (frame.obj_weight > 0)
    if tree is not None:
        from okrcore.batch import _numba

        _numba.load().history(tree.order, tree.child_offsets, tree.children, child_counted,
                              st.uses_children,
                              pinned.mask if pinned is not None else np.zeros(m, np.bool_),
                              obj_hist)
    for _, kids, _ in (forest.levels if forest is not None else [])[1:]:
        kids = kids[child_counted[kids] & st.uses_children[parent[kids]] & obj_hist[kids]]
        if pinned is not None:
            kids = kids[~pinned.mask[parent[kids]]]
        obj_hist[parent[kids]] = True
    del forest, tree
    if kernel == "numba":
        (obj_trend, obj_expected, effective, computed, obj_fc_colour, ogscore, ogband,
         ogsuccess, obj_rule, kr_contributes) = _numba_tail(
            frame, st, obj_error, obj_progress, prev_obj, fc_obj_progress, fc_ok, obj_hist,
            (worst_hit, worst_hit_null, fc_worst), kr_error, as_of, policy, out)
        # _numba_tail masked both in place
        obj_previous, obj_fc_progress = prev_obj, fc_obj_progress
    else:
        # the aggregates over key results first, then every objective column block by block
        # of objectives (each step is per objective), straight into the result columns
        logged = frame.kr_has_log & kr_ok
        n_logged = _sorted_group_count(obj, m, logged)
        n_stale = _sorted_group_count(obj, m, logged & (stale == 1))
        del logged
        worst_hit, worst_hit_null, fc_worst = _worst_ranges(frame, kr_ok, status, has_fc,
                                                            fc_status)
        manual = np.array([COLOUR_GREEN, COLOUR_YELLOW, COLOUR_YELLOW, COLOUR_RED],
                          dtype=np.int8)

        def tail_block(lo: int, hi: int) -> None:
            rows = slice(lo, hi)
            o_ok, o_hist, o_has = ok[rows], obj_hist[rows], has_progress[rows]
            o_prev, o_progress = prev_obj[rows], obj_progress[rows]
            tail["obj_trend"][rows] = np.where(o_ok & o_hist & o_has & ~np.isnan(o_prev),
                                        _trend(o_prev, o_progress, tol), TREND_NONE)
            logged_here, stale_here = n_logged[rows], n_stale[rows]
            tail["obj_stale"][rows] = np.where(logged_here > 0,
                                        (stale_here == logged_here).astype(np.int8), -1)
            expected = _expected(as_of, frame.obj_start[rows], frame.obj_due[rows])
            tail["obj_expected"][rows] = expected
            no_timeline = np.isnan(expected)
            opace = _pace_colour(np.where(o_has, o_progress, 0.0),
                                 np.where(no_timeline, 0.0, expected), policy)
            opace = np.where(o_has, opace, COLOUR_NONE).astype(np.int8)
            # no timeline: no pace, the worst breakpoint colour alone (SEMANTICS §11.1)
            paced = np.where(no_timeline, worst_hit[rows], np.maximum(opace, worst_hit[rows]))
            computed = np.where(o_has, paced, worst_hit_null[rows]).astype(np.int8)
            tail["obj_computed_colour"][rows] = computed
            status_here = frame.obj_status[rows]
            tail["obj_colour"][rows] = np.where(status_here >= 0,
                                            manual[np.clip(status_here, 0, 3)], computed)
            o_fc_ok, o_fc = fc_ok[rows], fc_obj_progress[rows]
            fpace = _pace_colour(np.where(o_fc_ok, o_fc, 0.0), np.ones(hi - lo), policy)
            tail["obj_forecast_colour"][rows] = np.where(o_fc_ok, np.maximum(fpace, fc_worst[rows]),
                                            COLOUR_NONE)
            score, band, success = _grade(np.where(o_has, o_progress, 0.0),
                                          frame.obj_ambition[rows] == 1, policy)
            tail["obj_grade_score"][rows] = score
            tail["obj_grade_band"][rows] = band
            tail["obj_grade_success"][rows] = success
            tail["obj_rule"][rows] = np.where(has_krs[rows], st.rule[rows],
                                       np.where(np.isnan(o_progress), RULE_EMPTY, RULE_CHILDREN))
            tail["obj_previous"][rows] = np.where(o_ok, o_prev, np.nan)
            tail["obj_forecast_progress"][rows] = np.where(o_fc_ok, o_fc, np.nan)

        _map_blocks(tail_block, _row_blocks(m))
        del n_logged, n_stale, worst_hit, worst_hit_null, fc_worst
        (obj_trend, obj_stale, obj_expected, computed, effective, obj_fc_colour, ogscore,
         ogband, ogsuccess, obj_rule, obj_previous, obj_fc_progress) = (
            tail[name] for name in _TAIL_COLUMNS)
        kr_contributes = _buffer(out, "kr_contributes", n)

        def contributes_block(lo: int, hi: int) -> None:
            rows = slice(lo, hi)
            np.logical_and(np.where(ok[obj[rows]], st.contributes[rows],
                                    frame.kr_weight[rows] > 0),
                           kr_ok[rows], out=kr_contributes[rows])

        _map_blocks(contributes_block, _row_blocks(n))
        del prev_obj, fc_obj_progress

    # --- people ----------------------------------------------------------------------------
    person_progress, person_items, person_ref, person_seen = _people(
        frame, obj_error, obj_progress, kr_error, progress, kernel, st.offsets, out)

    return _into(out, BatchResult(
        as_of=as_of,
        policy=policy,
        kr_error=kr_error,
        kr_error_ref=kr_ref,
        kr_value=value,
        kr_raw=raw,
        kr_progress=progress,
        kr_expected=expected,
        kr_colour=colour,
        kr_pace_colour=pace,
        kr_range_status=status,
        kr_contributes=kr_contributes,
        kr_trend=trend,
        kr_stale=stale,
        kr_last_at=logs.last_at,
        kr_forecast_value=fc_value,
        kr_forecast_progress=fc_progress,
        kr_forecast_colour=fc_colour,
        kr_grade_score=score,
        kr_grade_band=band,
        kr_grade_success=success,
        obj_error=obj_error,
        obj_error_ref=obj_ref,
        obj_mode=st.mode,
        obj_rule=obj_rule,
        obj_progress=obj_progress,
        obj_raw=obj_raw,
        obj_expected=obj_expected,
        obj_colour=effective,
        obj_computed_colour=computed,
        obj_trend=obj_trend,
        obj_stale=obj_stale,
        obj_forecast_progress=obj_fc_progress,
        obj_forecast_colour=obj_fc_colour,
        obj_grade_score=ogscore,
        obj_grade_band=ogband,
        obj_grade_success=ogsuccess,
        obj_sum_unit=st.sum_unit,
        obj_sum_target=st.sum_target,
        obj_sum_start=st.sum_start,
        obj_sum_value=value_sum,
        obj_sum_progress=sum_progress,
        obj_previous=obj_previous,
        obj_has_history=obj_hist,
        obj_parent=parent,
        obj_in_cycle=in_cycle,
        person_progress=person_progress,
        person_items=person_items,
        person_error_ref=person_ref,
        person_seen=person_seen,
    ))


_TAIL_COLUMNS: Final = (
    "obj_trend", "obj_stale", "obj_expected", "obj_computed_colour", "obj_colour",
    "obj_forecast_colour", "obj_grade_score", "obj_grade_band", "obj_grade_success", "obj_rule",
    "obj_previous", "obj_forecast_progress")
"""The objective columns of the numpy kernel's tail (written block by block)."""


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


def _worst_ranges(frame: OrgFrame, kr_ok: B, status: I8, has_fc: B, fc_status: I8
                  ) -> tuple[I64, I64, I64]:
    """Per objective: the worst range status now (also: only yellow and red), and forecast."""
    m = frame.n_obj
    obj = frame.kr_objective
    # only the range rows take part: every other row would add COLOUR_NONE, the start value
    rows = np.flatnonzero((frame.kr_range_mode > 0) & kr_ok)
    hit = status[rows].astype(np.int64)
    hit_for_null = np.where(hit >= COLOUR_YELLOW, hit, COLOUR_NONE)
    worst_hit = np.full(m, COLOUR_NONE, dtype=np.int64)
    worst_hit_null = np.full(m, COLOUR_NONE, dtype=np.int64)
    fc_worst = np.full(m, COLOUR_NONE, dtype=np.int64)
    if rows.shape[0]:
        groups = obj[rows]
        np.maximum.at(worst_hit, groups, hit)
        np.maximum.at(worst_hit_null, groups, hit_for_null)
        fc_range = np.where(has_fc[rows], fc_status[rows], status[rows]).astype(np.int64)
        np.maximum.at(fc_worst, groups, fc_range)
    return worst_hit, worst_hit_null, fc_worst


def _numba_front(frame: OrgFrame, broken: B, out: BatchResult | None = None
                 ) -> tuple[Any, ...]:
    """Per key result, before evaluation (numba): errors, objective start, due, ambition.

    The errors include the field validation of frames built from plain columns.
    """
    from okrcore.batch import _numba

    n = frame.n_kr
    outs = (_buffer(out, "kr_error", n), np.empty(n, np.int64), np.empty(n, np.int64),
            np.empty(n, np.bool_))
    _numba.load().kr_front(
        frame.kr_objective, frame.kr_load, not frame.validated, frame.kr_kind, frame.kr_start,
        frame.kr_target, frame.kr_current, frame.kr_weight, frame.kr_range_mode,
        frame.kr_red_low, frame.kr_yellow_low, frame.kr_yellow_high, frame.kr_red_high,
        frame.kr_due, np.ascontiguousarray(broken), frame.obj_start, frame.obj_due,
        frame.obj_ambition, *outs)
    return outs


def _numba_post(frame: OrgFrame, kr_error: npt.NDArray[np.uint8], value: F64, raw: F64,
                progress: F64, status: I8, logs: _Logs, obj_start_kr: I64, as_of: int,
                policy: Policy, out: BatchResult | None = None) -> tuple[Any, ...]:
    """Trend, staleness, forecast and the previous state's rollup inputs, fused (numba).

    With ``out``, the result columns among them are written into its buffers.
    """
    from okrcore.batch import _numba

    n = frame.n_kr
    outs = (_buffer(out, "kr_trend", n), _buffer(out, "kr_stale", n),
            _buffer(out, "kr_forecast_value", n), _buffer(out, "kr_forecast_progress", n),
            np.empty(n, np.int8), _buffer(out, "kr_forecast_colour", n), np.empty(n, np.bool_),
            np.empty(n), np.empty(n))
    _numba.load().kr_post(
        kr_error, frame.kr_kind, frame.kr_start, frame.kr_target, frame.kr_range_mode,
        frame.kr_red_low, frame.kr_yellow_low, frame.kr_yellow_high, frame.kr_red_high, value,
        raw, progress, status, frame.kr_has_log, logs.has_entry, logs.has_previous,
        logs.previous, logs.last_at, logs.forecast, np.ascontiguousarray(obj_start_kr),
        as_of, float(policy.stale_days * MICROSECONDS_PER_DAY),
        _numba.UNCAPPED if policy.cap is None else float(policy.cap),
        policy.strict_breakpoints, policy.tolerance, _numba.pace_rule_code(policy.pace),
        float(policy.pace.yellow), float(policy.pace.red), *outs)
    return outs


def _numba_aggregates(frame: OrgFrame, st: _Structure, kr_error: npt.NDArray[np.uint8],
                      logs: _Logs, has_fc: B, stale: I8, status: I8, fc_status: I8
                      ) -> tuple[Any, ...]:
    """Per objective, in one pass over its key results (numba).

    The first bad key result, forecast and history flags, staleness, worst range statuses.
    """
    from okrcore.batch import _numba

    m = frame.n_obj
    offsets = st.offsets
    assert offsets is not None
    outs = (np.empty(m, np.int64), np.empty(m, np.bool_), np.empty(m, np.bool_),
            np.empty(m, np.int8), np.empty(m, np.int8), np.empty(m, np.int8),
            np.empty(m, np.int8))
    _numba.load().obj_aggregates(offsets, kr_error, st.contributes, logs.has_entry, has_fc,
                                 frame.kr_has_log, stale, frame.kr_range_mode, status,
                                 fc_status, *outs)
    return outs


def _numba_tail(frame: OrgFrame, st: _Structure, obj_error: npt.NDArray[np.uint8],
                obj_progress: F64, prev_obj: F64, fc_obj_progress: F64, fc_ok: B, obj_hist: B,
                worst: tuple[Any, Any, Any], kr_error: npt.NDArray[np.uint8], as_of: int,
                policy: Policy, out: BatchResult | None = None) -> tuple[Any, ...]:
    """The objective tail and each key result's ``contributes``, in one kernel (numba).

    Trend, expected progress, colours, forecast colour, grade and rule of every objective;
    ``prev_obj`` and ``fc_obj_progress`` are masked in place.
    """
    from okrcore.batch import _numba

    m = frame.n_obj
    assert st.offsets is not None
    outs = tuple(_buffer(out, name, frame.n_kr if name.startswith("kr_") else m) for name in (
        "obj_trend", "obj_expected", "obj_colour", "obj_computed_colour", "obj_forecast_colour",
        "obj_grade_score", "obj_grade_band", "obj_grade_success", "obj_rule", "kr_contributes"))
    trend, expected, colour, computed, fc_colour, score, band, success, rule, contributes = outs
    _numba.load().obj_tail(
        st.offsets, obj_error, np.ascontiguousarray(obj_progress), prev_obj, fc_obj_progress,
        fc_ok, obj_hist, st.n_krs > 0, st.rule, frame.obj_start, frame.obj_due,
        frame.obj_status, frame.obj_ambition, *worst, st.contributes, frame.kr_weight,
        kr_error, as_of, policy.tolerance, _numba.pace_rule_code(policy.pace),
        float(policy.pace.yellow), float(policy.pace.red), float(policy.grade_yellow),
        float(policy.grade_green), float(policy.aspirational_success), *outs)
    return (trend, expected, colour, computed, fc_colour, score, band, success, rule,
            contributes)


def _people(frame: OrgFrame, obj_error: npt.NDArray[np.uint8], obj_progress: F64,
            kr_error: npt.NDArray[np.uint8], kr_progress: F64, kernel: str = "numpy",
            kr_offsets: I64 | None = None, out: BatchResult | None = None
            ) -> tuple[F64, I64, I64, B]:
    """Per person: mean progress over items (objectives owned; KRs owned on others')."""
    n_people = _n_people(frame)
    if kernel == "numba" and kr_offsets is not None:
        from okrcore.batch import _numba

        outs = tuple(_buffer(out, name, n_people) for name in (
            "person_progress", "person_items", "person_error_ref", "person_seen"))
        _numba.load().people(kr_offsets, frame.kr_owner_offsets, frame.kr_owner_ids,
                             frame.obj_owner, obj_error, np.ascontiguousarray(obj_progress),
                             kr_error, np.ascontiguousarray(kr_progress), frame.n_kr,
                             _numba.thread_count(), *outs)
        progress, items, ref, seen = outs
        if bool(np.any(np.isinf(progress))):
            # (rare) a sum of progress near 1e308 overflowed: redo those people exactly as
            # the numpy path does, from their items
            who, bad, prog, _ = person_items(frame, obj_error, obj_progress, kr_error,
                                             kr_progress)
            counted = ~bad & ~np.isnan(prog)
            _rescue_people(progress, progress, who[counted], prog[counted])
        return progress, items, ref, seen
    who, bad, prog, ref = person_items(frame, obj_error, obj_progress, kr_error, kr_progress)
    return person_rollup(who, bad, prog, ref, n_people)


def person_items(frame: OrgFrame, obj_error: npt.NDArray[np.uint8], obj_progress: F64,
                 kr_error: npt.NDArray[np.uint8], kr_progress: F64
                 ) -> tuple[I64, B, F64, I64]:
    """The people's items of a frame, in the order :func:`person_rollup` adds them.

    Returns
    -------
    who, bad, progress, ref : ndarray
        One row per item (an objective owned, or a key result owned on someone else's
        objective), in document order: person code, whether the item has an error, its
        progress (NaN = null), and its row (``>= n_kr``: objective ``ref - n_kr``).  Items of
        frames laid one after the other concatenate into the items of the combined frame,
        which is how a partitioned job finishes people exactly (``okrcore_dask``).
    """
    offsets = frame.kr_owner_offsets
    # the key result of each owner entry, block by block of key results
    owner_kr = np.empty(frame.kr_owner_ids.shape[0], dtype=np.int64)
    for lo in range(0, frame.n_kr, BLOCK_ROWS):
        hi = min(lo + BLOCK_ROWS, frame.n_kr)
        owner_kr[offsets[lo]:offsets[hi]] = np.repeat(np.arange(lo, hi, dtype=np.int64),
                                                      np.diff(offsets[lo:hi + 1]))
    owner_person = frame.kr_owner_ids.astype(np.int64)
    obj_of = frame.kr_objective[owner_kr]
    elsewhere = owner_person != frame.obj_owner[obj_of]
    owner_kr, owner_person, obj_of = owner_kr[elsewhere], owner_person[elsewhere], obj_of[elsewhere]
    o_rows = np.flatnonzero(frame.obj_owner >= 0)
    # items in document order: an objective, then the key results of that objective; two
    # sorted runs (objectives, then key results grouped by objective) whose stable merge keeps
    # each objective's own item before its key results, and key results in row order
    k = o_rows.shape[0] + obj_of.shape[0]
    if obj_of.shape[0] > 1 and bool(np.any(obj_of[1:] < obj_of[:-1])):
        order = np.argsort(np.concatenate([o_rows, obj_of]), kind="stable")
        at_obj = np.empty(k, dtype=np.int64)
        at_obj[order] = np.arange(k)
        at_kr = at_obj[o_rows.shape[0]:]
        at_obj = at_obj[:o_rows.shape[0]]
    else:
        # the merge's positions, without sorting: each item moves past the other run's
        # items of smaller objectives (an objective's own item before its key results)
        kr_items = np.bincount(obj_of, minlength=frame.n_obj)
        before = np.cumsum(kr_items)
        before -= kr_items
        at_obj = before[o_rows]
        at_obj += np.arange(o_rows.shape[0])
        at_kr = np.cumsum(frame.obj_owner >= 0)[obj_of]
        at_kr += np.arange(obj_of.shape[0])
    who = np.empty(k, dtype=np.int64)
    who[at_obj] = frame.obj_owner[o_rows]
    who[at_kr] = owner_person
    bad = np.empty(k, dtype=np.bool_)
    bad[at_obj] = obj_error[o_rows] != 0
    bad[at_kr] = kr_error[owner_kr] != 0
    prog = np.empty(k)
    prog[at_obj] = obj_progress[o_rows]
    prog[at_kr] = kr_progress[owner_kr]
    ref = np.empty(k, dtype=np.int64)
    ref[at_obj] = o_rows + frame.n_kr  # >= n_kr: an objective
    ref[at_kr] = owner_kr
    return who, bad, prog, ref


def _rescue_people(mean: F64, weighted: npt.NDArray[Any], who: I64, prog: F64) -> None:
    """Redo the people whose sum of progress overflowed, by ``F.rescaled_mean``, in place.

    ``who`` and ``prog`` are the counted items in item order.  A mean is the plain one
    wherever ``weighted`` (or the mean) is finite.
    """
    for person in np.flatnonzero(np.isinf(weighted)).tolist():
        items = prog[who == person].tolist()
        mean[person] = F.rescaled_mean([[(1.0, p) for p in items]])[0]


def person_rollup(who: I64, bad: B, prog: F64, ref: I64, n_people: int
                  ) -> tuple[F64, I64, I64, B]:
    r"""People's progress from their items (see :func:`person_items`).

    Returns
    -------
    progress, items, error_ref, seen : ndarray
        Per person: the mean progress (NaN = no counted item), the number of counted items,
        the ``ref`` of the first item with an error (-1 = none), and whether the person owns
        anything.

    Notes
    -----
    :math:`\bar p = \sum_i p_i / \sum_i 1` over the items without error and with a progress,
    added in item order (``np.bincount``), as the scalar path adds them.
    """
    seen = np.zeros(n_people, dtype=bool)
    seen[who] = True
    counted = ~bad & ~np.isnan(prog)
    counted_who = who[counted]
    items = np.bincount(counted_who, minlength=n_people).astype(np.int64)
    # adding 1.0 per item from 0.0 gives the item count exactly (below 2**53), and 1.0 * p
    # is p bit for bit for every counted (not NaN) p: the same sums without their columns
    total = items.astype(np.float64)
    weighted = np.bincount(counted_who, weights=prog[counted], minlength=n_people)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(total > 0, weighted / np.where(total > 0, total, 1.0), np.nan)
    _rescue_people(mean, weighted, who[counted], prog[counted])
    first_bad = np.full(n_people, -1, dtype=np.int64)
    bad_rows = np.flatnonzero(bad)
    if bad_rows.shape[0]:
        persons, idx = np.unique(who[bad_rows], return_index=True)
        first_bad[persons] = ref[bad_rows[idx]]
    return mean, items, first_bad, seen
