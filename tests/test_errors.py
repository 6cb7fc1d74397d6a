"""Structured errors: exact codes and paths, and a bad item never takes the rest down (§1, D17)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

import okrcore
from okrcore import (
    Binary,
    CheckIn,
    DocumentError,
    Metric,
    Milestone,
    Objective,
    OkrValueError,
    Policy,
    ProgressSettings,
    Range,
)
from okrcore.errors import ERROR_CODES

AS_OF = "2026-02-15T00:00:00Z"
JAN_2 = datetime(2026, 1, 2, tzinfo=UTC)


def document(*objectives: Any, policy: Any = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"okrcore": 1, "as_of": AS_OF, "objectives": list(objectives)}
    if policy is not None:
        doc["policy"] = policy
    return doc


def objective(ident: str, *key_results: Any, **fields: Any) -> dict[str, Any]:
    return {"id": ident, "key_results": list(key_results), **fields}


def metric(ident: str, target: Any, current: Any = None, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": ident, "kind": "metric", "target": target, **fields}
    if current is not None:
        out["current"] = current
    return out


def binary_kr(ident: str, done: Any = True, **fields: Any) -> dict[str, Any]:
    return {"id": ident, "kind": "binary", "done": done, **fields}


def evaluate(doc: dict[str, Any]) -> dict[str, Any]:
    result = okrcore.evaluate_document(doc)
    for error in result["errors"]:
        assert set(error) == {"code", "path", "message"}
        assert error["code"] in ERROR_CODES
        assert isinstance(error["message"], str)
        assert error["message"]
    return result


def pairs(result: dict[str, Any]) -> set[tuple[str, str]]:
    """The (code, path) pairs of a result's errors."""
    return {(e["code"], e["path"]) for e in result["errors"]}


def single_error(doc: dict[str, Any]) -> tuple[str, str]:
    """The one error of a document, checked to be alone apart from what depends on it."""
    result = evaluate(doc)
    own = [(e["code"], e["path"]) for e in result["errors"]
           if e["code"] != "depends_on_invalid"]
    assert len(own) == 1, result["errors"]
    return own[0]


# --------------------------------------------------------------------------------------------
# bad numbers (§1): NaN, infinities, booleans and strings are never coerced
# --------------------------------------------------------------------------------------------

BAD_NUMBERS = [
    (math.nan, "not_finite"),
    (math.inf, "not_finite"),
    (-math.inf, "not_finite"),
    (True, "not_a_number"),
    (False, "not_a_number"),
    ("12k", "not_a_number"),
    ("12", "not_a_number"),
    ([12], "not_a_number"),
]

KR = "objectives[0].key_results[0]"


@pytest.mark.parametrize(("value", "code"), BAD_NUMBERS)
@pytest.mark.parametrize("field", ["target", "start", "current", "weight"])
def test_bad_number_in_a_metric(field: str, value: Any, code: str) -> None:
    kr: dict[str, Any] = {"id": "k", "kind": "metric", "target": 100, field: value}
    doc = document(objective("o", kr, binary_kr("fine")), objective("other", binary_kr("x")))
    result = evaluate(doc)
    assert pairs(result) == {(code, f"{KR}.{field}"), ("depends_on_invalid", "objectives[0]")}
    # the bad KR and its objective are absent; everything else is evaluated
    assert "k" not in result["key_results"]
    assert "o" not in result["objectives"]
    assert result["key_results"]["fine"]["progress"] == 1.0
    assert result["objectives"]["other"]["progress"] == 1.0


@pytest.mark.parametrize(
    ("text", "code"),
    [("NaN", "not_finite"), ("Infinity", "not_finite"), ("-Infinity", "not_finite"),
     ("true", "not_a_number"), ('"12k"', "not_a_number")],
)
def test_bad_number_in_json_text(text: str, code: str) -> None:
    # Python's json module accepts the NaN and Infinity literals: the loader must not.
    source = (
        '{"okrcore": 1, "as_of": "2026-02-15T00:00:00Z", "objectives": [{"id": "o", '
        '"key_results": [{"id": "k", "kind": "metric", "target": ' + text + "}]}]}"
    )
    result = okrcore.evaluate(okrcore.loads(source)).to_json()
    assert pairs(result) == {(code, f"{KR}.target"), ("depends_on_invalid", "objectives[0]")}


