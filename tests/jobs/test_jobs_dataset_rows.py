"""Issue 17: every row of a Parquet dataset is validated as data, not trusted.

A bad value is a row error naming the file, row, id, column and value; the rest is computed and
written and the job exits 1.  A whole-source problem exits 2 with one line before anything is
written.  The dataset is the jobs oracle partitioned by root (acme.a, acme.b, acme.c); a clean
run has the errors of c1, c and carl only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import okrcore

pa = pytest.importorskip("pyarrow", reason="pyarrow not installed (okrcore[parquet])")
import pyarrow.parquet as pq  # noqa: E402

from okrcore.cli import main  # noqa: E402
from okrcore.jobs.parquet import read_results, write_dataset  # noqa: E402
from okrcore.jobs.run import EXIT_ITEM_ERRORS, EXIT_USAGE  # noqa: E402

HERE = Path(__file__).parent
AS_OF = "2026-02-15T00:00:00Z"
CLEAN = {("key_results", "c1"), ("objectives", "c"), ("people", "carl")}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    document = okrcore.loads((HERE / "jobs_oracle.json").read_bytes())
    write_dataset(tmp_path / "ds", {"acme": document}, partition_by="root")
    return tmp_path / "ds"


def edit(path: Path, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Rewrite one Parquet file through ``change(columns) -> columns`` (Arrow arrays)."""
    table = pq.read_table(path)
    columns = change({name: table.column(name) for name in table.column_names})
    pq.write_table(pa.table(columns), path)


def run(tmp_path: Path, dataset: Path, capsys: pytest.CaptureFixture[str]
        ) -> tuple[int, dict[str, Any] | None, str]:
    status = main(["recompute", str(dataset), "-o", str(tmp_path / "out"), "--as-of", AS_OF,
                   "--json", "--progress", "never"])
    captured = capsys.readouterr()
    return status, (json.loads(captured.out) if captured.out else None), captured.err


