"""``okrcore recompute`` on workbooks, through okrcore_spreadsheet when it is installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import okrcore
from okrcore.cli import main
from okrcore.jobs import EXIT_ITEM_ERRORS, EXIT_USAGE

HERE = Path(__file__).parent


def test_workbook_in_and_out(tmp_path: Path) -> None:
    sheets = pytest.importorskip("okrcore_spreadsheet",
                                 reason="okrcore_spreadsheet not installed")
    document = okrcore.loads((HERE / "jobs_oracle.json").read_bytes())
    sheets.write_workbook(tmp_path / "okrs.xlsx", document)
    status = main(["recompute", str(tmp_path / "okrs.xlsx"), "-o", str(tmp_path / "r.json"),
                   "--as-of", "2026-02-15", "--progress", "never"])
    assert status == EXIT_ITEM_ERRORS  # the degenerate metric c1
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["objectives"]["a"]["progress"] == 0.75
    assert result["people"]["pat"]["progress"] == (1.0 + 0.125 + 0.3) / 3
    # and back into a workbook, evaluated at another instant
    status = main(["recompute", str(tmp_path / "okrs.xlsx"), "-o", str(tmp_path / "out.xlsx"),
                   "--as-of", "2026-02-01", "--progress", "never"])
    assert status == EXIT_ITEM_ERRORS
    again = sheets.read_workbook(tmp_path / "out.xlsx").document
    assert again.as_of.isoformat() == "2026-02-01T00:00:00+00:00"
    assert okrcore.evaluate(again).key_results["bc1"].progress == 0.1


def test_unreadable_workbook_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    pytest.importorskip("okrcore_spreadsheet", reason="okrcore_spreadsheet not installed")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    assert main(["recompute", str(tmp_path / "broken.xlsx")]) == EXIT_USAGE
    assert "broken.xlsx" in capsys.readouterr().err
