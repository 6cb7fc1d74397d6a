"""Issue 17: a failed run never hides the last good results of a Parquet dataset.

A run writes its results into a new snapshot beside the published one and publishes it by
replacing ``_complete.json`` last.  Whatever happens to a rerun -- a failing partition, a full
disk, SIGKILL at any write or at a random time -- the last complete snapshot of the instant
stays readable and unchanged until a new one is complete, and a rerun equals a clean run.

The first run uses the ``betterworks`` preset and the reruns ``workfront``, so the old and the
new results differ (colours) and a test can tell which one it reads.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fault_mounts import mount_tmpfs

pa = pytest.importorskip("pyarrow", reason="pyarrow not installed (okrcore[parquet])")

import okrcore.jobs._arrow as A  # noqa: E402
import okrcore.jobs.snapshots as S  # noqa: E402  (the result writes)
from okrcore.cli import main  # noqa: E402
from okrcore.jobs.parquet import COMPLETE, as_of_key, read_results, write_dataset  # noqa: E402
from okrcore.jobs.sample import sample_frames  # noqa: E402

AS_OF = datetime(2026, 2, 15, 12, tzinfo=UTC)
ARGS = ("--as-of", "2026-02-15T12:00:00Z", "--progress", "never")
OLD = ("--preset", "betterworks")
NEW = ("--preset", "workfront")


def tables(out: Path) -> str:
    """Every result of the published snapshot, as comparable text (NaN equals NaN)."""
    return json.dumps({name: table.to_pydict() for name, table in
                       read_results(out, AS_OF).items()}, sort_keys=True)


def cli(dataset: Path, out: Path, *extra: str) -> int:
    return main(["recompute", str(dataset), "-o", str(out), *ARGS, *extra])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A dataset of 4 tenants, and the old and new results of clean runs."""
    root = tmp_path_factory.mktemp("snapshots")
    write_dataset(root / "ds", sample_frames(2000, tenants=4))
    assert cli(root / "ds", root / "clean-old", *OLD) == 0
    assert cli(root / "ds", root / "clean-new", *NEW) == 0
    old, new = tables(root / "clean-old"), tables(root / "clean-new")
    assert old != new  # the presets tell the snapshots apart
    yield {"root": root, "ds": root / "ds", "old": old, "new": new}


@pytest.fixture
def out(world: dict[str, Any], tmp_path: Path) -> Path:
    """A result directory holding the old results (a complete snapshot)."""
    assert cli(world["ds"], tmp_path / "out", *OLD) == 0
    return tmp_path / "out"


def test_the_published_snapshot_is_named_by_complete_json(out: Path) -> None:
    complete = json.loads((out / as_of_key(AS_OF) / COMPLETE).read_text())
    assert complete["snapshot"].startswith("run=") and complete["previous"] is None
    assert sorted(p.name for p in (out / as_of_key(AS_OF)).iterdir()) == sorted(
        [COMPLETE, complete["snapshot"]])
    assert not list(out.glob(".*.lock"))  # the run's lock is gone with the run


def test_a_rerun_keeps_the_previous_snapshot_until_the_next(world: dict[str, Any],
                                                            out: Path) -> None:
    first = json.loads((out / as_of_key(AS_OF) / COMPLETE).read_text())["snapshot"]
    assert cli(world["ds"], out, *NEW) == 0
    second = json.loads((out / as_of_key(AS_OF) / COMPLETE).read_text())
    assert second["previous"] == first and (out / as_of_key(AS_OF) / first).is_dir()
    assert tables(out) == world["new"]
    assert cli(world["ds"], out, *NEW) == 0
    third = json.loads((out / as_of_key(AS_OF) / COMPLETE).read_text())
    assert not (out / as_of_key(AS_OF) / first).exists()  # pruned: two generations kept
    assert {p.name for p in (out / as_of_key(AS_OF)).glob("run=*")} == {
        third["snapshot"], second["snapshot"]}


