"""The interchange document (§9): the shipped JSON Schemas, the §9 example, load/dump."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings

import okrcore
from okrcore import Document
from strategies import documents

SECTION_9: dict[str, Any] = {
    "okrcore": 1,
    "as_of": "2026-02-15T00:00:00Z",
    "policy": {"preset": "betterworks"},
    "objectives": [
        {"id": "o1", "owner": "ann", "parent": None, "weight": 1,
         "start": "2026-01-01", "due": "2026-03-31", "mode": "auto",
         "ambition": "committed", "status": None, "include_children": False,
         "progress_settings": {"unit": "USD", "target": 800000, "auto": False, "start": None},
         "key_results": [
             {"id": "k1", "kind": "metric", "owners": ["bob"], "unit": "USD",
              "start": 0, "target": 250000, "current": 200000, "weight": 1},
             {"id": "k2", "kind": "metric", "unit": "deals", "target": 12,
              "range": {"red_low": 8, "yellow_low": 10, "yellow_high": 15, "red_high": 18,
                        "mode": "band"},
              "check_ins": [{"at": "2026-01-10T09:00:00Z", "value": 11}]},
             {"id": "k3", "kind": "binary", "done": True},
             {"id": "k4", "kind": "milestone", "stages_total": 5, "stages_done": 3,
              "due": "2026-02-28"},
         ]},
    ],
}
"""The example document of SEMANTICS.md §9, verbatim."""


def validator(name: str) -> Any:
    """A validator for the shipped schema ``name``, after checking the schema itself."""
    schema = okrcore.schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid(name: str, instance: Any) -> None:
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def assert_invalid(name: str, instance: Any) -> None:
    assert not validator(name).is_valid(instance)


@pytest.fixture(scope="module")
def section_9_result() -> dict[str, Any]:
    result = okrcore.evaluate_document(copy.deepcopy(SECTION_9))
    json.dumps(result, allow_nan=False)
    return result


# --------------------------------------------------------------------------------------------
# schemas
# --------------------------------------------------------------------------------------------


def test_schemas_are_json_schemas() -> None:
    for name in ("document", "result"):
        schema = okrcore.schema(name)
        assert isinstance(schema, dict)
        jsonschema.validators.validator_for(schema).check_schema(schema)
    assert okrcore.schema() == okrcore.schema("document")
    with pytest.raises(ValueError, match="schema"):
        okrcore.schema("nope")


def test_document_schema_accepts_section_9_example() -> None:
    assert_valid("document", SECTION_9)


def test_result_schema_accepts_section_9_result(section_9_result: dict[str, Any]) -> None:
    assert_valid("result", section_9_result)


def test_result_schema_accepts_errors_and_nulls() -> None:
    doc = {
        "okrcore": 1, "as_of": "2026-02-15",
        "objectives": [
            {"id": "empty", "owner": "ann"},
            {"id": "bad", "key_results": [{"id": "k", "kind": "metric", "target": "12k"}]},
            {"id": "loop", "parent": "loop"},
            {"id": "ok", "status": "behind",
             "key_results": [{"id": "b", "kind": "binary", "done": False, "weight": 0}]},
        ],
    }
    result = okrcore.evaluate_document(doc)
    assert result["objectives"]["empty"]["progress"] is None
    assert result["objectives"]["ok"]["progress"] is None
    assert {e["code"] for e in result["errors"]} >= {"not_a_number", "alignment_cycle"}
    assert_invalid("document", doc)  # "12k" is not a number
    assert_valid("result", result)


def test_schemas_reject_what_is_not_a_document() -> None:
    assert_invalid("document", [])
    assert_invalid("result", [])
    assert_invalid("document", {**SECTION_9, "okrcore": 2})
    without_as_of = {k: v for k, v in SECTION_9.items() if k != "as_of"}
    assert_invalid("document", without_as_of)


@settings(max_examples=60)
@given(doc=documents())
def test_schemas_accept_generated_documents_and_results(doc: Document) -> None:
    assert_valid("document", doc.to_dict())
    assert_valid("result", okrcore.evaluate(doc).to_json())


# --------------------------------------------------------------------------------------------
# the §9 example, by hand
# --------------------------------------------------------------------------------------------


def test_section_9_objective(section_9_result: dict[str, Any]) -> None:
    assert section_9_result["errors"] == []
    o1 = section_9_result["objectives"]["o1"]
    # the goal sums USD only: k1's 200,000 against the fixed 800,000
    assert o1["progress"] == 0.25
    assert o1["raw_progress"] == 0.25
    assert o1["mode"] == "sum"
    # 2026-01-01T00:00Z .. 2026-04-01T00:00Z (end of 2026-03-31) is 90 days; 45 have passed
    assert o1["expected"] == 0.5
    # 0.25 <= 0.5 * 0.5: red
    assert o1["colour"] == "red"
    assert o1["computed_colour"] == "red"
    assert o1["manual_status"] is None
    expl = o1["explanation"]
    assert expl["rule"] == "auto:progress_settings"
    assert (expl["unit"], expl["target"], expl["start"], expl["value"]) == (
        "USD", 800000, 0, 200000)
    assert expl["colour_rule"]["source"] == "pace"
    assert expl["colour_rule"]["threshold"] == 0.5
    # k2, its only KR with a history, is complete and so never stale (D14b)
    assert o1["stale"] is False
    assert o1["forecast"] is None  # no KR has two check-ins
    assert o1["grade"] == {"score": 0.3, "band": "red", "success": False}


def test_section_9_key_results(section_9_result: dict[str, Any]) -> None:
    krs = section_9_result["key_results"]
    assert set(krs) == {"k1", "k2", "k3", "k4"}
    k1, k2, k3, k4 = krs["k1"], krs["k2"], krs["k3"], krs["k4"]
    assert (k1["progress"], k1["raw_progress"], k1["current"]) == (0.8, 0.8, 200000)
    assert k1["owners"] == ["bob"]
    assert k1["contributes"] is True
    assert k1["colour"] == "green"  # 0.8 >= 0.5
    # k2: the check-in of 2026-01-10 gives 11, strictly inside the yellow limits: band 1
    assert k2["current"] == 11
    assert (k2["progress"], k2["range_status"], k2["colour"]) == (1.0, "green", "green")
    assert k2["contributes"] is False  # "deals" is not the goal's unit
    assert k2["owners"] == ["ann"]  # defaults to the objective's owner
    assert k2["last_check_in"] == "2026-01-10T09:00:00Z"
    # last check-in more than 7 days old, but band progress 1: complete, never stale (D14b)
    assert k2["stale"] is False
    assert k2["trend"] == "progressed"  # from the start 0 (band progress 0) to 11 (1)
    assert (k3["progress"], k3["current"], k3["kind"]) == (1.0, True, "binary")
    assert k3["stale"] is None  # no history
    # k4: 3 of 5 stages; its own due 2026-02-28 (end of day = 2026-03-01T00:00Z): 45 of 59 days
    assert (k4["progress"], k4["current"]) == (0.6, 3)
    assert k4["expected"] == 45 / 59
    assert k4["colour"] == "green"  # 0.6 > 0.75 * 45 / 59
    assert k4["grade"] == {"score": 0.6, "band": "yellow", "success": False}
    for kr in krs.values():
        assert kr["objective"] == "o1"


def test_section_9_people(section_9_result: dict[str, Any]) -> None:
    people = section_9_result["people"]
    assert set(people) == {"ann", "bob"}
    assert people["ann"] == {"progress": 0.25,
                             "items": [{"type": "objective", "id": "o1", "progress": 0.25}]}
    assert people["bob"] == {"progress": 0.8,
                             "items": [{"type": "key_result", "id": "k1", "progress": 0.8}]}


def test_section_9_result_has_the_named_fields(section_9_result: dict[str, Any]) -> None:
    assert set(section_9_result) >= {"objectives", "key_results", "people", "errors"}
    for o in section_9_result["objectives"].values():
        assert set(o) >= {"progress", "raw_progress", "expected", "colour", "computed_colour",
                          "mode"}
        assert o["mode"] in ("mean", "sum")
        assert o["colour"] in ("green", "yellow", "red")
    for kr in section_9_result["key_results"].values():
        assert set(kr) >= {"progress", "raw_progress", "colour", "current"}
    for person in section_9_result["people"].values():
        assert set(person) >= {"progress", "items"}


def test_null_progress_is_json_null() -> None:
    result = okrcore.evaluate_document({"okrcore": 1, "as_of": "2026-02-15T00:00:00Z",
                                        "objectives": [{"id": "o", "owner": "ann"}]})
    text = json.dumps(result, allow_nan=False)
    assert json.loads(text)["objectives"]["o"]["progress"] is None
    assert '"progress": null' in text
    assert result["people"]["ann"]["progress"] is None


def test_section_9_through_text_and_model() -> None:
    text = json.dumps(SECTION_9)
    doc = okrcore.loads(text)
    assert okrcore.evaluate(doc).to_json() == okrcore.evaluate_document(SECTION_9)
    # date-only start / due are read as instants
    objective = doc.objectives[0]
    assert isinstance(objective, okrcore.Objective)
    assert objective.start is not None
    assert objective.due is not None
    assert objective.start.isoformat() == "2026-01-01T00:00:00+00:00"
    assert objective.due.isoformat() == "2026-04-01T00:00:00+00:00"
    assert okrcore.Document.from_dict(doc.to_dict()) == doc


# --------------------------------------------------------------------------------------------
# reading and writing
# --------------------------------------------------------------------------------------------


def test_unknown_item_fields_are_ignored() -> None:
    # D20: new optional fields may be added to objectives and key results; since §11.3 each
    # unknown field is reported as a warning, and is otherwise ignored
    doc = copy.deepcopy(SECTION_9)
    doc["objectives"][0]["colour_hint"] = "blue"
    doc["objectives"][0]["key_results"][0]["notes"] = {"any": ["thing"]}
    result = okrcore.evaluate_document(doc)
    assert result["warnings"] == [
        {"code": "unknown_field", "path": "objectives[0].colour_hint",
         "message": "unknown field 'colour_hint' is ignored"},
        {"code": "unknown_field", "path": "objectives[0].key_results[0].notes",
         "message": "unknown field 'notes' is ignored"},
    ]
    assert {**result, "warnings": []} == okrcore.evaluate_document(SECTION_9)


def test_policy_defaults_when_absent() -> None:
    doc = {k: v for k, v in SECTION_9.items() if k != "policy"}
    assert okrcore.evaluate_document(doc) == okrcore.evaluate_document(SECTION_9)


def test_dump_spells_out_policy_and_writes_utc() -> None:
    doc = okrcore.loads(json.dumps({**SECTION_9, "as_of": "2026-02-15T01:00:00+01:00",
                                    "policy": {"preset": "viva", "cap": None}}))
    data = doc.to_dict()
    assert data["okrcore"] == 1
    assert data["as_of"] == "2026-02-15T00:00:00Z"
    assert data["policy"]["preset"] == "viva"
    assert data["policy"]["cap"] is None
    assert data["policy"]["pace"] == {"rule": "points", "yellow": 0.0, "red": 25.0,
                                      "boundary": "worse"}
    assert set(data["policy"]) >= {"preset", "cap", "pace", "aspirational_success",
                                   "stale_days", "strict_breakpoints"}


def test_dump_refuses_invalid_items() -> None:
    doc = okrcore.Document.from_dict({"okrcore": 1, "as_of": "2026-02-15",
                        "objectives": [{"id": "o", "key_results": [
                            {"id": "k", "kind": "metric", "target": True}]}]})
    with pytest.raises(ValueError, match="invalid"):
        doc.to_dict()
