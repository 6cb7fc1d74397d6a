"""CSV injection (issue 17): exported files never run what users typed.

Text cells starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are written to
csv with an apostrophe in front (OWASP), numbers stay numbers, and the import drops the guard
again so that round trips stay exact.  LibreOffice opens the exported csv without making a
formula of any of them; the xlsx and ods exports store them as text cells.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sheet_helpers import soffice_or_skip

from okrcore import Document
from okrcore.interchange import document_from_dict as load
from okrcore.interchange import document_to_dict as dump
from okrcore_spreadsheet import convert, read_workbook, write_csv, write_workbook
from okrcore_spreadsheet.layout import CSV_FORMULA_STARTS, csv_guard, csv_unguard

HYPERLINK = '=HYPERLINK("http://example.com/x","click")'
CMD = "+cmd|' /C calc'!A0"
AT_SUM = "@SUM(1+1)"
MINUS = "-2+3"
TAB = "\tSUM(1)"
QUOTED = "'=1+2"  # a text that genuinely starts with an apostrophe before a formula
PLAIN_QUOTE = "'plain"  # an apostrophe the guard never added

DANGEROUS = (HYPERLINK, CMD, AT_SUM, MINUS, TAB, QUOTED)


def attack_document() -> Document:
    """Ids, owners, names and units that a spreadsheet would run as formulas."""
    return load({
        "okrcore": 1, "as_of": "2026-02-15T00:00:00Z",
        "objectives": [
            {"id": HYPERLINK, "owner": CMD, "weight": 1,
             "key_results": [
                 {"id": AT_SUM, "kind": "metric", "unit": MINUS, "start": 0, "target": 10,
                  "current": -4.5, "owners": ["-owner", PLAIN_QUOTE]},
                 {"id": "ok", "name": TAB, "kind": "metric", "start": -1, "target": 1,
                  "current": 0.5},
             ]},
            {"id": QUOTED, "owner": "=1+1", "parent": HYPERLINK, "key_results": [
                {"id": "-neg", "kind": "binary", "done": True}]},
        ]})


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_guard_round_trips_every_text(text: str) -> None:
    guarded = csv_guard(text)
    assert csv_unguard(guarded) == text
    assert not guarded.startswith(CSV_FORMULA_STARTS)


def test_guard_rules() -> None:
    assert csv_guard(HYPERLINK) == "'" + HYPERLINK
    assert csv_guard(CMD) == "'" + CMD
    assert csv_guard("\rx") == "'\rx"
    assert csv_guard(QUOTED) == "''=1+2"  # one apostrophe more, dropped on import
    assert csv_guard(PLAIN_QUOTE) == PLAIN_QUOTE and csv_unguard(PLAIN_QUOTE) == PLAIN_QUOTE
    assert csv_guard("revenue") == "revenue"


def _csv_cells(directory: Path) -> list[str]:
    cells: list[str] = []
    for file in sorted(directory.glob("*.csv")):
        with file.open(newline="", encoding="utf-8") as handle:
            cells.extend(c for row in csv.reader(handle) for c in row)
    return cells


def test_csv_export_guards_text_and_keeps_numbers(tmp_path: Path) -> None:
    document = attack_document()
    write_csv(tmp_path, document)
    cells = _csv_cells(tmp_path)
    assert not [c for c in cells if c.startswith(CSV_FORMULA_STARTS) and not _is_number(c)]
    for text in DANGEROUS:
        assert "'" + text in cells
    assert PLAIN_QUOTE in cells
    with (tmp_path / "Key results.csv").open(newline="", encoding="utf-8") as handle:
        rows = {r["ID"]: r for r in csv.DictReader(handle)}
    assert rows["'" + AT_SUM]["Current"] == "-4.5"  # a number stays a number
    assert rows["ok"]["Start"] == "-1"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_csv_round_trip_is_exact(tmp_path: Path) -> None:
    document = attack_document()
    write_csv(tmp_path, document)
    result = read_workbook(tmp_path)
    assert result.errors == ()
    assert result.document == document
    assert dump(result.document) == dump(document)


def _formulas_xlsx(path: Path) -> list[tuple[str, Any]]:
    import openpyxl

    book = openpyxl.load_workbook(path)
    return [(c.coordinate, c.value) for sheet in book.worksheets for row in sheet.iter_rows()
            for c in row if c.data_type == "f"]


def _texts_xlsx(path: Path) -> dict[str, str]:
    import openpyxl

    book = openpyxl.load_workbook(path)
    return {c.value: c.data_type for sheet in book.worksheets for row in sheet.iter_rows()
            for c in row if isinstance(c.value, str)}


def test_libreoffice_opens_the_csv_without_formulas(tmp_path: Path) -> None:
    soffice_or_skip()
    write_csv(tmp_path / "csv", attack_document())
    files = sorted((tmp_path / "csv").glob("*.csv"))
    converted = convert(files, tmp_path / "xlsx", to="xlsx", recalculate=False)
    assert len(converted) == len(files)
    for path in converted:
        assert _formulas_xlsx(path) == [], path.name
    texts = {}
    for path in converted:
        texts.update(_texts_xlsx(path))
    # each guarded value arrives as a text cell (LibreOffice shows the apostrophe)
    for text in (HYPERLINK, CMD, AT_SUM, MINUS, QUOTED):
        assert texts.get("'" + text) == "s", text


def test_libreoffice_would_run_an_unguarded_csv(tmp_path: Path) -> None:
    """The control: the same cell without the guard does become a formula."""
    soffice_or_skip()
    (tmp_path / "raw.csv").write_text(f'ID\n"{HYPERLINK.replace(chr(34), chr(34) * 2)}"\n',
                                      encoding="utf-8")
    [path] = convert([tmp_path / "raw.csv"], tmp_path / "out", to="xlsx", recalculate=False)
    assert _formulas_xlsx(path) != []


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_workbook_exports_store_them_as_text(tmp_path: Path, suffix: str) -> None:
    if suffix == ".ods":
        soffice_or_skip()
    document = attack_document()
    path = write_workbook(tmp_path / f"book{suffix}", document).path
    texts = _texts_xlsx(path) if suffix == ".xlsx" else _texts_ods(path)
    for text in (HYPERLINK, CMD, AT_SUM, MINUS, QUOTED, "=1+1"):
        assert texts.get(text) == "s", text
    if suffix == ".xlsx":  # (the ods reader drops a name's leading tab: not a formula matter)
        assert read_workbook(path).document == document


def _texts_ods(path: Path) -> dict[str, str]:
    """Text of every ods cell -> ``s`` for a string cell, ``f`` for one with a formula."""
    from odf import table, teletype
    from odf.opendocument import load as load_ods

    doc = load_ods(str(path))
    out: dict[str, str] = {}
    for cell in doc.getElementsByType(table.TableCell):
        text = teletype.extractText(cell)
        if not text:
            continue
        formula = cell.getAttribute("formula")
        kind = cell.getAttribute("valuetype")
        out[text] = "f" if formula else ("s" if kind == "string" else str(kind))
    return out
