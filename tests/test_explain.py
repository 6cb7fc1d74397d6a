"""Plain-language explanations: hand-computed oracles, both engines, every item, the command."""
# The texts use the multiplication sign and the minus sign, as people write them.
# ruff: noqa: RUF001

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import okrcore
from okrcore import Document, formulas
from okrcore.batch import evaluate_batch
from okrcore.demo import generate_organisation
from okrcore.errors import UnknownItemError
from okrcore.evaluate import evaluate
from okrcore.explain import explain, explain_all, format_fraction, format_number
from okrcore.render import render
from okrcore.results import ColourSource, Evaluation
from strategies import documents
from test_batch import corrupted

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "explain.json"

TIMELINE = {"start": "2026-01-01T00:00:00Z", "due": "2026-01-11T00:00:00Z"}
"""Ten days; as_of 2026-01-07T00:00Z is 6 of them: expected 0.6."""

ORACLE: dict[str, Any] = {
    "okrcore": 1,
    "as_of": "2026-01-07T00:00:00Z",
    "objectives": [
        # 40 of 100 against expected 0.6: 0.40 <= 0.75 x 0.60 = 0.45, > 0.5 x 0.60 = 0.30.
        {"id": "o", **TIMELINE,
         "key_results": [{"id": "k", "kind": "metric", "unit": "u", "target": 100,
                          "current": 40}]},
        # 99.71 <= yellow_low 99.8, > red_low 99.5: yellow; band progress 1 (complete).
        {"id": "svc", **TIMELINE,
         "key_results": [{"id": "up", "kind": "metric", "unit": "%", "target": 99.9,
                          "range": {"red_low": 99.5, "yellow_low": 99.8}, "current": 99.71}]},
        # 300,000 + 300,000 + 200,000 = 800,000 of 300,000 + 300,000 + 250,000 = 850,000.
        {"id": "rev", "key_results": [
            {"id": "a", "kind": "metric", "unit": "USD", "target": 300000, "current": 300000},
            {"id": "b", "kind": "metric", "unit": "USD", "target": 300000, "current": 300000},
            {"id": "c", "kind": "metric", "unit": "USD", "target": 250000, "current": 200000}]},
    ],
}


def load(data: dict[str, Any]) -> Document:
    return okrcore.loads(json.dumps(data))


def both(data: dict[str, Any]) -> tuple[Evaluation, Evaluation]:
    document = load(data)
    return evaluate(document), evaluate_batch(document)


def lines(evaluation: Evaluation, ident: str, kind: str | None = None) -> list[str]:
    return evaluation.explain(ident, kind).split("\n")


# -------------------------------------------------------------------------------------------
# The three examples of the issue, exactly
# -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", [0, 1])
def test_pace_example(engine: int) -> None:
    ev = both(ORACLE)[engine]
    phrase = "yellow: progress 0.40 is at or below 0.75 × expected 0.60 (betterworks pace)"
    assert phrase in lines(ev, "k")
    assert phrase in lines(ev, "o")


@pytest.mark.parametrize("engine", [0, 1])
def test_breakpoint_example(engine: int) -> None:
    ev = both(ORACLE)[engine]
    assert lines(ev, "up")[3:5] == [
        "yellow: 99.71 hit the yellow limit 99.8",
        "(pace alone: green: complete (progress 1.00 reached 1))",
    ]
    # the objective names the key result, its value and the limit
    assert "yellow: key result up's value 99.71 hit the yellow limit 99.8" in lines(ev, "svc")


@pytest.mark.parametrize("engine", [0, 1])
def test_sum_example(engine: int) -> None:
    ev = both(ORACLE)[engine]
    assert lines(ev, "rev")[1:5] == [
        "mode sum (auto: every key result is a plain metric of one unit and direction: sum "
        "them against the sum of their targets)",
        "sum of 3 USD key results: 800,000 of auto target 850,000",
        "from start 0: (800,000 − 0) / (850,000 − 0) = 0.94",
        "summed: a 300,000, b 300,000, c 200,000",
    ]


