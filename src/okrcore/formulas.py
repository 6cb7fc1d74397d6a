"""The scalar formulas: one pure function per rule, the reference every other path must match.

Each function here takes plain numbers (instants as integer microseconds since the Unix epoch)
and returns plain numbers or colour names, so that a vectorised twin can be written and tested
against it value by value.  The document evaluator (:mod:`okrcore.evaluate`) only combines them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Literal

from okrcore.policy import PaceRule

__all__ = [
    "COLOURS",
    "GRADE_BANDS",
    "MICROSECONDS_PER_DAY",
    "TRENDS",
    "approx_ge",
    "approx_le",
    "band_progress",
    "clamp",
    "due_colour",
    "expected_progress",
    "grade_band",
    "grade_score",
    "graded_range_progress",
    "is_stale",
    "least_squares_at",
    "metric_raw_progress",
    "pace_colour",
    "range_limit",
    "range_status",
    "ratio_progress",
    "rescaled_mean",
    "succeeded",
    "trend",
    "weighted_mean",
    "worst_colour",
]

Colour = Literal["green", "yellow", "red"]
Trend = Literal["progressed", "stalled", "regressed"]

COLOURS: Final[tuple[Colour, Colour, Colour]] = ("green", "yellow", "red")
"""Colours from best to worst."""
GRADE_BANDS: Final = COLOURS
"""Grade bands use the same names as colours."""
TRENDS: Final[tuple[Trend, Trend, Trend]] = ("progressed", "stalled", "regressed")
"""Trend values."""
MICROSECONDS_PER_DAY: Final = 86_400_000_000
"""[µs / day]."""

DEFAULT_TOLERANCE: Final = 1e-9


def approx_le(a: float, b: float, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    r"""Return whether ``a <= b`` up to a relative tolerance.

    Notes
    -----
    True when :math:`a \le b` or :math:`|a - b| \le \tau \max(|a|, |b|)`, so that
    ``0.6 <= 0.75 * 0.8`` holds although ``0.75 * 0.8`` is 0.6000000000000001.
    """
    return a <= b or abs(a - b) <= tolerance * max(abs(a), abs(b))


def approx_ge(a: float, b: float, tolerance: float = DEFAULT_TOLERANCE) -> bool:
    """Return whether ``a >= b`` up to a relative tolerance (see :func:`approx_le`)."""
    return approx_le(b, a, tolerance)


def clamp(raw: float, cap: float | None) -> float:
    r"""Clamp raw progress into ``[0, cap]``.

    Parameters
    ----------
    raw : float
        Raw progress [fraction], any real.
    cap : float or None
        Upper bound [fraction]; ``None`` for uncapped.

    Returns
    -------
    float
        Progress [fraction].

    Notes
    -----
    :math:`p = \min(\max(r, 0), \text{cap})`.  Falling back past the start is 0, never
    negative progress.
    """
    low = raw if raw > 0.0 else 0.0  # also turns -0.0 (a reduction at its start) into 0.0
    return low if cap is None else min(low, float(cap))


def metric_raw_progress(start: float, target: float, current: float) -> float:
    """Raw progress of a metric, for increases and reductions alike.

    Parameters
    ----------
    start, target, current : float
        [the metric's unit]; ``target != start``.

    Returns
    -------
    float
        Raw progress [fraction], unclamped.

    Notes
    -----
    :math:`r = (c - s) / (t - s)`.  A reduction 45 → 20 at 30 gives
    :math:`(30 - 45) / (20 - 45) = 0.6`.  When a difference overflows (values of both signs
    near 1e308) both are taken on halved values, :math:`(c/2 - s/2) / (t/2 - s/2)`: the same
    ratio, finite wherever it is.
    """
    num = current - start
    den = target - start
    if math.isinf(num) or math.isinf(den):
        num = current * 0.5 - start * 0.5
        den = target * 0.5 - start * 0.5
    return num / den


def ratio_progress(done: float, total: float) -> float:
    """Raw progress of a milestone or binary KR: ``done / total``.

    Notes
    -----
    :math:`r = d / n`; 3 of 5 stages give 0.6, a done binary KR gives 1.
    """
    return done / total


def _hits_low(value: float, limit: float | None, strict: bool) -> bool:
    if limit is None:
        return False
    return value < limit if strict else value <= limit


def _hits_high(value: float, limit: float | None, strict: bool) -> bool:
    if limit is None:
        return False
    return value > limit if strict else value >= limit


def range_status(
    value: float,
    red_low: float | None,
    yellow_low: float | None,
    yellow_high: float | None,
    red_high: float | None,
    strict: bool = False,
) -> Colour:
    r"""The breakpoint colour of a range metric's value.

    Parameters
    ----------
    value : float
        The current value [unit].
    red_low, yellow_low, yellow_high, red_high : float or None
        Breakpoints [unit]; a missing one is never hit.
    strict : bool
        When true a value must pass a limit; when false (default) reaching it is a hit.

    Returns
    -------
    {"green", "yellow", "red"}

    Notes
    -----
    red when :math:`v \le R_l` or :math:`v \ge R_h`; else yellow when :math:`v \le Y_l` or
    :math:`v \ge Y_h`; else green (with ``strict``, :math:`<` and :math:`>`).
    """
    if _hits_low(value, red_low, strict) or _hits_high(value, red_high, strict):
        return "red"
    if _hits_low(value, yellow_low, strict) or _hits_high(value, yellow_high, strict):
        return "yellow"
    return "green"


def range_limit(
    value: float,
    red_low: float | None,
    yellow_low: float | None,
    yellow_high: float | None,
    red_high: float | None,
    strict: bool = False,
) -> str | None:
    r"""The breakpoint a range metric's value hit: the one that sets :func:`range_status`.

    Parameters
    ----------
    value : float
        The current value [unit].
    red_low, yellow_low, yellow_high, red_high : float or None
        Breakpoints [unit].
    strict : bool
        As for :func:`range_status`.

    Returns
    -------
    {"red_low", "red_high", "yellow_low", "yellow_high"} or None
        The first limit hit in that order; ``None`` when the value is green.

    Notes
    -----
    The colour of the name's prefix is always :func:`range_status` of the same arguments.
    """
    if _hits_low(value, red_low, strict):
        return "red_low"
    if _hits_high(value, red_high, strict):
        return "red_high"
    if _hits_low(value, yellow_low, strict):
        return "yellow_low"
    if _hits_high(value, yellow_high, strict):
        return "yellow_high"
    return None


def band_progress(
    value: float, red_low: float | None, red_high: float | None, strict: bool = False
) -> float:
    r"""Progress of a ``band`` range metric: 1 while the value is not red, else 0.

    Notes
    -----
    :math:`p = 1` when :math:`R_l < v < R_h` (:math:`\le` with ``strict``), else 0.
    """
    hit = _hits_low(value, red_low, strict) or _hits_high(value, red_high, strict)
    return 0.0 if hit else 1.0


def graded_range_progress(
    value: float,
    target: float,
    red_low: float | None,
    yellow_low: float | None,
    yellow_high: float | None,
    red_high: float | None,
) -> float:
    """Progress of a ``graded`` range metric: 1 inside the yellow limits, linear to 0 at red.

    Parameters
    ----------
    value, target : float
        [unit].
    red_low, yellow_low, yellow_high, red_high : float or None
        Breakpoints [unit].  A missing yellow limit falls back to the target; a missing red
        limit means that side never declines.

    Returns
    -------
    float
        Progress [fraction] in [0, 1].

    Notes
    -----
    Above: :math:`p = (R_h - v) / (R_h - Y_h)` for :math:`Y_h < v`, clamped to [0, 1];
    below: :math:`p = (v - R_l) / (Y_l - R_l)` for :math:`v < Y_l`; 1 in between.
    When a yellow limit equals its red limit the decline is a step at the limit.
    """
    high_yellow = target if yellow_high is None else yellow_high
    low_yellow = target if yellow_low is None else yellow_low
    if red_high is not None and value > high_yellow:
        if value >= red_high:
            return 0.0
        return min(max((red_high - value) / (red_high - high_yellow), 0.0), 1.0)
    if red_low is not None and value < low_yellow:
        if value <= red_low:
            return 0.0
        return min(max((value - red_low) / (low_yellow - red_low), 0.0), 1.0)
    return 1.0


def expected_progress(as_of: int, start: int, due: int) -> float:
    r"""Expected progress on a linear timeline.

    Parameters
    ----------
    as_of, start, due : int
        Instants [µs since the Unix epoch]; ``due > start``.

    Returns
    -------
    float
        Expected progress [fraction] in [0, 1].

    Notes
    -----
    :math:`e = \min(\max((a - s) / (d - s), 0), 1)`.  The two differences are exact
    integers, each rounded to a float before the division (as a vectorised engine divides two
    int64 columns), so timelines longer than :math:`2^{53}` µs agree on every path.
    """
    return min(max(float(as_of - start) / float(due - start), 0.0), 1.0)


def pace_colour(
    progress: float, expected: float, rule: PaceRule, tolerance: float = DEFAULT_TOLERANCE
) -> tuple[Colour, str]:
    r"""The pace colour of a progress value against expected progress.

    Parameters
    ----------
    progress : float
        Progress [fraction].
    expected : float
        Expected progress [fraction].
    rule : PaceRule
        Thresholds (ratio, difference or points).
    tolerance : float
        Relative tolerance of the comparisons.

    Returns
    -------
    colour : {"green", "yellow", "red"}
    reason : str
        ``complete`` (progress >= 1), ``not_started`` (expected = 0), ``on_pace``
        (progress >= expected), ``red`` / ``yellow`` (that threshold was hit) or
        ``ahead_of_yellow``.

    Notes
    -----
    Green when :math:`p \ge 1`, :math:`e = 0` or :math:`p \ge e`.  Otherwise, with threshold
    :math:`t`, the goal is behind when (ratio) :math:`p \le t\,e`, (difference)
    :math:`p \le e + t`, or (points) :math:`p \le e - t/100`; red when behind by the red
    threshold, else yellow when behind by the yellow one, else green.  BetterWorks: ratio
    0.75 / 0.5, so 0.6 against 0.8 is yellow and 0.4 against 0.8 is red.  With the rule's
    ``boundary`` ``"better"`` every "behind" comparison is strict (:math:`<` by more than the
    tolerance): BurningOKR's difference -0.2 / -0.4 makes 0.4 against 0.8 yellow.
    """
    if approx_ge(progress, 1.0, tolerance):
        return "green", "complete"
    if expected <= 0:
        return "green", "not_started"
    if approx_ge(progress, expected, tolerance):
        return "green", "on_pace"

    def behind(threshold: float) -> bool:
        if rule.rule == "ratio":
            bound = threshold * expected
        elif rule.rule == "difference":
            bound = expected + threshold
        else:
            bound = expected - threshold / 100.0
        if rule.boundary == "better":
            # strictly behind, beyond the tolerance: on the threshold keeps the better colour
            return not approx_ge(progress, bound, tolerance)
        return approx_le(progress, bound, tolerance)

    if behind(rule.red):
        return "red", "red"
    if behind(rule.yellow):
        return "yellow", "yellow"
    return "green", "ahead_of_yellow"


def due_colour(done: bool, as_of: int, due: int | None) -> tuple[Colour | None, str]:
    r"""The pace colour of a done-or-not key result (binary, simple milestone) against its due.

    Parameters
    ----------
    done : bool
        Whether it is done at ``as_of``.
    as_of : int
        The instant of evaluation [µs since the Unix epoch].
    due : int or None
        Its due instant (its own, else its objective's) [µs]; ``None`` without one.

    Returns
    -------
    colour : {"green", "red"} or None
    reason : {"complete", "not_due", "overdue", "no_timeline"}

    Notes
    -----
    SEMANTICS §11.2: green when done (``complete``); else with no due no pace
    (``no_timeline``), green while :math:`a < d` (``not_due``), red from :math:`a \ge d`
    (``overdue``).
    """
    if done:
        return "green", "complete"
    if due is None:
        return None, "no_timeline"
    if as_of < due:
        return "green", "not_due"
    return "red", "overdue"


def worst_colour(*colours: Colour | None) -> Colour | None:
    """The worst of some colours (red > yellow > green); ``None`` entries are ignored."""
    present = [c for c in colours if c is not None]
    if not present:
        return None
    return max(present, key=COLOURS.index)


def weighted_mean(values: Sequence[float], weights: Sequence[float]) -> float | None:
    r"""Weighted mean of progress values.

    Parameters
    ----------
    values : sequence of float
        Progress values [fraction].
    weights : sequence of float
        Non-negative weights; 0 means shown but not counted.

    Returns
    -------
    float or None
        ``None`` when the weights sum to 0 (nothing is counted).

    Notes
    -----
    :math:`\bar p = \sum_i w_i p_i / \sum_i w_i`, summed left to right.
    """
    total = 0.0
    weighted = 0.0
    for value, weight in zip(values, weights, strict=True):
        total += weight
        weighted += weight * value
    if total == 0:
        return None
    if not (math.isfinite(total) and math.isfinite(weighted)):
        counted = [(w, v) for v, w in zip(values, weights, strict=True) if w > 0]
        return rescaled_mean([counted])[0]
    return weighted / total


def rescaled_mean(groups: Sequence[Sequence[tuple[float, float]]]) -> tuple[float, float, int]:
    r"""A weighted mean whose plain sums overflow, computed on rescaled weights and values.

    Parameters
    ----------
    groups : sequence of sequence of (weight, value)
        The counted items (weight > 0, finite values >= 0), in the groups and the order the
        plain sums add them.

    Returns
    -------
    mean : float
        :math:`\sum w_i v_i / \sum w_i` [fraction]; finite, since it lies between the smallest
        and the largest value (infinite when a value is).
    total : float
        :math:`\sum w_i 2^{-e}`, the rescaled total weight (a share is :math:`w_i 2^{-e}` over
        it).
    e : int
        The binary exponent of the largest weight.

    Notes
    -----
    Used only when :math:`\sum w_i` or :math:`\sum w_i v_i` is not finite (weights or values
    near 1e308).  Every weight is multiplied by :math:`2^{-e}` and every value by
    :math:`2^{-q}`, with :math:`e, q` the binary exponents (``math.frexp``) of the largest
    weight and value, so both lie below 1 and no sum of fewer than :math:`2^{1000}` items
    overflows; the mean is :math:`2^{q} \sum w'_i v'_i / \sum w'_i`.  A power of two scales
    exactly, so wherever the plain sums do not overflow the two give the same bits (items
    below :math:`2^{-1000}` times the largest may round to 0: they change no digit of the
    mean).  Groups are summed from 0.0 each and then added in order, like the plain sums.
    """
    e = max((math.frexp(w)[1] for group in groups for w, _ in group), default=0)
    q = max((math.frexp(v)[1] for group in groups for _, v in group if v > 0), default=0)
    total = 0.0
    weighted = 0.0
    for group in groups:
        group_total = 0.0
        group_weighted = 0.0
        for w, v in group:
            ws = math.ldexp(w, -e)
            group_total += ws
            group_weighted += ws * math.ldexp(v, -q)
        total += group_total
        weighted += group_weighted
    if any(math.isinf(v) for group in groups for _, v in group):
        return math.inf, total, e  # an infinite item (an uncapped projection): the mean is too
    return math.ldexp(weighted / total, q), total, e


def trend(previous: float, current: float, tolerance: float = DEFAULT_TOLERANCE) -> Trend:
    """Whether progress went up, stayed or went down.

    Notes
    -----
    ``progressed`` when :math:`r_1 > r_0`, ``regressed`` when :math:`r_1 < r_0`, ``stalled``
    when equal up to the tolerance (raw progress, so direction is already accounted for).
    """
    if abs(current - previous) <= tolerance * max(abs(current), abs(previous)):
        return "stalled"
    return "progressed" if current > previous else "regressed"


def is_stale(
    last_check_in: int | None,
    as_of: int,
    stale_days: float,
    period_start: int | None = None,
    complete: bool = False,
) -> bool:
    r"""Whether a history has no check-in within ``stale_days`` before ``as_of``.

    Parameters
    ----------
    last_check_in : int or None
        The latest check-in at or before ``as_of`` [µs]; ``None`` when there is none.
    as_of : int
        [µs].
    stale_days : float
        [days].
    period_start : int or None
        The start of the objective's period [µs]: during its first ``stale_days`` nothing is
        stale yet (no check-in could be due).
    complete : bool
        A key result whose progress has reached 1 needs no further check-ins and is never stale.

    Notes
    -----
    With :math:`W = 86400\cdot10^6 \cdot D` [µs]: not stale when complete or when
    :math:`a - s < W`; otherwise stale when there is no check-in or :math:`a - t_{last} > W`.
    """
    window = stale_days * MICROSECONDS_PER_DAY
    # float(...) on each difference: compared as a float, as a vectorised engine compares an
    # int64 column with a float window (an int-float comparison in Python would be exact)
    if complete or (period_start is not None and float(as_of - period_start) < window):
        return False
    if last_check_in is None:
        return True
    return float(as_of - last_check_in) > window


def least_squares_at(times: Sequence[int], values: Sequence[float], at: int) -> float | None:
    r"""The value of the least-squares line through ``(times, values)`` at instant ``at``.

    Parameters
    ----------
    times : sequence of int
        Check-in instants [µs]; at least two distinct ones are needed.
    values : sequence of float
        Values [unit].
    at : int
        Where to read the line [µs].

    Returns
    -------
    float or None
        ``None`` with fewer than two distinct instants.

    Notes
    -----
    With :math:`x_i = (t_i - t_0)/86400\cdot10^6` [days] and means :math:`\bar x, \bar v`:
    slope :math:`b = \sum (x_i-\bar x)(v_i-\bar v) / \sum (x_i-\bar x)^2`, value
    :math:`\bar v + b\,(x_{at} - \bar x)`.  Sums run left to right in time order.
    """
    if len(times) < 2:
        return None
    origin = times[0]
    # float(t - origin) / day, not the exactly rounded int / int of Python: the vectorised
    # engines convert the int64 difference to a float first (they differ beyond 2**53 µs)
    xs = [float(t - origin) / MICROSECONDS_PER_DAY for t in times]
    n = len(xs)
    # Plain left-to-right sums (not math.fsum): a vectorised engine's per-KR scatter-add performs
    # exactly these additions in exactly this order, so both paths agree bit for bit.
    sum_x = 0.0
    sum_v = 0.0
    for x, v in zip(xs, values, strict=True):
        sum_x += x
        sum_v += v
    mean_x = sum_x / n
    mean_v = sum_v / n
    sxx = 0.0
    sxv = 0.0
    for x, v in zip(xs, values, strict=True):
        dx = x - mean_x
        sxx += dx * dx
        sxv += dx * (v - mean_v)
    if sxx == 0:
        return None
    slope = sxv / sxx
    return mean_v + slope * (float(at - origin) / MICROSECONDS_PER_DAY - mean_x)


def grade_score(progress: float, tolerance: float = DEFAULT_TOLERANCE) -> float:
    r"""The end-of-period score: progress capped at 1 and rounded half up to one decimal.

    Notes
    -----
    :math:`g = \lfloor 10\min(p, 1) + 0.5 + \tau \rfloor / 10`; 0.65 scores 0.7.
    """
    return math.floor(10 * min(progress, 1.0) + 0.5 + tolerance) / 10


def grade_band(score: float, yellow: float = 0.4, green: float = 0.7) -> Colour:
    r"""The band of a score: red below ``yellow``, green from ``green``, yellow between.

    Notes
    -----
    red :math:`< 0.4 \le` yellow :math:`< 0.7 \le` green by default.
    """
    if score < yellow:
        return "red"
    if score < green:
        return "yellow"
    return "green"


def succeeded(
    progress: float,
    aspirational: bool,
    aspirational_success: float = 0.65,
    tolerance: float = DEFAULT_TOLERANCE,
) -> bool:
    r"""Whether a goal succeeded: committed at progress >= 1, aspirational at >= the threshold.

    Notes
    -----
    committed: :math:`p \ge 1`; aspirational: :math:`p \ge 0.65` (Google preset 0.7).
    """
    threshold = aspirational_success if aspirational else 1.0
    return approx_ge(progress, threshold, tolerance)
