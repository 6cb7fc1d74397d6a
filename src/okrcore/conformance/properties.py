"""The property catalogue: named properties, each citing the specification section it checks.

Every :class:`Property` belongs to one capability group, needs a set of capabilities, and is
either *differential* (the implementation must agree with the reference, :mod:`okrcore`) or an
*invariant* that needs no reference (bounds, monotonicity, permutation invariance, symmetry,
scale invariance, as-of consistency). :func:`run_property` checks one against any ``evaluate``
function (an in-process implementation or a harness process) with hypothesis, shrinks a failure
to a minimal document and returns a :class:`Outcome` whose message names the property, the
section and that document.

Needs the ``conformance`` extra (``pip install 'okrcore[conformance]'``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Final, Literal

import attrs

try:
    from hypothesis import HealthCheck, given, reject
    from hypothesis import settings as hypothesis_settings
    from hypothesis import strategies as st
    from hypothesis.errors import Flaky, Unsatisfiable
except ImportError as exc:  # pragma: no cover - exercised without the extra only
    raise ImportError(
        "okrcore.conformance.properties needs hypothesis: pip install 'okrcore[conformance]'"
    ) from exc

from okrcore.conformance.capabilities import CAPABILITIES, SECTIONS
from okrcore.conformance.compare import differences, project, same_number
from okrcore.conformance.implementation import REFERENCE, NotSupportedError
from okrcore.conformance.strategies import interchange_documents, readable
from okrcore.policy import PRESETS

__all__ = [
    "PROPERTIES",
    "Evaluate",
    "Outcome",
    "Property",
    "ViolationError",
    "catalogue_rst",
    "run_property",
    "selected",
]

Evaluate = Callable[[Mapping[str, Any]], Mapping[str, Any]]
"""An implementation's evaluate: interchange document → result document (parsed JSON)."""
Kind = Literal["differential", "invariant"]
AS_OF: Final = "2026-02-15T00:00:00Z"
START: Final = "2026-01-01"
DUE: Final = "2026-03-31"


