"""The exported workbook's formulas, recalculated by LibreOffice and by ``formulas``, equal okrcore.

Cached values are first replaced by a wrong number, so an engine that did not recalculate fails.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sheet_cases import hand_written
from sheet_helpers import (
    Expected,
    compare_formulas,
    compare_libreoffice,
    libreoffice_values,
    soffice_or_skip,
    workbook_documents,
)

import okrcore
from okrcore import Document, Metric
from okrcore_spreadsheet import write_workbook
from okrcore_spreadsheet import writing as W


def _export(document: Document, path: Path, poison: bool = True) -> tuple[Path, Expected]:
    """Export; with ``poison`` the cached values are wrong, so only a recalculation passes."""
    report = write_workbook(path, document)
    if poison:
        sheets = W.build_sheets(document)
        for sheet in sheets:
            for row in sheet.rows:
                for key, value in row.items():
                    if isinstance(value, W.Formula):
                        row[key] = W.Formula(value.text, -7.5 if not isinstance(
                            value.cached, str) else "poison")
        W.save_sheets(sheets, path)
    return path, report.formulas


def _changed(document: Document) -> Document | None:
    """The document with the first metric without history moved to a new current value."""
    for i, obj in enumerate(document.objectives):
        assert isinstance(obj, okrcore.Objective)
        for j, kr in enumerate(obj.key_results):
            if isinstance(kr, Metric) and kr.check_ins is None:
                new = float(kr.target) * 0.7 + float(kr.start) * 0.3 + 1
                krs = list(obj.key_results)
                krs[j] = attrs.evolve(kr, current=new)
                objs = list(document.objectives)
                objs[i] = attrs.evolve(obj, key_results=krs)
                return attrs.evolve(document, objectives=objs)
    return None


def _edit_current(path: Path, document: Document, changed: Document, out: Path) -> Path:
    """Type the changed current value into the exported workbook, as a user would."""
    before = {kr.id: kr for o in document.objectives for kr in o.key_results}
    book = load_workbook(path)
    sheet = book["Key results"]
    header = [c.value for c in sheet[1]]
    for obj in changed.objectives:
        for kr in obj.key_results:
            if isinstance(kr, Metric) and kr != before[kr.id]:
                for row in sheet.iter_rows(min_row=2):
                    if row[header.index("ID")].value == kr.id:
                        row[header.index("Current")].value = kr.current
    book.save(out)
    return out


def test_libreoffice_recalculates_hand_written_workbooks(tmp_path: Path) -> None:
    soffice_or_skip()
    cases = [_export(doc, tmp_path / f"{name}.xlsx") for name, doc in hand_written().items()]
    edits = []
    for name, doc in hand_written().items():
        changed = _changed(doc)
        if changed is not None:
            original = write_workbook(tmp_path / f"orig-{name}.xlsx", doc).path
            edited = _edit_current(original, doc, changed, tmp_path / f"edited-{name}.xlsx")
            edits.append((edited, write_workbook(tmp_path / "x.xlsx", changed).formulas))
    assert len(edits) >= 6
    compare_libreoffice(cases + edits, tmp_path / "lo")


def test_formulas_package_recalculates_hand_written_workbooks(tmp_path: Path) -> None:
    for name, doc in hand_written().items():
        path, expected = _export(doc, tmp_path / f"{name}.xlsx")
        compare_formulas(path, expected)
        changed = _changed(doc)
        if changed is not None:
            edited = _edit_current(write_workbook(tmp_path / f"o-{name}.xlsx", doc).path, doc,
                                   changed, tmp_path / f"e-{name}.xlsx")
            compare_formulas(edited, write_workbook(tmp_path / "x.xlsx", changed).formulas)


def test_poisoned_cache_is_detected(tmp_path: Path) -> None:
    """The comparison can fail: without recalculation the poisoned cached values differ."""
    doc = hand_written()["example"]
    path, expected = _export(doc, tmp_path / "p.xlsx")
    book = load_workbook(path, data_only=True)
    assert any(book[s][r].value in (-7.5, "poison") for s, r in expected)


# No shrinking: every step would start LibreOffice again (seconds each); a failure reports the
# workbook and the cells that differ, which is enough to reproduce it with one document.
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(st.lists(workbook_documents(), min_size=6, max_size=6))
def test_libreoffice_agrees_on_generated_documents(documents: list[Document]) -> None:
    soffice_or_skip()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="okrcore-sheet-") as tmp:
        base = Path(tmp)
        cases = [_export(doc, base / f"g{i}.xlsx") for i, doc in enumerate(documents)]
        for i, doc in enumerate(documents):
            changed = _changed(doc)
            if changed is not None:
                edited = _edit_current(write_workbook(base / f"o{i}.xlsx", doc).path, doc,
                                       changed, base / f"e{i}.xlsx")
                cases.append((edited, write_workbook(base / "x.xlsx", changed).formulas))
        cases = [(p, e) for p, e in cases if e]
        if cases:
            compare_libreoffice(cases, base / "lo")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(workbook_documents())
def test_formulas_package_agrees_on_generated_documents(document: Document) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="okrcore-sheet-") as tmp:
        path, expected = _export(document, Path(tmp) / "g.xlsx")
        if expected:
            compare_formulas(path, expected)


def test_ods_export_recalculates_in_libreoffice(tmp_path: Path) -> None:
    soffice_or_skip()
    doc = hand_written()["alignment"]
    report = write_workbook(tmp_path / "alignment.ods", doc)
    [book] = libreoffice_values([report.path], tmp_path / "lo")
    assert report.formulas
    for (sheet, ref), want in report.formulas.items():
        got = book[sheet][ref].value
        assert (got or "") == want if isinstance(want, str) else abs(got - want) <= 1e-9


def test_recalculation_changes_with_the_input(tmp_path: Path) -> None:
    """Sanity check of the hand oracle: the example's smb metric at 180000/350000."""
    doc = hand_written()["example"]
    report = write_workbook(tmp_path / "e.xlsx", doc)
    progress = [v for (s, r), v in report.formulas.items() if s == "Key results"]
    assert pytest.approx(180000 / 350000) in progress


