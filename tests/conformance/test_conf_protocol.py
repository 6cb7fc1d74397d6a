"""The NDJSON protocol and ``okrcore conformance``: schema-valid messages, the reference
passes through its own harness, reports, exit statuses."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from okrcore.conformance import REFERENCE, NotSupportedError
from okrcore.conformance.cli import main
from okrcore.conformance.protocol import HarnessError, HarnessProcess, serve
from okrcore.conformance.vectors import load_vectors, schema

HARNESS = f"{sys.executable} -m okrcore.cli conformance harness"
VALIDATOR = jsonschema.Draft202012Validator(schema("protocol"))


class Picky:
    """Skips documents without objectives and fails on a document with as_of 2030."""

    name = "picky"
    version = "0"
    capabilities = frozenset({"metrics"})

    def evaluate(self, document: Mapping[str, Any]) -> Mapping[str, Any]:
        if not document.get("objectives"):
            raise NotSupportedError("no objectives")
        if str(document.get("as_of", "")).startswith("2030"):
            raise ValueError("boom")
        return REFERENCE.evaluate(document)


def _exchange(requests: list[dict[str, Any]], implementation: Any = REFERENCE
              ) -> tuple[int, list[dict[str, Any]]]:
    out = io.StringIO()
    status = serve(implementation, io.StringIO("".join(json.dumps(r) + "\n" for r in requests)),
                   out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_protocol_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema("protocol"))


def test_every_message_of_a_session_validates() -> None:
    document = load_vectors()[0].document
    requests: list[dict[str, Any]] = [
                {"cmd": "start", "protocol": 1, "suite": "1.0"},
                {"cmd": "evaluate", "seq": 1, "document": document},
                {"cmd": "evaluate", "seq": 2, "document": {"okrcore": 1, "as_of": "2026-01-01"}},
                {"cmd": "evaluate", "seq": 3, "document": {**document, "as_of": "2030-01-01"}},
                {"cmd": "stop"}]
    status, answers = _exchange(requests, Picky())
    assert status == 0
    assert [a["type"] for a in answers] == ["started", "result", "skipped", "errored", "stopped"]
    assert answers[0] == {"type": "started", "protocol": 1, "name": "picky", "version": "0",
                          "capabilities": ["metrics"]}
    assert [a.get("seq") for a in answers[1:4]] == [1, 2, 3]
    assert answers[2]["reason"] == "no objectives"
    assert answers[3]["message"] == "ValueError: boom"
    for message in [*requests, *answers]:
        VALIDATOR.validate(message)


def test_schema_rejects_malformed_messages() -> None:
    for bad in ({"cmd": "evaluate", "document": {}}, {"type": "result", "seq": 1},
                {"type": "started", "protocol": 2, "name": "x", "version": "1",
                 "capabilities": ["metrics"]},
                {"type": "started", "protocol": 1, "name": "x", "version": "1",
                 "capabilities": ["binary"]}):
        assert not VALIDATOR.is_valid(bad), bad


def test_harness_process_speaks_to_the_reference() -> None:
    with HarnessProcess(HARNESS) as harness:
        assert (harness.name, harness.capabilities) == ("okrcore", REFERENCE.capabilities)
        vector = load_vectors()[0]
        assert harness.evaluate(vector.document) == REFERENCE.evaluate(vector.document)


def test_a_harness_that_is_not_one_is_reported() -> None:
    with pytest.raises(HarnessError, match="not JSON"):
        HarnessProcess(f"{sys.executable} -c \"print('hello')\"")
    with pytest.raises(HarnessError, match="cannot start"):
        HarnessProcess("/nonexistent/harness")


def test_reference_passes_everything_through_the_process_protocol(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "okrcore.cli", "conformance", "run", "--harness", HARNESS,
         "--max-examples", "10", "--markdown", str(tmp_path / "r.md"),
         "--jsonl", str(tmp_path / "r.jsonl")],
        capture_output=True, text=True, check=False, timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    from okrcore.conformance.properties import PROPERTIES

    assert len(records) == len(load_vectors()) + len(PROPERTIES)
    assert {r["status"] for r in records} == {"passed"}
    assert "okrcore conformance: okrcore" in (tmp_path / "r.md").read_text()
    assert f"{len(records)} passed, 0 failed, 0 skipped" in out.stdout


def test_run_in_process_with_disabled_capabilities(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["run", "--impl", "okrcore.conformance:REFERENCE", "--vectors-only",
                   "--disable", "ranges,people", "--only", "ranges/*,people/*,binary/*"])
    out = capsys.readouterr().out
    assert status == 0
    assert "skipped  vector   ranges/deals-7-band" in out
    assert "passed   vector   binary/done" in out
    assert "6 passed, 0 failed, 23 skipped" in out


def test_command_line_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--impl", "okrcore.conformance:REFERENCE", "--disable", "nope"]) == 2
    assert main(["run", "--impl", "no.such.module:x"]) == 2
    assert main(["harness", "--impl", "okrcore:evaluate"]) == 2
    assert "unknown capability 'nope'" in capsys.readouterr().err


def test_vectors_lint_and_schema_commands(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    assert main(["vectors", "--path"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert (path / "metrics.json").is_file()
    assert main(["vectors"]) == 0
    assert f"{len(load_vectors())} cases" in capsys.readouterr().out
    assert main(["lint"]) == 0
    broken = tmp_path / "binary.json"
    broken.write_text("{}")
    assert main(["lint", str(broken)]) == 1
    assert "'suite' is a required property" in capsys.readouterr().out
    assert main(["schema", "protocol"]) == 0
    assert json.loads(capsys.readouterr().out)["title"].startswith("okrcore conformance")


def test_okrcore_command_forwards_to_conformance() -> None:
    out = subprocess.run([sys.executable, "-m", "okrcore.cli", "conformance", "--help"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0
    assert "{run,harness,vectors,lint,schema}" in out.stdout


def test_a_harness_that_dies_mid_run_stops_the_run(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # Answers the handshake, then exits on the first evaluate request.
    script = tmp_path / "dying.py"
    script.write_text(
        "import json, sys\n"
        "sys.stdin.readline()\n"
        "print(json.dumps({'type': 'started', 'protocol': 1, 'name': 'dying', 'version': '0',"
        " 'capabilities': ['metrics']}), flush=True)\n"
        "sys.stdin.readline()\n")
    status = main(["run", "--harness", f"{sys.executable} {script}", "--properties-only",
                   "--only", "increase_metric_monotone", "--max-examples", "5"])
    assert status == 2
    assert "harness closed its output" in capsys.readouterr().err