def test_a_failing_partition_leaves_the_old_results(world: dict[str, Any], out: Path,
                                                    tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    import shutil

    broken = tmp_path / "ds"
    shutil.copytree(world["ds"], broken)
    [victim] = sorted(broken.glob("partition=*"))[2:3]
    (victim / "objectives.parquet").write_bytes(b"not parquet")
    capsys.readouterr()
    assert cli(broken, out, *NEW) == 3
    assert "Traceback" not in capsys.readouterr().err
    assert tables(out) == world["old"]
    # a rerun on the repaired input equals a clean run
    shutil.rmtree(broken)
    shutil.copytree(world["ds"], broken)
    assert cli(broken, out, *NEW, "--incremental") == 0
    assert tables(out) == world["new"]


def _fail_after(monkeypatch: pytest.MonkeyPatch, writes: int) -> list[int]:
    """Make the ``writes``-th Parquet or text write (0-based) fail with ENOSPC."""
    count = [0]
    real_table, real_text = A._atomic_write_table, A._atomic_write_text

    def check(path: Path) -> None:
        count[0] += 1
        if count[0] == writes + 1:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))

    def table(table: Any, path: Path) -> None:
        check(path)
        real_table(table, path)

    def text(text: str, path: Path, **kwargs: Any) -> None:
        check(path)
        real_text(text, path, **kwargs)

    monkeypatch.setattr(S, "_atomic_write_table", table)
    monkeypatch.setattr(S, "_atomic_write_text", text)
    return count


def test_a_full_disk_at_any_write_leaves_the_old_results(
        world: dict[str, Any], out: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # how many writes a run makes: 4 partitions x 4 files, people, _complete.json
    count = _fail_after(monkeypatch, 10**9)
    assert cli(world["ds"], out, *NEW) == 0
    total = count[0]
    assert total == 4 * 4 + 2
    assert cli(world["ds"], out, *OLD) == 0  # back to the old results
    capsys.readouterr()
    for writes in (0, 5, total - 2, total - 1):  # first, in a partition, people, publication
        _fail_after(monkeypatch, writes)
        status = cli(world["ds"], out, *NEW)
        captured = capsys.readouterr()
        assert status in (3, 4), writes
        assert "Traceback" not in captured.err and "No space left on device" in captured.out
        assert tables(out) == world["old"], writes
    monkeypatch.undo()
    assert cli(world["ds"], out, *NEW) == 0
    assert tables(out) == world["new"]


# ------------------------------------------------------------------------------------------
# SIGKILL: a subprocess killed at chosen writes (before and after a rename) and at random times
# ------------------------------------------------------------------------------------------

DRIVER = r"""
import os, signal, sys
mode, at = sys.argv[1], int(sys.argv[2])
count = 0
real_replace = os.replace

def replace(src, dst, *args, **kwargs):
    global count
    count += 1
    if mode == "before" and count == at:
        with open(src, "r+b") as handle:  # a half-written file, then the power cut
            handle.truncate(max(0, os.path.getsize(src) // 2))
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(src, dst, *args, **kwargs)
    if mode == "after" and count == at:
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = replace
from okrcore.cli import main
status = main(sys.argv[3:])
sys.stderr.write(f"REPLACES {count}\n")
sys.exit(status)
"""


def _run(mode: str, at: int, dataset: Path, out: Path, *extra: str
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", DRIVER, mode, str(at), "recompute", str(dataset), "-o", str(out),
         *ARGS, *extra], capture_output=True, text=True, check=False, timeout=300)


def _assert_old_or_new(world: dict[str, Any], out: Path, published_before: str) -> bool:
    """The instant reads as one complete snapshot: the old one while nothing new was
    published, else the new one.  Returns whether the new one was published."""
    complete = json.loads((out / as_of_key(AS_OF) / COMPLETE).read_text())
    got = tables(out)
    if complete["snapshot"] == published_before:
        assert got == world["old"]
        return False
    assert got == world["new"]
    return True


