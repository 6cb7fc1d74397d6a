"""The scalar reference evaluation of a whole document.

:func:`evaluate` walks a :class:`~okrcore.model.Document` and combines the formulas of
:mod:`okrcore.formulas` into key result, objective and person results.  It never raises for a
bad item: every problem becomes an :class:`~okrcore.errors.OkrError`, items that need a bad item
are reported ``depends_on_invalid``, and everything else is evaluated.

This module holds the key result and objective rules and the walk over the document.  Three
parts live beside it, each with one responsibility: the identities and the alignment graph
(``okrcore._alignment``), a key result's value at an instant from its check-ins
(``okrcore._values``) and people (``okrcore._people``); the instant helpers are
:mod:`okrcore.instants`.  Their public names stay importable from here.  Like
:mod:`okrcore.formulas`, none of them imports the batch engine or the interchange layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

import attrs

from okrcore import errors as E
from okrcore import formulas as F
from okrcore._alignment import align, alignment_depths, cycle_error, cycle_from, cycle_member_error
from okrcore._people import person_results
from okrcore._values import baseline_value, explicit_value, value_history
from okrcore.formulas import Colour, Trend
from okrcore.instants import EPOCH as EPOCH  # (re-exported: rows and batch.convert use it)
from okrcore.instants import instant_us, isoformat, isoformat_us
from okrcore.model import (
    Binary,
    Document,
    InvalidKeyResult,
    KeyResult,
    Metric,
    Milestone,
    Objective,
)
from okrcore.policy import Policy
from okrcore.results import (
    ColourSource,
    Evaluation,
    Explanation,
    Forecast,
    Grade,
    Item,
    KeyResultExplanation,
    KeyResultResult,
    ObjectiveResult,
)

__all__ = [
    "CHILDREN_TOO",
    "MANUAL_COLOURS",
    "RULE_REASONS",
    "alignment_depths",
    "colour_source",
    "cycle_error",
    "cycle_from",
    "cycle_member_error",
    "done_or_not",
    "evaluate",
    "explicit_reason",
    "instant_us",
    "isoformat",
    "isoformat_us",
    "key_result_progress",
    "key_result_rule",
    "kr_pace",
    "pace_reason_source",
    "pace_source",
    "sum_share",
]

MANUAL_COLOURS: Final[dict[str, Colour]] = {
    "on_track": "green",
    "behind": "yellow",
    "at_risk": "yellow",
    "off_track": "red",
}
"""The colour a manual status stands for."""


def key_result_progress(kr: KeyResult, value: float | bool, policy: Policy) -> tuple[float, float]:
    r"""Raw and clamped progress of a key result at a given value.

    Parameters
    ----------
    kr : KeyResult
        The key result.
    value : float or bool
        Its value [unit]; done for binary and simple milestones; stages done otherwise.
    policy : Policy
        For the cap and strict breakpoints.

    Returns
    -------
    raw, progress : float
        [fraction].

    Notes
    -----
    Metric: :math:`(c - s)/(t - s)`; range ``band`` / ``graded`` / ``linear`` see
    :mod:`okrcore.formulas`; binary and milestones :math:`d/n`; then
    :math:`p = \min(\max(r, 0), \text{cap})`.
    """
    if isinstance(kr, Metric):
        current = float(value)
        bounds = kr.range
        if bounds is None or bounds.mode == "linear":
            raw = F.metric_raw_progress(float(kr.start), float(kr.target), current)
        elif bounds.mode == "band":
            raw = F.band_progress(current, bounds.red_low, bounds.red_high,
                                  policy.strict_breakpoints)
        else:
            raw = F.graded_range_progress(
                current, float(kr.target), bounds.red_low, bounds.yellow_low,
                bounds.yellow_high, bounds.red_high,
            )
    elif isinstance(kr, Binary):
        raw = F.ratio_progress(float(value), 1.0)
    else:
        raw = F.ratio_progress(float(value), float(kr.total))
    return raw, F.clamp(raw, policy.cap)


def key_result_rule(kr: KeyResult) -> str:
    """The name of the rule a key result's progress comes from (see ``KeyResultExplanation``)."""
    if isinstance(kr, Metric):
        return "metric" if kr.range is None else f"range:{kr.range.mode}"
    if isinstance(kr, Binary):
        return "binary"
    if kr.checkpoints is not None:
        return "milestone:checkpoints"
    return "milestone" if kr.stages_total is None else "milestone:stages"


