"""Optional numba kernels of the batch engine: fused, parallel, bit-identical to numpy.

numba is an optional extra (``pip install okrcore[fast]``): it is imported lazily by
:func:`load`, never when this module is imported, so okrcore works with numpy alone.

Public kernels (with argument checks):

* :func:`kr_pass`: the per key result pass (value, raw progress, clamp, range status,
  expected progress, pace colour, colour, grade) in one sweep over memory instead of some
  forty numpy temporaries;
* :func:`group_sums`: the per-objective sums of the key-result part of a rollup (Σw, Σwp, Σ
  value), i.e. ``np.bincount(objective, weights=...)``;
* :func:`logs_pass`: the check-in log pass.

The engine also calls internal kernels through :func:`load`: the key result front pass
(errors, field validation, gathers of objective columns), the pass after ``kr_pass`` (trend,
staleness, forecast, scenario inputs), the rollup structure and the per-objective aggregates
(over each objective's CSR rows), the rollup of one scenario (each objective sums its key
results and then its children, level by level, parallel within a level), the history lift, the
objective tail (trend, expected progress, colours, grade) and people.  Each is the twin of the
numpy step it replaces.  Helpers that take arrays are inlined into their kernels.

Equality: every result is the numpy engine's *bit for bit* (signed zeros included; NaNs are
NaN, their payload is not specified).  The kernels perform the same IEEE-754 double operations
in the same order as the numpy twins in :mod:`okrcore.batch.engine` (no ``fastmath``, so no
reassociation and no fused multiply-add), reproduce ``np.maximum`` / ``np.minimum`` exactly
(NaN propagates; of two equal values the second operand is returned, as numpy does), and sum
each group left to right starting from ``0.0`` like ``np.bincount``.

The row loops run in parallel over blocks of rows (``prange``), each block sequentially with
unsigned indices (no negative-index wraparound checks).  Like numpy, :func:`kr_pass` computes
every alternative (plain, band and graded progress; every pace bound) and then selects, so its
loop has no data-dependent branch and LLVM vectorises it (SIMD division, floor and compares
give the same bits as scalar ones).  Compiled code is cached on disk (``cache=True``, in
``__pycache__``), so only the first run on a machine pays the compile time (a few seconds).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import threading
from collections.abc import Iterator
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from okrcore.batch import engine as _e
from okrcore.batch import frame as _f
from okrcore.policy import PaceRule

__all__ = [
    "BLOCK_ROWS",
    "NONE_INSTANT",
    "OBJ_BLOCK",
    "PACE_RULE_CODES",
    "UNCAPPED",
    "Kernels",
    "available",
    "group_sums",
    "kr_pass",
    "load",
    "logs_pass",
    "pace_rule_code",
    "thread_count",
    "threads_limited",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]

NONE_INSTANT: Final = int(np.iinfo(np.int64).min)
"""The int64 instant that stands for "absent" (as in :mod:`okrcore.batch.frame`)."""
UNCAPPED: Final = math.inf
"""The ``cap`` of :func:`kr_pass` for an uncapped policy (``Policy.cap is None``).

``min(low, inf)`` is ``low`` for every clamped value (never NaN), so +inf gives exactly the
numpy engine's uncapped progress."""
PACE_RULE_CODES: Final = {"ratio": 0, "difference": 1, "points": 2}
"""The ``pace_rule`` codes of :func:`kr_pass` (with the ``worse`` boundary)."""
_BETTER: Final = 3
"""Added to a :data:`PACE_RULE_CODES` code for the ``better`` boundary (SEMANTICS §11.4)."""
BLOCK_ROWS: Final = 1 << 14
"""Key result rows per parallel block of :func:`kr_pass`."""
OBJ_BLOCK: Final = 1 << 12
"""Objectives per parallel block of :func:`group_sums`."""

_MEMORY_CHECKS: Final = 1024
_MESSAGE: Final = "the numba kernel needs the 'fast' extra: pip install okrcore[fast]"
_CODE_NONE: Final = -1
_CODE_GREEN: Final = 0
_CODE_YELLOW: Final = 1
_CODE_RED: Final = 2
_INT64_MIN: Final = int(np.iinfo(np.int64).min)
_NOW: Final = 0
_PREVIOUS: Final = 1
_FORECAST: Final = 2

# ``numba.prange`` once :func:`load` has run; plain ``range`` before (the kernels below are
# ordinary Python until numba compiles them, and numba reads this global at compile time).
_prange: Any = range


# ------------------------------------------------------------------------------------------
# scalar twins of the numpy engine's helpers (compiled by numba via register_jitable)
# ------------------------------------------------------------------------------------------


def _np_maximum(a: float, b: float) -> float:
    """``np.maximum(a, b)`` for two doubles: NaN propagates, equal values give ``b``."""
    result = a if a > b else b
    result = b if math.isnan(b) else result
    return a if math.isnan(a) else result


def _np_minimum(a: float, b: float) -> float:
    """``np.minimum(a, b)`` for two doubles: NaN propagates, equal values give ``b``."""
    result = a if a < b else b
    result = b if math.isnan(b) else result
    return a if math.isnan(a) else result


def _approx_le(a: float, b: float, tol: float) -> bool:
    """Twin of ``engine._approx_le`` (``a <= b`` up to a relative tolerance)."""
    return (a <= b) | (abs(a - b) <= tol * _np_maximum(abs(a), abs(b)))


def _hits_low(value: float, limit: float, strict: bool) -> bool:
    """Twin of ``engine._hits_low`` (a NaN limit is never hit: every comparison is false)."""
    return (value < limit) if strict else (value <= limit)


def _hits_high(value: float, limit: float, strict: bool) -> bool:
    """Twin of ``engine._hits_high``."""
    return (value > limit) if strict else (value >= limit)


def _graded(value: float, target: float, red_low: float, yellow_low: float, yellow_high: float,
            red_high: float) -> float:
    """Twin of ``engine._graded``: both declines computed, then selected (no branches)."""
    high_yellow = target if math.isnan(yellow_high) else yellow_high
    low_yellow = target if math.isnan(yellow_low) else yellow_low
    up = _np_minimum(_np_maximum((red_high - value) / (red_high - high_yellow), 0.0), 1.0)
    down = _np_minimum(_np_maximum((value - red_low) / (low_yellow - red_low), 0.0), 1.0)
    above = (not math.isnan(red_high)) & (value > high_yellow)
    below = (not above) & (not math.isnan(red_low)) & (value < low_yellow)
    result = 1.0
    result = (0.0 if value >= red_high else up) if above else result
    return (0.0 if value <= red_low else down) if below else result


def _bound(expected: float, rule: int, threshold: float, points: float) -> float:
    """The bound of the ``behind`` test of ``engine._pace`` (``points = threshold / 100.0``).

    ``rule`` is a :func:`pace_rule_code` (its boundary is ignored here).
    """
    base = rule - _BETTER if rule >= _BETTER else rule
    ratio = threshold * expected
    difference = expected + threshold
    below = expected - points
    return ratio if base == 0 else (difference if base == 1 else below)


def _behind(progress: float, bound: float, tol: float, better: bool) -> bool:
    """Twin of ``engine._behind``: ``progress <= bound``, or strictly below with ``better``."""
    return (not _approx_le(bound, progress, tol)) if better else _approx_le(progress, bound, tol)


def _direction(start: float, target: float) -> int:
    """Twin of ``np.sign(target - start).astype(np.int64)``.

    NaN gives the int64 minimum, as numpy's cast does on this platform (it then counts as a
    downward direction, as in numpy).
    """
    d = target - start
    return 1 if d > 0 else (-1 if d < 0 else (0 if d == 0 else _INT64_MIN))


