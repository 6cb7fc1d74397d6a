"""The element-wise rules of the batch engine, written once for both kernels.

Each function below is one rule of SEMANTICS (the scalar reference is :mod:`okrcore.formulas`,
which stays independent; the differential tests compare the two).  A rule is written against
a small layer of operations, the module global ``ops``, so that the same code runs on numpy
columns and on one row inside a numba loop:

* arithmetic (``+ - * /``, ``abs``) and comparisons are native to both (numpy reuses the
  temporaries of operators in place, so a rule prefers them to function calls);
* ``&``, ``|`` combine conditions (bool arrays, or bools); ``ops.not_`` negates one;
* ``ops.where`` selects (both alternatives are evaluated: no data-dependent branch);
* ``ops.maximum`` / ``ops.minimum`` follow numpy (NaN propagates, the second of two equal
  values), ``ops.fmax`` (NaN-ignoring), ``ops.isnan``, ``ops.isinf``,
  ``ops.floor``, ``ops.to_float``; ``ops.maximum_``, ``ops.minimum_``, ``ops.floor_`` may write
  into an argument: their array arguments must be temporaries of the rule (numpy reuses them);
* a Python ``if`` only on scalar parameters (``strict``, the pace ``rule`` code), which are
  scalars in both kernels.

The mechanism: in this module ``ops`` is :mod:`okrcore.batch._ops` (numpy), and the numpy
kernel (:mod:`okrcore.batch._vector`) calls these functions as they are.  For numba,
:func:`instantiate` builds a second instance of the *same code objects*
(``types.FunctionType(rule.__code__, globals')``) whose globals bind ``ops`` to
:mod:`okrcore.batch._ops_numba` (scalar twins that follow numpy's NaN and signed-zero rules)
and each rule name to its own clone; :func:`okrcore.batch._numba.load` registers every clone
with ``numba.extending.register_jitable(inline="always")``, so the kernels inline them at the
numba IR level (a call that LLVM does not inline stops the loop vectoriser).  Both kernels
therefore execute one definition of each rule; ``tests/test_rules.py`` checks that the numba
clones share the code objects of this module and that no other module of ``okrcore.batch``
contains a sub-expression of a rule (a reimplementation).

The rules (:data:`RULES`): key result raw progress per kind and range mode
(:func:`ratio_progress` with the overflow halving: :func:`overflows`, :func:`whole_ratio`,
:func:`halved_ratio`; :func:`band_progress`, :func:`graded_progress`, dispatched by
:func:`raw_progress`), :func:`clamp`, :func:`range_status` and :func:`range_limit`,
:func:`expected_progress`, the pace colour per rule and boundary (:func:`pace_bound`,
:func:`behind`, :func:`pace_conditions`, :func:`pace_colour`, :func:`pace_reason`), the
done-or-not pace of binary and simple milestones by their due (:func:`due_colour`,
:func:`timeline_pace`, :func:`kr_pace`), the grade (:func:`grade_score`, :func:`grade_band`,
:func:`grade_success`), :func:`trend`, :func:`is_stale`, and the helpers they share
(:func:`approx_le`, :func:`hits_low`, :func:`hits_high`, :func:`worst_colour`).

Integer results are the codes of :mod:`okrcore.codes` (numpy: int64 arrays, which the callers
narrow).  Instants are int64 microseconds, :data:`~okrcore.codes.NONE_INSTANT` for "absent".
"""

from __future__ import annotations

import math
import types
from typing import Any, Final

from okrcore.batch import _ops as ops
from okrcore.codes import (
    COLOUR_GREEN,
    COLOUR_NONE,
    COLOUR_RED,
    COLOUR_YELLOW,
    KIND_BINARY,
    KIND_MILESTONE,
    NONE_INSTANT,
    RANGE_MODE_CODES,
    TREND_PROGRESSED,
    TREND_REGRESSED,
    TREND_STALLED,
)
from okrcore.codes import PACE_BETTER as PACE_BETTER
from okrcore.codes import PACE_RULE_CODES as PACE_RULE_CODES
from okrcore.policy import PaceRule