def pace_source(progress: float, expected: float | None, policy: Policy
                ) -> tuple[Colour | None, ColourSource]:
    """The pace colour of a progress value and the rule that set it.

    Parameters
    ----------
    progress : float
        [fraction].
    expected : float or None
        [fraction]; ``None`` without a timeline.
    policy : Policy
        Pace thresholds and tolerance.

    Returns
    -------
    colour : {"green", "yellow", "red"} or None
        ``None`` without a timeline (no pace, SEMANTICS §11.1).
    source : ColourSource
        ``source`` ``pace`` with the :func:`~okrcore.formulas.pace_colour` reason, the rule
        and the threshold hit (``no_timeline`` when ``expected`` is ``None``).
    """
    if expected is None:
        return None, ColourSource("pace", "no_timeline")
    pace, why = F.pace_colour(progress, expected, policy.pace, policy.tolerance)
    return pace, pace_reason_source(why, policy)


def pace_reason_source(reason: str, policy: Policy) -> ColourSource:
    """The :class:`~okrcore.results.ColourSource` of a pace reason.

    Parameters
    ----------
    reason : str
        A :func:`~okrcore.formulas.pace_colour` or :func:`~okrcore.formulas.due_colour` reason,
        or ``no_timeline``.
    policy : Policy
        Gives the rule and the threshold of a threshold reason (``red``, ``yellow``).

    Returns
    -------
    ColourSource
        ``source`` ``pace``; the due reasons and ``no_timeline`` name no rule.
    """
    if reason in ("no_timeline", "not_due", "overdue"):
        return ColourSource("pace", reason)
    threshold = {"red": policy.pace.red, "yellow": policy.pace.yellow}.get(reason)
    return ColourSource("pace", reason, policy.pace.rule, threshold)


def _opt_float(value: float | None) -> float | None:
    return None if value is None else float(value)


def _kr_explanation(kr: KeyResult, value: float | bool, due: datetime | None,
                    pace: ColourSource, policy: Policy) -> KeyResultExplanation:
    """The inputs a key result's progress and colour came from."""
    rule = key_result_rule(kr)
    due_text = None if due is None else isoformat_us(instant_us(due))
    if isinstance(kr, Metric):
        limits = None
        limit = None
        if kr.range is not None:
            r = kr.range
            limits = (_opt_float(r.red_low), _opt_float(r.yellow_low),
                      _opt_float(r.yellow_high), _opt_float(r.red_high))
            limit = F.range_limit(float(value), r.red_low, r.yellow_low, r.yellow_high,
                                  r.red_high, policy.strict_breakpoints)
        return KeyResultExplanation(rule, kr.unit, float(kr.start), float(kr.target), None,
                                    limits, limit, due_text, pace)
    total = None
    if isinstance(kr, Milestone) and rule != "milestone":
        total = float(kr.total)
    return KeyResultExplanation(rule, total=total, due=due_text, pace=pace)


@attrs.frozen
class _State:
    """A key result at one moment: the value and what follows from it."""

    kr: KeyResult
    value: float | bool
    raw: float
    progress: float
    range_status: Colour | None


@attrs.frozen
class _Rollup:
    progress: float | None
    raw: float | None
    explanation: Explanation
    error: E.OkrValueError | None = None


def _state(kr: KeyResult, value: float | bool, policy: Policy) -> _State:
    raw, progress = key_result_progress(kr, value, policy)
    status: Colour | None = None
    if isinstance(kr, Metric) and kr.range is not None:
        r = kr.range
        status = F.range_status(float(value), r.red_low, r.yellow_low, r.yellow_high, r.red_high,
                                policy.strict_breakpoints)
    return _State(kr, value, raw, progress, status)


