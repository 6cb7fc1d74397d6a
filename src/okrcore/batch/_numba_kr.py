"""The numba kernels over key result rows (plain Python until :func:`._numba.load` compiles them).

The key result pass (:func:`_kr_pass_impl`), the pass after it (:func:`_kr_post_impl`: trend,
staleness, forecast, the previous state), the front pass (:func:`_kr_front_impl`: errors,
validation, gathers of objective columns), the check-in logs (:func:`_logs_impl`), CSR offsets
(:func:`_csr_of_sorted_impl`) and the per-objective key result sums (:func:`_group_sums_impl`).
Every element-wise rule is a rule of :mod:`okrcore.batch.rules`, called through the global
``R``: :func:`._numba.load` binds it to the rules' numba instance (the same code objects, with
the numba operations of :mod:`okrcore.batch._ops_numba`) and every call is inlined.

The kernels taking many columns take records of arrays (named tuples, which numba passes as
tuples): :class:`KrColumns`, :class:`KrPost` and :class:`KrOut`, :class:`PostOut`,
:class:`Params`.  This module imports no numba.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from okrcore.batch import _ops_numba as O
from okrcore.batch import rules
from okrcore.codes import (
    COLOUR_NONE,
    ERR_DEPENDS_ON_INVALID,
    ERR_DUPLICATE_ID,
    ERR_FIELD_BREAKPOINTS,
    ERR_FIELD_DEGENERATE,
    ERR_FIELD_NEGATIVE_WEIGHT,
    ERR_FIELD_NOT_FINITE,
    ERR_FIELD_OUT_OF_RANGE,
    ERR_FIELD_UNKNOWN_VALUE,
    ERR_INVALID_TIMELINE,
    ERR_LOAD,
    KIND_METRIC,
    KIND_STAGED,
    NONE_INSTANT,
    TREND_NONE,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]

BLOCK_ROWS: Final = 1 << 14
"""Key result rows per parallel block of the key result kernels."""
OBJ_BLOCK: Final = 1 << 12
"""Objectives per parallel block of the objective kernels."""

# ``numba.prange`` and the rules' numba instance once load() has run; ``range`` and the numpy
# rules before (the kernels are ordinary Python until numba compiles them, and numba reads
# these globals at compile time).
_prange: Any = range
R: ModuleType = rules


class Params(NamedTuple):
    """The scalar parameters of the kernels (a policy and an instant)."""

    as_of: int
    """[µs]."""
    cap: float
    """``Policy.cap``; ``math.inf`` for none."""
    strict: bool
    tol: float
    pace_rule: int
    """:func:`rules.pace_rule_code`."""
    pace_yellow: float
    pace_red: float
    grade_yellow: float
    grade_green: float
    aspirational_success: float
    window: float
    """The staleness window [µs]."""


class KrColumns(NamedTuple):
    """The inputs of the key result pass (one entry per key result)."""

    kind: Any
    start: Any
    target: Any
    explicit: Any
    log_has: Any
    log_value: Any
    range_mode: Any
    red_low: Any
    yellow_low: Any
    yellow_high: Any
    red_high: Any
    obj_start_kr: Any
    due_kr: Any
    aspirational: Any


class KrOut(NamedTuple):
    """The outputs of the key result pass."""

    value: Any
    raw: Any
    progress: Any
    status: Any
    expected: Any
    pace: Any
    colour: Any
    score: Any
    band: Any
    success: Any


class KrPost(NamedTuple):
    """The inputs of the pass after the key result pass."""

    kr_error: Any
    kind: Any
    start: Any
    target: Any
    range_mode: Any
    red_low: Any
    yellow_low: Any
    yellow_high: Any
    red_high: Any
    value: Any
    raw: Any
    progress: Any
    status: Any
    has_log: Any
    has_entry: Any
    has_previous: Any
    previous: Any
    last_at: Any
    forecast: Any
    obj_start_kr: Any


class PostOut(NamedTuple):
    """The outputs of the pass after the key result pass."""

    trend: Any
    stale: Any
    fc_value: Any
    fc_progress: Any
    fc_status: Any
    fc_colour: Any
    has_fc: Any
    prev_value: Any
    prev_progress: Any


def _n_blocks(n: int | np.uint64, block: int) -> np.uint64:
    """How many blocks of ``block`` rows cover ``n`` rows (unsigned)."""
    return (np.uint64(n) + np.uint64(block) - np.uint64(1)) // np.uint64(block)


def _block_rows(b: int, block: int, n: int | np.uint64) -> tuple[np.uint64, np.uint64]:
    """The unsigned row range ``[lo, hi)`` of block ``b``."""
    lo = np.uint64(b) * np.uint64(block)
    return lo, min(lo + np.uint64(block), np.uint64(n))


def _kr_pass_impl(c: KrColumns, p: Params, out: KrOut) -> None:
    """The per key result pass (see :func:`okrcore.batch._numba.kr_pass`)."""
    # (records are unpacked outside the parallel loops: numba drops writes through them)
    (out_value, out_raw, out_progress, out_status, out_expected, out_pace, out_colour, out_score,
     out_band, out_success) = out
    (kind, start, target, explicit, log_has, log_value, range_mode, red_low, yellow_low,
     yellow_high, red_high, obj_start_kr, due_kr, aspirational) = c
    n = start.shape[0]
    as_of = p.as_of
    strict = p.strict
    tol = p.tol
    rule = p.pace_rule
    for b in _prange(_n_blocks(n, BLOCK_ROWS)):
        lo, hi = _block_rows(b, BLOCK_ROWS, n)
        # The rules compute every alternative and then select, as numpy does: no
        # data-dependent branches, so the loop can be if-converted and vectorised.
        for i in range(lo, hi):
            # value: the as-of check-in, else the explicit current value, else the start
            s = start[i]
            e = explicit[i]
            logged = log_value[i]
            fallback = s if math.isnan(e) else e
            v = logged if log_has[i] else fallback
            mode = range_mode[i]
            rl = red_low[i]
            yl = yellow_low[i]
            yh = yellow_high[i]
            rh = red_high[i]
            due = due_kr[i]
            raw = R.raw_progress(v, s, target[i], mode, rl, yl, yh, rh, strict)
            progress = R.clamp(raw, p.cap)
            status = R.range_status(v, mode, rl, yl, yh, rh, strict)
            expected = R.expected_progress(as_of, obj_start_kr[i], due)
            pace = R.kr_pace(kind[i], v, progress, expected, due, as_of, tol, rule,
                             p.pace_yellow, p.pace_red)
            score, band, success = R.grade(progress, aspirational[i], tol, p.grade_yellow,
                                           p.grade_green, p.aspirational_success)
            out_value[i] = v
            out_raw[i] = raw
            out_progress[i] = progress
            out_status[i] = status
            out_expected[i] = expected
            out_pace[i] = pace
            out_colour[i] = R.worst_colour(pace, status)
            out_score[i] = score
            out_band[i] = band
            out_success[i] = success


def _kr_post_impl(c: KrPost, p: Params, out: PostOut) -> None:
    """Per key result, after its pass: trend, staleness, forecast, the previous state's inputs.

    The forecast state's rollup reads the forecast columns where ``out_has_fc`` is set, and
    the columns now elsewhere.
    """
    # (records are unpacked outside the parallel loops: numba drops writes through them)
    (out_trend, out_stale, out_fc_value, out_fc_progress, out_fc_status, out_fc_colour, out_has_fc,
     out_prev_value, out_prev_progress) = out
    n = c.value.shape[0]
    strict = p.strict
    tol = p.tol
    for b in _prange(_n_blocks(n, BLOCK_ROWS)):
        lo, hi = _block_rows(b, BLOCK_ROWS, n)
        for i in range(lo, hi):
            s = c.start[i]
            t = c.target[i]
            mode = c.range_mode[i]
            rl = c.red_low[i]
            yl = c.yellow_low[i]
            yh = c.yellow_high[i]
            rh = c.red_high[i]
            v = c.value[i]
            r = c.raw[i]
            progress = c.progress[i]
            logged = c.has_entry[i]
            # the previous state (only where there is a check-in)
            trend = TREND_NONE
            prev_value = v
            prev_progress = progress
            if logged:
                prev_value = c.previous[i] if c.has_previous[i] else s
                prev_raw = R.raw_progress(prev_value, s, t, mode, rl, yl, yh, rh, strict)
                prev_progress = R.clamp(prev_raw if c.kr_error[i] == 0 else 0.0, p.cap)
                trend = R.trend(prev_raw, r, tol)
            out_trend[i] = trend
            out_prev_value[i] = prev_value
            out_prev_progress[i] = prev_progress
            # staleness (null without a check-in log)
            stale = R.is_stale(progress, tol, logged, c.last_at[i], c.obj_start_kr[i], p.as_of,
                               p.window)
            out_stale[i] = (1 if stale else 0) if c.has_log[i] else -1
            # forecast
            k = c.kind[i]
            f = c.forecast[i]
            has_fc = ((k == KIND_METRIC) | (k == KIND_STAGED)) & math.isfinite(f)
            fc_raw = np.nan
            if has_fc:
                fc_raw = R.raw_progress(f, s, t, mode, rl, yl, yh, rh, strict)
                # (uncapped) a projection beyond floating point is no forecast
                has_fc = math.isfinite(fc_raw)
            out_has_fc[i] = has_fc
            if has_fc:
                fc_progress = R.clamp(fc_raw, p.cap)
                fc_status = R.range_status(f, mode, rl, yl, yh, rh, strict)
                fc_pace = R.pace_colour(fc_progress, 1.0, tol, p.pace_rule, p.pace_yellow,
                                        p.pace_red)
                out_fc_value[i] = f
                out_fc_progress[i] = fc_progress
                out_fc_status[i] = fc_status
                out_fc_colour[i] = R.worst_colour(fc_pace, fc_status)
            else:
                out_fc_value[i] = np.nan
                out_fc_progress[i] = np.nan
                out_fc_status[i] = c.status[i]
                out_fc_colour[i] = COLOUR_NONE


def _field_error(kind: int, start: float, target: float, current: float, weight: float,
                 mode: int, red_low: float, yellow_low: float, yellow_high: float,
                 red_high: float) -> int:
    """Twin of ``engine._validate_key_results`` for one row: its first field error (0 none)."""
    finite = (math.isfinite(start) & math.isfinite(target) & math.isfinite(weight)
              & (not math.isinf(current)) & (not math.isinf(red_low))
              & (not math.isinf(yellow_low)) & (not math.isinf(yellow_high))
              & (not math.isinf(red_high)))
    if not finite:
        return ERR_FIELD_NOT_FINITE
    if kind > 4 or mode > 3:
        return ERR_FIELD_UNKNOWN_VALUE
    if weight < 0:
        return ERR_FIELD_NEGATIVE_WEIGHT
    metric = kind == KIND_METRIC
    if metric and target == start and (mode == 0 or mode == 3):
        return ERR_FIELD_DEGENERATE
    if metric and mode > 0:
        out_of_order = False
        highest = -np.inf
        for value in (red_low, yellow_low, target, yellow_high, red_high):
            present = not math.isnan(value)
            out_of_order |= present & (value < highest)
            highest = O.maximum(highest, value) if present else highest
        if out_of_order:
            return ERR_FIELD_BREAKPOINTS
    if 1 <= kind <= 4:
        whole_total = (target >= 1) & (target == np.floor(target))
        done_ok = math.isnan(current) or ((current >= 0) & (current <= target)
                                          & (current == np.floor(current)))
        if not (whole_total & done_ok & (start == 0)):
            return ERR_FIELD_OUT_OF_RANGE
    return 0


class KrFront(NamedTuple):
    """The inputs of the front pass (key result and objective columns)."""

    kr_objective: Any
    kr_load: Any
    kind: Any
    start: Any
    target: Any
    current: Any
    weight: Any
    range_mode: Any
    red_low: Any
    yellow_low: Any
    yellow_high: Any
    red_high: Any
    kr_due: Any
    broken: Any
    obj_start: Any
    obj_due: Any
    obj_ambition: Any


class FrontOut(NamedTuple):
    """The outputs of the front pass."""

    error: Any
    obj_start: Any
    due: Any
    aspirational: Any


def _kr_front_impl(c: KrFront, validate: bool, out: FrontOut) -> None:
    """Per key result: the errors known before evaluating it, and its objective's columns."""
    # (records are unpacked outside the parallel loops: numba drops writes through them)
    out_error, out_obj_start, out_due, out_aspirational = out
    n = c.kr_objective.shape[0]
    for b in _prange(_n_blocks(n, BLOCK_ROWS)):
        lo, hi = _block_rows(b, BLOCK_ROWS, n)
        for i in range(lo, hi):
            o = c.kr_objective[i]
            load = c.kr_load[i]
            error = ERR_LOAD if load == 1 else 0
            if error == 0 and validate:
                error = _field_error(c.kind[i], c.start[i], c.target[i], c.current[i],
                                     c.weight[i], c.range_mode[i], c.red_low[i],
                                     c.yellow_low[i], c.yellow_high[i], c.red_high[i])
            if load == 2:
                error = ERR_DUPLICATE_ID
            if error == 0 and c.broken[o]:
                error = ERR_DEPENDS_ON_INVALID
            o_start = c.obj_start[o]
            due = c.kr_due[i]
            if (error == 0 and due != NONE_INSTANT and o_start != NONE_INSTANT
                    and due <= o_start):
                error = ERR_INVALID_TIMELINE
            out_error[i] = error
            out_obj_start[i] = o_start
            out_due[i] = due if due != NONE_INSTANT else c.obj_due[o]
            out_aspirational[i] = c.obj_ambition[o] == 1


