"""``okrcore recompute`` on the command line: summary, --json, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyarrow", reason="pyarrow not installed (okrcore[parquet])")

from okrcore.cli import main
from okrcore.jobs import (
    EXIT_FAILED,
    EXIT_ITEM_ERRORS,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
)
from okrcore.jobs.parquet import read_results, write_dataset

HERE = Path(__file__).parent
ORACLE = HERE / "jobs_oracle.json"


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    status = main(["recompute", *args, "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_document_to_result_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, report = run_json(capsys, str(ORACLE), "-o", str(tmp_path / "r.json"),
                              "--as-of", "2026-02-15")
    assert status == EXIT_ITEM_ERRORS
    [instant] = report["instants"]
    assert instant["objective_colours"] == {"green": 1, "yellow": 1, "red": 1, "none": 1}
    assert instant["people"] == 4
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["objectives"]["a"]["progress"] == 0.75
    assert result["people"]["pat"]["progress"] == (1.0 + 0.125 + 0.3) / 3
    assert result["as_of"] == "2026-02-15T00:00:00Z"


def test_threads_reach_every_evaluation(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """``--threads N`` is passed to each evaluation; the result does not depend on it."""
    from okrcore.batch import evaluate_frame as real

    seen: list[int | None] = []

    def spy(*args: Any, threads: int | None = None, **kwargs: Any) -> Any:
        seen.append(threads)
        return real(*args, threads=threads, **kwargs)

    monkeypatch.setattr("okrcore.jobs.report.evaluate_frame", spy)
    outputs: list[dict[str, Any]] = []
    for extra in ([], ["--threads", "1"], ["--threads", "3"]):
        out = tmp_path / f"r{len(outputs)}.json"
        status, _ = run_json(capsys, str(ORACLE), "-o", str(out), "--as-of", "2026-02-15",
                             *extra)
        assert status == EXIT_ITEM_ERRORS
        outputs.append(json.loads(out.read_text()))
    assert seen == [None, 1, 3]
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[1]["objectives"]["a"]["progress"] == 0.75


def test_series_of_documents_needs_a_placeholder(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["recompute", str(ORACLE), "-o", str(tmp_path / "r.json"),
                   "--as-of", "2026-01-19/2026-02-16/P14D"])
    assert status == EXIT_USAGE
    assert "{as_of}" in capsys.readouterr().err
    status = main(["recompute", str(ORACLE), "-o", str(tmp_path / "r-{as_of}.json"),
                   "--as-of", "2026-01-19/2026-02-16/P14D", "--progress", "never"])
    assert status == EXIT_ITEM_ERRORS
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["r-20260119T000000Z.json", "r-20260202T000000Z.json",
                     "r-20260216T000000Z.json"]
    early = json.loads((tmp_path / names[0]).read_text())
    assert early["key_results"]["bc1"]["progress"] == 0.0


def test_preset_and_policy_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # workfront: yellow below 0.9 x expected, red below 0.7 x expected; b-child at 0.3 of an
    # expected 0.5 (ratio 0.6) is red there, yellow under betterworks
    _, report = run_json(capsys, str(ORACLE), "--as-of", "2026-02-15", "--preset", "workfront")
    assert report["policy"]["preset"] == "workfront"
    assert report["instants"][0]["objective_colours"] == {
        "green": 1, "yellow": 0, "red": 2, "none": 1}
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"preset": "betterworks", "pace": {
        "rule": "ratio", "yellow": 0.9, "red": 0.7}}))
    _, report = run_json(capsys, str(ORACLE), "--as-of", "2026-02-15", "--policy", str(policy))
    assert report["instants"][0]["objective_colours"]["red"] == 2
    policy.write_text(json.dumps({"preset": "betterworks", "cap": "big"}))
    assert main(["recompute", str(ORACLE), "--policy", str(policy)]) == EXIT_USAGE
    assert "cap" in capsys.readouterr().err


def test_clean_input_exits_zero_and_prints_a_summary(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads(ORACLE.read_text())
    document["objectives"] = document["objectives"][:3]
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(document))
    status = main(["recompute", str(clean), "--as-of", "2026-02-15", "-o", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert status == EXIT_OK
    assert "as of 2026-02-15T00:00:00Z: 5 key results, 3 objectives (green 1, yellow 1, red 1, " \
        "none 0), 3 people, 0 errors" in out
    assert "time: read" in out and "exit 0" in out
    # a document can be written to a Parquet result directory too
    got = read_results(tmp_path / "o", __import__("okrcore").jobs.parse_as_of("2026-02-15")[0])
    assert got["objectives"].column("id").to_pylist() == ["a", "b", "b-child"]


@pytest.mark.parametrize("args, message", [
    (["missing.json"], "cannot read missing.json"),
    ([str(ORACLE), "--as-of", "2026-13-01"], "--as-of"),
    ([str(ORACLE), "--as-of", "2026-01-01/2026-02-01/P1M"], "P1M"),
    ([str(ORACLE), "--engine", "dask"], "needs a Parquet dataset"),
    ([str(ORACLE), "--threads", "0"], "threads must be a positive integer; got 0"),
    ([str(ORACLE), "-o", "sqlite:///x.db"], "nothing was written"),  # items that are unreadable
])
def test_usage_errors_exit_two(args: list[str], message: str, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["recompute", *args]) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_unreadable_document_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"okrcore": 2}')
    assert main(["recompute", str(bad)]) == EXIT_USAGE
    assert "okrcore" in capsys.readouterr().err


def test_partial_failure_exits_three(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import okrcore

    write_dataset(tmp_path / "ds", {"acme": okrcore.loads(ORACLE.read_bytes())},
                  partition_by="root")
    (tmp_path / "ds" / "partition=acme.b" / "objectives.parquet").write_bytes(b"not parquet")
    status, report = run_json(capsys, str(tmp_path / "ds"), "-o", str(tmp_path / "out"),
                              "--as-of", "2026-02-01,2026-02-15")
    assert status == EXIT_PARTIAL
    failures = report["failures"]
    assert any("acme.b" in f for f in failures)
    # the partitions that could be read were written (in the run's unpublished snapshot);
    # people were not combined, nothing was published
    [meta] = (tmp_path / "out" / "as_of=20260215T000000Z").glob("run=*/partition=acme.a/"
                                                                "_meta.json")
    assert meta.is_file()
    assert not (tmp_path / "out" / "as_of=20260215T000000Z" / "_complete.json").exists()
    assert report["instants"] == []
    # fixing the input and rerunning incrementally recomputes only the missing partition
    shutil.rmtree(tmp_path / "ds")
    write_dataset(tmp_path / "ds", {"acme": okrcore.loads(ORACLE.read_bytes())},
                  partition_by="root")
    status, report = run_json(capsys, str(tmp_path / "ds"), "-o", str(tmp_path / "out"),
                              "--as-of", "2026-02-01,2026-02-15", "--incremental")
    assert status == EXIT_ITEM_ERRORS
    assert [i["reused"] for i in report["instants"]] == [2, 2]


def test_unwritable_output_exits_four(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    status, report = run_json(capsys, str(ORACLE), "-o", str(blocker / "r.json"),
                              "--as-of", "2026-02-15")
    assert status == EXIT_FAILED
    assert report["instants"] == [] and report["failures"]


def test_dataset_needs_an_output_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    import okrcore

    write_dataset(tmp_path / "ds", {"acme": okrcore.loads(ORACLE.read_bytes())})
    assert main(["recompute", str(tmp_path / "ds")]) == EXIT_USAGE
    assert "--output" in capsys.readouterr().err


def test_workbook_without_the_adapter_names_the_extra(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "okrcore_spreadsheet", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "okrcore_spreadsheet.plugin", None)  # (its entry point)
    (tmp_path / "okrs.xlsx").write_bytes(b"PK")
    assert main(["recompute", str(tmp_path / "okrs.xlsx")]) == EXIT_USAGE
    assert "okrcore[spreadsheet]" in capsys.readouterr().err


def test_sample_of_about_ten_thousand_key_results_end_to_end(tmp_path: Path) -> None:
    """The main job's Parquet path, small: generate, recompute, summary, exit 0 (as a
    subprocess, with the progress bar forced on)."""
    done = subprocess.run(
        [sys.executable, "-m", "okrcore.cli", "recompute", str(tmp_path / "sample"),
         "--generate-sample", "10000", "-o", str(tmp_path / "out"), "--progress", "always"],
        capture_output=True, text=True, check=False)
    assert done.returncode == EXIT_OK, done.stderr
    assert "10044 key results" in done.stdout  # 162 copies of 62
    assert "computing" in done.stderr and "people" in done.stderr
    assert (tmp_path / "out" / "as_of=20260215T120000Z" / "_complete.json").is_file()