def _raw_and_status(v: float, s: float, t: float, mode: int, rl: float, yl: float, yh: float,
                    rh: float, strict: bool) -> tuple[float, int]:
    """Twins of ``engine._raw_progress`` and ``engine._range_status`` at value ``v``."""
    red = _hits_low(v, rl, strict) | _hits_high(v, rh, strict)
    yellow = _hits_low(v, yl, strict) | _hits_high(v, yh, strict)
    # (formulas.metric_raw_progress: a difference that overflows is taken halved)
    whole = (v - s, t - s)
    halves = (v * 0.5 - s * 0.5, t * 0.5 - s * 0.5)
    num, den = halves if math.isinf(whole[0]) or math.isinf(whole[1]) else whole
    raw = (0.0 if red else 1.0) if mode == 1 else num / den
    raw = _graded(v, t, rl, yl, yh, rh) if mode == 2 else raw
    status = _CODE_RED if red else (_CODE_YELLOW if yellow else _CODE_GREEN)
    return raw, (_CODE_NONE if mode == 0 else status)


def _pace_code(progress: float, expected: float, tol: float, rule: int, yellow: float,
               red: float) -> int:
    """Twin of ``engine._pace`` (green for ``expected`` NaN: callers treat no timeline)."""
    green = (_approx_le(1.0, progress, tol) | (expected <= 0)
             | _approx_le(expected, progress, tol) | math.isnan(expected))
    better = rule >= _BETTER
    behind_red = _behind(progress, _bound(expected, rule, red, red / 100.0), tol, better)
    behind_yellow = _behind(progress, _bound(expected, rule, yellow, yellow / 100.0), tol,
                            better)
    pace = _CODE_RED if behind_red else (_CODE_YELLOW if behind_yellow else _CODE_GREEN)
    return _CODE_GREEN if green else pace


def _clamped(raw: float, cap: float) -> float:
    """Twin of ``engine._clamp`` (NaN and -0.0 become 0.0)."""
    return _np_minimum(raw if raw > 0.0 else 0.0, cap)


def _expected_at(as_of: int, start: int, due: int) -> float:
    """Twin of ``engine._expected`` for one timeline: NaN without one."""
    expected = _np_minimum(_np_maximum(np.float64(as_of - start) / np.float64(due - start),
                                       0.0), 1.0)
    return expected if (start != NONE_INSTANT) & (due != NONE_INSTANT) else np.nan


def _grade_of(progress: float, aspirational: bool, tol: float, grade_yellow: float,
              grade_green: float, aspirational_success: float) -> tuple[float, int, bool]:
    """Twin of ``engine._grade`` for one progress: score, band and success."""
    score = np.floor(10.0 * _np_minimum(progress, 1.0) + 0.5 + tol) / 10.0
    band = _CODE_RED if score < grade_yellow else (
        _CODE_YELLOW if score < grade_green else _CODE_GREEN)
    threshold = aspirational_success if aspirational else 1.0
    return score, band, _approx_le(threshold, progress, tol)


def _n_blocks(n: int | np.uint64, block: int) -> np.uint64:
    """How many blocks of ``block`` rows cover ``n`` rows (unsigned)."""
    return (np.uint64(n) + np.uint64(block) - np.uint64(1)) // np.uint64(block)


def _block_rows(b: int, block: int, n: int | np.uint64) -> tuple[np.uint64, np.uint64]:
    """The unsigned row range ``[lo, hi)`` of block ``b``."""
    lo = np.uint64(b) * np.uint64(block)
    return lo, min(lo + np.uint64(block), np.uint64(n))


_HELPERS: Final = (_np_maximum, _np_minimum, _approx_le, _hits_low, _hits_high, _graded,
                   _bound, _behind, _direction, _raw_and_status, _pace_code, _clamped, _expected_at,
                   _grade_of, _n_blocks, _block_rows)
_LATE_HELPERS: Final = ("_field_error", "_sums_of", "_kr_sums_one", "_rescaled_one",
                        "_rollup_one")


# ------------------------------------------------------------------------------------------
# kernel bodies (plain Python until load() compiles them)
# ------------------------------------------------------------------------------------------


def _kr_pass_impl(
        kind: U8, start: F64, target: F64, explicit: F64, log_has: Any, log_value: F64,
        range_mode: U8, red_low: F64, yellow_low: F64, yellow_high: F64, red_high: F64,
        obj_start_kr: I64, due_kr: I64, aspirational: B, as_of: int, cap: float, strict: bool,
        tol: float, pace_rule: int, pace_yellow: float, pace_red: float, grade_yellow: float,
        grade_green: float, aspirational_success: float, out_value: F64, out_raw: F64,
        out_progress: F64, out_status: I8, out_expected: F64, out_pace: I8, out_colour: I8,
        out_score: F64, out_band: I8, out_success: B) -> None:
    n = start.shape[0]
    red_points = pace_red / 100.0
    yellow_points = pace_yellow / 100.0
    better = pace_rule >= _BETTER
    for b in _prange(_n_blocks(n, BLOCK_ROWS)):
        lo, hi = _block_rows(b, BLOCK_ROWS, n)
        # Every branch of the numpy engine is computed and then selected, as numpy does: no
        # data-dependent branches, so the loop can be if-converted and vectorised.
        for i in range(lo, hi):
            # value: the as-of check-in, else the explicit current value, else the start
            s = start[i]
            e = explicit[i]
            logged = log_value[i]
            fallback = s if math.isnan(e) else e
            v = logged if log_has[i] else fallback
            t = target[i]
            mode = range_mode[i]
            rl = red_low[i]
            yl = yellow_low[i]
            yh = yellow_high[i]
            rh = red_high[i]
            red = _hits_low(v, rl, strict) | _hits_high(v, rh, strict)
            yellow = _hits_low(v, yl, strict) | _hits_high(v, yh, strict)
            # raw progress (_raw_progress): plain, band (1 unless red), graded
            num = v - s
            den = t - s
            # (formulas.metric_raw_progress: a difference that overflows is taken halved)
            halved = math.isinf(num) | math.isinf(den)
            num = (v * 0.5 - s * 0.5) if halved else num
            den = (t * 0.5 - s * 0.5) if halved else den
            plain = num / den
            banded = 0.0 if red else 1.0
            graded = _graded(v, t, rl, yl, yh, rh)
            raw = banded if mode == 1 else plain
            raw = graded if mode == 2 else raw
            # progress (_clamp): NaN and -0.0 become 0.0, then np.minimum(low, cap)
            low = raw if raw > 0.0 else 0.0
            progress = _np_minimum(low, cap)
            # range status (_range_status)
            status = _CODE_RED if red else (_CODE_YELLOW if yellow else _CODE_GREEN)
            status = _CODE_NONE if mode == 0 else status
            # expected progress (_expected), NaN without a timeline
            expected = _expected_at(as_of, obj_start_kr[i], due_kr[i])
            # pace colour (_pace; none without a timeline, below)
            # (written out, not _pace_code: a call to it here, which LLVM does not inline, stops
            # this loop's vectorisation and made kr_pass 5x slower)
            green = (_approx_le(1.0, progress, tol) | (expected <= 0)
                     | _approx_le(expected, progress, tol) | math.isnan(expected))
            bound_red = _bound(expected, pace_rule, pace_red, red_points)
            bound_yellow = _bound(expected, pace_rule, pace_yellow, yellow_points)
            behind_red = ((not _approx_le(bound_red, progress, tol)) if better
                          else _approx_le(progress, bound_red, tol))
            behind_yellow = ((not _approx_le(bound_yellow, progress, tol)) if better
                             else _approx_le(progress, bound_yellow, tol))
            pace = _CODE_RED if behind_red else (_CODE_YELLOW if behind_yellow else _CODE_GREEN)
            pace = _CODE_GREEN if green else pace
            # no timeline, no pace (SEMANTICS §11.1)
            pace = _CODE_NONE if math.isnan(expected) else pace
            # done-or-not key results are paced against their due (§11.2, engine._kr_pace)
            k = kind[i]
            due = due_kr[i]
            by_due = _CODE_NONE if due == NONE_INSTANT else (
                _CODE_GREEN if as_of < due else _CODE_RED)
            by_due = _CODE_GREEN if v != 0.0 else by_due
            pace = by_due if (k == _f.KIND_BINARY) | (k == _f.KIND_MILESTONE) else pace
            # grade (_grade)
            score, band, success = _grade_of(progress, aspirational[i], tol, grade_yellow,
                                             grade_green, aspirational_success)
            out_value[i] = v
            out_raw[i] = raw
            out_progress[i] = progress
            out_status[i] = status
            out_expected[i] = expected
            out_pace[i] = pace
            out_colour[i] = pace if pace > status else status
            out_score[i] = score
            out_band[i] = band
            out_success[i] = success


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