def _sums_of(offsets: I64, o: int | np.uint64, weight: F64, progress: F64, value: F64,
             sum_mask: B, over: B, over_progress: F64,
             over_value: F64) -> tuple[float, float, float]:
    """Σ weight, Σ weight·progress, Σ value (masked) over the rows of objective ``o``.

    The rows where ``over`` is set take their progress and value from ``over_progress`` and
    ``over_value`` (a scenario's rows); an empty ``over`` replaces none.
    """
    total = 0.0
    weighted = 0.0
    summed = 0.0
    replaced = over.shape[0] > 0
    for r in range(np.uint64(offsets[o]), np.uint64(offsets[o + np.uint64(1)])):
        w = weight[r]
        p = progress[r]
        v = value[r]
        if replaced and over[r]:
            p = over_progress[r]
            v = over_value[r]
        total += w
        weighted += w * p
        summed += v if sum_mask[r] else 0.0
    return total, weighted, summed


def _group_sums_impl(offsets: I64, weight: F64, progress: F64, value: F64, sum_mask: B,
                     out_total: F64, out_weighted: F64, out_value: F64) -> None:
    m = out_total.shape[0]
    none = np.zeros(0, dtype=np.bool_)  # (no row replaced)
    nothing = np.zeros(0)
    for b in _prange(_n_blocks(m, OBJ_BLOCK)):
        lo, hi = _block_rows(b, OBJ_BLOCK, m)
        for o in range(lo, hi):
            total, weighted, summed = _sums_of(offsets, o, weight, progress, value, sum_mask,
                                               none, nothing, nothing)
            out_total[o] = total
            out_weighted[o] = weighted
            out_value[o] = summed


