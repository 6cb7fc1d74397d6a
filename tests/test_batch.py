"""The batch engine equals the scalar reference: differential properties and completeness.

Equality is exact: both engines perform the same floating-point operations in the same order
(docs/batch.rst, "Equality"), so result documents are compared value for value.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import okrcore
from conftest import first_difference
from forecasts import forecast_documents, forecast_example
from okrcore import Document, formulas
from okrcore.batch import (
    OrgFrame,
    _numpy_krs,
    _numpy_rollup,
    evaluate_batch,
    evaluate_frame,
    explain,
    to_evaluation,
)
from okrcore.batch import engine as batch_engine
from okrcore.evaluate import evaluate as scalar_evaluate
from okrcore.evaluate import instant_us
from okrcore.results import KeyResultResult, ObjectiveResult, PersonResult
from strategies import documents

ROOT = Path(__file__).resolve().parents[1]


def same(document: Document) -> None:
    scalar = scalar_evaluate(document).to_json()
    batch = evaluate_batch(document).to_json()
    assert first_difference(scalar, batch) is None


@settings(max_examples=150)
@given(doc=documents())
def test_batch_equals_scalar_on_valid_documents(doc: Document) -> None:
    same(doc)


@settings(max_examples=100, deadline=None)
@given(doc=forecast_documents())
def test_batch_equals_scalar_on_forecast_documents(doc: Document) -> None:
    # (the objectives' forecast rollups, which documents() rarely reaches)
    same(doc)


def test_forecast_example_oracle() -> None:
    doc = forecast_example()
    same(doc)
    frame = OrgFrame.from_document(doc)
    result = evaluate_frame(frame, instant_us(doc.as_of), doc.policy)
    assert frame.obj_ids is not None
    forecast = dict(zip(frame.obj_ids, result.obj_forecast_progress.tolist(), strict=True))
    assert forecast["c"] == pytest.approx(0.929, rel=1e-12)
    assert forecast["s"] == 1.0
    assert forecast["p"] == pytest.approx((1 + 0.5 + 1 + 0.929) / 4, rel=1e-12)
    assert np.all(result.obj_forecast_progress > result.obj_progress)


# --- documents with bad rows, broken alignment and overflow ------------------------------------

BAD_VALUES: list[Any] = [float("nan"), float("inf"), "12k", True, None, -1, 0, 1e308, -1e308]


@st.composite
def corrupted(draw: st.DrawFn) -> dict[str, Any]:
    """A valid document's JSON with a few fields broken: bad numbers, ids, parents, cycles."""
    data: dict[str, Any] = draw(documents()).to_dict()
    objectives = data["objectives"]
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(
            ["kr_field", "obj_field", "duplicate_obj", "duplicate_kr", "unknown_parent", "cycle",
             "current_and_log", "kr_due", "not_a_kr"]))
        o = draw(st.sampled_from(objectives))
        listed = o["key_results"]
        krs = [k for k in listed if isinstance(k, dict)]
        if action == "kr_field" and krs:
            kr = draw(st.sampled_from(krs))
            field = draw(st.sampled_from(["target", "start", "current", "weight", "kind",
                                          "stages_done", "done"]))
            kr[field] = draw(st.sampled_from(BAD_VALUES))
        elif action == "obj_field":
            field = draw(st.sampled_from(["weight", "start", "due", "mode", "owner"]))
            o[field] = draw(st.sampled_from([*BAD_VALUES, "2026-13-01", "sideways"]))
        elif action == "duplicate_obj" and len(objectives) > 1:
            o["id"] = objectives[0]["id"]
        elif action == "duplicate_kr" and krs:
            other = [k for ob in objectives for k in ob["key_results"] if isinstance(k, dict)]
            krs[0]["id"] = draw(st.sampled_from(other))["id"]
        elif action == "unknown_parent":
            o["parent"] = "nobody"
        elif action == "cycle":
            a, b = draw(st.sampled_from(objectives)), draw(st.sampled_from(objectives))
            a["parent"], b["parent"] = b["id"], a["id"]
        elif action == "current_and_log" and krs and krs[0]["kind"] == "metric":
            krs[0]["current"] = 1
            krs[0]["check_ins"] = [{"at": "2026-01-02T00:00:00Z", "value": 2}]
        elif action == "kr_due" and krs and o.get("start"):
            krs[0]["due"] = o["start"]
        elif action == "not_a_kr":
            listed.append(draw(st.sampled_from([[], "kr", 3])))
    return data


@settings(max_examples=200)
@given(data=corrupted())
def test_batch_equals_scalar_on_documents_with_errors(data: dict[str, Any]) -> None:
    document = okrcore.Document.from_dict(json.loads(json.dumps(data)))
    scalar = scalar_evaluate(document).to_json()
    batch = evaluate_batch(document).to_json()
    assert first_difference(scalar, batch) is None