def test_whole_key_result_text() -> None:
    scalar, batch = both(ORACLE)
    expected = "\n".join([
        "key result k (metric) of objective o",
        "progress 0.40: increase from 0 u to 100 u, now 40 u: raw (40 − 0) / (100 − 0) = 0.40",
        "expected 0.60 on the linear timeline (due 2026-01-10)",
        "yellow: progress 0.40 is at or below 0.75 × expected 0.60 (betterworks pace)",
        "grade 0.4 (yellow), not a success",
    ])
    assert scalar.explain("k") == expected
    assert batch.explain("k") == expected


def test_whole_objective_text_without_timeline() -> None:
    scalar, batch = both(ORACLE)
    expected = "\n".join([
        "objective rev",
        "mode sum (auto: every key result is a plain metric of one unit and direction: sum "
        "them against the sum of their targets)",
        "sum of 3 USD key results: 800,000 of auto target 850,000",
        "from start 0: (800,000 − 0) / (850,000 − 0) = 0.94",
        "summed: a 300,000, b 300,000, c 200,000",
        "no pace: no timeline",
        "grade 0.9 (green), not a success",
    ])
    assert scalar.explain("rev") == expected == batch.explain("rev")


# -------------------------------------------------------------------------------------------
# Kinds, range modes, capping, rollups, colours
# -------------------------------------------------------------------------------------------

def one(krs: list[dict[str, Any]], **objective: Any) -> dict[str, Any]:
    return {"okrcore": 1, "as_of": "2026-01-07T00:00:00Z",
            "objectives": [{"id": "o", **TIMELINE, **objective, "key_results": krs}]}


@pytest.mark.parametrize(("kr", "line"), [
    # SEMANTICS §2: a reduction 45 -> 20 at 30 is (30 - 45) / (20 - 45) = 0.6
    ({"kind": "metric", "unit": "ms", "start": 45, "target": 20, "current": 30},
     "progress 0.60: reduction from 45 ms to 20 ms, now 30 ms: raw (30 − 45) / (20 − 45) = 0.60"),
    ({"kind": "binary", "done": True}, "progress 1.00: done"),
    ({"kind": "binary", "done": False}, "progress 0.00: not done"),
    ({"kind": "milestone", "done": False}, "progress 0.00: not done"),
    # "Implement a CRM system (in 5 stages)", 3 of 5 -> 0.6
    ({"kind": "milestone", "stages_total": 5, "stages_done": 3},
     "progress 0.60 = 3 of 5 stages done"),
    ({"kind": "milestone", "checkpoints": [{"name": "a", "done": True}, {"name": "b"},
                                           {"name": "c", "done": True}, {"name": "d"}]},
     "progress 0.50 = 2 of 4 checkpoints done"),
    # graded: 97 lies between yellow_high 96 and red_high 98: (98 - 97) / (98 - 96) = 0.5
    ({"kind": "metric", "target": 94, "current": 97,
      "range": {"red_low": 90, "yellow_low": 92, "yellow_high": 96, "red_high": 98,
                "mode": "graded"}},
     "progress 0.50: range metric (graded): 1 inside the yellow limits, falling to 0 at the "
     "red limits; value 97 (red_low 90, yellow_low 92, target 94, yellow_high 96, red_high 98)"),
    # band: 88 hits red_low 88 -> progress 0
    ({"kind": "metric", "target": 94, "current": 88, "range": {"red_low": 88}},
     "progress 0.00: range metric (band): 1 while the value has not hit a red limit, else 0; "
     "value 88 is not inside the red limits (red_low 88)"),
    # linear: like a metric from start 10 to target 20 at 15 -> 0.5
    ({"kind": "metric", "start": 10, "target": 20, "current": 15,
      "range": {"red_high": 30, "mode": "linear"}},
     "progress 0.50: range metric (linear), increase from 10 to 20, now 15: "
     "raw (15 − 10) / (20 − 10) = 0.50"),
])
def test_progress_line_per_kind(kr: dict[str, Any], line: str) -> None:
    for ev in both(one([{"id": "x", **kr}])):
        assert lines(ev, "x", "key_result")[1] == line


