"""Issue 17, fault injection: result documents and workbooks, and workbook sources.

``okrcore recompute doc.json -o results.json|book.xlsx`` where a previous good output exists,
under SIGKILL at random points, a real full disk (a size-limited tmpfs the test mounts as
root, as in CI), a read-only output directory or file and concurrent runs.  Each case checks:
no traceback (stderr empty or one line), the previous complete output readable and unchanged
(or the new one complete), and a rerun equal to a clean run.  The corrupted-value cases of
workbook sources extend ``test_jobs_workbook_faults.py`` (xlsx, csv) to ods.

The old output is computed as of 2026-02-15 and the new one as of 2026-03-01, so a test can
tell which one it reads.
"""

from __future__ import annotations

import errno
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fault_mounts import IN_CI, mount_tmpfs, read_only

from okrcore.cli import main
from okrcore.jobs import EXIT_FAILED, EXIT_ITEM_ERRORS, EXIT_USAGE

HERE = Path(__file__).parent
ORACLE = HERE / "jobs_oracle.json"
OLD = ("--as-of", "2026-02-15T00:00:00Z", "--progress", "never")
NEW = ("--as-of", "2026-03-01T00:00:00Z", "--progress", "never")
KINDS = ["results.json", "book.xlsx"]

# kills the job just before it renames its output into place, the new file half-written
DRIVER = r"""
import os, signal, sys
real_replace = os.replace

def replace(src, dst, *args, **kwargs):
    with open(src, "r+b") as handle:
        handle.truncate(max(0, os.path.getsize(src) // 2))
    os.kill(os.getpid(), signal.SIGKILL)

os.replace = replace
from okrcore.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _needs(name: str) -> None:
    if name.endswith((".xlsx", ".ods")):
        pytest.importorskip("okrcore_spreadsheet", reason="okrcore_spreadsheet not installed")


def content(path: Path) -> Any:
    """What a reader gets from a complete output (raises on a truncated one).

    Documents are compared byte for byte; workbooks by their cell values (an xlsx file holds
    its creation time).
    """
    if path.suffix == ".json":
        json.loads(path.read_bytes())
        return path.read_bytes()
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c for c in row] for row in ws.iter_rows(values_only=True)]
            for ws in wb.worksheets}


def _cli(target: Path, args: tuple[str, ...], capsys: pytest.CaptureFixture[str]
         ) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(["recompute", str(ORACLE), "-o", str(target), *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _command(target: Path, args: tuple[str, ...]) -> list[str]:
    return [sys.executable, "-m", "okrcore.cli", "recompute", str(ORACLE), "-o", str(target),
            *args]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The old and new outputs of clean runs, per output kind."""
    root = tmp_path_factory.mktemp("clean")
    out: dict[str, dict[str, Any]] = {}
    for name in KINDS:
        try:
            _needs(name)
        except pytest.skip.Exception:
            continue
        for label, args in (("old", OLD), ("new", NEW)):
            target = root / label / name
            assert main(["recompute", str(ORACLE), "-o", str(target), *args]) == 1
            out.setdefault(name, {})[label] = content(target)
        assert out[name]["old"] != out[name]["new"]
    return out


def _previous(directory: Path, name: str, capsys: pytest.CaptureFixture[str]) -> Path:
    _needs(name)
    target = directory / name
    assert _cli(target, OLD, capsys)[0] == 1
    return target


def _assert_failed_in_one_line(status: int, out: str, err: str, reason: str) -> None:
    assert status == EXIT_FAILED, out
    assert err == "" and "Traceback" not in out
    [failed] = [line for line in out.splitlines() if "FAILED" in line]
    assert reason in failed, failed


