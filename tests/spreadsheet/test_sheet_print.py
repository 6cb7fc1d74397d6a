"""The exported workbook looks right when opened or printed: formats, widths, chart, print setup.

Checked on the workbook as written (openpyxl, the ods XML) and as LibreOffice shows it: its
csv export "as shown" (the text of every cell as displayed) and its PDF (page count, and the text
through ``pdftotext`` when poppler-utils is installed, as ``.ci/run`` does).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import attrs
import pytest
from openpyxl import load_workbook
from sheet_helpers import soffice_or_skip

from okrcore import Document, Objective
from okrcore.demo import generate_organisation
from okrcore.model import ManualStatus
from okrcore_spreadsheet import convert, find_soffice, write_workbook
from okrcore_spreadsheet import layout as L
from okrcore_spreadsheet.writing import (
    BOOLEAN_FORMAT,
    DATE_FORMAT,
    PERCENT_FORMAT,
    Formula,
    Sheet,
    save_sheets,
)

SHOWN_DATE = "2026-01-01 00:00:00"
DATE_WIDTH = len(SHOWN_DATE) + 2
BOOLEAN_COLUMNS = {L.OBJECTIVES: ("Include children", "Sum auto", "Stale"),
                   L.KEY_RESULTS: ("Done", "History", "Stale"), L.CHECKPOINTS: ("Done",)}
DATE_COLUMNS = {L.OBJECTIVES: ("Start", "Due"), L.KEY_RESULTS: ("Due",), L.CHECKINS: ("At",)}
PERCENT_COLUMNS = {L.SUMMARY: ("Progress", "Expected"),
                   L.OBJECTIVES: ("Expected", "Raw progress", "Progress", "Forecast progress"),
                   L.KEY_RESULTS: ("Raw progress", "Progress", "Expected", "Forecast progress")}
WIDE = {L.OBJECTIVES, L.KEY_RESULTS}
ODS = "urn:oasis:names:tc:opendocument:xmlns:"
NS = {"table": ODS + "table:1.0", "style": ODS + "style:1.0", "fo": ODS + "xsl-fo-compatible:1.0",
      "office": ODS + "office:1.0"}


def five_objectives() -> Document:
    """The demo organisation's first five objectives (12 key results, 110 check-ins).

    sales-emea is set off_track (red although it is on pace) and co-scale, which has no
    progress, on_track (green).
    """
    document = generate_organisation(7)
    statuses: dict[str, ManualStatus] = {"sales-emea": "off_track", "co-scale": "on_track"}
    objectives = []
    for obj in document.objectives[:5]:
        assert isinstance(obj, Objective)
        parent = obj.parent if obj.parent in {"co-growth", "sales"} else None
        objectives.append(attrs.evolve(obj, parent=parent, status=statuses.get(obj.id)))
    return attrs.evolve(document, objectives=objectives)


IDS = ["co-growth", "co-scale", "sales", "sales-emea", "sales-na"]


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The five objectives as ``five-xlsx.xlsx`` and (with LibreOffice) ``five-ods.ods``."""
    out = tmp_path_factory.mktemp("print")
    document = five_objectives()
    books = {"xlsx": write_workbook(out / "five-xlsx.xlsx", document).path}
    if find_soffice() is not None:
        books["ods"] = write_workbook(out / "five-ods.ods", document).path
    return books


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def shown(book: Path, outdir: Path) -> dict[str, list[dict[str, str]]]:
    """Every sheet as LibreOffice displays it: its csv export with "as shown" cell text."""
    soffice = find_soffice()
    assert soffice is not None
    # Comma, quote, UTF-8, from row 1, -, -, no quoting of all text, detect specials,
    # **as shown**, formulas off, remove space off, every sheet to its own file (-1).
    options = "44,34,76,1,,0,false,true,true,false,false,-1"
    with tempfile.TemporaryDirectory(prefix="okrcore-csv-") as profile:
        subprocess.run([soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
                        "--norestore", "--convert-to",
                        f"csv:Text - txt - csv (StarCalc):{options}", "--outdir", str(outdir),
                        str(book)], capture_output=True, check=True, timeout=300)
    sheets = {}
    for name in (L.SUMMARY, L.OBJECTIVES, L.KEY_RESULTS, L.CHECKINS, L.CHECKPOINTS):
        header, *rows = _rows(outdir / f"{book.stem}-{name}.csv")
        sheets[name] = [dict(zip(header, row, strict=False)) for row in rows]
    return sheets


