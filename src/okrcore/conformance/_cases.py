"""Sources of the JSON vectors: documents, citations and hand-checked oracles.

The vector files in ``vectors/`` are generated from these cases with the reference
(``python -m okrcore.conformance._regenerate``) and committed as data; the test suite checks
that the files are what the reference produces today and that every hand-checked ``oracle``
value (taken from a worked example of the specification) is in the expected result.
"""

from __future__ import annotations

from typing import Any, Final

Case = dict[str, Any]

Q_START: Final = "2026-01-01"
Q_DUE: Final = "2026-03-31"


def _doc(*objectives: dict[str, Any], as_of: str = "2026-02-15T00:00:00Z",
         policy: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"okrcore": 1, "as_of": as_of}
    if policy is not None:
        out["policy"] = policy
    out["objectives"] = list(objectives)
    return out


def _obj(*krs: dict[str, Any], ident: str = "o", **fields: Any) -> dict[str, Any]:
    return {"id": ident, **fields, "key_results": list(krs)}


def _metric(ident: str = "k", **fields: Any) -> dict[str, Any]:
    return {"id": ident, "kind": "metric", **fields}


def _case(ident: str, description: str, spec: str, document: dict[str, Any],
          capabilities: tuple[str, ...] = (), oracle: dict[str, Any] | None = None) -> Case:
    return {"id": ident, "description": description, "spec": spec,
            "capabilities": sorted({"metrics", *capabilities}), "document": document,
            "oracle": oracle or {}}


def _metrics() -> list[Case]:
    return [
        _case("increase-two-thirds", "An increase metric 0 → 30 at 20 is two thirds done.",
              "2.1", _doc(_obj(_metric(target=30, current=20))),
              oracle={"key_results.k.progress": 2 / 3}),
        _case("no-current-is-at-start", "A metric without a current value is at its start.",
              "2.1", _doc(_obj(_metric(start=5, target=10))),
              oracle={"key_results.k.current": 5, "key_results.k.progress": 0}),
        _case("fallen-back-is-zero", "A metric 5 → 10 at 2 has raw progress -0.6, progress 0.",
              "3", _doc(_obj(_metric(start=5, target=10, current=2))),
              oracle={"key_results.k.raw_progress": -0.6, "key_results.k.progress": 0}),
        _case("overshoot-capped", "A metric with target 10 at 13: raw 1.3, progress 1.", "3",
              _doc(_obj(_metric(target=10, current=13))),
              oracle={"key_results.k.raw_progress": 1.3, "key_results.k.progress": 1}),
        _case("weighted-mean", "Mean of 0.5 (weight 3) and 1 (weight 1) and a weight-0 key "
              "result: (3·0.5 + 1)/4 = 0.625.", "4.2",
              _doc(_obj(_metric("a", target=10, current=5, weight=3, unit="x"),
                        _metric("b", target=4, current=4, unit="y"),
                        _metric("c", target=4, current=0, unit="z", weight=0))),
              oracle={"objectives.o.progress": 0.625, "objectives.o.mode": "mean"}),
        _case("empty-objective-is-null", "An objective with nothing to count has progress "
              "null, not 0.", "4.5", _doc(_obj()), oracle={"objectives.o.progress": None}),
        _case("expected-mid-quarter", "A quarter 2026-01-01 to 2026-03-31 is half over on "
              "15 February: expected 0.5; progress 0.5 is on pace (green).", "7.2",
              _doc(_obj(_metric(target=10, current=5), start=Q_START, due=Q_DUE)),
              oracle={"objectives.o.expected": 0.5, "objectives.o.colour": "green"}),
        _case("pace-yellow-on-the-line", "Expected 0.8, progress 0.6: exactly on the yellow "
              "line of the default preset (0.75·0.8), yellow.", "7.3",
              _pace(0.6, 8), oracle={"objectives.o.colour": "yellow"}),
        _case("pace-red-on-the-line", "Expected 0.8, progress 0.4: on the red line (0.5·0.8), "
              "red.", "7.3", _pace(0.4, 8), oracle={"objectives.o.colour": "red"}),
        _case("pace-tolerance", "Expected 0.6, progress 0.45: yellow only thanks to the "
              "comparison tolerance.", "7.3", _pace(0.45, 6),
              oracle={"objectives.o.colour": "yellow"}),
        _case("no-timeline-no-pace", "Without a start or a due there is no expected progress "
              "and no pace colour: null (SEMANTICS §11.1).", "7.2",
              _doc(_obj(_metric(target=10, current=4))),
              oracle={"objectives.o.expected": None, "objectives.o.colour": None,
                      "objectives.o.computed_colour": None, "key_results.k.colour": None}),
        _case("manual-status", "A manual status 'behind' makes the colour yellow; the computed "
              "colour stays green and progress is unchanged.", "7.5",
              _doc(_obj(_metric(target=10, current=10), status="behind", start=Q_START,
                        due=Q_DUE)),
              oracle={"objectives.o.colour": "yellow", "objectives.o.computed_colour": "green",
                      "objectives.o.progress": 1}),
    ]