def _kill_in_the_write(target: Path) -> None:
    done = subprocess.run([sys.executable, "-c", DRIVER, "recompute", str(ORACLE), "-o",
                           str(target), *NEW], capture_output=True, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr


@pytest.mark.parametrize("name", KINDS)
def test_sigkill_at_random_points_keeps_a_complete_output(
        clean: dict[str, dict[str, Any]], tmp_path: Path, name: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Kills at random times and inside the write (seeded: ``OKRCORE_FAULT_SEED``): the output
    is always the old one or the new one, complete; the next run removes the temporary files
    the killed runs left, and equals a clean run."""
    target = _previous(tmp_path, name, capsys)
    old = target.read_bytes()
    rng = random.Random(int(os.environ.get("OKRCORE_FAULT_SEED", "17")) + len(name))
    t0 = time.perf_counter()
    subprocess.run(_command(tmp_path / "timing" / name, NEW), capture_output=True, check=False)
    duration = time.perf_counter() - t0
    for i in range(6):
        if i % 2:  # inside the write: the new file half-written, just before the rename
            _kill_in_the_write(target)
        else:  # at a random time: starting, computing, writing, renaming or finished
            process = subprocess.Popen(_command(target, NEW), stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.2, 1.2) * duration)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
        got = content(target)  # complete: it reads
        assert got in (clean[name]["old"], clean[name]["new"]), i
        if got == clean[name]["new"]:
            target.write_bytes(old)
        else:
            assert target.read_bytes() == old, i  # the old output, byte-identical
    # a killed run inside the write leaves its temporary file (a dot file) ...
    assert [p.name for p in tmp_path.glob(f".{target.stem}.tmp-*")]
    assert target.read_bytes() == old
    # ... which the next run removes; the rerun equals a clean run
    assert _cli(target, NEW, capsys)[0] == 1
    assert content(target) == clean[name]["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "timing"])


def test_temporary_files_of_live_runs_are_kept(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    target = _previous(tmp_path, "results.json", capsys)
    live = tmp_path / f".results.tmp-{os.getppid()}-abcdef12.json"  # a concurrent run's
    dead = tmp_path / ".results.tmp-999999999-abcdef12.json"  # no such process
    other = tmp_path / ".other.tmp-999999999-abcdef12.json"  # another output's
    for path in (live, dead, other):
        path.write_text("{")
    assert _cli(target, NEW, capsys)[0] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, other.name, "results.json"])


def _fill(directory: Path) -> Path:
    """Fill the file system of ``directory`` up to the last byte."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as handle:
        for size in (65536, 4096, 512, 1):
            while True:
                try:
                    handle.write(b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    return filler


# openpyxl leaves its zip archive open when the disk fills: closing it on collection fails
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("name", KINDS)
def test_a_real_full_disk_keeps_the_previous_output(
        clean: dict[str, dict[str, Any]], tmp_path: Path, name: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    _needs(name)
    disk = tmp_path / "disk"
    disk.mkdir()
    mount_tmpfs(disk, 1 << 20)
    try:
        target = _previous(disk, name, capsys)
        old = target.read_bytes()
        filler = _fill(disk)
        status, out, err = _cli(target, NEW, capsys)
        _assert_failed_in_one_line(status, out, err, "No space left on device")
        assert target.read_bytes() == old
        assert sorted(p.name for p in disk.iterdir()) == sorted([name, "filler"])
        filler.unlink()
        assert _cli(target, NEW, capsys)[0] == 1
        assert content(target) == clean[name]["new"]
    finally:
        subprocess.run(["umount", str(disk)], check=False, capture_output=True)


@pytest.mark.parametrize("name", KINDS)
def test_a_read_only_output_directory_keeps_the_previous_output(
        clean: dict[str, dict[str, Any]], tmp_path: Path, name: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "out"
    directory.mkdir()
    target = _previous(directory, name, capsys)
    old = target.read_bytes()
    with read_only(directory):
        status, out, err = _cli(target, NEW, capsys)
        _assert_failed_in_one_line(status, out, err, "cannot write")
        assert target.read_bytes() == old
    assert sorted(p.name for p in directory.iterdir()) == [name]
    assert _cli(target, NEW, capsys)[0] == 1
    assert content(target) == clean[name]["new"]


@pytest.mark.parametrize("name", KINDS)
def test_a_read_only_output_file_is_not_replaced(
        clean: dict[str, dict[str, Any]], tmp_path: Path, name: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Before: the rename replaced a read-only result file (and root ignores modes)."""
    target = _previous(tmp_path, name, capsys)
    old = target.read_bytes()
    target.chmod(0o444)
    status, out, err = _cli(target, NEW, capsys)
    _assert_failed_in_one_line(status, out, err, "the file is read-only")
    assert target.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    target.chmod(0o644)
    assert _cli(target, NEW, capsys)[0] == 1
    assert content(target) == clean[name]["new"]


@pytest.mark.parametrize("name", KINDS)
def test_concurrent_runs_leave_one_complete_output(
        clean: dict[str, dict[str, Any]], tmp_path: Path, name: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    target = _previous(tmp_path, name, capsys)
    runs = [subprocess.Popen(_command(target, (OLD, NEW)[i % 2]), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for i in range(4)]
    results = [r.communicate(timeout=120) for r in runs]
    assert [r.returncode for r in runs] == [1, 1, 1, 1], [e for _, e in results]
    assert all(e == "" for _, e in results)
    assert content(target) in (clean[name]["old"], clean[name]["new"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert _cli(target, NEW, capsys)[0] == 1
    assert content(target) == clean[name]["new"]


# ------------------------------------------------------------------------------------------
# one corrupted value in every column of every input sheet of an ods source
# ------------------------------------------------------------------------------------------

_NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
       "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
       "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}
_TEXT_COLUMNS = {"ID", "Name", "Owner", "Parent", "Objective", "Owners", "Unit", "Sum unit",
                 "Key result"}


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{_NS[prefix]}}}{local}"


def _expand(parent: Any, tag: str, attribute: str) -> None:
    """Write out small repeats (``number-rows/columns-repeated``) as copies, in place."""
    import copy

    for child in list(parent):
        count = int(child.get(_q(attribute), "1"))
        if child.tag != _q(tag) or not 1 < count <= 64:
            continue
        del child.attrib[_q(attribute)]
        at = list(parent).index(child)
        for k in range(1, count):
            parent.insert(at + k, copy.deepcopy(child))


def _cell_text(cell: Any) -> str:
    return "".join("".join(p.itertext()) for p in cell.findall("text:p", _NS))


def test_one_bad_value_in_every_input_column_of_an_ods(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Generated, as ``test_jobs_workbook_faults.py`` does for xlsx and csv: in each input
    column of an ods workbook the first filled cell becomes the text ``§bad`` (every Settings
    value, one at a time).  A typed column gives a row error naming the cell (exit 1), a
    Settings value one line (exit 2), a text column is read (exit 0 or 1); never a traceback,
    and the previous results file is unchanged when nothing is written."""
    import xml.etree.ElementTree as ET

    sheets = pytest.importorskip("okrcore_spreadsheet", reason="okrcore_spreadsheet not installed")
    if shutil.which("soffice") is None and not IN_CI:
        pytest.skip("LibreOffice (soffice) is needed to write an ods workbook")
    import okrcore
    from okrcore_spreadsheet import layout as lay

    base = tmp_path / "book.ods"
    sheets.write_workbook(base, okrcore.loads(ORACLE.read_bytes()))
    with zipfile.ZipFile(base) as z:
        xml = z.read("content.xml")
    for prefix, uri in (ev for _, ev in ET.iterparse(io.BytesIO(xml), events=["start-ns"])):
        ET.register_namespace(prefix, uri)
    columns = {lay.OBJECTIVES: lay.OBJECTIVE_COLUMNS, lay.KEY_RESULTS: lay.KR_COLUMNS,
               lay.CHECKINS: lay.CHECKIN_COLUMNS, lay.CHECKPOINTS: lay.CHECKPOINT_COLUMNS,
               lay.SETTINGS: ("Value",)}
    root = ET.fromstring(xml)
    cases = []
    for table in root.iter(_q("table:table")):
        sheet = table.get(_q("table:name"))
        if sheet not in columns:
            continue
        for parent in list(table.iter()):  # rows are in the table or in header-rows
            _expand(parent, "table:table-row", "table:number-rows-repeated")
        rows = list(table.iter(_q("table:table-row")))
        for row in rows:
            _expand(row, "table:table-cell", "table:number-columns-repeated")
        grid = [row.findall("table:table-cell", _NS) for row in rows]
        header = [_cell_text(c) for c in grid[0]]
        for name in columns[sheet]:
            col = header.index(name)
            filled = [r for r in range(1, len(grid)) if col < len(grid[r])
                      and grid[r][col].get(_q("office:value-type")) is not None]
            for r in filled if sheet == lay.SETTINGS else filled[:1]:
                cases.append((sheet, name, r, col))
    assert {s for s, *_ in cases} == set(columns) - {lay.CHECKPOINTS}  # the oracle has none
    assert len(cases) > 30
    normalised = ET.tostring(root, xml_declaration=True, encoding="UTF-8")
    previous = tmp_path / "previous.json"
    assert main(["recompute", str(ORACLE), "-o", str(previous), *OLD]) == 1
    for i, (sheet, name, r, col) in enumerate(cases):
        tree = ET.fromstring(normalised)
        [table] = [t for t in tree.iter(_q("table:table")) if t.get(_q("table:name")) == sheet]
        cell = list(table.iter(_q("table:table-row")))[r].findall("table:table-cell", _NS)[col]
        for key in list(cell.attrib):
            if not key.endswith("}style-name"):
                del cell.attrib[key]
        for child in list(cell):
            cell.remove(child)
        cell.set(_q("office:value-type"), "string")
        ET.SubElement(cell, _q("text:p")).text = "§bad"
        bad = tmp_path / f"bad{i}.ods"
        with zipfile.ZipFile(base) as zin, zipfile.ZipFile(bad, "w") as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename == "content.xml":
                    data = ET.tostring(tree, xml_declaration=True, encoding="UTF-8")
                zout.writestr(item, data)
        where = f"{sheet}!{lay.column_letter(col)}{r + 1}"
        old = previous.read_bytes()
        capsys.readouterr()
        status = main(["recompute", str(bad), "-o", str(previous), "--json"])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err and "Traceback" not in captured.out, where
        if sheet == lay.SETTINGS:
            assert status == EXIT_USAGE and where in captured.err, (where, captured.err)
            assert len(captured.err.strip().splitlines()) == 1, where
            assert previous.read_bytes() == old, where  # nothing was written
            continue
        report = json.loads(captured.out)
        messages = [e["message"] for e in report["instants"][0]["errors"]]
        if name in _TEXT_COLUMNS:
            assert status in (0, EXIT_ITEM_ERRORS), where
        else:
            assert status == EXIT_ITEM_ERRORS, (where, messages)
            assert any(m.startswith(where) and "§bad" in m for m in messages), (where, messages)
        content(previous)  # complete
    # the untouched (normalised) workbook reads as the original: a rerun equals a clean run
    clean_run = tmp_path / "clean.json"
    assert main(["recompute", str(base), "-o", str(clean_run), "--progress", "never"]) == 1
    assert main(["recompute", str(base), "-o", str(previous), "--progress", "never"]) == 1
    assert previous.read_bytes() == clean_run.read_bytes()