def _kr_sums_one(o: int | np.uint64, offsets: I64, weight: F64, progress: F64, value: F64,
                 over: B, over_progress: F64, over_value: F64, sum_mask: B, sum_start: F64,
                 sum_target: F64, cap: float) -> tuple[bool, float, float, float, float, float]:
    """The key result part of objective ``o``'s rollup (twin of ``engine._kr_part``).

    Whether it has key results, Σ weight, Σ weight·progress, the summed value, and the summed
    part's raw and clamped progress.  The rows where ``over`` is set take their progress and
    value from ``over_progress`` and ``over_value`` (the forecast scenario).
    """
    total, weighted, summed = _sums_of(offsets, o, weight, progress, value, sum_mask, over,
                                       over_progress, over_value)
    start = sum_start[o]
    target = sum_target[o]
    # (formulas.metric_raw_progress: a difference that overflows is taken halved)
    whole = (summed - start, target - start)
    halves = (summed * 0.5 - start * 0.5, target * 0.5 - start * 0.5)
    num, den = halves if math.isinf(whole[0]) or math.isinf(whole[1]) else whole
    raw = num / den
    # a total beyond floating point: no finite progress (not_finite)
    finite = math.isfinite(summed) and math.isfinite(start) and math.isfinite(target)
    raw = raw if finite else np.nan
    has_krs = offsets[o + np.uint64(1)] > offsets[o]
    return has_krs, total, weighted, summed, raw, _clamped(raw, cap)


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


def _kr_post_impl(kr_error: U8, kind: U8, start: F64, target: F64, range_mode: U8,
                  red_low: F64, yellow_low: F64, yellow_high: F64, red_high: F64, value: F64,
                  raw: F64, progress: F64, status: I8, has_log: B, has_entry: B,
                  has_previous: B, previous: F64, last_at: I64, forecast: F64,
                  obj_start_kr: I64, as_of: int, window: float, cap: float, strict: bool,
                  tol: float, pace_rule: int, pace_yellow: float, pace_red: float,
                  out_trend: I8, out_stale: I8, out_fc_value: F64, out_fc_progress: F64,
                  out_fc_status: I8, out_fc_colour: I8, out_has_fc: B, out_prev_value: F64,
                  out_prev_progress: F64) -> None:
    """Per key result, after its pass: trend, staleness, forecast, the previous state's inputs.

    The forecast state's rollup reads the forecast columns where ``out_has_fc`` is set, and
    the columns now elsewhere.
    """
    n = value.shape[0]
    for b in _prange(_n_blocks(n, BLOCK_ROWS)):
        lo, hi = _block_rows(b, BLOCK_ROWS, n)
        for i in range(lo, hi):
            s = start[i]
            limits = (target[i], range_mode[i], red_low[i], yellow_low[i], yellow_high[i],
                      red_high[i], strict)
            v = value[i]
            r = raw[i]
            p = progress[i]
            logged = has_entry[i]
            # the previous state (only where there is a check-in)
            trend = _e.TREND_NONE
            prev_value = v
            prev_progress = p
            if logged:
                prev_value = previous[i] if has_previous[i] else s
                prev_raw, _ = _raw_and_status(prev_value, s, *limits)
                prev_progress = _clamped(prev_raw if kr_error[i] == 0 else 0.0, cap)
                same = abs(r - prev_raw) <= tol * _np_maximum(abs(r), abs(prev_raw))
                trend = _e.TREND_STALLED if same else (
                    _e.TREND_PROGRESSED if r > prev_raw else _e.TREND_REGRESSED)
            out_trend[i] = trend
            out_prev_value[i] = prev_value
            out_prev_progress[i] = prev_progress
            # staleness
            o_start = obj_start_kr[i]
            complete = _approx_le(1.0, p, tol)
            early = (o_start != NONE_INSTANT) & (np.float64(as_of - o_start) < window)
            since_last = np.float64(as_of - last_at[i]) if logged else 0.0
            stale = (not complete) & (not early) & ((not logged) | (since_last > window))
            out_stale[i] = (1 if stale else 0) if has_log[i] else -1
            # forecast
            k = kind[i]
            f = forecast[i]
            has_fc = ((k == _f.KIND_METRIC) | (k == _f.KIND_STAGED)) & math.isfinite(f)
            fc_raw = np.nan
            fc_status = status[i]
            if has_fc:
                fc_raw, fc_status = _raw_and_status(f, s, *limits)
                # (uncapped) a projection beyond floating point is no forecast
                has_fc = math.isfinite(fc_raw)
            out_has_fc[i] = has_fc
            if has_fc:
                fc_progress = _clamped(fc_raw, cap)
                fc_pace = _pace_code(fc_progress, 1.0, tol, pace_rule, pace_yellow, pace_red)
                out_fc_value[i] = f
                out_fc_progress[i] = fc_progress
                out_fc_status[i] = fc_status
                out_fc_colour[i] = fc_pace if fc_pace > fc_status else fc_status
            else:
                out_fc_value[i] = np.nan
                out_fc_progress[i] = np.nan
                out_fc_status[i] = status[i]
                out_fc_colour[i] = _CODE_NONE


def _obj_aggregates_impl(offsets: I64, kr_error: U8, contributes: B, has_entry: B,
                         has_fc: B, has_log: B, stale: I8, range_mode: U8, status: I8,
                         fc_status: I8, out_first_bad: I64, out_has_fc: B, out_history: B,
                         out_stale: I8, out_worst: I8, out_worst_null: I8,
                         out_fc_worst: I8) -> None:
    """Per objective, over its key results: what ``_evaluate`` gathers with scatters.

    The first bad row, the forecast and history flags, staleness and the worst range statuses.
    """
    m = out_first_bad.shape[0]
    for b in _prange(_n_blocks(m, OBJ_BLOCK)):
        lo, hi = _block_rows(b, OBJ_BLOCK, m)
        for o in range(lo, hi):
            first_bad = np.int64(-1)
            any_fc = False
            history = False
            n_logged = 0
            n_stale = 0
            worst = _CODE_NONE
            worst_null = _CODE_NONE
            fc_worst = _CODE_NONE
            for r in range(np.uint64(offsets[o]), np.uint64(offsets[o + np.uint64(1)])):
                ok = kr_error[r] == 0
                if not ok and first_bad < 0:
                    first_bad = np.int64(r)
                any_fc |= has_fc[r] & contributes[r]
                history |= contributes[r] & ok & has_entry[r]
                logged = has_log[r] & ok
                n_logged += 1 if logged else 0
                n_stale += 1 if logged and stale[r] == 1 else 0
                if range_mode[r] > 0 and ok:
                    hit = status[r]
                    worst = max(worst, hit)
                    worst_null = max(worst_null, hit if hit >= _CODE_YELLOW else _CODE_NONE)
                    fc_worst = max(fc_worst, fc_status[r])
            out_first_bad[o] = first_bad
            out_has_fc[o] = any_fc
            out_history[o] = history
            out_stale[o] = (1 if n_stale == n_logged else 0) if n_logged > 0 else -1
            out_worst[o] = worst
            out_worst_null[o] = worst_null
            out_fc_worst[o] = fc_worst


