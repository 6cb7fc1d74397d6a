"""Workbook and csv imports never lose data silently (issue 17).

Whole-workbook problems (a formula without a stored value, a merged header, two sheets read as
one, a missing sheet, repeats beyond a spreadsheet's size, a csv file that is not UTF-8) are one
:class:`WorkbookError`; a bad value in a cell is an error of its row, and the rest is read.
The bad workbooks are built here from an exported one.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

import okrcore

sheets = pytest.importorskip("okrcore_spreadsheet", reason="okrcore_spreadsheet not installed")
openpyxl = pytest.importorskip("openpyxl")

from okrcore_spreadsheet.reading import (  # noqa: E402
    MAX_COLUMNS,
    MAX_ROWS,
    WorkbookError,
    read_workbook,
)

ORACLE = Path(__file__).parent.parent / "jobs" / "jobs_oracle.json"


def _document() -> okrcore.Document:
    return okrcore.loads(ORACLE.read_bytes())


def _xlsx(tmp_path: Path, change: Callable[[object], None] | None = None) -> Path:
    """The oracle organisation as an xlsx workbook, changed by ``change(workbook)``."""
    path = tmp_path / "book.xlsx"
    sheets.write_workbook(path, _document())
    if change is not None:
        wb = openpyxl.load_workbook(path)
        change(wb)
        wb.save(path)
    return path


def _ods(tmp_path: Path, change: Callable[[str], str]) -> Path:
    """The oracle organisation as an ods workbook whose content.xml is rewritten."""
    source = tmp_path / "base.ods"
    sheets.write_workbook(source, _document())
    path = tmp_path / "book.ods"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "content.xml":
                data = change(data.decode("utf-8")).encode("utf-8")
            zout.writestr(item, data)
    return path


def _append_rows(sheet: str, rows: str, *, at_end: bool = False) -> Callable[[str], str]:
    """Insert rows after the header row of a sheet (or at its very end)."""
    def change(text: str) -> str:
        start = text.index(f'table:name="{sheet}"')
        end = text.index("</table:table>" if at_end else "</table:table-row>", start)
        end += 0 if at_end else len("</table:table-row>")
        return text[:end] + rows + text[end:]
    return change


def _cell(text: str, repeat: int = 1) -> str:
    return (f'<table:table-cell table:number-columns-repeated="{repeat}" '
            f'office:value-type="string"><text:p>{text}</text:p></table:table-cell>')


def _csv_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "csv"
    sheets.write_csv(directory, _document())
    return directory


# ------------------------------------------------------------------- whole-workbook problems

def test_formula_without_cached_value_in_an_input_cell_is_refused(tmp_path: Path) -> None:
    # before: the Current cell read as empty and a1's progress dropped from 0.5 to 0.0
    def change(wb: object) -> None:
        wb["Key results"]["K2"] = "=25*2"  # type: ignore[index]
    with pytest.raises(WorkbookError, match=r"Key results!K2: the formula.*25\*2"):
        read_workbook(_xlsx(tmp_path, change))


def test_formula_without_cached_value_in_a_computed_cell_is_ignored(tmp_path: Path) -> None:
    def change(wb: object) -> None:
        wb["Key results"]["W2"] = "=1/3"  # type: ignore[index]  # Progress: never read
    got = read_workbook(_xlsx(tmp_path, change))
    assert okrcore.evaluate(got.document).key_results["a1"].progress == 0.5


def test_ods_formula_without_a_value_is_refused(tmp_path: Path) -> None:
    row = ('<table:table-row><table:table-cell office:value-type="string"><text:p>a1</text:p>'
           '</table:table-cell><table:table-cell office:value-type="date" '
           'office:date-value="2026-02-01"/><table:table-cell table:formula="of:=2*3"/>'
           '</table:table-row>')
    path = _ods(tmp_path, _append_rows("Check-ins", row))
    with pytest.raises(WorkbookError, match=r"Check-ins!C2: the formula '=2\*3' has no"):
        read_workbook(path)


def test_merged_header_cell_is_refused(tmp_path: Path) -> None:
    # before: Target (J) disappeared under a merged Start header (I1:J1)
    def change(wb: object) -> None:
        wb["Key results"].merge_cells("I1:J1")  # type: ignore[index]
    with pytest.raises(WorkbookError, match=r"Key results!I1:J1: a merged header cell"):
        read_workbook(_xlsx(tmp_path, change))


def test_ods_merged_header_cell_is_refused(tmp_path: Path) -> None:
    def change(text: str) -> str:
        start = text.index('table:name="Check-ins"')
        cell = text.index("<table:table-cell", start)
        return text[:cell] + '<table:table-cell table:number-columns-spanned="2"' + \
            text[cell + len("<table:table-cell"):]
    with pytest.raises(WorkbookError, match=r"Check-ins!A1: a merged header cell"):
        read_workbook(_ods(tmp_path, change))


@pytest.mark.parametrize("name", ["KEY RESULTS ", " key results"])
def test_two_sheets_read_as_one_are_refused(tmp_path: Path, name: str) -> None:
    # before: the second sheet silently replaced the real one
    def change(wb: object) -> None:
        wb.create_sheet(name)  # type: ignore[attr-defined]
    with pytest.raises(WorkbookError, match=r"sheets 'Key results' and .* are both read"):
        read_workbook(_xlsx(tmp_path, change))


@pytest.mark.parametrize("sheet", ["Settings", "Objectives", "Key results"])
def test_a_missing_required_sheet_is_refused(tmp_path: Path, sheet: str) -> None:
    # before: without Objectives every key result was dropped, with one error per row at most
    def change(wb: object) -> None:
        del wb[sheet]  # type: ignore[attr-defined]
    with pytest.raises(WorkbookError, match=f"the workbook has no sheet '{sheet}'"):
        read_workbook(_xlsx(tmp_path, change))


def test_csv_not_utf8_is_refused(tmp_path: Path) -> None:
    directory = _csv_dir(tmp_path)
    kr = directory / "Key results.csv"
    kr.write_bytes(kr.read_bytes().replace(b"a1", b"a\xff1", 1))
    with pytest.raises(WorkbookError, match=r"Key results.csv: not UTF-8 text \(byte 0xff"):
        read_workbook(kr)


# ------------------------------------------------------------------- bounded memory (ods repeats)

def test_repeated_rows_beyond_a_sheet_are_refused_quickly(tmp_path: Path) -> None:
    # before: a 3 KB file expanded to 10^9 rows and the reader allocated gigabytes
    row = (f'<table:table-row table:number-rows-repeated="1000000000">{_cell("a1")}'
           '</table:table-row>')
    path = _ods(tmp_path, _append_rows("Check-ins", row))
    t0 = time.perf_counter()
    with pytest.raises(WorkbookError, match=f"more than {MAX_ROWS} rows"):
        read_workbook(path)
    assert time.perf_counter() - t0 < 10


def test_repeated_cells_beyond_a_row_are_refused(tmp_path: Path) -> None:
    row = f'<table:table-row>{_cell("a1", 1_000_000_000)}</table:table-row>'
    with pytest.raises(WorkbookError, match=f"more than {MAX_COLUMNS} columns"):
        read_workbook(_ods(tmp_path, _append_rows("Check-ins", row)))


def test_trailing_empty_repeats_cost_nothing(tmp_path: Path) -> None:
    # what LibreOffice writes for formatted but empty rows and columns
    row = ('<table:table-row table:number-rows-repeated="1000000000">'
           '<table:table-cell table:number-columns-repeated="1000000000"/></table:table-row>')
    path = _ods(tmp_path, _append_rows("Key results", row, at_end=True))
    t0 = time.perf_counter()
    got = read_workbook(path)
    assert time.perf_counter() - t0 < 10
    assert got.errors == read_workbook(_xlsx(tmp_path)).errors
    assert okrcore.evaluate(got.document).objectives["a"].progress == 0.75


# ------------------------------------------------------------------- bad values are row errors

def _errors_by_cell(path: Path) -> dict[str, tuple[str, object]]:
    return {f"{e.sheet}!{e.cell}": (e.code, e.value) for e in read_workbook(path).errors}


def test_csv_huge_number_and_far_date_are_row_errors(tmp_path: Path) -> None:
    # before: OverflowError / ValueError tracebacks
    directory = _csv_dir(tmp_path)
    kr = directory / "Key results.csv"
    text = kr.read_text(encoding="utf-8")
    text = text.replace("a,a1,,metric,,1,,,0,100,50", "a,a1,,metric,,1,,,0," + "9" * 400 + ",50")
    text = text.replace("a,a2,,metric,pat,1,,", "a,a2,,metric,pat,1,9999-12-31,")
    kr.write_text(text, encoding="utf-8")
    got = read_workbook(kr)
    errors = {f"{e.sheet}!{e.cell}": e.code for e in got.errors}
    assert errors["Key results!J2"] == "not_finite"
    assert errors["Key results!G3"] == "out_of_range"
    # the rest is computed
    assert okrcore.evaluate(got.document).key_results["c2"].progress == 0.5


def test_xlsx_far_due_and_loose_values_are_row_errors(tmp_path: Path) -> None:
    def change(wb: object) -> None:
        ws = wb["Key results"]  # type: ignore[index]
        ws["G2"] = date(9999, 12, 31)  # a1's Due: a day ending after 9999-12-31T23:59:59
        ws["G2"].number_format = "yyyy-mm-dd"
        ws["J3"] = "10"  # a2's Target: a number typed as text
        ws["L4"] = "maybe"  # b1's Done: a loose boolean
        wb["Objectives"]["K2"] = "yes"  # type: ignore[index]  # a's Include children
    errors = _errors_by_cell(_xlsx(tmp_path, change))
    assert errors["Key results!G2"][0] == "out_of_range"
    assert errors["Key results!J3"] == ("not_a_number", "10")
    assert errors["Key results!L4"] == ("wrong_type", "maybe")
    assert errors["Objectives!K2"] == ("wrong_type", "yes")


def test_rows_the_import_cannot_attach_carry_their_key(tmp_path: Path) -> None:
    def change(wb: object) -> None:
        wb["Key results"]["A2"] = "nowhere"  # type: ignore[index]
    got = read_workbook(_xlsx(tmp_path, change))
    dropped = [e for e in got.errors if e.code == "unknown_reference"]
    assert (dropped[0].sheet, dropped[0].cell, dropped[0].key, dropped[0].value) == \
        ("Key results", "A2", "a1", "nowhere")


def test_loose_history_flag_is_a_row_error(tmp_path: Path) -> None:
    # before: 'maybe' in History was read as "no history" without a word
    def change(wb: object) -> None:
        wb["Key results"]["T5"] = "maybe"  # type: ignore[index]  # b2 (a milestone)
    got = read_workbook(_xlsx(tmp_path, change))
    assert [(e.sheet, e.cell, e.value) for e in got.errors
            if e.cell == "T5"] == [("Key results", "T5", "maybe")]
    assert okrcore.evaluate(got.document).key_results["a1"].progress == 0.5


def test_loose_values_in_check_in_and_checkpoint_rows_are_row_errors(tmp_path: Path) -> None:
    def change(wb: object) -> None:
        wb["Check-ins"]["C2"] = "lots"  # type: ignore[index]
        ci = wb["Checkpoints"]  # type: ignore[index]
        ci.append(["b2", "design", "maybe"])
    errors = _errors_by_cell(_xlsx(tmp_path, change))
    assert errors["Check-ins!C2"] == ("not_a_number", "lots")
    assert errors["Checkpoints!C2"][1] == "maybe"


def test_ods_malformed_cell_values_are_row_errors(tmp_path: Path) -> None:
    # before: ValueError / OverflowError tracebacks from float(), int() and fromisoformat()
    def row(at: str, value: str) -> str:
        return (f'<table:table-row>{_cell("bc1")}<table:table-cell office:value-type="date" '
                f'office:date-value="{at}"/><table:table-cell office:value-type="float" '
                f'office:value="{value}"/></table:table-row>')
    rows = row("2026-01-05", "abc") + row("+99999-01-01", "5") + row("2026-01-06", "9" * 400)
    errors = _errors_by_cell(_ods(tmp_path, _append_rows("Check-ins", rows)))
    assert errors["Check-ins!C2"] == ("not_a_number", "abc")
    assert errors["Check-ins!B3"][1] == "+99999-01-01"
    assert errors["Check-ins!C4"][0] == "not_finite"
