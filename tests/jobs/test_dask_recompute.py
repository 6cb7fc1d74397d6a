"""okrcore_dask on a LocalCluster of worker processes: equal to one machine, and no loss when a
worker is killed mid-run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("pyarrow", reason="pyarrow not installed (okrcore[dask])")
distributed = pytest.importorskip("distributed", reason="dask.distributed not installed "
                                  "(okrcore[dask])")

import okrcore  # noqa: E402
import okrcore_dask  # noqa: E402
from okrcore.jobs import recompute  # noqa: E402
from okrcore.jobs.parquet import Dataset, read_results, write_dataset  # noqa: E402
from okrcore.jobs.sample import sample_frames  # noqa: E402

HERE = Path(__file__).parent
MOMENTS = (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 15, 12, tzinfo=UTC))


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with okrcore_dask.local_cluster(2, memory_limit="1GiB") as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """Sample companies split by alignment root (people span partitions) plus the oracle
    document with its bad rows."""
    tmp = tmp_path_factory.mktemp("dask")
    tenants: list[tuple[str, okrcore.Document | okrcore.batch.OrgFrame]] = list(
        sample_frames(620, tenants=2))
    tenants.append(("acme", okrcore.loads((HERE / "jobs_oracle.json").read_bytes())))
    return write_dataset(tmp / "ds", tenants, partition_by="root")


def people_spanning_partitions(ds: Dataset) -> set[str]:
    seen: dict[int, set[str]] = {}
    for key in ds.partitions:
        frame = ds.read_partition(key)
        for p in {*frame.obj_owner[frame.obj_owner >= 0].tolist(),
                  *frame.kr_owner_ids.tolist()}:
            seen.setdefault(p, set()).add(key)
    return {ds.people[p] for p, keys in seen.items() if len(keys) > 1}


def assert_same_results(a: Path, b: Path, moment: datetime) -> None:
    x, y = read_results(a, moment), read_results(b, moment)
    for name in ("key_results", "objectives", "people"):
        assert x[name].column_names == y[name].column_names
        assert x[name].num_rows == y[name].num_rows
        for col in x[name].column_names:
            u = x[name].column(col).to_numpy(zero_copy_only=False)
            v = y[name].column(col).to_numpy(zero_copy_only=False)
            if u.dtype.kind == "f":
                assert np.array_equal(u, v, equal_nan=True), (name, col)
            else:
                assert u.tolist() == v.tolist(), (name, col)


def test_distributed_equals_single_machine(client: Any, dataset: Dataset,
                                          tmp_path: Path) -> None:
    spanning = people_spanning_partitions(dataset)
    assert "pat" in spanning and len(spanning) > 10
    local = recompute(str(dataset.path), output=str(tmp_path / "local"), instants=MOMENTS)
    # (two threads per task here: the results do not depend on it)
    reports, failures, _ = okrcore_dask.recompute_dataset(
        str(dataset.path), str(tmp_path / "dask"), MOMENTS, dataset.policy, client=client,
        threads=2)
    assert failures == []
    assert [r.to_json() | {"seconds": None} for r in reports] == [
        r.to_json() | {"seconds": None} for r in local.instants]
    for moment in MOMENTS:
        assert_same_results(tmp_path / "local", tmp_path / "dask", moment)
    # and the single machine is the whole dataset evaluated at once (test_jobs_parquet)
    from test_jobs_parquet import assert_job_equals_whole_frame

    for moment in MOMENTS:
        assert_job_equals_whole_frame(dataset, tmp_path / "dask", moment)
    pat = read_results(tmp_path / "dask", MOMENTS[0])["people"].to_pylist()
    # 1 Feb: bc1 is at 1 (check-in of 20 Jan) of 10
    assert next(p for p in pat if p["name"] == "pat")["person_progress"] == (
        1.0 + 0.125 + 0.1) / 3


def test_killed_worker_loses_and_duplicates_nothing(client: Any,
                                                   dataset: Dataset, tmp_path: Path) -> None:
    marker = tmp_path / "kill-once"
    marker.write_text("")
    workers_before = set(client.scheduler_info()["workers"])
    reports, failures, _ = okrcore_dask.recompute_dataset(
        str(dataset.path), str(tmp_path / "dask"), MOMENTS, dataset.policy, client=client,
        fault_marker=str(marker))
    claimed = Path(f"{marker}.claimed")
    assert claimed.is_file() and not marker.exists()  # a worker did die half-way
    killed_dir = Path(claimed.read_text())
    assert killed_dir.parent.parent.parent == tmp_path / "dask"  # as_of=/run=/partition=
    client.wait_for_workers(2, timeout=60)
    assert set(client.scheduler_info()["workers"]) != workers_before  # one was replaced
    assert failures == []
    assert len(reports) == len(MOMENTS)
    recompute(str(dataset.path), output=str(tmp_path / "local"), instants=MOMENTS)
    for moment in MOMENTS:
        assert_same_results(tmp_path / "local", tmp_path / "dask", moment)
        got = read_results(tmp_path / "dask", moment)
        ids = got["key_results"].column("id").to_pylist()
        assert len(ids) == len(set(ids)) == sum(
            dataset.read_partition(k).n_kr for k in dataset.partitions)
    # no temporary file survives, and every partition is complete
    assert not list((tmp_path / "dask").rglob(".*.tmp-*"))
    for moment_dir in (tmp_path / "dask").iterdir():
        for part in moment_dir.glob("run=*/partition=*"):
            assert sorted(p.name for p in part.iterdir()) == [
                "_meta.json", "items.parquet", "key_results.parquet", "objectives.parquet"]


def test_cli_engine_dask_on_a_local_cluster(dataset: Dataset, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from okrcore.cli import main

    status = main(["recompute", str(dataset.path), "-o", str(tmp_path / "out"), "--engine",
                   "dask", "--workers", "2", "--as-of", "2026-02-15T12:00:00Z", "--json"])
    import json

    report = json.loads(capsys.readouterr().out)
    assert status == 1  # the oracle's bad rows
    assert report["engine"] == "dask" and report["exit_code"] == 1
    [instant] = report["instants"]
    assert instant["partitions"] == len(dataset.partitions)
    assert {(e["table"], e["key"]) for e in instant["errors"]} == {
        ("key_results", "c1"), ("objectives", "c"), ("people", "carl")}


def test_unreachable_scheduler_exits_four(dataset: Dataset, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import dask

    from okrcore.cli import main

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        status = main(["recompute", str(dataset.path), "-o", str(tmp_path / "out"),
                       "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9",
                       "--as-of", "2026-02-15", "--progress", "never"])
    assert status == 4
    assert "FAILED: dask scheduler tcp://127.0.0.1:9" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_tasks_evaluate_on_one_thread_unless_told(monkeypatch: pytest.MonkeyPatch,
                                                  dataset: Dataset, tmp_path: Path) -> None:
    """A task's evaluations get ``threads=1`` by default (the cluster runs one task per worker
    thread), or the job's ``threads``; a bad value is refused before any cluster starts."""
    seen: list[int | None] = []

    def partition(*args: Any, threads: int | None = None, **kwargs: Any) -> list[Any]:
        seen.append(threads)
        return []

    monkeypatch.setattr(okrcore_dask, "recompute_partition", partition)
    okrcore_dask._task("k", "ds", "out", MOMENTS, dataset.policy, "numpy", False, None)
    okrcore_dask._task("k", "ds", "out", MOMENTS, dataset.policy, "numpy", False, None,
                       threads=3)
    assert seen == [1, 3]
    with pytest.raises(ValueError, match=r"threads must be a positive integer; got 0"):
        okrcore_dask.recompute_dataset(str(dataset.path), str(tmp_path / "x"), MOMENTS,
                                       dataset.policy, threads=0)
    assert not (tmp_path / "x").exists()