@pytest.mark.parametrize(
    ("doc", "code", "path"),
    [
        (document(objective("o", binary_kr("k"), weight=math.nan)),
         "not_finite", "objectives[0].weight"),
        (document(objective("o", binary_kr("k"), weight="1")),
         "not_a_number", "objectives[0].weight"),
        (document(objective("o", metric("k", 10, unit="USD"),
                            progress_settings={"unit": "USD", "target": "12k"})),
         "not_a_number", "objectives[0].progress_settings.target"),
        (document(objective("o", metric("k", 10, unit="USD"),
                            progress_settings={"unit": "USD", "target": 5, "start": math.inf})),
         "not_finite", "objectives[0].progress_settings.start"),
        (document(objective("o", metric("k", 12, 11, range={"red_low": 8,
                                                            "red_high": math.inf}))),
         "not_finite", f"{KR}.range.red_high"),
        (document(objective("o", metric("k", 12, 11, range={"yellow_low": True}))),
         "not_a_number", f"{KR}.range.yellow_low"),
        (document(objective("o", metric("k", 100, check_ins=[
            {"at": "2026-01-02T00:00:00Z", "value": 3},
            {"at": "2026-01-03T00:00:00Z", "value": math.nan}]))),
         "not_finite", f"{KR}.check_ins[1].value"),
        (document(objective("o", metric("k", 100, check_ins=[
            {"at": "2026-01-02T00:00:00Z", "value": "7"}]))),
         "not_a_number", f"{KR}.check_ins[0].value"),
        (document(objective("o", {"id": "k", "kind": "milestone", "stages_total": True,
                                  "stages_done": 1})),
         "not_a_number", f"{KR}.stages_total"),
        (document(objective("o", {"id": "k", "kind": "milestone", "stages_total": 5,
                                  "stages_done": "3"})),
         "not_a_number", f"{KR}.stages_done"),
    ],
)
def test_bad_numbers_elsewhere(doc: dict[str, Any], code: str, path: str) -> None:
    assert single_error(doc) == (code, path)


@pytest.mark.parametrize(("value", "code"), BAD_NUMBERS)
def test_model_constructors_reject_bad_numbers(value: Any, code: str) -> None:
    constructors: list[tuple[str, Callable[[], object]]] = [
        ("target", lambda: Metric(id="k", target=value)),
        ("start", lambda: Metric(id="k", target=10, start=value)),
        ("current", lambda: Metric(id="k", target=10, current=value)),
        ("weight", lambda: Metric(id="k", target=10, weight=value)),
        ("weight", lambda: Binary(id="k", weight=value)),
        ("weight", lambda: Objective(id="o", weight=value)),
        ("red_low", lambda: Range(red_low=value)),
        ("red_high", lambda: Range(red_high=value)),
        ("target", lambda: ProgressSettings(unit="USD", target=value)),
        ("start", lambda: ProgressSettings(unit="USD", target=1, start=value)),
        ("value", lambda: CheckIn(JAN_2, value)),
        ("baseline", lambda: okrcore.increase_by("k", value, 0.1)),
        ("fraction", lambda: okrcore.decrease_by("k", 10, value)),
    ]
    for field, build in constructors:
        if field == "value" and isinstance(value, bool):
            continue  # True / False are the done values of binary check-ins
        with pytest.raises(OkrValueError) as caught:
            build()
        assert caught.value.code == code, field
        assert caught.value.field == field
        assert isinstance(caught.value, ValueError)
        assert caught.value.to_error("x").path == f"x.{field}"


def test_policy_rejects_bad_numbers() -> None:
    with pytest.raises(OkrValueError) as caught:
        Policy(cap=math.nan)
    assert (caught.value.code, caught.value.field) == ("not_finite", "cap")
    with pytest.raises(OkrValueError) as caught:
        Policy(cap=0.5)
    assert (caught.value.code, caught.value.field) == ("out_of_range", "cap")
    flag: Any = True
    with pytest.raises(OkrValueError) as caught:
        Policy(stale_days=flag)
    assert (caught.value.code, caught.value.field) == ("not_a_number", "stale_days")


