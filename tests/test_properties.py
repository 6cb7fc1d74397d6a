"""Properties that hold for every input (hypothesis): bounds, monotony, symmetries, round trips."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Literal

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import okrcore
from okrcore import (
    Binary,
    CheckIn,
    Document,
    Evaluation,
    KeyResult,
    Metric,
    Objective,
    Policy,
    ProgressSettings,
    Range,
)
from okrcore import formulas as F
from strategies import (
    binaries,
    documents,
    instants,
    key_results,
    metrics,
    milestones,
    numbers,
    policies,
    timelines,
    weights,
)

caps = st.sampled_from([1.0, 1.5, 2.0, None])
small_ints = st.integers(-10**6, 10**6)
ONE_MICROSECOND = timedelta(microseconds=1)


def evaluate(*objectives: Objective, as_of: datetime, policy: Policy | None = None
             ) -> Evaluation:
    return okrcore.evaluate(Document(as_of=as_of, objectives=objectives,
                                     policy=policy or Policy()))


def progress_of(kr: KeyResult, value: float | bool, cap: float | None) -> tuple[float, float]:
    return okrcore.key_result_progress(kr, value, Policy(cap=cap))


def within_cap(progress: float, cap: float | None) -> bool:
    return progress >= 0 and (cap is None or progress <= cap * (1 + 1e-12))


# --------------------------------------------------------------------------------------------
# bounds
# --------------------------------------------------------------------------------------------


@given(kr=key_results(), policy=policies(), as_of=instants, timeline=timelines())
def test_kr_progress_between_zero_and_cap(kr: KeyResult, policy: Policy, as_of: datetime,
                                          timeline: tuple[datetime, datetime]) -> None:
    start, due = timeline
    if kr.due is not None and kr.due <= start:
        kr = attrs.evolve(kr, due=due)  # a KR due before its objective starts is an error
    result = evaluate(Objective(id="o", key_results=[kr], start=start, due=due),
                      as_of=as_of, policy=policy)
    kr_result = result.key_results["k"]
    assert within_cap(kr_result.progress, policy.cap)
    assert kr_result.progress == F.clamp(kr_result.raw_progress, policy.cap)
    if not isinstance(kr, Metric) or (kr.range is not None and kr.range.mode != "linear"):
        assert 0 <= kr_result.raw_progress <= 1  # ratios, bands and grades never leave [0, 1]
    if kr_result.forecast is not None:
        assert within_cap(kr_result.forecast.progress, policy.cap)
    assert kr_result.expected is not None
    assert 0 <= kr_result.expected <= 1
    objective = result.objectives.get("o")
    if objective is not None and objective.progress is not None:
        assert within_cap(objective.progress, policy.cap)


@given(doc=documents())
def test_every_document_evaluates_within_bounds(doc: Document) -> None:
    result = okrcore.evaluate(doc)
    cap = doc.policy.cap
    for kr in result.key_results.values():
        assert within_cap(kr.progress, cap)
    for objective in result.objectives.values():
        if objective.progress is not None:
            assert within_cap(objective.progress, cap)
        if objective.expected is not None:
            assert 0 <= objective.expected <= 1
    for person in result.people.values():
        if person.progress is not None:
            assert within_cap(person.progress, cap)
    json.dumps(result.to_json(), allow_nan=False)  # a strict JSON document


# --------------------------------------------------------------------------------------------
# monotony and symmetries of metric progress
# --------------------------------------------------------------------------------------------


@settings(max_examples=200)
@given(start=numbers, target=numbers, a=numbers, b=numbers, cap=caps, linear=st.booleans())
def test_metric_progress_monotone_in_its_direction(start: float, target: float, a: float,
                                                   b: float, cap: float | None,
                                                   linear: bool) -> None:
    assume(target != start)
    kr = Metric(id="k", start=start, target=target,
                range=Range(mode="linear") if linear else None)
    worse, better = sorted([a, b])
    if target < start:  # a reduction: lower values are better
        worse, better = better, worse
    raw_worse, p_worse = progress_of(kr, worse, cap)
    raw_better, p_better = progress_of(kr, better, cap)
    assert raw_worse <= raw_better
    assert p_worse <= p_better


@settings(max_examples=200)
@given(start=small_ints, target=small_ints, current=small_ints, shift=small_ints, cap=caps)
def test_reduction_equals_mirrored_and_shifted_increase(start: int, target: int, current: int,
                                                        shift: int, cap: float | None) -> None:
    assume(target < start)
    reduction = Metric(id="k", start=start, target=target, current=current, unit="u")
    mirrored = Metric(id="k", start=-start, target=-target, current=-current, unit="u")
    shifted = Metric(id="k", start=start + shift, target=target + shift,
                     current=current + shift, unit="u")
    assert mirrored.direction == 1
    expected = progress_of(reduction, current, cap)
    assert progress_of(mirrored, -current, cap) == expected
    assert progress_of(shifted, current + shift, cap) == expected
    # and through a whole evaluation (a one-metric sum goal)
    as_of = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    policy = Policy(cap=cap)
    results = [evaluate(Objective(id="o", key_results=[kr]), as_of=as_of, policy=policy)
               for kr in (reduction, mirrored, shifted)]
    assert len({r.objectives["o"].progress for r in results}) == 1
    assert results[0].objectives["o"].progress == expected[1]


@st.composite
def sum_goals(draw: st.DrawFn) -> tuple[list[Metric | Binary], ProgressSettings | None]:
    """Metrics of one unit and direction (plus non-contributing binaries) and maybe settings.

    Every target is at least 10 away from its start, so that the goal's denominator is never
    small next to the values summed.
    """
    sign = draw(st.sampled_from((1, -1)))
    count = draw(st.integers(1, 5))
    starts = draw(st.lists(st.floats(0, 100), min_size=count, max_size=count))
    spans = draw(st.lists(st.floats(10, 1000), min_size=count, max_size=count))
    currents = draw(st.lists(st.floats(0, 1200), min_size=count, max_size=count))
    krs: list[Metric | Binary] = [
        Metric(id=f"m{i}", start=s, target=s + sign * d, current=c, unit="u")
        for i, (s, d, c) in enumerate(zip(starts, spans, currents, strict=True))]
    krs += [Binary(id=f"b{i}", done=True) for i in range(draw(st.integers(0, 2)))]
    kind = draw(st.sampled_from(("none", "auto", "fixed")))
    if kind == "none":
        return krs, None
    goal_start = None
    if draw(st.booleans()):
        goal_start = sum(starts) + sign * draw(st.floats(-100, 0))
    if kind == "auto":
        return krs, ProgressSettings(unit="u", auto=True, start=goal_start)
    base = sum(starts) if goal_start is None else goal_start
    target = base + sign * draw(st.floats(10 * count, 5000))
    return krs, ProgressSettings(unit="u", target=target, start=goal_start)


AS_OF = datetime.fromisoformat("2026-01-01T00:00:00+00:00")


def sum_goal_progress(krs: list[Metric | Binary], settings: ProgressSettings | None,
                      cap: float | None = 1.0) -> float:
    # auto picks sum by itself (progress settings, or one unit and direction); with binaries
    # and no settings, ask for it
    mode: Literal["auto", "sum"] = "auto"
    if settings is None and any(isinstance(k, Binary) for k in krs):
        mode = "sum"
    result = evaluate(Objective(id="o", key_results=krs, progress_settings=settings, mode=mode),
                      as_of=AS_OF, policy=Policy(cap=cap))
    assert result.errors == ()
    assert result.objectives["o"].mode == "sum"
    progress = result.objectives["o"].progress
    assert progress is not None
    return progress


@settings(max_examples=200)
@given(goal=sum_goals(), factor=st.sampled_from([1e-3, 0.1, 0.5, 3.0, 7.0, 1e3, 123456.789])
       | st.floats(1e-3, 1e3), cap=caps)
def test_scaling_a_sum_goal_leaves_progress_unchanged(
        goal: tuple[list[Metric | Binary], ProgressSettings | None], factor: float,
        cap: float | None) -> None:
    krs, settings = goal
    scaled: list[Metric | Binary] = [
        Metric(id=k.id, start=k.start * factor, target=k.target * factor,
               current=None if k.current is None else k.current * factor, unit=k.unit)
        if isinstance(k, Metric) else k for k in krs]
    scaled_settings = None
    if settings is not None:
        scaled_settings = ProgressSettings(
            unit=settings.unit, auto=settings.auto,
            target=None if settings.target is None else settings.target * factor,
            start=None if settings.start is None else settings.start * factor)
    # rel 1e-12; the abs bound only matters next to 0, where a relative bound means nothing
    assert sum_goal_progress(scaled, scaled_settings, cap) == pytest.approx(
        sum_goal_progress(krs, settings, cap), rel=1e-12, abs=1e-12)


# --------------------------------------------------------------------------------------------
# objective rollups
# --------------------------------------------------------------------------------------------


@settings(max_examples=200)
@given(goal=sum_goals(), data=st.data())
def test_sum_goal_invariant_under_permutation(
        goal: tuple[list[Metric | Binary], ProgressSettings | None], data: st.DataObject
) -> None:
    krs, settings = goal
    shuffled = data.draw(st.permutations(krs))
    assert sum_goal_progress(shuffled, settings) == pytest.approx(
        sum_goal_progress(krs, settings), rel=1e-12, abs=1e-12)


def mixed_key_results(count: int) -> st.SearchStrategy[list[KeyResult]]:
    return st.tuples(*[st.one_of(metrics(f"k{i}"), binaries(f"k{i}"), milestones(f"k{i}"))
                       for i in range(count)]).map(list)


@given(krs=st.integers(1, 6).flatmap(mixed_key_results), policy=policies(), data=st.data())
def test_mean_invariant_under_permutation(krs: list[KeyResult], policy: Policy,
                                          data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(krs))
    first = evaluate(Objective(id="o", key_results=krs, mode="mean"), as_of=AS_OF,
                     policy=policy).objectives["o"].progress
    second = evaluate(Objective(id="o", key_results=shuffled, mode="mean"), as_of=AS_OF,
                      policy=policy).objectives["o"].progress
    if first is None:
        assert second is None
    else:
        assert second == pytest.approx(first, rel=1e-12)


@given(krs=st.integers(1, 6).flatmap(mixed_key_results), policy=policies())
def test_weighted_mean_between_min_and_max(krs: list[KeyResult], policy: Policy) -> None:
    result = evaluate(Objective(id="o", key_results=krs, mode="mean"), as_of=AS_OF,
                      policy=policy)
    if "o" not in result.objectives:
        # a key result in error (e.g. a progress that overflows for a subnormal target: not
        # finite, SEMANTICS §1) leaves its objective in error, depends_on_invalid
        assert len(result.key_results) < len(krs)
        assert ("depends_on_invalid", "objectives[0]") in {(e.code, e.path)
                                                          for e in result.errors}
        return
    counted = [r.progress for r in result.key_results.values() if r.weight > 0]
    progress = result.objectives["o"].progress
    if not counted:
        assert progress is None
        return
    assert progress is not None
    assert min(counted) * (1 - 1e-12) <= progress <= max(counted) * (1 + 1e-12)
    # and it is the weighted mean of the counted KRs
    pairs = [(r.weight, r.progress) for r in result.key_results.values() if r.weight > 0]
    total = sum(w for w, _ in pairs)
    assert progress == pytest.approx(sum(w * p for w, p in pairs) / total, rel=1e-12)


@settings(max_examples=200)
@given(values=st.lists(st.floats(0, 2, allow_subnormal=False), min_size=1, max_size=8),
       data=st.data())
def test_weighted_mean_formula_between_min_and_max(values: list[float],
                                                   data: st.DataObject) -> None:
    ws = data.draw(st.lists(weights, min_size=len(values), max_size=len(values)))
    mean = F.weighted_mean(values, ws)
    counted = [v for v, w in zip(values, ws, strict=True) if w > 0]
    if not counted:
        assert mean is None
        return
    assert mean is not None
    assert min(counted) * (1 - 1e-12) <= mean <= max(counted) * (1 + 1e-12)


@given(children=st.lists(st.tuples(weights, st.integers(0, 4)), min_size=1, max_size=5))
def test_parent_without_krs_is_weighted_mean_of_children(
        children: list[tuple[float, int]]) -> None:
    # child i: a 4-stage milestone with d stages done -> progress d / 4
    objectives = [Objective(id="parent")] + [
        Objective(id=f"c{i}", parent="parent", weight=w,
                  key_results=[okrcore.Milestone(id=f"m{i}", stages_total=4, stages_done=d)])
        for i, (w, d) in enumerate(children)]
    progress = evaluate(*objectives, as_of=AS_OF).objectives["parent"].progress
    total = sum(w for w, _ in children)
    if total == 0:
        assert progress is None
    else:
        assert progress == pytest.approx(sum(w * d / 4 for w, d in children) / total,
                                         rel=1e-12)


# --------------------------------------------------------------------------------------------
# interchange round trip
# --------------------------------------------------------------------------------------------


@given(doc=documents())
def test_dump_load_round_trip(doc: Document) -> None:
    data = doc.to_dict()
    assert okrcore.Document.from_dict(data) == doc
    assert json.loads(json.dumps(data)) == data
    assert okrcore.loads(okrcore.dumps(doc)) == doc
    assert okrcore.loads(okrcore.dumps(doc, indent=None)) == doc


@given(doc=documents())
def test_dumped_document_evaluates_like_the_model(doc: Document) -> None:
    assert okrcore.evaluate_document(doc.to_dict()) == okrcore.evaluate(doc).to_json()


# --------------------------------------------------------------------------------------------
# time
# --------------------------------------------------------------------------------------------


@given(moments=st.lists(instants, min_size=1, max_size=5, unique=True),
       values=st.lists(numbers, min_size=5, max_size=5), data=st.data())
def test_check_in_seen_at_its_instant_and_not_a_microsecond_before(
        moments: list[datetime], values: list[float], data: st.DataObject) -> None:
    history = [CheckIn(at, v) for at, v in zip(moments, values, strict=False)]
    kr = Metric(id="k", start=-7, target=100, unit="u", check_ins=history)
    chosen = data.draw(st.sampled_from(history))
    at = evaluate(Objective(id="o", key_results=[kr]), as_of=chosen.at).key_results["k"]
    assert at.current == chosen.value
    before = evaluate(Objective(id="o", key_results=[kr]), as_of=chosen.at - ONE_MICROSECOND)
    earlier = [c for c in history if c.at < chosen.at]
    known = max(earlier, key=lambda c: c.at).value if earlier else -7
    assert before.key_results["k"].current == known


@settings(max_examples=200)
@given(timeline=timelines(), a=instants, b=instants)
def test_expected_progress_monotone_in_as_of(timeline: tuple[datetime, datetime], a: datetime,
                                             b: datetime) -> None:
    start, due = timeline
    early, late = sorted([a, b])
    objective = Objective(id="o", start=start, due=due, key_results=[Binary(id="k")])
    e_early = evaluate(objective, as_of=early).objectives["o"].expected
    e_late = evaluate(objective, as_of=late).objectives["o"].expected
    assert e_early is not None
    assert e_late is not None
    assert 0 <= e_early <= e_late <= 1
    if early <= start:
        assert e_early == 0
    if late >= due:
        assert e_late == 1


@settings(max_examples=200)
@given(progress=st.floats(0, 1.5), expected=st.floats(0, 1), policy=policies())
def test_on_or_ahead_of_pace_is_green(progress: float, expected: float, policy: Policy
                                      ) -> None:
    colour, _ = F.pace_colour(progress, expected, policy.pace)
    if progress >= expected or progress >= 1 or expected == 0:
        assert colour == "green"


@settings(max_examples=200)
@given(a=st.floats(0, 1.5), b=st.floats(0, 1.5), expected=st.floats(0, 1), policy=policies())
def test_pace_colour_never_improves_as_progress_falls(a: float, b: float, expected: float,
                                                      policy: Policy) -> None:
    order = ("green", "yellow", "red")
    low, high = sorted([a, b])
    worse = order.index(F.pace_colour(low, expected, policy.pace)[0])
    better = order.index(F.pace_colour(high, expected, policy.pace)[0])
    assert worse >= better