def _obj_tail_impl(offsets: I64, obj_error: U8, progress: F64, previous: F64, fc_progress: F64,
                   fc_ok: B, history: B, has_krs: B, rule: U8, start: I64, due: I64,
                   manual_status: I8, ambition: U8, worst: I8, worst_null: I8, fc_worst: I8,
                   contributes: B, kr_weight: F64, kr_error: U8, as_of: int, tol: float,
                   pace_rule: int, pace_yellow: float, pace_red: float, grade_yellow: float,
                   grade_green: float, aspirational_success: float, out_trend: I8,
                   out_expected: F64, out_colour: I8, out_computed: I8, out_fc_colour: I8,
                   out_score: F64, out_band: I8, out_success: B, out_rule: U8,
                   out_kr_contributes: B) -> None:
    """Per objective, after the rollups: what ``_evaluate`` computes with numpy on objectives.

    Trend, expected progress, pace and effective colours, forecast colour, grade and rule;
    ``previous`` and ``fc_progress`` are masked in place (NaN where the objective has an error
    or no forecast); and each key result's ``contributes`` flag.
    """
    m = obj_error.shape[0]
    nan = np.nan
    for b in _prange(_n_blocks(m, OBJ_BLOCK)):
        lo, hi = _block_rows(b, OBJ_BLOCK, m)
        for o in range(lo, hi):
            ok = obj_error[o] == 0
            p = progress[o]
            has_progress = not math.isnan(p)
            prev = previous[o]
            # trend (_trend), where there is a history and a previous value
            same = abs(p - prev) <= tol * _np_maximum(abs(p), abs(prev))
            trend = _e.TREND_STALLED if same else (
                _e.TREND_PROGRESSED if p > prev else _e.TREND_REGRESSED)
            counted = ok & history[o] & has_progress & (not math.isnan(prev))
            out_trend[o] = trend if counted else _e.TREND_NONE
            previous[o] = prev if ok else nan
            # expected progress (_expected)
            expected = _expected_at(as_of, start[o], due[o])
            out_expected[o] = expected
            # pace colour, computed colour (worst of pace and ranges), manual status
            pace = _pace_code(p if has_progress else 0.0, expected, tol, pace_rule, pace_yellow,
                              pace_red)
            hit = np.int8(worst[o])
            # no timeline: no pace, the worst breakpoint colour alone (SEMANTICS §11.1)
            paced = hit if math.isnan(expected) else (pace if pace > hit else hit)
            computed = paced if has_progress else np.int8(worst_null[o])
            out_computed[o] = computed
            status = manual_status[o]
            manual = _CODE_RED if status >= 3 else (_CODE_YELLOW if status >= 1 else _CODE_GREEN)
            out_colour[o] = manual if status >= 0 else computed
            # forecast colour
            fok = fc_ok[o] & ok
            f = fc_progress[o]
            fpace = _pace_code(f if fok else 0.0, 1.0, tol, pace_rule, pace_yellow, pace_red)
            fw = np.int8(fc_worst[o])
            out_fc_colour[o] = (fpace if fpace > fw else fw) if fok else _CODE_NONE
            fc_progress[o] = f if fok else nan
            # grade (_grade), of the progress (0 where there is none)
            score, band, success = _grade_of(p if has_progress else 0.0, ambition[o] == 1, tol,
                                             grade_yellow, grade_green, aspirational_success)
            out_score[o] = score
            out_band[o] = band
            out_success[o] = success
            out_rule[o] = rule[o] if has_krs[o] else (
                _e.RULE_EMPTY if not has_progress else _e.RULE_CHILDREN)
            for r in range(np.uint64(offsets[o]), np.uint64(offsets[o + np.uint64(1)])):
                flag = contributes[r] if ok else kr_weight[r] > 0
                out_kr_contributes[r] = flag & (kr_error[r] == 0)


def _history_impl(order: I64, child_offsets: I64, children: I64, child_counted: B, uses: B,
                  pinned: B, history: B) -> None:
    """Objective history flags lifted from counted children, children before parents."""
    for k in range(order.shape[0]):
        o = order[k]
        if pinned[o] or not uses[o]:
            continue
        for j in range(child_offsets[o], child_offsets[o + 1]):
            c = children[j]
            if child_counted[c] and history[c]:
                history[o] = True


def _field_error(kind: int, start: float, target: float, current: float, weight: float,
                 mode: int, red_low: float, yellow_low: float, yellow_high: float,
                 red_high: float) -> int:
    """Twin of ``engine._validate_key_results`` for one row: its first field error (0 none)."""
    finite = (math.isfinite(start) & math.isfinite(target) & math.isfinite(weight)
              & (not math.isinf(current)) & (not math.isinf(red_low))
              & (not math.isinf(yellow_low)) & (not math.isinf(yellow_high))
              & (not math.isinf(red_high)))
    if not finite:
        return _e.ERR_FIELD_NOT_FINITE
    if kind > 4 or mode > 3:
        return _e.ERR_FIELD_UNKNOWN_VALUE
    if weight < 0:
        return _e.ERR_FIELD_NEGATIVE_WEIGHT
    metric = kind == _f.KIND_METRIC
    if metric and target == start and (mode == 0 or mode == 3):
        return _e.ERR_FIELD_DEGENERATE
    if metric and mode > 0:
        out_of_order = False
        highest = -np.inf
        for value in (red_low, yellow_low, target, yellow_high, red_high):
            present = not math.isnan(value)
            out_of_order |= present & (value < highest)
            highest = _np_maximum(highest, value) if present else highest
        if out_of_order:
            return _e.ERR_FIELD_BREAKPOINTS
    if 1 <= kind <= 4:
        whole_total = (target >= 1) & (target == np.floor(target))
        done_ok = math.isnan(current) or ((current >= 0) & (current <= target)
                                          & (current == np.floor(current)))
        if not (whole_total & done_ok & (start == 0)):
            return _e.ERR_FIELD_OUT_OF_RANGE
    return 0


def _kr_front_impl(kr_objective: I64, kr_load: U8, validate: bool, kind: U8, start: F64,
                   target: F64, current: F64, weight: F64, range_mode: U8, red_low: F64,
                   yellow_low: F64, yellow_high: F64, red_high: F64, kr_due: I64,
                   broken: B, obj_start: I64, obj_due: I64, obj_ambition: U8,
                   out_error: U8, out_obj_start: I64, out_due: I64,
                   out_aspirational: B) -> None:
    """Per key result: the errors known before evaluating it, and its objective's columns."""
    n = kr_objective.shape[0]
    for b in _prange(_n_blocks(n, BLOCK_ROWS)):
        lo, hi = _block_rows(b, BLOCK_ROWS, n)
        for i in range(lo, hi):
            o = kr_objective[i]
            load = kr_load[i]
            error = _e.ERR_LOAD if load == 1 else 0
            if error == 0 and validate:
                error = _field_error(kind[i], start[i], target[i], current[i], weight[i],
                                     range_mode[i], red_low[i], yellow_low[i], yellow_high[i],
                                     red_high[i])
            if load == 2:
                error = _e.ERR_DUPLICATE_ID
            if error == 0 and broken[o]:
                error = _e.ERR_DEPENDS_ON_INVALID
            o_start = obj_start[o]
            due = kr_due[i]
            if (error == 0 and due != NONE_INSTANT and o_start != NONE_INSTANT
                    and due <= o_start):
                error = _e.ERR_INVALID_TIMELINE
            out_error[i] = error
            out_obj_start[i] = o_start
            out_due[i] = due if due != NONE_INSTANT else obj_due[o]
            out_aspirational[i] = obj_ambition[o] == 1


