"""Import: a workbook written by hand following docs/spreadsheet.rst, errors, csv, ods."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sheet_helpers import soffice_or_skip

import okrcore
from okrcore_spreadsheet import (
    SheetError,
    WorkbookError,
    convert,
    read_workbook,
    write_template,
)


def _hand_written(path: Path, target: object = 20, weight: object = 1) -> Path:
    """The tutorial's workbook, typed the way the layout reference describes it."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Settings"
    ws.append(["Setting", "Value"])
    ws.append(["As of", datetime(2026, 2, 15)])
    objectives = wb.create_sheet("Objectives")
    # columns in another order than the template, plus a column of the user's own
    objectives.append(["Notes", "Due", "Start", "Owner", "ID", "Weight"])
    objectives.append(["support first", datetime(2026, 3, 31).date(), datetime(2026, 1, 1),
                       "ann", "support", weight])
    objectives.append([None, None, None, "bob", "sales", None])
    objectives.append([])  # blank rows are skipped
    krs = wb.create_sheet("Key results")
    krs.append(["Objective", "ID", "Kind", "Unit", "Start", "Target", "Current", "Stages total",
                "Stages done", "Owners"])
    krs.append(["support", "call-time", "metric", "min", 45, target, 30, None, None, None])
    krs.append(["support", "crm", "milestone", None, None, None, None, 5, 3, "carl"])
    krs.append(["sales", "deals", "metric", "deals", None, 10, None, None, None, None])
    krs.append(["nowhere", "lost", "binary", None, None, None, None, None, None, None])
    checkins = wb.create_sheet("Check-ins")
    checkins.append(["Key result", "At", "Value"])
    checkins.append(["deals", datetime(2026, 2, 1), 5])
    checkins.append(["ghost", datetime(2026, 2, 1), 1])
    wb.save(path)
    return path


def test_hand_written_workbook_evaluates_as_the_docs_say(tmp_path: Path) -> None:
    result = read_workbook(_hand_written(tmp_path / "okrs.xlsx", target=20))
    assert [str(e) for e in result.errors] == [
        "Key results!A5: objective 'nowhere' is not in the Objectives sheet; the key result "
        "is not imported",
        "Check-ins!A3: key result 'ghost' is not in the Key results sheet; the check-in row is "
        "not imported",
    ]
    ev = okrcore.evaluate(result.document)
    # call time 45 -> 20 at 30: (30 - 45) / (20 - 45) = 0.6; crm 3 of 5 = 0.6; mean 0.6
    assert ev.key_results["call-time"].progress == pytest.approx(0.6)
    assert ev.objectives["support"].progress == pytest.approx(0.6)
    # a date-only due is the end of that day: 1 Jan -> 1 Apr is 90 days, 45 days gone
    assert ev.objectives["support"].expected == pytest.approx(0.5)
    # check-in 5 of 10 deals before as_of; no timeline -> no colour (SEMANTICS §11.1)
    assert ev.key_results["deals"].progress == pytest.approx(0.5)
    assert ev.objectives["sales"].colour is None
    assert ev.key_results["deals"].colour is None
    # carl owns crm on ann's objective: it counts for him
    assert ev.people["carl"].progress == pytest.approx(0.6)


def test_bad_cells_name_sheet_cell_and_value_and_good_rows_are_kept(tmp_path: Path) -> None:
    result = read_workbook(_hand_written(tmp_path / "bad.xlsx", target="12k", weight=-1))
    messages = [str(e) for e in result.errors]
    assert messages[:2] == ["Objectives!F2: weight must be >= 0, got -1",
                            "Key results!F2: target must be a number, got '12k'"]
    assert [e.code for e in result.errors[:2]] == ["negative_weight", "not_a_number"]
    bad = next(e for e in result.errors if e.cell == "F2" and e.sheet == "Key results")
    assert bad == SheetError("Key results", "F2", "12k", "not_a_number",
                             "target must be a number, got '12k'")
    ev = okrcore.evaluate(result.document)
    assert "support" not in ev.objectives
    assert ev.objectives["sales"].progress == pytest.approx(0.5)  # the good rows are evaluated


def test_locate_maps_evaluation_errors_to_cells(tmp_path: Path) -> None:
    path = _hand_written(tmp_path / "okrs.xlsx")
    result = read_workbook(path)
    assert result.locate("objectives[0].key_results[0].target") == ("Key results", "F2", 20)
    assert result.locate("objectives[1].parent") == ("Objectives", "E3", "sales")