def _logs_impl(offsets: I64, log_at: I64, log_value: F64, as_of: int, obj_start_kr: I64,
               due_kr: I64, none_instant: int, day: float, out_has_entry: B, out_value: F64,
               out_has_previous: B, out_previous: F64, out_last_at: I64,
               out_forecast: F64) -> None:
    n = out_value.shape[0]
    nan = np.nan
    for b in _prange(_n_blocks(n, BLOCK_ROWS)):
        lo, hi = _block_rows(b, BLOCK_ROWS, n)
        for k in range(lo, hi):
            start = np.uint64(offsets[k])
            end = np.uint64(offsets[k + np.uint64(1)])
            period_start = obj_start_kr[k]
            count = 0
            last_v = nan
            prev_v = nan
            last_t = none_instant
            m = 0
            origin = 0
            sum_x = 0.0
            sum_v = 0.0
            i = start
            while i < end and log_at[i] <= as_of:
                # a later entry at the same instant overwrites the earlier one
                if i + np.uint64(1) < end and log_at[i + np.uint64(1)] == log_at[i]:
                    i += np.uint64(1)
                    continue
                t = log_at[i]
                v = log_value[i]
                prev_v = last_v
                last_v = v
                last_t = t
                count += 1
                if period_start == none_instant or t >= period_start:
                    if m == 0:
                        origin = t
                    sum_x += float(t - origin) / day
                    sum_v += v
                    m += 1
                i += np.uint64(1)
            out_has_entry[k] = count > 0
            out_value[k] = last_v if count > 0 else nan
            out_last_at[k] = last_t
            out_has_previous[k] = count > 1
            out_previous[k] = prev_v if count > 1 else nan
            forecast = nan
            due = due_kr[k]
            if m >= 2 and due != none_instant:
                mean_x = sum_x / float(m)
                mean_v = sum_v / float(m)
                sxx = 0.0
                sxv = 0.0
                i = start
                while i < end and log_at[i] <= as_of:
                    if i + np.uint64(1) < end and log_at[i + np.uint64(1)] == log_at[i]:
                        i += np.uint64(1)
                        continue
                    t = log_at[i]
                    if period_start == none_instant or t >= period_start:
                        dx = float(t - origin) / day - mean_x
                        sxx += dx * dx
                        sxv += dx * (log_value[i] - mean_v)
                    i += np.uint64(1)
                if sxx != 0:
                    at_due = float(due - origin) / day
                    forecast = mean_v + (sxv / sxx) * (at_due - mean_x)
            out_forecast[k] = forecast