def pdf_pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf.read_bytes()))


# --- the workbook as written ------------------------------------------------------------------


def test_xlsx_number_formats_and_widths_show_dates_booleans_and_percentages(
        workbooks: dict[str, Path]) -> None:
    wb = load_workbook(workbooks["xlsx"])
    for name, headers in DATE_COLUMNS.items():
        ws = wb[name]
        columns = [c.value for c in ws[1]]
        for header in headers:
            letter = L.column_letter(columns.index(header))
            assert ws.column_dimensions[letter].width >= DATE_WIDTH, (name, header)
            cells = [row[columns.index(header)] for row in ws.iter_rows(min_row=2)]
            assert any(c.value is not None for c in cells), (name, header)
            assert {c.number_format for c in cells if c.value is not None} == {DATE_FORMAT}
    for name, headers in BOOLEAN_COLUMNS.items():
        ws = wb[name]
        columns = [c.value for c in ws[1]]
        for header in headers:
            cells = [row[columns.index(header)] for row in ws.iter_rows(min_row=2)]
            assert all(isinstance(c.value, bool) for c in cells if c.value is not None)
            assert {c.number_format for c in cells if c.value is not None} <= {BOOLEAN_FORMAT}
    stale = [r[[c.value for c in wb[L.KEY_RESULTS][1]].index("Stale")]
             for r in wb[L.KEY_RESULTS].iter_rows(min_row=2)]
    assert {c.value for c in stale} == {True, False, None}
    assert {c.number_format for c in stale if c.value is not None} == {BOOLEAN_FORMAT}
    settings = {r[0].value: r[1] for r in wb[L.SETTINGS].iter_rows(min_row=2)}
    assert settings["Strict breakpoints"].number_format == BOOLEAN_FORMAT
    assert settings["As of"].number_format == DATE_FORMAT
    for name, headers in PERCENT_COLUMNS.items():
        ws = wb[name]
        columns = [c.value for c in ws[1]]
        for header in headers:
            cells = [row[columns.index(header)] for row in ws.iter_rows(min_row=2)]
            assert {c.number_format for c in cells if c.value is not None} == {PERCENT_FORMAT}


def test_summary_lists_objectives_in_document_order_with_their_status(
        workbooks: dict[str, Path]) -> None:
    ws = load_workbook(workbooks["xlsx"])[L.SUMMARY]
    assert [c.value for c in ws[1]] == list(L.SUMMARY_COLUMNS)
    assert list(L.SUMMARY_COLUMNS) == [
        "Objective", "Name", "Progress", "Expected", "Status", "Colour"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == IDS
    status = {r[0]: r[4] for r in rows}
    assert status["sales-emea"] == "=IF(ISBLANK(Objectives!J5),\"\",Objectives!J5)"
    cached = {r[0]: r[4:] for r in load_workbook(workbooks["xlsx"], data_only=True)[
        L.SUMMARY].iter_rows(min_row=2, values_only=True)}
    assert cached["sales-emea"] == ("off_track", "red")
    assert cached["co-scale"] == ("on_track", "green")
    assert cached["sales"] == (None, "yellow")  # an empty text result reads back as None


def test_chart_reads_percent_and_lists_objectives_top_down(workbooks: dict[str, Path]) -> None:
    with zipfile.ZipFile(workbooks["xlsx"]) as z:
        [name] = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        chart = z.read(name).decode()
    c = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
    root = ET.fromstring(chart)
    cat, val = root.find(f".//{c}catAx"), root.find(f".//{c}valAx")
    assert cat is not None and val is not None

    def value(axis: ET.Element, path: str, name: str = "val") -> str | None:
        found = axis.find("/".join(c + step for step in path.split("/")))
        return None if found is None else found.get(name)

    assert value(cat, "scaling/orientation") == "maxMin"  # first objective on top
    assert value(val, "numFmt", "formatCode") == "0%"
    assert value(val, "numFmt", "sourceLinked") == "0"
    assert value(val, "crosses") == "max"  # the percent axis stays at the bottom
    assert value(val, "majorUnit") == "0.25"
    assert (value(val, "scaling/min"), value(val, "scaling/max")) == ("0", "1")
    title = "".join(t.text or "" for t in val.iter(
        "{http://schemas.openxmlformats.org/drawingml/2006/main}t"))
    assert title == "progress"


def test_xlsx_print_setup_is_one_page_wide_landscape_where_wide(
        workbooks: dict[str, Path]) -> None:
    wb = load_workbook(workbooks["xlsx"])
    for ws in wb:
        setup = ws.page_setup
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True, ws.title
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), ws.title
        assert int(setup.paperSize) == 9  # A4
        assert setup.orientation == ("landscape" if ws.title in WIDE else "portrait"), ws.title
        assert ws.print_title_rows == "$1:$1"
        assert ws.oddFooter.center.text == "&A: page &P of &N"