# --------------------------------------------------------------------------------------------
# degenerate metrics, breakpoints, weights
# --------------------------------------------------------------------------------------------


def test_degenerate_metric() -> None:
    assert single_error(document(objective("o", metric("k", 5, 3, start=5)))) == (
        "degenerate_metric", f"{KR}.target")
    # a linear range is a metric too
    assert single_error(document(objective(
        "o", metric("k", 0, 3, range={"red_low": -5, "mode": "linear"})))) == (
        "degenerate_metric", f"{KR}.target")
    with pytest.raises(OkrValueError) as caught:
        Metric(id="k", target=7, start=7)
    assert (caught.value.code, caught.value.field) == ("degenerate_metric", "target")


def test_band_range_may_have_target_equal_to_start() -> None:
    # D7: target == start is only an error for a plain metric or a linear range
    result = evaluate(document(objective(
        "o", metric("k", 0, 1, range={"red_low": -5, "red_high": 5}))))
    assert result["errors"] == []
    assert result["key_results"]["k"]["progress"] == 1.0


def test_degenerate_goal() -> None:
    doc = document(objective("o", metric("k", 10, 5, unit="USD"),
                             progress_settings={"unit": "USD", "target": 40, "start": 40}))
    result = evaluate(doc)
    assert pairs(result) == {("degenerate_metric", "objectives[0].progress_settings.target")}
    assert result["key_results"]["k"]["progress"] == 0.5  # its KRs are still evaluated


@pytest.mark.parametrize(
    "bounds",
    [
        {"red_low": 10, "yellow_low": 8},
        {"yellow_low": 13},  # above the target 12
        {"yellow_high": 11},  # below the target
        {"yellow_high": 16, "red_high": 15},
        {"red_low": 20},
        {"red_low": 9, "yellow_low": 10, "yellow_high": 15, "red_high": 14},
    ],
)
def test_breakpoints_out_of_order(bounds: dict[str, Any]) -> None:
    assert single_error(document(objective("o", metric("k", 12, 11, range=bounds)))) == (
        "breakpoints_out_of_order", f"{KR}.range")
    with pytest.raises(OkrValueError) as caught:
        Metric(id="k", target=12, range=Range(**bounds))
    assert caught.value.code == "breakpoints_out_of_order"


def test_negative_weight() -> None:
    assert single_error(document(objective("o", binary_kr("k", weight=-1)))) == (
        "negative_weight", f"{KR}.weight")
    assert single_error(document(objective("o", binary_kr("k"), weight=-0.5))) == (
        "negative_weight", "objectives[0].weight")
    for build in (lambda: Binary(id="k", weight=-1), lambda: Objective(id="o", weight=-2),
                  lambda: Milestone(id="m", done=True, weight=-0.1)):
        with pytest.raises(OkrValueError) as caught:
            build()
        assert (caught.value.code, caught.value.field) == ("negative_weight", "weight")


# --------------------------------------------------------------------------------------------
# alignment
# --------------------------------------------------------------------------------------------


def test_unknown_parent() -> None:
    result = evaluate(document(
        objective("o", binary_kr("k"), parent="ghost", owner="ann"),
        objective("fine", binary_kr("f"), owner="bob")))
    assert pairs(result) == {("unknown_parent", "objectives[0].parent"),
                             ("depends_on_invalid", "people.ann")}
    assert "o" not in result["objectives"]
    # an alignment error does not affect the objective's own key results (D17)
    assert result["key_results"]["k"]["progress"] == 1.0
    assert result["objectives"]["fine"]["progress"] == 1.0
    assert result["people"]["bob"]["progress"] == 1.0


def test_alignment_cycle_reports_every_member() -> None:
    result = evaluate(document(
        objective("a", binary_kr("ka"), parent="c"),
        objective("b", binary_kr("kb"), parent="a"),
        objective("c", binary_kr("kc"), parent="b"),
        objective("below", binary_kr("kd", False), parent="a"),  # hangs below the cycle
        objective("outside", binary_kr("ke")),
    ))
    assert pairs(result) == {
        ("alignment_cycle", "objectives[0].parent"),
        ("alignment_cycle", "objectives[1].parent"),
        ("alignment_cycle", "objectives[2].parent"),
    }
    assert set(result["objectives"]) == {"below", "outside"}
    assert result["objectives"]["below"]["progress"] == 0.0
    assert set(result["key_results"]) == {"ka", "kb", "kc", "kd", "ke"}


