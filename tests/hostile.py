"""Hypothesis strategies of hostile interchange documents, as JSON text.

Type confusion in every field, extreme numbers (10**400, 1e308, subnormals, NaN and infinity
tokens, integers of thousands of digits) and dates (years 1 and 9999 with offsets), and deep and
wide structures.  Used by ``tests/test_hostile.py``, which runs them through the command line and
both engines.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "EXTREME_DATES",
    "EXTREME_NUMBERS",
    "Raw",
    "confused",
    "deep",
    "documents",
    "extreme_numbers",
    "forests",
    "hostile_text",
    "huge_integer",
    "shapes",
]

EXTREME_NUMBERS: tuple[Any, ...] = (
    0, -0.0, 1, -1, 0.5, 1e308, -1e308, 1.7976931348623157e308, -1.7976931348623157e308,
    5e-324, -5e-324, 1e-300, 2.2250738585072014e-308, 10**400, -(10**400), 2**63, -(2**63) - 1,
    2**53 + 1, 1e16, float("nan"), float("inf"), float("-inf"),
)
"""Numbers at and beyond the edges of a double (NaN and infinities become JSON tokens)."""

EXTREME_DATES: tuple[str, ...] = (
    "0001-01-01", "9999-12-31", "9999-12-30", "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00-05:00", "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59.999999Z",
    "0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2026-02-15", "2026-13-01", "2026-02-30",
    "2026-02-15T25:00:00Z", "20260215", "",
)
"""Dates at the ends of the calendar, with and without offsets, and malformed ones."""

HUGE_DIGITS = 5_000
"""An integer of this many digits is beyond Python's int-string conversion limit (4,300)."""


class Raw:
    """JSON text that :func:`hostile_text` writes as is (too deep or too long for ``json``)."""

    def __init__(self, text: str, label: str) -> None:
        self.text = text
        self.label = label

    def __repr__(self) -> str:
        return self.label


def huge_integer(digits: int = HUGE_DIGITS) -> Raw:
    """An integer of ``digits`` digits (beyond Python's int-string conversion limit)."""
    return Raw("1" + "0" * (digits - 1), f"huge_integer({digits})")


def extreme_numbers() -> st.SearchStrategy[Any]:
    """Numbers at the edges, any float, and integers far beyond a double."""
    return st.one_of(
        st.sampled_from(EXTREME_NUMBERS),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**500), max_value=10**500),
        st.just(huge_integer()),
    )


def deep(depth: int, leaf: str = "1") -> Raw:
    """A value nested ``depth`` levels deep, lists and objects alternating."""
    opening = "".join('{"x": ' if level % 2 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(depth)))
    return Raw(opening + leaf + closing, f"deep({depth})")


def confused() -> st.SearchStrategy[Any]:
    """A value of any JSON type, for a field that expects another."""
    scalars = st.one_of(
        st.none(), st.booleans(), extreme_numbers(), st.text(max_size=8),
        st.sampled_from(EXTREME_DATES), st.sampled_from(["metric", "binary", "milestone", "12k",
                                                         "NaN", "1e400"]),
    )
    return st.one_of(
        scalars,
        st.lists(scalars, max_size=3),
        st.dictionaries(st.text(max_size=4), scalars, max_size=3),
        st.integers(min_value=70, max_value=3_000).map(deep),
    )


def _kr_fields() -> dict[str, st.SearchStrategy[Any]]:
    number = st.one_of(st.sampled_from([0, 1, 3, 5, 10, 0.5]), extreme_numbers())
    date = st.sampled_from(EXTREME_DATES)
    check_in = st.fixed_dictionaries({"at": st.one_of(date, confused())},
                                     optional={"value": number, "done": st.booleans()})
    return {
        "kind": st.sampled_from(["metric", "binary", "milestone"]),
        "unit": st.sampled_from(["u", "v", ""]),
        "start": number, "target": number, "current": number, "weight": number,
        "done": st.booleans(), "stages_total": number, "stages_done": number,
        "due": date, "owners": st.lists(st.sampled_from(["a", "b", "c"]), max_size=2),
        "check_ins": st.lists(check_in, max_size=4),
        "range": st.fixed_dictionaries({}, optional={
            "red_low": number, "yellow_low": number, "yellow_high": number, "red_high": number,
            "mode": st.sampled_from(["band", "graded", "linear"])}),
        "checkpoints": st.lists(st.fixed_dictionaries(
            {"name": st.text(min_size=1, max_size=3), "done": st.booleans()}), max_size=3),
    }


