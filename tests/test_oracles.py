"""Worked examples: every expected value here was computed by hand from SEMANTICS.md.

Each section cites the rule it checks (``§3``: SEMANTICS.md section 3; ``D8``: decision D8 of
the implementation notes; ``000:165``: seed file 000, line 165).  The worked examples of the
seeds are checked twice: through the Python model (:func:`okrcore.evaluate`) and through a
hand-written interchange document (:func:`okrcore.evaluate_document`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

import okrcore
from okrcore import (
    PRESETS,
    Binary,
    CheckIn,
    Checkpoint,
    Document,
    Evaluation,
    Metric,
    Milestone,
    Objective,
    PaceRule,
    Policy,
    ProgressSettings,
    Range,
)
from okrcore import formulas as F

AS_OF = "2026-02-15T00:00:00Z"
"""Default instant of evaluation of the JSON documents."""

# A timeline on which expected progress is exactly 0.8: 8 of 10 days have passed.
PACE_START = "2026-01-01T00:00:00Z"
PACE_DUE = "2026-01-11T00:00:00Z"
PACE_AS_OF = "2026-01-09T00:00:00Z"

BETTERWORKS = PaceRule("ratio", 0.75, 0.5)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def document(
    *objectives: dict[str, Any], as_of: str = AS_OF, policy: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return an interchange document (version 1)."""
    doc: dict[str, Any] = {"okrcore": 1, "as_of": as_of, "objectives": list(objectives)}
    if policy is not None:
        doc["policy"] = policy
    return doc


