"""Issue 17: fault injection for a database source recomputed into itself (SQLite).

``okrcore recompute sqlite:///X.db`` stores one snapshot per as-of instant, each in one write
transaction.  Whatever happens to a rerun -- SIGKILL inside the write transaction or at a random
time, a full disk (a real size-limited tmpfs), a read-only file, concurrent runs -- each case
checks three things:

* no traceback, and at most one line on stderr;
* the previous complete snapshot stays readable (``load_evaluation``) and its stored rows are
  unchanged, unless the run committed a complete new one;
* a rerun equals a clean run.

The first run uses the ``betterworks`` preset and the reruns ``workfront``, so the old and the
new results differ (colours) and a test can tell which one it reads.  (Bad values in every
column, unreadable databases and ``mode=ro`` URLs are ``tests/orm/test_sqla_rows.py``'s.)
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fault_mounts import mount_tmpfs, read_only

pytest.importorskip("sqlalchemy", reason="sqlalchemy not installed (okrcore[sqlalchemy])")

from sqlalchemy import create_engine

import okrcore_sqlalchemy as S

AS_OF = datetime(2026, 2, 15, 12, tzinfo=UTC)
ARGS = ("--as-of", "2026-02-15T12:00:00Z", "--progress", "never")
OLD = ("--preset", "betterworks")
NEW = ("--preset", "workfront")
SAMPLE = "1000"  # key results: a run takes about a second, mostly starting Python

# A child process that SIGKILLs itself right after the ``at``-th upsert of the job (the
# snapshot row, then the key result, objective and person results): inside the write
# transaction, before its commit.  ``at = 0`` only counts them; ``at = -1`` holds the write
# lock for three seconds after the first upsert instead.
DRIVER = r"""
import os, signal, sys, time
import okrcore_sqlalchemy.job as J
at, count, real = int(sys.argv[1]), 0, J.upsert_columns

def upsert(*args, **kwargs):
    global count
    count += 1
    real(*args, **kwargs)
    if count == at:
        os.kill(os.getpid(), signal.SIGKILL)
    if at == -1 and count == 1:
        sys.stderr.write("HOLDING\n")
        sys.stderr.flush()
        time.sleep(3)

J.upsert_columns = upsert
from okrcore.cli import main
status = main(sys.argv[2:])
sys.stderr.write(f"UPSERTS {count}\n")
sys.exit(status)
"""


def _command(path: Path, *extra: str, at: int | None = None) -> list[str]:
    head = [sys.executable, "-c", DRIVER, str(at)] if at is not None else [
        sys.executable, "-m", "okrcore.cli"]
    return [*head, "recompute", f"sqlite:///{path}", *ARGS, *extra]


def _run(path: Path, *extra: str, at: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_command(path, *extra, at=at), capture_output=True, text=True,
                          check=False, timeout=300)


def _clean_err(done: subprocess.CompletedProcess[str]) -> str:
    return "".join(line for line in done.stderr.splitlines(keepends=True)
                   if not line.startswith(("UPSERTS ", "HOLDING")))


def stored(path: Path) -> str:
    """Every stored result row and snapshot (but its ``computed_at``), as comparable text;
    checks the file's integrity first."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        out: dict[str, Any] = {}
        for table in ("okrcore_snapshots", "okrcore_kr_results", "okrcore_objective_results",
                      "okrcore_person_results"):
            cursor = db.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            out[table] = sorted(
                json.dumps({n: v for n, v in zip(names, row, strict=True)
                            if n != "computed_at"}, sort_keys=True, default=str)
                for row in cursor)
    return json.dumps(out, sort_keys=True)