def _people_impl(kr_offsets: I64, owner_offsets: I64, owner_ids: Any, obj_owner: Any,
                 obj_error: U8, obj_progress: F64, kr_error: U8, kr_progress: F64, n_kr: int,
                 parts: int, out_mean: F64, out_items: I64, out_first_bad: I64,
                 out_seen: B) -> None:
    """Per person: the mean progress of the counted items, summed in document order.

    Items: an objective, then its key results' owners other than the objective's owner.

    The people are split into ``parts`` ranges (one per thread); each thread walks every item
    in document order and keeps those of its range, so each person's sum keeps its order.  A
    person's running figures (items, Σ progress, first bad item, seen) sit side by side in one
    row of ``acc``, so that one cache miss fetches all of them: the random accesses to people,
    not the walk, are what this pass costs.
    """
    n_people = out_mean.shape[0]
    n_obj = obj_owner.shape[0]
    acc = np.zeros((n_people, 4))  # items (= Σ 1.0), Σ 1.0 * progress, first bad + 1, seen
    count = np.uint64(max(parts, 1))
    for t in _prange(count):
        lo = np.int64(np.uint64(n_people) * np.uint64(t) // count)
        hi = np.int64(np.uint64(n_people) * (np.uint64(t) + np.uint64(1)) // count)
        for o in range(np.uint64(n_obj)):
            owner = np.int64(obj_owner[o])
            if owner >= lo and owner < hi:
                acc[owner, 3] = 1.0
                p = obj_progress[o]
                if obj_error[o] != 0:
                    if acc[owner, 2] == 0.0:
                        acc[owner, 2] = np.float64(np.int64(o) + n_kr + 1)
                elif not math.isnan(p):
                    acc[owner, 0] += 1.0
                    acc[owner, 1] += 1.0 * p
            for r in range(np.uint64(kr_offsets[o]), np.uint64(kr_offsets[o + np.uint64(1)])):
                for j in range(np.uint64(owner_offsets[r]),
                               np.uint64(owner_offsets[r + np.uint64(1)])):
                    person = np.int64(owner_ids[j])
                    if person == owner or person < lo or person >= hi:
                        continue
                    acc[person, 3] = 1.0
                    p = kr_progress[r]
                    if kr_error[r] != 0:
                        if acc[person, 2] == 0.0:
                            acc[person, 2] = np.float64(np.int64(r) + 1)
                    elif not math.isnan(p):
                        acc[person, 0] += 1.0
                        acc[person, 1] += 1.0 * p
    for k in range(n_people):
        total = acc[k, 0]
        out_items[k] = np.int64(total)
        out_first_bad[k] = np.int64(acc[k, 2]) - 1
        out_seen[k] = acc[k, 3] != 0.0
        out_mean[k] = acc[k, 1] / total if total > 0 else np.nan


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


def _children_impl(parent: I64, height: I64, out_offsets: I64, out_children: I64) -> None:
    """Children CSR of the alignment forest (a stable counting sort).

    The linked rows with a height (not on a cycle), grouped by parent, in row order.
    """
    m = parent.shape[0]
    for o in range(m + 1):
        out_offsets[o] = 0
    for c in range(m):
        p = parent[c]
        if p >= 0 and height[c] >= 0:
            out_offsets[p + 1] += 1
    for o in range(m):
        out_offsets[o + 1] += out_offsets[o]
    fill = out_offsets[:m].copy()
    for c in range(m):
        p = parent[c]
        if p >= 0 and height[c] >= 0:
            out_children[fill[p]] = c
            fill[p] += 1


def _structure_impl(offsets: I64, kind: U8, range_mode: U8, start: F64, target: F64,
                    weight: F64, unit: Any, kr_ok: B, obj_mode: U8, ps_unit: Any,
                    ps_auto: B, ps_start: F64, ps_target: F64, include_children: B,
                    out_n_krs: I64, out_mode: U8, out_rule: U8, out_uses_children: B,
                    out_sum_unit: Any, out_sum_error: U8, out_sum_start: F64,
                    out_sum_target: F64, out_target_auto: B, out_contributes: B,
                    out_summed: B) -> None:
    m = out_n_krs.shape[0]
    for b in _prange(_n_blocks(m, OBJ_BLOCK)):
        lo, hi = _block_rows(b, OBJ_BLOCK, m)
        for o in range(lo, hi):
            first = np.uint64(offsets[o])
            end = np.uint64(offsets[o + np.uint64(1)])
            count = np.int64(end - first)
            has_krs = count > 0
            unit_first = np.int64(unit[first]) if has_krs else np.int64(-1)
            dir_first = _direction(start[first], target[first]) if has_krs else 0
            all_plain = True
            same_unit = True
            same_dir = True
            wm_first = np.int64(-2)
            wm_differ = False
            for r in range(first, end):
                metric = kind[r] == _f.KIND_METRIC
                all_plain &= metric & (range_mode[r] == 0)
                u = np.int64(unit[r])
                same_unit &= u == unit_first
                same_dir &= _direction(start[r], target[r]) == dir_first
                if metric and weight[r] > 0:
                    if wm_first == -2:
                        wm_first = u
                    elif u != wm_first:
                        wm_differ = True
            has_settings = ps_unit[o] >= 0
            explicit = obj_mode[o] != 0
            auto_same = has_krs & all_plain & same_unit & (unit_first >= 0) & same_dir
            mode = obj_mode[o] if explicit else (2 if has_settings | auto_same else 1)
            rule = _e.RULE_EXPLICIT if explicit else (
                _e.RULE_SETTINGS if has_settings else (
                    _e.RULE_SAME_UNIT if auto_same else _e.RULE_MIXED))
            if not has_krs:
                rule = _e.RULE_CHILDREN
                mode = 1
            sum_unit = np.int64(ps_unit[o]) if has_settings else wm_first
            is_sum = (mode == 2) & has_krs
            error = 0
            if is_sum and not has_settings and (wm_first == -2 or wm_differ):
                error = _e.ERR_NO_SUM_UNIT
            n_contrib = 0
            up = 0
            down = 0
            starts = 0.0
            targets = 0.0
            for r in range(first, end):
                weighted_metric = (kind[r] == _f.KIND_METRIC) & (weight[r] > 0)
                contrib = weighted_metric & (np.int64(unit[r]) == sum_unit) & is_sum
                if contrib:
                    n_contrib += 1
                    direction = _direction(start[r], target[r])
                    up += 1 if direction > 0 else 0
                    down += 1 if direction < 0 else 0
                    starts += start[r]
                    targets += target[r]
                out_contributes[r] = (contrib if is_sum else weight[r] > 0) & kr_ok[r]
                out_summed[r] = contrib & kr_ok[r]
            if is_sum and error == 0 and n_contrib == 0:
                error = _e.ERR_NO_CONTRIBUTING_METRIC
            if is_sum and error == 0 and up > 0 and down > 0:
                error = _e.ERR_MIXED_DIRECTIONS
            sum_start = ps_start[o] if has_settings and not math.isnan(ps_start[o]) else starts
            target_auto = (not has_settings) | ps_auto[o]
            sum_target = targets if target_auto else ps_target[o]
            if is_sum and error == 0 and sum_target == sum_start:
                error = _e.ERR_DEGENERATE_GOAL
            out_n_krs[o] = count
            out_mode[o] = mode
            out_rule[o] = rule
            out_uses_children[o] = (not has_krs) | include_children[o]
            out_sum_unit[o] = sum_unit
            out_sum_error[o] = error
            out_sum_start[o] = sum_start
            out_sum_target[o] = sum_target
            out_target_auto[o] = target_auto


def _rollup_fused_impl(order: I64, level_offsets: I64, child_offsets: I64, children: I64,
                       others: I64, kr_offsets: I64, kr_weight: F64, kr_progress: F64,
                       kr_value: F64, over: B, over_progress: F64, over_value: F64,
                       sum_mask: B, sum_start: F64, sum_target: F64, cap: float, n_kr: int,
                       is_sum: B, uses: B, obj_weight: F64, obj_due: I64,
                       pinned: B, scenario: int, obj_error: U8, obj_ref: I64, valid: B,
                       kid_now: F64, has_fc: B, progress: F64, raw: F64, value_sum: F64,
                       prog_sum: F64) -> None:
    """One rollup scenario: each objective's key result part and its tree step in one pass.

    Each objective of the tree sums its key results (:func:`_kr_sums_one`) just before it
    rolls up (:func:`_rollup_one`), level by level, children before parents, in parallel
    within a level; ``others`` (objectives on an alignment cycle, outside the tree) only get
    their sums.  The per-objective sums stay in registers: only the summed part's value and
    progress are written (``value_sum``, ``prog_sum``), in the evaluation "now" alone, where
    they are results.  The key results where ``over`` is set take their progress and value from
    ``over_progress`` and ``over_value`` (the forecast scenario; an empty ``over`` for none).
    """
    for level in range(level_offsets.shape[0] - 1):
        first = np.uint64(level_offsets[level])
        count = np.uint64(level_offsets[level + 1]) - first
        # a level of one block runs in this thread: a parallel launch per level made a chain
        # of objectives (one per level) cost a thread hand-off per objective
        blocks = _n_blocks(count, OBJ_BLOCK)
        for b in _prange(blocks) if blocks > 1 else range(blocks):
            lo, hi = _block_rows(b, OBJ_BLOCK, count)
            for k in range(first + lo, first + hi):
                o = np.uint64(order[k])
                has_krs, total, weighted, summed, raw_sum, progress_sum = _kr_sums_one(
                    o, kr_offsets, kr_weight, kr_progress, kr_value, over, over_progress,
                    over_value, sum_mask, sum_start, sum_target, cap)
                if scenario == _NOW:
                    value_sum[o] = summed
                    prog_sum[o] = progress_sum
                _rollup_one(o, child_offsets, children, n_kr, has_krs, is_sum, uses, total,
                            weighted, raw_sum, progress_sum, obj_weight, obj_due, pinned,
                            scenario, obj_error, obj_ref, valid, kid_now, has_fc, progress,
                            raw, kr_offsets, kr_weight, kr_progress, over, over_progress)
    count = np.uint64(others.shape[0])
    for b in _prange(_n_blocks(count, OBJ_BLOCK)):
        lo, hi = _block_rows(b, OBJ_BLOCK, count)
        for k in range(lo, hi):
            o = np.uint64(others[k])
            _, _, _, summed, _, progress_sum = _kr_sums_one(
                o, kr_offsets, kr_weight, kr_progress, kr_value, over, over_progress,
                over_value, sum_mask, sum_start, sum_target, cap)
            value_sum[o] = summed
            prog_sum[o] = progress_sum


def _rescaled_one(o: int | np.uint64, child_offsets: I64, children: I64, has_krs: bool,
                  summing: bool, prog_sum: float, uses_children: bool, obj_weight: F64,
                  scenario: int, obj_error: U8, valid: B, kid_now: F64, has_fc: B,
                  progress: F64, kr_offsets: I64, kr_weight: F64, kr_progress: F64, over: B,
                  over_progress: F64) -> float:
    """Twin of ``okrcore.formulas.rescaled_mean`` over objective ``o``'s counted items.

    Own items (the summed part, or the key results in row order), then the counted children
    in row order; two passes: the binary exponents of the largest weight and progress, then
    the sums of the rescaled items.
    """
    replaced = over.shape[0] > 0
    r_lo = np.uint64(kr_offsets[o])
    r_hi = np.uint64(kr_offsets[o + np.uint64(1)])
    c_lo = np.uint64(child_offsets[o])
    c_hi = np.uint64(child_offsets[o + np.uint64(1)]) if uses_children else c_lo
    e = 0
    q = 0
    seen = False  # any item yet (the first sets e)
    seen_q = False  # any positive progress yet (the first sets q)
    infinite = False  # an infinite progress: the mean is infinite
    for step in range(2):
        own_t = 0.0
        own_w = 0.0
        if has_krs and summing:
            if step == 0:
                e = math.frexp(1.0)[1]
                seen = True
                infinite = infinite or math.isinf(prog_sum)
                if prog_sum > 0:
                    q = math.frexp(prog_sum)[1]
                    seen_q = True
            else:
                ws = math.ldexp(1.0, -e)
                own_t += ws
                own_w += ws * math.ldexp(prog_sum, -q)
        elif has_krs:
            for r in range(r_lo, r_hi):
                w = kr_weight[r]
                p = over_progress[r] if replaced and over[r] else kr_progress[r]
                if not w > 0:
                    continue
                if step == 0:
                    fe = math.frexp(w)[1]
                    e = fe if not seen or fe > e else e
                    seen = True
                    infinite = infinite or math.isinf(p)
                    if p > 0:
                        fq = math.frexp(p)[1]
                        q = fq if not seen_q or fq > q else q
                        seen_q = True
                else:
                    ws = math.ldexp(w, -e)
                    own_t += ws
                    own_w += ws * math.ldexp(p, -q)
        kid_t = 0.0
        kid_w = 0.0
        for j in range(c_lo, c_hi):
            c = np.uint64(children[j])
            ok = (obj_error[c] == 0) if scenario == _NOW else valid[c]
            p = progress[c]
            if scenario == _FORECAST and not has_fc[c]:
                p = kid_now[c]
            w = obj_weight[c]
            if not (ok and not math.isnan(p) and w > 0):
                continue
            if step == 0:
                fe = math.frexp(w)[1]
                e = fe if not seen or fe > e else e
                seen = True
                infinite = infinite or math.isinf(p)
                if p > 0:
                    fq = math.frexp(p)[1]
                    q = fq if not seen_q or fq > q else q
                    seen_q = True
            else:
                ws = math.ldexp(w, -e)
                kid_t += ws
                kid_w += ws * math.ldexp(p, -q)
        if step == 1:
            total = (0.0 + own_t) + kid_t
            weighted = (0.0 + own_w) + kid_w
            return math.inf if infinite else math.ldexp(weighted / total, q)
    return math.nan


def _rollup_one(o: int | np.uint64, child_offsets: I64, children: I64, n_kr: int,
                has_krs: bool, is_sum: B, uses: B, total: float, weighted: float,
                raw_sum: float, prog_sum: float, obj_weight: F64, obj_due: I64, pinned: B,
                scenario: int, obj_error: U8, obj_ref: I64, valid: B, kid_now: F64,
                has_fc: B, progress: F64, raw: F64, kr_offsets: I64, kr_weight: F64,
                kr_progress: F64, over: B, over_progress: F64) -> None:
    """The rollup of objective ``o`` from its key result part (see ``engine._rollup``)."""
    nan = np.nan
    if pinned[o]:
        return
    lo = np.uint64(child_offsets[o])
    hi = np.uint64(child_offsets[o + np.uint64(1)])
    uses_children = uses[o]
    first_bad = np.int64(-1)  # the first child with an error (evaluation "now")
    ctot = 0.0
    cw = 0.0
    for j in range(lo, hi):
        c = np.uint64(children[j])
        ok = (obj_error[c] == 0) if scenario == _NOW else valid[c]
        if scenario == _NOW and not ok and first_bad < 0:
            first_bad = np.int64(c)
        p = progress[c]
        if scenario == _FORECAST:
            if not has_fc[c]:
                p = kid_now[c]
            if (ok and not math.isnan(kid_now[c]) and obj_weight[c] > 0 and has_fc[c]
                    and uses_children):
                has_fc[o] = True
        if ok and not math.isnan(p) and obj_weight[c] > 0:
            w = obj_weight[c]
            ctot += w
            cw += w * p
    if first_bad >= 0 and uses_children and (
            obj_error[o] == 0 or obj_error[o] >= _e.ERR_NO_CONTRIBUTING_METRIC):
        obj_error[o] = _e.ERR_DEPENDS_ON_INVALID
        obj_ref[o] = first_bad + n_kr
    summing = is_sum[o]
    own_total = (1.0 if summing else total) if has_krs else 0.0
    own_weighted = (1.0 * prog_sum if summing else weighted) if has_krs else 0.0
    plain_sum = summing & has_krs & ((not uses_children) | (hi == lo))
    mixed_total = own_total + (ctot if uses_children else 0.0)
    numerator = own_weighted + (cw if uses_children else 0.0)
    mixed = numerator / mixed_total
    # (a NaN numerator: an infinite progress of weight 0, which the scalar path skips)
    valid_o = (obj_error[o] == 0) if scenario == _NOW else valid[o]
    if ((not plain_sum) and (math.isinf(mixed_total) or not math.isfinite(numerator))
            and valid_o):
        # weights or progress near 1e308 (rare): okrcore.formulas.rescaled_mean
        mixed = _rescaled_one(o, child_offsets, children, has_krs, summing, prog_sum,
                              uses_children, obj_weight, scenario, obj_error, valid, kid_now,
                              has_fc, progress, kr_offsets, kr_weight, kr_progress, over,
                              over_progress)
    null = (not plain_sum) & (mixed_total == 0)
    mean = nan if null else mixed
    result = prog_sum if plain_sum else mean
    result_raw = raw_sum if plain_sum else mean
    progress[o] = result
    raw[o] = result_raw
    beyond = ((not null) and not math.isfinite(result_raw)) or (
        summing and has_krs and math.isnan(raw_sum))  # (a sum's own raw, even in a mean)
    if scenario == _NOW and obj_error[o] == 0 and beyond:
        obj_error[o] = _e.ERR_NOT_FINITE
    if scenario == _FORECAST:
        good = (obj_due[o] != NONE_INSTANT) & math.isfinite(result) & valid[o]
        has_fc[o] = has_fc[o] & good


# ------------------------------------------------------------------------------------------
# loading
# ------------------------------------------------------------------------------------------


class Kernels(NamedTuple):
    """The compiled kernels (numba dispatchers; compiled on first call, cached on disk)."""

    kr_pass: Any
    group_sums: Any
    logs: Any
    csr_of_sorted: Any
    children: Any
    structure: Any
    kr_post: Any
    obj_aggregates: Any
    history: Any
    kr_front: Any
    people: Any
    obj_tail: Any
    rollup_fused: Any


_kernels: Kernels | None = None
_lock: Final = threading.Lock()


def load() -> Kernels:
    """Import numba and return the kernels (once; later calls return the same object).

    Raises
    ------
    ImportError
        When numba is not installed (or cannot be imported).
    """
    global _kernels, _prange
    with _lock:
        if _kernels is None:
            try:
                import numba
                from numba.extending import register_jitable
            except ImportError as exc:
                raise ImportError(_MESSAGE) from exc
            for helper in _HELPERS:
                register_jitable(helper)
            # The helpers that take arrays are inlined into their kernels (numba IR inlining):
            # a call would pass every array by value and count its references, once per
            # objective, which made the rollup several times slower than its memory traffic.
            for name in _LATE_HELPERS:
                register_jitable(inline="always")(globals()[name])
            # kr_pass reads 14 columns and writes 10: LLVM's loop vectoriser gives up on the
            # run-time alias checks this needs (default limit 128) unless the limit is raised.
            # A process-wide LLVM option; it changes no result, only which loops vectorise.
            llvm = importlib.import_module("llvmlite.binding")
            llvm.set_option("okrcore", f"-vectorize-memory-check-threshold={_MEMORY_CHECKS}")
            _prange = numba.prange
            # The GIL is kept (no ``nogil``): concurrent calls from several Python threads
            # then run one after the other, which every numba threading layer supports.
            options: dict[str, Any] = {
                "parallel": True, "cache": True, "error_model": "numpy", "boundscheck": False,
                "fastmath": False,
            }
            jit: Any = numba.njit
            serial = {**options, "parallel": False}
            _kernels = Kernels(kr_pass=jit(**options)(_kr_pass_impl),
                               group_sums=jit(**options)(_group_sums_impl),
                               logs=jit(**options)(_logs_impl),
                               csr_of_sorted=jit(**options)(_csr_of_sorted_impl),
                               children=jit(**serial)(_children_impl),
                               structure=jit(**options)(_structure_impl),
                               kr_post=jit(**options)(_kr_post_impl),
                               obj_aggregates=jit(**options)(_obj_aggregates_impl),
                               history=jit(**serial)(_history_impl),
                               kr_front=jit(**options)(_kr_front_impl),
                               people=jit(**options)(_people_impl),
                               obj_tail=jit(**options)(_obj_tail_impl),
                               rollup_fused=jit(**options)(_rollup_fused_impl))
        return _kernels


def thread_count() -> int:
    """The threads the parallel kernels run on (``numba.get_num_threads()``)."""
    load()
    import numba

    return int(numba.get_num_threads())


@contextlib.contextmanager
def threads_limited(threads: int | None) -> Iterator[None]:
    """Run the kernels called inside on at most ``threads`` threads (``None``: unchanged).

    numba's thread count is per calling thread; the previous count is restored on exit.  It
    cannot exceed the threads numba launched (``NUMBA_NUM_THREADS``), so larger values are
    capped there.
    """
    if threads is None:
        yield
        return
    load()
    import numba

    config: Any = numba.config  # (its settings are module attributes made at import)
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads, int(config.NUMBA_NUM_THREADS))))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def available() -> bool:
    """Whether the numba kernels can be used (numba is installed and imports)."""
    try:
        load()
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------------------------------
# public entry points
# ------------------------------------------------------------------------------------------