def test_capping_and_falling_back() -> None:
    data = one([{"id": "over", "kind": "metric", "target": 100, "current": 125},
                {"id": "under", "kind": "metric", "start": 10, "target": 20, "current": 5}])
    for ev in both(data):
        assert "raw progress 1.25 is capped at 1 (policy cap)" in lines(ev, "over")
        assert "raw progress -0.50 is below the start: progress is never negative" in lines(
            ev, "under")
    data["policy"] = {"preset": "betterworks", "cap": None}
    for ev in both(data):
        assert "raw progress 1.25 is not capped (policy: uncapped)" in lines(ev, "over")


def test_mean_with_weights_and_shares() -> None:
    # (0.5 * 1 + 1.0 * 3) / 4 = 0.875; the weight-0 KR is shown, not counted
    data = one([{"id": "m", "kind": "metric", "unit": "a", "target": 10, "current": 5},
                {"id": "d", "kind": "binary", "done": True, "weight": 3},
                {"id": "z", "kind": "binary", "done": False, "weight": 0}])
    for ev in both(data):
        assert lines(ev, "o")[1:3] == [
            "mode mean (auto: mixed kinds, units or directions: weighted mean of progress)",
            "progress 0.88 = weighted mean of 2 key results: m 0.50 (weight 1, share 0.25); "
            "d 1.00 (weight 3, share 0.75); z 0.00 (weight 0)",
        ]
        assert "weight 0: shown but not counted" in lines(ev, "z")
        assert "weight 3" in lines(ev, "d")


def test_children_rollup_and_include_children() -> None:
    data = {"okrcore": 1, "as_of": "2026-01-07T00:00:00Z", "objectives": [
        {"id": "top"},
        {"id": "p", "parent": "top", "include_children": True, "mode": "mean",
         "key_results": [{"id": "pk", "kind": "binary", "done": True}]},
        {"id": "c", "parent": "p", "weight": 3,
         "key_results": [{"id": "ck", "kind": "binary", "done": False}]},
    ]}
    for ev in both(data):
        # p = (1 * 1 + 0 * 3) / 4 = 0.25; top = p alone
        assert lines(ev, "p")[1:3] == [
            "mode mean (the objective asks for mode 'mean'; aligned children count as items "
            "too)",
            "progress 0.25 = weighted mean of 2 items: pk 1.00 (weight 1, share 0.25); "
            "c 0.00 (weight 3, share 0.75)",
        ]
        assert lines(ev, "top")[:3] == [
            "objective top",
            "mode mean (no key results of its own: weighted mean of aligned children)",
            "progress 0.25 = weighted mean of 1 aligned objective: p 0.25 (weight 1, "
            "share 1.00)",
        ]
        assert lines(ev, "p")[0] == "objective p (aligned to top)"


def test_sum_with_progress_settings_and_children() -> None:
    # SEMANTICS §3: a goal's fixed target 800,000 from start 100,000; 'deals' is not summed
    data = one([{"id": "e", "kind": "metric", "unit": "USD", "target": 500000,
                 "current": 450000},
                {"id": "deals", "kind": "metric", "unit": "deals", "target": 12, "current": 6}],
               progress_settings={"unit": "USD", "target": 800000, "start": 100000})
    for ev in both(data):
        assert lines(ev, "o")[1:5] == [
            "mode sum (auto: progress settings with a unit: sum the metrics of that unit)",
            "sum of 1 USD key result: 450,000 of fixed target 800,000",
            "from start 100,000: (450,000 − 100,000) / (800,000 − 100,000) = 0.50",
            "summed: e 450,000; not summed: deals",
        ]
        assert "not summed: only metrics of the objective's sum unit count" in lines(ev, "deals")


