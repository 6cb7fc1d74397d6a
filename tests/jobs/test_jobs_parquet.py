"""The Parquet dataset layout and the single-process recompute job, against hand oracles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import okrcore
from okrcore.batch import NONE_INSTANT, OrgFrame, evaluate_frame
from okrcore.batch.engine import BatchResult
from okrcore.evaluate import instant_us
from strategies import documents

pa = pytest.importorskip("pyarrow", reason="pyarrow not installed (okrcore[parquet])")

from okrcore.jobs import EXIT_ITEM_ERRORS, EXIT_OK, recompute  # noqa: E402
from okrcore.jobs.parquet import (  # noqa: E402
    Dataset,
    component_keys,
    read_results,
    result_codes,
    write_dataset,
)
from okrcore.jobs.sample import copies_for, sample_document, sample_frames  # noqa: E402

HERE = Path(__file__).parent
AS_OF = datetime(2026, 2, 15, tzinfo=UTC)


def oracle_document() -> okrcore.Document:
    return okrcore.loads((HERE / "jobs_oracle.json").read_bytes())


def column(table: Any, name: str) -> dict[str, Any]:
    return dict(zip(table.column("id").to_pylist(), table.column(name).to_pylist(),
                    strict=True))


def test_dataset_partitioned_by_root_keeps_whole_trees(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds", {"acme": oracle_document()}, partition_by="root")
    assert ds.partitions == ("acme.a", "acme.b", "acme.c")
    assert ds.people == ("ann", "pat", "bob", "carl")
    frame = ds.read_partition("acme.b")
    assert list(frame.obj_ids or ()) == ["b", "b-child"]
    assert frame.obj_parent.tolist() == [-1, 0]
    assert list(frame.kr_ids or ()) == ["b1", "b2", "bc1"]
    assert frame.log_value.tolist() == [1.0, 3.0, 9.0]
    # the people codes are global: pat is the same person in acme.a and acme.b
    pat = ds.people.index("pat")
    assert frame.obj_owner.tolist() == [pat, ds.people.index("bob")]
    a = ds.read_partition("acme.a")
    assert a.kr_owner_ids[a.kr_owner_offsets[1]:a.kr_owner_offsets[2]].tolist() == [pat]


def test_reading_hands_arrow_buffers_to_the_engine_without_a_copy(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds", sample_frames(1000, tenants=1))
    frame = ds.read_partition(ds.partitions[0])
    # Parquet pages are decoded into Arrow buffers once; numeric columns without nulls are
    # then views of those buffers (they do not own their data), timestamps included
    for name in ("kr_target", "kr_objective", "kr_kind", "obj_parent", "obj_start", "log_at",
                 "log_value", "kr_owner_ids"):
        assert not getattr(frame, name).flags.owndata, name
    # absent instants are Arrow nulls in the file and NONE_INSTANT in the frame
    table = pa.parquet.read_table(ds.partition_dir(ds.partitions[0]) / "key_results.parquet")
    nulls = np.asarray(table.column("kr_due").is_null().to_numpy(zero_copy_only=False))
    assert nulls.any()
    assert np.all((frame.kr_due == NONE_INSTANT) == nulls)


def test_component_keys_follow_parents_and_cycles() -> None:
    frame = OrgFrame.from_columns(
        kr_objective=np.zeros(0, np.int64), kr_kind=np.zeros(0, np.uint8),
        kr_target=np.zeros(0), obj_parent=np.array([-1, 3, 0, 1, -2, 5, 4]))
    # 0 <- 2 ; 1 <-> 3 cycle ; 4 (unknown parent) <- 6 ; 5 -> 5 self-cycle
    assert component_keys(frame).tolist() == [0, 1, 0, 1, 4, 5, 4]


def test_local_job_on_the_oracle(tmp_path: Path) -> None:
    write_dataset(tmp_path / "ds", {"acme": oracle_document()}, partition_by="root")
    report = recompute(str(tmp_path / "ds"), output=str(tmp_path / "out"), instants=[AS_OF])
    assert report.exit_code == EXIT_ITEM_ERRORS
    [r] = report.instants
    assert (r.key_results, r.objectives, r.people, r.partitions) == (7, 4, 4, 3)
    assert dict(r.objective_colours) == {"green": 1, "yellow": 1, "red": 1, "none": 1}
    errors = {(e.table, e.key, e.error.code, e.partition) for e in r.errors}
    assert errors == {("key_results", "c1", "degenerate_metric", "acme.c"),
                      ("objectives", "c", "depends_on_invalid", "acme.c"),
                      ("people", "carl", "depends_on_invalid", "acme.c")}
    out = read_results(tmp_path / "out", AS_OF)
    progress = column(out["key_results"], "kr_progress")
    assert progress["a1"] == 0.5 and progress["b2"] == 0.25 and progress["bc1"] == 0.3
    objectives = column(out["objectives"], "obj_progress")
    assert objectives["a"] == 0.75 and objectives["b"] == 0.125
    assert objectives["b-child"] == 0.3
    people = dict(zip(out["people"].column("name").to_pylist(),
                      out["people"].column("person_progress").to_pylist(), strict=True))
    # pat owns objective b (partition acme.b) and key results a2 (acme.a) and bc1 (acme.b):
    # items in document order a2, b, bc1
    assert people["pat"] == (1.0 + 0.125 + 0.3) / 3
    assert people["ann"] == (0.75 + 0.5) / 2
    assert np.isnan(people["carl"])
    errs = out["people"].to_pylist()
    carl = next(p for p in errs if p["name"] == "carl")
    assert (carl["error_partition"], carl["error_table"], carl["error_id"]) == (
        "acme.c", "objectives", "c")


def test_series_writes_one_snapshot_per_instant(tmp_path: Path) -> None:
    write_dataset(tmp_path / "ds", {"acme": oracle_document()})
    report = recompute(str(tmp_path / "ds"), output=str(tmp_path / "out"),
                       instants=okrcore.jobs.parse_as_of("2026-01-19/2026-02-16/P14D"))
    assert [r.as_of.day for r in report.instants] == [19, 2, 16]
    bc1 = [column(read_results(tmp_path / "out", r.as_of)["key_results"], "kr_progress")["bc1"]
           for r in report.instants]
    # check-ins 1 (20 Jan), 3 (10 Feb): nothing known on 19 Jan -> the start
    assert bc1 == [0.0, 0.1, 0.3]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "as_of=20260119T000000Z", "as_of=20260202T000000Z", "as_of=20260216T000000Z"]


def test_incremental_reuses_unchanged_partitions(tmp_path: Path) -> None:
    write_dataset(tmp_path / "ds", {"acme": oracle_document()}, partition_by="root")
    first = recompute(str(tmp_path / "ds"), output=str(tmp_path / "out"), instants=[AS_OF],
                      incremental=True)
    assert first.instants[0].reused == 0
    again = recompute(str(tmp_path / "ds"), output=str(tmp_path / "out"), instants=[AS_OF],
                      incremental=True)
    assert again.instants[0].reused == 3
    assert again.to_json()["instants"][0]["errors"] == first.to_json()["instants"][0]["errors"]
    # change one partition's input: only that one is recomputed
    path = tmp_path / "ds" / "partition=acme.a" / "key_results.parquet"
    table = pa.parquet.read_table(path)
    current = table.column("kr_current").to_numpy().copy()
    current[0] = 80.0
    table = table.set_column(table.column_names.index("kr_current"), "kr_current",
                             pa.array(current))
    pa.parquet.write_table(table, path)
    third = recompute(str(tmp_path / "ds"), output=str(tmp_path / "out"), instants=[AS_OF],
                      incremental=True)
    assert third.instants[0].reused == 2
    out = read_results(tmp_path / "out", AS_OF)
    assert column(out["objectives"], "obj_progress")["a"] == (0.8 + 1.0) / 2
    people = dict(zip(out["people"].column("name").to_pylist(),
                      out["people"].column("person_progress").to_pylist(), strict=True))
    assert people["ann"] == ((0.8 + 1.0) / 2 + 0.5) / 2
    # a different policy is not "unchanged"
    fourth = recompute(str(tmp_path / "ds"), output=str(tmp_path / "out"), instants=[AS_OF],
                       incremental=True, policy=okrcore.Policy.from_preset("workfront"))
    assert fourth.instants[0].reused == 0


def test_coded_results_are_dictionary_encoded_names(tmp_path: Path) -> None:
    """Colours, trends, rules... are stored as dictionary-encoded names (issue 19); partitions
    written with integer codes by an earlier version are recomputed, never mixed in."""
    write_dataset(tmp_path / "ds", {"acme": oracle_document()}, partition_by="root")
    recompute(str(tmp_path / "ds"), output=str(tmp_path / "out"), instants=[AS_OF],
              incremental=True)
    out = read_results(tmp_path / "out", AS_OF)
    expected = okrcore.evaluate(attrs.evolve(oracle_document(), as_of=AS_OF))
    objectives = out["objectives"]
    for name in ("obj_colour", "obj_rule", "obj_mode", "obj_trend", "obj_error"):
        assert pa.types.is_dictionary(objectives.schema.field(name).type), name
        assert pa.types.is_string(objectives.schema.field(name).type.value_type), name
    got = dict(zip(objectives.column("id").to_pylist(), objectives.to_pylist(), strict=True))
    assert [i for i, r in got.items() if r["obj_error"] is not None] == ["c"]  # a cycle...
    assert got["c"]["obj_error"] in okrcore.codes.ERROR_NAMES
    for ident, result in expected.objectives.items():
        row = got[ident]
        assert (row["obj_colour"], row["obj_mode"], row["obj_rule"], row["obj_error"]) == (
            result.colour, result.mode, result.explanation.rule, None), ident
    codes = result_codes(objectives, "obj_colour")
    names = objectives.column("obj_colour").to_pylist()
    assert codes.tolist() == [-1 if n is None else okrcore.codes.COLOUR_NAMES.index(n)
                              for n in names]
    # a partition without the "codes" mark (integer codes, before issue 19) is not reused
    for meta in (tmp_path / "out").rglob("_meta.json"):
        data = json.loads(meta.read_text(encoding="utf-8"))
        del data["codes"]
        meta.write_text(json.dumps(data), encoding="utf-8")
    again = recompute(str(tmp_path / "ds"), output=str(tmp_path / "out"), instants=[AS_OF],
                      incremental=True)
    assert again.instants[0].reused == 0
    recomputed = read_results(tmp_path / "out", AS_OF)["objectives"]
    assert json.dumps(recomputed.to_pylist()) == json.dumps(objectives.to_pylist())  # NaN too


def _assert_columns_equal(a: BatchResult, b: dict[str, Any], prefix: str) -> None:
    for name, expected in b.items():
        got = np.asarray(getattr(a, name))
        assert np.array_equal(got, expected, equal_nan=got.dtype.kind == "f"), name


def whole_frame_result(ds: Dataset, moment: datetime) -> tuple[OrgFrame, BatchResult]:
    frame, _, _ = ds.read()
    return frame, evaluate_frame(frame, instant_us(moment), ds.policy)


def assert_job_equals_whole_frame(ds: Dataset, out: Path, moment: datetime) -> None:
    """A partition-by-partition result equals one evaluation of the whole dataset, exactly."""
    frame, whole = whole_frame_result(ds, moment)
    got = read_results(out, moment)
    for prefix, table in (("kr_", got["key_results"]), ("obj_", got["objectives"])):
        for name in table.column_names:
            if not name.startswith(prefix) or name.endswith(("_ref", "obj_parent")):
                continue
            expected = np.asarray(getattr(whole, name))
            values = result_codes(table, name)  # coded columns: names back to codes
            assert np.array_equal(values, expected, equal_nan=expected.dtype.kind == "f"), name
    people = got["people"]
    seen = np.flatnonzero(whole.person_seen)
    assert people.column("name").to_pylist() == [ds.people[i] for i in seen]
    progress = people.column("person_progress").to_numpy()
    assert np.array_equal(progress, whole.person_progress[seen], equal_nan=True)
    assert np.array_equal(people.column("person_items").to_numpy(), whole.person_items[seen])
    n = frame.n_kr
    ids = [None if r < 0 else (frame.obj_ids[r - n] if r >= n else frame.kr_ids[r])  # type: ignore[index]
           for r in whole.person_error_ref[seen].tolist()]
    assert people.column("error_id").to_pylist() == ids


def test_partitioned_job_equals_whole_frame_on_the_sample(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds", sample_frames(1500, tenants=3), partition_by="root")
    assert len(ds.partitions) == 2 * copies_for(1500)
    recompute(str(tmp_path / "ds"), output=str(tmp_path / "out"), instants=[AS_OF])
    assert_job_equals_whole_frame(ds, tmp_path / "out", AS_OF)


@settings(max_examples=25)
@given(documents(), st.sampled_from(["tenant", "root"]))
def test_partitioned_job_equals_whole_frame_and_the_scalar_path(
        tmp_path_factory: pytest.TempPathFactory, document: okrcore.Document,
        partition_by: str) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    ds = write_dataset(tmp / "ds", {"t": document}, partition_by=partition_by)
    report = recompute(str(tmp / "ds"), output=str(tmp / "out"), instants=[document.as_of])
    assert_job_equals_whole_frame(ds, tmp / "out", document.as_of)
    # against the scalar reference: key results and objectives exactly; people too when the
    # dataset keeps the document's order (partition by tenant)
    scalar = okrcore.evaluate(document)
    out = read_results(tmp / "out", document.as_of)
    kr = column(out["key_results"], "kr_progress")
    for ident, res in scalar.key_results.items():
        assert kr[ident] == res.progress or (res.progress is None and np.isnan(kr[ident]))
    obj = column(out["objectives"], "obj_progress")
    for ident, o in scalar.objectives.items():
        assert obj[ident] == o.progress or (o.progress is None and np.isnan(obj[ident]))
    people = dict(zip(out["people"].column("name").to_pylist(),
                      out["people"].column("person_progress").to_pylist(), strict=True))
    for name, p in scalar.people.items():
        if p.progress is None:
            assert np.isnan(people[name])
        elif partition_by == "tenant":
            assert people[name] == p.progress
        else:
            assert people[name] == pytest.approx(p.progress, rel=1e-12, abs=1e-15)
    assert report.exit_code in (EXIT_OK, EXIT_ITEM_ERRORS)
    assert (report.exit_code == EXIT_ITEM_ERRORS) == bool(scalar.errors)


def test_sample_document_and_frames_describe_the_same_organisation() -> None:
    document = sample_document(200)
    frames = dict(sample_frames(200, tenants=1))
    [frame] = frames.values()
    assert copies_for(200) == 4
    assert frame.n_kr == sum(len(o.key_results) for o in document.objectives) == 4 * 62
    assert list(frame.kr_ids or ()) == [k.id for o in document.objectives
                                       for k in o.key_results]
    direct = OrgFrame.from_document(document)
    a = evaluate_frame(frame, instant_us(document.as_of))
    b = evaluate_frame(direct, instant_us(document.as_of))
    assert np.array_equal(a.obj_progress, b.obj_progress, equal_nan=True)
    assert np.array_equal(a.kr_progress, b.kr_progress, equal_nan=True)
    assert json.dumps(sorted(frame.person_names or ())) == json.dumps(
        sorted(direct.person_names or ()))


def test_frames_without_labels_and_buckets_of_trees(tmp_path: Path) -> None:
    # two trees (0 <- 1, 2 <- 3) and a lone objective 4, people and units as bare codes
    frame = OrgFrame.from_columns(
        kr_objective=np.array([0, 1, 3, 4]), kr_kind=np.zeros(4, np.uint8),
        kr_target=np.array([10.0, 10.0, 4.0, 2.0]), kr_current=np.array([5.0, 10.0, 1.0, 2.0]),
        kr_unit=np.array([0, 1, -1, 0], np.int32),
        obj_parent=np.array([-1, 0, -1, 2, -1]), obj_owner=np.array([0, 1, 1, 2, 0], np.int32))
    ds = write_dataset(tmp_path / "ds", {"x": frame}, partition_by="root", buckets=2)
    assert ds.partitions == ("x.b0000", "x.b0001")
    assert ds.people == ("p0", "p1", "p2") and ds.units == ("u0", "u1")
    first = ds.read_partition("x.b0000")
    assert list(first.obj_ids or ()) == ["o0", "o1", "o4"]
    assert list(first.obj_parent_names or ()) == [None, "o0", None]
    assert list(first.kr_ids or ()) == ["k0", "k1", "k3"]
    recompute(str(tmp_path / "ds"), output=str(tmp_path / "out"), instants=[AS_OF])
    out = read_results(tmp_path / "out", AS_OF)
    objectives = column(out["objectives"], "obj_progress")
    assert objectives == {"o0": 0.5, "o1": 1.0, "o4": 1.0, "o2": 0.25, "o3": 0.25}
    people = dict(zip(out["people"].column("name").to_pylist(),
                      out["people"].column("person_progress").to_pylist(), strict=True))
    # p0 owns o0 (0.5) and o4 (1.0); p1 owns o1 (1.0, partition b0000) and o2 (0.25, b0001)
    assert people == {"p0": 0.75, "p1": 0.625, "p2": 0.25}


def test_errors_of_is_to_evaluation_errors() -> None:
    from okrcore.batch import to_evaluation
    from okrcore.batch.convert import errors_of
    from okrcore.errors import error_sort_key

    document = oracle_document()
    frame = OrgFrame.from_document(document)
    result = evaluate_frame(frame, instant_us(document.as_of), document.policy)
    assert sorted(errors_of(frame, result), key=error_sort_key) == list(
        to_evaluation(frame, result).errors)
    assert {e.code for e in errors_of(frame, result)} == {"degenerate_metric",
                                                         "depends_on_invalid"}
