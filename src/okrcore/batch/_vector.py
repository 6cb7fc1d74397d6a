"""The numpy kernel's element-wise steps over columns: :mod:`okrcore.batch.rules` on numpy.

Split out of :mod:`okrcore.batch.engine` (issue 18); the engine re-imports every name.  Each
function here adapts the engine's columns (a frame's rows, a policy) to a rule of
:mod:`okrcore.batch.rules` and calls it; none computes a rule itself (``tests/test_rules.py``
fails if one does).  Where a rule only matters on a few rows (the range rows of raw progress
and range status) the rule is called on those rows alone, gathered, and the other rows take
the value the rule gives them by its own definition (the plain ratio, no range); a test checks
that these functions equal the rule evaluated on every row.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from okrcore.batch import rules
from okrcore.batch.frame import OrgFrame
from okrcore.codes import COLOUR_NONE
from okrcore.policy import Policy

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]

RANGE_LIMITS: Final = rules.RANGE_LIMITS
"""The names of the codes :func:`_range_limit` returns (-1: no limit hit)."""


def _quiet() -> Any:
    """Numpy's floating point warnings off (the rules divide by zero and overflow on purpose)."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


def _pace_args(policy: Policy) -> tuple[float, int, float, float]:
    """The pace rule parameters of :func:`rules.pace_colour` from a policy."""
    rule = policy.pace
    return policy.tolerance, rules.pace_rule_code(rule), rule.yellow, rule.red


def _approx_le(a: Any, b: Any, tol: float) -> Any:
    """:func:`rules.approx_le` (twin of :func:`okrcore.formulas.approx_le`)."""
    with _quiet():
        return rules.approx_le(a, b, tol)


def _clamp(raw: F64, cap: float | None, out: F64 | None = None) -> F64:
    """:func:`rules.clamp` (``-0.0`` becomes ``0.0``), into ``out`` if given."""
    result = rules.clamp(raw, math.inf if cap is None else cap)
    if out is None:
        return np.asarray(result, dtype=np.float64)
    out[...] = result
    return out


def _safe_div(num: F64, den: F64) -> F64:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _ratio(value: Any, start: Any, target: Any) -> F64:
    """:func:`rules.ratio_progress` over columns.

    The whole ratio on every row, then the rule itself on the rows where a difference
    overflows (elsewhere the rule is the whole ratio).
    """
    with _quiet():
        raw = np.asarray(rules.whole_ratio(value, start, target), dtype=np.float64)
        big = np.flatnonzero(rules.overflows(value, start, target))
        if big.shape[0]:
            v, s, t = (np.broadcast_to(np.asarray(a, dtype=np.float64), raw.shape)[big]
                       for a in (value, start, target))
            raw[big] = rules.ratio_progress(v, s, t)
    return raw


def _halve_overflows(num: F64, den: F64, value: Any, start: Any, target: Any) -> None:
    """Where ``value - start`` or ``target - start`` overflowed: ``num / den`` becomes the ratio.

    In place, for a caller that divides ``num`` by ``den`` next: on those rows ``num`` becomes
    :func:`rules.ratio_progress` (on halved values) and ``den`` 1.0 (an exact division).
    """
    big = np.flatnonzero(np.isinf(num) | np.isinf(den))
    if big.shape[0]:
        v, s, t = (np.broadcast_to(np.asarray(a, dtype=np.float64), num.shape)[big]
                   for a in (value, start, target))
        num[big] = _ratio(v, s, t)
        den[big] = 1.0


def _raw_progress(frame: OrgFrame, value: F64, strict: bool, rows: Any = slice(None)) -> F64:
    """:func:`rules.raw_progress` of key results ``rows`` at ``value``.

    The plain ratio on every row, then the rule itself on the range rows alone (their band and
    graded progress): on the other rows the rule is the plain ratio.
    """
    start = frame.kr_start[rows]
    target = frame.kr_target[rows]
    mode = frame.kr_range_mode[rows]
    raw = _ratio(value, start, target)
    ranged = np.flatnonzero(rules.uses_range_progress(mode))
    if ranged.shape[0]:
        idx = _row_index(rows, ranged)
        with _quiet():
            raw[ranged] = rules.raw_progress(
                value[ranged], start[ranged], target[ranged], mode[ranged],
                frame.kr_red_low[idx], frame.kr_yellow_low[idx], frame.kr_yellow_high[idx],
                frame.kr_red_high[idx], strict)
    return raw


def _row_index(rows: Any, picked: I64) -> I64:
    """The frame rows of positions ``picked`` of ``rows`` (a slice of step 1, or row indices)."""
    if isinstance(rows, slice):
        return picked + rows.start if rows.start else picked
    return np.asarray(np.asarray(rows)[picked], dtype=np.int64)


def _hits_low(value: F64, limit: F64, strict: bool) -> B:
    """:func:`rules.hits_low`."""
    return np.asarray(rules.hits_low(value, limit, strict))


def _hits_high(value: F64, limit: F64, strict: bool) -> B:
    """:func:`rules.hits_high`."""
    return np.asarray(rules.hits_high(value, limit, strict))


def _graded(value: F64, target: F64, red_low: F64, yellow_low: F64, yellow_high: F64,
            red_high: F64) -> F64:
    """:func:`rules.graded_progress`."""
    with _quiet():
        return np.asarray(rules.graded_progress(value, target, red_low, yellow_low,
                                                yellow_high, red_high), dtype=np.float64)