def test_manual_status_and_other_presets() -> None:
    data = one([{"id": "k", "kind": "metric", "target": 10, "current": 8}], status="at_risk")
    for ev in both(data):
        assert "yellow: manual status at risk (computed colour green)" in lines(ev, "o")
    # BurningOKR: difference -0.2 / -0.4 with boundary "better" (SEMANTICS §11.4); expected 0.6,
    # progress 0.2: 0.2 - 0.6 = -0.4 is on the red threshold, so it keeps the better colour
    data = one([{"id": "k", "kind": "metric", "target": 10, "current": 2}])
    data["policy"] = {"preset": "burningokr"}
    for ev in both(data):
        assert ("yellow: progress 0.20 is below expected 0.60 − 0.2 (burningokr pace)"
                in lines(ev, "k"))
    # progress 0.1: 0.1 - 0.6 = -0.5 < -0.4 -> red
    data = one([{"id": "k", "kind": "metric", "target": 10, "current": 1}])
    data["policy"] = {"preset": "burningokr"}
    for ev in both(data):
        assert ("red: progress 0.10 is below expected 0.60 − 0.4 (burningokr pace)"
                in lines(ev, "k"))
    # Viva: 25 points; progress 0.3 vs expected 0.6 is 30 points behind -> red
    data = one([{"id": "k", "kind": "metric", "target": 10, "current": 3}])
    data["policy"] = {"preset": "viva"}
    for ev in both(data):
        assert ("red: progress 0.30 is at or below expected 0.60 − 25 points (viva pace)"
                in lines(ev, "k"))
    # a pace that is no preset's is spelt out
    data["policy"] = {"preset": "betterworks", "pace": {"rule": "ratio", "yellow": 0.9,
                                                        "red": 0.3}}
    for ev in both(data):
        assert ("yellow: progress 0.30 is at or below 0.9 × expected 0.60 (pace rule ratio "
                "0.9/0.3)" in lines(ev, "k"))


def test_on_pace_ahead_of_yellow_and_not_started() -> None:
    data = one([{"id": "fast", "kind": "metric", "target": 10, "current": 7},
                {"id": "slow", "kind": "metric", "target": 10, "current": 5}])
    for ev in both(data):
        assert ("green: progress 0.70 is at or above expected 0.60 (betterworks pace)"
                in lines(ev, "fast"))
        assert ("green: progress 0.50 is behind expected 0.60 but above 0.75 × expected 0.60 "
                "(betterworks pace)" in lines(ev, "slow"))
    data["as_of"] = "2025-12-01T00:00:00Z"
    for ev in both(data):
        assert "green: the period has not started (expected 0)" in lines(ev, "slow")


def test_trend_stale_forecast_and_grade() -> None:
    kr = {"id": "k", "kind": "metric", "unit": "u", "target": 100, "check_ins": [
        {"at": "2026-01-02T00:00:00Z", "value": 10}, {"at": "2026-01-04T00:00:00Z",
                                                       "value": 30}]}
    data = one([kr])
    data["as_of"] = "2026-01-09T00:00:00Z"
    data["policy"] = {"preset": "betterworks", "stale_days": 2}
    for ev in both(data):
        text = lines(ev, "k")
        # 10 -> 30 over 2 days is 10 a day: 30 + 10 * 6 = 90 at due (2026-01-10T00Z = 10 days)
        assert "trend: progressed since the previous check-in" in text
        assert ("stale: no check-in in the 2 days before as_of (last 2026-01-04T00:00:00Z)"
                in text)
        assert ("forecast at due: 100 u, progress 1.00, green (least-squares line through the "
                "period's check-ins)" in text)
        assert text[-1] == "grade 0.3 (red), not a success"


def test_forecast_line_oracle() -> None:
    # check-ins 10 at day 1 and 30 at day 3: 10 a day, due at day 10 -> 100
    kr = {"id": "k", "kind": "metric", "unit": "u", "target": 200, "check_ins": [
        {"at": "2026-01-02T00:00:00Z", "value": 10}, {"at": "2026-01-04T00:00:00Z",
                                                       "value": 30}]}
    for ev in both(one([kr])):
        assert ("forecast at due: 100 u, progress 0.50, red (least-squares line through the "
                "period's check-ins)") in lines(ev, "k")


# -------------------------------------------------------------------------------------------
# SEMANTICS §11 reasons, by name (the pace rule change lands separately)
# -------------------------------------------------------------------------------------------

