"""Hostile input never crashes and never silently lies (issue 16, item 2).

Each class of the issue has a regression test with a hand-computed expectation, and the
strategies of ``tests/hostile.py`` run through the command line and all three evaluation paths
(scalar, numpy and numba kernels), which must print the same bytes, within a bounded budget.
"""

from __future__ import annotations

import io
import json
import math
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile import deep, documents, forests, hostile_text, huge_integer, shapes
from okrcore import cli
from okrcore.batch import OrgFrame, evaluate_frame, kernels_available, to_evaluation
from okrcore.errors import DocumentError
from okrcore.evaluate import alignment_depths, evaluate, instant_us
from okrcore.formulas import expected_progress, rescaled_mean
from okrcore.interchange import MAX_DEPTH, TOO_DEEP, loads, parse_json

AS_OF = "2026-02-15T00:00:00Z"


def _no_constants(token: str) -> Any:
    raise AssertionError(f"the output holds {token}")


def run_cli(tmp_path: Path, text: str, engine: str) -> tuple[int, str, str]:
    """``okrcore evaluate --engine ENGINE --indent 0`` in this process (exit, stdout, stderr).

    Any exception escaping :func:`okrcore.cli.main` fails the test: that is a traceback.
    """
    path = tmp_path / "doc.json"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli.main(["evaluate", "--engine", engine, "--indent", "0", str(path)])
    return status, out.getvalue(), err.getvalue()


def all_paths(text: str) -> list[str] | None:
    """The result JSON of the scalar path and both kernels, or None for a document error."""
    try:
        document = loads(text)
    except DocumentError:
        return None
    outputs = [json.dumps(evaluate(document).to_json(), allow_nan=False)]
    for kernel in kernels_available():
        frame = OrgFrame.from_document(document)
        result = evaluate_frame(frame, instant_us(document.as_of), document.policy,
                                kernel=kernel)
        evaluation = attrs.evolve(to_evaluation(frame, result), warnings=document.warnings)
        outputs.append(json.dumps(evaluation.to_json(), allow_nan=False))
    return outputs


def check_cli(tmp_path: Path, text: str) -> dict[str, Any] | None:
    """Both engines exit 0 with the same JSON (no NaN, no Infinity), or 2 with one line."""
    runs = [run_cli(tmp_path, text, engine) for engine in ("scalar", "batch")]
    (status, out, err), (b_status, b_out, b_err) = runs
    assert (status, out, err) == (b_status, b_out, b_err)
    if status == 2:
        assert out == ""
        assert err.startswith("okrcore: ") and err.count("\n") == 1, err
        return None
    assert status == 0, err
    result: dict[str, Any] = json.loads(out, parse_constant=_no_constants)
    return result


def evaluated(doc: dict[str, Any] | str, tmp_path: Path) -> dict[str, Any]:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    outputs = all_paths(text)
    assert outputs is not None
    assert all(o == outputs[0] for o in outputs), "the engines differ"
    result = check_cli(tmp_path, text)
    assert result is not None
    return result


def codes(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["code"], e["path"]) for e in result["errors"]]


def doc(*objectives: Any, **fields: Any) -> dict[str, Any]:
    return {"okrcore": 1, "as_of": AS_OF, "objectives": list(objectives), **fields}


GOOD = {"id": "good", "key_results": [{"id": "kg", "kind": "binary", "done": True}]}


# --- numbers too large for a float or for Python ------------------------------------------------


@pytest.mark.parametrize("field", ["weight", "stages_total", "stages_done"])
def test_an_integer_beyond_a_float_is_an_item_error(tmp_path: Path, field: str) -> None:
    kr = {"id": "k", "kind": "milestone", "stages_total": 5, "stages_done": 3}
    kr[field] = huge_integer(401)
    text = hostile_text(doc({"id": "o", "key_results": [kr]}, GOOD))
    result = evaluated(text, tmp_path)
    assert ("not_finite", f"objectives[0].key_results[0].{field}") in codes(result)
    assert list(result["objectives"]) == ["good"]
    message = next(e["message"] for e in result["errors"] if e["code"] == "not_finite")
    assert "about 401 digits" in message and len(message) < 200


def test_an_integer_python_cannot_read_rejects_only_its_item(tmp_path: Path) -> None:
    huge = huge_integer(5_000)
    text = hostile_text(doc({"id": huge, "key_results": []},
                            {"id": "o2", "weight": huge, "key_results": []}, GOOD))
    result = evaluated(text, tmp_path)
    assert codes(result) == [("wrong_type", "objectives[0].id"),
                             ("not_finite", "objectives[1].weight")]
    assert list(result["objectives"]) == ["good"]
    assert "<an integer of 5000 digits>" in result["errors"][0]["message"]