class ViolationError(Exception):
    """A property does not hold: what went wrong, and the documents that show it."""

    def __init__(self, detail: str, *documents: Mapping[str, Any]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.documents = documents


@attrs.frozen
class Property:
    """One named property of the catalogue.

    Attributes
    ----------
    name : str
        Unique id, used in reports, skip / xfail files and pytest ids.
    group : str
        The capability group it is listed under.
    requires : frozenset of str
        Capabilities the implementation must declare for it to run.
    sections : tuple of str
        Sections of the specification it checks, the main one first (``"2.1"``).
    kind : {"differential", "invariant"}
        Compared with the reference, or checked without it.
    summary : str
        One sentence: what must hold.
    strategy : callable
        Capabilities → hypothesis strategy of examples.
    check : callable
        ``(evaluate, example, capabilities)``; raises :class:`ViolationError`.
    """

    name: str
    group: str
    requires: frozenset[str]
    sections: tuple[str, ...]
    kind: Kind
    summary: str
    strategy: Callable[[frozenset[str]], st.SearchStrategy[Any]]
    check: Callable[[Evaluate, Any, frozenset[str]], None]

    def citation(self) -> str:
        """Return the spec citation, e.g. ``spec 2.1 (Metric: increase and reduction)``."""
        return ", ".join(f"spec {s} ({SECTIONS[s][1]})" for s in self.sections)


PROPERTIES: list[Property] = []
"""The catalogue, in order of capability group."""


def _register(name: str, group: str, sections: Sequence[str], kind: Kind,
              strategy: Callable[[frozenset[str]], st.SearchStrategy[Any]],
              requires: Collection[str] = ()
              ) -> Callable[[Callable[[Evaluate, Any, frozenset[str]], None]],
                            Callable[[Evaluate, Any, frozenset[str]], None]]:
    def decorate(check: Callable[[Evaluate, Any, frozenset[str]], None]
                 ) -> Callable[[Evaluate, Any, frozenset[str]], None]:
        summary = " ".join((check.__doc__ or "").split())
        PROPERTIES.append(Property(
            name=name, group=group, requires=frozenset({"metrics", group, *requires}),
            sections=tuple(sections), kind=kind, summary=summary, strategy=strategy,
            check=check))
        return check
    return decorate


# --------------------------------------------------------------------------------------------
# small documents
# --------------------------------------------------------------------------------------------

def _doc(*objectives: Mapping[str, Any], as_of: str = AS_OF,
         policy: Mapping[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"okrcore": 1, "as_of": as_of, "objectives": list(objectives)}
    if policy is not None:
        out["policy"] = dict(policy)
    return out


def _objective(*krs: Mapping[str, Any], ident: str = "o", **fields: Any) -> dict[str, Any]:
    return {"id": ident, "start": START, "due": DUE, **fields, "key_results": list(krs)}


def _metric(ident: str = "k", **fields: Any) -> dict[str, Any]:
    return {"id": ident, "kind": "metric", **fields}


small = st.integers(-100, 100)
values = st.one_of(small, st.floats(-1000, 1000, allow_nan=False).map(lambda v: round(v, 3)))


def _progress(result: Mapping[str, Any], section: str, ident: str,
              *documents: Mapping[str, Any]) -> Any:
    try:
        return result[section][ident]["progress"]
    except (KeyError, TypeError):
        raise ViolationError(f"{section}.{ident}.progress is missing from the result (errors: "
                        f"{json.dumps(result.get('errors'))})", *documents) from None


def _cap(document: Mapping[str, Any]) -> float | None:
    from okrcore.interchange import document_from_dict

    cap: float | None = document_from_dict(document).policy.cap
    return cap


# --------------------------------------------------------------------------------------------
# differential: one per capability group, and one with everything declared
# --------------------------------------------------------------------------------------------

def _agrees(evaluate: Evaluate, document: Mapping[str, Any], caps: frozenset[str]) -> None:
    expected = project(REFERENCE.evaluate(document), caps)
    actual = evaluate(document)
    found = differences(expected, actual)
    if found:
        raise ViolationError("differs from the reference: " + "; ".join(found), document)


def _documents_for(group: str) -> Callable[[frozenset[str]], st.SearchStrategy[Any]]:
    needs = {"auto_targets": {"rollup_modes"}}.get(group, set())

    def strategy(caps: frozenset[str]) -> st.SearchStrategy[Any]:
        wanted = {"metrics", group, *needs} if group != "all" else set(caps)
        return interchange_documents((wanted & caps) | {"metrics"}, max_objectives=3,
                                     max_key_results=3)
    return strategy


_DIFFERENTIAL_SECTIONS: Final[dict[str, tuple[str, ...]]] = {
    "metrics": ("2.1", "3", "4.2", "7.2", "7.3"),
    "reductions": ("2.1",),
    "binary": ("2.3",),
    "milestones": ("2.4",),
    "ranges": ("2.5", "7.4"),
    "rollup_modes": ("4.1", "4.3"),
    "auto_targets": ("4.3",),
    "alignment": ("5", "4.4"),
    "people": ("6",),
    "pace_presets": ("7.3", "3"),
    "as_of_history": ("8.1",),
}

for _group, _sections in _DIFFERENTIAL_SECTIONS.items():
    _register(f"agrees_with_reference_{_group}", _group, _sections, "differential",
              _documents_for(_group),
              requires={"rollup_modes"} if _group == "auto_targets" else ())(_agrees)
    PROPERTIES[-1] = attrs.evolve(
        PROPERTIES[-1],
        summary=f"Documents using {CAPABILITIES[_group].split(' (')[0]} give the reference's "
                "progress, raw progress, expected progress, colours, mode and current values.")


# --------------------------------------------------------------------------------------------
# metrics (required)
# --------------------------------------------------------------------------------------------

@_register("progress_within_bounds", "metrics", ("3",), "invariant", _documents_for("all"))
def _bounds(evaluate: Evaluate, document: Mapping[str, Any], caps: frozenset[str]) -> None:
    """Every key result and objective progress is null or lies in [0, cap]."""
    cap = _cap(document)
    result = evaluate(document)
    for section in ("key_results", "objectives"):
        for ident, item in result.get(section, {}).items():
            p = item.get("progress")
            if p is None and section == "objectives":
                continue
            if not isinstance(p, int | float) or p < 0 or (
                    cap is not None and p > cap * (1 + 1e-12)):
                raise ViolationError(f"{section}.{ident}.progress is {json.dumps(p)}, outside "
                                f"[0, {cap if cap is not None else 'inf'}]", document)


@_register("increase_metric_monotone", "metrics", ("2.1",), "invariant",
           lambda caps: st.tuples(small, st.integers(1, 100), values, values))
def _monotone(evaluate: Evaluate, example: tuple[int, int, float, float],
              caps: frozenset[str]) -> None:
    """On an increase metric, a higher current value never gives lower progress."""
    start, length, a, b = example
    low, high = sorted((a, b))
    docs = [_doc(_objective(_metric(start=start, target=start + length, current=v)))
            for v in (low, high)]
    p_low, p_high = (_progress(evaluate(d), "key_results", "k", d) for d in docs)
    if p_low > p_high and not same_number(p_low, p_high):
        raise ViolationError(f"current {low} gives progress {p_low} but the higher {high} gives "
                        f"{p_high}", *docs)


@_register("regression_is_zero_progress", "metrics", ("3", "2.1"), "invariant",
           lambda caps: st.tuples(small, st.integers(1, 100), st.integers(1, 100)))
def _regression(evaluate: Evaluate, example: tuple[int, int, int], caps: frozenset[str]
                ) -> None:
    """A metric fallen back past its start has progress 0 and negative raw progress."""
    start, length, back = example
    document = _doc(_objective(_metric(start=start, target=start + length,
                                       current=start - back)))
    result = evaluate(document)["key_results"]["k"]
    if result.get("progress") != 0 or not result.get("raw_progress", 0) < 0:
        raise ViolationError(f"progress {result.get('progress')}, raw progress "
                        f"{result.get('raw_progress')} (want 0 and "
                        f"{-back / length:.6g})", document)


@_register("overachievement_capped", "metrics", ("3",), "invariant",
           lambda caps: st.tuples(small, st.integers(1, 100), st.integers(1, 100)))
def _capped(evaluate: Evaluate, example: tuple[int, int, int], caps: frozenset[str]) -> None:
    """Under the default policy a metric past its target has progress 1, raw progress above."""
    start, length, extra = example
    document = _doc(_objective(_metric(start=start, target=start + length,
                                       current=start + length + extra)))
    result = evaluate(document)["key_results"]["k"]
    if result.get("progress") != 1 or not result.get("raw_progress", 0) > 1:
        raise ViolationError(f"progress {result.get('progress')}, raw progress "
                        f"{result.get('raw_progress')} (want 1 and "
                        f"{(length + extra) / length:.6g})", document)


_mean_lists = st.lists(st.tuples(st.integers(0, 100), st.integers(1, 3)), min_size=1,
                       max_size=5)


def _mean_objective(items: Sequence[tuple[int, int]]) -> dict[str, Any]:
    return _objective(*(_metric(f"k{i}", target=100, current=c, weight=w, unit=f"u{i}")
                        for i, (c, w) in enumerate(items)), mode="mean")


@_register("mean_permutation_invariant", "metrics", ("4.2",), "invariant",
           lambda caps: st.tuples(_mean_lists, st.randoms(use_true_random=False)))
def _mean_permutation(evaluate: Evaluate, example: tuple[list[tuple[int, int]], Any],
                      caps: frozenset[str]) -> None:
    """Reordering the key results of a mean objective does not change its progress."""
    items, rnd = example
    shuffled = list(items)
    rnd.shuffle(shuffled)
    docs = [_doc(_mean_objective(items)), _doc(_mean_objective(shuffled))]
    a, b = (_progress(evaluate(d), "objectives", "o", d) for d in docs)
    if not same_number(a, b):
        raise ViolationError(f"progress {a} in one order, {b} in another", *docs)


@_register("mean_between_min_and_max", "metrics", ("4.2",), "invariant",
           lambda caps: _mean_lists)
def _mean_bounds(evaluate: Evaluate, items: list[tuple[int, int]], caps: frozenset[str]
                 ) -> None:
    """A mean objective's progress lies between its lowest and highest key result progress."""
    document = _doc(_mean_objective(items))
    result = evaluate(document)
    progresses = [_progress(result, "key_results", f"k{i}", document) for i in range(len(items))]
    p = _progress(result, "objectives", "o", document)
    if p is None or not (min(progresses) - 1e-9 <= p <= max(progresses) + 1e-9):
        raise ViolationError(f"objective progress {p} outside [{min(progresses)}, "
                        f"{max(progresses)}]", document)


@_register("expected_progress_monotone_in_as_of", "metrics", ("7.2",), "invariant",
           lambda caps: st.tuples(st.integers(0, 120), st.integers(0, 120)))
def _expected_monotone(evaluate: Evaluate, example: tuple[int, int], caps: frozenset[str]
                       ) -> None:
    """Expected progress never falls as the evaluation instant moves later, and is in [0, 1]."""
    days = sorted(example)
    docs = [_doc(_objective(_metric(target=10)),
                 as_of=_day(d)) for d in days]
    a, b = (evaluate(d)["objectives"]["o"].get("expected") for d in docs)
    if not (isinstance(a, int | float) and isinstance(b, int | float)
            and 0 <= a <= b + 1e-12 and b <= 1):
        raise ViolationError(f"expected progress {a} then {b}", *docs)


def _day(offset: int) -> str:
    from datetime import date, timedelta

    return (date(2025, 12, 1) + timedelta(days=offset)).isoformat() + "T00:00:00Z"


_paces = st.tuples(st.integers(0, 100), st.integers(1, 100), st.integers(1, 89))


def _pace_docs(example: tuple[int, int, int], preset: str | None
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    a, b, day = example
    low, high = sorted((a, b))
    policy = None if preset is None else {"preset": preset}
    as_of = _day(31 + day)  # 2026-01-01 plus ``day`` days: inside the quarter
    return tuple(_doc(_objective(_metric(target=100, current=v)), as_of=as_of, policy=policy)
                 for v in (low, high))  # type: ignore[return-value]


_RANK: Final = {"green": 0, "yellow": 1, "red": 2}


def _pace_monotone(preset: str) -> Callable[[Evaluate, Any, frozenset[str]], None]:
    def check(evaluate: Evaluate, example: tuple[int, int, int], caps: frozenset[str]
              ) -> None:
        docs = _pace_docs(example, None if preset == "betterworks" else preset)
        low, high = (evaluate(d)["objectives"]["o"].get("computed_colour") for d in docs)
        if low not in _RANK or high not in _RANK or _RANK[low] < _RANK[high]:
            raise ViolationError(f"lower progress is {low}, higher progress is {high}", *docs)
    check.__doc__ = (f"Under the {preset} preset, lower progress never gets a better pace "
                     "colour (same instant, same timeline).")
    return check


for _preset in sorted(PRESETS):
    _register(f"pace_colour_monotone_{_preset}",
              "metrics" if _preset == "betterworks" else "pace_presets", ("7.3",),
              "invariant", lambda caps: _paces)(_pace_monotone(_preset))


@_register("pace_bands_of_the_default_preset", "metrics", ("7.3",), "invariant",
           lambda caps: _paces)
def _on_pace(evaluate: Evaluate, example: tuple[int, int, int], caps: frozenset[str]) -> None:
    """Default preset: green at p >= e or p > 0.75 e, yellow to 0.5 e, red at or below.

    Progress p against expected e: green when p >= e or p > 0.75 e, yellow when
    0.5 e < p <= 0.75 e, and red when p <= 0.5 e.
    """
    document = _pace_docs(example, None)[1]
    result = evaluate(document)["objectives"]["o"]
    p, e, colour = result.get("progress"), result.get("expected"), result.get("computed_colour")
    if not isinstance(p, int | float) or not isinstance(e, int | float):
        raise ViolationError(f"progress {p}, expected {e}: numbers wanted", document)
    margin = 1e-6  # stay clear of the tolerance band around each line
    want = ("green" if p >= e or p >= 1 or p > 0.75 * e + margin
            else "yellow" if 0.5 * e + margin < p < 0.75 * e - margin
            else "red" if p < 0.5 * e - margin else None)
    if want is not None and colour != want:
        raise ViolationError(f"progress {p} against expected {e} is {colour}, want {want} (ratio "
                        "thresholds 0.75 and 0.5 of the betterworks preset)", document)


# --------------------------------------------------------------------------------------------
# kinds
# --------------------------------------------------------------------------------------------

@_register("reduction_mirrors_increase", "reductions", ("2.1",), "invariant",
           lambda caps: st.tuples(small, st.integers(1, 100), small))
def _mirror(evaluate: Evaluate, example: tuple[int, int, int], caps: frozenset[str]) -> None:
    """A reduction s→t at c has the progress of the increase -s→-t at -c."""
    target, length, current = example
    start = target + length
    docs = [_doc(_objective(_metric(start=start, target=target, current=current))),
            _doc(_objective(_metric(start=-start, target=-target, current=-current)))]
    a, b = (evaluate(d)["key_results"]["k"] for d in docs)
    for field in ("progress", "raw_progress"):
        if not same_number(a.get(field), b.get(field)):
            raise ViolationError(f"reduction {field} {a.get(field)} but mirrored increase "
                            f"{b.get(field)}", *docs)


@_register("binary_done_is_complete", "binary", ("2.3",), "invariant",
           lambda caps: st.sampled_from((True, False, None)))
def _binary(evaluate: Evaluate, done: bool | None, caps: frozenset[str]) -> None:
    """A done binary key result has progress 1; not done or absent has 0."""
    kr: dict[str, Any] = {"id": "k", "kind": "binary"}
    if done is not None:
        kr["done"] = done
    document = _doc(_objective(kr))
    p = _progress(evaluate(document), "key_results", "k", document)
    if p != (1 if done else 0):
        raise ViolationError(f"done={json.dumps(done)} gives progress {p}", document)


@_register("staged_milestone_is_stage_ratio", "milestones", ("2.4",), "invariant",
           lambda caps: st.integers(1, 12).flatmap(
               lambda n: st.tuples(st.just(n), st.integers(0, n))))
def _staged(evaluate: Evaluate, example: tuple[int, int], caps: frozenset[str]) -> None:
    """A staged milestone with d of n stages done has progress d / n."""
    total, done = example
    document = _doc(_objective({"id": "k", "kind": "milestone", "stages_total": total,
                                "stages_done": done}))
    p = _progress(evaluate(document), "key_results", "k", document)
    if not isinstance(p, int | float) or not same_number(p, done / total):
        raise ViolationError(f"{done} of {total} stages give progress {p}, not {done}/{total}",
                        document)


@_register("range_band_progress_is_zero_or_one", "ranges", ("2.5",), "invariant",
           lambda caps: st.tuples(st.sampled_from(("band", "graded")), values))
def _band(evaluate: Evaluate, example: tuple[str, float], caps: frozenset[str]) -> None:
    """Band progress is 0 or 1, graded progress lies in [0, 1], for any value."""
    mode, value = example
    document = _doc(_objective(_metric(target=12, current=value, range={
        "red_low": 8, "yellow_low": 10, "yellow_high": 15, "red_high": 18, "mode": mode})))
    p = _progress(evaluate(document), "key_results", "k", document)
    if not isinstance(p, int | float) or not 0 <= p <= 1 or (mode == "band" and p not in (0, 1)):
        raise ViolationError(f"{mode} progress {p} at value {value}", document)


# --------------------------------------------------------------------------------------------
# rollups
# --------------------------------------------------------------------------------------------

_sum_goals = st.tuples(
    st.lists(st.tuples(st.integers(0, 50), st.integers(1, 50), st.integers(-20, 120)),
             min_size=1, max_size=4),
    st.sampled_from((None, 50, 100, 400)))


def _sum_objective(krs: Sequence[tuple[int, int, int]], target: int | None,
                   factor: float = 1, order: Sequence[int] | None = None) -> dict[str, Any]:
    indices = range(len(krs)) if order is None else order
    settings: dict[str, Any] = ({"unit": "USD", "auto": True} if target is None
                                else {"unit": "USD", "target": target * factor})
    return _objective(*(_metric(f"k{i}", unit="USD", start=krs[i][0] * factor,
                                target=(krs[i][0] + krs[i][1]) * factor,
                                current=krs[i][2] * factor) for i in indices),
                      progress_settings=settings)


def _fixed_sum_goals(caps: frozenset[str]) -> st.SearchStrategy[Any]:
    goals = _sum_goals.filter(lambda g: g[1] != sum(start for start, _l, _c in g[0]))
    return goals if "auto_targets" in caps else goals.filter(lambda g: g[1] is not None)


@_register("sum_scale_invariant", "rollup_modes", ("4.3",), "invariant",
           lambda caps: st.tuples(_fixed_sum_goals(caps),
                                  st.sampled_from((0.001, 0.5, 3, 1000))))
def _scale(evaluate: Evaluate, example: tuple[tuple[list[tuple[int, int, int]], int | None],
                                              float], caps: frozenset[str]) -> None:
    """Scaling every start, target and value of a sum goal by k > 0 leaves progress unchanged."""
    (krs, target), factor = example
    docs = [_doc(_sum_objective(krs, target)), _doc(_sum_objective(krs, target, factor))]
    a, b = (_progress(evaluate(d), "objectives", "o", d) for d in docs)
    if a is None or b is None or not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
        raise ViolationError(f"progress {a}, scaled by {factor}: {b}", *docs)


@_register("sum_permutation_invariant", "rollup_modes", ("4.3",), "invariant",
           lambda caps: st.tuples(_fixed_sum_goals(caps), st.randoms(use_true_random=False)))
def _sum_permutation(evaluate: Evaluate, example: Any, caps: frozenset[str]) -> None:
    """Reordering the key results of a sum goal does not change its progress."""
    (krs, target), rnd = example
    order = list(range(len(krs)))
    rnd.shuffle(order)
    docs = [_doc(_sum_objective(krs, target)), _doc(_sum_objective(krs, target, order=order))]
    a, b = (_progress(evaluate(d), "objectives", "o", d) for d in docs)
    if a is None or b is None or not same_number(a, b):
        raise ViolationError(f"progress {a} in one order, {b} in another", *docs)


@_register("sum_goal_capped", "rollup_modes", ("4.3", "3"), "invariant",
           lambda caps: st.tuples(st.integers(1, 100), st.integers(1, 100),
                                  st.integers(1, 100)))
def _sum_capped(evaluate: Evaluate, example: tuple[int, int, int], caps: frozenset[str]
                ) -> None:
    """Under the default policy a sum goal past its target has progress 1, raw progress above."""
    a, b, extra = example
    document = _doc(_objective(_metric("k1", unit="USD", target=a, current=a + extra),
                               _metric("k2", unit="USD", target=b, current=b),
                               progress_settings={"unit": "USD", "target": a + b}))
    result = evaluate(document)["objectives"]["o"]
    if result.get("progress") != 1 or not result.get("raw_progress", 0) > 1:
        raise ViolationError(f"progress {result.get('progress')}, raw progress "
                        f"{result.get('raw_progress')} (want 1 and "
                        f"{(a + b + extra) / (a + b):.6g})", document)


@_register("auto_target_is_same_unit_rule", "auto_targets", ("4.3", "4.1"), "invariant",
           lambda caps: _sum_goals.map(lambda g: g[0]), requires={"rollup_modes"})
def _auto_target(evaluate: Evaluate, krs: list[tuple[int, int, int]], caps: frozenset[str]
                 ) -> None:
    """Settings with ``auto`` give the progress of automatic rule 2 (same unit, no settings)."""
    with_settings = _doc(_sum_objective(krs, None))
    without = _doc({k: v for k, v in _sum_objective(krs, None).items()
                    if k != "progress_settings"})
    a, b = (_progress(evaluate(d), "objectives", "o", d) for d in (with_settings, without))
    if a is None or b is None or not same_number(a, b):
        raise ViolationError(f"progress {a} with auto settings, {b} by the same-unit rule",
                        with_settings, without)


_children = st.lists(st.tuples(st.sampled_from((None, 0, 25, 50, 100)), st.integers(0, 3)),
                     min_size=1, max_size=4)


@_register("parent_is_mean_of_children", "alignment", ("5",), "invariant",
           lambda caps: _children)
def _parent(evaluate: Evaluate, children: list[tuple[int | None, int]], caps: frozenset[str]
            ) -> None:
    """A parent without key results has the weighted mean of its children's progress.

    Weight-0 children and children without progress are skipped; none left: null.
    """
    objs: list[dict[str, Any]] = [{"id": "parent"}]
    for i, (current, weight) in enumerate(children):
        krs = [] if current is None else [_metric(f"k{i}", target=100, current=current)]
        objs.append({"id": f"c{i}", "parent": "parent", "weight": weight, "key_results": krs})
    document = _doc(*objs)
    result = evaluate(document)
    pairs = [(w, _progress(result, "objectives", f"c{i}", document))
             for i, (_c, w) in enumerate(children)]
    counted = [(w, p) for w, p in pairs if w > 0 and p is not None]
    want = (sum(w * p for w, p in counted) / sum(w for w, _p in counted)) if counted else None
    got = _progress(result, "objectives", "parent", document)
    if (want is None) != (got is None) or (want is not None and not same_number(want, got)):
        raise ViolationError(f"parent progress {got}; the weighted mean of its children's "
                        f"reported progress (weights, progress) {pairs} is {want}", document)


@_register("person_has_owned_objective_progress", "people", ("6",), "invariant",
           lambda caps: st.lists(st.integers(0, 100), min_size=1, max_size=3))
def _person(evaluate: Evaluate, currents: list[int], caps: frozenset[str]) -> None:
    """A person who owns one objective and all its key results has that objective's progress."""
    document = _doc(_objective(*(_metric(f"k{i}", target=100, current=c, unit=f"u{i}")
                                 for i, c in enumerate(currents)), owner="ann"))
    result = evaluate(document)
    want = _progress(result, "objectives", "o", document)
    got = _progress(result, "people", "ann", document)
    if not same_number(want, got):
        raise ViolationError(f"person ann has progress {got}, her only objective {want}", document)


# --------------------------------------------------------------------------------------------
# history and errors
# --------------------------------------------------------------------------------------------

_logs = st.lists(st.tuples(st.integers(0, 80 * 86_400), small), min_size=1, max_size=4,
                 unique_by=lambda c: c[0])


def _at(seconds: int, minus_us: int = 0) -> str:
    from datetime import UTC, datetime, timedelta

    moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds,
                                                          microseconds=-minus_us)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


@_register("check_in_seen_at_its_instant", "as_of_history", ("8.1",), "invariant",
           lambda caps: st.tuples(_logs, st.integers(0, 3)))
def _as_of(evaluate: Evaluate, example: tuple[list[tuple[int, int]], int], caps: frozenset[str]
           ) -> None:
    """At the instant of a check-in its value is seen; one microsecond before, it is not.

    One microsecond before, the value is the previous check-in's (or the start).
    """
    log, pick = example
    log = sorted(log)
    index = pick % len(log)
    kr = _metric(start=-500, target=500,
                 check_ins=[{"at": _at(s), "value": v} for s, v in log])
    previous = log[index - 1][1] if index else -500
    for as_of, want in ((_at(log[index][0]), log[index][1]),
                        (_at(log[index][0], 1), previous)):
        document = _doc(_objective(kr), as_of=as_of)
        got = evaluate(document)["key_results"]["k"].get("current")
        if not isinstance(got, int | float) or not same_number(got, want):
            raise ViolationError(f"as of {as_of} the current value is {got}, want {want}", document)


@_register("future_check_ins_ignored", "as_of_history", ("8.1",), "invariant",
           _documents_for("as_of_history"))
def _future(evaluate: Evaluate, document: dict[str, Any], caps: frozenset[str]) -> None:
    """Adding a check-in after ``as_of`` to every metric changes nothing in the result."""
    later = json.loads(json.dumps(document))
    for obj in later["objectives"]:
        for kr in obj["key_results"]:
            if kr["kind"] == "metric" and kr.get("check_ins") is not None:
                kr["check_ins"].append({"at": "2099-01-01T00:00:00Z",
                                        "value": kr["target"] + 12345})
    before, after = evaluate(document), evaluate(later)
    found = differences(project(before, caps), after)
    if found:
        raise ViolationError("a future check-in changed the result: " + "; ".join(found),
                        document, later)


_FAULTS: Final = ("negative_weight", "degenerate_metric", "not_a_number", "unknown_parent",
                  "duplicate_id")


def _inject(document: dict[str, Any], fault: str) -> tuple[dict[str, Any], str]:
    """Append one objective ``bad`` carrying ``fault``; return the document and the error path."""
    out = json.loads(json.dumps(document))
    index = len(out["objectives"])
    kr: dict[str, Any] = {"id": "bad_k", "kind": "metric", "target": 10}
    path = f"objectives[{index}].key_results[0]"
    obj: dict[str, Any] = {"id": "bad", "key_results": [kr]}
    if fault == "negative_weight":
        kr["weight"] = -1
        path += ".weight"
    elif fault == "degenerate_metric":
        kr["start"] = 10
        path += ".target"
    elif fault == "not_a_number":
        kr["target"] = "12k"
        path += ".target"
    elif fault == "unknown_parent":
        obj["parent"] = "nowhere"
        path = f"objectives[{index}].parent"
    else:
        first = out["objectives"][0]["id"]
        obj["id"] = first
        path = f"objectives[{index}].id"
    out["objectives"].append(obj)
    return out, path


def _faulty_documents(caps: frozenset[str]) -> st.SearchStrategy[Any]:
    return st.tuples(interchange_documents(caps - {"errors"}, max_objectives=2,
                                           max_key_results=2),
                     st.sampled_from(_FAULTS))


@_register("agrees_with_reference_errors", "errors", ("1.2", "1.3"), "differential",
           _faulty_documents)
def _errors_agree(evaluate: Evaluate, example: tuple[dict[str, Any], str],
                  caps: frozenset[str]) -> None:
    """Documents with one bad item give the reference's error codes, paths and results.

    The results of everything else must agree with the reference too.
    """
    document, _path = _inject(*example)
    _agrees(evaluate, document, caps)


@_register("bad_item_is_contained", "errors", ("1.3", "1.2"), "invariant", _faulty_documents)
def _contained(evaluate: Evaluate, example: tuple[dict[str, Any], str], caps: frozenset[str]
               ) -> None:
    """A bad item in a new objective is reported with its code and path, and nothing else.

    Every other result stays what it was without the bad item.
    """
    document, fault = example
    bad, path = _inject(document, fault)
    before, after = evaluate(document), evaluate(bad)
    reported = {(e.get("code"), e.get("path")) for e in after.get("errors", [])}
    if (fault, path) not in reported:
        raise ViolationError(f"{fault} at {path} is not reported (errors: {sorted(reported)})", bad)
    kept = project(before, caps - {"errors", "people"})
    found = differences(kept, {
        section: {k: v for k, v in after.get(section, {}).items()
                  if k not in ("bad", "bad_k") and not (fault == "duplicate_id" and k == "bad")}
        for section in ("objectives", "key_results")})
    if found:
        raise ViolationError(f"the bad item ({fault}) changed other results: " + "; ".join(found),
                        document, bad)


# --------------------------------------------------------------------------------------------
# warnings (SEMANTICS §11.3)
# --------------------------------------------------------------------------------------------

_UNKNOWN: Final = "x_unknown_field"


def _with_unknown_fields(document: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The document with one unknown field on it and on every objective, KR and check-in."""
    out = json.loads(json.dumps(document))
    out[_UNKNOWN] = 1
    paths = {_UNKNOWN}
    for i, obj in enumerate(out.get("objectives", [])):
        obj[_UNKNOWN] = {"any": [1]}
        paths.add(f"objectives[{i}].{_UNKNOWN}")
        for j, kr in enumerate(obj.get("key_results", [])):
            kr[_UNKNOWN] = "x"
            paths.add(f"objectives[{i}].key_results[{j}].{_UNKNOWN}")
            for k, entry in enumerate(kr.get("check_ins") or []):
                entry[_UNKNOWN] = None
                paths.add(f"objectives[{i}].key_results[{j}].check_ins[{k}].{_UNKNOWN}")
    return out, paths


@_register("unknown_fields_are_warnings", "warnings", ("1.3",), "invariant",
           lambda caps: interchange_documents(caps - {"errors", "warnings"}, max_objectives=2,
                                              max_key_results=2))
def _unknown_fields(evaluate: Evaluate, document: dict[str, Any], caps: frozenset[str]
                    ) -> None:
    """An unknown field anywhere is an unknown_field warning at its path, and changes nothing.

    Fields are added to the document, every objective, key result and check-in; the result
    warns of each one and is otherwise what it was without them.
    """
    noisy, paths = _with_unknown_fields(document)
    before, after = evaluate(document), evaluate(noisy)
    got = after.get("warnings")
    reported = {(w.get("code"), w.get("path")) for w in got if isinstance(w, Mapping)} \
        if isinstance(got, list) else set()
    wanted = {("unknown_field", path) for path in paths}
    if reported != wanted:
        raise ViolationError(f"warnings {sorted(reported)}, want {sorted(wanted)}", noisy)
    found = differences(project(before, caps - {"warnings"}), after)
    if found:
        raise ViolationError("the unknown fields changed the results: " + "; ".join(found),
                             document, noisy)


# --------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------

@attrs.frozen
class Outcome:
    """What happened to one property.

    Attributes
    ----------
    property : Property
    status : {"passed", "failed", "skipped"}
    message : str
        Empty when passed; for a failure, the property, the section, what went wrong and the
        minimal document(s).
    documents : tuple of dict
        The minimal documents of a failure.
    examples : int
        How many examples ran.
    """

    property: Property
    status: Literal["passed", "failed", "skipped"]
    message: str = ""
    documents: tuple[Mapping[str, Any], ...] = ()
    examples: int = 0


def failure_message(prop: Property, detail: str, documents: Sequence[Mapping[str, Any]]) -> str:
    """The message of a failed property: name, section, what went wrong, minimal documents."""
    shown = "\n".join(json.dumps(readable(d), indent=1) for d in documents)
    return (f"property {prop.name} failed ({prop.citation()}): {prop.summary}\n"
            f"  {detail}\nminimal document{'s' if len(documents) > 1 else ''}:\n{shown}")


def selected(capabilities: Collection[str]) -> list[Property]:
    """The properties an implementation with ``capabilities`` runs."""
    caps = frozenset(capabilities)
    return [p for p in PROPERTIES if p.requires <= caps]


def run_property(prop: Property, evaluate: Evaluate, capabilities: Collection[str],
                 max_examples: int = 50, derandomize: bool = False) -> Outcome:
    """Check one property against ``evaluate`` with hypothesis; shrink a failure.

    :class:`~okrcore.conformance.implementation.NotSupportedError` from ``evaluate`` skips the
    example; any other exception is a failure of the example. The last failing example
    hypothesis runs is its shrunk, minimal one, which the outcome reports.
    """
    caps = frozenset(capabilities)
    if not prop.requires <= caps:
        missing = ", ".join(sorted(prop.requires - caps))
        return Outcome(prop, "skipped", f"needs capability {missing}")
    last: list[ViolationError] = []
    fatal: list[Exception] = []
    count = [0]

    def guarded(document: Mapping[str, Any]) -> Mapping[str, Any]:
        try:
            return evaluate(document)
        except NotSupportedError:
            reject()
        except ViolationError:
            raise
        except Exception as exc:
            if getattr(exc, "fatal", False):  # the harness is gone: stop the run
                fatal.append(exc)
                raise
            raise ViolationError(f"evaluate raised {type(exc).__name__}: {exc}", document) from exc

    @hypothesis_settings(max_examples=max_examples, derandomize=derandomize, database=None,
                         deadline=None, print_blob=False,
                         suppress_health_check=list(HealthCheck))
    @given(prop.strategy(caps))
    def test(example: Any) -> None:
        count[0] += 1
        try:
            prop.check(guarded, example, caps)
        except ViolationError as violation:
            last.append(violation)
            raise
        except (KeyError, TypeError, AttributeError) as exc:
            malformed = ViolationError(
                f"the result document is malformed: {type(exc).__name__}: {exc}")
            last.append(malformed)
            raise malformed from exc

    try:
        try:
            test()
        except BaseException:
            if fatal:
                raise fatal[0] from None
            raise
    except Unsatisfiable:
        return Outcome(prop, "skipped", "the implementation skipped every example",
                       examples=count[0])
    except Flaky as exc:
        documents = last[-1].documents if last else ()
        return Outcome(prop, "failed", failure_message(
            prop, f"the implementation is not deterministic: the same example passed once "
                  f"and failed once ({type(exc).__name__})", documents), documents, count[0])
    except ViolationError:
        found = last[-1]
        return Outcome(prop, "failed", failure_message(prop, found.detail, found.documents),
                       found.documents, count[0])
    return Outcome(prop, "passed", examples=count[0])


def catalogue_rst() -> str:
    """The property catalogue as reStructuredText (``docs/conformance-properties.rst``)."""
    lines = [".. This file is generated by okrcore.conformance.properties.catalogue_rst();",
             "   tests/conformance/test_conf_docs.py checks it is up to date.", "",
             ".. _conformance-properties:", "", "Property catalogue", "==================", "",
             f"{len(PROPERTIES)} properties, grouped by capability. *Differential* properties "
             "compare the implementation with the reference; *invariants* need no reference.",
             ""]
    for group, description in CAPABILITIES.items():
        props = [p for p in PROPERTIES if p.group == group]
        if not props:
            continue
        lines += [f"``{group}``", "-" * (len(group) + 4), "", description[0].upper()
                  + description[1:] + ".", ""]
        for p in props:
            refs = ", ".join(f":ref:`{s} <{SECTIONS[s][0]}>`" for s in p.sections)
            needs = ", ".join(f"``{c}``" for c in sorted(p.requires))
            lines += [f"``{p.name}``", f"   *{p.kind}* — spec {refs}; needs {needs}.", "",
                      f"   {p.summary}", ""]
    return "\n".join(lines)
