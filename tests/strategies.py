"""Hypothesis strategies for okrcore's model: key results of every kind, objectives, documents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

from hypothesis import strategies as st

from okrcore import (
    PRESETS,
    Binary,
    CheckIn,
    Checkpoint,
    Document,
    KeyResult,
    Metric,
    Milestone,
    Objective,
    PaceRule,
    Policy,
    ProgressSettings,
    Range,
)

RangeMode = Literal["band", "graded", "linear"]
UNITS = ("", "USD", "calls", "deals")
PEOPLE = ("ann", "bob", "carl")
ZONES = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8)))

integers = st.integers(-1000, 1000)
reals = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
numbers: st.SearchStrategy[float] = st.one_of(integers, reals)
"""Finite numbers, some of them integers (JSON keeps the difference)."""

weights: st.SearchStrategy[float] = st.one_of(
    st.just(0), st.integers(1, 5), st.floats(0.01, 10, allow_nan=False))
"""Non-negative weights, 0 included (shown but not counted)."""

instants: st.SearchStrategy[datetime] = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 1, 1),
    timezones=st.sampled_from(ZONES))
"""Aware instants, microseconds and non-UTC offsets included."""

names = st.text(max_size=8)
owners = st.lists(st.sampled_from(PEOPLE), max_size=2, unique=True)


@st.composite
def timelines(draw: st.DrawFn) -> tuple[datetime, datetime]:
    """A start instant and a due instant strictly after it."""
    start = draw(instants)
    length = draw(st.integers(1, 400 * 86_400 * 10**6))
    return start, start + timedelta(microseconds=length)


@st.composite
def ranges(draw: st.DrawFn, target: float) -> Range:
    """Breakpoints ordered around ``target``, each one optional."""
    below = sorted(draw(st.lists(st.floats(0, 1e4), min_size=2, max_size=2)))
    above = sorted(draw(st.lists(st.floats(0, 1e4), min_size=2, max_size=2)))
    present = draw(st.lists(st.booleans(), min_size=4, max_size=4))
    values = [target - below[1], target - below[0], target + above[0], target + above[1]]
    red_low, yellow_low, yellow_high, red_high = (
        v if keep else None for v, keep in zip(values, present, strict=True))
    mode: RangeMode = draw(st.sampled_from(("band", "graded", "linear")))
    return Range(red_low=red_low, yellow_low=yellow_low, yellow_high=yellow_high,
                 red_high=red_high, mode=mode)


def _check_ins(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[CheckIn]]:
    return st.lists(st.builds(CheckIn, instants, values), max_size=4)


@st.composite
def metrics(draw: st.DrawFn, ident: str = "k", unit: str | None = None,
            with_range: bool | None = None) -> Metric:
    """Any valid metric: increase, reduction or range, with a current value or a history."""
    start = draw(numbers)
    ranged = draw(st.booleans()) if with_range is None else with_range
    target = draw(numbers)
    bounds = draw(ranges(float(target))) if ranged else None
    if target == start and (bounds is None or bounds.mode == "linear"):
        target = start + draw(st.sampled_from((-1, 1))) * draw(st.integers(1, 1000))
        bounds = draw(ranges(float(target))) if ranged else None
    history = draw(st.none() | _check_ins(numbers))
    current = None if history is not None else draw(st.none() | numbers)
    return Metric(
        id=ident, target=target, start=start, current=current,
        unit=draw(st.sampled_from(UNITS)) if unit is None else unit,
        range=bounds, check_ins=history, weight=draw(weights), owners=draw(owners),
        due=draw(st.none() | instants), name=draw(names))


@st.composite
def binaries(draw: st.DrawFn, ident: str = "k") -> Binary:
    """Any valid binary key result."""
    history = draw(st.none() | _check_ins(st.booleans()))
    done = None if history is not None else draw(st.none() | st.booleans())
    return Binary(id=ident, done=done, check_ins=history, weight=draw(weights),
                  owners=draw(owners), due=draw(st.none() | instants), name=draw(names))


@st.composite
def milestones(draw: st.DrawFn, ident: str = "k") -> Milestone:
    """Any valid milestone: simple, staged or a list of checkpoints."""
    common: dict[str, Any] = {"weight": draw(weights), "owners": draw(owners),
                              "due": draw(st.none() | instants), "name": draw(names)}
    shape = draw(st.sampled_from(("simple", "staged", "checkpoints")))
    if shape == "simple":
        history = draw(st.none() | _check_ins(st.booleans()))
        done = None if history is not None else draw(st.none() | st.booleans())
        return Milestone(id=ident, done=done, check_ins=history, **common)
    if shape == "staged":
        total = draw(st.integers(1, 10))
        stages = st.integers(0, total)
        history = draw(st.none() | _check_ins(stages))
        stages_done = None if history is not None else draw(st.none() | stages)
        return Milestone(id=ident, stages_total=total, stages_done=stages_done,
                         check_ins=history, **common)
    points = draw(st.lists(st.builds(Checkpoint, st.text(min_size=1, max_size=5),
                                     st.booleans()), min_size=1, max_size=5))
    return Milestone(id=ident, checkpoints=points, **common)


def key_results(ident: str = "k") -> st.SearchStrategy[KeyResult]:
    """A key result of any kind."""
    return st.one_of(metrics(ident), binaries(ident), milestones(ident))


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """A preset with some overrides."""
    overrides: dict[str, Any] = {}
    if draw(st.booleans()):
        overrides["cap"] = draw(st.sampled_from((1.0, 1.5, 2, None)))
    if draw(st.booleans()):
        overrides["strict_breakpoints"] = draw(st.booleans())
    if draw(st.booleans()):
        overrides["stale_days"] = draw(st.floats(0.5, 30))
    if draw(st.booleans()):
        yellow = draw(st.floats(0.1, 1))
        overrides["pace"] = PaceRule("ratio", yellow, draw(st.floats(0, yellow)))
    return Policy.from_preset(draw(st.sampled_from(sorted(PRESETS))), **overrides)


@st.composite
def settings(draw: st.DrawFn) -> ProgressSettings:
    """Progress settings: a unit and a fixed or automatic target, maybe a start."""
    auto = draw(st.booleans())
    target = draw(st.none() | numbers) if auto else draw(numbers)
    return ProgressSettings(unit=draw(st.sampled_from(UNITS[1:])), target=target, auto=auto,
                            start=draw(st.none() | numbers))


@st.composite
def documents(draw: st.DrawFn) -> Document:
    """A valid document: unique ids, parents among earlier objectives (no cycles)."""
    count = draw(st.integers(1, 4))
    objectives = []
    for i in range(count):
        krs = [draw(key_results(f"k{i}_{j}")) for j in range(draw(st.integers(0, 4)))]
        start, due = draw(timelines())
        timeline = draw(st.sampled_from(("both", "start", "due", "none")))
        objectives.append(Objective(
            id=f"o{i}",
            key_results=krs,
            owner=draw(st.none() | st.sampled_from(PEOPLE)),
            parent=draw(st.none() | st.sampled_from([f"o{p}" for p in range(i)]))
            if i else None,
            weight=draw(weights),
            start=start if timeline in ("both", "start") else None,
            due=due if timeline in ("both", "due") else None,
            mode=draw(st.sampled_from(("auto", "mean", "sum"))),
            ambition=draw(st.sampled_from(("committed", "aspirational"))),
            status=draw(st.none() | st.sampled_from(
                ("on_track", "behind", "at_risk", "off_track"))),
            include_children=draw(st.booleans()),
            progress_settings=draw(st.none() | settings()),
            name=draw(names),
        ))
    return Document(as_of=draw(instants), objectives=objectives, policy=draw(policies()))