def test_parse_json_keeps_huge_integers_as_markers() -> None:
    value = parse_json("[" + "9" * 5_000 + ", -" + "9" * 4_400 + ", 12]")
    assert [repr(v) for v in value[:2]] == ["<an integer of 5000 digits>",
                                            "<an integer of 4400 digits>"]
    assert value[2] == 12


# --- dates at the ends of the calendar ----------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("start", "0001-01-01T00:00:00+05:00"),  # 0000-12-31T19:00Z
    ("due", "9999-12-31"),  # ends at 10000-01-01T00:00Z
    ("due", "9999-12-31T23:59:59-05:00"),  # 10000-01-01T04:59:59Z
])
def test_instants_outside_years_1_to_9999_are_item_errors(tmp_path: Path, field: str,
                                                          value: str) -> None:
    result = evaluated(doc({"id": "o", field: value, "key_results": []}, GOOD), tmp_path)
    assert codes(result) == [("out_of_range", f"objectives[0].{field}")]
    assert list(result["objectives"]) == ["good"]


def test_the_first_and_last_instants_are_fine(tmp_path: Path) -> None:
    result = evaluated(doc({"id": "o", "start": "0001-01-01T00:00:00Z",
                            "due": "9999-12-31T23:59:59.999999Z",
                            "key_results": [{"id": "k", "kind": "binary", "done": False,
                                             "due": "9999-12-30"}]}), tmp_path)
    assert result["errors"] == []


def test_an_as_of_outside_the_calendar_is_a_document_error(tmp_path: Path) -> None:
    text = json.dumps(doc(GOOD, as_of="0001-01-01T00:00:00+00:01"))
    assert check_cli(tmp_path, text) is None


def test_expected_progress_beyond_2_53_microseconds_is_the_float_division() -> None:
    start = instant_us(parse_instant_utc("0001-01-01T00:00:00Z"))
    due = instant_us(parse_instant_utc("9999-12-31T00:00:00Z"))
    # an as_of where int / int (exactly rounded) and float / float differ
    as_of = next(a for a in range(start + 3 * 10**17, start + 3 * 10**17 + 10**6, 7)
                 if (a - start) / (due - start) != float(a - start) / float(due - start))
    assert expected_progress(as_of, start, due) == float(as_of - start) / float(due - start)


def parse_instant_utc(text: str) -> Any:
    from okrcore.interchange import parse_instant

    return parse_instant(text, "t")


def test_a_timeline_of_ten_thousand_years_agrees_on_every_path(tmp_path: Path) -> None:
    checkins = [{"at": "0001-01-01T00:00:00.000001Z", "value": 1},
                {"at": "4000-07-01T13:00:00.123457Z", "value": 2},
                {"at": "8000-01-01T00:00:00.999999Z", "value": 3.3}]
    result = evaluated(doc({
        "id": "o", "start": "0001-01-01", "due": "9999-12-30T23:59:59.999997Z",
        "key_results": [{"id": "k", "kind": "metric", "target": 10, "check_ins": checkins},
                        {"id": "k2", "kind": "metric", "target": 10, "current": 2}]},
        as_of="8888-08-08T08:08:08.080808Z"), tmp_path)
    assert result["errors"] == []
    assert result["key_results"]["k"]["forecast"] is not None


# --- nesting ------------------------------------------------------------------------------------


def test_json_nested_100000_deep_is_an_item_error(tmp_path: Path) -> None:
    text = hostile_text(doc(deep(100_000), GOOD))
    result = evaluated(text, tmp_path)
    assert codes(result) == [("wrong_type", "objectives[0]")]
    assert list(result["objectives"]) == ["good"]


def test_a_document_nested_100000_deep_is_a_document_error(tmp_path: Path) -> None:
    assert check_cli(tmp_path, deep(100_000).text) is None


def test_a_deep_value_in_an_unknown_field_does_not_reject_anything(tmp_path: Path) -> None:
    objective = {"id": "o", "zz": deep(2_000),
                 "key_results": [{"id": "k", "kind": "binary", "done": True, "x": deep(3_000)}]}
    result = evaluated(hostile_text({**doc(objective), "extra": deep(2_000)}), tmp_path)
    assert result["errors"] == []
    assert result["objectives"]["o"]["progress"] == 1.0


def test_parse_json_cuts_values_deeper_than_the_limit() -> None:
    value = parse_json(deep(MAX_DEPTH + 10).text)
    for _ in range(MAX_DEPTH):
        value = value[0] if isinstance(value, list) else value["x"]
    assert value == TOO_DEEP
    assert parse_json('{"a": "[[[[", "b": [1]}') == {"a": "[[[[", "b": [1]}  # strings skipped
    with pytest.raises(DocumentError):
        parse_json("[" * 100 + "]" * 99)