def objective(ident: str, *key_results: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Return an objective of an interchange document."""
    return {"id": ident, "key_results": list(key_results), **fields}


def metric(ident: str, target: float, current: float | None = None, **fields: Any
           ) -> dict[str, Any]:
    """Return a metric key result of an interchange document."""
    out: dict[str, Any] = {"id": ident, "kind": "metric", "target": target, **fields}
    if current is not None:
        out["current"] = current
    return out


def binary(ident: str, done: bool, **fields: Any) -> dict[str, Any]:
    """Return a binary key result of an interchange document."""
    return {"id": ident, "kind": "binary", "done": done, **fields}


def run(doc: dict[str, Any]) -> dict[str, Any]:
    """Evaluate a JSON document that must not produce any error."""
    result = okrcore.evaluate_document(doc)
    assert result["errors"] == []
    # The result is JSON: it survives a strict serialisation.
    json.dumps(result, allow_nan=False)
    return result


def run_model(
    *objectives: Objective, as_of: datetime | None = None, policy: Policy | None = None
) -> Evaluation:
    """Evaluate model objectives that must not produce any error."""
    doc = Document(
        as_of=as_of or utc(2026, 2, 15),
        objectives=objectives,
        policy=policy or Policy(),
    )
    result = okrcore.evaluate(doc)
    assert result.errors == ()
    return result


def paced(*key_results: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """An objective ``o`` on the timeline where expected progress is 0.8."""
    return objective("o", *key_results, start=PACE_START, due=PACE_DUE, **fields)


# --------------------------------------------------------------------------------------------
# §2 key result kinds: metric, reduction, binary, milestone
# --------------------------------------------------------------------------------------------


def test_reduction_45_to_20_at_30_model() -> None:
    # 000:62-74: (30 - 45) / (20 - 45) = -15 / -25 = 0.6
    kr = Metric(id="call_time", start=45, target=20, current=30, unit="minutes")
    assert kr.direction == -1
    assert okrcore.key_result_progress(kr, 30, Policy()) == (0.6, 0.6)
    result = run_model(Objective(id="o", key_results=[kr]))
    assert result.key_results["call_time"].raw_progress == 0.6
    assert result.key_results["call_time"].progress == 0.6
    assert result.key_results["call_time"].current == 30
    assert result.objectives["o"].progress == 0.6


def test_reduction_45_to_20_at_30_json() -> None:
    result = run(document(objective(
        "o", metric("call_time", 20, 30, start=45, unit="minutes"))))
    assert result["key_results"]["call_time"]["progress"] == 0.6
    assert result["key_results"]["call_time"]["raw_progress"] == 0.6
    assert result["objectives"]["o"]["progress"] == 0.6


@pytest.mark.parametrize(
    ("current", "raw", "progress"),
    [
        (45, 0.0, 0.0),  # at the start
        (50, -0.2, 0.0),  # (50-45)/(20-45): fell back past the start -> 0, never negative
        (20, 1.0, 1.0),  # at the target
        (15, 1.2, 1.0),  # (15-45)/(20-45) = 1.2, capped at 1
    ],
)
def test_reduction_clamps_both_ways(current: float, raw: float, progress: float) -> None:
    result = run(document(objective("o", metric("k", 20, current, start=45))))
    assert result["key_results"]["k"]["raw_progress"] == raw
    assert result["key_results"]["k"]["progress"] == progress


def test_metric_without_current_is_at_its_start() -> None:
    result = run(document(objective("o", metric("k", 120, start=20))))
    assert result["key_results"]["k"]["current"] == 20
    assert result["key_results"]["k"]["progress"] == 0.0


def test_three_binary_results_one_done_mean_model() -> None:
    result = run_model(Objective(id="o", key_results=[
        Binary(id="a", done=True), Binary(id="b", done=False), Binary(id="c")]))
    o = result.objectives["o"]
    assert o.progress == 1 / 3
    assert o.mode == "mean"
    assert o.explanation.rule == "auto:mixed"
    assert [kr.progress for kr in result.key_results.values()] == [1.0, 0.0, 0.0]


def test_three_binary_results_one_done_mean_json() -> None:
    result = run(document(objective(
        "o", binary("a", True), binary("b", False), binary("c", False))))
    assert result["objectives"]["o"]["progress"] == 1 / 3
    assert result["objectives"]["o"]["mode"] == "mean"


def test_milestone_three_of_five_stages_model() -> None:
    # 003:296 "Implement a CRM system (in 5 stages)", 3 done -> 0.6
    kr = Milestone(id="crm", stages_total=5, stages_done=3)
    result = run_model(Objective(id="o", key_results=[kr]))
    assert result.key_results["crm"].progress == 0.6
    assert result.key_results["crm"].current == 3
    assert result.objectives["o"].progress == 0.6


def test_milestone_kinds_json() -> None:
    result = run(document(objective(
        "o",
        {"id": "crm", "kind": "milestone", "stages_total": 5, "stages_done": 3},
        {"id": "simple", "kind": "milestone", "done": True},
        {"id": "open", "kind": "milestone"},
        {"id": "steps", "kind": "milestone", "checkpoints": [
            {"name": "choose", "done": True}, {"name": "train", "done": False},
            {"name": "import", "done": False}, {"name": "dash", "done": False}]},
    )))
    krs = result["key_results"]
    assert krs["crm"]["progress"] == 0.6
    assert krs["simple"]["progress"] == 1.0
    assert krs["open"]["progress"] == 0.0
    assert krs["steps"]["progress"] == 0.25  # 1 of 4 checkpoints
    # mean of 0.6, 1, 0, 0.25
    assert result["objectives"]["o"]["progress"] == pytest.approx(1.85 / 4, rel=1e-12)


def test_checkpoint_milestone_model() -> None:
    kr = Milestone(id="m", checkpoints=[Checkpoint("a", True), Checkpoint("b", True),
                                        Checkpoint("c")])
    result = run_model(Objective(id="o", key_results=[kr]))
    assert result.key_results["m"].progress == 2 / 3


# --------------------------------------------------------------------------------------------
# §3 the 850,000 / 800,000 example (000:165-168), progress settings, auto target
# --------------------------------------------------------------------------------------------

TARGETS = (100_000, 150_000, 200_000, 250_000, 150_000)  # sum 850,000
CURRENTS = (120_000, 90_000, 200_000, 240_000, 150_000)  # sum 800,000
# clamped progresses 1.2->1, 0.6, 1, 0.96, 1: their mean is 4.56 / 5 = 0.912
MEAN_OF_FIVE = 0.912


def five_dollar_metrics_model() -> list[Metric]:
    return [Metric(id=f"d{i}", target=t, current=c, unit="USD")
            for i, (t, c) in enumerate(zip(TARGETS, CURRENTS, strict=True))]


def five_dollar_metrics_json() -> list[dict[str, Any]]:
    return [metric(f"d{i}", t, c, unit="USD")
            for i, (t, c) in enumerate(zip(TARGETS, CURRENTS, strict=True))]


def test_fixed_goal_target_800k_model() -> None:
    o = Objective(id="o", key_results=five_dollar_metrics_model(),
                  progress_settings=ProgressSettings(unit="USD", target=800_000))
    result = run_model(o).objectives["o"]
    assert result.progress == 1.0
    assert result.raw_progress == 1.0
    assert result.mode == "sum"
    assert result.explanation.rule == "auto:progress_settings"
    assert result.explanation.target == 800_000
    assert result.explanation.start == 0
    assert result.explanation.value == 800_000
    assert result.explanation.target_rule == "fixed"


def test_fixed_goal_target_800k_json() -> None:
    result = run(document(objective(
        "o", *five_dollar_metrics_json(),
        progress_settings={"unit": "USD", "target": 800000, "auto": False, "start": None})))
    o = result["objectives"]["o"]
    assert o["progress"] == 1.0
    assert o["mode"] == "sum"
    assert o["explanation"]["rule"] == "auto:progress_settings"
    assert o["explanation"]["target"] == 800000
    assert o["explanation"]["start"] == 0
    # sum-mode items: share = value / sum of values (D22)
    shares = [item["share"] for item in o["explanation"]["items"]]
    assert shares == pytest.approx([0.15, 0.1125, 0.25, 0.3, 0.1875], rel=1e-12)
    assert all(item["contributes"] for item in o["explanation"]["items"])


def test_auto_goal_target_850k_model() -> None:
    o = Objective(id="o", key_results=five_dollar_metrics_model(),
                  progress_settings=ProgressSettings(unit="USD", auto=True))
    result = run_model(o).objectives["o"]
    assert result.progress == 800_000 / 850_000  # 0.941176...
    assert result.explanation.target == 850_000
    assert result.explanation.target_rule == "auto"


def test_auto_goal_target_850k_json() -> None:
    result = run(document(objective(
        "o", *five_dollar_metrics_json(), progress_settings={"unit": "USD", "auto": True})))
    assert result["objectives"]["o"]["progress"] == 800_000 / 850_000
    assert result["objectives"]["o"]["explanation"]["target"] == 850_000


def test_same_unit_without_settings_sums_against_sum_of_targets() -> None:
    # rule 2 of auto: every KR a plain USD increase -> sum, target = sum of targets
    model = run_model(Objective(id="o", key_results=five_dollar_metrics_model()))
    assert model.objectives["o"].progress == 800_000 / 850_000
    assert model.objectives["o"].explanation.rule == "auto:same_unit"
    assert model.objectives["o"].explanation.target == 850_000
    assert model.objectives["o"].explanation.start == 0
    result = run(document(objective("o", *five_dollar_metrics_json())))
    o = result["objectives"]["o"]
    assert o["progress"] == 800_000 / 850_000
    assert o["mode"] == "sum"
    assert o["explanation"]["rule"] == "auto:same_unit"
    assert o["explanation"]["target"] == 850_000


def test_explicit_mean_of_the_five_model() -> None:
    o = Objective(id="o", key_results=five_dollar_metrics_model(), mode="mean",
                  progress_settings=ProgressSettings(unit="USD", target=800_000))
    result = run_model(o).objectives["o"]
    assert result.progress == pytest.approx(MEAN_OF_FIVE, rel=1e-12)
    assert result.mode == "mean"
    assert result.explanation.rule == "explicit"


def test_explicit_mean_of_the_five_json() -> None:
    result = run(document(objective("o", *five_dollar_metrics_json(), mode="mean")))
    assert result["objectives"]["o"]["progress"] == pytest.approx(MEAN_OF_FIVE, rel=1e-12)
    assert result["objectives"]["o"]["mode"] == "mean"
    assert [kr["progress"] for kr in result["key_results"].values()] == [
        1.0, 0.6, 1.0, 0.96, 1.0]
    assert result["key_results"]["d0"]["raw_progress"] == 1.2


def test_sum_is_raw_one_kr_makes_up_for_another() -> None:
    # goal target 640,000: 800,000 / 640,000 = 1.25 raw, capped at 1; uncapped with cap null
    settings = {"unit": "USD", "target": 640000}
    capped = run(document(objective("o", *five_dollar_metrics_json(),
                                    progress_settings=settings)))
    assert capped["objectives"]["o"]["raw_progress"] == 1.25
    assert capped["objectives"]["o"]["progress"] == 1.0
    uncapped = run(document(objective("o", *five_dollar_metrics_json(),
                                      progress_settings=settings),
                            policy={"preset": "betterworks", "cap": None}))
    assert uncapped["objectives"]["o"]["progress"] == 1.25


def test_sum_one_kr_makes_up_for_another_below_its_start() -> None:
    # a: 0 -> 100 at 150; b: 50 -> 100 at 20 (below its start): value 170, start 50, target 200
    # -> (170 - 50) / (200 - 50) = 0.8, where the mean of clamped progress would be 0.5
    result = run(document(objective(
        "o", metric("a", 100, 150, unit="USD"), metric("b", 100, 20, start=50, unit="USD"))))
    assert result["objectives"]["o"]["progress"] == 0.8
    assert result["key_results"]["b"]["progress"] == 0.0


def test_ten_calls_plus_five_more_calls_auto_target_model() -> None:
    # 000:191-202: target 10 calls, then 5 more calls are added: the auto target becomes 15
    settings = ProgressSettings(unit="calls", target=10, auto=True)
    first = Metric(id="c1", target=10, current=6, unit="calls")
    before = run_model(Objective(id="o", key_results=[first], progress_settings=settings))
    assert before.objectives["o"].progress == 0.6  # 6 / 10
    assert before.objectives["o"].explanation.target == 10
    more = Metric(id="c2", target=5, current=0, unit="calls")
    after = run_model(Objective(id="o", key_results=[first, more], progress_settings=settings))
    assert after.objectives["o"].explanation.target == 15
    assert after.objectives["o"].progress == 0.4  # 6 / 15


def test_ten_calls_plus_five_more_calls_auto_target_json() -> None:
    result = run(document(objective(
        "o", metric("c1", 10, 6, unit="calls"), metric("c2", 5, 0, unit="calls"),
        binary("demo", True),
        progress_settings={"unit": "calls", "target": 10, "auto": True})))
    o = result["objectives"]["o"]
    assert o["explanation"]["target"] == 15
    assert o["explanation"]["target_rule"] == "auto"
    assert o["progress"] == 0.4
    # the binary KR is evaluated and shown but does not count in the sum (000:177)
    assert result["key_results"]["demo"]["progress"] == 1.0
    assert result["key_results"]["demo"]["contributes"] is False
    assert result["key_results"]["c1"]["contributes"] is True


def test_fixed_settings_target_ignores_kr_targets() -> None:
    result = run(document(objective(
        "o", metric("c1", 10, 6, unit="calls"), metric("c2", 5, 0, unit="calls"),
        progress_settings={"unit": "calls", "target": 10})))
    assert result["objectives"]["o"]["progress"] == 0.6


def test_settings_sum_only_their_unit() -> None:
    # USD metrics 50 of 100 and 30 of 50 sum to 80 against 200; the EUR metric does not count
    result = run(document(objective(
        "o", metric("a", 100, 50, unit="USD"), metric("b", 50, 30, unit="USD"),
        metric("c", 10, 10, unit="EUR"),
        progress_settings={"unit": "USD", "target": 200})))
    assert result["objectives"]["o"]["progress"] == 0.4
    assert result["key_results"]["c"]["contributes"] is False


def test_goal_level_reduction_via_settings_start() -> None:
    # 000:181-183: start 100 > target 40; currents 40 + 30 = 70 -> (70-100)/(40-100) = 0.5
    bugs = [metric("b1", 20, 40, start=60, unit="bugs"),
            metric("b2", 20, 30, start=40, unit="bugs")]
    result = run(document(objective(
        "o", *bugs, progress_settings={"unit": "bugs", "target": 40, "start": 100})))
    o = result["objectives"]["o"]
    assert o["progress"] == 0.5
    assert o["explanation"]["start"] == 100
    assert o["explanation"]["target"] == 40
    assert o["explanation"]["value"] == 70
    # no settings start: start = sum of KR starts = 100 again
    result = run(document(objective(
        "o", *bugs, progress_settings={"unit": "bugs", "target": 40})))
    assert result["objectives"]["o"]["progress"] == 0.5
    assert result["objectives"]["o"]["explanation"]["start"] == 100


def test_goal_level_reduction_model() -> None:
    o = Objective(
        id="o",
        key_results=[Metric(id="b1", start=60, target=20, current=40, unit="bugs"),
                     Metric(id="b2", start=40, target=20, current=30, unit="bugs")],
        progress_settings=ProgressSettings(unit="bugs", target=40, start=100),
    )
    assert run_model(o).objectives["o"].progress == 0.5


def test_explicit_sum_without_settings_sums_the_one_unit() -> None:
    # D8: mode sum, no settings: the counted metrics' single unit (USD), auto target 150
    result = run(document(objective(
        "o", metric("a", 100, 50, unit="USD"), metric("b", 50, 30, unit="USD"),
        binary("c", True), mode="sum")))
    o = result["objectives"]["o"]
    assert o["mode"] == "sum"
    assert o["explanation"]["rule"] == "explicit"
    assert o["progress"] == 80 / 150


# --------------------------------------------------------------------------------------------
# §3 auto rules and explanations
# --------------------------------------------------------------------------------------------


def test_auto_same_unit_uses_sums_of_starts_and_targets() -> None:
    # starts 10 + 20, targets 110 + 220, currents 60 + 120: (180 - 30) / (330 - 30) = 0.5
    result = run(document(objective(
        "o", metric("a", 110, 60, start=10, unit="USD"),
        metric("b", 220, 120, start=20, unit="USD"))))
    expl = result["objectives"]["o"]["explanation"]
    assert result["objectives"]["o"]["progress"] == 0.5
    assert (expl["mode"], expl["rule"]) == ("sum", "auto:same_unit")
    assert (expl["target"], expl["start"], expl["value"]) == (330, 30, 180)


@pytest.mark.parametrize(
    ("key_results", "progress"),
    [
        # two units: (50/100 + 3/4) / 2
        ([metric("a", 100, 50, unit="USD"), metric("b", 4, 3, unit="deals")], 0.625),
        # one unit, both directions: (5/10 + (8-10)/(0-10)) / 2 = (0.5 + 0.2) / 2
        ([metric("a", 10, 5, unit="x"), metric("b", 0, 8, start=10, unit="x")], 0.35),
        # no unit at all: (5/10 + 1/4) / 2
        ([metric("a", 10, 5), metric("b", 4, 1)], 0.375),
        # metric and milestone: (5/10 + 1) / 2
        ([metric("a", 10, 5, unit="x"), {"id": "m", "kind": "milestone", "done": True}], 0.75),
        # a range metric is not a plain metric: (2/4 + 1 (band)) / 2
        ([metric("a", 4, 2, unit="x"),
          metric("r", 12, 11, unit="x", range={"red_low": 8, "red_high": 18})], 0.75),
    ],
)
def test_auto_mixed_falls_back_to_mean(key_results: list[dict[str, Any]], progress: float
                                       ) -> None:
    result = run(document(objective("o", *key_results)))
    o = result["objectives"]["o"]
    assert o["progress"] == pytest.approx(progress, rel=1e-12)
    assert o["mode"] == "mean"
    assert o["explanation"]["rule"] == "auto:mixed"


def test_weight_zero_kr_counts_in_the_direction_test() -> None:
    # D9: the weight-0 reduction makes the directions mixed -> mean of the counted KRs:
    # (50/100 + 0/300) / 2 = 0.25 (a sum would give 50 / 400)
    result = run(document(objective(
        "o", metric("a", 100, 50, unit="USD"), metric("b", 300, 0, unit="USD"),
        metric("c", 0, 10, start=100, unit="USD", weight=0))))
    o = result["objectives"]["o"]
    assert (o["mode"], o["explanation"]["rule"]) == ("mean", "auto:mixed")
    assert o["progress"] == 0.25


def test_progress_settings_rule_beats_mixed_kinds() -> None:
    result = run(document(objective(
        "o", metric("a", 100, 25, unit="USD"), binary("b", True),
        progress_settings={"unit": "USD", "auto": True})))
    o = result["objectives"]["o"]
    assert (o["mode"], o["explanation"]["rule"]) == ("sum", "auto:progress_settings")
    assert o["progress"] == 0.25


# --------------------------------------------------------------------------------------------
# §3 weights, cap
# --------------------------------------------------------------------------------------------


def test_weights_and_weight_zero() -> None:
    # (2*1 + 1*0) / 3; the weight-0 KR is shown but not counted
    result = run(document(objective(
        "o", binary("a", True, weight=2), binary("b", False, weight=1),
        binary("c", True, weight=0))))
    o = result["objectives"]["o"]
    assert o["progress"] == 2 / 3
    items = {item["id"]: item for item in o["explanation"]["items"]}
    assert items["a"]["share"] == 2 / 3
    assert items["b"]["share"] == 1 / 3
    assert items["c"]["share"] is None
    assert (items["a"]["contributes"], items["c"]["contributes"]) == (True, False)
    assert result["key_results"]["c"]["contributes"] is False
    assert result["key_results"]["c"]["progress"] == 1.0


def test_weights_model() -> None:
    o = Objective(id="o", key_results=[
        Metric(id="a", target=10, current=10, unit="a", weight=3),
        Milestone(id="b", stages_total=4, stages_done=1, weight=1)])
    # (3*1 + 1*0.25) / 4
    assert run_model(o).objectives["o"].progress == 3.25 / 4


def test_all_weights_zero_gives_null_progress() -> None:
    result = run(document(objective("o", binary("a", True, weight=0))))
    o = result["objectives"]["o"]
    assert o["progress"] is None
    assert o["grade"] is None
    assert o["colour"] is None
    assert o["computed_colour"] is None


def test_weight_zero_metric_does_not_count_in_a_sum() -> None:
    # D8: only m1 contributes: 50 / 100; the auto target excludes m2
    result = run(document(objective(
        "o", metric("m1", 100, 50, unit="USD", weight=5),
        metric("m2", 100, 100, unit="USD", weight=0))))
    o = result["objectives"]["o"]
    assert o["mode"] == "sum"
    assert o["progress"] == 0.5
    assert o["explanation"]["target"] == 100
    assert result["key_results"]["m2"]["contributes"] is False


@pytest.mark.parametrize(
    ("policy", "current", "progress"),
    [
        ({"cap": None}, 150, 1.5),
        ({"cap": None}, -20, 0.0),
        ({"cap": 1.5}, 200, 1.5),
        ({"cap": 1.5}, 120, 1.2),
        ({}, 150, 1.0),
    ],
)
def test_cap_policy(policy: dict[str, Any], current: float, progress: float) -> None:
    result = run(document(objective("o", metric("k", 100, current, unit="u")), policy=policy))
    assert result["key_results"]["k"]["progress"] == progress
    assert result["key_results"]["k"]["raw_progress"] == current / 100
    assert result["objectives"]["o"]["progress"] == progress


def test_cap_null_in_a_mean() -> None:
    # (1.5 + 0) / 2 uncapped; (1 + 0) / 2 with the default cap
    krs = (metric("k", 100, 150, unit="u"), binary("b", False))
    assert run(document(objective("o", *krs), policy={"cap": None})
               )["objectives"]["o"]["progress"] == 0.75
    assert run(document(objective("o", *krs)))["objectives"]["o"]["progress"] == 0.5


def test_mean_raw_progress_is_the_mean_of_clamped_progress() -> None:
    # D10: in a mean, raw_progress = progress = (1 + 0) / 2, not (1.5 + 0) / 2
    result = run(document(objective("o", metric("k", 100, 150, unit="u"), binary("b", False))))
    assert result["objectives"]["o"]["raw_progress"] == 0.5
    assert result["objectives"]["o"]["progress"] == 0.5


def test_cap_model() -> None:
    o = Objective(id="o", key_results=[Metric(id="k", target=100, current=150)])
    assert run_model(o, policy=Policy(cap=None)).key_results["k"].progress == 1.5
    assert run_model(o, policy=Policy(cap=1.2)).key_results["k"].progress == 1.2
    assert run_model(o).key_results["k"].progress == 1.0


# --------------------------------------------------------------------------------------------
# §4 alignment, include_children, empty objectives
# --------------------------------------------------------------------------------------------


def test_alignment_four_levels_deep() -> None:
    doc = document(
        # listed parents first: evaluation order must not depend on document order
        objective("company"),
        objective("div1", parent="company"),
        objective("div2", binary("d2k", False), parent="company"),
        objective("team1", parent="div1"),
        objective("team2", parent="div1"),  # no KRs, no children: null, skipped
        objective("squad1", binary("s1k", True), parent="team1"),
        objective("squad2", metric("s2k", 100, 30, unit="pts"), parent="team1", weight=3),
    )
    result = run(doc)
    objs = result["objectives"]
    assert objs["squad1"]["progress"] == 1.0
    assert objs["squad2"]["progress"] == 0.3
    # team1 = (1*1 + 3*0.3) / 4 = 0.475
    assert objs["team1"]["progress"] == pytest.approx(0.475, rel=1e-12)
    assert objs["team1"]["explanation"]["rule"] == "children"
    assert objs["team2"]["progress"] is None
    assert objs["team2"]["explanation"]["rule"] == "empty"
    # div1 = team1 only (team2 is null and skipped)
    assert objs["div1"]["progress"] == pytest.approx(0.475, rel=1e-12)
    assert objs["div2"]["progress"] == 0.0
    # company = (0.475 + 0) / 2
    assert objs["company"]["progress"] == pytest.approx(0.2375, rel=1e-12)
    items = {item["id"]: item for item in objs["div1"]["explanation"]["items"]}
    assert items["team2"]["contributes"] is False


def test_alignment_model_weighted_children() -> None:
    result = run_model(
        Objective(id="parent"),
        Objective(id="a", parent="parent", weight=1, key_results=[Binary(id="ka", done=True)]),
        Objective(id="b", parent="parent", weight=3, key_results=[Binary(id="kb", done=False)]),
        Objective(id="c", parent="parent", weight=0, key_results=[Binary(id="kc", done=True)]),
    )
    # (1*1 + 3*0) / 4; the weight-0 child is not counted
    assert result.objectives["parent"].progress == 0.25


def test_objective_with_nothing_has_null_progress() -> None:
    result = run(document(objective("alone")))
    o = result["objectives"]["alone"]
    assert o["progress"] is None
    assert o["raw_progress"] is None
    assert o["colour"] is None
    assert o["grade"] is None
    assert run_model(Objective(id="alone")).objectives["alone"].progress is None


def test_include_children_mean() -> None:
    doc = document(
        objective("p", binary("a", True), binary("b", False), include_children=True),
        objective("c1", metric("m", 100, 80, unit="u"), parent="p", weight=2),
        objective("c2", parent="p"),  # null: skipped
    )
    result = run(doc)
    # (1*1 + 1*0 + 2*0.8) / (1 + 1 + 2) = 2.6 / 4
    assert result["objectives"]["p"]["progress"] == pytest.approx(0.65, rel=1e-12)
    items = {item["id"]: item for item in result["objectives"]["p"]["explanation"]["items"]}
    assert items["c1"]["share"] == 0.5
    assert items["c2"]["contributes"] is False


def test_children_ignored_without_include_children() -> None:
    doc = document(
        objective("p", binary("a", True), binary("b", False)),
        objective("c1", metric("m", 100, 80, unit="u"), parent="p"),
    )
    assert run(doc)["objectives"]["p"]["progress"] == 0.5


def test_include_children_sum() -> None:
    # summed part 500/1000 = 0.5 counts as one item: (0.5 + 0.8 + 0.2) / 3
    doc = document(
        objective("p", metric("usd", 2000, 500, unit="USD"), include_children=True,
                  progress_settings={"unit": "USD", "target": 1000}),
        objective("c1", metric("m1", 10, 8, unit="u"), parent="p"),
        objective("c2", metric("m2", 10, 2, unit="u"), parent="p"),
    )
    result = run(doc)
    assert result["objectives"]["p"]["progress"] == pytest.approx(0.5, rel=1e-12)
    assert result["objectives"]["p"]["mode"] == "sum"


def test_include_children_sum_uses_clamped_sum_part() -> None:
    # D10: summed part 1500/1000 is clamped to 1 before it is averaged: (1 + 0) / 2
    doc = document(
        objective("p", metric("usd", 2000, 1500, unit="USD"), include_children=True,
                  progress_settings={"unit": "USD", "target": 1000}),
        objective("c", binary("k", False), parent="p"),
    )
    assert run(doc)["objectives"]["p"]["progress"] == 0.5


def test_include_children_model() -> None:
    result = run_model(
        Objective(id="p", include_children=True, key_results=[Binary(id="a", done=True)]),
        Objective(id="c", parent="p", key_results=[Milestone(id="m", stages_total=4,
                                                             stages_done=1)]),
    )
    assert result.objectives["p"].progress == 0.625  # (1 + 0.25) / 2


# --------------------------------------------------------------------------------------------
# §5 people
# --------------------------------------------------------------------------------------------


def test_people_progress_json() -> None:
    doc = document(
        # ann's objective: k1 owned by ann (default), k2 by bob -> (1 + 0) / 2 = 0.5
        objective("o1", binary("k1", True), binary("k2", False, owners=["bob"]), owner="ann"),
        # bob's objective: k3 0.2, k4 3/4 owned by ann and carl -> (0.2 + 0.75) / 2 = 0.475
        objective("o2", metric("k3", 100, 20, unit="u"),
                  {"id": "k4", "kind": "milestone", "stages_total": 4, "stages_done": 3,
                   "owners": ["ann", "carl"]},
                  owner="bob"),
        # ann names herself explicitly on her own objective: still counted only once
        objective("o3", binary("k5", True, owners=["ann"]), owner="ann"),
        objective("o4", owner="dave"),  # null progress: no items
    )
    result = run(doc)
    people = result["people"]
    # ann: o1 0.5, k4 0.75, o3 1.0
    assert people["ann"]["progress"] == pytest.approx(2.25 / 3, rel=1e-12)
    assert sorted((i["type"], i["id"]) for i in people["ann"]["items"]) == [
        ("key_result", "k4"), ("objective", "o1"), ("objective", "o3")]
    # bob: o2 0.475, k2 0
    assert people["bob"]["progress"] == pytest.approx(0.2375, rel=1e-12)
    assert sorted((i["type"], i["id"]) for i in people["bob"]["items"]) == [
        ("key_result", "k2"), ("objective", "o2")]
    assert people["carl"]["progress"] == 0.75
    assert people["dave"]["progress"] is None
    assert result["key_results"]["k4"]["owners"] == ["ann", "carl"]
    assert result["key_results"]["k3"]["owners"] == ["bob"]


def test_people_count_uncounted_krs_they_own_elsewhere() -> None:
    # D23: a weight-0 KR and a KR outside the sum still count for their owner
    doc = document(objective(
        "o", metric("usd", 100, 50, unit="USD"),
        metric("deals", 10, 3, unit="deals", owners=["bob"]),
        binary("aside", True, weight=0, owners=["bob"]),
        owner="ann", progress_settings={"unit": "USD", "target": 100}))
    result = run(doc)
    assert result["people"]["ann"]["progress"] == 0.5
    # bob: deals 0.3 and aside 1.0
    assert result["people"]["bob"]["progress"] == 0.65
    assert sorted(i["id"] for i in result["people"]["bob"]["items"]) == ["aside", "deals"]


def test_people_progress_model() -> None:
    result = run_model(
        Objective(id="o1", owner="ann", key_results=[
            Binary(id="k1", done=True), Binary(id="k2", done=True, owners=["bob"])]),
        Objective(id="o2", owner="bob", key_results=[Binary(id="k3", done=False)]),
    )
    assert result.people["ann"].progress == 1.0  # o1 only
    assert result.people["bob"].progress == 0.5  # o2 0 and k2 1


# --------------------------------------------------------------------------------------------
# §6 time: expected progress, pace colours, presets
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-01-09", 0.8),  # date-only as_of = 00:00Z; due 2026-01-10 = end of that day
        ("2026-01-09T00:00:00", 0.8),  # no offset = UTC
        ("2026-01-10T12:00:00Z", 0.95),
        ("2026-01-05T00:00:00+02:00", 94 / 240),  # 2026-01-04T22:00Z = 94 hours of 240
        ("2026-01-11T00:00:00Z", 1.0),
        ("2026-02-01T00:00:00Z", 1.0),
        ("2025-12-31T00:00:00Z", 0.0),
    ],
)
def test_expected_progress_with_date_only_start_and_due(as_of: str, expected: float) -> None:
    doc = document(objective("o", binary("k", False), start="2026-01-01", due="2026-01-10"),
                   as_of=as_of)
    result = run(doc)
    assert result["objectives"]["o"]["expected"] == expected
    assert result["objectives"]["o"]["explanation"]["expected"] == expected
    assert result["key_results"]["k"]["expected"] == expected


def test_expected_progress_model() -> None:
    o = Objective(id="o", start=utc(2026, 1, 1), due=utc(2026, 1, 11),
                  key_results=[Binary(id="k", done=False)])
    assert run_model(o, as_of=utc(2026, 1, 9)).objectives["o"].expected == 0.8
    assert F.expected_progress(8, 0, 10) == 0.8
    assert F.expected_progress(-5, 0, 10) == 0.0
    assert F.expected_progress(15, 0, 10) == 1.0


def test_no_timeline_means_no_expected_and_no_pace() -> None:
    # §11.1 (was green before it): no start or due, so no expected progress and no pace colour
    result = run(document(objective("o", metric("k", 10, 4))))
    o = result["objectives"]["o"]
    assert o["expected"] is None
    assert o["colour"] is None
    assert o["computed_colour"] is None
    assert o["explanation"]["colour_rule"]["reason"] == "no_timeline"
    k = result["key_results"]["k"]
    assert (k["expected"], k["pace_colour"], k["colour"], k["pace_reason"]) == (
        None, None, None, "no_timeline")


def test_kr_due_overrides_objective_due_for_expected() -> None:
    # D4: objective 2026-01-01 .. 2026-01-20 (end of day); KR due 2026-01-10 (end of day)
    doc = document(objective(
        "o", {"id": "m", "kind": "milestone", "stages_total": 5, "stages_done": 3,
              "due": "2026-01-10"},
        start="2026-01-01", due="2026-01-20"), as_of="2026-01-09T00:00:00Z")
    result = run(doc)
    assert result["key_results"]["m"]["expected"] == 0.8  # 8 of 10 days
    assert result["objectives"]["o"]["expected"] == 0.4  # 8 of 20 days
    # 0.6 <= 0.75 * 0.8: the KR is yellow; the objective is ahead of its own pace
    assert result["key_results"]["m"]["colour"] == "yellow"
    assert result["objectives"]["o"]["colour"] == "green"


@pytest.mark.parametrize(
    ("progress", "expected", "colour"),
    [
        (0.6, 0.8, "yellow"),  # on the 0.75 boundary: the worse colour
        (0.4, 0.8, "red"),  # on the 0.5 boundary
        (0.3, 0.4, "yellow"),  # 0.3 = 0.75 * 0.4
        (0.2, 0.4, "red"),  # 0.2 = 0.5 * 0.4
        (0.41, 0.8, "yellow"),
        (0.61, 0.8, "green"),
        (0.8, 0.8, "green"),
        (0.9, 0.8, "green"),
        (1.0, 1.0, "green"),
        (1.3, 1.0, "green"),
        (1.0, 0.9, "green"),
        (0.0, 0.0, "green"),  # expected 0: not started
        (0.0, 0.1, "red"),
    ],
)
def test_betterworks_pace_formula(progress: float, expected: float, colour: str) -> None:
    assert F.pace_colour(progress, expected, BETTERWORKS)[0] == colour
    assert F.pace_colour(progress, expected, PRESETS["betterworks"].pace)[0] == colour


@pytest.mark.parametrize(
    ("progress", "colour"),
    [
        (0.6 + 1e-12, "yellow"),  # within the relative tolerance 1e-9 of 0.75 * 0.8
        (0.6 - 1e-12, "yellow"),
        (0.6 + 1e-6, "green"),  # clearly above the yellow threshold
        (0.4 + 1e-12, "red"),
        (0.4 + 1e-6, "yellow"),
    ],
)
def test_threshold_tolerance(progress: float, colour: str) -> None:
    assert F.pace_colour(progress, 0.8, BETTERWORKS)[0] == colour


def test_pace_reasons() -> None:
    assert F.pace_colour(1.0, 0.5, BETTERWORKS)[1] == "complete"
    assert F.pace_colour(0.0, 0.0, BETTERWORKS)[1] == "not_started"
    assert F.pace_colour(0.5, 0.5, BETTERWORKS)[1] == "on_pace"


@pytest.mark.parametrize(
    ("current", "colour"),
    [(60, "yellow"), (40, "red"), (41, "yellow"), (61, "green"), (80, "green"),
     (100, "green"), (0, "red")],
)
def test_pace_in_a_document(current: float, colour: str) -> None:
    result = run(document(paced(metric("k", 100, current, unit="u")), as_of=PACE_AS_OF))
    assert result["objectives"]["o"]["expected"] == 0.8
    assert result["objectives"]["o"]["colour"] == colour
    assert result["objectives"]["o"]["computed_colour"] == colour
    assert result["key_results"]["k"]["colour"] == colour
    assert result["key_results"]["k"]["pace_colour"] == colour


def test_pace_model() -> None:
    o = Objective(id="o", start=utc(2026, 1, 1), due=utc(2026, 1, 11),
                  key_results=[Metric(id="k", target=100, current=60, unit="u")])
    result = run_model(o, as_of=utc(2026, 1, 9)).objectives["o"]
    assert (result.progress, result.expected, result.colour) == (0.6, 0.8, "yellow")
    assert result.explanation.colour is not None
    assert result.explanation.colour.source == "pace"
    assert result.explanation.colour.threshold == 0.75


def test_expected_zero_is_green() -> None:
    result = run(document(paced(metric("k", 100, 0, unit="u")), as_of=PACE_START))
    assert result["objectives"]["o"]["expected"] == 0.0
    assert result["objectives"]["o"]["colour"] == "green"


# expected progress 0.8 throughout; progress is current / 100
PRESET_CASES = [
    # betterworks ratio 0.75 / 0.5: yellow from 0.6, red from 0.4
    ("betterworks", 61, "green"), ("betterworks", 60, "yellow"),
    ("betterworks", 41, "yellow"), ("betterworks", 40, "red"),
    # workfront ratio 0.9 / 0.7: yellow from 0.72, red from 0.56
    ("workfront", 73, "green"), ("workfront", 72, "yellow"),
    ("workfront", 57, "yellow"), ("workfront", 56, "red"), ("workfront", 80, "green"),
    # upraise ratio 0.95 / 0.75: yellow from 0.76, red from 0.6
    ("upraise", 77, "green"), ("upraise", 76, "yellow"),
    ("upraise", 61, "yellow"), ("upraise", 60, "red"), ("upraise", 100, "green"),
    # burningokr difference -0.2 / -0.4, boundary "better" (§11.4): yellow only when
    # p - e < -0.2, red when p - e < -0.4, so on a threshold the better colour
    ("burningokr", 61, "green"), ("burningokr", 60, "green"), ("burningokr", 59, "yellow"),
    ("burningokr", 41, "yellow"), ("burningokr", 40, "yellow"), ("burningokr", 39, "red"),
    ("burningokr", 90, "green"),
    # viva points 0 / 25: any shortfall yellow, red from 25 points behind (0.55)
    ("viva", 80, "green"), ("viva", 79, "yellow"),
    ("viva", 56, "yellow"), ("viva", 55, "red"), ("viva", 100, "green"),
    # google uses the betterworks pace
    ("google", 60, "yellow"), ("google", 40, "red"), ("google", 61, "green"),
]


@pytest.mark.parametrize(("preset", "current", "colour"), PRESET_CASES)
def test_preset_pace_formula(preset: str, current: int, colour: str) -> None:
    assert F.pace_colour(current / 100, 0.8, PRESETS[preset].pace)[0] == colour


@pytest.mark.parametrize(("preset", "current", "colour"), PRESET_CASES)
def test_preset_pace_in_a_document(preset: str, current: int, colour: str) -> None:
    result = run(document(paced(metric("k", 100, current, unit="u")), as_of=PACE_AS_OF,
                          policy={"preset": preset}))
    assert result["policy"]["preset"] == preset
    assert result["objectives"]["o"]["progress"] == current / 100
    assert result["objectives"]["o"]["colour"] == colour
    assert result["key_results"]["k"]["colour"] == colour


@pytest.mark.parametrize(
    ("preset", "current", "rule", "threshold"),
    [
        ("workfront", 72, "ratio", 0.9),
        ("upraise", 60, "ratio", 0.75),
        ("burningokr", 39, "difference", -0.4),
        ("burningokr", 40, "difference", -0.2),
        ("viva", 55, "points", 25.0),
        ("viva", 79, "points", 0.0),
    ],
)
def test_colour_rule_names_the_threshold(preset: str, current: int, rule: str,
                                         threshold: float) -> None:
    result = run(document(paced(metric("k", 100, current, unit="u")), as_of=PACE_AS_OF,
                          policy={"preset": preset}))
    colour_rule = result["objectives"]["o"]["explanation"]["colour_rule"]
    assert colour_rule["source"] == "pace"
    assert colour_rule["rule"] == rule
    assert colour_rule["threshold"] == threshold


def test_pace_override_in_policy() -> None:
    # ratio 0.9 / 0.8 at expected 0.8: 0.7 is yellow (> 0.64), 0.64 is red
    policy = {"pace": {"rule": "ratio", "yellow": 0.9, "red": 0.8}}
    yellow = run(document(paced(metric("k", 100, 70, unit="u")), as_of=PACE_AS_OF,
                          policy=policy))
    red = run(document(paced(metric("k", 100, 64, unit="u")), as_of=PACE_AS_OF, policy=policy))
    assert yellow["objectives"]["o"]["colour"] == "yellow"
    assert red["objectives"]["o"]["colour"] == "red"


# --------------------------------------------------------------------------------------------
# §2 range metrics
# --------------------------------------------------------------------------------------------

BREAKPOINTS: dict[str, float] = {"red_low": 8, "yellow_low": 10, "yellow_high": 15,
                                 "red_high": 18}


@pytest.mark.parametrize(
    ("value", "strict", "status", "band"),
    [
        (7, False, "red", 0.0),
        (8, False, "red", 0.0),  # hits are inclusive
        (9, False, "yellow", 1.0),
        (10, False, "yellow", 1.0),
        (12, False, "green", 1.0),
        (15, False, "yellow", 1.0),
        (17.9, False, "yellow", 1.0),
        (18, False, "red", 0.0),
        (19, False, "red", 0.0),
        (7.9, True, "red", 0.0),
        (8, True, "yellow", 1.0),  # strict: must pass the limit
        (9, True, "yellow", 1.0),
        (10, True, "green", 1.0),
        (15, True, "green", 1.0),
        (18, True, "yellow", 1.0),
        (18.5, True, "red", 0.0),
    ],
)
def test_range_status_and_band(value: float, strict: bool, status: str, band: float) -> None:
    assert F.range_status(value, 8, 10, 15, 18, strict) == status
    assert F.band_progress(value, 8, 18, strict) == band
    result = run(document(
        objective("o", metric("r", 12, value, unit="deals", range=BREAKPOINTS)),
        policy={"strict_breakpoints": strict}))
    kr = result["key_results"]["r"]
    assert kr["range_status"] == status
    assert kr["progress"] == band
    assert kr["colour"] == status  # no timeline: pace green, breakpoint decides
    assert result["objectives"]["o"]["computed_colour"] == status
    assert result["objectives"]["o"]["progress"] == band


@pytest.mark.parametrize(
    ("value", "progress"),
    [(7, 0.0), (8, 0.0), (9, 0.5), (10, 1.0), (12, 1.0), (15, 1.0), (16.5, 0.5),
     (17.25, 0.25), (18, 0.0), (20, 0.0)],
)
def test_graded_range(value: float, progress: float) -> None:
    assert F.graded_range_progress(value, 12, 8, 10, 15, 18) == progress
    result = run(document(objective(
        "o", metric("r", 12, value, range={**BREAKPOINTS, "mode": "graded"}))))
    assert result["key_results"]["r"]["progress"] == progress


@pytest.mark.parametrize(("value", "progress"), [(10, 0.5), (12, 1.0), (15, 0.5), (6, 0.0)])
def test_graded_range_without_yellow_limits_falls_back_to_target(value: float,
                                                                 progress: float) -> None:
    # (10-8)/(12-8) = 0.5; (18-15)/(18-12) = 0.5
    kr = Metric(id="r", target=12, current=value, range=Range(red_low=8, red_high=18,
                                                              mode="graded"))
    assert run_model(Objective(id="o", key_results=[kr])).key_results["r"].progress == progress


@pytest.mark.parametrize(("value", "raw", "progress"), [(9, 0.75, 0.75), (15, 1.25, 1.0),
                                                        (-3, -0.25, 0.0)])
def test_linear_range(value: float, raw: float, progress: float) -> None:
    result = run(document(objective(
        "o", metric("r", 12, value, range={**BREAKPOINTS, "mode": "linear"}))))
    assert result["key_results"]["r"]["raw_progress"] == raw
    assert result["key_results"]["r"]["progress"] == progress


def test_range_model_band_and_status() -> None:
    kr = Metric(id="r", target=12, current=16, unit="deals",
                range=Range(red_low=8, yellow_low=10, yellow_high=15, red_high=18))
    result = run_model(Objective(id="o", key_results=[kr]))
    assert result.key_results["r"].progress == 1.0
    assert result.key_results["r"].range_status == "yellow"
    assert result.objectives["o"].computed_colour == "yellow"


# --------------------------------------------------------------------------------------------
# §6 objective health: worst of pace and breakpoints, manual status
# --------------------------------------------------------------------------------------------


def test_breakpoint_colour_is_worst_of_with_pace() -> None:
    # progress (1 + 1) / 2 = 1: pace green ("complete"); the range KR at 16 is yellow
    result = run(document(paced(
        binary("b", True), metric("r", 12, 16, unit="deals", range=BREAKPOINTS)),
        as_of=PACE_AS_OF))
    o = result["objectives"]["o"]
    assert o["progress"] == 1.0
    assert o["computed_colour"] == "yellow"
    assert o["colour"] == "yellow"
    assert o["explanation"]["colour_rule"]["source"] == "breakpoint"
    assert o["explanation"]["colour_rule"]["reason"] == "r"


def test_pace_worse_than_breakpoint_wins() -> None:
    # counted: k at 0.5 vs expected 0.8 -> pace yellow (0.5 <= 0.6); the weight-0 range KR
    # at 11 is green -> the objective is yellow, set by pace
    result = run(document(paced(
        metric("k", 100, 50, unit="u"),
        metric("r", 12, 11, unit="deals", range=BREAKPOINTS, weight=0)), as_of=PACE_AS_OF))
    o = result["objectives"]["o"]
    assert o["progress"] == 0.5
    assert o["computed_colour"] == "yellow"
    assert o["explanation"]["colour_rule"]["source"] == "pace"


def test_breakpoint_worse_than_pace_wins() -> None:
    # same pace (yellow), the weight-0 range KR at 19 hits red_high -> red
    result = run(document(paced(
        metric("k", 100, 50, unit="u"),
        metric("r", 12, 19, unit="deals", range=BREAKPOINTS, weight=0)), as_of=PACE_AS_OF))
    o = result["objectives"]["o"]
    assert o["progress"] == 0.5
    assert o["computed_colour"] == "red"
    assert o["explanation"]["colour_rule"] == {"source": "breakpoint", "reason": "r",
                                               "rule": None, "threshold": None}


def test_kr_colour_is_worst_of_pace_and_breakpoint() -> None:
    # linear range 0 -> 12 at 3: progress 0.25 vs expected 0.8 -> pace red; 3 <= yellow_low 4
    # -> breakpoint yellow; the KR is red
    result = run(document(paced(metric(
        "r", 12, 3, range={"red_low": 2, "yellow_low": 4, "mode": "linear"})),
        as_of=PACE_AS_OF))
    kr = result["key_results"]["r"]
    assert kr["progress"] == 0.25
    assert (kr["pace_colour"], kr["range_status"], kr["colour"]) == ("red", "yellow", "red")
    # and the other way round: 11 of 12 -> pace green (0.9167 >= 0.8); 11 <= yellow_low 11.5
    result = run(document(paced(metric(
        "r", 12, 11, range={"yellow_low": 11.5, "mode": "linear"})), as_of=PACE_AS_OF))
    kr = result["key_results"]["r"]
    assert (kr["pace_colour"], kr["range_status"], kr["colour"]) == ("green", "yellow", "yellow")


def test_weight_zero_range_kr_still_colours_its_objective() -> None:
    # D5: whatever its weight; progress 1 (binary), range KR (weight 0) at 7: red
    result = run(document(objective(
        "o", binary("b", True), metric("r", 12, 7, range=BREAKPOINTS, weight=0))))
    assert result["objectives"]["o"]["progress"] == 1.0
    assert result["objectives"]["o"]["computed_colour"] == "red"


def test_non_contributing_range_kr_colours_a_sum_goal() -> None:
    result = run(document(objective(
        "o", metric("usd", 100, 100, unit="USD"),
        metric("r", 12, 16, unit="deals", range=BREAKPOINTS),
        progress_settings={"unit": "USD", "target": 100})))
    assert result["objectives"]["o"]["progress"] == 1.0
    assert result["objectives"]["o"]["computed_colour"] == "yellow"


def test_children_breakpoints_do_not_propagate() -> None:
    # D5: the child is red by breakpoint; the parent (no timeline) only gets its progress,
    # and without a timeline no pace colour (§11.1)
    result = run(document(
        objective("parent"),
        objective("child", metric("r", 12, 19, range=BREAKPOINTS), binary("b", True),
                  parent="parent"),
    ))
    assert result["objectives"]["child"]["computed_colour"] == "red"
    assert result["objectives"]["parent"]["progress"] == 0.5
    assert result["objectives"]["parent"]["computed_colour"] is None


def test_null_progress_objective_coloured_only_by_a_breakpoint_hit() -> None:
    # D6: progress null (every weight 0); a hit still colours it
    hit = run(document(objective("o", metric("r", 12, 7, range=BREAKPOINTS, weight=0))))
    assert hit["objectives"]["o"]["progress"] is None
    assert hit["objectives"]["o"]["computed_colour"] == "red"


def test_null_progress_objective_inside_its_range_has_no_colour() -> None:
    # D6: progress null and no breakpoint is hit (11 is inside every limit) -> colour null
    inside = run(document(objective("o", metric("r", 12, 11, range=BREAKPOINTS, weight=0))))
    assert inside["objectives"]["o"]["progress"] is None
    assert inside["objectives"]["o"]["computed_colour"] is None
    assert inside["objectives"]["o"]["colour"] is None


@pytest.mark.parametrize(
    ("status", "colour"),
    [("on_track", "green"), ("behind", "yellow"), ("at_risk", "yellow"), ("off_track", "red")],
)
def test_manual_status_sets_effective_colour_only(status: str, colour: str) -> None:
    # progress 0.4 vs expected 0.8: computed red, whatever the manual status says
    result = run(document(paced(metric("k", 100, 40, unit="u"), status=status),
                          as_of=PACE_AS_OF))
    o = result["objectives"]["o"]
    assert o["colour"] == colour
    assert o["computed_colour"] == "red"
    assert o["manual_status"] == status
    assert o["progress"] == 0.4
    assert o["explanation"]["colour_rule"]["source"] == "manual"


def test_manual_status_model() -> None:
    o = Objective(id="o", status="off_track", key_results=[Binary(id="k", done=True)])
    result = run_model(o).objectives["o"]
    # no timeline: no computed colour (§11.1); the manual status still sets the colour
    assert (result.colour, result.computed_colour, result.progress) == ("red", None, 1.0)


def test_manual_status_on_null_progress_objective() -> None:
    result = run(document(objective("o", status="at_risk")))
    assert result["objectives"]["o"]["progress"] is None
    assert result["objectives"]["o"]["colour"] == "yellow"
    assert result["objectives"]["o"]["computed_colour"] is None


# --------------------------------------------------------------------------------------------
# §6 check-ins: value as of, trend, stale, forecast
# --------------------------------------------------------------------------------------------

HISTORY = [
    {"at": "2026-01-05T00:00:00Z", "value": 30},
    {"at": "2026-01-02T00:00:00Z", "value": 10},
    {"at": "2026-01-05T00:00:00Z", "value": 35},  # same instant, later entry: wins
    {"at": "2026-01-20T00:00:00Z", "value": 90},  # after as_of: not yet known
]


@pytest.mark.parametrize(
    ("as_of", "current"),
    [
        ("2026-01-01T00:00:00Z", 20),  # before any check-in: the start
        ("2026-01-02T00:00:00Z", 10),  # at the instant of a check-in: seen
        ("2026-01-04T23:59:59Z", 10),
        ("2026-01-10T00:00:00Z", 35),
        ("2026-01-20T00:00:00Z", 90),
    ],
)
def test_check_in_value_as_of(as_of: str, current: float) -> None:
    result = run(document(objective("o", metric("k", 120, start=20, check_ins=HISTORY)),
                          as_of=as_of))
    kr = result["key_results"]["k"]
    assert kr["current"] == current
    assert kr["progress"] == max((current - 20) / 100, 0.0)


def test_check_in_value_as_of_model() -> None:
    kr = Metric(id="k", target=100, check_ins=[
        CheckIn(utc(2026, 1, 5), 30), CheckIn(utc(2026, 1, 2), 10),
        CheckIn(utc(2026, 1, 5), 35), CheckIn(utc(2026, 1, 20), 90)])
    o = Objective(id="o", key_results=[kr])
    assert run_model(o, as_of=utc(2026, 1, 10)).key_results["k"].current == 35
    assert run_model(o, as_of=utc(2026, 1, 1)).key_results["k"].current == 0
    assert run_model(o, as_of=utc(2026, 1, 10)).key_results["k"].last_check_in == (
        "2026-01-05T00:00:00Z")


def test_binary_and_staged_check_ins() -> None:
    doc = document(objective(
        "o",
        {"id": "b", "kind": "binary",
         "check_ins": [{"at": "2026-01-02T00:00:00Z", "done": True},
                       {"at": "2026-01-04T00:00:00Z", "done": False}]},
        {"id": "s", "kind": "milestone", "stages_total": 5,
         "check_ins": [{"at": "2026-01-02T00:00:00Z", "stages_done": 2},
                       {"at": "2026-01-06T00:00:00Z", "stages_done": 4}]}),
        as_of="2026-01-05T00:00:00Z")
    result = run(doc)
    assert result["key_results"]["b"]["progress"] == 0.0
    assert result["key_results"]["b"]["trend"] == "regressed"
    assert result["key_results"]["s"]["current"] == 2
    assert result["key_results"]["s"]["progress"] == 0.4
    assert result["key_results"]["s"]["trend"] == "progressed"  # vs 0 stages


@pytest.mark.parametrize(
    ("start", "target", "values", "trend"),
    [
        (0, 100, [10, 30], "progressed"),
        (0, 100, [30, 30], "stalled"),
        (0, 100, [30, 20], "regressed"),
        (0, 100, [0], "stalled"),  # one check-in: vs the start
        (0, 100, [5], "progressed"),
        (45, 20, [40, 42], "regressed"),  # a reduction: the value went up, progress down
        (45, 20, [40, 35], "progressed"),
    ],
)
def test_kr_trend(start: float, target: float, values: list[float], trend: str) -> None:
    check_ins = [{"at": f"2026-01-0{i + 1}T00:00:00Z", "value": v} for i, v in enumerate(values)]
    result = run(document(objective("o", metric("k", target, start=start, check_ins=check_ins)),
                          as_of="2026-01-09T00:00:00Z"))
    assert result["key_results"]["k"]["trend"] == trend


def test_kr_trend_null_without_known_check_in() -> None:
    result = run(document(objective("o", metric(
        "k", 100, check_ins=[{"at": "2026-03-01T00:00:00Z", "value": 50}]))))
    assert result["key_results"]["k"]["trend"] is None
    assert result["key_results"]["k"]["current"] == 0
    no_history = run(document(objective("o", metric("k", 100, 50))))
    assert no_history["key_results"]["k"]["trend"] is None
    assert no_history["objectives"]["o"]["trend"] is None


def test_objective_trend_mean() -> None:
    # now (0.4 + 1) / 2 = 0.7; before k1's last check-in (0.2 + 1) / 2 = 0.6: progressed
    result = run(document(objective(
        "o", metric("k1", 100, unit="a", check_ins=[
            {"at": "2026-01-02T00:00:00Z", "value": 20},
            {"at": "2026-01-05T00:00:00Z", "value": 40}]),
        binary("k2", True)), as_of="2026-01-09T00:00:00Z"))
    assert result["objectives"]["o"]["progress"] == 0.7
    assert result["objectives"]["o"]["trend"] == "progressed"


def test_parent_trend_follows_its_children() -> None:
    # child: 20 -> 40 of 100 (0.2 -> 0.4); the parent without KRs moves with it
    result = run(document(
        objective("p"),
        objective("c", metric("k", 100, unit="u", check_ins=[
            {"at": "2026-01-02T00:00:00Z", "value": 20},
            {"at": "2026-01-05T00:00:00Z", "value": 40}]), parent="p"),
        as_of="2026-01-09T00:00:00Z"))
    assert result["objectives"]["c"]["trend"] == "progressed"
    assert result["objectives"]["p"]["progress"] == 0.4
    assert result["objectives"]["p"]["trend"] == "progressed"


def test_objective_trend_null_when_only_uncounted_krs_have_history() -> None:
    # D13: null when nothing the objective counts has a check-in.  The sum counts only the
    # USD metric (no history); the "deals" metric has check-ins but does not contribute.
    result = run(document(objective(
        "o", metric("usd", 100, 50, unit="USD"),
        metric("deals", 10, unit="deals", check_ins=[
            {"at": "2026-01-02T00:00:00Z", "value": 2},
            {"at": "2026-01-05T00:00:00Z", "value": 4}]),
        progress_settings={"unit": "USD", "target": 100}), as_of="2026-01-09T00:00:00Z"))
    assert result["key_results"]["deals"]["contributes"] is False
    assert result["key_results"]["deals"]["trend"] == "progressed"
    assert result["objectives"]["o"]["trend"] is None


def test_objective_trend_null_when_only_weight_zero_krs_have_history() -> None:
    # D13 again, mean mode: the weight-0 KR is shown but not counted
    result = run(document(objective(
        "o", binary("counted", True),
        {"id": "shown", "kind": "binary", "weight": 0,
         "check_ins": [{"at": "2026-01-02T00:00:00Z", "done": True}]}),
        as_of="2026-01-09T00:00:00Z"))
    assert result["objectives"]["o"]["trend"] is None


@pytest.mark.parametrize(
    ("last", "stale_days", "stale"),
    [
        ("2026-01-03T00:00:00Z", None, False),  # exactly 7 days before as_of: not stale
        ("2026-01-02T23:59:59Z", None, True),
        ("2026-01-09T00:00:00Z", None, False),
        ("2026-01-06T00:00:00Z", 3, True),  # 4 days > 3
        ("2026-01-07T00:00:00Z", 3, False),
    ],
)
def test_stale(last: str, stale_days: float | None, stale: bool) -> None:
    policy = {} if stale_days is None else {"stale_days": stale_days}
    result = run(document(objective(
        "o", metric("k", 100, check_ins=[{"at": "2025-12-01T00:00:00Z", "value": 1},
                                         {"at": last, "value": 5}])),
        as_of="2026-01-10T00:00:00Z", policy=policy))
    assert result["key_results"]["k"]["stale"] is stale
    assert result["objectives"]["o"]["stale"] is stale


def test_stale_ignores_check_ins_after_as_of() -> None:
    result = run(document(objective(
        "o", metric("k", 100, check_ins=[{"at": "2025-12-01T00:00:00Z", "value": 5},
                                         {"at": "2026-01-15T00:00:00Z", "value": 9}])),
        as_of="2026-01-10T00:00:00Z"))
    assert result["key_results"]["k"]["stale"] is True
    assert result["key_results"]["k"]["last_check_in"] == "2025-12-01T00:00:00Z"


def test_stale_without_history_and_with_empty_history() -> None:
    result = run(document(objective(
        "o", metric("none", 100, 5, unit="a"), metric("empty", 100, unit="b", check_ins=[])),
        as_of="2026-01-10T00:00:00Z"))
    assert result["key_results"]["none"]["stale"] is None
    assert result["key_results"]["empty"]["stale"] is True
    assert result["objectives"]["o"]["stale"] is True
    only_none = run(document(objective("o", metric("none", 100, 5))))
    assert only_none["objectives"]["o"]["stale"] is None


def test_objective_stale_needs_all_logged_krs_stale() -> None:
    result = run(document(objective(
        "o", metric("old", 100, unit="a", check_ins=[{"at": "2025-12-01T00:00:00Z", "value": 5}]),
        metric("new", 100, unit="b", check_ins=[{"at": "2026-01-09T00:00:00Z", "value": 5}])),
        as_of="2026-01-10T00:00:00Z"))
    assert result["key_results"]["old"]["stale"] is True
    assert result["key_results"]["new"]["stale"] is False
    assert result["objectives"]["o"]["stale"] is False


def test_complete_kr_is_never_stale() -> None:
    # D14b: progress 1 needs no more check-ins
    result = run(document(objective(
        "o", metric("done", 100, unit="a", check_ins=[{"at": "2025-11-01T00:00:00Z",
                                                       "value": 100}]),
        metric("open", 100, unit="b", check_ins=[{"at": "2025-11-01T00:00:00Z", "value": 99}])),
        as_of="2026-01-10T00:00:00Z"))
    assert result["key_results"]["done"]["stale"] is False
    assert result["key_results"]["open"]["stale"] is True
    assert result["objectives"]["o"]["stale"] is False


@pytest.mark.parametrize(
    ("as_of", "stale"),
    [
        ("2026-01-07T23:59:59Z", False),  # 6.99 days into the period: nothing is stale yet
        ("2026-01-08T00:00:00Z", True),  # 7 days in, no check-in in the last 7 days
    ],
)
def test_nothing_is_stale_in_the_first_days_of_the_period(as_of: str, stale: bool) -> None:
    # D14b: objective starts 2026-01-01; the KR has an empty history
    result = run(document(objective("o", metric("k", 100, unit="u", check_ins=[]),
                                    start="2026-01-01", due="2026-03-31"), as_of=as_of))
    assert result["key_results"]["k"]["stale"] is stale
    assert result["objectives"]["o"]["stale"] is stale


def forecast_document(check_ins: list[dict[str, Any]], as_of: str) -> dict[str, Any]:
    # start 2026-01-01 00:00Z, due 2026-01-31 end of day = day 31
    return document(objective("o", metric("k", 100, unit="u", check_ins=check_ins),
                              start="2026-01-01", due="2026-01-31"), as_of=as_of)


def test_forecast_three_points() -> None:
    # days 0, 10, 20 with values 10, 20, 36: mean x 10, mean v 22, Sxx 200,
    # Sxv (-10)(-12) + 0 + 10*14 = 260, slope 1.3 -> at day 31: 22 + 1.3 * 21 = 49.3.
    # The 2025-12-15 check-in lies before the objective's start: not part of the period.
    check_ins = [
        {"at": "2025-12-15T00:00:00Z", "value": 90},
        {"at": "2026-01-01T00:00:00Z", "value": 10},
        {"at": "2026-01-11T00:00:00Z", "value": 20},
        {"at": "2026-01-21T00:00:00Z", "value": 36},
    ]
    result = run(forecast_document(check_ins, "2026-01-21T00:00:00Z"))
    kr = result["key_results"]["k"]
    assert kr["current"] == 36
    assert kr["forecast"]["value"] == pytest.approx(49.3, rel=1e-12)
    assert kr["forecast"]["progress"] == pytest.approx(0.493, rel=1e-12)
    assert kr["forecast"]["colour"] == "red"  # 0.493 <= 0.5 * 1
    o = result["objectives"]["o"]
    assert o["forecast"]["value"] is None
    assert o["forecast"]["progress"] == pytest.approx(0.493, rel=1e-12)
    assert o["forecast"]["colour"] == "red"


def test_forecast_two_points_clamped_and_green() -> None:
    # days 0 and 10, values 0 and 40: slope 4 per day -> 124 at day 31, progress clamped to 1
    check_ins = [{"at": "2026-01-01T00:00:00Z", "value": 0},
                 {"at": "2026-01-11T00:00:00Z", "value": 40}]
    kr = run(forecast_document(check_ins, "2026-01-12T00:00:00Z"))["key_results"]["k"]
    assert kr["forecast"]["value"] == pytest.approx(124.0, rel=1e-12)
    assert kr["forecast"]["progress"] == 1.0
    assert kr["forecast"]["colour"] == "green"


def test_forecast_yellow() -> None:
    # days 0 and 10, values 0 and 20: 2 per day -> 62 at day 31: 0.5 < 0.62 <= 0.75
    check_ins = [{"at": "2026-01-01T00:00:00Z", "value": 0},
                 {"at": "2026-01-11T00:00:00Z", "value": 20}]
    kr = run(forecast_document(check_ins, "2026-01-11T00:00:00Z"))["key_results"]["k"]
    assert kr["forecast"]["value"] == pytest.approx(62.0, rel=1e-12)
    assert kr["forecast"]["colour"] == "yellow"


def test_forecast_colour_takes_the_projected_breakpoint() -> None:
    # linear range 0 -> 12, red_high 18: 0 at day 0, 10 at day 10 -> 31 at day 31: progress
    # clamps to 1 (pace green) but 31 >= red_high: the forecast is red (D15)
    doc = document(objective(
        "o", metric("r", 12, unit="u", range={"red_high": 18, "mode": "linear"},
                    check_ins=[{"at": "2026-01-01T00:00:00Z", "value": 0},
                               {"at": "2026-01-11T00:00:00Z", "value": 10}]),
        start="2026-01-01", due="2026-01-31"), as_of="2026-01-11T00:00:00Z")
    fc = run(doc)["key_results"]["r"]["forecast"]
    assert fc["value"] == pytest.approx(31.0, rel=1e-12)
    assert fc["progress"] == 1.0
    assert fc["colour"] == "red"


def test_forecast_ignores_check_ins_after_as_of() -> None:
    # the day-20 check-in is not known at day 12: the line stays 2 per day -> 62 at day 31
    check_ins = [{"at": "2026-01-01T00:00:00Z", "value": 0},
                 {"at": "2026-01-11T00:00:00Z", "value": 20},
                 {"at": "2026-01-21T00:00:00Z", "value": 100}]
    kr = run(forecast_document(check_ins, "2026-01-12T00:00:00Z"))["key_results"]["k"]
    assert kr["current"] == 20
    assert kr["forecast"]["value"] == pytest.approx(62.0, rel=1e-12)


def test_forecast_progress_uncapped_with_cap_null() -> None:
    check_ins = [{"at": "2026-01-01T00:00:00Z", "value": 0},
                 {"at": "2026-01-11T00:00:00Z", "value": 40}]
    doc = forecast_document(check_ins, "2026-01-12T00:00:00Z")
    doc["policy"] = {"cap": None}
    fc = run(doc)["key_results"]["k"]["forecast"]
    assert fc["progress"] == pytest.approx(1.24, rel=1e-12)  # 124 / 100
    assert fc["colour"] == "green"


def test_parent_forecast_from_its_children() -> None:
    # the child is the three-point example (0.493 at due); the parent has no KRs of its own
    child_check_ins = [{"at": "2026-01-01T00:00:00Z", "value": 10},
                       {"at": "2026-01-11T00:00:00Z", "value": 20},
                       {"at": "2026-01-21T00:00:00Z", "value": 36}]
    result = run(document(
        objective("p", start="2026-01-01", due="2026-01-31"),
        objective("c", metric("k", 100, unit="u", check_ins=child_check_ins), parent="p",
                  start="2026-01-01", due="2026-01-31"),
        as_of="2026-01-21T00:00:00Z"))
    assert result["objectives"]["p"]["progress"] == 0.36
    fc = result["objectives"]["p"]["forecast"]
    assert fc["value"] is None
    assert fc["progress"] == pytest.approx(0.493, rel=1e-12)
    assert fc["colour"] == "red"


def test_forecast_needs_two_known_instants() -> None:
    check_ins = [{"at": "2026-01-01T00:00:00Z", "value": 0},
                 {"at": "2026-01-11T00:00:00Z", "value": 20}]
    # as of day 5 only one check-in is known
    result = run(forecast_document(check_ins, "2026-01-05T00:00:00Z"))
    assert result["key_results"]["k"]["forecast"] is None
    assert result["objectives"]["o"]["forecast"] is None
    same_instant = [{"at": "2026-01-02T00:00:00Z", "value": 0},
                    {"at": "2026-01-02T00:00:00Z", "value": 20}]
    result = run(forecast_document(same_instant, "2026-01-05T00:00:00Z"))
    assert result["key_results"]["k"]["forecast"] is None


def test_forecast_staged_milestone() -> None:
    # 1 stage at day 0, 2 at day 10: 0.1 per day -> 4.1 stages at day 31 = 0.82 of 5: green
    doc = document(objective(
        "o", {"id": "m", "kind": "milestone", "stages_total": 5,
              "check_ins": [{"at": "2026-01-01T00:00:00Z", "stages_done": 1},
                            {"at": "2026-01-11T00:00:00Z", "stages_done": 2}]},
        start="2026-01-01", due="2026-01-31"), as_of="2026-01-12T00:00:00Z")
    fc = run(doc)["key_results"]["m"]["forecast"]
    assert fc["value"] == pytest.approx(4.1, rel=1e-12)
    assert fc["progress"] == pytest.approx(0.82, rel=1e-12)
    assert fc["colour"] == "green"


def test_forecast_least_squares_formula() -> None:
    day = F.MICROSECONDS_PER_DAY
    assert F.least_squares_at([0, 10 * day, 20 * day], [10, 20, 36], 31 * day) == (
        pytest.approx(49.3, rel=1e-12))
    assert F.least_squares_at([0], [10], day) is None


def test_objective_forecast_null_when_only_uncounted_krs_have_one() -> None:
    # D15: only when something the objective counts has a forecast.  Only the "deals" metric
    # (not part of the USD sum) has two check-ins.
    result = run(document(objective(
        "o", metric("usd", 100, 50, unit="USD"),
        metric("deals", 10, unit="deals", check_ins=[
            {"at": "2026-01-01T00:00:00Z", "value": 2},
            {"at": "2026-01-11T00:00:00Z", "value": 4}]),
        start="2026-01-01", due="2026-01-31",
        progress_settings={"unit": "USD", "target": 100}), as_of="2026-01-12T00:00:00Z"))
    assert result["key_results"]["deals"]["forecast"] is not None
    assert result["objectives"]["o"]["forecast"] is None


# --------------------------------------------------------------------------------------------
# §7 grading
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("progress", "score", "band"),
    [
        (0.0, 0.0, "red"),
        (0.25, 0.3, "red"),  # half up
        (0.34, 0.3, "red"),
        (0.35, 0.4, "yellow"),
        (0.39, 0.4, "yellow"),  # the band is read on the rounded score
        (0.64, 0.6, "yellow"),
        (0.65, 0.7, "green"),  # 0.65 -> 0.7
        (0.7, 0.7, "green"),
        (1.0, 1.0, "green"),
        (1.4, 1.0, "green"),
    ],
)
def test_grade_score_and_band(progress: float, score: float, band: str) -> None:
    assert F.grade_score(progress) == score
    assert F.grade_band(F.grade_score(progress)) == band


@pytest.mark.parametrize(
    ("ambition", "preset", "current", "success"),
    [
        ("committed", "betterworks", 100, True),
        ("committed", "betterworks", 99, False),
        ("aspirational", "betterworks", 65, True),
        ("aspirational", "betterworks", 64, False),
        ("aspirational", "google", 65, False),
        ("aspirational", "google", 70, True),
        ("committed", "google", 70, False),
    ],
)
def test_grade_success(ambition: str, preset: str, current: int, success: bool) -> None:
    result = run(document(objective("o", metric("k", 100, current, unit="u"),
                                    ambition=ambition), policy={"preset": preset}))
    grade = result["objectives"]["o"]["grade"]
    assert grade["success"] is success
    # KRs are graded with their objective's ambition
    assert result["key_results"]["k"]["grade"]["success"] is success
    assert result["objectives"]["o"]["progress"] == current / 100  # advisory only


def test_grade_policy_overrides() -> None:
    # progress 0.55: score 0.6
    doc = document(objective("o", metric("k", 100, 55, unit="u"), ambition="aspirational"),
                   policy={"aspirational_success": 0.5, "grade_yellow": 0.3, "grade_green": 0.5})
    assert run(doc)["objectives"]["o"]["grade"] == {"score": 0.6, "band": "green",
                                                    "success": True}
    default = run(document(objective("o", metric("k", 100, 55, unit="u"),
                                     ambition="aspirational")))
    assert default["objectives"]["o"]["grade"] == {"score": 0.6, "band": "yellow",
                                                   "success": False}


def test_grade_in_a_document() -> None:
    result = run(document(objective("o", metric("k", 100, 65, unit="u"),
                                    ambition="aspirational")))
    assert result["objectives"]["o"]["grade"] == {"score": 0.7, "band": "green",
                                                  "success": True}


def test_grade_model() -> None:
    o = Objective(id="o", ambition="aspirational",
                  key_results=[Metric(id="k", target=100, current=68)])
    grade = run_model(o, policy=Policy.from_preset("google")).objectives["o"].grade
    assert grade is not None
    assert (grade.score, grade.band, grade.success) == (0.7, "green", False)


# --------------------------------------------------------------------------------------------
# §2 relative constructors
# --------------------------------------------------------------------------------------------


def test_increase_by() -> None:
    kr = okrcore.increase_by("k", 200, 0.15, unit="signups", current=215)
    assert kr.start == 200
    assert kr.target == pytest.approx(230, rel=1e-12)
    assert kr.unit == "signups"
    assert kr.direction == 1
    result = run_model(Objective(id="o", key_results=[kr]))
    assert result.key_results["k"].progress == pytest.approx(0.5, rel=1e-12)


def test_decrease_by() -> None:
    # "reduce call time by 20%" from 45: target 36; at 40.5 halfway
    kr = okrcore.decrease_by("k", 45, 0.2, current=40.5)
    assert kr.start == 45
    assert kr.target == pytest.approx(36, rel=1e-12)
    assert kr.direction == -1
    result = run_model(Objective(id="o", key_results=[kr]))
    assert result.key_results["k"].progress == pytest.approx(0.5, rel=1e-12)