def _ods_xml(path: Path) -> tuple[ET.Element, ET.Element]:
    with zipfile.ZipFile(path) as z:
        return ET.fromstring(z.read("content.xml")), ET.fromstring(z.read("styles.xml"))


def test_ods_keeps_print_setup_and_date_widths(workbooks: dict[str, Path]) -> None:
    soffice_or_skip()
    content, styles = _ods_xml(workbooks["ods"])

    def attr(element: ET.Element, name: str) -> str:
        prefix, local = name.split(":")
        return element.get(f"{{{NS[prefix]}}}{local}", "")

    auto = {attr(s, "style:name"): s for s in content.iter(f"{{{NS['style']}}}style")}
    masters = {attr(m, "style:name"): attr(m, "style:page-layout-name")
               for m in styles.iter(f"{{{NS['style']}}}master-page")}
    layouts = {attr(p, "style:name"): p.find("style:page-layout-properties", NS)
               for p in styles.iter(f"{{{NS['style']}}}page-layout")}
    seen = set()
    for table in content.iter(f"{{{NS['table']}}}table"):
        name = attr(table, "table:name")
        master = attr(auto[attr(table, "table:style-name")], "style:master-page-name")
        page = layouts[masters[master]]
        assert page is not None
        assert attr(page, "style:scale-to-X") == "1", name
        assert attr(page, "style:scale-to-Y") in ("", "0"), name
        assert attr(page, "style:print-orientation") == (
            "landscape" if name in WIDE else "portrait"), name
        assert attr(page, "fo:page-width") in ("8.2681in", "11.6929in"), name  # A4
        widths = []
        for column in table.iter(f"{{{NS['table']}}}table-column"):
            props = auto[attr(column, "table:style-name")].find(
                "style:table-column-properties", NS)
            assert props is not None
            inches = float(attr(props, "style:column-width").removesuffix("in"))
            widths += [inches] * int(attr(column, "table:number-columns-repeated") or 1)
        for header in DATE_COLUMNS.get(name, ()):
            index = [L.OBJECTIVE_COLUMNS + L.OBJECTIVE_COMPUTED, L.KR_COLUMNS + L.KR_COMPUTED,
                     L.CHECKIN_COLUMNS][[L.OBJECTIVES, L.KEY_RESULTS, L.CHECKINS].index(
                         name)].index(header)
            # 21 characters of 7 px (11-point Calibri's digit) and 5 px of padding at 96 dpi
            assert widths[index] >= (DATE_WIDTH * 7 + 5) / 96 - 0.01, (name, header)
            seen.add((name, header))
    assert seen == {(n, h) for n, hs in DATE_COLUMNS.items() for h in hs}