def test_self_parent_is_a_cycle() -> None:
    result = evaluate(document(objective("a", binary_kr("k"), parent="a")))
    assert pairs(result) == {("alignment_cycle", "objectives[0].parent")}


# --------------------------------------------------------------------------------------------
# check-ins, ids, rollup errors
# --------------------------------------------------------------------------------------------

HISTORY = [{"at": "2026-01-02T00:00:00Z", "value": 3}]


@pytest.mark.parametrize(
    ("kr", "field"),
    [
        (metric("k", 10, 4, check_ins=HISTORY), "current"),
        ({"id": "k", "kind": "binary", "done": True,
          "check_ins": [{"at": "2026-01-02T00:00:00Z", "done": False}]}, "done"),
        ({"id": "k", "kind": "milestone", "stages_total": 5, "stages_done": 2,
          "check_ins": [{"at": "2026-01-02T00:00:00Z", "stages_done": 1}]}, "stages_done"),
    ],
)
def test_conflicting_current(kr: dict[str, Any], field: str) -> None:
    assert single_error(document(objective("o", kr))) == (
        "conflicting_current", f"{KR}.{field}")


def test_conflicting_current_model() -> None:
    with pytest.raises(OkrValueError) as caught:
        Metric(id="k", target=10, current=4, check_ins=[CheckIn(JAN_2, 3)])
    assert (caught.value.code, caught.value.field) == ("conflicting_current", "current")
    with pytest.raises(OkrValueError) as caught:
        Binary(id="k", done=False, check_ins=[CheckIn(JAN_2, True)])
    assert (caught.value.code, caught.value.field) == ("conflicting_current", "done")


def test_duplicate_objective_id() -> None:
    result = evaluate(document(
        objective("o", binary_kr("k1")),
        objective("o", binary_kr("k2", False)),
    ))
    assert pairs(result) == {
        ("duplicate_id", "objectives[1].id"),
        ("depends_on_invalid", "objectives[1].key_results[0]"),
    }
    assert result["objectives"]["o"]["progress"] == 1.0  # the first occurrence wins
    assert set(result["key_results"]) == {"k1"}


def test_duplicate_key_result_id() -> None:
    result = evaluate(document(
        objective("o1", binary_kr("k")),
        objective("o2", binary_kr("k", False), binary_kr("j")),
    ))
    assert pairs(result) == {
        ("duplicate_id", "objectives[1].key_results[0].id"),
        ("depends_on_invalid", "objectives[1]"),
    }
    assert result["key_results"]["k"]["objective"] == "o1"
    assert result["key_results"]["k"]["progress"] == 1.0
    assert result["key_results"]["j"]["progress"] == 1.0
    assert set(result["objectives"]) == {"o1"}


def test_kr_and_objective_ids_are_separate_namespaces() -> None:
    result = evaluate(document(objective("x", binary_kr("x"))))
    assert result["errors"] == []


def test_mixed_directions() -> None:
    doc = document(objective(
        "o", metric("up", 10, 5, unit="x"), metric("down", 0, 5, start=10, unit="x"),
        progress_settings={"unit": "x", "auto": True}))
    result = evaluate(doc)
    assert pairs(result) == {("mixed_directions", "objectives[0].progress_settings.unit")}
    # rollup errors do not affect the objective's KRs
    assert result["key_results"]["up"]["progress"] == 0.5
    assert result["key_results"]["down"]["progress"] == 0.5
    assert "o" not in result["objectives"]


def test_mixed_directions_explicit_sum() -> None:
    doc = document(objective(
        "o", metric("up", 10, 5, unit="x"), metric("down", 0, 5, start=10, unit="x"),
        mode="sum"))
    code, path = single_error(doc)
    assert code == "mixed_directions"
    assert path.startswith("objectives[0]")