def test_a_cycle_and_its_dependants_in_both_engines() -> None:
    data = {
        "okrcore": 1, "as_of": "2026-02-01T00:00:00Z",
        "objectives": [
            {"id": "a", "parent": "b", "owner": "ann",
             "key_results": [{"id": "k1", "kind": "binary", "done": True}]},
            {"id": "b", "parent": "a"},
            {"id": "c", "parent": "a", "owner": "cy",
             "key_results": [{"id": "k2", "kind": "metric", "target": 10, "current": 4}]},
            {"id": "d", "parent": "c"},
        ],
    }
    result = evaluate_batch(okrcore.Document.from_dict(data)).to_json()
    assert [(e["code"], e["path"]) for e in result["errors"]] == [
        ("alignment_cycle", "objectives[0].parent"),
        ("alignment_cycle", "objectives[1].parent"),
        ("depends_on_invalid", "people.ann"),
    ]
    # below the cycle everything is evaluated: c = 4/10; d (no KRs, no children) is null
    assert result["objectives"]["c"]["progress"] == 0.4
    assert result["objectives"]["d"]["progress"] is None
    assert result["key_results"]["k1"]["progress"] == 1.0
    scalar = scalar_evaluate(okrcore.Document.from_dict(data)).to_json()
    assert first_difference(scalar, result) is None


# --- the command line ---------------------------------------------------------------------------


def _examples() -> list[Path]:
    return sorted((ROOT / "docs" / "examples").glob("*.json"))


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.name)
def test_cli_batch_prints_the_same_document_as_scalar(path: Path) -> None:
    def run(engine: str) -> bytes:
        return subprocess.run(
            [sys.executable, "-m", "okrcore.cli", "evaluate", "--engine", engine, str(path)],
            capture_output=True, check=True).stdout

    scalar, batch = run("scalar"), run("batch")
    assert json.loads(scalar)["objectives"], "the example evaluates to something"
    assert batch == scalar


def test_examples_exist() -> None:
    assert len(_examples()) >= 2


# --- completeness: every scalar output has a batch twin ------------------------------------------

KR_TWINS = {
    "id": "label", "objective": "kr_objective", "kind": "kr_kind", "owners": "kr_owner_ids",
    "current": "kr_value", "raw_progress": "kr_raw", "progress": "kr_progress",
    "expected": "kr_expected", "colour": "kr_colour", "pace_colour": "kr_pace_colour",
    "pace_reason": "kr_pace_colour", "range_status": "kr_range_status", "weight": "kr_weight",
    "contributes": "kr_contributes",
    "trend": "kr_trend", "stale": "kr_stale", "last_check_in": "kr_last_at",
    "forecast": "kr_forecast_value", "grade": "kr_grade_score", "explanation": "explain",
}
OBJ_TWINS = {
    "id": "label", "owner": "obj_owner", "parent": "obj_parent", "progress": "obj_progress",
    "raw_progress": "obj_raw", "expected": "obj_expected", "colour": "obj_colour",
    "computed_colour": "obj_computed_colour", "manual_status": "obj_status", "mode": "obj_mode",
    "trend": "obj_trend", "stale": "obj_stale", "forecast": "obj_forecast_progress",
    "grade": "obj_grade_score", "explanation": "explain",
}
PERSON_TWINS = {"id": "label", "progress": "person_progress", "items": "person_items"}
FORMULA_TWINS = {
    "approx_ge": "_approx_le", "approx_le": "_approx_le", "band_progress": "_raw_progress",
    "clamp": "_clamp", "due_colour": "_kr_pace", "expected_progress": "_expected",
    "grade_band": "_grade",
    "grade_score": "_grade", "graded_range_progress": "_graded", "is_stale": "evaluate_frame",
    "least_squares_at": "_numpy_logs", "metric_raw_progress": "_raw_progress",
    "pace_colour": "_pace", "range_limit": "_range_limit", "range_status": "_range_status",
    "ratio_progress": "_raw_progress", "rescaled_mean": "_rescaled_mean",
    "succeeded": "_grade", "trend": "_trend", "weighted_mean": "_rollup",
    "worst_colour": "_worst",
}


@pytest.mark.parametrize(("cls", "twins"), [(KeyResultResult, KR_TWINS),
                                            (ObjectiveResult, OBJ_TWINS),
                                            (PersonResult, PERSON_TWINS)])