def _check(name: str, array: Any, n: int, dtypes: tuple[Any, ...]) -> None:
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(array).__name__}")
    if array.ndim != 1 or array.shape[0] != n:
        raise ValueError(f"{name} must be one-dimensional with {n} rows, got {array.shape}")
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be contiguous")
    if array.dtype not in dtypes:
        raise TypeError(f"{name} must have dtype {' or '.join(map(str, dtypes))}, "
                        f"got {array.dtype}")


_F: Final = (np.dtype(np.float64),)
_I: Final = (np.dtype(np.int64),)
_U: Final = (np.dtype(np.uint8),)
_S: Final = (np.dtype(np.int8),)
_BOOL: Final = (np.dtype(np.bool_),)


def kr_pass(
        kind: U8, start: F64, target: F64, explicit: F64, log_has: B | F64, log_value: F64,
        range_mode: U8, red_low: F64, yellow_low: F64, yellow_high: F64, red_high: F64,
        obj_start_kr: I64, due_kr: I64, aspirational: B, as_of: int, cap: float, strict: bool,
        tol: float, pace_rule: int, pace_yellow: float, pace_red: float, grade_yellow: float,
        grade_green: float, aspirational_success: float, out_value: F64, out_raw: F64,
        out_progress: F64, out_status: I8, out_expected: F64, out_pace: I8, out_colour: I8,
        out_score: F64, out_band: I8, out_success: B) -> None:
    """The per key result pass of ``evaluate_frame``, fused: write every ``out_*`` row.

    Parameters
    ----------
    kind : uint8 array
        Kind codes.  Raw progress does not depend on the kind (a milestone is
        ``(done - 0) / (total - 0)``, exactly like ``_raw_progress``); the pace of binary and
        simple milestones does (against their due, SEMANTICS §11.2).
    start, target : float64 arrays
        [unit].
    explicit : float64 array
        The explicit current value (``kr_current``); NaN = not given (the start is used).
    log_has : bool or float64 array
        Whether the key result has a check-in at or before ``as_of`` (non-zero = yes).
    log_value : float64 array
        The value of the latest kept check-in; ignored where ``log_has`` is false.
    range_mode : uint8 array
        0 none, 1 band, 2 graded, 3 linear.
    red_low, yellow_low, yellow_high, red_high : float64 arrays
        Breakpoints; NaN = absent.
    obj_start_kr, due_kr : int64 arrays
        The objective's start and the key result's due [µs]; :data:`NONE_INSTANT` = absent.
    aspirational : bool array
        Whether the key result's objective is aspirational.
    as_of : int
        [µs].
    cap : float
        ``Policy.cap``; :data:`UNCAPPED` (``math.inf``) for ``None``.
    strict, tol : bool, float
        ``Policy.strict_breakpoints``, ``Policy.tolerance``.
    pace_rule, pace_yellow, pace_red : int, float, float
        ``pace_rule_code(policy.pace)``, ``policy.pace.yellow``, ``policy.pace.red``.
    grade_yellow, grade_green, aspirational_success : float
        The policy's grade band limits and aspirational success threshold.
    out_value, out_raw, out_progress, out_expected, out_score : float64 arrays
        Written: value, raw progress, clamped progress, expected progress (NaN without a
        timeline), grade score.
    out_status, out_pace, out_colour, out_band : int8 arrays
        Written: range status (-1 without a range), pace colour, colour = worst of the two,
        grade band (0 green, 1 yellow, 2 red).
    out_success : bool array
        Written: grade success.

    Notes
    -----
    Raw progress is computed faithfully on every row, non-finite results included; the
    engine marks those rows ``not_finite`` (and rows with any other error), sets their raw
    progress to 0 and recomputes what depends on it.
    """
    n = int(start.shape[0]) if isinstance(start, np.ndarray) else -1
    for name, array, dtypes in (
            ("kind", kind, _U), ("start", start, _F), ("target", target, _F),
            ("explicit", explicit, _F), ("log_has", log_has, _BOOL + _F),
            ("log_value", log_value, _F), ("range_mode", range_mode, _U),
            ("red_low", red_low, _F), ("yellow_low", yellow_low, _F),
            ("yellow_high", yellow_high, _F), ("red_high", red_high, _F),
            ("obj_start_kr", obj_start_kr, _I), ("due_kr", due_kr, _I),
            ("aspirational", aspirational, _BOOL), ("out_value", out_value, _F),
            ("out_raw", out_raw, _F), ("out_progress", out_progress, _F),
            ("out_status", out_status, _S), ("out_expected", out_expected, _F),
            ("out_pace", out_pace, _S), ("out_colour", out_colour, _S),
            ("out_score", out_score, _F), ("out_band", out_band, _S),
            ("out_success", out_success, _BOOL)):
        _check(name, array, n, dtypes)
    if pace_rule not in range(2 * _BETTER):
        raise ValueError(f"pace_rule must be a pace_rule_code (0 to 5), got {pace_rule!r}")
    load().kr_pass(
        kind, start, target, explicit, log_has, log_value, range_mode, red_low, yellow_low,
        yellow_high, red_high, obj_start_kr, due_kr, aspirational, int(as_of), float(cap),
        bool(strict), float(tol), int(pace_rule), float(pace_yellow), float(pace_red),
        float(grade_yellow), float(grade_green), float(aspirational_success), out_value,
        out_raw, out_progress, out_status, out_expected, out_pace, out_colour, out_score,
        out_band, out_success)


