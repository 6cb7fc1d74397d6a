"""The kinds registry (okrcore.kinds) and the page that lists the steps to add a kind (issue 18).

``docs/contributing-kinds.rst`` names the files and the hooks a new kind needs; these tests keep
that list true in both directions: what it names exists and every kind provides it, and every
module that still names a particular kind is on the page.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import attrs
import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import okrcore
from okrcore import codes as C
from okrcore import kinds, model, rows
from okrcore.batch import OrgFrame
from okrcore.conformance import strategies as S
from okrcore.interchange import document_from_dict, document_to_dict
from okrcore.kinds import HOOKS, KINDS, Kind

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "contributing-kinds.rst"
_ATTRIBUTES = ("name", "model", "code", "codes", "rules", "totals", "done_or_not", "uses_start",
               "capability", "fields")
_DEFAULT_HOOKS = ("child_rows", "columns")
"""Hooks with a default that does nothing (a kind without child rows or frame refinements)."""


def _page() -> str:
    return PAGE.read_text()


def _named_files(text: str) -> set[str]:
    return set(re.findall(r"``((?:src|adapters|docs|tests)/[\w./<>-]+)``", text))


def test_every_file_the_page_names_exists() -> None:
    named = _named_files(_page())
    assert "src/okrcore/kinds/<name>.py" in named and len(named) >= 15
    missing = []
    for path in sorted(named):
        for name in KINDS if "<name>" in path else [""]:
            concrete = path.replace("<name>", name)
            if not (ROOT / concrete).exists():
                missing.append(concrete)
    assert missing == []


def test_the_page_names_every_hook_and_attribute_and_nothing_else() -> None:
    named = set(re.findall(r"``Kind\.(\w+)``", _page()))
    assert named == set(HOOKS) | set(_ATTRIBUTES)


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_is_one_module_providing_every_hook(name: str) -> None:
    kind = KINDS[name]
    module = importlib.import_module(f"okrcore.kinds.{name}")
    assert module.KIND is kind and kind.name == name
    assert kind.model.kind == name
    assert kind.code in kind.codes and kinds.by_code(kind.code) is kind
    for attribute in _ATTRIBUTES:
        assert hasattr(kind, attribute), attribute
    for hook in HOOKS:
        assert callable(getattr(kind, hook)), hook
        if hook not in _DEFAULT_HOOKS:
            assert getattr(type(kind), hook) is not getattr(Kind, hook), f"{name} lacks {hook}"
    assert set(kind.rules) <= set(kind.codes)
    assert kind.totals <= set(kind.codes) and kind.done_or_not <= set(kind.codes)


def test_the_registry_is_the_models_kinds() -> None:
    assert [k.model for k in KINDS.values()] == list(model._KEY_RESULT_TYPES)
    assert set(model.KeyResult.__args__) == set(model._KEY_RESULT_TYPES)
    assert all(getattr(okrcore, k.model.__name__) is k.model for k in KINDS.values())


def test_register_refuses_a_taken_name_model_or_code() -> None:
    with pytest.raises(ValueError, match="cannot register"):
        kinds.register(KINDS["binary"])

    class Clash(type(KINDS["metric"])):  # type: ignore[misc]  # complete: every hook
        name = "clash"
        model = type("Clash", (), {})
        code = C.KIND_METRIC
        codes = (C.KIND_METRIC,)

    with pytest.raises(ValueError, match="cannot register"):
        kinds.register(Clash())
    assert "clash" not in KINDS


# --- every module that names a particular kind is on the page ----------------------------------

_KIND_NAMES = {"KIND_METRIC", "KIND_BINARY", "KIND_MILESTONE", "KIND_STAGED", "KIND_CHECKPOINTS",
               "Metric", "Binary", "Milestone"}


def _names_a_kind(path: Path) -> bool:
    """Whether code (not imports, not docstrings) names a particular kind."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Name) and node.id in _KIND_NAMES:
            return True
        if isinstance(node, ast.Attribute) and node.attr in _KIND_NAMES:
            return True
        constants = ([node.left, *node.comparators] if isinstance(node, ast.Compare)
                     else node.keys if isinstance(node, ast.Dict) else [])
        if any(isinstance(c, ast.Constant) and c.value in KINDS for c in constants):
            return True
    return False