def test_every_scalar_output_has_a_batch_twin(cls: type, twins: dict[str, str]) -> None:
    fields = {f.name for f in attrs.fields(cls)}
    assert fields == set(twins), f"untwinned outputs: {sorted(fields ^ set(twins))}"
    result_columns = {f.name for f in attrs.fields(batch_engine.BatchResult)}
    frame_columns = {f.name for f in attrs.fields(OrgFrame)}
    for field, twin in twins.items():
        assert twin in result_columns | frame_columns | {"label", "explain"}, (field, twin)


def test_every_formula_has_a_vectorised_twin() -> None:
    functions = {name for name in formulas.__all__ if callable(getattr(formulas, name))}
    assert functions == set(FORMULA_TWINS), sorted(functions ^ set(FORMULA_TWINS))
    # the twins live in the engine (its re-exports) or in the numpy backend's modules
    homes = (batch_engine, _numpy_krs, _numpy_rollup)
    for twin in FORMULA_TWINS.values():
        assert any(callable(getattr(home, twin, None)) for home in homes), twin


@settings(max_examples=200)
@given(
    progress=st.floats(0, 2), expected=st.floats(0, 1),
    preset=st.sampled_from(sorted(okrcore.PRESETS)),
)
def test_pace_twin_equals_the_formula(progress: float, expected: float, preset: str) -> None:
    policy = okrcore.PRESETS[preset]
    colours, _ = batch_engine._pace(np.array([progress]), np.array([expected]), policy)
    scalar, _ = formulas.pace_colour(progress, expected, policy.pace, policy.tolerance)
    assert ("green", "yellow", "red")[int(colours[0])] == scalar


@settings(max_examples=200)
@given(raw=st.floats(-10, 10), cap=st.sampled_from([1.0, 1.5, None]))
def test_clamp_twin_equals_the_formula(raw: float, cap: float | None) -> None:
    assert batch_engine._clamp(np.array([raw]), cap)[0] == formulas.clamp(raw, cap)


# --- frames from columns -------------------------------------------------------------------------


def test_from_columns_with_defaults_evaluates_like_the_document() -> None:
    # two objectives: o0 (3 KRs: 45->20 at 30, binary done, 3 of 5 stages) and its parent o1
    frame = OrgFrame.from_columns(
        kr_objective=np.array([0, 0, 0]),
        kr_kind=np.array([0, 1, 3], dtype=np.uint8),
        kr_start=np.array([45.0, 0.0, 0.0]),
        kr_target=np.array([20.0, 1.0, 5.0]),
        kr_current=np.array([30.0, 1.0, 3.0]),
        obj_parent=np.array([1, -1]),
    )
    result = evaluate_frame(frame, instant_us(datetime(2026, 2, 1, tzinfo=UTC)))
    assert result.kr_progress.tolist() == [0.6, 1.0, 0.6]
    assert result.obj_progress[0] == (0.6 + 1.0 + 0.6) / 3
    assert result.obj_progress[1] == result.obj_progress[0]
    assert result.kr_error.tolist() == [0, 0, 0]
    evaluation = to_evaluation(frame, result)
    assert evaluation.objectives["o1"].explanation.rule == "children"
    assert explain(frame, result, [0])[0].rule == "auto:mixed"


def test_from_columns_uses_matching_arrays_without_copying() -> None:
    start = np.zeros(4)
    frame = OrgFrame.from_columns(
        kr_objective=np.zeros(4, dtype=np.int64), kr_kind=np.zeros(4, dtype=np.uint8),
        kr_target=np.ones(4), kr_start=start, obj_parent=np.array([-1]))
    assert frame.kr_start is start


def test_from_columns_rejects_structural_problems() -> None:
    with pytest.raises(ValueError, match="kr_objective"):
        OrgFrame.from_columns(kr_objective=[0, 3], kr_kind=[0, 0], kr_target=[1, 1],
                              obj_parent=[-1])
    with pytest.raises(ValueError, match="required"):
        OrgFrame.from_columns(kr_kind=[0], kr_target=[1], obj_parent=[-1])


def test_unsorted_logs_are_sorted_stably() -> None:
    base = instant_us(datetime(2026, 1, 1, tzinfo=UTC))
    day = 86_400_000_000
    frame = OrgFrame.from_columns(
        kr_objective=[0], kr_kind=[0], kr_target=[10.0], obj_parent=[-1],
        log_kr=[0, 0, 0], log_at=[base + 2 * day, base + day, base + 2 * day],
        log_value=[5.0, 1.0, 7.0])
    result = evaluate_frame(frame, base + 3 * day)
    # the later entry at the same instant wins: 7, and the previous check-in is the 1 of day 1
    assert result.kr_value[0] == 7.0
    assert result.kr_trend[0] == batch_engine.TREND_PROGRESSED
    before = evaluate_frame(frame, base + day + 1)
    assert before.kr_value[0] == 1.0


# --- incremental recompute ------------------------------------------------------------------------