__all__ = [
    "PACE_BETTER",
    "PACE_RULE_CODES",
    "RANGE_LIMITS",
    "RULES",
    "approx_le",
    "band_progress",
    "behind",
    "clamp",
    "due_colour",
    "expected_progress",
    "grade",
    "grade_band",
    "grade_score",
    "grade_success",
    "graded_progress",
    "halved_ratio",
    "has_range",
    "hits_high",
    "hits_low",
    "instantiate",
    "is_done_or_not",
    "is_stale",
    "kr_pace",
    "overflows",
    "pace_bound",
    "pace_colour",
    "pace_conditions",
    "pace_reason",
    "pace_rule_code",
    "range_limit",
    "range_status",
    "ratio_progress",
    "raw_progress",
    "timeline_pace",
    "trend",
    "uses_range_progress",
    "whole_ratio",
    "worst_colour",
]

RANGE_LIMITS: Final = ("red_low", "red_high", "yellow_low", "yellow_high")
"""The names of the codes :func:`range_limit` returns (-1: no limit hit)."""

_RATIO: Final = PACE_RULE_CODES["ratio"]
_DIFFERENCE: Final = PACE_RULE_CODES["difference"]
_BAND: Final = RANGE_MODE_CODES["band"]
_GRADED: Final = RANGE_MODE_CODES["graded"]
_NAN: Final = math.nan


def pace_rule_code(rule: PaceRule) -> int:
    """The ``rule`` code of a pace rule for the rules below: its rule and its boundary."""
    return PACE_RULE_CODES[rule.rule] + (PACE_BETTER if rule.boundary == "better" else 0)


# ------------------------------------------------------------------------------------------
# comparisons
# ------------------------------------------------------------------------------------------


def approx_le(a: Any, b: Any, tol: Any) -> Any:
    """``a <= b`` up to the relative tolerance ``tol`` (formulas.approx_le)."""
    return (a <= b) | (abs(a - b) <= tol * ops.maximum_(abs(a), abs(b)))


def hits_low(value: Any, limit: Any, strict: bool) -> Any:
    """Whether ``value`` reaches a lower limit (an absent, NaN, limit is never hit)."""
    if strict:
        return value < limit
    return value <= limit


def hits_high(value: Any, limit: Any, strict: bool) -> Any:
    """Whether ``value`` reaches an upper limit (an absent, NaN, limit is never hit)."""
    if strict:
        return value > limit
    return value >= limit


def worst_colour(a: Any, b: Any) -> Any:
    """The worse of two colour codes (COLOUR_NONE, -1, loses to every colour)."""
    return ops.where(a > b, a, b)


# ------------------------------------------------------------------------------------------
# key result progress
# ------------------------------------------------------------------------------------------


def overflows(value: Any, start: Any, target: Any) -> Any:
    """Whether ``value - start`` or ``target - start`` overflows (to an infinity)."""
    return ops.isinf(value - start) | ops.isinf(target - start)


def whole_ratio(value: Any, start: Any, target: Any) -> Any:
    """``(value - start) / (target - start)``."""
    return (value - start) / (target - start)


def halved_ratio(value: Any, start: Any, target: Any) -> Any:
    """The ratio of halved differences (where a whole one overflows)."""
    return (value * 0.5 - start * 0.5) / (target * 0.5 - start * 0.5)


def ratio_progress(value: Any, start: Any, target: Any) -> Any:
    """``(value - start) / (target - start)``; on halved values where a difference overflows.

    formulas.metric_raw_progress (a milestone's ``(done - 0) / (total - 0)`` is the same).
    """
    return ops.where(overflows(value, start, target), halved_ratio(value, start, target),
                     whole_ratio(value, start, target))