# --- overflowing arithmetic ---------------------------------------------------------------------


def test_two_weights_of_1e308_give_the_mean_not_zero(tmp_path: Path) -> None:
    result = evaluated(doc({"id": "o", "owner": "ann", "key_results": [
        {"id": "k1", "kind": "metric", "target": 10, "current": 5, "weight": 1e308},
        {"id": "k2", "kind": "metric", "target": 10, "current": 5, "weight": 1e308,
         "unit": "x"}]}), tmp_path)
    objective = result["objectives"]["o"]
    assert objective["progress"] == 0.5
    assert [i["share"] for i in objective["explanation"]["items"]] == [0.5, 0.5]
    assert result["people"]["ann"]["progress"] == 0.5


def test_children_weighted_near_1e308_roll_up(tmp_path: Path) -> None:
    kids = [{"id": f"c{i}", "parent": "top", "weight": 1.5e308,
             "key_results": [{"id": f"k{i}", "kind": "binary", "done": i == 0}]}
            for i in range(4)]
    result = evaluated(doc({"id": "top"}, *kids), tmp_path)
    assert result["objectives"]["top"]["progress"] == 0.25


def test_an_uncapped_mean_near_1e308_is_finite(tmp_path: Path) -> None:
    result = evaluated(doc({"id": "o", "owner": "ann", "mode": "mean", "key_results": [
        {"id": "k1", "kind": "metric", "target": 1, "current": 1.5e308, "owners": ["bob"]},
        {"id": "k2", "kind": "metric", "target": 1, "current": 1.7e308, "owners": ["bob"],
         "weight": 3}]}, policy={"cap": None}), tmp_path)
    assert result["objectives"]["o"]["progress"] == pytest.approx(1.65e308, rel=1e-15)
    assert result["people"]["bob"]["progress"] == pytest.approx(1.6e308, rel=1e-15)
    assert result["people"]["ann"]["progress"] == result["objectives"]["o"]["progress"]


def test_differences_that_overflow_are_taken_halved(tmp_path: Path) -> None:
    result = evaluated(doc({"id": "o", "key_results": [
        {"id": "k", "kind": "metric", "start": 1e308, "target": -1e308, "current": 0}]}),
        tmp_path)
    assert result["key_results"]["k"]["raw_progress"] == 0.5


def test_a_sum_beyond_floating_point_is_not_finite(tmp_path: Path) -> None:
    result = evaluated(doc({"id": "o", "key_results": [
        {"id": f"k{i}", "kind": "metric", "unit": "u", "target": 1e308, "current": 1e308}
        for i in range(2)]}, GOOD), tmp_path)
    assert codes(result) == [("not_finite", "objectives[0]")]


def test_an_uncapped_forecast_beyond_floating_point_is_none(tmp_path: Path) -> None:
    result = evaluated(doc({"id": "o", "start": "2026-01-01", "due": "2026-12-31",
                            "key_results": [
        {"id": "k", "kind": "metric", "target": 1e-300, "check_ins": [
            {"at": "2026-01-02", "value": 0}, {"at": "2026-01-03", "value": 1e6}]}]},
        policy={"cap": None}), tmp_path)
    assert result["key_results"]["k"]["progress"] == pytest.approx(1e306)
    # the line reaches about 3.6e8 at the due: 3.6e308 of the target is beyond a float
    assert result["key_results"]["k"]["forecast"] is None
    assert result["objectives"]["o"]["forecast"] is None


def test_a_share_that_is_not_finite_is_null(tmp_path: Path) -> None:
    result = evaluated(doc({"id": "o", "key_results": [
        {"id": "k1", "kind": "metric", "unit": "u", "target": 1e308, "current": 1e308},
        {"id": "k2", "kind": "metric", "unit": "u", "target": -1e308 + 1e293,
         "current": -1e308 + 1e292, "start": 0}]}), tmp_path)
    items = result["objectives"]["o"]["explanation"]["items"]
    assert all(i["share"] is None or math.isfinite(i["share"]) for i in items)


def test_rescaled_mean_is_the_plain_mean_where_that_is_finite() -> None:
    groups = [[(3.0, 0.25), (1.0, 1.0)], [(2.0, 0.5)]]
    plain = (3.0 * 0.25 + 1.0 * 1.0 + 2.0 * 0.5) / 6.0
    assert rescaled_mean(groups)[0] == plain
    assert rescaled_mean([[(1e308, 0.5), (1e308, 0.5)]])[0] == 0.5


