"""The kinds registry (okrcore.kinds) and the page that lists the steps to add a kind (issue 18).

``docs/contributing-kinds.rst`` names the files and the hooks a new kind needs; these tests keep
that list true in both directions: what it names exists and every kind provides it, and every
module that still names a particular kind is on the page.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
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
PENDING_FILES = {
    # created by the batch kernel rewrite of issue 18 (item 1); named on the page already
    "src/okrcore/batch/rules.py",
}
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
    for path in sorted(named - PENDING_FILES):
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

    class Clash(Kind):
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