@pytest.mark.parametrize(
    "key_results",
    [
        [binary_kr("b")],
        [metric("eur", 10, 5, unit="EUR")],
        [metric("usd", 10, 5, unit="USD", weight=0)],  # weight 0: not counted (D8)
        [{"id": "m", "kind": "milestone", "stages_total": 3, "stages_done": 1}],
    ],
)
def test_no_contributing_metric(key_results: list[dict[str, Any]]) -> None:
    doc = document(objective("o", *key_results, progress_settings={"unit": "USD", "target": 9}))
    assert single_error(doc) == ("no_contributing_metric",
                                 "objectives[0].progress_settings.unit")


@pytest.mark.parametrize(
    "key_results",
    [[binary_kr("b")], [metric("a", 10, 5, unit="A"), metric("b", 10, 5, unit="B")]],
)
def test_no_contributing_metric_explicit_sum(key_results: list[dict[str, Any]]) -> None:
    code, path = single_error(document(objective("o", *key_results, mode="sum")))
    assert code == "no_contributing_metric"
    assert path.startswith("objectives[0]")


# --------------------------------------------------------------------------------------------
# a bad item never stops the others
# --------------------------------------------------------------------------------------------


def test_bad_key_result_isolated() -> None:
    doc = document(
        objective("p", owner="carl"),  # no KRs: rolls up o1 and o2
        objective("o1", metric("k1", "12k", owners=["zed"]), binary_kr("k2"),
                  owner="ann", parent="p"),
        objective("o2", metric("k3", 100, 50, unit="u"), owner="bob", parent="p"),
        objective("q", binary_kr("k4"), owner="dan"),  # own KRs, no include_children
        objective("o3", binary_kr("k5", weight=-1), owner="erin", parent="q"),
    )
    result = evaluate(doc)
    assert pairs(result) == {
        ("not_a_number", "objectives[1].key_results[0].target"),
        ("negative_weight", "objectives[4].key_results[0].weight"),
        ("depends_on_invalid", "objectives[1]"),
        ("depends_on_invalid", "objectives[4]"),
        ("depends_on_invalid", "objectives[0]"),
        ("depends_on_invalid", "people.ann"),
        ("depends_on_invalid", "people.zed"),
        ("depends_on_invalid", "people.carl"),
        ("depends_on_invalid", "people.erin"),
    }
    assert set(result["objectives"]) == {"o2", "q"}
    assert result["objectives"]["o2"]["progress"] == 0.5
    assert result["objectives"]["q"]["progress"] == 1.0  # unaffected by its bad child
    assert set(result["key_results"]) == {"k2", "k3", "k4"}
    assert result["key_results"]["k2"]["progress"] == 1.0
    assert set(result["people"]) == {"bob", "dan"}
    assert result["people"]["bob"]["progress"] == 0.5


def test_include_children_with_a_bad_child() -> None:
    result = evaluate(document(
        objective("p", binary_kr("kp"), include_children=True),
        objective("c", binary_kr("kc", weight=True), parent="p"),
    ))
    assert pairs(result) == {
        ("not_a_number", "objectives[1].key_results[0].weight"),
        ("depends_on_invalid", "objectives[1]"),
        ("depends_on_invalid", "objectives[0]"),
    }
    assert result["key_results"]["kp"]["progress"] == 1.0


def test_bad_objective_field_makes_its_krs_depend_on_it() -> None:
    result = evaluate(document(
        objective("o", binary_kr("k"), mode="median"),
        objective("fine", binary_kr("f")),
    ))
    assert pairs(result) == {
        ("unknown_value", "objectives[0].mode"),
        ("depends_on_invalid", "objectives[0].key_results[0]"),
    }
    assert set(result["objectives"]) == {"fine"}