# --- shapes -------------------------------------------------------------------------------------


def test_a_cycle_is_named_once(tmp_path: Path) -> None:
    n = 2_000
    result = evaluated(doc(*({"id": f"o{i}", "parent": f"o{(i + 1) % n}"} for i in range(n))),
                       tmp_path)
    cycle = [e for e in result["errors"] if e["code"] == "alignment_cycle"]
    assert len(cycle) == n
    first = cycle[0]
    assert first["path"] == "objectives[0].parent"
    assert first["message"] == ("alignment cycle of 2000 objectives: "
                                + " -> ".join([*(f"o{i}" for i in range(n)), "o0"]))
    assert cycle[1]["message"] == ("objective 'o1' is on the alignment cycle named at "
                                   "objectives[0].parent")
    assert sum(len(e["message"]) for e in cycle) < 100 * n  # was n * n * 6 bytes


def test_two_cycles_are_named_once_each_with_a_tail(tmp_path: Path) -> None:
    result = evaluated(doc({"id": "a", "parent": "b"}, {"id": "tail", "parent": "a"},
                           {"id": "b", "parent": "a"}, {"id": "x", "parent": "x"}), tmp_path)
    assert [(e["code"], e["path"], e["message"]) for e in result["errors"]] == [
        ("alignment_cycle", "objectives[0].parent", "alignment cycle of 2 objectives: "
         "a -> b -> a"),
        ("alignment_cycle", "objectives[2].parent", "objective 'b' is on the alignment cycle "
         "named at objectives[0].parent"),
        ("alignment_cycle", "objectives[3].parent", "alignment cycle of 1 objectives: x -> x"),
    ]
    assert list(result["objectives"]) == ["tail"]


def test_alignment_depths_of_a_long_chain_in_linear_time() -> None:
    n = 300_000  # a quadratic walk would take hours
    parents: list[int | None] = [None, *range(n - 1)]
    assert alignment_depths(parents, set()) == list(range(n))
    ring: list[int | None] = [1, 2, 0, 0, 3]
    assert alignment_depths(ring, {0, 1, 2}) == [0, 0, 0, 1, 2]


def test_a_long_chain_agrees_on_every_path(tmp_path: Path) -> None:
    n = 3_000
    text = json.dumps(doc(*({"id": f"o{i}", "parent": f"o{i - 1}" if i else None,
                             "include_children": True,
                             "key_results": [{"id": f"k{i}", "kind": "binary",
                                              "done": i % 2 == 0}] if i % 3 else []}
                            for i in range(n))))
    outputs = all_paths(text)
    assert outputs is not None and all(o == outputs[0] for o in outputs)


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(documents())
def test_hostile_documents_never_crash_and_agree(tmp_path_factory: pytest.TempPathFactory,
                                                 document: dict[str, Any]) -> None:
    text = hostile_text(document)
    outputs = all_paths(text)
    if outputs is not None:
        assert all(o == outputs[0] for o in outputs), "the engines differ"
    result = check_cli(tmp_path_factory.mktemp("cli"), text)
    assert (result is None) == (outputs is None)


@settings(max_examples=60, deadline=None)
@given(documents(max_objectives=3))
def test_hostile_documents_agree_on_every_path(document: dict[str, Any]) -> None:
    outputs = all_paths(hostile_text(document))
    if outputs is not None:
        assert all(o == outputs[0] for o in outputs), "the engines differ"


@settings(max_examples=60, deadline=None)
@given(forests())
def test_forests_at_the_edges_of_a_double_agree(forest: dict[str, Any]) -> None:
    outputs = all_paths(json.dumps(forest))
    assert outputs is not None and all(o == outputs[0] for o in outputs)


@settings(max_examples=15, deadline=None)
@given(shapes())
def test_deep_and_wide_shapes_agree(shape: dict[str, Any]) -> None:
    outputs = all_paths(json.dumps(shape))
    assert outputs is not None and all(o == outputs[0] for o in outputs)
    n = len(shape["objectives"]) + len(shape["objectives"][0]["key_results"])
    assert len(outputs[0]) < 2_000 * n  # output linear in the document


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 2_000), st.sampled_from(["[", "{\"a\":"]), st.booleans())
def test_any_nesting_is_read_or_refused_in_one_line(depth: int, opening: str,
                                                    closed: bool) -> None:
    closing = "]" if opening == "[" else "}"
    text = opening * depth + "1" + (closing * depth if closed else "")
    try:
        parse_json(text)
    except DocumentError as exc:
        assert "\n" not in str(exc)
    assert sys.getrecursionlimit() >= 1000