def test_every_module_naming_a_kind_is_on_the_page() -> None:
    listed = _named_files(_page())
    own = {"src/okrcore/codes.py", "src/okrcore/model.py", "src/okrcore/__init__.py"}
    found = []
    for root in [ROOT / "src" / "okrcore", *sorted((ROOT / "adapters").glob("*/okrcore_*"))]:
        for path in sorted(root.rglob("*.py")):
            where = str(path.relative_to(ROOT))
            if where.startswith("src/okrcore/kinds/") or where in own or "migrations" in where:
                continue
            if _names_a_kind(path) and where not in listed:
                found.append(where)
    assert found == [], "name these modules on docs/contributing-kinds.rst (or use the registry)"


# --- the hooks agree with each other -----------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_interchange_rows_and_frame_hooks_agree(data: st.DataObject) -> None:
    kr = data.draw(S.key_results())
    kind = kinds.kind_of(kr)
    # interchange: dump, then load through the loader, gives the key result back
    document = okrcore.Document(as_of=_AS_OF,
                                objectives=[okrcore.Objective(id="o", key_results=[kr])])
    assert document_from_dict(document_to_dict(document)) == document
    # rows: to_row / child_rows, then from_row through the mapping, gives the same rows back
    # (check-ins come back in time order, as UTC instants)
    tables = rows.document_rows(document)
    again = rows.document_rows(rows.document_from_rows(tables, _AS_OF))
    for table in ("key_results", "checkpoints", "kr_owners"):
        assert again[table] == tables[table], table
    assert [(r["at"], r["value"]) for r in again["check_ins"]] == sorted(
        ((r["at"], r["value"]) for r in tables["check_ins"]), key=lambda pair: pair[0])
    # frame: the columns read back from rows equal the encoding of the document
    by_doc = OrgFrame.from_document(document)
    by_rows = _frame_of(tables)
    encoded = kind.encode(kr, lambda unit: 0 if unit else -1)
    assert int(by_doc.kr_kind[0]) == encoded.kind == int(by_rows.kr_kind[0])
    assert encoded.kind in kind.codes
    for column in ("kr_kind", "kr_start", "kr_target", "kr_current", "kr_range_mode",
                   "kr_red_low", "kr_yellow_low", "kr_yellow_high", "kr_red_high"):
        assert np.array_equal(getattr(by_doc, column), getattr(by_rows, column),
                              equal_nan=True), column


_AS_OF = okrcore.loads('{"okrcore": 1, "as_of": "2026-02-15"}').as_of


def _frame_of(tables: dict[str, list[dict[str, Any]]]) -> OrgFrame:
    def columns(table: str, names: tuple[str, ...]) -> dict[str, list[Any]]:
        return {n: [r[n] for r in tables[table]] for n in names}

    return rows.frame_from_columns(
        columns("objectives", rows.OBJECTIVE_COLUMNS), columns("key_results",
                                                                 rows.KEY_RESULT_COLUMNS),
        columns("check_ins", rows.CHECK_IN_COLUMNS), columns("kr_owners", rows.OWNER_COLUMNS),
        columns("checkpoints", rows.CHECKPOINT_COLUMNS))


def test_an_unknown_stored_kind_names_every_registered_kind() -> None:
    row = dict.fromkeys(rows.KEY_RESULT_COLUMNS)
    row.update(id="k", kind="percent")
    with pytest.raises(okrcore.OkrValueError, match="kind must be metric, binary or milestone"):
        rows.key_result_from_row(row)