def with_pace(ev: Evaluation, ident: str, reason: str, colour: str | None, due: str) -> str:
    kr = ev.key_results[ident]
    assert kr.explanation is not None
    x = attrs.evolve(kr.explanation, pace=ColourSource("pace", reason), due=due)
    # §11 lets a key result's colour be null; the result class gets that type with the change
    colours: dict[str, Any] = {"pace_colour": colour, "colour": colour}
    changed = attrs.evolve(kr, explanation=x, **colours)
    return attrs.evolve(ev, key_results={**ev.key_results, ident: changed}).explain(ident)


@pytest.mark.parametrize(("reason", "colour", "line"), [
    ("not_due", "green", "green: not due until 2026-03-31"),
    ("overdue", "red", "red: overdue since 2026-03-31"),
    ("complete", "green", "green: done"),
    ("no_timeline", None, "no pace: no timeline"),
])
def test_reasons_of_done_or_not_key_results(reason: str, colour: str | None, line: str) -> None:
    ev = evaluate(load(one([{"id": "x", "kind": "binary", "done": False}])))
    assert line in with_pace(ev, "x", reason, colour, "2026-04-01T00:00:00Z").split("\n")


def test_null_objective_colour_without_timeline() -> None:
    ev = evaluate(load(one([{"id": "x", "kind": "binary", "done": False}])))
    obj = ev.objectives["o"]
    expl = attrs.evolve(obj.explanation, colour=ColourSource("pace", "no_timeline"),
                        expected=None)
    changed = attrs.evolve(obj, colour=None, computed_colour=None, expected=None,
                           explanation=expl)
    text = attrs.evolve(ev, objectives={"o": changed}).explain("o", "objective")
    assert "no pace: no timeline" in text.split("\n")


# -------------------------------------------------------------------------------------------
# Errors, shared ids, unknown ids
# -------------------------------------------------------------------------------------------

def test_items_with_errors_are_explained_by_their_errors() -> None:
    data = {"okrcore": 1, "as_of": "2026-01-07T00:00:00Z", "objectives": [
        {"id": "bad", "parent": "top",
         "key_results": [{"id": "k1", "kind": "metric", "target": "12k"},
                         {"id": "k2", "kind": "binary", "done": True}]},
        {"id": "top"},
        {"id": "loop1", "parent": "loop2"}, {"id": "loop2", "parent": "loop1"},
    ]}
    scalar, batch = both(data)
    assert scalar.error_paths == batch.error_paths == {
        ("objective", "bad"): "objectives[0]",
        ("key_result", "k1"): "objectives[0].key_results[0]",
        ("objective", "top"): "objectives[1]",
        ("objective", "loop1"): "objectives[2]",
        ("objective", "loop2"): "objectives[3]",
    }
    for ev in (scalar, batch):
        k1 = lines(ev, "k1")
        assert k1[0] == "key result k1: not evaluated"
        assert k1[1] == ("error not_a_number at objectives[0].key_results[0].target: target "
                         "must be a number, got '12k'")
        assert lines(ev, "bad") == [
            "objective bad: not evaluated",
            "error depends_on_invalid at objectives[0]: objective 'bad' needs "
            "objectives[0].key_results[0], which has an error",
        ]
        assert lines(ev, "top")[1] == ("error depends_on_invalid at objectives[1]: objective "
                                       "'top' rolls up objectives[0], which has an error")
        assert lines(ev, "loop1")[1] == ("error alignment_cycle at objectives[2].parent: "
                                         "alignment cycle of 2 objectives: loop1 -> loop2 -> loop1")
        # the valid key result of the bad objective still has its own explanation
        assert lines(ev, "k2")[1] == "progress 1.00: done"
    assert explain_all(scalar) == explain_all(batch)


def test_an_objective_and_a_key_result_sharing_an_id() -> None:
    data = one([{"id": "o", "kind": "binary", "done": True}])
    for ev in both(data):
        text = ev.explain("o")
        objective, key_result = text.split("\n\n")
        assert objective.startswith("objective o\n")
        assert key_result.startswith("key result o (binary) of objective o\n")
        assert ev.explain("o", "objective") == objective
        assert ev.explain("o", "key_result") == key_result