def _changed_frame(frame: OrgFrame, rows: list[int], factor: float) -> OrgFrame:
    current = frame.kr_current.copy()
    target = frame.kr_target
    current[rows] = np.where(np.isnan(current[rows]), target[rows] * factor,
                             current[rows] * factor + 1)
    log_value = frame.log_value.copy()
    changed_log = np.isin(frame.log_kr, rows)
    log_value[changed_log] = log_value[changed_log] * factor
    binary = frame.kr_kind[rows] != 0
    current[np.asarray(rows)[binary]] = np.where(factor > 0.5, 1.0, 0.0)
    return attrs.evolve(frame, kr_current=current, log_value=log_value)


@settings(max_examples=150)
@given(doc=documents(), data=st.data())
def test_incremental_recompute_equals_full_recompute(doc: Document, data: st.DataObject) -> None:
    from okrcore.batch.incremental import recompute

    frame = OrgFrame.from_document(doc)
    as_of = instant_us(doc.as_of)
    before = evaluate_frame(frame, as_of, doc.policy)
    if frame.n_kr == 0:
        return
    rows = data.draw(st.lists(st.integers(0, frame.n_kr - 1), min_size=1, max_size=3))
    factor = data.draw(st.sampled_from([0.0, 0.25, 0.9, 1.7]))
    changed = _changed_frame(frame, rows, factor)
    full = evaluate_frame(changed, as_of, doc.policy)
    partial = recompute(changed, before, rows)
    for field in attrs.fields(batch_engine.BatchResult):
        a, b = getattr(full, field.name), getattr(partial, field.name)
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), field.name
    assert first_difference(to_evaluation(changed, full).to_json(),
                            to_evaluation(changed, partial).to_json()) is None


def test_incremental_recompute_touches_only_the_affected_branch() -> None:
    from okrcore.batch.incremental import affected

    doc = okrcore.Document.from_dict({
        "okrcore": 1, "as_of": "2026-02-01T00:00:00Z",
        "objectives": [
            {"id": "company"},
            {"id": "sales", "parent": "company",
             "key_results": [{"id": "k0", "kind": "metric", "target": 10, "current": 5}]},
            {"id": "eng", "parent": "company",
             "key_results": [{"id": "k1", "kind": "binary", "done": False},
                             {"id": "k2", "kind": "binary", "done": True}]},
        ]})
    frame = OrgFrame.from_document(doc)
    objectives, key_results = affected(frame, [1])
    assert objectives.tolist() == [0, 2]  # eng and its ancestor; sales is not touched
    assert key_results.tolist() == [1, 2]


def test_bad_rows_of_plain_columns_get_error_codes_and_the_rest_is_evaluated() -> None:
    nan = float("nan")
    frame = OrgFrame.from_columns(
        kr_objective=[0, 0, 0, 0, 0, 1, 1],
        kr_kind=np.array([0, 0, 0, 0, 3, 0, 9], dtype=np.uint8),
        kr_start=[0.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        kr_target=[10.0, 5.0, 10.0, 10.0, 5.0, np.inf, 1.0],
        kr_current=[4.0, 5.0, 1.0, 2.0, 7.0, 1.0, nan],
        kr_weight=[1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 1.0],
        kr_range_mode=np.array([0, 0, 0, 1, 0, 0, 0], dtype=np.uint8),
        kr_red_low=[nan, nan, nan, 12.0, nan, nan, nan],
        obj_parent=[-1, -1, -1],
        obj_weight=[1.0, 1.0, -2.0],
    )
    result = evaluate_frame(frame, 0)
    assert result.kr_error.tolist() == [
        batch_engine.ERR_NONE,
        batch_engine.ERR_FIELD_DEGENERATE,
        batch_engine.ERR_FIELD_NEGATIVE_WEIGHT,
        batch_engine.ERR_FIELD_BREAKPOINTS,  # red_low 12 above the target 10
        batch_engine.ERR_FIELD_OUT_OF_RANGE,  # 7 stages done of 5
        batch_engine.ERR_FIELD_NOT_FINITE,
        batch_engine.ERR_FIELD_UNKNOWN_VALUE,
    ]
    assert result.kr_progress[0] == 0.4
    assert result.obj_error.tolist() == [batch_engine.ERR_DEPENDS_ON_INVALID,
                                         batch_engine.ERR_DEPENDS_ON_INVALID,
                                         batch_engine.ERR_FIELD_NEGATIVE_WEIGHT]
    codes = [(e.code, e.path) for e in to_evaluation(frame, result).errors]
    assert ("negative_weight", "objectives[2]") in codes
    assert ("degenerate_metric", "objectives[0].key_results[1]") in codes
    assert ("breakpoints_out_of_order", "objectives[0].key_results[3]") in codes