def _pace(progress: float, day: int, preset: str | None = None) -> dict[str, Any]:
    """Progress against expected ``day``/10 (a ten-day objective from 1 January)."""
    policy = None if preset is None else {"preset": preset}
    return _doc(_obj(_metric(target=100, current=round(progress * 100, 6)),
                     start="2026-01-01", due="2026-01-10"),
                as_of=f"2026-01-{1 + day:02d}T00:00:00Z", policy=policy)


def _reductions() -> list[Case]:
    return [
        _case("call-time-worked-example", "Average call time from 45 down to 20 minutes, now "
              "30: (30 - 45)/(20 - 45) = 0.6.", "2.1",
              _doc(_obj(_metric(start=45, target=20, current=30))),
              ("reductions",), {"key_results.k.progress": 0.6}),
        _case("reduction-overshoot", "A reduction 45 → 20 at 15 is capped at 1 (raw 1.2).",
              "3", _doc(_obj(_metric(start=45, target=20, current=15))), ("reductions",),
              {"key_results.k.raw_progress": 1.2, "key_results.k.progress": 1}),
        _case("reduction-worse-than-start", "A reduction 45 → 20 at 50 has progress 0.", "3",
              _doc(_obj(_metric(start=45, target=20, current=50))), ("reductions",),
              {"key_results.k.raw_progress": -0.2, "key_results.k.progress": 0}),
    ]


def _binary() -> list[Case]:
    return [
        _case("done", "A done binary key result has progress 1.", "2.3",
              _doc(_obj({"id": "k", "kind": "binary", "done": True})), ("binary",),
              {"key_results.k.progress": 1}),
        _case("not-given", "A binary key result without done is not done.", "2.3",
              _doc(_obj({"id": "k", "kind": "binary"})), ("binary",),
              {"key_results.k.progress": 0}),
        _case("not-done-before-due", "Not done, before its due: green (not_due), although "
              "its progress 0 is behind the objective's pace (SEMANTICS §11.2).", "7.6",
              _doc(_obj({"id": "k", "kind": "binary", "done": False}, start="2026-01-01",
                        due="2026-01-10"), as_of="2026-01-09T00:00:00Z"), ("binary",),
              {"key_results.k.colour": "green", "objectives.o.colour": "red"}),
        _case("not-done-from-due", "Not done, from its own due on: red (overdue; "
              "SEMANTICS §11.2).", "7.6",
              _doc(_obj({"id": "k", "kind": "binary", "done": False, "due": "2026-01-05"},
                        start="2026-01-01", due="2026-01-10"), as_of="2026-01-06T00:00:00Z"),
              ("binary",), {"key_results.k.colour": "red"}),
        _case("done-after-due", "Done is green (complete), even after its due.", "7.6",
              _doc(_obj({"id": "k", "kind": "binary", "done": True, "due": "2026-01-05"}),
                   as_of="2026-02-01T00:00:00Z"),
              ("binary",), {"key_results.k.colour": "green"}),
        _case("no-due-no-pace", "Not done and no due anywhere: no pace colour, null "
              "(no_timeline; SEMANTICS §11.2).", "7.6",
              _doc(_obj({"id": "k", "kind": "binary", "done": False})), ("binary",),
              {"key_results.k.colour": None, "objectives.o.colour": None}),
    ]


