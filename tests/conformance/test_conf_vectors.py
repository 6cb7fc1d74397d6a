"""The JSON vectors: schema-valid, lint-clean, reproduced by the reference, hand oracles hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from okrcore.conformance import REFERENCE
from okrcore.conformance._cases import AREAS, cases
from okrcore.conformance.compare import differences, project
from okrcore.conformance.runner import run_vector
from okrcore.conformance.vectors import (
    Vector,
    generate,
    lint,
    load_vectors,
    render,
    schema,
    vector_files,
    vectors_path,
)

VECTORS = load_vectors()


def test_one_file_per_area() -> None:
    assert [p.stem for p in vector_files()] == sorted(AREAS)
    assert vectors_path().is_dir()


@pytest.mark.parametrize("path", vector_files(), ids=lambda p: p.stem)
def test_vector_file_validates_against_its_schema(path: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(schema("vectors"))
    jsonschema.Draft202012Validator(schema("vectors")).validate(json.loads(path.read_text()))


def test_lint_finds_nothing_in_the_shipped_files() -> None:
    assert lint() == []


@pytest.mark.parametrize("path", vector_files(), ids=lambda p: p.stem)
def test_vector_file_is_what_the_reference_produces(path: Path) -> None:
    # The expected results are committed data; a change of behaviour shows up here.
    # Regenerate deliberately with: python -m okrcore.conformance._regenerate
    assert path.read_text() == render(generate(path.stem))


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.full_id)
def test_reference_passes_the_vector(vector: Vector) -> None:
    assert run_vector(vector, REFERENCE, REFERENCE.capabilities).status == "passed"
    assert differences(vector.expected, REFERENCE.evaluate(vector.document)) == []


def _at(expected: dict[str, Any], dotted: str) -> Any:
    section, ident, field = dotted.split(".", 2)
    return expected[section][ident][field]


ORACLES = [(area, case) for area in AREAS for case in cases(area) if case["oracle"]]


@pytest.mark.parametrize(("area", "case"), ORACLES, ids=lambda x: x if isinstance(x, str)
                         else x["id"])
def test_hand_checked_oracles_hold(area: str, case: dict[str, Any]) -> None:
    vector = next(v for v in VECTORS if v.full_id == f"{area}/{case['id']}")
    for dotted, want in case["oracle"].items():
        got = _at(dict(vector.expected), dotted)
        if isinstance(want, float) and isinstance(got, float):
            assert got == pytest.approx(want, rel=1e-12), dotted
        else:
            assert got == want, dotted


def test_oracles_cover_the_worked_examples() -> None:
    ids = {f"{a}/{c['id']}" for a, c in ORACLES}
    for worked in ("reductions/call-time-worked-example", "milestones/crm-three-of-five",
                   "rollups/fixed-target", "rollups/auto-target", "rollups/explicit-mean",
                   "rollups/auto-target-follows", "alignment/include-children-sum",
                   "metrics/expected-mid-quarter", "metrics/pace-tolerance",
                   "ranges/deals-16_5-graded", "pace_presets/upraise-e8-p6"):
        assert worked in ids


def test_errors_cases_report_their_codes() -> None:
    codes = {e["code"] for v in VECTORS if v.area == "errors" for e in v.expected["errors"]}
    assert {"negative_weight", "degenerate_metric", "not_a_number", "unknown_parent",
            "alignment_cycle", "duplicate_id", "conflicting_current",
            "depends_on_invalid"} <= codes


def test_lint_reports_broken_files(tmp_path: Path) -> None:
    data = json.loads((vectors_path() / "binary.json").read_text())
    data["cases"].append(dict(data["cases"][0]))  # duplicate id
    data["cases"][1] = {**data["cases"][1], "spec": "99.9", "capabilities": ["binary"]}
    data["cases"][0] = {**data["cases"][0], "document": {"okrcore": 2}}
    del data["description"]
    broken = tmp_path / "binary.json"
    broken.write_text(json.dumps(data))
    problems = "\n".join(lint([broken]))
    assert "'description' is a required property" in problems
    assert "duplicate id binary/done" in problems
    assert "spec section '99.9'" in problems
    assert "capabilities must include 'metrics'" in problems
    assert "cases[0] (done): document:" in problems
    renamed = tmp_path / "other.json"
    renamed.write_text((vectors_path() / "binary.json").read_text())
    assert any("does not match the file name" in p for p in lint([renamed]))


def test_projection_keeps_people_and_errors_only_with_their_capability() -> None:
    result = REFERENCE.evaluate(VECTORS[0].document)
    assert set(project(result, {"metrics"})) == {"objectives", "key_results"}
    assert set(project(result)) == {"objectives", "key_results", "people", "errors", "warnings"}