def _field(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes a confused one."""
    return st.one_of(strategy, strategy, strategy, confused())


@st.composite
def _key_result(draw: st.DrawFn, index: int) -> Any:
    fields = _kr_fields()
    kr: dict[str, Any] = {"id": draw(_field(st.just(f"k{index}"))),
                          "kind": draw(_field(fields.pop("kind")))}
    for name in draw(st.lists(st.sampled_from(sorted(fields)), max_size=6, unique=True)):
        kr[name] = draw(_field(fields[name]))
    if draw(st.integers(0, 9)) == 0:
        kr["unknown_field"] = draw(confused())
    return draw(st.one_of(st.just(kr), st.just(kr), st.just(kr), confused()))


@st.composite
def _objective(draw: st.DrawFn, index: int, n: int, first_kr: int) -> Any:
    parents = st.one_of(st.none(), st.sampled_from([f"o{i}" for i in range(n)] + ["nobody"]))
    optional = {
        "owner": st.sampled_from(["a", "b", "c"]), "parent": parents,
        "weight": st.one_of(st.sampled_from([0, 1, 2]), extreme_numbers()),
        "start": st.sampled_from(EXTREME_DATES), "due": st.sampled_from(EXTREME_DATES),
        "mode": st.sampled_from(["auto", "mean", "sum"]),
        "include_children": st.booleans(),
        "status": st.sampled_from(["on_track", "behind", "at_risk", "off_track"]),
        "ambition": st.sampled_from(["committed", "aspirational"]),
        "progress_settings": st.fixed_dictionaries(
            {"unit": st.sampled_from(["u", "v"])},
            optional={"target": extreme_numbers(), "auto": st.booleans(),
                      "start": extreme_numbers()}),
    }
    obj: dict[str, Any] = {"id": draw(_field(st.just(f"o{index}")))}
    for name in draw(st.lists(st.sampled_from(sorted(optional)), max_size=6, unique=True)):
        obj[name] = draw(_field(optional[name]))
    count = draw(st.integers(0, 3))
    obj["key_results"] = draw(_field(st.tuples(
        *(_key_result(first_kr + j) for j in range(count))).map(list)))
    return draw(st.one_of(st.just(obj), st.just(obj), st.just(obj), st.just(obj), confused()))


@st.composite
def documents(draw: st.DrawFn, max_objectives: int = 5) -> dict[str, Any]:
    """A document whose every field may hold a wrong type or an extreme value."""
    n = draw(st.integers(0, max_objectives))
    objectives = [draw(_objective(i, n, 10 * i)) for i in range(n)]
    doc: dict[str, Any] = {
        "okrcore": 1,
        "as_of": draw(st.one_of(st.sampled_from(["2026-02-15T00:00:00Z", "5000-01-01T00:00:00Z"]),
                                st.sampled_from(EXTREME_DATES))),
        "objectives": objectives,
    }
    if draw(st.booleans()):
        doc["policy"] = draw(st.fixed_dictionaries({}, optional={
            "cap": st.one_of(st.none(), st.sampled_from([1, 1.5]), extreme_numbers()),
            "preset": st.sampled_from(["betterworks", "burningokr", "nope"]),
            "stale_days": st.one_of(st.sampled_from([7, 0]), extreme_numbers()),
        }))
    if draw(st.integers(0, 4)) == 0:
        doc[draw(st.sampled_from(["okrcore", "as_of", "objectives", "policy", "extra"]))] = (
            draw(confused()))
    return doc


def hostile_text(value: Any) -> str:
    """JSON text of a value: NaN and infinities as tokens, :class:`Raw` values as their text."""
    raws: list[Raw] = []

    def default(obj: Any) -> Any:
        if isinstance(obj, Raw):
            raws.append(obj)
            return f"__RAW_{len(raws) - 1}__"
        raise TypeError(type(obj).__name__)

    text = json.dumps(value, default=default, allow_nan=True)
    for index, raw in enumerate(raws):
        text = text.replace(f'"__RAW_{index}__"', raw.text, 1)
    return text


@st.composite
def shapes(draw: st.DrawFn) -> dict[str, Any]:
    """A wide or deep alignment structure: a chain, siblings, a cycle, many key results."""
    n = draw(st.integers(1, 300))
    shape = draw(st.sampled_from(["chain", "siblings", "cycle", "key_results"]))
    as_of = "2026-02-15T00:00:00Z"
    if shape == "key_results":
        krs = [{"id": f"k{i}", "kind": "metric", "unit": "u", "target": 10, "current": i % 11,
                "weight": draw(st.sampled_from([1, 1e308]))} for i in range(n)]
        return {"okrcore": 1, "as_of": as_of, "objectives": [
            {"id": "o", "owner": "a", "start": "2026-01-01", "due": "2026-03-31",
             "mode": draw(st.sampled_from(["mean", "sum"])), "key_results": krs}]}
    weight = draw(st.sampled_from([1, 1e308]))
    objectives = []
    for i in range(n):
        parent = {"chain": f"o{i - 1}" if i else None, "siblings": "o0" if i else None,
                  "cycle": f"o{(i + 1) % n}"}[shape]
        objectives.append({"id": f"o{i}", "owner": f"p{i % 3}", "parent": parent,
                           "weight": weight, "include_children": True,
                           "key_results": [{"id": f"k{i}", "kind": "binary",
                                            "done": i % 2 == 0}] if i % 3 else []})
    return {"okrcore": 1, "as_of": as_of, "objectives": objectives}


_WEIGHTS = (1, 0, 2, 1e308, 1.7e308, 5e-324, 1e-300)
_VALUES = (0, 0.5, 1, 5, 1e300, 1e308, -1e308, 1.7e308)


@st.composite
def forests(draw: st.DrawFn) -> dict[str, Any]:
    """Valid alignment forests whose weights and values sit at the edges of a double.

    Uncapped or capped, with check-ins (previous states and forecasts), sums and means with
    children: where overflowing sums, rescaled means and infinite intermediate states meet.
    """
    n = draw(st.integers(1, 12))
    objectives = []
    for i in range(n):
        obj: dict[str, Any] = {
            "id": f"o{i}", "owner": draw(st.sampled_from(["a", "b"])),
            "weight": draw(st.sampled_from(_WEIGHTS)), "include_children": draw(st.booleans()),
            "start": "2026-01-01", "due": draw(st.sampled_from(["2026-03-31", None])),
            "mode": draw(st.sampled_from(["auto", "mean", "sum"])), "key_results": []}
        if i and draw(st.booleans()):
            obj["parent"] = f"o{draw(st.integers(0, i - 1))}"
        for j in range(draw(st.integers(0, 3))):
            kr: dict[str, Any] = {
                "id": f"k{i}_{j}", "kind": "metric", "unit": draw(st.sampled_from(["u", "v"])),
                "target": draw(st.sampled_from([1, 10, 1e308, 1e-300])),
                "weight": draw(st.sampled_from(_WEIGHTS)),
                "owners": [draw(st.sampled_from(["a", "b", "c"]))]}
            if draw(st.booleans()):
                kr["check_ins"] = [{"at": "2026-01-05", "value": draw(st.sampled_from(_VALUES))},
                                   {"at": "2026-02-01", "value": draw(st.sampled_from(_VALUES))}]
            else:
                kr["current"] = draw(st.sampled_from(_VALUES))
            obj["key_results"].append(kr)
        objectives.append(obj)
    return {"okrcore": 1, "as_of": "2026-02-15T00:00:00Z", "objectives": objectives,
            "policy": {"cap": draw(st.sampled_from([None, 1, 1.5]))}}