def _milestones() -> list[Case]:
    return [
        _case("crm-three-of-five", "Implement a CRM system in 5 stages, 3 done: 0.6.", "2.4",
              _doc(_obj({"id": "k", "kind": "milestone", "stages_total": 5,
                         "stages_done": 3})), ("milestones",), {"key_results.k.progress": 0.6}),
        _case("checkpoints", "Two of four checkpoints done: 0.5.", "2.4",
              _doc(_obj({"id": "k", "kind": "milestone", "checkpoints": [
                  {"name": "a", "done": True}, {"name": "b", "done": True},
                  {"name": "c"}, {"name": "d", "done": False}]})), ("milestones",),
              {"key_results.k.progress": 0.5}),
        _case("simple-with-metric", "A simple done milestone and a metric at 0.5 are "
              "averaged: 0.75.", "4.1",
              _doc(_obj({"id": "m", "kind": "milestone", "done": True},
                        _metric(target=10, current=5, unit="x"))), ("milestones",),
              {"objectives.o.progress": 0.75}),
    ]


_RANGE = {"red_low": 8, "yellow_low": 10, "yellow_high": 15, "red_high": 18}
_RANGE_TABLE: Final = (  # value, inclusive status, band, graded, linear raw (spec 2.5 table)
    (7, "red", 0, 0, 7 / 12), (8, "red", 0, 0, 8 / 12), (9, "yellow", 1, 0.5, 0.75),
    (12, "green", 1, 1, 1), (15, "yellow", 1, 1, 1.25), (16.5, "yellow", 1, 0.5, 1.375),
    (18, "red", 0, 0, 1.5))


def _ranges() -> list[Case]:
    cases = []
    for value, status, band, graded, linear in _RANGE_TABLE:
        for mode, progress in (("band", band), ("graded", graded), ("linear", linear)):
            name = str(value).replace(".", "_")
            raw_key = "raw_progress" if mode == "linear" else "progress"
            cases.append(_case(
                f"deals-{name}-{mode}", f"Target 12 deals with breakpoints 8/10/15/18 at "
                f"{value}, {mode} mode: status {status}.", "2.5",
                _doc(_obj(_metric(target=12, current=value, unit="deals",
                                  range={**_RANGE, "mode": mode}))), ("ranges",),
                {"key_results.k.colour": status, f"key_results.k.{raw_key}": progress}))
    cases.append(_case(
        "deals-8-strict", "At 8 with strict breakpoints the value must pass the red limit: "
        "yellow, band progress 1.", "2.5",
        _doc(_obj(_metric(target=12, current=8, range=dict(_RANGE))),
             policy={"strict_breakpoints": True}), ("ranges", "pace_presets"),
        {"key_results.k.colour": "yellow", "key_results.k.progress": 1}))
    return cases


_FIVE = ((250_000, 250_000), (200_000, 200_000), (150_000, 150_000), (150_000, 150_000),
         (100_000, 50_000))


def _five(**fields: Any) -> dict[str, Any]:
    return _doc(_obj(*(_metric(f"k{i}", unit="USD", target=t, current=c)
                       for i, (t, c) in enumerate(_FIVE)), **fields))


