"""Benchmark of the per-event path: one check-in, then ``recompute(incremental=True)``.

For each size (``--sizes``, default 10^4, 10^5 and 10^6 key results) a database is built once
and cached in ``--scratch`` (building 10^6 takes minutes):

* SQLite: the sample organisation of ``okrcore recompute sqlite:///X.db --generate-sample N``
  (:func:`okrcore.jobs.command.generate_sample`);
* PostgreSQL (``--postgres-url``): the synthetic organisation of ``benchmarks/synthetic.py``,
  loaded by ``bench_orm.load`` into one schema per size (``okrcore_events_N``).

Then a full recompute runs once (when the database has no snapshot yet: timed and reported),
and ``--events`` times (default 30) one check-in is added through the ORM
(:func:`okrcore_sqlalchemy.add_check_in`, one commit: the flush hook records it in the change
log) and followed by ``recompute(engine, incremental=True)``.  Reported per size: the median
and p90 of the incremental recompute [ms] (the check-in's own commit apart), the rows written,
and the ratio of each size's median to the smallest size's; up to ``--baseline-max`` key
results, the baseline of the same run: one check-in followed by today's version-comparison
incremental (a schema without change log), which reads the whole database.  Each event's
result is checked: the run must be incremental and hold nothing back.

Targets (issue 19): median <= 20 ms at 10^6 on SQLite and within 2x of 10^4; <= 30 ms on
PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.orm import Session

import okrcore_sqlalchemy as S

sys.path.insert(0, str(Path(__file__).parent))


def _prepare(bind: Engine) -> float | None:
    """Add what an older database lacks (the change log, indexes); full recompute if needed."""
    S.create_schema(bind)
    for table in S.REFERENCE.tables:
        for index in table.indexes:
            index.create(bind, checkfirst=True)
    with bind.begin() as conn:
        conn.execute(S.REFERENCE.table("change").delete())
        if bind.dialect.name == "postgresql":  # the loader wrote explicit check-in ids
            conn.execute(text("SELECT setval(pg_get_serial_sequence('okrcore_check_ins', 'id'), "
                              "(SELECT COALESCE(MAX(id), 0) + 1 FROM okrcore_check_ins))"))
        snapshots = conn.execute(select(S.Snapshot.as_of)).first()
    if snapshots is not None:
        return None
    t0 = time.perf_counter()
    S.recompute(bind)
    return time.perf_counter() - t0


def sqlite_engine(scratch: Path, n: int, wal: bool) -> Engine:
    path = scratch / f"events_{n}.db"
    if not path.exists():
        from okrcore.jobs.command import generate_sample

        building = path.with_suffix(".building")
        building.unlink(missing_ok=True)
        generate_sample(f"sqlite:///{building}", n)
        building.rename(path)
    bind = create_engine(f"sqlite:///{path}")
    with bind.connect() as conn:  # the journal mode is the database file's own
        conn.exec_driver_sql(f"PRAGMA journal_mode={'wal' if wal else 'delete'}")
    if wal:  # WAL's usual companion: no fsync per commit (durable at checkpoints)
        @event.listens_for(bind, "connect")
        def _synchronous(dbapi: Any, _record: Any) -> None:
            dbapi.execute("PRAGMA synchronous=NORMAL")
        bind.dispose()
    return bind


def postgres_engine(url: str, n: int) -> Engine:
    schema = f"okrcore_events_{n}"
    admin = create_engine(url)
    with admin.begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM information_schema.schemata "
                                   "WHERE schema_name = :s"), {"s": schema}).first()
        if exists is None:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    bind = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    with bind.connect() as conn:
        loaded = exists is not None and conn.execute(text(
            "SELECT to_regclass('okrcore_key_results') IS NOT NULL AND "
            "EXISTS (SELECT 1 FROM okrcore_key_results)")).scalar()
    if not loaded:  # new, or an interrupted load
        from bench_orm import load

        S.Base.metadata.drop_all(bind)
        load(bind, n)
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")  # planner statistics of the freshly loaded tables
    return bind


def events(bind: Engine, count: int, seed: int, kernel: str) -> dict[str, Any]:
    """``count`` check-ins, each followed by an incremental recompute; times in ms."""
    rng = random.Random(seed)
    with bind.connect() as conn:
        n = int(conn.execute(text("SELECT COUNT(*) FROM okrcore_key_results")).scalar() or 0)
        offsets = [rng.randrange(n) for _ in range(count)]
        ids = [str(conn.execute(select(S.KeyResult.id).order_by(S.KeyResult.id).offset(o)
                                .limit(1)).scalar()) for o in offsets]
        as_of = conn.execute(select(S.Snapshot.as_of).order_by(S.Snapshot.as_of.desc())).scalar()
    assert as_of is not None
    S.recompute(bind, incremental=True, kernel=kernel)  # warm: caches, imports, numba's JIT
    check_in_ms, recompute_ms, written = [], [], []
    for kid in ids:
        t0 = time.perf_counter()
        with Session(bind) as session:
            S.add_check_in(session, S.CheckIn, kid, as_of - timedelta(hours=rng.randrange(1, 900)),
                           rng.uniform(0, 100))
            session.commit()
        t1 = time.perf_counter()
        report = S.recompute(bind, incremental=True, kernel=kernel)
        t2 = time.perf_counter()
        assert report.incremental and report.skipped_newer == 0, report
        check_in_ms.append((t1 - t0) * 1e3)
        recompute_ms.append((t2 - t1) * 1e3)
        written.append((report.key_results, report.objectives, report.people))
    ordered = sorted(recompute_ms)
    return {
        "key_results": n,
        "median_ms": statistics.median(recompute_ms),
        "p90_ms": ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))],
        "check_in_median_ms": statistics.median(check_in_ms),
        "written_median": [statistics.median(w[i] for w in written) for i in range(3)],
        "recompute_ms": recompute_ms,
    }


def baseline(bind: Engine, seed: int) -> float:
    """One check-in, then today's incremental recompute without a change log [ms].

    ``recompute(incremental=True)`` on a schema without change log compares every key result's
    version with its stored result's: it reads the whole database.
    """
    plain = S.Schema(S.Person, S.Objective, S.KeyResult, S.KrOwner, S.Checkpoint, S.CheckIn,
                     S.Snapshot, S.KeyResultResult, S.ObjectiveResult, S.PersonResult)
    rng = random.Random(seed)
    with bind.connect() as conn:
        kid = str(conn.execute(select(S.KeyResult.id).limit(1)).scalar())
        as_of = conn.execute(select(S.Snapshot.as_of).order_by(S.Snapshot.as_of.desc())).scalar()
    assert as_of is not None
    with Session(bind) as session:
        S.add_check_in(session, S.CheckIn, kid, as_of - timedelta(hours=1), rng.uniform(0, 100))
        session.commit()
    t0 = time.perf_counter()
    report = S.recompute(bind, incremental=True, schema=plain)
    assert report.incremental, report
    return (time.perf_counter() - t0) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--postgres-url", default=os.environ.get("OKRCORE_TEST_POSTGRES_URL"))
    parser.add_argument("--scratch", default="/tmp/okrcore-bench-events")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--kernels", nargs="+", default=["numpy", "numba"])
    parser.add_argument("--baseline-max", type=int, default=100_000,
                        help="also time today's version-comparison incremental up to this size")
    parser.add_argument("--sqlite-journal", nargs="+", default=["delete", "wal"],
                        help="SQLite journal modes to run (wal: with synchronous=NORMAL)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    figures: dict[str, Any] = {}
    setups = [(d, j, k) for d in args.databases
              for j in (args.sqlite_journal if d == "sqlite" else ["-"]) for k in args.kernels]
    for database, journal, kernel in setups:
        if database == "postgresql" and not args.postgres_url:
            print("postgresql: skipped (no --postgres-url)")
            continue
        label = f"{database}/{journal}/{kernel}" if database == "sqlite" else \
            f"{database}/{kernel}"
        rows = {}
        for n in sizes:
            bind = (sqlite_engine(scratch, n, journal == "wal") if database == "sqlite"
                    else postgres_engine(args.postgres_url, n))
            full = _prepare(bind)
            rows[n] = events(bind, args.events, args.seed, kernel)
            rows[n]["full_recompute_s"] = full
            if n <= args.baseline_max and kernel == args.kernels[0]:
                rows[n]["baseline_ms"] = baseline(bind, args.seed)
                S.recompute(bind, incremental=True)  # consume the baseline's check-in
            bind.dispose()
            r = rows[n]
            print(f"{label:22} {n:>9} KRs  median {r['median_ms']:7.2f} ms  "
                  f"p90 {r['p90_ms']:7.2f} ms  (check-in commit {r['check_in_median_ms']:.2f} ms;"
                  f" written krs/objectives/people {r['written_median']})"
                  + (f"  full recompute {full:.1f} s" if full else "")
                  + (f"  baseline (version comparison) {r['baseline_ms']:.0f} ms"
                     if "baseline_ms" in r else ""), flush=True)
        smallest = rows[min(rows)]["median_ms"]
        for r in rows.values():
            r["ratio_to_smallest"] = r["median_ms"] / smallest
        print(f"{label:22} median ratio {max(rows)}/{min(rows)}: "
              f"{rows[max(rows)]['ratio_to_smallest']:.2f}", flush=True)
        figures[label] = rows
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
