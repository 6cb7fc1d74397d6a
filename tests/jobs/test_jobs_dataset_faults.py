"""Issue 17: one corrupted value in every column of every table of a dataset (generated).

For each file of the jobs oracle dataset (partitioned by root) and each of its columns, the
column is corrupted three ways: one value emptied (null), one value replaced by an absurd one
(NaN, a huge or negative integer, an instant in year 9999, an unknown text), and the whole
column stored as text.  A recompute into a result directory that holds the results of the clean
dataset then:

* never prints a traceback, and prints at most one line on stderr;
* exits 0 or 1 (the bad rows are errors, the rest is computed), 3 (a partition that cannot be
  read) or 2 (the whole dataset cannot be read, nothing written);
* leaves the previous complete results readable and unchanged unless it exits 0 or 1 (then it
  published a complete snapshot), and a rerun equals a clean run on the same input.

Also on datasets: a read-only result directory, and concurrent runs on one result directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fault_mounts import read_only

import okrcore

pa = pytest.importorskip("pyarrow", reason="pyarrow not installed (okrcore[parquet])")
import pyarrow.parquet as pq  # noqa: E402

from okrcore.cli import main  # noqa: E402
from okrcore.jobs.parquet import read_results, write_dataset  # noqa: E402

HERE = Path(__file__).parent
AS_OF = datetime(2026, 2, 15, tzinfo=UTC)
ARGS = ("--as-of", "2026-02-15T00:00:00Z", "--progress", "never", "--json")
FILES = ("people.parquet", "units.parquet", "partition=acme.b/key_results.parquet",
         "partition=acme.b/objectives.parquet", "partition=acme.b/check_ins.parquet",
         "partition=acme.b/owners.parquet")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("faults")
    data = json.loads((HERE / "jobs_oracle.json").read_text())
    data["objectives"][2]["key_results"][0]["unit"] = "USD"  # bc1: units.parquet has a row
    write_dataset(root / "ds", {"acme": okrcore.Document.from_dict(data)}, partition_by="root")
    yield root / "ds"


def _absurd(array: Any) -> Any:
    typ = array.type
    if pa.types.is_floating(typ):
        return float("nan")
    if pa.types.is_integer(typ):
        return 10**6 if not pa.types.is_unsigned_integer(typ) else 255
    if pa.types.is_boolean(typ):
        return None
    if pa.types.is_timestamp(typ):
        return datetime(9999, 12, 31, tzinfo=UTC)
    return "\n=bogus\x00"


def _corrupt(column: Any, how: str) -> Any:
    array = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    if how == "text":
        return pa.array([None if v is None else str(v) for v in array.to_pylist()],
                        type=pa.string())
    values = array.to_pylist()
    if not values:
        return array
    values[0] = None if how == "null" else _absurd(array)
    try:
        return pa.array(values, type=array.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array(values)


def _cases(dataset: Path) -> list[tuple[str, str, str]]:
    cases = []
    for name in FILES:
        table = pq.read_table(dataset / name)
        for column in table.column_names:
            for how in ("null", "absurd", "text"):
                cases.append((name, column, how))
    return cases


def _run(dataset: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str
         ) -> tuple[int, dict[str, Any] | None, str]:
    status = main(["recompute", str(dataset), "-o", str(out), *ARGS, *extra])
    captured = capsys.readouterr()
    return status, (json.loads(captured.out) if captured.out.strip() else None), captured.err


def _snapshot(out: Path) -> str:
    return json.dumps({k: v.to_pydict() for k, v in read_results(out, AS_OF).items()},
                      sort_keys=True)


def test_one_bad_value_in_every_column_of_every_table(clean: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    previous = tmp_path / "previous"
    assert _run(clean, previous, capsys)[0] == 1  # the oracle's own bad rows
    good = _snapshot(previous)
    cases = _cases(clean)
    assert len(cases) > 100
    seen: dict[int, int] = {}
    for i, (name, column, how) in enumerate(cases):
        case = f"{name}:{column}:{how}"
        broken, out = tmp_path / f"broken{i}", tmp_path / f"out{i}"
        shutil.copytree(clean, broken)
        shutil.copytree(previous, out)  # the results of the clean dataset
        table = pq.read_table(broken / name)
        index = table.column_names.index(column)
        table = table.set_column(index, column, _corrupt(table.column(column), how))
        pq.write_table(table, broken / name)
        status, report, err = _run(broken, out, capsys)
        seen[status] = seen.get(status, 0) + 1
        assert "Traceback" not in err, case
        assert err.count("\n") <= 1, case
        assert status in (0, 1, 2, 3), case
        if status == 2:
            assert report is None and err.startswith("okrcore recompute: "), case
        else:
            assert report is not None and report["exit_code"] == status, case
        if status in (2, 3):
            assert _snapshot(out) == good, case  # the previous results, unchanged
        else:
            # a complete snapshot was published: it equals a clean run on the same input
            again = _run(broken, tmp_path / f"fresh{i}", capsys)
            assert again[0] == status, case
            assert _snapshot(tmp_path / f"fresh{i}") == _snapshot(out), case
        shutil.rmtree(broken)
    # every kind of outcome happens somewhere in the table
    assert {1, 2, 3} <= set(seen), seen


def test_a_read_only_result_directory_exits_four_and_keeps_the_results(
        clean: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert _run(clean, out, capsys)[0] == 1
    good = _snapshot(out)
    with read_only(out):
        status, report, err = _run(clean, out, capsys)
        assert _snapshot(out) == good
    assert status == 4 and err == ""
    assert report is not None and report["instants"] == []
    assert report["failures"] and all("\n" not in f for f in report["failures"])
    assert _snapshot(out) == good
    assert _run(clean, out, capsys)[0] == 1
    assert _snapshot(out) == good


def test_concurrent_runs_on_one_result_directory(clean: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "okrcore.cli", "recompute", str(clean), "-o", str(out),
               *ARGS]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(3)]
    results = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [1, 1, 1], [e for _, e in results]
    fresh = tmp_path / "fresh"
    subprocess.run([*command[:6], str(fresh), *ARGS], check=False, capture_output=True)
    assert _snapshot(out) == _snapshot(fresh)
    # every snapshot left is complete: the published one and the one it replaced at most
    instant = next(out.glob("as_of=*"))
    assert 1 <= len(list(instant.glob("run=*"))) <= 3
    assert not list(out.glob(".*.lock"))