# --- the workbook as LibreOffice shows and prints it ---------------------------------------------


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_libreoffice_shows_dates_one_kind_of_boolean_and_status_colours(
        kind: str, workbooks: dict[str, Path], tmp_path: Path) -> None:
    soffice_or_skip()
    sheets = shown(workbooks[kind], tmp_path)
    for name, headers in DATE_COLUMNS.items():
        for header in headers:
            values = {row[header] for row in sheets[name]} - {""}
            assert values, (name, header)
            assert all(re.fullmatch(r"2026-\d\d-\d\d \d\d:\d\d:\d\d", v) for v in values), values
    assert sheets[L.OBJECTIVES][0]["Start"] == SHOWN_DATE
    for name, headers in BOOLEAN_COLUMNS.items():
        for header in headers:
            assert {row[header] for row in sheets[name]} <= {"TRUE", "FALSE", ""}, (name, header)
    assert {row["Stale"] for row in sheets[L.KEY_RESULTS]} == {"TRUE", "FALSE", ""}
    assert {row["History"] for row in sheets[L.KEY_RESULTS]} == {"TRUE", ""}
    summary = {row["Objective"]: row for row in sheets[L.SUMMARY]}
    assert list(summary) == IDS
    assert (summary["sales-emea"]["Status"], summary["sales-emea"]["Colour"]) == (
        "off_track", "red")
    assert (summary["co-scale"]["Status"], summary["co-scale"]["Colour"]) == ("on_track", "green")
    assert summary["sales"]["Progress"] == "32.6%"
    assert summary["sales"]["Status"] == ""


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_five_objectives_print_on_a_handful_of_pages(
        kind: str, workbooks: dict[str, Path], tmp_path: Path) -> None:
    soffice_or_skip()
    [pdf] = convert([workbooks[kind]], tmp_path, to="pdf", recalculate=False)
    # Seven sheets, each one page wide: one page each, three for the 110 check-ins (21 pages
    # before the print setup).
    assert pdf_pages(pdf) == 9
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pdftotext is required in CI: .ci/run installs poppler-utils")
        return
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "###" not in text  # a date too wide for its column
    assert text.count(SHOWN_DATE) >= 3  # Start of the five objectives, on one page
    assert "Summary: page 1 of 9" in text
    assert "Key results: page 3 of 9" in text
    first = text.split("\f")[0]
    assert re.search(r"0%\s+25%\s+50%\s+75%\s+100%", first)  # the chart's percent axis


def test_a_boolean_formula_shows_true_or_false_like_a_stored_boolean(tmp_path: Path) -> None:
    # No exported formula yields a boolean today; a boolean column formats whatever it holds.
    sheet = Sheet(L.KEY_RESULTS, ["ID", "Stale", "Done"], [
        {"ID": "a", "Stale": Formula("1>0", 1.0), "Done": False},
        {"ID": "b", "Stale": Formula("1<0", 0.0), "Done": True}])
    book = tmp_path / "formula.xlsx"
    save_sheets([sheet], book)
    ws = load_workbook(book)[L.KEY_RESULTS]
    assert [(c.value, c.number_format) for c in ws["B"][1:]] == [
        ("=1>0", BOOLEAN_FORMAT), ("=1<0", BOOLEAN_FORMAT)]
    soffice_or_skip()
    soffice = find_soffice()
    assert soffice is not None
    with tempfile.TemporaryDirectory(prefix="okrcore-csv-") as profile:
        subprocess.run([soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
                        "--norestore", "--convert-to",
                        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true",
                        "--outdir", str(tmp_path / "csv"), str(book)],
                       capture_output=True, check=True, timeout=300)
    assert _rows(tmp_path / "csv" / "formula.csv") == [
        ["ID", "Stale", "Done"], ["a", "TRUE", "FALSE"], ["b", "FALSE", "TRUE"]]


def test_wrapped_names_get_rows_tall_enough(workbooks: dict[str, Path], tmp_path: Path) -> None:
    ws = load_workbook(workbooks["xlsx"])[L.OBJECTIVES]
    name = [c.value for c in ws[1]].index("Name")
    assert ws.column_dimensions[L.column_letter(name)].width == 40
    assert ws[2][name].value == "Become the go-to finance platform for mid-market teams"
    assert ws[2][name].alignment.wrap_text is True
    assert ws.row_dimensions[2].height == 30  # two lines of 15 points
    assert ws.row_dimensions[5].height is None  # "Win the DACH and Nordics mid-market": one line
    huge = five_objectives()
    first = huge.objectives[0]
    assert isinstance(first, Objective)
    objectives = [attrs.evolve(first, name="word " * 3000), *huge.objectives[1:]]
    book = write_workbook(tmp_path / "huge.xlsx", attrs.evolve(huge, objectives=objectives)).path
    assert load_workbook(book)[L.OBJECTIVES].row_dimensions[2].height == 409  # Excel's tallest