def _on_ranges(rule: Any, frame: OrgFrame, value: F64, strict: bool, rows: Any,
               absent: int) -> I8:
    """``rule`` (range status or range limit) on the range rows; ``absent`` elsewhere."""
    mode = frame.kr_range_mode[rows]
    out = np.full(mode.shape, absent, dtype=np.int8)
    ranged = np.flatnonzero(rules.has_range(mode))
    idx = _row_index(rows, ranged)
    out[ranged] = rule(value[ranged], mode[ranged], frame.kr_red_low[idx],
                       frame.kr_yellow_low[idx], frame.kr_yellow_high[idx],
                       frame.kr_red_high[idx], strict)
    return out


def _range_status(frame: OrgFrame, value: F64, strict: bool, rows: Any = slice(None)) -> I8:
    """:func:`rules.range_status` of key results ``rows`` (COLOUR_NONE without a range)."""
    return _on_ranges(rules.range_status, frame, value, strict, rows, COLOUR_NONE)


def _range_limit(frame: OrgFrame, value: F64, strict: bool, rows: Any = slice(None)) -> I8:
    """:func:`rules.range_limit`: the index in :data:`RANGE_LIMITS`, or -1.

    -1 also where there is no range.  The first limit hit in the order of :data:`RANGE_LIMITS`
    wins, as in the scalar rule.
    """
    return _on_ranges(rules.range_limit, frame, value, strict, rows, -1)


def _pace_conditions(progress: F64, expected: F64, policy: Policy) -> tuple[B, ...]:
    """complete, not_started, on_pace, behind red, behind yellow (:func:`rules.pace_conditions`)."""
    with _quiet():
        found = rules.pace_conditions(progress, expected, *_pace_args(policy))
    return tuple(np.asarray(c) for c in found)


def _pace_colour(progress: F64, expected: F64, policy: Policy) -> I8:
    """:func:`rules.pace_colour` (the colour codes of :func:`_pace`, without its reasons)."""
    with _quiet():
        colour = rules.pace_colour(progress, expected, *_pace_args(policy))
    return np.asarray(colour).astype(np.int8, copy=False)


def _pace(progress: F64, expected: F64, policy: Policy) -> tuple[I8, npt.NDArray[np.uint8]]:
    """Colour codes and reason codes (:func:`rules.pace_colour`, :func:`rules.pace_reason`).

    Reasons: 0 complete, 1 not_started, 2 on_pace, 3 red, 4 yellow, 5 ahead_of_yellow.
    NaN expected (no timeline) is treated by the caller.
    """
    with _quiet():
        reason = rules.pace_reason(progress, expected, *_pace_args(policy))
    return _pace_colour(progress, expected, policy), np.asarray(reason).astype(np.uint8)


def _kr_pace(kind: npt.NDArray[np.uint8], value: F64, progress: F64, expected: F64, due: I64,
             as_of: int, policy: Policy) -> I8:
    """Key results' pace colour codes (:func:`rules.kr_pace`).

    ``expected`` NaN (no timeline) gives COLOUR_NONE; binary and simple milestones are
    paced against ``due`` (their own, else the objective's): green when done, else none
    without a due, green before it and red from it on (SEMANTICS §11.1, §11.2).  The
    timeline pace on every row, then the rule itself on the done-or-not rows (elsewhere the
    rule is the timeline pace).
    """
    args = _pace_args(policy)
    with _quiet():
        colour = np.asarray(rules.timeline_pace(progress, expected, *args)).astype(
            np.int8, copy=False)
        rows = np.flatnonzero(rules.is_done_or_not(kind))
        if rows.shape[0]:
            colour[rows] = rules.kr_pace(kind[rows], value[rows], progress[rows],
                                         expected[rows], due[rows], as_of, *args)
    return colour


def _expected(as_of: int | I64, start: I64, due: I64) -> F64:
    """:func:`rules.expected_progress`; NaN without a timeline.

    Computed on every row (the int64 differences of rows without a timeline wrap harmlessly
    and are replaced by NaN).
    """
    with _quiet():
        return np.asarray(rules.expected_progress(as_of, start, due), dtype=np.float64)


def _trend(previous: F64, current: F64, tol: float) -> I8:
    """:func:`rules.trend`."""
    with _quiet():
        return np.asarray(rules.trend(previous, current, tol)).astype(np.int8, copy=False)


def _stale(progress: F64, tol: float, logged: B, last_at: I64, start: I64, as_of: int,
           window: float) -> B:
    """:func:`rules.is_stale` of key results with a check-in log."""
    return np.asarray(rules.is_stale(progress, tol, logged, last_at, start, as_of, window))


def _grade(progress: F64, aspirational: B, policy: Policy) -> tuple[F64, I8, B]:
    """:func:`rules.grade`: score, band and success."""
    with _quiet():
        score, band, success = rules.grade(progress, aspirational, policy.tolerance,
                                           policy.grade_yellow, policy.grade_green,
                                           policy.aspirational_success)
    return (np.asarray(score, dtype=np.float64), np.asarray(band).astype(np.int8, copy=False),
            np.asarray(success))


def _worst(*colours: I8) -> I8:
    """Worst colour code (:func:`rules.worst_colour`); COLOUR_NONE (-1) loses to any colour."""
    result = colours[0]
    for colour in colours[1:]:
        result = rules.worst_colour(result, colour)
    return np.asarray(result).astype(np.int8, copy=False)