def band_progress(value: Any, red_low: Any, red_high: Any, strict: bool) -> Any:
    """1 inside the red limits, 0 on or beyond one (formulas.band_progress)."""
    red = hits_low(value, red_low, strict) | hits_high(value, red_high, strict)
    return ops.where(red, 0.0, 1.0)


def graded_progress(value: Any, target: Any, red_low: Any, yellow_low: Any, yellow_high: Any,
                    red_high: Any) -> Any:
    """Linear decline from the yellow to the red limits (formulas.graded_range_progress)."""
    high_yellow = ops.where(ops.isnan(yellow_high), target, yellow_high)
    low_yellow = ops.where(ops.isnan(yellow_low), target, yellow_low)
    up = ops.minimum_(ops.maximum_((red_high - value) / (red_high - high_yellow), 0.0), 1.0)
    down = ops.minimum_(ops.maximum_((value - red_low) / (low_yellow - red_low), 0.0), 1.0)
    above = ops.not_(ops.isnan(red_high)) & (value > high_yellow)
    below = ops.not_(above | ops.isnan(red_low)) & (value < low_yellow)
    result = ops.where(above, ops.where(value >= red_high, 0.0, up), 1.0)
    return ops.where(below, ops.where(value <= red_low, 0.0, down), result)


def uses_range_progress(mode: Any) -> Any:
    """Whether range mode ``mode`` takes its progress from the range (band or graded)."""
    return (mode == _BAND) | (mode == _GRADED)


def raw_progress(value: Any, start: Any, target: Any, mode: Any, red_low: Any,
                 yellow_low: Any, yellow_high: Any, red_high: Any, strict: bool) -> Any:
    """Raw progress by range mode: band, graded, else the plain ratio (key_result_progress)."""
    ranged = ops.where(mode == _BAND, band_progress(value, red_low, red_high, strict),
                       graded_progress(value, target, red_low, yellow_low, yellow_high,
                                       red_high))
    return ops.where(uses_range_progress(mode), ranged, ratio_progress(value, start, target))


def clamp(raw: Any, cap: Any) -> Any:
    """``min(max(raw, 0), cap)``; NaN and -0.0 become 0.0 (``cap`` +inf: uncapped)."""
    # fmax turns NaN and negatives into 0.0; adding 0.0 turns its possible -0.0 into 0.0
    return ops.minimum_(ops.fmax(raw, 0.0) + 0.0, cap)


# ------------------------------------------------------------------------------------------
# ranges
# ------------------------------------------------------------------------------------------


def has_range(mode: Any) -> Any:
    """Whether range mode ``mode`` has breakpoints (any mode but none)."""
    return mode > 0


def range_status(value: Any, mode: Any, red_low: Any, yellow_low: Any, yellow_high: Any,
                 red_high: Any, strict: bool) -> Any:
    """The breakpoint colour code; COLOUR_NONE without a range (formulas.range_status)."""
    red = hits_low(value, red_low, strict) | hits_high(value, red_high, strict)
    yellow = hits_low(value, yellow_low, strict) | hits_high(value, yellow_high, strict)
    status = ops.where(red, COLOUR_RED, ops.where(yellow, COLOUR_YELLOW, COLOUR_GREEN))
    return ops.where(has_range(mode), status, COLOUR_NONE)


def range_limit(value: Any, mode: Any, red_low: Any, yellow_low: Any, yellow_high: Any,
                red_high: Any, strict: bool) -> Any:
    """The first limit hit, an index in :data:`RANGE_LIMITS`; -1 for none (formulas.range_limit)."""
    code = ops.where(hits_high(value, yellow_high, strict), 3, -1)
    code = ops.where(hits_low(value, yellow_low, strict), 2, code)
    code = ops.where(hits_high(value, red_high, strict), 1, code)
    code = ops.where(hits_low(value, red_low, strict), 0, code)
    return ops.where(has_range(mode), code, -1)


# ------------------------------------------------------------------------------------------
# pace
# ------------------------------------------------------------------------------------------


