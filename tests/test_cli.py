"""The ``okrcore`` command line: evaluate a file or stdin, exit codes, one-line errors, schema."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DOCUMENT: dict[str, Any] = {
    "okrcore": 1,
    "as_of": "2026-01-09T00:00:00Z",
    "objectives": [
        {"id": "o", "owner": "ann", "start": "2026-01-01T00:00:00Z",
         "due": "2026-01-11T00:00:00Z",
         "key_results": [{"id": "k", "kind": "metric", "unit": "u", "target": 100,
                          "current": 60}]},
    ],
}
"""Progress 0.6 against expected 0.8: yellow."""

WITH_BAD_ITEM: dict[str, Any] = {
    "okrcore": 1,
    "as_of": "2026-01-09T00:00:00Z",
    "objectives": [
        {"id": "bad", "key_results": [{"id": "k1", "kind": "metric", "target": "12k"}]},
        {"id": "good", "key_results": [{"id": "k2", "kind": "binary", "done": True}]},
    ],
}


def okrcore_cli(*args: str, stdin: str | bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([sys.executable, "-m", "okrcore.cli", *args], input=data,
                          capture_output=True, timeout=60, check=False)


def write(tmp_path: Path, content: str | bytes, name: str = "doc.json") -> str:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return str(path)


def assert_one_line_error(run: subprocess.CompletedProcess[bytes]) -> None:
    assert run.returncode == 2
    assert run.stdout == b""
    message = run.stderr.decode()
    assert message.strip()
    assert message.rstrip("\n").count("\n") == 0, message
    assert "Traceback" not in message


def test_evaluate_file(tmp_path: Path) -> None:
    run = okrcore_cli("evaluate", write(tmp_path, json.dumps(DOCUMENT)))
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["objectives"]["o"]["progress"] == 0.6
    assert result["objectives"]["o"]["expected"] == 0.8
    assert result["objectives"]["o"]["colour"] == "yellow"
    assert result["people"]["ann"]["progress"] == 0.6
    assert result["errors"] == []


def test_evaluate_stdin() -> None:
    run = okrcore_cli("evaluate", "-", stdin=json.dumps(DOCUMENT))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["key_results"]["k"]["progress"] == 0.6


def test_engine_scalar_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(DOCUMENT))
    default = okrcore_cli("evaluate", path)
    scalar = okrcore_cli("evaluate", "--engine", "scalar", path)
    assert scalar.returncode == 0, scalar.stderr
    assert json.loads(scalar.stdout) == json.loads(default.stdout)


def test_item_errors_exit_zero(tmp_path: Path) -> None:
    run = okrcore_cli("evaluate", write(tmp_path, json.dumps(WITH_BAD_ITEM)))
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert {(e["code"], e["path"]) for e in result["errors"]} == {
        ("not_a_number", "objectives[0].key_results[0].target"),
        ("depends_on_invalid", "objectives[0]"),
    }
    assert result["objectives"]["good"]["progress"] == 1.0


def test_output_is_strict_json_even_for_nan_input(tmp_path: Path) -> None:
    text = json.dumps(DOCUMENT).replace('"current": 60', '"current": NaN')
    run = okrcore_cli("evaluate", write(tmp_path, text))
    assert run.returncode == 0, run.stderr
    assert b"NaN" not in run.stdout
    result = json.loads(run.stdout)
    # errors are listed in document order of their paths: the objective, then its key result
    assert [(e["code"], e["path"]) for e in result["errors"]] == [
        ("depends_on_invalid", "objectives[0]"),
        ("not_finite", "objectives[0].key_results[0].current"),
        ("depends_on_invalid", "people.ann"),
    ]


@pytest.mark.parametrize(
    "content",
    [
        "this is not json",
        "{",
        b"\xff\xfe\x00\x01",
        "",
        "[]",
        "[1, 2]",
        '"okrcore"',
        '{"okrcore": 2, "as_of": "2026-01-09T00:00:00Z", "objectives": []}',
        '{"okrcore": 1, "objectives": []}',
        '{"okrcore": 1, "as_of": "2026-01-09", "policy": {"preset": "nope"}}',
    ],
)
def test_unreadable_document_exits_2_with_one_line(tmp_path: Path, content: str | bytes
                                                  ) -> None:
    assert_one_line_error(okrcore_cli("evaluate", write(tmp_path, content)))


def test_unreadable_stdin_exits_2_with_one_line() -> None:
    assert_one_line_error(okrcore_cli("evaluate", "-", stdin="[]"))
    assert_one_line_error(okrcore_cli("evaluate", "-", stdin="not json\nat all\n"))


def test_missing_file_exits_2_with_one_line(tmp_path: Path) -> None:
    assert_one_line_error(okrcore_cli("evaluate", str(tmp_path / "absent.json")))


def test_unknown_engine_is_rejected(tmp_path: Path) -> None:
    run = okrcore_cli("evaluate", "--engine", "warp", write(tmp_path, json.dumps(DOCUMENT)))
    assert run.returncode == 2
    assert run.stdout == b""


@pytest.mark.parametrize("args", [(), ("document",), ("result",)])
def test_schema_prints_json(args: tuple[str, ...]) -> None:
    run = okrcore_cli("schema", *args)
    assert run.returncode == 0, run.stderr
    schema = json.loads(run.stdout)
    assert isinstance(schema, dict)
    assert "$schema" in schema
    assert schema.get("type") == "object"


def test_schema_document_is_the_default() -> None:
    assert json.loads(okrcore_cli("schema").stdout) == json.loads(
        okrcore_cli("schema", "document").stdout)


def test_console_script_next_to_the_interpreter(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("okrcore")
    if not script.exists():
        pytest.fail(f"the okrcore entry point is not installed next to {sys.executable}")
    run = subprocess.run([str(script), "evaluate", write(tmp_path, json.dumps(DOCUMENT))],
                         capture_output=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["objectives"]["o"]["progress"] == 0.6


def test_an_unexpected_error_is_one_line_and_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No input makes the command print a traceback (issue 16): an error the code did not
    # foresee is one line on stderr and exit 2; --debug lets it through.
    import okrcore.cli as cli_module

    path = tmp_path / "doc.json"
    path.write_text('{"okrcore": 1, "as_of": "2026-02-15T00:00:00Z", "objectives": []}')

    def broken(*_: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(cli_module, "_result_document", broken)
    assert cli_module.main(["evaluate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == ("okrcore: internal error RuntimeError: boom\\nsecond line (please report it; "
                   "--debug shows the traceback)\n")
    with pytest.raises(RuntimeError, match="boom"):
        cli_module.main(["--debug", "evaluate", str(path)])


def test_an_output_that_cannot_be_written_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno

    import okrcore.cli as cli_module

    path = tmp_path / "doc.json"
    path.write_text('{"okrcore": 1, "as_of": "2026-02-15T00:00:00Z", "objectives": []}')

    class Full(io.StringIO):
        def write(self, _: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sys, "stdout", Full())  # (the result is written in one write)
    assert cli_module.main(["evaluate", str(path)]) == 2
    assert capsys.readouterr().err == "okrcore: cannot write or read: No space left on device\n"