def test_the_sql_has_one_branch_per_frame_encoding() -> None:
    sql = rows.kr_progress_sql("kr", "ci", "cp")
    assert sum(len(k.sql(_parts())) for k in KINDS.values()) == len(C.KIND_NAMES)
    for name in KINDS:
        assert f"WHEN \"kr\".\"kind\" = '{name}'" in sql


def _parts() -> kinds.SqlParts:
    return kinds.SqlParts(lambda name: name, "v", "d", "p", "pd", False)


def test_the_placeholder_row_is_a_fresh_metric_row() -> None:
    first, second = kinds.placeholder(), kinds.placeholder()
    assert first is not second
    assert (first.kind, first.target, first.start, first.range_mode) == (
        C.KIND_METRIC, 1.0, 0.0, C.RANGE_NONE)
    assert np.isnan([first.current, *first.bounds]).all()


# --- a toy kind: following the steps is all the generic code needs ----------------------------


@attrs.frozen
class Percent:
    """A toy key result: a percentage done (not a kind of okrcore, registered by the test)."""

    id: str
    percent: float | None = None
    check_ins: tuple[model.CheckIn, ...] | None = None
    weight: float = 1.0
    owners: tuple[str, ...] = ()
    due: Any = None
    name: str = ""

    kind: ClassVar[str] = "percent"


_PERCENT_CODE = 9


class PercentKind(Kind):
    name = "percent"
    model = Percent
    code = _PERCENT_CODE
    codes = (_PERCENT_CODE,)
    rules: ClassVar[dict[int, str]] = {_PERCENT_CODE: "percent"}
    capability = None
    fields = ("percent", "check_ins")

    def load(self, reader: Any, path: str) -> dict[str, Any]:
        from okrcore import _reading as R

        return {"percent": reader.get("percent", R.number),
                "check_ins": R.load_check_ins(reader, "percent")}

    def dump(self, kr: Percent) -> dict[str, Any]:
        return {} if kr.percent is None else {"percent": kr.percent}

    def check_in_key(self, kr: Percent) -> str:
        return "percent"

    def encode_many(self, krs: Any) -> kinds.EncodedColumns:
        out = kinds.EncodedColumns.blank(len(krs), _PERCENT_CODE)
        out.target[:] = 100.0
        out.current = np.array([kr.percent for kr in krs], np.float64)  # None -> NaN
        return out

    def to_row(self, kr: Percent) -> dict[str, Any]:
        return {"target": 100.0, "current": kr.percent}

    def from_row(self, row: Any, history: Any, checkpoints: Any, common: dict[str, Any]
                 ) -> Percent:
        return Percent(percent=row.get("current"), **common)

    def columns(self, cols: kinds.Columns, rows: Any) -> None:
        cols.target[rows] = 100.0

    def sql(self, parts: kinds.SqlParts) -> list[tuple[str, str]]:
        return [(f"{parts.column('kind')} = 'percent'", f"{parts.done} / 100.0")]

    def strategy(self, tools: kinds.Tools, ident: str, capabilities: frozenset[str],
                 due_after: Any = None, **options: Any) -> Any:
        return tools.st.builds(Percent, id=tools.st.just(ident),
                               percent=tools.st.floats(0, 100))


@pytest.fixture
def percent() -> Iterator[Kind]:
    registries: list[dict[Any, Kind]] = [kinds.KINDS, kinds._BY_TYPE, kinds._BY_CODE]
    saved = [dict(registry) for registry in registries]
    try:
        yield kinds.register(PercentKind())
    finally:
        for registry, before in zip(registries, saved, strict=True):
            registry.clear()
            registry.update(before)