def _grade(progress: float, ambition: str, policy: Policy) -> Grade:
    score = F.grade_score(progress, policy.tolerance)
    return Grade(
        score=score,
        band=F.grade_band(score, policy.grade_yellow, policy.grade_green),
        success=F.succeeded(progress, ambition == "aspirational", policy.aspirational_success,
                            policy.tolerance),
    )


def _expected(as_of: int, start: datetime | None, due: datetime | None) -> float | None:
    if start is None or due is None:
        return None
    return F.expected_progress(as_of, instant_us(start), instant_us(due))


def done_or_not(kr: KeyResult) -> bool:
    """Whether a key result is done or not done: binary, or a milestone without stages."""
    return isinstance(kr, Binary) or (
        isinstance(kr, Milestone) and kr.stages_total is None and kr.checkpoints is None)


def kr_pace(kr: KeyResult, now: _State, expected: float | None, as_of: int,
            due: datetime | None, policy: Policy) -> tuple[Colour | None, str]:
    """A key result's pace colour and its reason (SEMANTICS §6, §11.1, §11.2).

    Done-or-not key results are paced against ``due`` (:func:`okrcore.formulas.due_colour`);
    the others against ``expected``, with no pace (``None``, ``no_timeline``) without one.
    """
    if done_or_not(kr):
        return F.due_colour(bool(now.value), as_of, None if due is None else instant_us(due))
    if expected is None:
        return None, "no_timeline"
    return F.pace_colour(now.progress, expected, policy.pace, policy.tolerance)


@attrs.define
class _KRTrack:
    """Everything computed for one valid key result: now, before its last check-in, forecast."""

    now: _State
    previous: _State | None
    projected: _State | None
    has_history: bool
    result: KeyResultResult


def _evaluate_kr(kr: KeyResult, objective: Objective, as_of: int, policy: Policy) -> _KRTrack:
    history = value_history(kr, as_of)
    explicit = explicit_value(kr)
    baseline = baseline_value(kr)
    if history:
        value: float | bool = history[-1][1]
    else:
        value = baseline if explicit is None else explicit
    now = _state(kr, value, policy)
    previous = None
    trend: Trend | None = None
    if history:
        before = history[-2][1] if len(history) > 1 else baseline
        previous = _state(kr, before, policy)
        trend = F.trend(previous.raw, now.raw, policy.tolerance)
    due = kr.due if kr.due is not None else objective.due
    expected = _expected(as_of, objective.start, due)
    pace, reason = kr_pace(kr, now, expected, as_of, due, policy)
    pace_rule = pace_reason_source(reason, policy)
    colour = F.worst_colour(pace, now.range_status)
    stale = None
    last = history[-1][0] if history else None
    if kr.check_ins is not None:
        stale = F.is_stale(
            last, as_of, policy.stale_days,
            None if objective.start is None else instant_us(objective.start),
            F.approx_ge(now.progress, 1.0, policy.tolerance),
        )
    projected = None
    forecast = None
    numeric = isinstance(kr, Metric) or (isinstance(kr, Milestone) and kr.stages_total is not None)
    if numeric and due is not None:
        since = instant_us(objective.start) if objective.start is not None else None
        period = [(t, float(v)) for t, v in history if since is None or t >= since]
        line = F.least_squares_at([t for t, _ in period], [v for _, v in period],
                                  instant_us(due))
        if line is not None and math.isfinite(line):
            projected = _state(kr, line, policy)
            if not math.isfinite(projected.raw):
                projected = None  # (uncapped) a projection beyond floating point: none
        if projected is not None:
            fc_pace = F.pace_colour(projected.progress, 1.0, policy.pace, policy.tolerance)[0]
            forecast = Forecast(line, projected.progress,
                                F.worst_colour(fc_pace, projected.range_status) or fc_pace)
    owners = kr.owners or ((objective.owner,) if objective.owner else ())
    result = KeyResultResult(
        id=kr.id,
        objective=objective.id,
        kind=kr.kind,
        owners=owners,
        current=value if isinstance(value, bool) else float(value),
        raw_progress=now.raw,
        progress=now.progress,
        expected=expected,
        colour=colour,
        pace_colour=pace,
        pace_reason=reason,
        range_status=now.range_status,
        weight=float(kr.weight),
        contributes=kr.weight > 0,
        trend=trend,
        stale=stale,
        last_check_in=None if last is None else isoformat(EPOCH + timedelta(microseconds=last)),
        forecast=forecast,
        grade=_grade(now.progress, objective.ambition, policy),
        explanation=_kr_explanation(kr, value, due, pace_rule, policy),
    )
    return _KRTrack(now, previous, projected, bool(history), result)