def _rollups() -> list[Case]:
    return [
        _case("fixed-target", "Five dollar metrics summing to 800,000 against a fixed goal "
              "target of 800,000: 1.0.", "4.3",
              _five(progress_settings={"unit": "USD", "target": 800_000}), ("rollup_modes",),
              {"objectives.o.progress": 1, "objectives.o.mode": "sum"}),
        _case("auto-target", "The same with an automatic target (850,000): 0.941176…", "4.3",
              _five(progress_settings={"unit": "USD", "auto": True}),
              ("rollup_modes", "auto_targets"), {"objectives.o.progress": 800_000 / 850_000}),
        _case("same-unit-rule", "The same without settings: auto rule 2 sums one unit.", "4.1",
              _five(), ("rollup_modes",),
              {"objectives.o.progress": 800_000 / 850_000, "objectives.o.mode": "sum"}),
        _case("explicit-mean", "The same in mean mode: clamped (1, 1, 1, 1, 0.5) → 0.9.", "4.2",
              _five(mode="mean"), ("rollup_modes",), {"objectives.o.progress": 0.9}),
        _case("auto-target-follows", "Calls goal with target 10 marked auto; key results 10 "
              "and 5 more, 6 and 3 made: 9/15 = 0.6.", "4.3",
              _doc(_obj(_metric("k1", unit="calls", target=10, current=6),
                        _metric("k2", unit="calls", target=5, current=3),
                        progress_settings={"unit": "calls", "target": 10, "auto": True})),
              ("rollup_modes", "auto_targets"), {"objectives.o.progress": 0.6}),
        _case("sum-not-capped-per-key-result", "Sums add raw values: 150/100 and 0/100 make "
              "0.75.", "4.3",
              _doc(_obj(_metric("k1", unit="USD", target=100, current=150),
                        _metric("k2", unit="USD", target=100, current=0))),
              ("rollup_modes",), {"objectives.o.progress": 0.75}),
        _case("sum-capped", "A sum past its target is capped: 300/200 → 1.", "3",
              _doc(_obj(_metric("k1", unit="USD", target=100, current=150),
                        _metric("k2", unit="USD", target=100, current=150))),
              ("rollup_modes",),
              {"objectives.o.progress": 1, "objectives.o.raw_progress": 1.5}),
    ]


def _alignment() -> list[Case]:
    return [
        _case("parent-mean-of-children", "A parent without key results: children at 0.5 and "
              "1 (weight 3) and one without progress → (0.5 + 3)/4 = 0.875.", "5",
              _doc(_obj(ident="company"),
                   _obj(_metric(target=10, current=5), ident="a", parent="company"),
                   _obj(_metric("k2", target=10, current=10), ident="b", parent="company",
                        weight=3),
                   _obj(ident="c", parent="company")), ("alignment",),
              {"objectives.company.progress": 0.875, "objectives.c.progress": None}),
        _case("include-children-sum", "Two dollar metrics at 50/100 and 100/100 sum to 0.75; "
              "with one child at 0: (0.75 + 0)/2 = 0.375.", "4.4",
              _doc(_obj(_metric("k1", unit="USD", target=100, current=50),
                        _metric("k2", unit="USD", target=100, current=100),
                        include_children=True),
                   _obj(_metric("k3", target=10, current=0), ident="child", parent="o")),
              ("alignment", "rollup_modes"), {"objectives.o.progress": 0.375}),
        _case("own-key-results-ignore-children", "Without include_children an objective with "
              "key results ignores its children.", "5",
              _doc(_obj(_metric(target=10, current=10)),
                   _obj(_metric("k2", target=10, current=0), ident="child", parent="o")),
              ("alignment",), {"objectives.o.progress": 1}),
    ]


def _people() -> list[Case]:
    return [
        _case("owner-and-contributor", "Ann owns the objective; Bob owns one key result on it "
              "and gets it; Ann gets her objective once.", "6",
              _doc(_obj(_metric("k1", target=10, current=5, unit="x", owners=["bob"]),
                        _metric("k2", target=10, current=10, unit="y"), owner="ann")),
              ("people",), {"people.bob.progress": 0.5, "people.ann.progress": 0.75}),
    ]