def expected_progress(as_of: Any, start: Any, due: Any) -> Any:
    """``min(max((as_of - start) / (due - start), 0), 1)``; NaN without a timeline."""
    value = ops.minimum_(ops.maximum_(ops.to_float(as_of - start) / ops.to_float(due - start),
                                    0.0), 1.0)
    return ops.where((start != NONE_INSTANT) & (due != NONE_INSTANT), value, _NAN)


def pace_bound(expected: Any, rule: int, threshold: float) -> Any:
    """The progress at which a goal is behind by ``threshold`` under pace rule ``rule``."""
    base = rule % PACE_BETTER
    if base == _RATIO:
        return threshold * expected
    if base == _DIFFERENCE:
        return expected + threshold
    return expected - threshold / 100.0


def behind(progress: Any, bound: Any, tol: Any, rule: int) -> Any:
    """``progress <= bound``; strictly below, beyond the tolerance, for the better boundary."""
    if rule >= PACE_BETTER:
        return ops.not_(approx_le(bound, progress, tol))
    return approx_le(progress, bound, tol)


def pace_conditions(progress: Any, expected: Any, tol: Any, rule: int, yellow: float,
                    red: float) -> Any:
    """complete, not started, on pace, behind red, behind yellow (formulas.pace_colour)."""
    return (approx_le(1.0, progress, tol), expected <= 0, approx_le(expected, progress, tol),
            behind(progress, pace_bound(expected, rule, red), tol, rule),
            behind(progress, pace_bound(expected, rule, yellow), tol, rule))


def pace_colour(progress: Any, expected: Any, tol: Any, rule: int, yellow: float,
                red: float) -> Any:
    """The pace colour code: green when complete, not started or on pace (or NaN expected)."""
    complete, not_started, on_pace, behind_red, behind_yellow = pace_conditions(
        progress, expected, tol, rule, yellow, red)
    green = complete | not_started | on_pace | ops.isnan(expected)
    colour = ops.where(behind_red, COLOUR_RED,
                       ops.where(behind_yellow, COLOUR_YELLOW, COLOUR_GREEN))
    return ops.where(green, COLOUR_GREEN, colour)


def pace_reason(progress: Any, expected: Any, tol: Any, rule: int, yellow: float,
                red: float) -> Any:
    """The reason code of the pace colour.

    0 complete, 1 not started, 2 on pace, 3 red, 4 yellow, 5 ahead of yellow.
    """
    complete, not_started, on_pace, behind_red, behind_yellow = pace_conditions(
        progress, expected, tol, rule, yellow, red)
    reason = ops.where(behind_red, 3, ops.where(behind_yellow, 4, 5))
    reason = ops.where(on_pace, 2, reason)
    reason = ops.where(not_started, 1, reason)
    return ops.where(complete, 0, reason)


def is_done_or_not(kind: Any) -> Any:
    """Whether key result kind ``kind`` is paced by its due (binary, simple milestone)."""
    return (kind == KIND_BINARY) | (kind == KIND_MILESTONE)


def due_colour(value: Any, due: Any, as_of: Any) -> Any:
    """Done: green; else none without a due, green before it, red from it on (§11.2)."""
    by_due = ops.where(due == NONE_INSTANT, COLOUR_NONE,
                       ops.where(as_of < due, COLOUR_GREEN, COLOUR_RED))
    return ops.where(value != 0.0, COLOUR_GREEN, by_due)


def timeline_pace(progress: Any, expected: Any, tol: Any, rule: int, yellow: float,
                  red: float) -> Any:
    """The pace colour code on a timeline; COLOUR_NONE without one (NaN ``expected``)."""
    return ops.where(ops.isnan(expected), COLOUR_NONE,
                     pace_colour(progress, expected, tol, rule, yellow, red))


def kr_pace(kind: Any, value: Any, progress: Any, expected: Any, due: Any, as_of: Any,
            tol: Any, rule: int, yellow: float, red: float) -> Any:
    """A key result's pace colour code: by due for done-or-not kinds, else its timeline pace."""
    return ops.where(is_done_or_not(kind), due_colour(value, due, as_of),
                     timeline_pace(progress, expected, tol, rule, yellow, red))