@pytest.mark.parametrize(
    ("doc", "code", "path"),
    [
        (document(objective("o", {"id": "k", "kind": "metric"})),
         "missing_field", f"{KR}.target"),
        (document(objective("o", {"id": "k", "kind": "okr", "target": 3})),
         "unknown_value", f"{KR}.kind"),
        (document(objective("o", {"kind": "binary", "done": True})),
         "missing_field", f"{KR}.id"),
        (document(objective("o", {"id": 7, "kind": "binary", "done": True})),
         "wrong_type", f"{KR}.id"),
        (document(objective("o", binary_kr("k", done="yes"))),
         "wrong_type", f"{KR}.done"),
        (document(objective("o", binary_kr("k"), status="great")),
         "unknown_value", "objectives[0].status"),
        (document(objective("o", binary_kr("k"), start="2026-02-01", due="2026-01-01")),
         "invalid_timeline", "objectives[0].due"),
        (document(objective("o", binary_kr("k"), start="2026-13-01")),
         "invalid_value", "objectives[0].start"),
        (document(objective("o", {"id": "k", "kind": "milestone", "stages_total": 3,
                                  "stages_done": 4})),
         "out_of_range", f"{KR}.stages_done"),
    ],
)
def test_other_item_errors(doc: dict[str, Any], code: str, path: str) -> None:
    assert single_error(doc) == (code, path)


def test_checkpoint_milestone_takes_no_check_ins() -> None:
    # D11: a checkpoint milestone records progress in its checkpoints
    doc = document(objective("o", {
        "id": "k", "kind": "milestone", "checkpoints": [{"name": "a", "done": True}],
        "check_ins": [{"at": "2026-01-02T00:00:00Z", "done": True}]}))
    assert single_error(doc) == ("invalid_value", f"{KR}.check_ins")


def test_kr_due_not_after_objective_start() -> None:
    doc = document(objective("o", binary_kr("k", due="2025-12-30"), start="2026-01-01",
                             due="2026-03-31"))
    assert single_error(doc) == ("invalid_timeline", f"{KR}.due")


def test_key_result_not_an_object() -> None:
    result = evaluate(document(objective("o", 42, binary_kr("k"))))
    assert pairs(result) == {("wrong_type", KR), ("depends_on_invalid", "objectives[0]")}
    assert result["key_results"]["k"]["progress"] == 1.0


# --------------------------------------------------------------------------------------------
# unreadable documents raise DocumentError
# --------------------------------------------------------------------------------------------

GOOD: dict[str, Any] = {"okrcore": 1, "as_of": AS_OF, "objectives": []}


@pytest.mark.parametrize(
    "data",
    [
        [],
        "document",
        42,
        None,
        {"as_of": AS_OF, "objectives": []},
        {**GOOD, "okrcore": 2},
        {**GOOD, "okrcore": "1"},
        {**GOOD, "okrcore": True},
        {"okrcore": 1, "objectives": []},
        {**GOOD, "as_of": "yesterday"},
        {**GOOD, "as_of": 20260215},
        {**GOOD, "as_of": None},
        {**GOOD, "policy": "fast"},
        {**GOOD, "policy": {"preset": "nope"}},
        {**GOOD, "policy": {"caps": 1}},
        {**GOOD, "policy": {"cap": 0.5}},
        {**GOOD, "policy": {"cap": "1"}},
        {**GOOD, "policy": {"cap": math.nan}},
        {**GOOD, "policy": {"stale_days": 0}},
        {**GOOD, "policy": {"strict_breakpoints": "yes"}},
        {**GOOD, "policy": {"pace": {"rule": "ratio", "yellow": 0.5, "red": 0.75}}},
        {**GOOD, "policy": {"pace": {"rule": "speed", "yellow": 0.5, "red": 0.25}}},
        {**GOOD, "objectives": {"o": {}}},
    ],
)
def test_document_error(data: Any) -> None:
    with pytest.raises(DocumentError):
        okrcore.Document.from_dict(data)
    with pytest.raises(DocumentError):
        okrcore.evaluate_document(data)


def test_document_error_message_is_one_line_and_named() -> None:
    with pytest.raises(DocumentError) as caught:
        okrcore.Document.from_dict({**GOOD, "policy": {"caps": 1}})
    assert "caps" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("text", ["not json", "{", b"\xff\xfe\x00", ""])
def test_loads_rejects_unreadable_text(text: str | bytes) -> None:
    with pytest.raises(DocumentError):
        okrcore.loads(text)


def test_good_minimal_document_loads() -> None:
    # the control case of the parametrised rejections above
    assert okrcore.evaluate_document(GOOD)["errors"] == []
    assert okrcore.evaluate_document({**GOOD, "policy": {"preset": "viva", "cap": None}})[
        "policy"]["cap"] is None