def test_missing_settings_is_a_workbook_error(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "Objectives"
    wb.save(tmp_path / "x.xlsx")
    with pytest.raises(WorkbookError, match="Settings"):
        read_workbook(tmp_path / "x.xlsx")


def test_bad_settings_name_their_cell(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Settings"
    for row in (["Setting", "Value"], ["As of", datetime(2026, 2, 15)], ["Cap", "lots"]):
        ws.append(row)
    wb.save(tmp_path / "cap.xlsx")
    with pytest.raises(WorkbookError, match=r"^Settings!B3: policy.cap: cap must be a number"):
        read_workbook(tmp_path / "cap.xlsx")
    ws["A3"], ws["B3"] = "Pace rule", "ratio"
    ws.append(["Pace yellow", 0.2])
    ws.append(["Pace red", 0.5])
    wb.save(tmp_path / "pace.xlsx")
    with pytest.raises(WorkbookError, match=r"^Settings!B5: policy.pace.red"):
        read_workbook(tmp_path / "pace.xlsx")
    ws["B2"] = "soon"
    wb.save(tmp_path / "as_of.xlsx")
    with pytest.raises(WorkbookError, match=r"^Settings!B2: as_of is not an ISO 8601"):
        read_workbook(tmp_path / "as_of.xlsx")


def test_csv_directory_imports_with_the_same_errors(tmp_path: Path) -> None:
    rows = {
        "Settings": [["Setting", "Value"], ["As of", "2026-02-15"], ["Preset", "viva"]],
        "Objectives": [["ID", "Start", "Due"], ["o", "2026-01-01", "2026-03-31"]],
        "Key results": [["Objective", "ID", "Kind", "Target", "Current", "Done"],
                        ["o", "k1", "metric", "10", "2.5", ""],
                        ["o", "k2", "metric", "12k", "", ""],
                        ["o", "k3", "binary", "", "", "TRUE"]],
    }
    for name, table in rows.items():
        with (tmp_path / f"{name}.csv").open("w", newline="") as handle:
            csv.writer(handle).writerows(table)
    result = read_workbook(tmp_path)
    assert [str(e) for e in result.errors] == [
        "Key results!D3: target must be a number, got '12k'"]
    obj = result.document.objectives[0]
    assert isinstance(obj, okrcore.Objective)
    assert obj.key_results[0] == okrcore.Metric(id="k1", target=10, current=2.5)
    assert obj.key_results[2] == okrcore.Binary(id="k3", done=True)
    assert result.document.policy.preset == "viva"
    assert result.document.as_of == datetime(2026, 2, 15, tzinfo=UTC)


def test_template_imports_and_evaluates(tmp_path: Path) -> None:
    result = read_workbook(write_template(tmp_path / "t.xlsx"))
    assert result.errors == ()
    ev = okrcore.evaluate(result.document)
    # the tutorial's numbers (docs/spreadsheet.rst): support (0.6 + 0.6 + 40/50) / 3
    support = (0.6 + 0.6 + 0.8) / 3
    assert ev.objectives["support"].progress == pytest.approx(support)
    # sales sums USD against its fixed target: (320000 + 180000) / 800000
    assert ev.objectives["sales"].progress == pytest.approx(0.625)
    # deals at 9 hits the yellow limit 10: the objective is yellow although on pace
    assert ev.objectives["sales"].colour == "yellow"
    assert ev.key_results["deals"].progress == 1.0
    assert ev.objectives["company"].progress == pytest.approx((support + 0.625) / 2)
    assert ev.objectives["company"].expected == pytest.approx(0.5)
    # bob: sales (his objective) and crm (his key result on ann's objective)
    assert ev.people["bob"].progress == pytest.approx((0.625 + 0.6) / 2)
    empty = read_workbook(write_template(tmp_path / "e.xlsx", example=False))
    assert empty.document.objectives == ()


def test_ods_written_by_libreoffice_imports(tmp_path: Path) -> None:
    soffice_or_skip()
    xlsx = _hand_written(tmp_path / "okrs.xlsx")
    [ods] = convert([xlsx], tmp_path / "ods", to="ods", recalculate=False)
    from_ods = read_workbook(ods)
    assert from_ods.document == read_workbook(xlsx).document
    assert [str(e) for e in from_ods.errors] == [str(e) for e in read_workbook(xlsx).errors]