def test_a_registered_kind_is_read_dumped_stored_and_framed_by_the_generic_code(
        percent: Kind) -> None:
    from okrcore import interchange

    raw = {"id": "p", "kind": "percent", "percent": 40, "weight": 2, "colour": "red",
           "check_ins": [{"at": "2026-01-01", "percent": 10}]}
    warnings: list[okrcore.OkrError] = []
    kr = interchange._load_key_result(raw, "objectives[0].key_results[0]", warnings)
    assert isinstance(kr, Percent)
    assert (kr.percent, kr.weight, kr.check_ins[0].value) == (40, 2, 10)  # type: ignore[index]
    assert [w.path for w in warnings] == ["objectives[0].key_results[0].colour"]
    assert interchange._dump_key_result(kr) == {  # type: ignore[arg-type]
        "id": "p", "kind": "percent", "percent": 40,
        "check_ins": [{"at": "2026-01-01T00:00:00Z", "percent": 10}], "weight": 2}
    bad = interchange._load_key_result({"id": "q", "kind": "percent", "percent": "x"}, "k")
    assert isinstance(bad, model.InvalidKeyResult) and bad.errors[0].path == "k.percent"

    row = rows._kr_row(kr, "o", 0)  # type: ignore[arg-type]
    assert (row["kind"], row["target"], row["current"]) == ("percent", 100.0, 40)
    back: Any = rows.key_result_from_row(row)
    assert back == Percent(id="p", percent=40, weight=2.0)
    assert "WHEN \"kr\".\"kind\" = 'percent' THEN" in rows.kr_progress_sql("kr", "ci", "cp")

    objectives: dict[str, list[Any]] = {name: [None] for name in rows.OBJECTIVE_COLUMNS}
    objectives.update(id=["o"], weight=[1.0], include_children=[False], ps_auto=[False])
    key_results = {name: [row[name]] for name in rows.KEY_RESULT_COLUMNS}
    empty: dict[str, list[Any]] = {"kr_id": [], "at": [], "value": [], "person_id": [],
                                   "done": []}
    frame = rows.frame_from_columns(objectives, key_results, empty, empty, empty)
    assert (int(frame.kr_kind[0]), float(frame.kr_target[0]), float(frame.kr_start[0]),
            float(frame.kr_current[0])) == (_PERCENT_CODE, 100.0, 0.0, 40.0)

    drawn: Any = find(S.key_results("p", capabilities={"metrics"}),
                      lambda k: isinstance(k, Percent))
    assert drawn == Percent(id="p", percent=0.0)
    # the steps the registry cannot do: the schema (test_codes) and the model's own validation
    defs = okrcore.interchange.schema("document")["$defs"]
    assert "percent" not in defs
    with pytest.raises(okrcore.OkrValueError, match="must be a Metric, Binary or Milestone"):
        okrcore.Objective(id="o", key_results=[kr])


def test_the_kinds_import_only_the_layers_below_them() -> None:
    allowed = {"okrcore.model", "okrcore.codes", "okrcore.errors", "okrcore._checks",
               "okrcore._reading", "okrcore.kinds", "okrcore.policy", "okrcore.instants"}
    files = [*(ROOT / "src" / "okrcore" / "kinds").glob("*.py"),
             ROOT / "src" / "okrcore" / "_reading.py"]
    found = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):  # function-level imports too
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] if node.module != "okrcore" else [
                    f"okrcore.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found |= {n for n in names if n.split(".")[0] in ("okrcore", "hypothesis")}
    assert {n for n in found if not n.startswith(tuple(allowed))} == set()
    assert "okrcore.model" in found


def test_a_kind_without_a_required_hook_cannot_be_made() -> None:
    from okrcore.kinds._base import Kind

    class Incomplete(Kind):
        name = "incomplete"

        def load(self, reader: Any, path: str) -> dict[str, Any]:
            return {}

    with pytest.raises(TypeError, match="abstract") as caught:
        Incomplete()  # type: ignore[abstract]
    for hook in ("dump", "check_in_key", "encode", "to_row", "from_row", "sql", "strategy"):
        assert hook in str(caught.value)
