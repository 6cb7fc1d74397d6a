"""Deliberately faulty OKR implementations, each with a bug found in real OKR tools.

Each one evaluates with the reference and then reproduces one bug on the result, so the
conformance suite must fail it. Importable as ``conf_faulty:<NAME>`` (this directory on the
path), by the pytest plug-in and by ``okrcore conformance harness --impl``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from okrcore.conformance.capabilities import CAPABILITIES
from okrcore.conformance.implementation import REFERENCE
from okrcore.formulas import clamp

Result = dict[str, Any]


class Faulty:
    """The reference, with one bug applied to every result."""

    version = "0.0-faulty"
    capabilities = frozenset(CAPABILITIES)

    def __init__(self, name: str, bug: Callable[[Mapping[str, Any], Result], None]) -> None:
        self.name = name
        self.bug = bug

    def evaluate(self, document: Mapping[str, Any]) -> Result:
        result = REFERENCE.evaluate(document)
        self.bug(document, result)
        return result


def _krs(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {kr["id"]: kr for obj in document.get("objectives", [])
            for kr in obj.get("key_results", []) if isinstance(kr, Mapping) and "id" in kr}


def _truncate(document: Mapping[str, Any], result: Result) -> None:
    # Percentages stored as whole numbers: 1/3 becomes 33%, i.e. 0.33.
    for section in ("key_results", "objectives"):
        for item in result[section].values():
            for field in ("progress", "raw_progress"):
                if item.get(field) is not None:
                    item[field] = math.trunc(item[field] * 100) / 100


def _children_as_zero(document: Mapping[str, Any], result: Result) -> None:
    # A parent averages all of its children, counting a child without data as 0.
    objectives = [o for o in document.get("objectives", []) if isinstance(o, Mapping)]
    children: dict[str, list[Mapping[str, Any]]] = {}
    for obj in objectives:
        if obj.get("parent"):
            children.setdefault(obj["parent"], []).append(obj)
    done: dict[str, float | None] = {}

    def progress(ident: str) -> float | None:
        if ident in done:
            return done[ident]
        done[ident] = None
        item = result["objectives"].get(ident)
        own = next((o for o in objectives if o.get("id") == ident), None)
        value = None if item is None else item.get("progress")
        kids = children.get(ident, [])
        if item is not None and own is not None and not own.get("key_results") and kids:
            weights = [k.get("weight", 1) for k in kids]
            total = sum(w for w in weights if w > 0)
            if total > 0:
                value = sum(w * (progress(k["id"]) or 0.0)
                            for w, k in zip(weights, kids, strict=True) if w > 0) / total
                item["progress"] = item["raw_progress"] = value
        done[ident] = value
        return value

    for obj in objectives:
        progress(obj["id"])


def _absolute_regression(document: Mapping[str, Any], result: Result) -> None:
    # |current - start| / |target - start|: falling back counts as progress.
    krs = _krs(document)
    for ident, item in result["key_results"].items():
        kr = krs.get(ident, {})
        if kr.get("kind") == "metric" and not kr.get("range") and item.get("current") is not None:
            start, target = kr.get("start", 0), kr["target"]
            raw = abs(item["current"] - start) / abs(target - start)
            item["raw_progress"], item["progress"] = raw, clamp(raw, 1.0)


def _reduction_as_increase(document: Mapping[str, Any], result: Result) -> None:
    # Every metric read as an increase from 0: current / target.
    krs = _krs(document)
    for ident, item in result["key_results"].items():
        kr = krs.get(ident, {})
        start = kr.get("start", 0)
        if kr.get("kind") == "metric" and kr["target"] < start and kr["target"] != 0:
            raw = item["current"] / kr["target"]
            item["raw_progress"], item["progress"] = raw, clamp(raw, 1.0)


def _uncapped(document: Mapping[str, Any], result: Result) -> None:
    # Overachievement not capped: progress is the raw progress, only floored at 0.
    for item in result["key_results"].values():
        item["progress"] = max(item["raw_progress"], 0.0)


def _points_colour(p: float, e: float) -> str:
    # The ratios 0.75 / 0.5 read as percentage points behind: half a point behind is red.
    behind = (e - p) * 100
    if p >= 1 or e == 0 or behind <= 0:
        return "green"
    return "red" if behind >= 0.5 else "yellow" if behind >= 0.75 else "green"


def _pace_as_points(document: Mapping[str, Any], result: Result) -> None:
    # The pace ratios 0.75 / 0.5 read as "0.75 / 0.5 percentage points behind".
    for section in ("objectives", "key_results"):
        for item in result[section].values():
            p, e = item.get("progress"), item.get("expected")
            if p is not None and e is not None:
                colour = _points_colour(p, e)
                item["computed_colour" if section == "objectives" else "colour"] = colour
                if section == "objectives" and item.get("colour") is not None:
                    item["colour"] = colour


def _sum_uncapped(document: Mapping[str, Any], result: Result) -> None:
    # A sum rollup reports the raw sum ratio without the cap.
    for item in result["objectives"].values():
        if item.get("mode") == "sum" and item.get("raw_progress") is not None:
            item["progress"] = max(item["raw_progress"], 0.0)


TRUNCATING = Faulty("integer-percent truncation", _truncate)
CHILDREN_AS_ZERO = Faulty("children without data counted as 0", _children_as_zero)
ABSOLUTE_REGRESSION = Faulty("regression counted as progress (absolute value)",
                             _absolute_regression)
REDUCTION_AS_INCREASE = Faulty("reductions computed as increases", _reduction_as_increase)
UNCAPPED = Faulty("overachievement not capped", _uncapped)
PACE_AS_POINTS = Faulty("pace ratio read as percentage points", _pace_as_points)
SUM_UNCAPPED = Faulty("no cap on raw sums", _sum_uncapped)

FAULTY = {
    "TRUNCATING": TRUNCATING,
    "CHILDREN_AS_ZERO": CHILDREN_AS_ZERO,
    "ABSOLUTE_REGRESSION": ABSOLUTE_REGRESSION,
    "REDUCTION_AS_INCREASE": REDUCTION_AS_INCREASE,
    "UNCAPPED": UNCAPPED,
    "PACE_AS_POINTS": PACE_AS_POINTS,
    "SUM_UNCAPPED": SUM_UNCAPPED,
}
"""Every faulty implementation by attribute name."""