def test_sigkill_at_every_kind_of_write_leaves_the_old_results(world: dict[str, Any],
                                                               out: Path) -> None:
    counted = _run("count", 0, world["ds"], out, *NEW)
    assert counted.returncode == 0, counted.stderr
    total = int(counted.stderr.rsplit("REPLACES ", 1)[1])
    assert cli(world["ds"], out, *OLD) == 0
    before = json.loads((out / as_of_key(AS_OF) / COMPLETE).read_text())["snapshot"]
    # kill before and after renames spread over the run, the publication included
    points = sorted({1, 2, total // 3, total // 2, total - 1, total})
    for mode in ("before", "after"):
        for at in points:
            done = _run(mode, at, world["ds"], out, *NEW)
            assert done.returncode == -signal.SIGKILL, (mode, at, done.stderr)
            published = _assert_old_or_new(world, out, before)
            # only the very last rename (the publication) can make the new one visible
            assert published == (mode == "after" and at == total), (mode, at)
            if published:
                assert cli(world["ds"], out, *OLD) == 0
                before = json.loads((out / as_of_key(AS_OF) / COMPLETE).read_text())[
                    "snapshot"]
    # a rerun (resuming what the killed runs finished) equals a clean run
    assert cli(world["ds"], out, *NEW, "--incremental") == 0
    assert tables(out) == world["new"]
    assert len(list((out / as_of_key(AS_OF)).glob("run=*"))) == 2  # dead runs pruned


def test_sigkill_at_random_points_leaves_a_complete_snapshot(world: dict[str, Any],
                                                             out: Path) -> None:
    """Kills at random writes and at random times (seeded: ``OKRCORE_FAULT_SEED``)."""
    seed = int(os.environ.get("OKRCORE_FAULT_SEED", "17"))
    rng = random.Random(seed)
    t0 = time.perf_counter()
    counted = _run("count", 0, world["ds"], out, *OLD)
    duration = time.perf_counter() - t0
    total = int(counted.stderr.rsplit("REPLACES ", 1)[1])
    before = json.loads((out / as_of_key(AS_OF) / COMPLETE).read_text())["snapshot"]
    for i in range(6):
        if i % 2:
            mode, at = rng.choice(("before", "after")), rng.randint(1, total)
            command = [sys.executable, "-c", DRIVER, mode, str(at)]
        else:
            command = [sys.executable, "-c", DRIVER, "none", "0"]
        process = subprocess.Popen(
            [*command, "recompute", str(world["ds"]), "-o", str(out), *ARGS, *NEW],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not i % 2:
            time.sleep(rng.uniform(0.5, 1.0) * duration)
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=120)
        if _assert_old_or_new(world, out, before):
            assert cli(world["ds"], out, *OLD) == 0
            before = json.loads((out / as_of_key(AS_OF) / COMPLETE).read_text())["snapshot"]
    assert cli(world["ds"], out, *NEW) == 0
    assert tables(out) == world["new"]


def test_a_real_full_disk_leaves_the_old_results(world: dict[str, Any], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """On a size-limited tmpfs that holds one snapshot and a half: the rerun runs out of space
    half-way, the old snapshot stays; after growing the disk a rerun equals a clean run."""
    disk = tmp_path / "disk"
    disk.mkdir()
    used = sum(p.stat().st_blocks * 512 for p in (world["root"] / "clean-old").rglob("*")
               if p.is_file())
    mount_tmpfs(disk, used * 3 // 2 + 65536)
    try:
        assert cli(world["ds"], disk / "out", *OLD) == 0
        capsys.readouterr()
        status = cli(world["ds"], disk / "out", *NEW)
        captured = capsys.readouterr()
        assert status in (3, 4)
        assert "No space left on device" in captured.out and captured.err == ""
        assert tables(disk / "out") == world["old"]
        mount_tmpfs(disk, used * 4, remount=True)
        assert cli(world["ds"], disk / "out", *NEW) == 0
        assert tables(disk / "out") == world["new"]
    finally:
        subprocess.run(["umount", str(disk)], check=False, capture_output=True)


def test_results_of_earlier_versions_still_read_and_are_replaced(world: dict[str, Any],
                                                                 out: Path) -> None:
    """Before snapshots, results lay directly under ``as_of=`` and ``_complete.json`` had no
    ``snapshot``: they read as they are, people can be recombined there, and a new run
    publishes a snapshot beside them."""
    from okrcore.jobs.run import finish_people

    instant = out / as_of_key(AS_OF)
    complete = json.loads((instant / COMPLETE).read_text())
    for item in (instant / complete["snapshot"]).iterdir():
        item.rename(instant / item.name)
    (instant / complete["snapshot"]).rmdir()
    del complete["snapshot"], complete["previous"]
    (instant / COMPLETE).write_text(json.dumps(complete))
    assert tables(out) == world["old"]
    people, _ = finish_people(world["ds"], out, AS_OF)  # the published (legacy) results
    assert people == json.loads((instant / COMPLETE).read_text())["people"]
    assert json.loads((instant / COMPLETE).read_text())["snapshot"] == ""
    assert tables(out) == world["old"]
    assert cli(world["ds"], out, *NEW) == 0
    assert tables(out) == world["new"]
    assert json.loads((instant / COMPLETE).read_text())["previous"] == ""


def test_people_are_recombined_in_the_published_snapshot(world: dict[str, Any],
                                                         out: Path) -> None:
    from okrcore.jobs.run import finish_people

    assert cli(world["ds"], out, *OLD) == 0  # a second generation
    before = json.loads((out / as_of_key(AS_OF) / COMPLETE).read_text())
    assert before["previous"] is not None
    finish_people(world["ds"], out, AS_OF)
    after = json.loads((out / as_of_key(AS_OF) / COMPLETE).read_text())
    assert after == before
    assert (out / as_of_key(AS_OF) / before["previous"]).is_dir()
    assert tables(out) == world["old"]