def _plain_metric(kr: KeyResult) -> bool:
    return isinstance(kr, Metric) and kr.range is None


RULE_REASONS: Final[dict[str, str]] = {
    "auto:progress_settings": "progress settings with a unit: sum the metrics of that unit",
    "auto:same_unit": "every key result is a plain metric of one unit and direction: sum them "
    "against the sum of their targets",
    "auto:mixed": "mixed kinds, units or directions: weighted mean of progress",
    "children": "no key results of its own: weighted mean of aligned children",
    "empty": "no key results and no aligned child with progress",
}
"""The words of each rollup rule in explanations (``explicit`` names the mode asked for)."""
CHILDREN_TOO: Final = "; aligned children count as items too"
"""Appended to the reason when ``include_children`` is set."""


def explicit_reason(mode: str) -> str:
    """The reason given when an objective asks for a mode explicitly."""
    return f"the objective asks for mode {mode!r}"


def _choose_mode(objective: Objective) -> tuple[str, str, str]:
    """Return (mode, rule, reason) from the objective's structure alone (SEMANTICS §3)."""
    krs = [kr for kr in objective.key_results if not isinstance(kr, InvalidKeyResult)]
    if objective.mode != "auto":
        return objective.mode, "explicit", explicit_reason(objective.mode)
    if objective.progress_settings is not None:
        return "sum", "auto:progress_settings", RULE_REASONS["auto:progress_settings"]
    units = {kr.unit for kr in krs if isinstance(kr, Metric)}
    directions = {kr.direction for kr in krs if isinstance(kr, Metric)}
    if (krs and all(_plain_metric(kr) for kr in krs) and len(units) == 1 and "" not in units
            and len(directions) == 1):
        return "sum", "auto:same_unit", RULE_REASONS["auto:same_unit"]
    return "mean", "auto:mixed", RULE_REASONS["auto:mixed"]


def _sum_part(objective: Objective, states: Sequence[_State], policy: Policy
              ) -> tuple[float, float, list[Item], dict[str, float | str | None]] | E.OkrValueError:
    settings = objective.progress_settings
    if settings is not None:
        unit = settings.unit
    else:
        units = {s.kr.unit for s in states if isinstance(s.kr, Metric) and s.kr.weight > 0}
        if len(units) != 1:
            return E.OkrValueError(
                E.NO_CONTRIBUTING_METRIC, "mode",
                f"mode 'sum' without progress settings needs the metrics to share one unit; "
                f"found {sorted(units)!r}", None)
        unit = units.pop()
    contributing = [s for s in states
                    if isinstance(s.kr, Metric) and s.kr.unit == unit and s.kr.weight > 0]
    field = "progress_settings.unit" if settings is not None else "key_results"
    if not contributing:
        return E.OkrValueError(E.NO_CONTRIBUTING_METRIC, field,
                               f"no metric key result with unit {unit!r} to sum", unit)
    directions = {s.kr.direction for s in contributing if isinstance(s.kr, Metric)} - {0}
    if len(directions) > 1:
        return E.OkrValueError(
            E.MIXED_DIRECTIONS, field,
            f"the metrics summed in unit {unit!r} mix increases and reductions", unit)
    value = 0.0
    for s in contributing:
        value += float(s.value)
    if settings is not None and settings.start is not None:
        start = float(settings.start)
    else:
        start = 0.0
        for s in contributing:
            assert isinstance(s.kr, Metric)
            start += float(s.kr.start)
    if settings is not None and not settings.auto:
        assert settings.target is not None
        target = float(settings.target)
        target_rule = "fixed"
    else:
        target = 0.0
        for s in contributing:
            assert isinstance(s.kr, Metric)
            target += float(s.kr.target)
        target_rule = "auto"
    if target == start:
        return E.OkrValueError(
            E.DEGENERATE_METRIC, "progress_settings.target" if settings else "key_results",
            f"the goal's target {target!r} equals its start {start!r}", target)
    raw = F.metric_raw_progress(start, target, value)
    if not (math.isfinite(value) and math.isfinite(start) and math.isfinite(target)):
        raw = math.nan  # a total beyond floating point: no finite progress (not_finite)
    counted = {id(s) for s in contributing}
    items = [
        Item("key_result", s.kr.id, float(s.kr.weight), s.progress,
             sum_share(float(s.value), value) if id(s) in counted else None,
             float(s.value) if isinstance(s.kr, Metric) else None, id(s) in counted)
        for s in states
    ]
    details: dict[str, float | str | None] = {
        "unit": unit, "target": target, "start": start, "value": value,
        "target_rule": target_rule}
    return raw, F.clamp(raw, policy.cap), items, details


