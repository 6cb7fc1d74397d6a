"""Round trip: import(export(document)) == document, for xlsx, ods and csv."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from sheet_cases import hand_written
from sheet_helpers import soffice_or_skip, workbook_documents

import okrcore
from okrcore import Document
from okrcore_spreadsheet import read_workbook, write_csv, write_workbook


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(workbook_documents())
def test_xlsx_round_trip(document: Document) -> None:
    with tempfile.TemporaryDirectory(prefix="okrcore-sheet-") as tmp:
        path = write_workbook(Path(tmp) / "d.xlsx", document).path
        result = read_workbook(path)
    assert result.errors == ()
    assert result.document == document


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(workbook_documents())
def test_csv_round_trip(document: Document) -> None:
    with tempfile.TemporaryDirectory(prefix="okrcore-sheet-") as tmp:
        write_csv(tmp, document)
        result = read_workbook(tmp)
    assert result.errors == ()
    assert result.document == document


def test_hand_written_round_trips(tmp_path: Path) -> None:
    for name, doc in hand_written().items():
        assert read_workbook(write_workbook(tmp_path / f"{name}.xlsx", doc).path).document == doc
        write_csv(tmp_path / name, doc)
        assert read_workbook(tmp_path / name).document == doc


def test_ods_round_trip(tmp_path: Path) -> None:
    soffice_or_skip()
    for name in ("example", "alignment", "history_and_timeline"):
        doc = hand_written()[name]
        assert read_workbook(write_workbook(tmp_path / f"{name}.ods", doc).path).document == doc


def test_csv_export_keeps_every_digit(tmp_path: Path) -> None:
    doc = hand_written()["sum_fixed_auto_mean"]
    write_csv(tmp_path, doc)
    with (tmp_path / "Objectives.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    auto = next(r for r in rows if r["ID"] == "auto")
    # 800000 / 850000, not "94.1%" or a rounded 0.94
    assert auto["Progress"] == repr(800000 / 850000) == "0.9411764705882353"
    assert float(auto["Progress"]) == okrcore.evaluate(doc).objectives["auto"].progress