def pace_rule_code(rule: PaceRule) -> int:
    """The ``pace_rule`` code of a pace rule for the kernels: its rule and its boundary."""
    return PACE_RULE_CODES[rule.rule] + (_BETTER if rule.boundary == "better" else 0)


def group_sums(kr_objective: I64, offsets: I64, weight: F64, progress: F64, value: F64,
               sum_mask: B, out_total: F64, out_weighted: F64, out_value: F64) -> None:
    """Per objective: Σ weight, Σ weight·progress and Σ (value where ``sum_mask``), in row order.

    Parameters
    ----------
    kr_objective : int64 array
        The objective of each key result row (rows grouped by objective).  Accepted for the
        interface; the kernel walks ``offsets``, which must be its CSR index.
    offsets : int64 array
        ``m + 1`` entries: the key result rows of objective ``o`` are
        ``offsets[o]:offsets[o + 1]``.
    weight, progress, value : float64 arrays
        Per key result.
    sum_mask : bool array
        Per key result: whether its value counts in its objective's sum.
    out_total, out_weighted, out_value : float64 arrays
        ``m`` entries, written.

    Notes
    -----
    Each sum starts at ``0.0`` and adds its rows left to right (``value`` rows outside the
    mask add ``0.0``), which is exactly ``np.bincount(kr_objective, weights=...)``.
    Objectives are summed in parallel, each one sequentially.
    """
    n = int(weight.shape[0]) if isinstance(weight, np.ndarray) else -1
    m = int(out_total.shape[0]) if isinstance(out_total, np.ndarray) else -1
    for name, array, length, dtypes in (
            ("kr_objective", kr_objective, n, _I), ("offsets", offsets, m + 1, _I),
            ("weight", weight, n, _F), ("progress", progress, n, _F), ("value", value, n, _F),
            ("sum_mask", sum_mask, n, _BOOL), ("out_total", out_total, m, _F),
            ("out_weighted", out_weighted, m, _F), ("out_value", out_value, m, _F)):
        _check(name, array, length, dtypes)
    if int(offsets[0]) != 0 or int(offsets[-1]) != n:
        raise ValueError(f"offsets must run from 0 to {n}")
    load().group_sums(offsets, weight, progress, value, sum_mask, out_total, out_weighted,
                      out_value)


