"""Issue 17: document and workbook outputs are written atomically; messages are one line.

* a failed or killed write of a result document or workbook leaves the previous file as it
  was (a temporary file in the same directory, renamed into place) and no stray file;
* a full device (``/dev/full``) gives one line on stderr and exit 4, not a traceback;
* names with control characters (a policy field, a file name, an id) are escaped: every
  message is one line.
"""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from okrcore.cli import main
from okrcore.jobs import EXIT_FAILED, EXIT_USAGE
from okrcore.jobs._text import one_line

HERE = Path(__file__).parent
ORACLE = HERE / "jobs_oracle.json"
AS_OF = "2026-02-15T00:00:00Z"


def test_one_line_escapes_control_characters_only() -> None:
    assert one_line("pa\nce\r\t\x00x") == "pa\\nce\\r\\t\\x00x"
    assert one_line("é ü → ok") == "é ü → ok"
    assert one_line(OSError("a\nb")) == "a\\nb"


def test_a_policy_field_with_a_newline_is_one_line(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"preset": "betterworks", "pa\nce": 1}))
    assert main(["recompute", str(ORACLE), "--as-of", AS_OF, "--policy", str(policy)]
                ) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == (f"okrcore recompute: {policy}: policy.pa\\nce: unknown policy field "
                   "'pa\\nce'\n")


def test_a_file_name_with_a_newline_is_one_line(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recompute", str(tmp_path / "no\nfile.json"), "--as-of", AS_OF]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no\\nfile.json" in err


def test_ids_with_newlines_are_one_line_each_in_the_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(ORACLE.read_text())
    data["objectives"][3]["key_results"][0]["id"] = "c\n1"  # the degenerate key result
    source = tmp_path / "doc.json"
    source.write_text(json.dumps(data))
    assert main(["recompute", str(source), "--as-of", AS_OF]) == 1
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if "degenerate_metric" in x]
    assert line.startswith("    key_results c\\n1: degenerate_metric: ")


@pytest.mark.parametrize("extra", [(), ("--json",), ("-o", "-")])
def test_a_full_device_is_one_line_and_exit_four(extra: tuple[str, ...]) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "okrcore.cli", "recompute", str(ORACLE), "--as-of", AS_OF,
             *extra], stdout=full, stderr=subprocess.PIPE, text=True, check=False)
    assert done.returncode == EXIT_FAILED
    assert done.stderr == ("okrcore recompute: cannot write the report to standard output: "
                           "No space left on device\n")


def _previous(path: Path) -> bytes:
    assert main(["recompute", str(ORACLE), "--as-of", AS_OF, "-o", str(path),
                 "--progress", "never"]) == 1
    return path.read_bytes()


def test_a_failed_document_write_keeps_the_previous_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "results.json"
    before = _previous(target)
    real = Path.write_text

    def half_then_full(self: Path, text: str, *args: Any, **kwargs: Any) -> int:
        real(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_full)
    capsys.readouterr()
    status = main(["recompute", str(ORACLE), "--as-of", "2026-03-01", "-o", str(target)])
    monkeypatch.undo()
    out = capsys.readouterr().out
    assert status == EXIT_FAILED
    assert "FAILED: as of 2026-03-01T00:00:00Z: cannot write" in out
    assert "No space left on device" in out
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_a_failed_workbook_write_keeps_the_previous_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    sheets = pytest.importorskip("okrcore_spreadsheet",
                                 reason="okrcore_spreadsheet not installed")
    target = tmp_path / "book.xlsx"
    before = _previous(target)
    real = sheets.write_workbook

    def half_then_full(path: Any, *args: Any, **kwargs: Any) -> Any:
        real(path, *args, **kwargs)
        data = Path(path).read_bytes()
        Path(path).write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sheets, "write_workbook", half_then_full)
    status = main(["recompute", str(ORACLE), "--as-of", "2026-03-01", "-o", str(target)])
    monkeypatch.undo()
    assert status == EXIT_FAILED
    assert "No space left on device" in capsys.readouterr().out
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


@pytest.mark.parametrize("name", ["results.json", "book.xlsx"])
def test_sigkill_in_the_write_keeps_the_previous_file(tmp_path: Path, name: str) -> None:
    if name.endswith(".xlsx"):
        pytest.importorskip("okrcore_spreadsheet", reason="okrcore_spreadsheet not installed")
    import test_jobs_snapshots  # its DRIVER kills the job at the n-th rename

    target = tmp_path / name
    before = _previous(target)
    # killed with the new file half-written, just before it is renamed into place
    done = subprocess.run(
        [sys.executable, "-c", test_jobs_snapshots.DRIVER, "before", "1", "recompute",
         str(ORACLE), "--as-of", "2026-03-01", "-o", str(target)],
        capture_output=True, text=True, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert target.read_bytes() == before
    # a rerun replaces it, and leaves no temporary file of its own
    assert main(["recompute", str(ORACLE), "--as-of", "2026-03-01", "-o", str(target)]) == 1
    assert target.read_bytes() != before
