"""``okrcore recompute`` on bad workbooks and csv files: exit 1 with located row errors, or
exit 2 with one line before anything is written (issue 17)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import okrcore
from okrcore.cli import main
from okrcore.jobs import EXIT_ITEM_ERRORS, EXIT_USAGE

sheets = pytest.importorskip("okrcore_spreadsheet", reason="okrcore_spreadsheet not installed")
openpyxl = pytest.importorskip("openpyxl")

ORACLE = Path(__file__).parent / "jobs_oracle.json"


def _xlsx(tmp_path: Path, change: Callable[[Any], None]) -> Path:
    path = tmp_path / "book.xlsx"
    sheets.write_workbook(path, okrcore.loads(ORACLE.read_bytes()))
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def _run(capsys: pytest.CaptureFixture[str], source: Path, out: Path
         ) -> tuple[int, dict[str, Any] | None, str]:
    status = main(["recompute", str(source), "-o", str(out), "--progress", "never", "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out) if captured.out.strip() else None
    return status, report, captured.err


def _set(sheet: str, cell: str, value: Any) -> Callable[[Any], None]:
    def change(wb: Any) -> None:
        wb[sheet][cell] = value
    return change


def _merge(wb: Any) -> None:
    wb["Key results"].merge_cells("I1:J1")


def _twin(wb: Any) -> None:
    wb.create_sheet("KEY RESULTS ")


def _no_objectives(wb: Any) -> None:
    del wb["Objectives"]


@pytest.mark.parametrize(("change", "named"), [
    (_set("Key results", "K2", "=25*2"), "Key results!K2"),  # before: progress 0.5 -> 0.0, exit 0
    (_merge, "Key results!I1:J1"),
    (_twin, "'KEY RESULTS '"),
    (_no_objectives, "no sheet 'Objectives'"),  # before: 7 key results dropped, exit 0
], ids=["uncached-formula", "merged-header", "ambiguous-sheets", "missing-sheet"])
def test_whole_workbook_problems_exit_two_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Callable[[Any], None],
        named: str) -> None:
    status, _, err = _run(capsys, _xlsx(tmp_path, change), tmp_path / "r.json")
    assert status == EXIT_USAGE
    assert len(err.strip().splitlines()) == 1 and named in err
    assert "Traceback" not in err
    assert not (tmp_path / "r.json").exists()  # nothing was written


def test_rows_the_import_drops_are_errors_of_the_job(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # before: a key result naming an unknown objective vanished and the job exited 0
    def change(wb: Any) -> None:
        wb["Key results"]["A3"] = "nowhere"  # a2 (owned by pat)
        wb["Check-ins"]["A2"] = "ghost"
    status, report, _ = _run(capsys, _xlsx(tmp_path, change), tmp_path / "r.json")
    assert status == EXIT_ITEM_ERRORS
    assert report is not None
    errors = {(e["table"], e["key"], e["path"]): e for e in report["instants"][0]["errors"]}
    dropped = errors[("key_results", "a2", "Key results!A3")]
    assert dropped["code"] == "unknown_reference"
    assert "'nowhere'" in dropped["message"]
    assert ("check_ins", "ghost", "Check-ins!A2") in errors
    # the rest is computed: a keeps a1 alone (50 of 100)
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["objectives"]["a"]["progress"] == 0.5


def test_bad_cells_are_row_errors_naming_sheet_cell_and_value(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def change(wb: Any) -> None:
        wb["Key results"]["G2"] = date(9999, 12, 31)  # before: a traceback
        wb["Key results"]["G2"].number_format = "yyyy-mm-dd"
        wb["Key results"]["L4"] = "maybe"
    status, report, err = _run(capsys, _xlsx(tmp_path, change), tmp_path / "r.json")
    assert status == EXIT_ITEM_ERRORS and "Traceback" not in err
    assert report is not None
    messages = {e["key"]: e["message"] for e in report["instants"][0]["errors"]
                if e["table"] == "key_results"}
    assert messages["a1"].startswith("Key results!G2 (value datetime.date(9999, 12, 31)): ")
    assert messages["b1"].startswith("Key results!L4 (value 'maybe'): done must be")
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["key_results"]["c2"]["progress"] == 0.5


def _csv(tmp_path: Path) -> Path:
    directory = tmp_path / "csv"
    sheets.write_csv(directory, okrcore.loads(ORACLE.read_bytes()))
    return directory / "Key results.csv"


def test_csv_bad_values_are_row_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    # before: a .csv source was read as a JSON document; read as a workbook, 400 digits and
    # 9999-12-31 raised raw exceptions
    kr = _csv(tmp_path)
    text = kr.read_text(encoding="utf-8")
    text = text.replace("a,a1,,metric,,1,,,0,100,50", "a,a1,,metric,,1,,,0," + "9" * 400 + ",50")
    text = text.replace("a,a2,,metric,pat,1,,", "a,a2,,metric,pat,1,9999-12-31,")
    kr.write_text(text, encoding="utf-8")
    status, report, err = _run(capsys, kr, tmp_path / "r.json")
    assert status == EXIT_ITEM_ERRORS and "Traceback" not in err
    assert report is not None
    errors = {e["key"]: e for e in report["instants"][0]["errors"]
              if e["table"] == "key_results"}
    assert errors["a1"]["code"] == "not_finite"
    assert errors["a1"]["message"].startswith("Key results!J2 (value '999")
    assert len(errors["a1"]["message"]) < 400
    assert errors["a2"]["code"] == "out_of_range"
    assert errors["a2"]["message"].startswith("Key results!G3 (value '9999-12-31'): ")


def test_csv_not_utf8_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kr = _csv(tmp_path)
    kr.write_bytes(kr.read_bytes().replace(b"a1", b"a\xff1", 1))
    status, _, err = _run(capsys, kr, tmp_path / "r.json")
    assert status == EXIT_USAGE
    assert len(err.strip().splitlines()) == 1 and "not UTF-8" in err
    assert not (tmp_path / "r.json").exists()


def test_ods_repeat_bomb_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "base.ods"
    sheets.write_workbook(source, okrcore.loads(ORACLE.read_bytes()))
    bomb = tmp_path / "bomb.ods"
    row = ('<table:table-row table:number-rows-repeated="1000000000"><table:table-cell '
           'office:value-type="string"><text:p>a1</text:p></table:table-cell></table:table-row>')
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(bomb, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "content.xml":
                text = data.decode("utf-8")
                at = text.index("</table:table-row>", text.index('table:name="Check-ins"'))
                at += len("</table:table-row>")
                data = (text[:at] + row + text[at:]).encode("utf-8")
            zout.writestr(item, data)
    status, _, err = _run(capsys, bomb, tmp_path / "r.json")
    assert status == EXIT_USAGE
    assert len(err.strip().splitlines()) == 1 and "more than 1048576 rows" in err


def test_dropped_rows_are_not_stored_in_a_database(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("okrcore_sqlalchemy", reason="okrcore_sqlalchemy not installed")
    pytest.importorskip("sqlalchemy")
    book = _xlsx(tmp_path, _set("Key results", "A3", "nowhere"))
    url = f"sqlite:///{tmp_path / 'okrs.db'}"
    status = main(["recompute", str(book), "-o", url, "--progress", "never"])
    err = capsys.readouterr().err
    assert status == EXIT_USAGE
    assert len(err.strip().splitlines()) == 1 and "Key results!A3" in err
    assert "nothing was written" in err


_TEXT_COLUMNS = {"ID", "Name", "Owner", "Parent", "Objective", "Owners", "Unit", "Sum unit",
                 "Key result"}


def test_one_bad_value_in_every_input_column(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Generated: in each input column, the first filled cell becomes ``§bad``.

    A typed column gives an error naming that cell (a row error, exit 1; a Settings value stops
    the job with one line, exit 2); a text column is still read (exit 0 or 1). Never a traceback.
    """
    from okrcore_spreadsheet import layout as lay

    path = tmp_path / "book.xlsx"
    sheets.write_workbook(path, okrcore.loads(ORACLE.read_bytes()))
    wb = openpyxl.load_workbook(path)
    columns = {lay.OBJECTIVES: lay.OBJECTIVE_COLUMNS, lay.KEY_RESULTS: lay.KR_COLUMNS,
               lay.CHECKINS: lay.CHECKIN_COLUMNS, lay.CHECKPOINTS: lay.CHECKPOINT_COLUMNS,
               lay.SETTINGS: ("Value",)}
    cases = []
    for sheet, names in columns.items():
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        for name in names:
            col = header.index(name) + 1
            filled = [r for r in range(2, ws.max_row + 1)
                      if ws.cell(r, col).value is not None]
            for row in filled if sheet == lay.SETTINGS else filled[:1]:
                cases.append((sheet, name, ws.cell(row, col).coordinate))
    assert len(cases) > 30
    for i, (sheet, name, cell) in enumerate(cases):
        wb = openpyxl.load_workbook(path)
        wb[sheet][cell] = "§bad"
        bad = tmp_path / f"bad{i}.xlsx"
        wb.save(bad)
        status, report, err = _run(capsys, bad, tmp_path / f"r{i}.json")
        where = f"{sheet}!{cell}"
        assert "Traceback" not in err, where
        if sheet == lay.SETTINGS:
            assert status == EXIT_USAGE and where in err, where
            assert len(err.strip().splitlines()) == 1, where
            continue
        assert report is not None, where
        messages = [e["message"] for e in report["instants"][0]["errors"]]
        if name in _TEXT_COLUMNS:
            assert status in (0, EXIT_ITEM_ERRORS), where
        else:
            assert status == EXIT_ITEM_ERRORS, where
            assert any(m.startswith(where) and "§bad" in m for m in messages), (where, messages)