def test_tutorial_edit_recalculates_as_the_docs_say(tmp_path: Path) -> None:
    """docs/spreadsheet.rst: smb 180000 -> 280000 gives sales 75%, company 70.8%, bob 67.5%."""
    soffice_or_skip()
    from okrcore_spreadsheet import read_workbook, write_template

    document = read_workbook(write_template(tmp_path / "input.xlsx")).document
    exported = write_workbook(tmp_path / "tutorial.xlsx", document).path
    book = load_workbook(exported)
    sheet = book["Key results"]
    header = [c.value for c in sheet[1]]
    [smb] = [r for r in sheet.iter_rows(min_row=2) if r[header.index("ID")].value == "smb"]
    smb[header.index("Current")].value = 280000
    book.save(tmp_path / "edited.xlsx")
    [values] = libreoffice_values([tmp_path / "edited.xlsx"], tmp_path / "lo")

    def column(name: str, key: str, header_name: str) -> dict[str, float]:
        ws = values[name]
        heads = [c.value for c in ws[1]]
        return {r[heads.index(key)].value: r[heads.index(header_name)].value
                for r in ws.iter_rows(min_row=2)}

    progress = column("Objectives", "ID", "Progress")
    support = (0.6 + 0.6 + 0.8) / 3
    assert progress["sales"] == pytest.approx((320000 + 280000) / 800000)
    assert progress["company"] == pytest.approx((support + 0.75) / 2)
    assert column("People", "Person", "Progress")["bob"] == pytest.approx((0.75 + 0.6) / 2)


def test_formulas_use_only_functions_every_engine_has() -> None:
    """docs/spreadsheet.rst: IF, OR, MIN, MAX, ABS, INT, ISBLANK (Excel, LibreOffice, Sheets)."""
    import re

    used: set[str] = set()
    for doc in hand_written().values():
        for sheet in W.build_sheets(doc):
            for row in sheet.rows:
                for value in row.values():
                    if isinstance(value, W.Formula):
                        text = re.sub(r"'[^']*'!|\"[^\"]*\"", "", value.text)
                        used |= set(re.findall(r"([A-Z]+)\(", text))
    assert used == {"IF", "OR", "MIN", "MAX", "ABS", "INT", "ISBLANK"}