def _csr_of_sorted_impl(keys: I64, out_offsets: I64) -> bool:
    """CSR offsets of keys in ``[0, m)`` sorted ascending.

    ``out_offsets[k]`` is the first row of key ``k``.  False, with the offsets unspecified,
    when the keys are not sorted or one is outside ``[0, m)``.  In parallel blocks of rows:
    row ``i`` writes the offsets of the keys after its predecessor's, up to its own, so every
    offset is written by exactly one row.
    """
    n = keys.shape[0]
    m = out_offsets.shape[0] - 1
    if n == 0:
        for k in range(m + 1):
            out_offsets[k] = 0
        return True
    blocks = _n_blocks(n, BLOCK_ROWS)
    bad = np.zeros(blocks, dtype=np.bool_)
    for b in _prange(blocks):
        lo, hi = _block_rows(b, BLOCK_ROWS, n)
        for i in range(lo, hi):
            k = keys[i]
            if k < 0 or k >= m or (i > 0 and keys[i - np.uint64(1)] > k):
                bad[b] = True
    if bad.any():
        return False
    for k in range(keys[0] + 1):
        out_offsets[k] = 0
    for b in _prange(blocks):
        lo, hi = _block_rows(b, BLOCK_ROWS, n)
        for i in range(max(lo, np.uint64(1)), hi):
            for k in range(keys[i - np.uint64(1)] + 1, keys[i] + 1):
                out_offsets[k] = i
    for k in range(keys[n - 1] + 1, m + 1):
        out_offsets[k] = n
    return True


