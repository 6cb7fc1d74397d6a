"""The rule changes of SEMANTICS §11, worked by hand, on every engine.

§11.1 no timeline, no pace; §11.2 done-or-not key results paced against their due; §11.3
unknown fields give warnings (and ``okrcore evaluate --strict``); §11.4 ``pace.boundary`` and
the ``burningokr`` preset.  Every example is evaluated by the scalar path, the numpy batch
kernel and (when installed) the numba kernel, whose JSON must be identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import okrcore
import okrcore.batch
from okrcore import formulas as F
from okrcore.batch import OrgFrame, evaluate_frame, kernels_available, to_evaluation
from okrcore.cli import main
from okrcore.errors import DocumentError
from okrcore.evaluate import instant_us
from okrcore.policy import PRESETS, PaceRule, Policy

AS_OF = "2026-01-09T00:00:00Z"  # 8 of 10 days into 2026-01-01 .. 2026-01-10 (end of day)
START, DUE = "2026-01-01", "2026-01-10"


def evaluate_all(data: dict[str, Any]) -> dict[str, Any]:
    """The result document; every engine and kernel gives exactly the same JSON."""
    doc = okrcore.loads(json.dumps(data))
    scalar = okrcore.evaluate(doc).to_json()
    batch = okrcore.batch.evaluate_batch(doc).to_json()
    assert json.dumps(batch) == json.dumps(scalar)
    if "numba" in kernels_available():
        frame = OrgFrame.from_document(doc)
        result = evaluate_frame(frame, instant_us(doc.as_of), doc.policy, kernel="numba")
        numba = to_evaluation(frame, result).to_json()
        numba["warnings"] = scalar["warnings"]  # warnings come from reading the document
        assert json.dumps(numba) == json.dumps(scalar)
    json.dumps(scalar, allow_nan=False)
    return scalar


def document(*objectives: dict[str, Any], as_of: str = AS_OF, **top: Any) -> dict[str, Any]:
    return {"okrcore": 1, "as_of": as_of, "objectives": list(objectives), **top}


def objective(ident: str, *krs: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"id": ident, "key_results": list(krs), **fields}


def metric(ident: str, target: float, current: float | str, **fields: Any) -> dict[str, Any]:
    return {"id": ident, "kind": "metric", "target": target, "current": current, **fields}


# --- §11.1 no timeline, no pace ----------------------------------------------------------------


def test_no_timeline_gives_null_expected_and_null_colours() -> None:
    result = evaluate_all(document(objective("o", metric("k", 10, 4))))
    o, k = result["objectives"]["o"], result["key_results"]["k"]
    assert (o["expected"], o["computed_colour"], o["colour"]) == (None, None, None)
    assert o["explanation"]["colour_rule"] == {
        "source": "pace", "reason": "no_timeline", "rule": None, "threshold": None}
    assert (k["expected"], k["pace_colour"], k["colour"], k["pace_reason"]) == (
        None, None, None, "no_timeline")


@pytest.mark.parametrize(("start", "due"), [(START, None), (None, DUE)])
def test_half_a_timeline_is_no_timeline(start: str | None, due: str | None) -> None:
    result = evaluate_all(document(objective("o", metric("k", 10, 4), start=start, due=due)))
    assert result["objectives"]["o"]["computed_colour"] is None
    assert result["key_results"]["k"]["pace_colour"] is None


BREAKPOINTS = {"red_low": 8, "yellow_low": 10, "yellow_high": 15, "red_high": 18}


@pytest.mark.parametrize(("value", "colour"), [(12, "green"), (9, "yellow"), (19, "red")])
def test_no_timeline_colour_is_the_worst_breakpoint_colour(value: float, colour: str) -> None:
    # §11.1: computed colour = the worst breakpoint colour (green inside the limits too)
    result = evaluate_all(document(objective(
        "o", metric("r", 12, value, range=BREAKPOINTS), metric("m", 10, 1))))
    o = result["objectives"]["o"]
    assert o["computed_colour"] == colour
    assert o["explanation"]["colour_rule"]["source"] == "breakpoint"
    assert result["key_results"]["r"]["colour"] == colour
    assert result["key_results"]["r"]["pace_colour"] is None
    assert result["key_results"]["m"]["colour"] is None


def test_no_timeline_manual_status_still_sets_the_colour() -> None:
    result = evaluate_all(document(objective("o", metric("k", 10, 4), status="at_risk")))
    o = result["objectives"]["o"]
    assert (o["colour"], o["computed_colour"]) == ("yellow", None)


def test_with_a_timeline_pace_is_unchanged() -> None:
    # 0.6 against expected 0.8 is yellow (betterworks, on the 0.75 boundary: the worse colour)
    result = evaluate_all(document(objective("o", metric("k", 10, 6), start=START, due=DUE)))
    assert result["objectives"]["o"]["expected"] == 0.8
    assert result["objectives"]["o"]["colour"] == "yellow"
    assert result["key_results"]["k"]["pace_reason"] == "yellow"


# --- §11.2 done-or-not key results against their due -------------------------------------------

BINARY = {"id": "b", "kind": "binary", "done": False}
SIMPLE = {"id": "b", "kind": "milestone", "done": False}


@pytest.mark.parametrize("kr", [BINARY, SIMPLE], ids=["binary", "milestone"])
@pytest.mark.parametrize(("as_of", "colour", "reason"), [
    ("2026-01-10T23:59:59Z", "green", "not_due"),  # the last second of the due day
    ("2026-01-11T00:00:00Z", "red", "overdue"),  # the due instant (end of 2026-01-10)
    ("2026-02-01T00:00:00Z", "red", "overdue"),
    ("2025-12-01T00:00:00Z", "green", "not_due"),  # before the objective starts
])
def test_not_done_is_green_before_its_due_and_red_from_it(
        kr: dict[str, Any], as_of: str, colour: str, reason: str) -> None:
    result = evaluate_all(document(objective("o", kr, start=START, due=DUE), as_of=as_of))
    b = result["key_results"]["b"]
    assert (b["pace_colour"], b["colour"], b["pace_reason"]) == (colour, colour, reason)
    assert b["progress"] == 0.0


@pytest.mark.parametrize("kr", [BINARY, SIMPLE], ids=["binary", "milestone"])
def test_done_is_green_complete(kr: dict[str, Any]) -> None:
    done = {**kr, "done": True}
    result = evaluate_all(document(objective("o", done, start=START, due=DUE),
                                   as_of="2026-03-01T00:00:00Z"))
    b = result["key_results"]["b"]
    assert (b["colour"], b["pace_reason"]) == ("green", "complete")


def test_own_due_before_the_objectives() -> None:
    # KR due 2026-01-05 (end of day) is passed at as_of 2026-01-09; the objective's is not
    kr = {**BINARY, "due": "2026-01-05"}
    result = evaluate_all(document(objective("o", kr, start=START, due=DUE)))
    assert result["key_results"]["b"]["colour"] == "red"
    assert result["key_results"]["b"]["pace_reason"] == "overdue"


def test_own_due_without_an_objective_timeline() -> None:
    # a due alone paces a done-or-not KR (no start needed); expected stays null
    result = evaluate_all(document(objective("o", {**BINARY, "due": "2026-01-20"})))
    b = result["key_results"]["b"]
    assert (b["colour"], b["pace_reason"], b["expected"]) == ("green", "not_due", None)
    later = evaluate_all(document(objective("o", {**BINARY, "due": "2026-01-05"})))
    assert later["key_results"]["b"]["colour"] == "red"


def test_no_due_at_all_is_no_pace() -> None:
    result = evaluate_all(document(objective("o", BINARY, start=START)))
    b = result["key_results"]["b"]
    assert (b["colour"], b["pace_colour"], b["pace_reason"]) == (None, None, "no_timeline")


def test_only_the_key_results_own_colour_changes() -> None:
    # before: the binary KR would be red by pace (0 against expected 0.8); now green, not due.
    # The objective's pace still comes from its rolled-up progress: (0 + 1) / 2 = 0.5 against
    # 0.8 -> 0.5 <= 0.75 * 0.8 = 0.6, yellow.
    result = evaluate_all(document(objective(
        "o", {**BINARY, "due": "2026-01-20"}, metric("m", 10, 10), start=START, due=DUE)))
    assert result["key_results"]["b"]["colour"] == "green"
    assert result["key_results"]["b"]["expected"] == 0.4  # as before: 8 of its own 20 days
    assert result["objectives"]["o"]["progress"] == 0.5
    assert result["objectives"]["o"]["colour"] == "yellow"


def test_staged_and_checkpoint_milestones_keep_their_pace() -> None:
    # 3 of 5 stages = 0.6 against 0.8: yellow by pace, as before
    staged = {"id": "s", "kind": "milestone", "stages_total": 5, "stages_done": 3}
    points = {"id": "c", "kind": "milestone", "checkpoints": [{"name": "a", "done": True},
                                                            {"name": "b", "done": False}]}
    result = evaluate_all(document(objective("o", staged, points, start=START, due=DUE)))
    assert result["key_results"]["s"]["colour"] == "yellow"
    # 1 of 2 checkpoints = 0.5 against 0.8: 0.5 <= 0.75 * 0.8 but not <= 0.5 * 0.8: yellow
    assert result["key_results"]["c"]["pace_reason"] == "yellow"
    assert result["key_results"]["c"]["colour"] == "yellow"


def test_check_ins_decide_done_at_as_of() -> None:
    kr = {"id": "b", "kind": "binary", "due": "2026-01-05",
          "check_ins": [{"at": "2026-01-03T00:00:00Z", "done": True},
                        {"at": "2026-01-20T00:00:00Z", "done": False}]}
    result = evaluate_all(document(objective("o", kr, start=START, due=DUE)))
    assert result["key_results"]["b"]["pace_reason"] == "complete"


def test_due_colour_formula() -> None:
    assert F.due_colour(True, 10, None) == ("green", "complete")
    assert F.due_colour(False, 10, None) == (None, "no_timeline")
    assert F.due_colour(False, 9, 10) == ("green", "not_due")
    assert F.due_colour(False, 10, 10) == ("red", "overdue")


# --- §11.3 unknown fields ----------------------------------------------------------------------


def test_unknown_fields_everywhere_are_warnings_with_paths() -> None:
    data = document(
        objective(
            "o",
            {"id": "k", "kind": "metric", "target": 10, "done": True, "note": "x",
             "range": {"red_low": 1, "colour": "red"},
             "check_ins": [{"at": "2026-01-02", "value": 3, "who": "ann"}]},
            {"id": "m", "kind": "milestone", "checkpoints": [{"name": "a", "owner": "x"}]},
            start=START, due=DUE, colour_hint="blue",
            progress_settings={"unit": "", "auto": True, "label": "?"}),
        comment="hello", **{"$schema": "x"})
    result = evaluate_all(data)
    assert result["warnings"] == [
        {"code": "unknown_field", "path": path, "message": f"unknown field {name!r} is ignored"}
        for path, name in [
            ("$schema", "$schema"), ("comment", "comment"),
            ("objectives[0].colour_hint", "colour_hint"),
            ("objectives[0].key_results[0].done", "done"),
            ("objectives[0].key_results[0].note", "note"),
            ("objectives[0].key_results[0].range.colour", "colour"),
            ("objectives[0].key_results[0].check_ins[0].who", "who"),
            ("objectives[0].key_results[1].checkpoints[0].owner", "owner"),
            ("objectives[0].progress_settings.label", "label"),
        ]]
    # otherwise ignored: the same result as without them
    clean = document(objective(
        "o",
        {"id": "k", "kind": "metric", "target": 10, "range": {"red_low": 1},
         "check_ins": [{"at": "2026-01-02", "value": 3}]},
        {"id": "m", "kind": "milestone", "checkpoints": [{"name": "a"}]},
        start=START, due=DUE, progress_settings={"unit": "", "auto": True}))
    assert {**result, "warnings": []} == evaluate_all(clean)


def test_a_document_without_unknown_fields_has_an_empty_warnings_list() -> None:
    result = evaluate_all(document(objective("o", metric("k", 10, 4))))
    assert result["warnings"] == []


@pytest.mark.parametrize("policy", [{"preset": "viva", "stale_dayz": 3},
                                    {"pace": {"rule": "ratio", "yellow": 0.9, "red": 0.5,
                                              "boundry": "better"}}])
def test_a_misspelt_policy_field_is_a_document_error(policy: dict[str, Any]) -> None:
    with pytest.raises(DocumentError, match="unknown"):
        okrcore.loads(json.dumps(document(policy=policy)))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    out = {}
    cases = {
        "clean": document(objective("o", metric("k", 10, 4))),
        "warning": document(objective("o", metric("k", 10, 4), extra=1)),
        "error": document(objective("o", metric("k", 10, "12k"))),
        "broken": {"okrcore": 1},
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(data))
        out[name] = str(path)
    return out


@pytest.mark.parametrize(("name", "strict", "status"), [
    ("clean", False, 0), ("clean", True, 0),
    ("warning", False, 0), ("warning", True, 1),
    ("error", False, 0), ("error", True, 1),
    ("broken", False, 2), ("broken", True, 2),
])
@pytest.mark.parametrize("engine", ["scalar", "batch"])
def test_strict_exit_codes(files: dict[str, str], name: str, strict: bool, status: int,
                           engine: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["evaluate", files[name], "--engine", engine] + ["--strict"] * strict
    assert main(argv) == status
    out, err = capsys.readouterr()
    if status != 2:
        assert json.loads(out)["okrcore"] == 1  # the result is printed all the same
    if status == 1:
        assert "--strict" in err


# --- §11.4 pace.boundary and the burningokr preset ---------------------------------------------


def test_burningokr_e08_p04_is_yellow() -> None:
    # p - e = -0.4 is not < -0.4: not red; it is < -0.2: yellow
    assert PRESETS["burningokr"].pace.boundary == "better"
    assert F.pace_colour(0.4, 0.8, PRESETS["burningokr"].pace) == ("yellow", "yellow")
    result = evaluate_all(document(
        objective("o", metric("k", 100, 40), start=START, due=DUE),
        policy={"preset": "burningokr"}))
    assert result["objectives"]["o"]["expected"] == 0.8
    assert result["objectives"]["o"]["colour"] == "yellow"
    assert result["key_results"]["k"]["colour"] == "yellow"
    assert result["policy"]["pace"] == {"rule": "difference", "yellow": -0.2, "red": -0.4,
                                        "boundary": "better"}


@pytest.mark.parametrize(("progress", "colour"), [
    (0.61, "green"), (0.6, "green"), (0.59, "yellow"), (0.41, "yellow"), (0.4, "yellow"),
    (0.39, "red")])
def test_burningokr_thresholds_at_expected_08(progress: float, colour: str) -> None:
    # 0.8 - 0.2 is 0.6000000000000001 in binary: 0.6 lies on the boundary within the
    # tolerance (1e-9 relative) and keeps the better colour
    assert F.pace_colour(progress, 0.8, PRESETS["burningokr"].pace)[0] == colour


def test_betterworks_default_boundary_takes_the_worse_colour() -> None:
    assert Policy().pace.boundary == "worse"
    assert F.pace_colour(0.4, 0.8, PRESETS["betterworks"].pace)[0] == "red"
    # the same thresholds with "better": on 0.5 * 0.8 is yellow, on 0.75 * 0.8 is green
    better = PaceRule("ratio", 0.75, 0.5, "better")
    assert F.pace_colour(0.4, 0.8, better)[0] == "yellow"
    assert F.pace_colour(0.6, 0.8, better)[0] == "green"
    assert F.pace_colour(0.6 - 1e-6, 0.8, better)[0] == "yellow"


@pytest.mark.parametrize("tolerance", [1e-9, 0.0])
def test_better_boundary_tolerance(tolerance: float) -> None:
    # within the tolerance of the threshold counts as on it: the better colour; beyond: worse
    rule = PaceRule("difference", -0.2, -0.4, "better")
    near = 0.4 * (1 - 1e-10)  # 4e-11 below 0.4: within 1e-9 relative
    assert F.pace_colour(near, 0.8, rule, tolerance)[0] == (
        "yellow" if tolerance else "red")
    assert F.pace_colour(0.4 * (1 - 1e-8), 0.8, rule, tolerance)[0] == "red"


def test_boundary_override_in_a_document() -> None:
    policy = {"pace": {"rule": "ratio", "yellow": 0.75, "red": 0.5, "boundary": "better"}}
    result = evaluate_all(document(
        objective("o", metric("k", 100, 60), start=START, due=DUE), policy=policy))
    assert result["objectives"]["o"]["colour"] == "green"
    assert result["policy"]["pace"]["boundary"] == "better"
    # a pace override without a boundary takes the default, "worse"
    worse = evaluate_all(document(
        objective("o", metric("k", 100, 60), start=START, due=DUE),
        policy={"preset": "burningokr", "pace": {"rule": "difference", "yellow": -0.2,
                                                 "red": -0.4}}))
    assert worse["policy"]["pace"]["boundary"] == "worse"
    assert worse["objectives"]["o"]["colour"] == "yellow"


def test_an_unknown_boundary_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match="boundary"):
        okrcore.loads(json.dumps(document(policy={"pace": {
            "rule": "ratio", "yellow": 0.75, "red": 0.5, "boundary": "best"}})))


def test_dump_round_trips_the_boundary() -> None:
    doc = okrcore.loads(json.dumps(document(policy={"preset": "burningokr"})))
    again = okrcore.loads(okrcore.dumps(doc))
    assert again == doc
    assert again.policy.pace.boundary == "better"