def evaluation(path: Path) -> str:
    """The snapshot at ``AS_OF`` as the core reads it back."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        return json.dumps(S.load_evaluation(engine, as_of=AS_OF).to_json(), sort_keys=True)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A sample database with the old snapshot, and the stored rows of clean old and new runs."""
    root = tmp_path_factory.mktemp("dbfaults")
    old = root / "old.db"
    done = _run(old, "--generate-sample", SAMPLE, *OLD)
    assert done.returncode == 0, done.stderr
    new = root / "new.db"
    shutil.copy(old, new)
    t0 = time.perf_counter()
    assert _run(new, *NEW).returncode == 0
    world = {"root": root, "template": old, "old": stored(old), "new": stored(new),
             "duration": time.perf_counter() - t0,
             "old_eval": evaluation(old), "new_eval": evaluation(new)}
    assert world["old"] != world["new"] and world["old_eval"] != world["new_eval"]
    yield world


@pytest.fixture
def db(world: dict[str, Any], tmp_path: Path) -> Path:
    """A copy of the database holding the old snapshot."""
    path = tmp_path / "okrs.db"
    shutil.copy(world["template"], path)
    return path


def _assert_old(world: dict[str, Any], path: Path) -> None:
    assert stored(path) == world["old"]
    assert evaluation(path) == world["old_eval"]


def _assert_rerun_is_clean(world: dict[str, Any], path: Path) -> None:
    done = _run(path, *NEW)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert stored(path) == world["new"]
    assert evaluation(path) == world["new_eval"]


def test_sigkill_inside_the_write_transaction_leaves_the_old_snapshot(
        world: dict[str, Any], db: Path) -> None:
    # a run makes 4 upserts: the snapshot row, key results, objectives, people (counted below)
    for at in range(1, 5):  # after each upsert; after the last one, before the commit
        done = _run(db, *NEW, at=at)
        assert done.returncode == -signal.SIGKILL, (at, done.stderr)
        assert _clean_err(done) == "", (at, done.stderr)  # nothing printed before the kill
        _assert_old(world, db)  # the hot journal rolls the half-written transaction back
    counted = _run(db, *NEW, at=0)  # the rerun equals a clean run
    assert counted.returncode == 0 and _clean_err(counted) == "", counted.stderr
    assert int(counted.stderr.rsplit("UPSERTS ", 1)[1]) == 4
    assert stored(db) == world["new"]
    assert evaluation(db) == world["new_eval"]


def test_sigkill_in_the_second_instant_keeps_the_first_and_the_old_second(
        world: dict[str, Any], db: Path, tmp_path: Path) -> None:
    """A range of two instants is two transactions: killed inside the second one, the first
    instant holds its new snapshot, the second its old one, and a rerun equals a clean run."""
    both = ("--as-of", "2026-02-15T12:00:00Z/2026-02-16T12:00:00Z/P1D")
    later = datetime(2026, 2, 16, 12, tzinfo=UTC)

    def evaluations(path: Path) -> list[str]:
        engine = create_engine(f"sqlite:///{path}")
        try:
            return [json.dumps(S.load_evaluation(engine, as_of=when).to_json(), sort_keys=True)
                    for when in (AS_OF, later)]
        finally:
            engine.dispose()

    clean = tmp_path / "clean.db"
    shutil.copy(db, clean)
    assert _run(clean, *NEW, *both).returncode == 0
    new = evaluations(clean), stored(clean)
    assert _run(db, *OLD, *both).returncode == 0
    old = evaluations(db)
    assert old[0] != new[0][0] and old[1] != new[0][1]
    done = _run(db, *NEW, *both, at=4 + 2)  # the key results of the second instant
    assert done.returncode == -signal.SIGKILL and _clean_err(done) == "", done.stderr
    assert evaluations(db) == [new[0][0], old[1]]
    done = _run(db, *NEW, *both)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert (evaluations(db), stored(db)) == new


