"""The numpy backend's passes over key results: validation, check-in logs, values, post.

Split out of :mod:`okrcore.batch.engine` (issue 18).  Every pass works on blocks of
:data:`~okrcore.batch._blocks.BLOCK_ROWS` rows (see :func:`_numpy_key_results`).
"""

from __future__ import annotations

from typing import Any, Final

import attrs
import numpy as np
import numpy.typing as npt

from okrcore.batch import _blocks
from okrcore.batch._blocks import (
    F64,
    I8,
    I64,
    B,
    _index_dtype,
    _map_blocks,
    _row_blocks,
)
from okrcore.batch._result import BatchResult, _buffer
from okrcore.batch._vector import (
    _clamp,
    _expected,
    _grade,
    _kr_pace,
    _pace_colour,
    _range_status,
    _raw_progress,
    _stale,
    _trend,
    _worst,
)
from okrcore.batch.backend import Logs
from okrcore.batch.frame import OrgFrame
from okrcore.codes import (
    COLOUR_NONE,
    COLOUR_YELLOW,
    ERR_FIELD_BREAKPOINTS,
    ERR_FIELD_DEGENERATE,
    ERR_FIELD_NEGATIVE_WEIGHT,
    ERR_FIELD_NOT_FINITE,
    ERR_FIELD_OUT_OF_RANGE,
    ERR_FIELD_TIMELINE,
    ERR_FIELD_UNKNOWN_VALUE,
    ERR_INVALID_TIMELINE,
    ERR_NOT_FINITE,
    KIND_BINARY,
    KIND_CHECKPOINTS,
    KIND_METRIC,
    KIND_MILESTONE,
    KIND_STAGED,
    NONE_INSTANT,
    TREND_NONE,
)
from okrcore.formulas import MICROSECONDS_PER_DAY
from okrcore.policy import Policy


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


def _kr_timeline(frame: OrgFrame, rows: slice) -> tuple[I64, I64, I64]:
    """Key results ``rows``: their objective's start, their due (else the objective's), rows."""
    obj = frame.kr_objective[rows]
    due = frame.kr_due[rows]
    return frame.obj_start[obj], np.where(due != NONE_INSTANT, due, frame.obj_due[obj]), obj


def _numpy_key_results(frame: OrgFrame, kr_error: npt.NDArray[np.uint8], as_of: int,
                       policy: Policy, out: BatchResult | None = None
                       ) -> tuple[Logs, tuple[Any, ...], tuple[Any, ...]]:
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
    logs = Logs(np.empty(n, np.bool_), _buffer(out, "kr_value", n), np.zeros(0, np.bool_),
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
        local = Logs(logs.has_entry[rows], logs.value[rows], np.empty(hi - lo, np.bool_),
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


_KR_PASS_COLUMNS: Final = (
    "kr_value", "kr_raw", "kr_progress", "kr_range_status", "kr_expected", "kr_pace_colour",
    "kr_colour", "kr_grade_score", "kr_grade_band", "kr_grade_success")
"""The columns of the numpy kernel's key result step, in :func:`_kr_block`'s order."""


def _kr_block(frame: OrgFrame, rows: slice, logs: Logs, kr_error: npt.NDArray[np.uint8],
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


def _post_block(frame: OrgFrame, rows: slice, logs: Logs, kr_error: npt.NDArray[np.uint8],
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


def _numpy_logs(frame: OrgFrame, as_of: int, out: BatchResult | None = None) -> Logs:
    """The check-in logs at ``as_of`` (numpy kernel), block by block of key results.

    Per key result: whether it has an entry, the latest value and instant, the previous value
    and the least-squares forecast.  Log rows are sorted by key result: a block of key results
    owns a slice of log rows, and everything is computed per key result, so blocks give the
    same values as one pass.  With ``out``, the value, last instant and forecast are written
    into its ``kr_value``, ``kr_last_at`` and ``kr_forecast_value`` (they become those columns).
    """
    n = frame.n_kr
    logs = Logs(np.empty(n, np.bool_), _buffer(out, "kr_value", n), np.empty(n, np.bool_),
                 np.empty(n), _buffer(out, "kr_last_at", n), _buffer(out, "kr_forecast_value", n))
    bounds = _log_bounds(frame)

    def block(lo: int, hi: int) -> None:
        start, due, _ = _kr_timeline(frame, slice(lo, hi))
        _logs_of_block(frame, bounds, lo, as_of, start, due,
                       Logs(*(getattr(logs, f.name)[lo:hi] for f in attrs.fields(Logs))))

    _map_blocks(block, _row_blocks(n))
    return logs


def _log_bounds(frame: OrgFrame) -> I64:
    """The first log row of each block of :data:`_blocks.BLOCK_ROWS` key results (and the end).

    Log rows are sorted by key result, so a block of key results owns one slice of them.
    """
    n = frame.n_kr
    block = _blocks.BLOCK_ROWS
    return np.searchsorted(frame.log_kr, np.arange(0, n + block, block).clip(0, n))


def _logs_of_block(frame: OrgFrame, bounds: I64, lo: int, as_of: int, obj_start_of_kr: I64,
                   due_of_kr: I64, out: Logs) -> None:
    """:func:`_logs_block` of the block of key results that starts at row ``lo``."""
    block = _blocks.BLOCK_ROWS
    rows = slice(int(bounds[lo // block]), int(bounds[lo // block + 1]))
    _logs_block(frame.log_kr[rows] - lo, frame.log_at[rows], frame.log_value[rows], as_of,
                obj_start_of_kr, due_of_kr, out)


def _logs_block(kr: I64, at: I64, val: F64, as_of: int, obj_start_of_kr: I64, due_of_kr: I64,
                out: Logs) -> None:
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