def test_one_bad_value_in_every_input_column_of_a_csv_export(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Generated, as above, for a workbook exported as csv files."""
    import csv

    from okrcore_spreadsheet import layout as lay

    directory = tmp_path / "csv"
    sheets.write_csv(directory, okrcore.loads(ORACLE.read_bytes()))
    columns = {lay.OBJECTIVES: lay.OBJECTIVE_COLUMNS, lay.KEY_RESULTS: lay.KR_COLUMNS,
               lay.CHECKINS: lay.CHECKIN_COLUMNS}
    checked = 0
    for sheet, names in columns.items():
        file = directory / f"{sheet}.csv"
        original = file.read_text(encoding="utf-8")
        rows = list(csv.reader(original.splitlines()))
        for name in names:
            col = rows[0].index(name)
            filled = [r for r in range(1, len(rows)) if rows[r][col] != ""]
            if not filled:
                continue
            changed = [list(r) for r in rows]
            changed[filled[0]][col] = "§bad"
            with file.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows(changed)
            where = f"{sheet}!{lay.column_letter(col)}{filled[0] + 1}"
            status, report, err = _run(capsys, file, tmp_path / "r.json")
            file.write_text(original, encoding="utf-8")
            checked += 1
            assert "Traceback" not in err and report is not None, (where, err)
            messages = [e["message"] for e in report["instants"][0]["errors"]]
            if name in _TEXT_COLUMNS:
                assert status in (0, EXIT_ITEM_ERRORS), where
            else:
                assert status == EXIT_ITEM_ERRORS, where
                assert any(m.startswith(where) and "§bad" in m for m in messages), \
                    (where, messages)
    assert checked > 20
