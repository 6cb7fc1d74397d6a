"""The numpy kernel's element-wise rules over columns (vectorised twins of okrcore.formulas).

Split out of :mod:`okrcore.batch.engine` (issue 18); the engine re-imports every name.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

from okrcore.batch.frame import OrgFrame
from okrcore.codes import (
    COLOUR_GREEN,
    COLOUR_NONE,
    COLOUR_RED,
    COLOUR_YELLOW,
    KIND_BINARY,
    KIND_MILESTONE,
    NONE_INSTANT,
    TREND_PROGRESSED,
    TREND_REGRESSED,
    TREND_STALLED,
)
from okrcore.policy import Policy

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]


# ------------------------------------------------------------------------------------------
# small vectorised twins of okrcore.formulas
# ------------------------------------------------------------------------------------------


def _approx_le(a: Any, b: Any, tol: float) -> Any:
    """Twin of :func:`okrcore.formulas.approx_le`.

    Over columns, with two temporaries reused in place (the same values as
    ``(a <= b) | (|a - b| <= tol * max(|a|, |b|))``: ``*`` and ``max`` commute exactly).
    """
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        return (a <= b) | (np.abs(a - b) <= tol * np.maximum(np.abs(a), np.abs(b)))
    le = np.less_equal(a, b)
    diff = np.subtract(a, b)
    np.abs(diff, out=diff)
    column, other = (a, b) if isinstance(a, np.ndarray) else (b, a)
    bound = np.abs(column)
    np.maximum(bound, np.abs(other), out=bound)
    bound *= tol
    le |= diff <= bound
    return le


def _clamp(raw: F64, cap: float | None, out: F64 | None = None) -> F64:
    """Twin of :func:`okrcore.formulas.clamp` (``-0.0`` becomes ``0.0``), into ``out`` if given."""
    # fmax turns NaN and negatives into 0.0; adding 0.0 turns its possible -0.0 into 0.0
    low: F64 = np.fmax(raw, 0.0, out=out)
    low += 0.0
    if cap is not None:
        np.minimum(low, cap, out=low)
    return low


def _safe_div(num: F64, den: F64) -> F64:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _halve_overflows(num: F64, den: F64, value: Any, start: Any, target: Any) -> None:
    """Where ``value - start`` or ``target - start`` overflowed: both on halved values.

    Twin of :func:`okrcore.formulas.metric_raw_progress` (in place; ``value``, ``start`` and
    ``target`` are the columns the differences came from).
    """
    big = np.flatnonzero(np.isinf(num) | np.isinf(den))
    if big.shape[0]:
        v, s, t = (np.broadcast_to(np.asarray(a, dtype=np.float64), num.shape)[big]
                   for a in (value, start, target))
        num[big] = v * 0.5 - s * 0.5
        den[big] = t * 0.5 - s * 0.5


def _raw_progress(frame: OrgFrame, value: F64, strict: bool, rows: Any = slice(None)) -> F64:
    """Raw progress of key results ``rows`` at ``value`` (twin of key_result_progress)."""
    start = frame.kr_start[rows]
    target = frame.kr_target[rows]
    mode = frame.kr_range_mode[rows]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        raw = np.subtract(value, start)
        span = target - start
        _halve_overflows(raw, span, value, start, target)
        raw /= span
    ranged = np.flatnonzero((mode == 1) | (mode == 2))
    if ranged.shape[0]:
        # only the few range rows pay for the band and graded formulas
        idx = _row_index(rows, ranged)
        v = value[ranged]
        red_low = frame.kr_red_low[idx]
        red_high = frame.kr_red_high[idx]
        hit = _hits_low(v, red_low, strict) | _hits_high(v, red_high, strict)
        graded = _graded(v, frame.kr_target[idx], red_low, frame.kr_yellow_low[idx],
                         frame.kr_yellow_high[idx], red_high)
        raw[ranged] = np.where(mode[ranged] == 1, np.where(hit, 0.0, 1.0), graded)
    return np.asarray(raw, dtype=np.float64)


def _row_index(rows: Any, picked: I64) -> I64:
    """The frame rows of positions ``picked`` of ``rows`` (a slice of step 1, or row indices)."""
    if isinstance(rows, slice):
        return picked + rows.start if rows.start else picked
    return np.asarray(np.asarray(rows)[picked], dtype=np.int64)


def _hits_low(value: F64, limit: F64, strict: bool) -> B:
    # a comparison with an absent (NaN) limit is False: no limit is never hit
    return np.asarray(value < limit if strict else value <= limit)


def _hits_high(value: F64, limit: F64, strict: bool) -> B:
    return np.asarray(value > limit if strict else value >= limit)


def _graded(value: F64, target: F64, red_low: F64, yellow_low: F64, yellow_high: F64,
            red_high: F64) -> F64:
    """Twin of :func:`okrcore.formulas.graded_range_progress`."""
    high_yellow = np.where(np.isnan(yellow_high), target, yellow_high)
    low_yellow = np.where(np.isnan(yellow_low), target, yellow_low)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        up = np.minimum(np.maximum((red_high - value) / (red_high - high_yellow), 0.0), 1.0)
        down = np.minimum(np.maximum((value - red_low) / (low_yellow - red_low), 0.0), 1.0)
    above = ~np.isnan(red_high) & (value > high_yellow)
    below = ~above & ~np.isnan(red_low) & (value < low_yellow)
    result = np.ones(value.shape)
    result = np.where(above, np.where(value >= red_high, 0.0, up), result)
    result = np.where(below, np.where(value <= red_low, 0.0, down), result)
    return np.asarray(result, dtype=np.float64)


def _range_status(frame: OrgFrame, value: F64, strict: bool, rows: Any = slice(None)) -> I8:
    """Twin of :func:`okrcore.formulas.range_status`; COLOUR_NONE where there is no range."""
    mode = frame.kr_range_mode[rows]
    status = np.full(mode.shape, COLOUR_NONE, dtype=np.int8)
    # only the range rows are compared with their limits
    ranged = np.flatnonzero(mode > 0)
    idx = _row_index(rows, ranged)
    v = value[ranged]
    red = (_hits_low(v, frame.kr_red_low[idx], strict)
           | _hits_high(v, frame.kr_red_high[idx], strict))
    yellow = (_hits_low(v, frame.kr_yellow_low[idx], strict)
              | _hits_high(v, frame.kr_yellow_high[idx], strict))
    found = np.zeros(ranged.shape, dtype=np.int8)  # COLOUR_GREEN
    found[yellow] = COLOUR_YELLOW
    found[red] = COLOUR_RED
    status[ranged] = found
    return status


RANGE_LIMITS: Final = ("red_low", "red_high", "yellow_low", "yellow_high")
"""The names of the codes :func:`_range_limit` returns (-1: no limit hit)."""


def _range_limit(frame: OrgFrame, value: F64, strict: bool, rows: Any = slice(None)) -> I8:
    """Twin of :func:`okrcore.formulas.range_limit`: the index in :data:`RANGE_LIMITS`, or -1.

    -1 also where there is no range.  The first limit hit in the order of :data:`RANGE_LIMITS`
    wins, as in the scalar rule.
    """
    mode = frame.kr_range_mode[rows]
    code = np.full(mode.shape, -1, dtype=np.int8)
    ranged = np.flatnonzero(mode > 0)
    idx = _row_index(rows, ranged)
    v = value[ranged]
    hits = [_hits_low(v, frame.kr_red_low[idx], strict),
            _hits_high(v, frame.kr_red_high[idx], strict),
            _hits_low(v, frame.kr_yellow_low[idx], strict),
            _hits_high(v, frame.kr_yellow_high[idx], strict)]
    code[ranged] = np.select(hits, [0, 1, 2, 3], -1).astype(np.int8)
    return code


def _pace_conditions(progress: F64, expected: F64, policy: Policy) -> tuple[B, ...]:
    """complete, not_started, on_pace, behind red, behind yellow (see :func:`_pace`)."""
    tol = policy.tolerance
    rule = policy.pace

    def behind(threshold: float) -> B:
        if rule.rule == "ratio":
            bound = threshold * expected
        elif rule.rule == "difference":
            bound = expected + threshold
        else:
            bound = expected - threshold / 100.0
        if rule.boundary == "better":
            # strictly behind, beyond the tolerance (SEMANTICS §11.4)
            return np.asarray(~np.asarray(_approx_le(bound, progress, tol)))
        return np.asarray(_approx_le(progress, bound, tol))

    return (np.asarray(_approx_le(1.0, progress, tol)), np.asarray(expected <= 0),
            np.asarray(_approx_le(expected, progress, tol)), behind(rule.red),
            behind(rule.yellow))


def _pace_colour(progress: F64, expected: F64, policy: Policy) -> I8:
    """The colour codes of :func:`_pace` alone, without its reasons (cheaper)."""
    complete, not_started, on_pace, red, yellow = _pace_conditions(progress, expected, policy)
    # green when complete, not started or on pace; else red, yellow, or green (ahead)
    colour = red.astype(np.int8)
    colour *= COLOUR_RED
    yellow &= ~red
    colour += yellow
    complete |= not_started
    complete |= on_pace
    colour[complete] = COLOUR_GREEN
    return colour


def _pace(progress: F64, expected: F64, policy: Policy) -> tuple[I8, npt.NDArray[np.uint8]]:
    """Twin of :func:`okrcore.formulas.pace_colour`: colour codes and reason codes.

    Reasons: 0 complete, 1 not_started, 2 on_pace, 3 red, 4 yellow, 5 ahead_of_yellow.
    NaN expected (no timeline) is treated by the caller.
    """
    complete, not_started, on_pace, red, yellow = _pace_conditions(progress, expected, policy)
    reason = np.select([complete, not_started, on_pace, red, yellow], [0, 1, 2, 3, 4], 5)
    return _pace_colour(progress, expected, policy), reason.astype(np.uint8)


def _kr_pace(kind: npt.NDArray[np.uint8], value: F64, progress: F64, expected: F64, due: I64,
             as_of: int, policy: Policy) -> I8:
    """Key results' pace colour codes (twin of :func:`okrcore.evaluate.kr_pace`).

    ``expected`` NaN (no timeline) gives COLOUR_NONE; binary and simple milestones are
    paced against ``due`` (their own, else the objective's): green when done, else none
    without a due, green before it and red from it on (SEMANTICS §11.1, §11.2).
    """
    no_timeline = np.isnan(expected)
    colour = _pace_colour(progress, np.where(no_timeline, 0.0, expected), policy)
    colour[no_timeline] = COLOUR_NONE
    done_or_not = np.flatnonzero((kind == KIND_BINARY) | (kind == KIND_MILESTONE))
    if done_or_not.shape[0]:
        d = due[done_or_not]
        by_due = np.where(d == NONE_INSTANT, COLOUR_NONE,
                          np.where(as_of < d, COLOUR_GREEN, COLOUR_RED))
        colour[done_or_not] = np.where(value[done_or_not] != 0.0, COLOUR_GREEN, by_due)
    return colour


def _expected(as_of: int | I64, start: I64, due: I64) -> F64:
    """Twin of :func:`okrcore.formulas.expected_progress`; NaN without a timeline."""
    has = np.not_equal(start, NONE_INSTANT)
    has &= due != NONE_INSTANT
    # computed on every row (the int64 differences of rows without a timeline wrap harmlessly
    # and are replaced by NaN), in place
    value = np.subtract(as_of, start).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        value /= np.subtract(due, start).astype(np.float64)
    np.maximum(value, 0.0, out=value)
    np.minimum(value, 1.0, out=value)
    value[~has] = np.nan
    return value


def _trend(previous: F64, current: F64, tol: float) -> I8:
    same = np.abs(current - previous) <= tol * np.maximum(np.abs(current), np.abs(previous))
    return np.where(same, TREND_STALLED,
                    np.where(current > previous, TREND_PROGRESSED, TREND_REGRESSED)
                    ).astype(np.int8)


def _grade(progress: F64, aspirational: B, policy: Policy) -> tuple[F64, I8, B]:
    tol = policy.tolerance
    # floor(10 * min(p, 1) + 0.5 + tol) / 10, in place, in the same order
    score = np.minimum(progress, 1.0)
    score *= 10
    score += 0.5
    score += tol
    np.floor(score, out=score)
    score /= 10
    band = np.full(score.shape, COLOUR_GREEN, dtype=np.int8)
    band[score < policy.grade_green] = COLOUR_YELLOW
    band[score < policy.grade_yellow] = COLOUR_RED
    threshold = np.where(aspirational, policy.aspirational_success, 1.0)
    success = _approx_le(threshold, progress, tol)
    return score, band, np.asarray(success)


def _worst(*colours: I8) -> I8:
    """Worst colour code; COLOUR_NONE (-1) is ignored by ``max``."""
    result = colours[0]
    for colour in colours[1:]:
        result = np.maximum(result, colour)
    return result.astype(np.int8, copy=False)