def _pace_presets() -> list[Case]:
    # burningokr's boundary is "better" (SEMANTICS §11.4): on -0.2 and -0.4 the better colour
    table = {"(0.8, 0.6)": (0.6, 8, {"betterworks": "yellow", "workfront": "yellow",
                                      "upraise": "red", "burningokr": "green",
                                      "viva": "yellow"}),
             "(0.8, 0.4)": (0.4, 8, {**dict.fromkeys(
                 ("betterworks", "workfront", "upraise", "viva"), "red"),
                 "burningokr": "yellow"}),
             "(0.4, 0.3)": (0.3, 4, {"betterworks": "yellow", "workfront": "yellow",
                                      "upraise": "red", "burningokr": "green",
                                      "viva": "yellow"})}
    cases = []
    for label, (progress, day, colours) in table.items():
        for preset, colour in colours.items():
            ident = f"{preset}-e{day}-p{round(progress * 10)}"
            cases.append(_case(ident, f"(expected, progress) = {label} under {preset}: "
                               f"{colour}.", "7.3", _pace(progress, day, preset),
                               ("pace_presets",), {"objectives.o.colour": colour}))
    cases.append(_case("burningokr-e8-p39", "Under burningokr p - e = -0.41 < -0.4: red "
                       "(SEMANTICS §11.4).", "7.3", _pace(0.39, 8, "burningokr"),
                       ("pace_presets",), {"objectives.o.colour": "red"}))
    cases.append(_case("boundary-better-override", "A ratio 0.75 / 0.5 override with "
                       "boundary 'better': 0.6 on the yellow line against 0.8 stays green "
                       "(SEMANTICS §11.4).", "7.3",
                       _doc(_obj(_metric(target=100, current=60), start="2026-01-01",
                                 due="2026-01-10"), as_of="2026-01-09T00:00:00Z",
                            policy={"pace": {"rule": "ratio", "yellow": 0.75, "red": 0.5,
                                             "boundary": "better"}}),
                       ("pace_presets",), {"objectives.o.colour": "green"}))
    cases.append(_case("uncapped", "With cap null a metric at 13/10 has progress 1.3.", "3",
                       _doc(_obj(_metric(target=10, current=13)), policy={"cap": None}),
                       ("pace_presets",), {"key_results.k.progress": 1.3}))
    cases.append(_case("cap-1.2", "With cap 1.2 a metric at 13/10 has progress 1.2.", "3",
                       _doc(_obj(_metric(target=10, current=13)), policy={"cap": 1.2}),
                       ("pace_presets",), {"key_results.k.progress": 1.2}))
    return cases


def _history() -> list[Case]:
    log = [{"at": "2026-01-10T09:00:00Z", "value": 11},
           {"at": "2026-02-20", "value": 14}]
    return [
        _case("latest-up-to-as-of", "The check-in after as_of is not yet known: current 11.",
              "8.1", _doc(_obj(_metric(target=20, check_ins=log))), ("as_of_history",),
              {"key_results.k.current": 11}),
        _case("at-the-instant", "Evaluated at the instant of a check-in, it is seen.", "8.1",
              _doc(_obj(_metric(target=20, check_ins=log)), as_of="2026-02-20T00:00:00Z"),
              ("as_of_history",), {"key_results.k.current": 14}),
        _case("a-microsecond-before", "One microsecond before it, it is not.", "8.1",
              _doc(_obj(_metric(target=20, check_ins=log)),
                   as_of="2026-02-19T23:59:59.999999Z"),
              ("as_of_history",), {"key_results.k.current": 11}),
        _case("tie-later-entry-wins", "Two check-ins at the same instant: the later entry "
              "wins.", "8.1",
              _doc(_obj(_metric(target=20, check_ins=[
                  {"at": "2026-01-10", "value": 3}, {"at": "2026-01-10", "value": 7}]))),
              ("as_of_history",), {"key_results.k.current": 7}),
        _case("before-first-check-in", "Before its first check-in a metric is at its start.",
              "8.1", _doc(_obj(_metric(start=4, target=20, check_ins=log)),
                          as_of="2026-01-01T00:00:00Z"),
              ("as_of_history",), {"key_results.k.current": 4}),
        _case("offset-instant", "An instant with an offset is converted to UTC: 16:30+01:00 "
              "is 15:30Z, seen at 15:30Z.", "8.1",
              _doc(_obj(_metric(target=20, check_ins=[
                  {"at": "2026-02-12T16:30:00+01:00", "value": 9}])),
                   as_of="2026-02-12T15:30:00Z"),
              ("as_of_history",), {"key_results.k.current": 9}),
    ]