# ------------------------------------------------------------------------------------------
# grade, trend, staleness
# ------------------------------------------------------------------------------------------


def grade_score(progress: Any, tol: Any) -> Any:
    """``floor(10 min(p, 1) + 0.5 + tol) / 10`` (formulas.grade_score)."""
    return ops.floor_(10.0 * ops.minimum(progress, 1.0) + 0.5 + tol) / 10.0


def grade_band(score: Any, yellow: float, green: float) -> Any:
    """The grade band colour code of a score (formulas.grade_band)."""
    return ops.where(score < yellow, COLOUR_RED,
                     ops.where(score < green, COLOUR_YELLOW, COLOUR_GREEN))


def grade_success(progress: Any, aspirational: Any, aspirational_success: float,
                  tol: Any) -> Any:
    """Whether the progress reaches success: 1, or the aspirational threshold (succeeded)."""
    return approx_le(ops.where(aspirational, aspirational_success, 1.0), progress, tol)


def grade(progress: Any, aspirational: Any, tol: Any, yellow: float, green: float,
          aspirational_success: float) -> Any:
    """Score, band and success of a progress."""
    score = grade_score(progress, tol)
    return (score, grade_band(score, yellow, green),
            grade_success(progress, aspirational, aspirational_success, tol))


def trend(previous: Any, current: Any, tol: Any) -> Any:
    """The trend code from ``previous`` to ``current`` (formulas.trend)."""
    same = abs(current - previous) <= tol * ops.maximum_(abs(current), abs(previous))
    return ops.where(same, TREND_STALLED,
                     ops.where(current > previous, TREND_PROGRESSED, TREND_REGRESSED))


def is_stale(progress: Any, tol: Any, logged: Any, last_at: Any, start: Any, as_of: Any,
             window: float) -> Any:
    """Whether a key result with a check-in log is stale (formulas.is_stale).

    Not complete, not in the first ``window`` [µs] of its objective's period (``start``), and
    no check-in (``logged`` false) or the last one (``last_at``) more than ``window`` ago.
    """
    complete = approx_le(1.0, progress, tol)
    early = (start != NONE_INSTANT) & (ops.to_float(as_of - start) < window)
    silent = ops.not_(logged) | (ops.to_float(as_of - last_at) > window)
    return ops.not_(complete) & ops.not_(early) & silent


RULES: Final = (
    approx_le, hits_low, hits_high, worst_colour, overflows, whole_ratio, halved_ratio,
    ratio_progress, band_progress,
    graded_progress, uses_range_progress, raw_progress, clamp, has_range, range_status,
    range_limit, expected_progress, pace_bound, behind, pace_conditions, pace_colour,
    pace_reason, is_done_or_not, due_colour, timeline_pace, kr_pace, grade_score, grade_band,
    grade_success, grade, trend, is_stale,
)
"""Every rule, in an order where each calls only rules before it."""


def instantiate(operations: types.ModuleType, namespace: dict[str, Any]) -> None:
    """Fill ``namespace`` (a module's globals) with every rule bound to ``operations``.

    Each rule there is a new function object over the *same code object* as the rule here;
    its globals are ``namespace``: this module's names, with ``ops`` bound to ``operations``
    and every rule name to its new instance (so that rules calling rules stay in it).  See
    :mod:`okrcore.batch._rules_numba`.
    """
    name = namespace["__name__"]
    namespace.update({key: value for key, value in globals().items()
                      if not key.startswith("__") and key not in namespace})
    namespace["ops"] = operations
    for rule in RULES:
        clone = types.FunctionType(rule.__code__, namespace, rule.__name__,
                                   rule.__defaults__, rule.__closure__)
        clone.__qualname__ = rule.__qualname__
        clone.__module__ = name
        clone.__doc__ = rule.__doc__
        namespace[rule.__name__] = clone
