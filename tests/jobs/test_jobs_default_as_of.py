"""``okrcore recompute`` without ``--as-of`` uses the source's own ``as_of`` (issue 16).

Before, it evaluated at "now" while ``okrcore evaluate`` used the document's ``as_of``: one
file, two different sets of colours.  The oracle document is dated 2026-02-15, so "now" (any
other day) gives other expected progress, colours and staleness.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import okrcore
from okrcore.cli import main

HERE = Path(__file__).parent
ORACLE = HERE / "jobs_oracle.json"
AS_OF = datetime(2026, 2, 15, tzinfo=UTC)


def _evaluate_output(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, object]:
    assert main(["evaluate", str(path)]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_a_document_is_recomputed_at_its_own_as_of(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = _evaluate_output(capsys, ORACLE)
    main(["recompute", str(ORACLE), "-o", str(tmp_path / "r.json"), "--progress", "never"])
    out = capsys.readouterr().out
    assert "as of 2026-02-15T00:00:00Z" in out
    got = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert got["as_of"] == "2026-02-15T00:00:00Z"
    assert got == expected  # the same result as okrcore evaluate, byte for byte as data


def test_an_explicit_as_of_still_wins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["recompute", str(ORACLE), "-o", str(tmp_path / "r.json"), "--as-of", "2026-03-01",
          "--progress", "never"])
    capsys.readouterr()
    got = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert got["as_of"] == "2026-03-01T00:00:00Z"


def test_the_job_api_defaults_to_the_document_as_of() -> None:
    from okrcore.jobs import recompute

    report = recompute(str(ORACLE))
    assert [r.as_of for r in report.instants] == [AS_OF]


def test_a_dataset_manifest_records_the_as_of_and_recompute_uses_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pyarrow", reason="pyarrow not installed (okrcore[parquet])")
    from okrcore.jobs.parquet import Dataset, write_dataset

    document = okrcore.load(ORACLE)
    dataset = write_dataset(tmp_path / "ds", {"acme": document})
    assert dataset.as_of == AS_OF
    manifest = json.loads((tmp_path / "ds" / "_okrcore_dataset.json").read_text())
    assert manifest["as_of"] == "2026-02-15T00:00:00Z"
    main(["recompute", str(tmp_path / "ds"), "-o", str(tmp_path / "out"), "--progress", "never"])
    capsys.readouterr()
    assert (tmp_path / "out" / "as_of=20260215T000000Z" / "_complete.json").is_file()
    # a manifest written before it recorded an as_of still opens (recompute then uses now)
    del manifest["as_of"]
    (tmp_path / "ds" / "_okrcore_dataset.json").write_text(json.dumps(manifest))
    assert Dataset.open(tmp_path / "ds").as_of is None


def test_a_workbook_is_recomputed_at_its_own_as_of(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheets = pytest.importorskip("okrcore_spreadsheet")
    pytest.importorskip("openpyxl")
    document = okrcore.load(ORACLE)
    sheets.write_workbook(tmp_path / "okrs.xlsx", document)
    main(["recompute", str(tmp_path / "okrs.xlsx"), "-o", str(tmp_path / "r.json"),
          "--progress", "never"])
    capsys.readouterr()
    got = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert got["as_of"] == "2026-02-15T00:00:00Z"