def _warnings() -> list[Case]:
    return [
        _case("unknown-fields", "Unknown fields on the document, an objective, a key result "
              "and a check-in are warnings (unknown_field) and otherwise ignored "
              "(SEMANTICS §11.3).", "1.3",
              {**_doc(_obj(_metric(target=10, note="x", check_ins=[
                  {"at": "2026-01-10", "value": 5, "by": "ann"}]), colour_hint="blue")),
               "comment": "hello"},
              ("warnings", "as_of_history"),
              {"key_results.k.progress": 0.5}),
        _case("no-unknown-fields", "A document without unknown fields has no warnings.",
              "1.3", _doc(_obj(_metric(target=10, current=5))), ("warnings",)),
    ]


def _errors() -> list[Case]:
    good = _obj(_metric("fine", target=10, current=5), ident="good")
    return [
        _case("negative-weight", "A negative weight is negative_weight; the other objective "
              "is evaluated.", "1.3",
              _doc(good, _obj(_metric(target=10, weight=-1))), ("errors",),
              {"objectives.good.progress": 0.5}),
        _case("degenerate-metric", "target == start is degenerate_metric.", "1.2",
              _doc(good, _obj(_metric(start=3, target=3))), ("errors",)),
        _case("number-in-a-string", "\"12k\" is not a number.", "1.2",
              _doc(good, _obj(_metric(target="12k"))), ("errors",)),
        _case("unknown-parent", "A parent that is not in the document.", "1.2",
              _doc(good, _obj(ident="lost", parent="nowhere")), ("errors", "alignment")),
        _case("cycle", "Every objective on a cycle gets alignment_cycle.", "1.3",
              _doc(good, _obj(ident="a", parent="b"), _obj(ident="b", parent="a")),
              ("errors", "alignment")),
        _case("duplicate-key-result", "A second key result with a taken id is duplicate_id; "
              "the first wins.", "1.3",
              _doc(good, _obj(_metric("fine", target=4, current=4), ident="other")),
              ("errors",), {"key_results.fine.progress": 0.5}),
        _case("conflicting-current", "A history together with a current value.", "1.2",
              _doc(good, _obj(_metric(target=10, current=2, check_ins=[]))),
              ("errors", "as_of_history")),
        _case("depends-on-invalid", "A parent rolling up an invalid child depends on it.",
              "1.3",
              _doc(good, _obj(ident="parent"),
                   _obj(_metric(target=10, weight=-1), ident="child", parent="parent")),
              ("errors", "alignment")),
    ]


AREAS: Final = {
    "metrics": ("Increase metrics, the mean rollup, expected progress and pace colours under "
                "the default preset.", _metrics),
    "reductions": ("Metrics whose target is below their start.", _reductions),
    "binary": ("Binary key results.", _binary),
    "milestones": ("Simple, staged and checkpoint milestones.", _milestones),
    "ranges": ("Range metrics: breakpoint status and the three progress modes, from the "
               "worked example of section 2.5.", _ranges),
    "rollups": ("Sum rollups, fixed and automatic targets, from the worked examples of "
                "section 4.3.", _rollups),
    "alignment": ("Parent objectives and include_children.", _alignment),
    "people": ("Personal progress.", _people),
    "pace_presets": ("Pace colours per preset and cap overrides.", _pace_presets),
    "history": ("Check-in histories read as of an instant.", _history),
    "errors": ("Structured errors and containment.", _errors),
    "warnings": ("Warnings of unknown fields (SEMANTICS §11.3).", _warnings),
}
"""Vector areas: one file each, description and case builder."""


def cases(area: str) -> list[Case]:
    """The cases of one area."""
    return AREAS[area][1]()
