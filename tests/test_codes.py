"""Every code is defined once (okrcore.codes) and every JSON Schema enum agrees with it (issue 18).

The schemas are hand-written JSON (they are documentation too), so instead of generating them
this test walks every ``*.schema.json`` of the package, finds every ``enum`` and ``const``, and
compares each with the vocabulary it must equal: a schema enum that is not in :data:`EXPECTED`
fails as well, so a new enum cannot be added without naming its source.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import okrcore.batch.engine as G
import okrcore.batch.frame as frame
from okrcore import codes as C
from okrcore import errors as E
from okrcore import model, policy
from okrcore.conformance.capabilities import CAPABILITIES
from okrcore.conformance.protocol import PROTOCOL_VERSION
from okrcore.interchange import FORMAT_VERSION
from okrcore.kinds import KINDS, by_code

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "okrcore"
SCHEMAS = sorted(SRC.rglob("*.schema.json"))

_COLOURS = list(C.COLOUR_NAMES)
_NULLABLE_COLOURS = [*C.COLOUR_NAMES, None]
_RESULT_MODES = [name for name, code in C.MODE_CODES.items() if code != C.MODE_AUTO]
_KR = "result-v1.schema.json:/properties/key_results/additionalProperties/properties"
_OBJ = "result-v1.schema.json:/properties/objectives/additionalProperties/properties"
_DOC = "document-v1.schema.json:/$defs"

EXPECTED: dict[str, Any] = {
    # the interchange document
    "document-v1.schema.json:/properties/okrcore/const": FORMAT_VERSION,
    f"{_DOC}/policy/properties/preset/enum": list(policy.PRESETS),
    f"{_DOC}/policy/properties/pace/properties/rule/enum": list(C.PACE_RULE_CODES),
    f"{_DOC}/policy/properties/pace/properties/boundary/enum": list(C.PACE_BOUNDARY_CODES),
    f"{_DOC}/range/properties/mode/enum": list(C.RANGE_MODE_CODES),
    **{f"{_DOC}/{name}/properties/kind/const": name for name in KINDS},
    f"{_DOC}/objective/properties/mode/enum": list(C.MODE_CODES),
    f"{_DOC}/objective/properties/ambition/enum": list(C.AMBITION_CODES),
    f"{_DOC}/objective/properties/status/enum": [*C.STATUS_CODES, None],
    # the result document
    "result-v1.schema.json:/properties/okrcore/const": FORMAT_VERSION,
    f"{_OBJ}/colour/enum": _NULLABLE_COLOURS,
    f"{_OBJ}/computed_colour/enum": _NULLABLE_COLOURS,
    f"{_OBJ}/manual_status/enum": [*C.STATUS_CODES, None],
    f"{_OBJ}/mode/enum": _RESULT_MODES,
    f"{_OBJ}/trend/enum": [*C.TREND_NAMES, None],
    f"{_OBJ}/forecast/oneOf[1]/properties/colour/enum": _COLOURS,
    f"{_OBJ}/grade/oneOf[1]/properties/band/enum": _COLOURS,
    f"{_OBJ}/explanation/properties/mode/enum": _RESULT_MODES,
    f"{_OBJ}/explanation/properties/rule/enum": list(C.RULE_NAMES),
    f"{_OBJ}/explanation/properties/items/items/properties/type/enum":
        ["key_result", "objective", "sum"],
    f"{_OBJ}/explanation/properties/target_rule/enum": ["fixed", "auto", None],
    f"{_KR}/kind/enum": list(KINDS),
    f"{_KR}/colour/enum": _NULLABLE_COLOURS,
    f"{_KR}/pace_colour/enum": _NULLABLE_COLOURS,
    f"{_KR}/pace_reason/enum": [*C.PACE_REASONS, "no_timeline", "not_due", "overdue"],
    f"{_KR}/range_status/enum": _NULLABLE_COLOURS,
    f"{_KR}/trend/enum": [*C.TREND_NAMES, None],
    f"{_KR}/forecast/oneOf[1]/properties/colour/enum": _COLOURS,
    f"{_KR}/grade/properties/band/enum": _COLOURS,
    "result-v1.schema.json:/properties/people/additionalProperties/properties/items/items/"
    "properties/type/enum": ["objective", "key_result"],
    "result-v1.schema.json:/properties/warnings/items/properties/code/enum":
        sorted(E.WARNING_CODES),
    # the conformance protocol and vector files
    "protocol-v1.schema.json:/$defs/start/properties/protocol/const": PROTOCOL_VERSION,
    "protocol-v1.schema.json:/$defs/started/properties/protocol/const": PROTOCOL_VERSION,
    "protocol-v1.schema.json:/$defs/started/properties/capabilities/items/enum":
        list(CAPABILITIES),
    "protocol-v1.schema.json:/$defs/started/properties/capabilities/contains/const": "metrics",
    **{f"protocol-v1.schema.json:/$defs/{cmd}/properties/cmd/const": cmd
       for cmd in ("start", "evaluate", "stop")},
    **{f"protocol-v1.schema.json:/$defs/{kind}/properties/type/const": kind
       for kind in ("started", "result", "skipped", "errored", "stopped")},
    "vectors-v1.schema.json:/$defs/colour/enum": _NULLABLE_COLOURS,
    "vectors-v1.schema.json:/$defs/expected/properties/objectives/additionalProperties/"
    "properties/mode/enum": _RESULT_MODES,
    "vectors-v1.schema.json:/$defs/expected/properties/warnings/items/properties/code/enum":
        sorted(E.WARNING_CODES),
}
"""Every enum and const of every schema of the package, by ``file:/json/pointer``, with the
vocabulary it must equal (from okrcore.codes, the kinds registry or the module defining it)."""


def _walk(node: Any, pointer: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("enum", "const"):
                yield f"{pointer}/{key}", value
            yield from _walk(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{pointer}[{i}]")


def _schema_enums() -> dict[str, Any]:
    return {f"{path.name}:{pointer}": value for path in SCHEMAS
            for pointer, value in _walk(json.loads(path.read_text()), "")}


def test_every_schema_enum_equals_its_source() -> None:
    found = _schema_enums()
    assert SCHEMAS and len(found) >= 40
    assert sorted(set(found) - set(EXPECTED)) == [], "schema enums with no source in the test"
    assert sorted(set(EXPECTED) - set(found)) == [], "sources whose schema enum is gone"
    wrong = {where: (value, EXPECTED[where]) for where, value in found.items()
             if value != EXPECTED[where]}
    assert wrong == {}


def test_the_key_result_schema_lists_every_kind_with_its_fields() -> None:
    defs = json.loads((SRC / "schemas" / "document-v1.schema.json").read_text())["$defs"]
    assert [ref["$ref"] for ref in defs["key_result"]["oneOf"]] == [
        f"#/$defs/{name}" for name in KINDS]
    common = {"id", "kind", "weight", "owners", "due", "name"}
    for name, kind in KINDS.items():
        assert set(defs[name]["properties"]) == common | set(kind.fields), name


def test_the_model_vocabularies_are_the_codes_names() -> None:
    assert tuple(C.MODE_CODES) == model.MODES
    assert tuple(C.RANGE_MODE_CODES) == model.RANGE_MODES
    assert tuple(C.AMBITION_CODES) == model.AMBITIONS
    assert tuple(C.STATUS_CODES) == model.MANUAL_STATUSES
    assert tuple(C.PACE_RULE_CODES) == policy.PACE_RULES
    assert tuple(C.PACE_BOUNDARY_CODES) == policy.PACE_BOUNDARIES
    assert ("metric", *(f"range:{m}" for m in C.RANGE_MODE_CODES)) == C.RANGE_RULE_NAMES
    assert [C.RANGE_MODE_CODES[m] for m in model.RANGE_MODES] == [
        C.RANGE_BAND, C.RANGE_GRADED, C.RANGE_LINEAR]
    assert C.RANGE_NONE not in C.RANGE_MODE_CODES.values()
    assert C.STATUS_NONE not in C.STATUS_CODES.values()
    assert len(C.RULE_NAMES) == C.RULE_EMPTY + 1
    assert C.COLOUR_NAMES[C.COLOUR_RED] == "red" and C.TREND_NAMES[C.TREND_REGRESSED] == "regressed"


def test_the_scalar_references_names_are_the_codes_names() -> None:
    # formulas and evaluate stay the independent reference; their names index the same codes
    from okrcore import formulas
    from okrcore.evaluate import RULE_REASONS

    assert formulas.COLOURS == C.COLOUR_NAMES == formulas.GRADE_BANDS
    assert formulas.TRENDS == C.TREND_NAMES
    assert list(RULE_REASONS) == list(C.RULE_NAMES[1:])  # "explicit" is worded by its mode


def test_every_kind_code_names_its_registered_kind() -> None:
    kind_codes = sorted(v for k, v in vars(C).items() if k.startswith("KIND_") and
                        isinstance(v, int))
    assert kind_codes == list(range(len(C.KIND_NAMES)))
    for code in kind_codes:
        assert by_code(code).name == C.KIND_NAMES[code]
    assert sorted(c for kind in KINDS.values() for c in kind.codes) == kind_codes


@pytest.mark.parametrize("prefix", ["KIND_", "COLOUR_", "TREND_", "ERR_", "RULE_", "MODE_",
                                    "RANGE_", "STATUS_", "STALE_", "LOAD_", "AMBITION_"])
def test_codes_of_one_family_are_distinct(prefix: str) -> None:
    values = {k: v for k, v in vars(C).items() if k.startswith(prefix) and isinstance(v, int)
              and not isinstance(v, bool)}
    if prefix == "KIND_":  # the frame codes; KIND_NAMES names them
        assert len(values) == len(C.KIND_NAMES)
    assert len(set(values.values())) == len(values), values


def test_old_names_are_the_codes_objects() -> None:
    for name in ("KIND_METRIC", "KIND_STAGED", "MODE_CODES", "RANGE_MODE_CODES", "STATUS_CODES",
                 "AMBITION_CODES", "NONE_INSTANT"):
        assert getattr(frame, name) is getattr(C, name)
    for name in ("COLOUR_RED", "TREND_STALLED", "ERR_LOAD", "RULE_MIXED", "KIND_BINARY"):
        assert getattr(G, name) is getattr(C, name)


def test_the_numba_kernels_pace_rule_codes_are_the_codes() -> None:
    # batch/_numba.py (helper H1's module in issue 18) still spells them out; equal until it
    # imports them from okrcore.codes
    from okrcore.batch import _numba

    assert _numba.PACE_RULE_CODES == C.PACE_RULE_CODES
    assert getattr(_numba, "_BETTER", C.PACE_BETTER) == C.PACE_BETTER


# --- no code defined twice --------------------------------------------------------------------

_CODE_NAME = ("KIND_", "COLOUR_", "TREND_", "ERR_", "RULE_", "RANGE_NONE", "RANGE_BAND",
              "RANGE_GRADED", "RANGE_LINEAR", "STATUS_", "STALE_", "LOAD_", "AMBITION_",
              "MODE_AUTO", "MODE_MEAN", "MODE_SUM", "PACE_", "CODE_", "UNKNOWN_CODE")
PENDING: dict[str, set[str]] = {}
"""Module-level copies of codes still waiting to be switched, by file under src/okrcore (or
under adapters/ for an adapter package)."""


def _is_int(node: ast.expr | None) -> bool:
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def _assigned_codes(path: Path) -> set[str]:
    """Module-level names assigned an int or a name->int dict that look like codes, and every
    module-level dict keyed by integers (a table of names by code)."""
    out = set()
    for node in ast.parse(path.read_text()).body:
        target = value = None
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, value = node.target.id, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        if target is None or value is None:
            continue
        bare = target.lstrip("_")
        values = value.values if isinstance(value, ast.Dict) else [value]
        literal = bool(values) and all(_is_int(v) for v in values)
        if literal and (bare.startswith(_CODE_NAME) or bare.endswith("_CODES")):
            out.add(target)
        if isinstance(value, ast.Dict) and value.keys and all(_is_int(k) for k in value.keys):
            out.add(target)  # a code -> name table
    return out


def test_no_code_is_defined_outside_okrcore_codes() -> None:
    found: dict[str, set[str]] = {}
    roots = [SRC, *sorted((ROOT / "adapters").glob("*/okrcore_*"))]
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            where = str(path.relative_to(SRC if root == SRC else root.parent))
            if where == "codes.py":
                continue
            names = _assigned_codes(path) - PENDING.get(where, set())
            if names:
                found[where] = names
    assert found == {}, "define these codes in okrcore/codes.py and import them"
    assert _assigned_codes(SRC / "codes.py") >= {"KIND_METRIC", "PACE_RULE_CODES", "ERR_NONE"}


def test_stored_names_of_the_coded_result_columns() -> None:
    """Issue 19: every coded result column has one name per code, defined once."""
    errors = {name[4:].lower(): getattr(C, name) for name in dir(C)
              if name.startswith("ERR_")}
    assert {name: C.ERROR_NAMES.index(name) for name in errors} == errors
    assert len(C.ERROR_NAMES) == len(errors)
    assert {n: C.MODE_NAMES.index(n) for n in C.MODE_NAMES} == dict(C.MODE_CODES)
    assert C.STALE_NAMES[C.STALE_NO] == "fresh" and C.STALE_NAMES[C.STALE_YES] == "stale"
    # every integer result column that holds a code (not a count or a row number) has a table
    from okrcore.rows import RESULT_COLUMNS

    ints = {name for prefix in ("kr", "obj") for name, kind in RESULT_COLUMNS[prefix]
            if kind == "int"}
    assert set(C.RESULT_CODE_NAMES) == ints - {"error_ref", "last_at", "sum_unit", "parent"}
    for column, table in C.RESULT_CODE_NAMES.items():
        assert len(set(table.values())) == len(table), column  # one name per code
        assert all(len(name) <= 32 for name in table.values()), column
    assert C.COLOUR_NONE not in C.RESULT_CODE_NAMES["colour"]
    assert C.TREND_NONE not in C.RESULT_CODE_NAMES["trend"]
    assert C.ERR_NONE not in C.RESULT_CODE_NAMES["error"]