def test_unknown_id() -> None:
    ev = evaluate(load(ORACLE))
    with pytest.raises(UnknownItemError, match="no objective or key result with id 'nope'"):
        ev.explain("nope")
    with pytest.raises(KeyError):
        ev.explain("nope")
    with pytest.raises(UnknownItemError, match="no key result with id 'o'"):
        ev.explain("o", "key_result")
    with pytest.raises(ValueError, match="kind must be"):
        explain(ev, "o", "person")


def test_number_formats() -> None:
    assert [format_number(v) for v in (800000.0, 99.71, 0.941176, -0.0, 1.5e20, 2e-7, -1234.5)
            ] == ["800,000", "99.71", "0.9412", "0", "1.5e+20", "2e-07", "-1,234.5"]
    assert [format_fraction(v) for v in (0.4, 1 / 3, 0.0, -0.0, 1.0, 1.004)] == [
        "0.40", "0.33", "0.00", "0.00", "1.00", "1.00"]
    # close to 0 or 1 but not there: enough digits to tell
    assert [format_fraction(v) for v in (-0.0001, 2.5e-7, 0.9999, 1 - 1e-12)] == [
        "-0.0001", "2.5e-07", "0.999900", "0.999999999999"]


# -------------------------------------------------------------------------------------------
# Every item, both engines
# -------------------------------------------------------------------------------------------

def every_item_explained(ev: Evaluation) -> None:
    for ident in ev.objectives:
        assert ev.explain(ident, "objective").startswith(f"objective {ident}")
    for ident, kr in ev.key_results.items():
        text = ev.explain(ident, "key_result")
        assert text.startswith(f"key result {ident} (")
        assert len(text.split("\n")) >= 3, text
        assert kr.explanation is not None
    for (kind, ident) in ev.error_paths:
        assert ev.explain(ident, kind).split("\n")[1].startswith("error ")


def test_demo_sample_on_both_engines() -> None:
    document = generate_organisation()
    scalar, batch = evaluate(document), evaluate_batch(document)
    assert scalar == batch  # key result explanations and error paths included
    every_item_explained(scalar)
    assert explain_all(scalar) == explain_all(batch)
    assert len(scalar.key_results) == 62


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents())
def test_generated_documents(doc: Document) -> None:
    scalar, batch = evaluate(doc), evaluate_batch(doc)
    assert scalar == batch
    every_item_explained(scalar)
    assert explain_all(scalar) == explain_all(batch)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=corrupted())
def test_generated_documents_with_errors(data: dict[str, Any]) -> None:
    doc = okrcore.Document.from_dict(json.loads(json.dumps(data)))
    scalar, batch = evaluate(doc), evaluate_batch(doc)
    assert scalar.error_paths == batch.error_paths
    assert scalar.key_results == batch.key_results
    every_item_explained(scalar)
    assert explain_all(scalar) == explain_all(batch)


@settings(max_examples=200, deadline=None)
@given(value=st.floats(-10, 10), cuts=st.lists(st.one_of(st.none(), st.floats(-10, 10)),
                                               min_size=4, max_size=4),
       strict=st.booleans())
def test_range_limit_names_the_range_status(value: float, cuts: list[float | None],
                                            strict: bool) -> None:
    red_low, yellow_low, yellow_high, red_high = cuts
    limit = formulas.range_limit(value, red_low, yellow_low, yellow_high, red_high, strict)
    status = formulas.range_status(value, red_low, yellow_low, yellow_high, red_high, strict)
    assert (limit or "green_").split("_")[0] == status


# -------------------------------------------------------------------------------------------
# The command line
# -------------------------------------------------------------------------------------------