def test_sigkill_at_random_times_leaves_one_complete_snapshot(world: dict[str, Any],
                                                              db: Path) -> None:
    """Kills at random times (seeded: ``OKRCORE_FAULT_SEED``) over the whole run: the
    database holds the old snapshot, or the new one when the kill came after the commit."""
    rng = random.Random(int(os.environ.get("OKRCORE_FAULT_SEED", "17")))
    duration = world["duration"]
    outcomes = []
    for _ in range(6):
        process = subprocess.Popen(_command(db, *NEW), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.3, 1.1) * duration)
        process.send_signal(signal.SIGKILL)
        _, err = process.communicate(timeout=120)
        assert "Traceback" not in err
        if stored(db) == world["new"]:
            assert evaluation(db) == world["new_eval"]
            outcomes.append("new")
            shutil.copy(world["template"], db)  # back to the old snapshot
        else:
            _assert_old(world, db)
            outcomes.append("old" if process.returncode == -signal.SIGKILL else "done?")
    assert "done?" not in outcomes, outcomes
    _assert_rerun_is_clean(world, db)


def test_a_real_full_disk_leaves_the_old_snapshot(world: dict[str, Any], tmp_path: Path) -> None:
    """On a size-limited tmpfs just larger than the database: the rerun's rollback journal
    fills it, the transaction is rolled back (exit 4, one line); after growing the disk a rerun
    equals a clean run."""
    disk = tmp_path / "disk"
    disk.mkdir()
    size = world["template"].stat().st_size
    mount_tmpfs(disk, size + 64 * 1024)  # the journal needs more
    try:
        path = disk / "okrs.db"
        shutil.copy(world["template"], path)
        done = _run(path, *NEW, "--json")
        assert done.returncode == 4, (done.stdout[-500:], done.stderr)
        assert done.stderr == ""
        report = json.loads(done.stdout)
        [failure] = report["failures"]
        assert "\n" not in failure and "database or disk is full" in failure, failure
        for leaked in ("Traceback", "INSERT", "[parameters", "[SQL"):
            assert leaked not in done.stdout
        _assert_old(world, path)
        mount_tmpfs(disk, size * 4, remount=True)
        _assert_rerun_is_clean(world, path)
    finally:
        subprocess.run(["umount", str(disk)], check=False, capture_output=True)


def test_a_read_only_file_exits_4_and_keeps_the_old_snapshot(world: dict[str, Any],
                                                             db: Path) -> None:
    """A plain ``sqlite:///`` URL to a file that cannot be written (not ``mode=ro``): SQLite
    opens it read-only, the write fails, the transaction rolls back."""
    with read_only(db.parent):
        done = _run(db, *NEW, "--json")
        assert done.returncode == 4, (done.stdout[-500:], done.stderr)
        assert done.stderr == ""
        [failure] = json.loads(done.stdout)["failures"]
        assert "\n" not in failure and "readonly" in failure, failure
        assert "Traceback" not in done.stdout and "[parameters" not in done.stdout
        _assert_old(world, db)
    _assert_old(world, db)
    _assert_rerun_is_clean(world, db)


def test_concurrent_runs_on_one_database(world: dict[str, Any], db: Path) -> None:
    """Three runs at once, and two runs waiting for a third that holds the write lock: each
    stores its whole snapshot in turn, and the database ends up equal to a clean run."""
    runs = [subprocess.Popen(_command(db, *NEW), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [r.communicate(timeout=300) for r in runs]
    codes = [r.returncode for r in runs]
    for (out, err), code in zip(results, codes, strict=True):
        assert "Traceback" not in out + err and err.count("\n") <= 1, err
        assert code in (0, 4), (code, out, err)
    assert 0 in codes, results
    assert stored(db) == world["new"]
    assert evaluation(db) == world["new_eval"]
    # contention for certain: an old run holds the write lock for three seconds, two new ones
    # wait for it (SQLite's busy timeout) and store after it
    holder = subprocess.Popen(_command(db, *OLD, at=-1), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert holder.stderr is not None and holder.stderr.readline() == "HOLDING\n"
    runs = [subprocess.Popen(_command(db, *NEW), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [r.communicate(timeout=300) for r in (holder, *runs)]
    assert [holder.returncode, *(r.returncode for r in runs)] == [0, 0, 0], results
    assert all("Traceback" not in out + err for out, err in results)
    assert stored(db) == world["new"]
    assert evaluation(db) == world["new_eval"]
    assert _run(db, *OLD).returncode == 0  # and back: a rerun equals a clean run
    _assert_old(world, db)