def sum_share(value: float, total: float) -> float | None:
    """A summed key result's share of the sum: ``value / total``, or ``None``.

    ``None`` when the total is 0, or when the share is not a finite number (values of both
    signs near 1e308 that nearly cancel): no share is shown rather than an infinite one.
    """
    if total == 0:
        return None
    share = value / total
    return share if math.isfinite(share) else None


_Entry = tuple[str, str | None, float, float | None]


def _mean_items(*groups: Sequence[_Entry]) -> tuple[float | None, list[Item]]:
    """Weighted mean over groups of items (key results, the summed part, children).

    Each group is summed on its own, left to right, and the group sums are then added in order
    (sum of w*p over all counted items divided by the sum of their weights).  Fixing the order of
    the additions is what lets a vectorised engine reproduce the result bit for bit (a per-group
    scatter-add is a left-to-right sum).
    """
    total = 0.0
    weighted = 0.0
    for group in groups:
        group_total = 0.0
        group_weighted = 0.0
        for _, _, w, p in group:
            if p is not None and w > 0:
                group_total += w
                group_weighted += w * p
        total += group_total
        weighted += group_weighted
    mean = None if total == 0 else weighted / total
    exponent = 0
    if total > 0 and not (math.isfinite(total) and math.isfinite(weighted)):
        # weights or progress near 1e308: the same mean on rescaled sums (F.rescaled_mean)
        mean, total, exponent = F.rescaled_mean(
            [[(w, p) for _, _, w, p in group if p is not None and w > 0] for group in groups])
    items = [
        Item(kind, ident, w, p,
             (math.ldexp(w, -exponent) / total) if p is not None and w > 0 and total > 0
             else None,
             None, p is not None and w > 0)
        for group in groups for kind, ident, w, p in group
    ]
    return mean, items


def _rollup(objective: Objective, states: Sequence[_State],
            children: Sequence[tuple[str, float, float | None]], policy: Policy) -> _Rollup:
    child_entries: list[_Entry] = [
        ("objective", cid, w, p) for cid, w, p in children]
    if not states:
        mean, items = _mean_items(child_entries)
        if not children or mean is None:
            expl = Explanation("mean", "empty", RULE_REASONS["empty"], tuple(items))
            return _Rollup(None, None, expl)
        expl = Explanation("mean", "children", RULE_REASONS["children"], tuple(items))
        return _Rollup(mean, mean, expl)
    mode, rule, reason = _choose_mode(objective)
    extra = child_entries if objective.include_children else []
    if objective.include_children:
        reason += CHILDREN_TOO
    if mode == "sum":
        part = _sum_part(objective, states, policy)
        if isinstance(part, E.OkrValueError):
            return _Rollup(None, None, Explanation(mode, rule, reason), part)
        raw, progress, items, d = part
        target, start, value = d["target"], d["start"], d["value"]
        assert isinstance(target, float) and isinstance(start, float)
        assert isinstance(value, float)
        unit, target_rule = str(d["unit"]), str(d["target_rule"])
        if extra:
            mean, more = _mean_items([("sum", None, 1.0, progress)], extra)
            expl = Explanation(mode, rule, reason, (*items, *more), unit, target, start, value,
                               target_rule)
            return _Rollup(mean, mean, expl)
        expl = Explanation(mode, rule, reason, tuple(items), unit, target, start, value,
                           target_rule)
        return _Rollup(progress, raw, expl)
    entries: list[_Entry] = [
        ("key_result", s.kr.id, float(s.kr.weight), s.progress) for s in states]
    mean, items = _mean_items(entries, extra)
    return _Rollup(mean, mean, Explanation(mode, rule, reason, tuple(items)))