def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "okrcore.cli", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def one_line_error(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    return run.stderr


def test_cli_explain_one_and_all(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(ORACLE), encoding="utf-8")
    run = cli("explain", str(path), "k")
    assert run.returncode == 0 and run.stderr == ""
    assert run.stdout == evaluate(load(ORACLE)).explain("k") + "\n"
    everything = cli("explain", str(path), "--engine", "batch")
    assert everything.returncode == 0
    assert everything.stdout == explain_all(evaluate(load(ORACLE))) + "\n"
    kind = cli("explain", str(path), "o", "--kind", "objective")
    assert kind.stdout.startswith("objective o\n")


def test_cli_explain_errors(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(ORACLE), encoding="utf-8")
    assert "no objective or key result with id 'nope'" in one_line_error(
        cli("explain", str(path), "nope"))
    assert "cannot read" in one_line_error(cli("explain", str(tmp_path / "missing.json")))
    assert "cannot read" in one_line_error(cli("explain", str(tmp_path)))
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"{\xff not json")
    one_line_error(cli("explain", str(bad)))
    one_line_error(cli("explain", str(bad), "k"))


def test_cli_explain_of_an_item_with_an_error(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps({"okrcore": 1, "as_of": "2026-01-07T00:00:00Z", "objectives": [
        {"id": "bad", "key_results": [{"id": "k1", "kind": "metric", "target": "12k"}]}]}),
        encoding="utf-8")
    run = cli("explain", str(path), "k1")
    assert run.returncode == 0
    assert run.stdout.startswith("key result k1: not evaluated\nerror not_a_number at ")


def test_cli_evaluate_tree(tmp_path: Path) -> None:
    document = generate_organisation()
    path = tmp_path / "demo.json"
    path.write_text(okrcore.dumps(document), encoding="utf-8")
    run = cli("evaluate", str(path), "--format", "tree")
    assert run.returncode == 0 and run.stderr == ""
    expected = render(load(json.loads(okrcore.dumps(document))), evaluate(document), False)
    assert run.stdout == expected + "\n"
    assert "Become the go-to finance platform for mid-market teams" in run.stdout
    coloured = cli("evaluate", str(path), "--format", "tree", "--colour", "always",
                   "--engine", "batch")
    assert "\x1b[" in coloured.stdout
    # JSON stays the default
    assert json.loads(cli("evaluate", str(path)).stdout)["okrcore"] == 1


def test_documented_example_exists() -> None:
    ev = evaluate(okrcore.loads(EXAMPLE.read_text(encoding="utf-8")))
    every_item_explained(ev)


def console_runs(text: str) -> list[tuple[str, str]]:
    """(command, shown output) of every ``$`` line of the console blocks in ``text``."""
    runs: list[tuple[str, list[str]]] = []
    inside = False
    for line in text.split("\n"):
        if line.startswith(".. code-block:: console"):
            inside = True
            continue
        if inside and line and not line.startswith("   "):
            inside = False
        if not inside:
            continue
        if line.startswith("   $ "):
            runs.append((line[5:], []))
        elif runs:
            runs[-1][1].append(line[3:])
    return [(command, "\n".join(shown).strip("\n")) for command, shown in runs]


def test_an_evaluation_read_back_from_storage(tmp_path: Path) -> None:
    # the SQLAlchemy adapter reads stored result columns back through the batch conversion
    pytest.importorskip("okrcore_sqlalchemy")
    from okrcore.demo import _through_sqlite

    document = generate_organisation()
    _, stored, _ = _through_sqlite(document, str(tmp_path / "demo.db"))
    assert explain_all(stored) == explain_all(evaluate(document))


def test_a_key_result_without_its_explanation() -> None:
    # a result built by hand (or by storage that keeps no explanation) still gets a short text
    ev = evaluate(load(ORACLE))
    bare = {k: attrs.evolve(v, explanation=None) for k, v in ev.key_results.items()}
    text = attrs.evolve(ev, key_results=bare).explain("up").split("\n")
    assert text == [
        "key result up (metric) of objective svc",
        "progress 1.00 (metric, current 99.71)",
        "expected 0.60 on the linear timeline",
        "yellow: pace green, range yellow",
        "grade 1 (green), a success",
    ]
    assert attrs.evolve(ev, key_results=bare).explain("svc").split("\n")[4] == (
        "yellow: key result up hit a yellow range limit")