def errors(report: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in report["instants"][0]["errors"]:
        out.setdefault((e["table"], e["key"]), []).append(e)
    return out


def test_owner_index_out_of_range_is_a_row_error(tmp_path: Path, dataset: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    edit(dataset / "partition=acme.a" / "owners.parquet",
         lambda c: {**c, "person": pa.array([0, 99], type=pa.int32())})
    status, report, err = run(tmp_path, dataset, capsys)
    assert status == EXIT_ITEM_ERRORS and err == ""
    assert report is not None
    found = errors(report)
    [bad] = found[("key_results", "a2")]
    assert bad["partition"] == "acme.a" and bad["code"] == "out_of_range"
    assert bad["path"] == "partition=acme.a/owners.parquet[1].person"
    assert bad["message"] == ("partition=acme.a/owners.parquet row 1 (key result 'a2'): "
                              "person is 99, not a row of people.parquet (4 rows)")
    # the rest is computed and written
    tables = read_results(tmp_path / "out", okrcore.Document.from_dict(
        {"okrcore": 1, "as_of": AS_OF, "objectives": []}).as_of)
    assert tables["key_results"].num_rows == 7
    ok = dict(zip(tables["key_results"].column("id").to_pylist(),
                  tables["key_results"].column("kr_error").to_pylist(), strict=True))
    assert ok["a1"] is None and ok["b1"] is None  # no error: null (stored names)
    assert ok["a2"] == "load"  # the reader marked the row not loaded (ERR_LOAD)


def test_objective_owner_out_of_range_is_a_row_error(tmp_path: Path, dataset: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    edit(dataset / "partition=acme.b" / "objectives.parquet",
         lambda c: {**c, "obj_owner": pa.array([1, -7], type=pa.int32())})
    status, report, _ = run(tmp_path, dataset, capsys)
    assert status == EXIT_ITEM_ERRORS and report is not None
    [bad] = errors(report)[("objectives", "b-child")]
    assert bad["message"] == ("partition=acme.b/objectives.parquet row 1 (id 'b-child'): "
                              "obj_owner is -7, not a row of people.parquet (4 rows)")


def test_missing_people_exits_two_with_one_line(tmp_path: Path, dataset: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (dataset / "people.parquet").unlink()
    status, report, err = run(tmp_path, dataset, capsys)
    assert status == EXIT_USAGE and report is None
    assert err == f"okrcore recompute: {dataset}: people.parquet is missing\n"
    assert not (tmp_path / "out").exists()


def test_unreadable_units_exits_two_with_one_line(tmp_path: Path, dataset: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (dataset / "units.parquet").write_bytes(b"not\nparquet")
    status, _, err = run(tmp_path, dataset, capsys)
    assert status == EXIT_USAGE
    assert err.startswith(f"okrcore recompute: {dataset}: units.parquet is unreadable (")
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_duplicate_and_null_key_result_ids(tmp_path: Path, dataset: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    edit(dataset / "partition=acme.b" / "key_results.parquet",
         lambda c: {**c, "id": pa.array(["b1", "b1", None], type=pa.string())})
    status, report, _ = run(tmp_path, dataset, capsys)
    assert status == EXIT_ITEM_ERRORS and report is not None
    found = errors(report)
    codes = sorted(e["code"] for e in found[("key_results", "b1")])
    assert "duplicate_id" in codes
    empty = [e for errs in found.values() for e in errs if e["code"] == "missing_field"]
    assert [e["message"] for e in empty] == [
        "partition=acme.b/key_results.parquet row 2 (id None): id is empty: every row needs "
        "an id"]


def test_nan_check_in_value_is_a_row_error(tmp_path: Path, dataset: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    edit(dataset / "partition=acme.b" / "check_ins.parquet",
         lambda c: {**c, "log_value": pa.array([1.0, float("nan"), 9.0])})
    status, report, _ = run(tmp_path, dataset, capsys)
    assert status == EXIT_ITEM_ERRORS and report is not None
    [bad] = errors(report)[("key_results", "bc1")]
    assert bad["message"] == ("partition=acme.b/check_ins.parquet row 1 (key result 'bc1'): "
                              "log_value is nan: a check-in value must be a finite number")
    assert set(errors(report)) - CLEAN - {("key_results", "bc1")} <= {
        ("objectives", "b-child"), ("objectives", "b"), ("people", "pat"), ("people", "bob")}


def test_numbers_stored_as_text_are_row_errors(tmp_path: Path, dataset: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    edit(dataset / "partition=acme.a" / "key_results.parquet",
         lambda c: {**c, "kr_target": pa.array(["100", "ten"], type=pa.string())})
    status, report, _ = run(tmp_path, dataset, capsys)
    assert status == EXIT_ITEM_ERRORS and report is not None
    found = errors(report)
    assert [e["message"] for e in found[("key_results", "a1")]] == [
        "partition=acme.a/key_results.parquet row 0 (id 'a1'): kr_target is '100', stored as "
        "string: not a number"]
    assert found[("key_results", "a2")][0]["code"] == "wrong_type"
    # the other partitions are untouched
    assert ("key_results", "b1") not in found


def test_loose_booleans_are_row_errors(tmp_path: Path, dataset: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    edit(dataset / "partition=acme.b" / "objectives.parquet",
         lambda c: {**c, "obj_include_children": pa.array(["yes", "maybe"])})
    status, report, _ = run(tmp_path, dataset, capsys)
    assert status == EXIT_ITEM_ERRORS and report is not None
    found = errors(report)
    assert found[("objectives", "b")][0]["message"] == (
        "partition=acme.b/objectives.parquet row 0 (id 'b'): obj_include_children is 'yes', "
        "stored as string: not a boolean")


def test_a_row_index_outside_its_table_fails_the_partition_in_one_line(
        tmp_path: Path, dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(dataset / "partition=acme.c" / "owners.parquet",
         lambda c: {**c, "kr": pa.array([0, 5])})
    status, report, err = run(tmp_path, dataset, capsys)
    assert status == 3 and report is not None and err == ""
    [failure, _] = report["failures"]
    assert failure == ("partition 'acme.c': ValueError: partition=acme.c: owners.parquet "
                       "column kr holds a row outside key_results.parquet (2 rows)")