def logs_pass(offsets: I64, log_at: I64, log_value: F64, as_of: int, obj_start_kr: I64,
              due_kr: I64, day: float, *, last_at: I64 | None = None
              ) -> tuple[B, F64, B, F64, I64, F64]:
    """The check-in log pass of ``evaluate_frame`` (``engine._numpy_logs``), fused per key result.

    Parameters
    ----------
    offsets : int64 array
        CSR start of each key result's log rows (``n + 1`` entries); rows sorted by instant.
    log_at, log_value : arrays
        The log [µs], [unit].
    as_of : int
        [µs].
    obj_start_kr, due_kr : int64 arrays
        The objective's start (the forecast period) and the due instant [µs] per key result.
    day : float
        Microseconds per day.
    last_at : int64 array, optional
        Where to write the last instants (``n`` entries); default a new array.

    Returns
    -------
    has_entry, value, has_previous, previous, last_at, forecast : arrays
        As ``engine._numpy_logs``: the as-of value, the previous kept value, the last instant
        and the least-squares value at due, bit for bit.
    """
    n = obj_start_kr.shape[0]
    _check("offsets", offsets, n + 1, _I)
    _check("log_at", log_at, log_at.shape[0], _I)
    _check("log_value", log_value, log_at.shape[0], _F)
    _check("due_kr", due_kr, n, _I)
    if last_at is None:
        last_at = np.empty(n, np.int64)
    _check("last_at", last_at, n, _I)
    outs = (np.empty(n, np.bool_), np.empty(n), np.empty(n, np.bool_), np.empty(n), last_at,
            np.empty(n))
    load().logs(offsets, log_at, log_value, int(as_of), obj_start_kr, due_kr, NONE_INSTANT,
                float(day), *outs)
    return outs