def test_tree_of_a_deep_chain(tmp_path: Path) -> None:
    # 3,000 levels: no recursion, lines stay bounded (deep levels are named, not indented)
    n = 3000
    objectives = [{"id": f"o{i}", "parent": f"o{i - 1}" if i else None,
                   "key_results": [{"id": f"k{i}", "kind": "binary", "done": True}]}
                  for i in range(n)]
    objectives.append({"id": "x", "parent": "y"})
    objectives.append({"id": "y", "parent": "x"})
    path = tmp_path / "chain.json"
    path.write_text(json.dumps({"okrcore": 1, "as_of": "2026-01-01T00:00:00Z",
                                "objectives": objectives}), encoding="utf-8")
    run = cli("evaluate", str(path), "--format", "tree")
    assert run.returncode == 0 and "Traceback" not in run.stderr
    out = run.stdout.split("\n")
    assert out[2] == f"{n + 2} objectives in {n} levels · {n} key results · 0 people · 2 errors"
    assert max(len(line) for line in out) <= 150
    assert any(line.endswith(f"(level {n}) o{n - 1}") for line in out)
    assert any(line.startswith("x  error: alignment_cycle") for line in out)
    explained = cli("explain", str(path), f"o{n - 1}")
    assert explained.stdout.startswith(f"objective o{n - 1} (aligned to o{n - 2})\n")


def test_pace_boundary_better_reads_below() -> None:
    # SEMANTICS §11.4: with boundary "better" a value on a threshold takes the better colour, so
    # the text says "below", not "at or below" (PaceRule gains the field with that change)
    from types import SimpleNamespace

    from okrcore.explain import _pace_phrase

    pace = SimpleNamespace(rule="difference", yellow=-0.2, red=-0.4, boundary="better")
    policy: Any = SimpleNamespace(preset="burningokr", pace=pace)
    source = ColourSource("pace", "yellow", "difference", -0.2)
    assert _pace_phrase("yellow", source, 0.55, 0.8, policy) == (
        "yellow: progress 0.55 is below expected 0.80 − 0.2 (pace rule difference -0.2/-0.4)")
    pace.boundary = "worse"
    assert "is at or below expected 0.80 − 0.2" in _pace_phrase("yellow", source, 0.55, 0.8,
                                                                 policy)


def test_sum_with_children_and_objective_staleness() -> None:
    # sum part (10 + 70) / (100 + 100) = 0.4, then the mean with child c (1.0): 0.7
    data = {"okrcore": 1, "as_of": "2026-01-07T00:00:00Z", "objectives": [
        {"id": "p", **TIMELINE, "include_children": True,
         "progress_settings": {"unit": "USD", "auto": True},
         "key_results": [{"id": "a", "kind": "metric", "unit": "USD", "target": 100,
                          "check_ins": [{"at": "2026-01-02T00:00:00Z", "value": 10}]},
                         {"id": "b", "kind": "metric", "unit": "USD", "target": 100,
                          "current": 70}]},
        {"id": "c", "parent": "p", "key_results": [{"id": "cb", "kind": "binary",
                                                    "done": True}]}]}
    for ev in both(data):
        assert lines(ev, "p")[1:] == [
            "mode sum (auto: progress settings with a unit: sum the metrics of that unit; "
            "aligned children count as items too)",
            "sum of 2 USD key results: 80 of auto target 200",
            "from start 0: (80 − 0) / (200 − 0) → 0.40",
            "summed: a 10, b 70",
            "progress 0.70 = weighted mean of 2 items: the sum 0.40 (weight 1, share 0.50); "
            "c 1.00 (weight 1, share 0.50)",
            "expected 0.60 on the linear timeline",
            "green: progress 0.70 is at or above expected 0.60 (betterworks pace)",
            "trend: progressed since the previous check-in",
            "not stale: a key result had a check-in in the 7 days before as_of (or is complete)",
            "grade 0.7 (green), not a success",
        ]