def colour_source(progress: float | None, expected: float | None,
                  range_statuses: Sequence[tuple[str, Colour | None]], policy: Policy
                  ) -> tuple[Colour | None, ColourSource]:
    """An objective's computed colour and the rule that set it.

    Parameters
    ----------
    progress, expected : float or None
        [fraction]; ``None`` for null progress or no timeline.
    range_statuses : sequence of (str, colour)
        The breakpoint status of each of the objective's range key results, by id.
    policy : Policy
        Pace thresholds and tolerance.

    Notes
    -----
    colour = worst(pace colour, breakpoint statuses); with null progress only a breakpoint
    that is hit (yellow or red) gives a colour.  Without a timeline (``expected`` is
    ``None``) there is no pace colour (``no_timeline``, SEMANTICS §11.1): the colour is the
    worst breakpoint colour, or ``None``.
    """
    pace: Colour | None = None
    source = ColourSource("none", "no_progress")
    if progress is not None:
        pace, source = pace_source(progress, expected, policy)
    colour = pace
    for ident, status in range_statuses:
        if progress is None and status == "green":
            continue  # with no progress, only a breakpoint that is hit gives a colour
        worse = F.worst_colour(colour, status)
        if worse != colour:
            colour = worse
            source = ColourSource("breakpoint", ident)
    return colour, source


@attrs.define
class _ObjTrack:
    now: float | None
    previous: float | None
    projected: float | None
    has_history: bool
    has_forecast: bool


def evaluate(document: Document) -> Evaluation:
    r"""Evaluate a document with the scalar reference rules.

    Parameters
    ----------
    document : Document
        Objectives, key results, policy and the instant ``as_of``.

    Returns
    -------
    Evaluation
        Results for every valid key result, objective and person, and every error.

    Notes
    -----
    The rules are those of the specification (``docs/spec.rst``): key result progress
    :math:`p = \min(\max(r, 0), \text{cap})`; objective progress by ``mean``
    (:math:`\sum w_i p_i / \sum w_i`) or ``sum``
    (:math:`(\sum c_i - S) / (T - S)`, capped); parents without key results take the
    weighted mean of their children; a person's progress is the equal-weight mean of their
    items.
    """
    policy = document.policy
    as_of = instant_us(document.as_of)
    errors: list[E.OkrError] = []
    objectives = document.objectives
    n = len(objectives)
    paths = [f"objectives[{i}]" for i in range(n)]

    # --- identities and alignment graph -------------------------------------------------------
    graph = align(objectives, paths)
    errors.extend(graph.errors)
    broken, invalid, in_cycle = graph.broken, set(graph.invalid), graph.in_cycle
    depth, children_of = graph.depth, graph.children_of

    # --- key results --------------------------------------------------------------------------
    kr_tracks: dict[tuple[int, int], _KRTrack] = {}
    kr_ok: dict[tuple[int, int], bool] = {}
    kr_results: dict[str, KeyResultResult] = {}
    seen_kr: set[str] = set()
    for i, obj in enumerate(objectives):
        for j, kr in enumerate(obj.key_results):
            path = f"{paths[i]}.key_results[{j}]"
            kr_ok[(i, j)] = False
            if isinstance(kr, InvalidKeyResult):
                errors.extend(kr.errors)
                continue
            if kr.id in seen_kr:
                errors.append(E.OkrError(E.DUPLICATE_ID, f"{path}.id",
                                         f"key result id {kr.id!r} is used more than once"))
                continue
            seen_kr.add(kr.id)
            if i in broken or not isinstance(obj, Objective):
                errors.append(E.OkrError(E.DEPENDS_ON_INVALID, path,
                                         f"key result {kr.id!r} needs objective {paths[i]}, "
                                         "which has an error"))
                continue
            if kr.due is not None and obj.start is not None and kr.due <= obj.start:
                errors.append(E.OkrError(
                    E.INVALID_TIMELINE, f"{path}.due",
                    f"due {isoformat(kr.due)} is not after the objective's start "
                    f"{isoformat(obj.start)}"))
                continue
            track = _evaluate_kr(kr, obj, as_of, policy)
            if not math.isfinite(track.now.raw):
                errors.append(E.OkrError(
                    E.NOT_FINITE, path,
                    f"key result {kr.id!r}: progress is not a finite number (the values "
                    "overflow floating point)"))
                continue
            kr_tracks[(i, j)] = track
            kr_ok[(i, j)] = True

    # --- objectives, children before parents ---------------------------------------------------
    tracks: dict[int, _ObjTrack] = {}
    obj_results: dict[str, ObjectiveResult] = {}
    contributes_in_sum: dict[tuple[int, int], bool] = {}
    order = sorted((i for i in range(n) if i not in in_cycle), key=lambda i: -depth[i])
    for i in order:
        obj = objectives[i]
        if i in invalid or not isinstance(obj, Objective):
            continue
        bad_kr = [j for j in range(len(obj.key_results)) if not kr_ok[(i, j)]]
        if bad_kr:
            errors.append(E.OkrError(
                E.DEPENDS_ON_INVALID, paths[i],
                f"objective {obj.id!r} needs {paths[i]}.key_results[{bad_kr[0]}], "
                "which has an error"))
            invalid.add(i)
            continue
        uses_children = not obj.key_results or obj.include_children
        kids = children_of[i]
        if uses_children:
            bad_kids = [c for c in kids if c in invalid]
            if bad_kids:
                errors.append(E.OkrError(
                    E.DEPENDS_ON_INVALID, paths[i],
                    f"objective {obj.id!r} rolls up {paths[bad_kids[0]]}, which has an error"))
                invalid.add(i)
                continue
        else:
            kids = []
        krs = [kr_tracks[(i, j)] for j in range(len(obj.key_results))]
        ext = [(str(objectives[c].id), float(objectives[c].weight)) for c in kids]
        now = _rollup(obj, [t.now for t in krs],
                      [(cid, w, tracks[c].now) for (cid, w), c in zip(ext, kids, strict=True)],
                      policy)
        summed = now.explanation.value  # (a sum's value: with include_children its raw is
        # hidden inside the mean, and a total beyond floating point is still not finite)
        if now.error is None and (
                (now.raw is not None and not math.isfinite(now.raw))
                or (summed is not None and not all(map(math.isfinite, (
                    summed, now.explanation.target or 0.0, now.explanation.start or 0.0))))):
            now = attrs.evolve(now, error=E.OkrValueError(
                E.NOT_FINITE, "", f"objective {obj.id!r}: progress is not a finite number "
                "(the summed values overflow floating point)"))
        if now.error is not None:
            errors.append(now.error.to_error(paths[i]))
            invalid.add(i)
            continue
        # Only what the rollup counts can give the objective a trend or a forecast.
        counted = {(it.type, it.id) for it in now.explanation.items if it.contributes}
        counted_krs = [t for t in krs if ("key_result", t.result.id) in counted]
        counted_kids = [c for c in kids if ("objective", objectives[c].id) in counted]
        has_history = (any(t.has_history for t in counted_krs)
                       or any(tracks[c].has_history for c in counted_kids))
        prev = _rollup(obj, [t.previous or t.now for t in krs],
                       [(cid, w, tracks[c].previous) for (cid, w), c in
                        zip(ext, kids, strict=True)], policy)
        has_forecast = obj.due is not None and (
            any(t.projected is not None for t in counted_krs)
            or any(tracks[c].has_forecast for c in counted_kids))
        projected = _rollup(obj, [t.projected or t.now for t in krs],
                            [(cid, w, tracks[c].projected if tracks[c].has_forecast
                              else tracks[c].now) for (cid, w), c in zip(ext, kids, strict=True)],
                            policy)
        # (uncapped) a projected progress beyond floating point is no forecast
        has_forecast = (has_forecast and projected.progress is not None
                        and math.isfinite(projected.progress))
        tracks[i] = _ObjTrack(now.progress, prev.progress,
                              projected.progress if has_forecast else None, has_history,
                              has_forecast)
        for item, j in zip(now.explanation.items, range(len(krs)), strict=False):
            contributes_in_sum[(i, j)] = item.contributes
        expected = _expected(as_of, obj.start, obj.due)
        range_states = [t.now for t in krs if t.now.range_status is not None]
        computed, source = colour_source(
            now.progress, expected, [(t.kr.id, t.range_status) for t in range_states], policy)
        colour = computed
        if obj.status is not None:
            colour = MANUAL_COLOURS[obj.status]
            source = ColourSource("manual", obj.status)
        trend: Trend | None = None
        if has_history and now.progress is not None and prev.progress is not None:
            trend = F.trend(prev.progress, now.progress, policy.tolerance)
        logged = [t.result.stale for t in krs if t.result.stale is not None]
        forecast = None
        if tracks[i].has_forecast and projected.progress is not None:
            fc_ranges = [t.projected or t.now for t in krs if t.now.range_status is not None]
            fc_colour = F.pace_colour(projected.progress, 1.0, policy.pace, policy.tolerance)[0]
            fc_colour = F.worst_colour(fc_colour, *(s.range_status for s in fc_ranges)) or fc_colour
            forecast = Forecast(None, projected.progress, fc_colour)
        obj_results[obj.id] = ObjectiveResult(
            id=obj.id,
            owner=obj.owner,
            parent=obj.parent,
            progress=now.progress,
            raw_progress=now.raw,
            expected=expected,
            colour=colour,
            computed_colour=computed,
            manual_status=obj.status,
            mode=now.explanation.mode,
            trend=trend,
            stale=all(logged) if logged else None,
            forecast=forecast,
            grade=None if now.progress is None else _grade(now.progress, obj.ambition, policy),
            explanation=attrs.evolve(now.explanation, expected=expected, colour=source),
        )

    # key results, in document order, with their contribution known
    for i, obj in enumerate(objectives):
        for j, _kr in enumerate(obj.key_results):
            found = kr_tracks.get((i, j))
            if found is None:
                continue
            result = found.result
            if (i, j) in contributes_in_sum:
                result = attrs.evolve(result, contributes=contributes_in_sum[(i, j)])
            kr_results[result.id] = result

    ordered = {str(objectives[i].id): obj_results[str(objectives[i].id)]
               for i in range(n) if i not in invalid and objectives[i].id in obj_results}

    # --- people --------------------------------------------------------------------------------
    people, person_errors = person_results(
        objectives, paths, invalid, ordered, {k: t.result for k, t in kr_tracks.items()})
    errors.extend(person_errors)

    error_paths: dict[tuple[str, str], str] = {}
    for i, obj in enumerate(objectives):
        if obj.id is not None and obj.id not in ordered:
            error_paths.setdefault(("objective", obj.id), paths[i])
        for j, kr in enumerate(obj.key_results):
            if kr.id is not None and kr.id not in kr_results:
                error_paths.setdefault(("key_result", kr.id), f"{paths[i]}.key_results[{j}]")

    return Evaluation(
        as_of=isoformat(document.as_of),
        policy=policy,
        objectives=ordered,
        key_results=kr_results,
        people=people,
        errors=tuple(sorted(errors, key=E.error_sort_key)),
        error_paths=error_paths,
        warnings=document.warnings,
    )
