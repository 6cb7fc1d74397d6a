"""Benchmark of the ORM adapter: a full recompute of a stored organisation, SQLite and PostgreSQL.

The synthetic organisation of ``benchmarks/synthetic.py`` (``--size`` key results, a quarter as
many objectives, a third of the key results with check-in logs) is loaded once into the
reference schema in ``--scratch`` (a SQLite file; a PostgreSQL schema ``okrcore_bench_<size>``)
and reused by later runs.  Then, per database, each measurement in a fresh interpreter (peak
RSS is the ``VmHWM`` high-water mark of that process), alternating, ``--repeats`` times:

* **floor-read**: the raw ADBC read, ``fetch_arrow_table`` of the same columns of the same
  input tables (no ``ORDER BY``, no mapping);
* **adbc**: ``okrcore_sqlalchemy.recompute(io="adbc")`` (result tables emptied first, untimed);
* **floor-write**: a raw ADBC bulk ingest of the job's Arrow result columns into empty tables
  with the result tables' columns, keys and indexes;
* **sqlalchemy**: ``recompute(io="sqlalchemy")``, today's row path, on ``--today-size`` key
  results, scaled linearly to ``--size``.

Prints per database the rows phase, time, floor, ratio, target and whether it is met (medians),
and the peak RSS per path; ``--json`` writes every run.  ``--orm-baseline`` adds the comparison
of issue 12 (ORM objects per row + the scalar path).  ``--postgres-url`` (or
``OKRCORE_TEST_POSTGRES_URL``) selects the PostgreSQL database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

import okrcore_sqlalchemy as S
from okrcore_sqlalchemy.job import upsert_columns

sys.path.insert(0, str(Path(__file__).parent))
from synthetic import AS_OF, synthetic_columns

import okrcore
from okrcore import rows
from okrcore.batch.frame import NONE_INSTANT
from okrcore.codes import RESULT_CODE_NAMES
from okrcore.interchange import parse_instant

KINDS = np.array(["metric", "binary", "milestone", "milestone", "milestone"], dtype=object)
RANGES = np.array([None, "band", "graded", "linear"], dtype=object)
MODES = np.array(["auto", "mean", "sum"], dtype=object)
AMBITIONS = np.array(["committed", "aspirational"], dtype=object)
STATUSES = np.array([None, "on_track", "behind", "at_risk", "off_track"], dtype=object)


def _names(prefix: str, codes: Any, none: Any = None) -> list[Any]:
    return [none if c < 0 else f"{prefix}{c}" for c in np.asarray(codes).tolist()]


def _instants(values: Any) -> list[int | None]:
    return [None if v == NONE_INSTANT else v for v in np.asarray(values).tolist()]


def load(bind: Engine, n: int) -> dict[str, int]:
    """Write the synthetic organisation of ``n`` key results into the reference schema."""
    c = synthetic_columns(n)
    n_obj = c["obj_parent"].shape[0]
    kr_obj = c["kr_objective"]
    first = np.searchsorted(kr_obj, kr_obj, side="left")
    kind = c["kr_kind"]
    staged = kind == 3
    objectives = {
        "id": _names("o", np.arange(n_obj)), "position": np.arange(n_obj),
        "name": [""] * n_obj, "owner_id": _names("p", c["obj_owner"]),
        "parent_id": _names("o", c["obj_parent"]), "weight": c["obj_weight"],
        "start_at": _instants(c["obj_start"]), "due_at": _instants(c["obj_due"]),
        "mode": MODES[c["obj_mode"]].tolist(), "ambition": AMBITIONS[c["obj_ambition"]].tolist(),
        "status": STATUSES[c["obj_status"] + 1].tolist(),
        "include_children": c["obj_include_children"],
        "ps_unit": _names("u", c["obj_ps_unit"]), "ps_target": c["obj_ps_target"],
        "ps_auto": c["obj_ps_auto"], "ps_start": c["obj_ps_start"],
        "version": np.ones(n_obj, np.int64),
    }
    key_results = {
        "id": _names("k", np.arange(n)), "objective_id": _names("o", kr_obj),
        "position": np.arange(n) - first, "name": [""] * n, "kind": KINDS[kind].tolist(),
        "start": c["kr_start"], "target": c["kr_target"], "current": c["kr_current"],
        "stages_total": [int(t) if s else None
                         for t, s in zip(c["kr_target"].tolist(), staged.tolist(), strict=True)],
        "unit": _names("u", c["kr_unit"], ""), "range_mode": RANGES[c["kr_range_mode"]].tolist(),
        "red_low": c["kr_red_low"], "yellow_low": c["kr_yellow_low"],
        "yellow_high": c["kr_yellow_high"], "red_high": c["kr_red_high"],
        "due_at": _instants(c["kr_due"]), "weight": c["kr_weight"],
        "has_history": c["kr_has_log"], "version": np.ones(n, np.int64),
    }
    log_kr = c["log_kr"]
    check_ins = {"id": np.arange(1, log_kr.shape[0] + 1), "kr_id": _names("k", log_kr),
                 "seq": np.arange(log_kr.shape[0]), "at": c["log_at"],
                 "value": c["log_value"]}
    counts = np.diff(c["kr_owner_offsets"])
    owner_kr = np.repeat(np.arange(n), counts)
    starts = np.repeat(c["kr_owner_offsets"][:-1], counts)
    owners = {"kr_id": _names("k", owner_kr),
              "position": np.arange(owner_kr.shape[0]) - starts,
              "person_id": _names("p", c["kr_owner_ids"])}
    people = sorted({p for p in objectives["owner_id"] if p} | set(owners["person_id"]))
    S.create_schema(bind)
    with bind.begin() as conn:
        upsert_columns(conn, S.REFERENCE.table("person"), ("id",), False,
                       {"id": people, "name": people})
        upsert_columns(conn, S.REFERENCE.table("objective"), ("id",), False, objectives)
        upsert_columns(conn, S.REFERENCE.table("key_result"), ("id",), False, key_results)
        upsert_columns(conn, S.REFERENCE.table("check_in"), ("id",), False, check_ins)
        upsert_columns(conn, S.REFERENCE.table("kr_owner"), ("kr_id", "position"), False, owners)
    return {"key_results": n, "objectives": n_obj, "check_ins": int(log_kr.shape[0])}


def baseline(bind: Engine) -> dict[str, float]:
    """ORM objects per row, the scalar path, ORM objects written back; seconds per phase."""
    t0 = time.perf_counter()
    with Session(bind) as session:
        tables: dict[str, list[dict[str, Any]]] = {}
        for name, model, columns in (
                ("objectives", S.Objective, rows.OBJECTIVE_COLUMNS),
                ("key_results", S.KeyResult, rows.KEY_RESULT_COLUMNS),
                ("kr_owners", S.KrOwner, rows.OWNER_COLUMNS),
                ("checkpoints", S.Checkpoint, rows.CHECKPOINT_COLUMNS),
                ("check_ins", S.CheckIn, rows.CHECK_IN_COLUMNS)):
            tables[name] = [{col: getattr(obj, col) for col in columns}
                            for obj in session.scalars(select(model)).all()]
    for row in tables["objectives"] + tables["key_results"]:
        for col in ("start_at", "due_at"):
            if row.get(col) is not None:
                row[col] = rows.to_instant(row[col])
    for row in tables["check_ins"]:
        row["at"] = rows.to_instant(row["at"])
    as_of = parse_instant(AS_OF, "as_of")
    document = rows.document_from_rows(tables, as_of)
    t1 = time.perf_counter()
    evaluation = okrcore.evaluate(document)
    t2 = time.perf_counter()
    with Session(bind) as session:
        session.execute(text("DELETE FROM okrcore_kr_results"))
        session.execute(text("DELETE FROM okrcore_objective_results"))
        session.execute(text("DELETE FROM okrcore_person_results"))
        for kid, kr in evaluation.key_results.items():
            session.add(S.KeyResultResult(as_of=as_of, kr_id=kid, input_version=1,
                                          progress=kr.progress, raw=kr.raw_progress,
                                          colour=kr.colour, **_zeros("kr")))
        for oid, obj in evaluation.objectives.items():
            session.add(S.ObjectiveResult(as_of=as_of, objective_id=oid, input_version=1,
                                          progress=obj.progress, raw=obj.raw_progress,
                                          colour=obj.colour, **_zeros("obj")))
        for pid, person in evaluation.people.items():
            session.add(S.PersonResult(as_of=as_of, person_id=pid, progress=person.progress,
                                       **_zeros("person")))
        session.commit()
    t3 = time.perf_counter()
    return {"read": t1 - t0, "compute": t2 - t1, "write": t3 - t2}


def _zeros(prefix: str) -> dict[str, Any]:
    """Filler for the NOT NULL result columns the baseline does not compute."""
    return {name: (False if kind == "bool" else next(iter(RESULT_CODE_NAMES[name].values()))
                   if name in RESULT_CODE_NAMES else 0)
            for name, kind in rows.RESULT_COLUMNS[prefix] if kind != "float" and name != "colour"}


def fresh(kind: str, url: str | None, scratch: Path) -> Engine:
    if kind == "sqlite":
        path = scratch / "bench_orm.db"
        path.unlink(missing_ok=True)
        return create_engine(f"sqlite:///{path}")
    if not url:
        raise SystemExit("PostgreSQL needs --postgres-url or OKRCORE_TEST_POSTGRES_URL")
    bind = create_engine(url)
    S.Base.metadata.drop_all(bind)
    return bind


# --- bulk phases: the columnar job against raw ADBC floors (issue 19) -------------------------


def stored_url(kind: str, url: str | None, scratch: Path, n: int) -> str:
    """The URL of the stored ``n``-KR organisation: a SQLite file or a PostgreSQL schema."""
    if kind == "sqlite":
        return f"sqlite:///{scratch / f'orm_{n}.db'}"
    if not url:
        raise SystemExit("PostgreSQL needs --postgres-url or OKRCORE_TEST_POSTGRES_URL")
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3Dokrcore_bench_{n}"


def build(kind: str, url: str | None, scratch: Path, n: int) -> str:
    """Load the ``n``-KR organisation once (reused by later runs); return its URL."""
    target = stored_url(kind, url, scratch, n)
    bind = create_engine(target)
    try:
        with bind.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM okrcore_key_results")).scalar()
        if count == n:
            return target
    except Exception:  # not built yet
        pass
    finally:
        bind.dispose()
    if kind == "sqlite":
        (scratch / f"orm_{n}.db").unlink(missing_ok=True)
    else:
        assert url is not None
        with create_engine(url).begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS okrcore_bench_{n} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA okrcore_bench_{n}"))
    bind = create_engine(target)
    t = time.perf_counter()
    load(bind, n)
    print(f"built {kind} {n:,} KRs in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    bind.dispose()
    return target


def _rss_mb() -> float:
    """Peak resident set of this process so far [MiB]: ``bench_recompute.peak_rss`` (``VmHWM``).

    Not ``ru_maxrss``: Linux carries the parent's peak over ``fork`` + ``exec`` into it, so a
    worker started by a parent that had just built a 10^6-KR database reported the parent's peak.
    """
    from bench_recompute import peak_rss

    return peak_rss() / 2**20


def _clear_results(target: str) -> None:
    """Empty the result tables (untimed), so every run writes a new snapshot alike."""
    bind = create_engine(target)
    with bind.begin() as conn:
        for role in ("kr_result", "objective_result", "person_result", "snapshot"):
            name = S.REFERENCE.table(role).name
            conn.execute(text(f"DELETE FROM {name}" if bind.dialect.name == "sqlite"
                              else f"TRUNCATE {name}"))
    if bind.dialect.name == "sqlite":
        with bind.connect() as conn:
            conn.exec_driver_sql("VACUUM")
    bind.dispose()


def worker(phase: str, target: str) -> dict[str, Any]:
    """One measurement in this (fresh) process: seconds and peak RSS [MB]."""
    from okrcore_sqlalchemy import columnar as C
    from okrcore_sqlalchemy.reading import _columns_query, _raw

    bind = create_engine(target)
    C.choose(bind, "adbc")  # imports the drivers before timing (once per process)
    idle = _rss_mb()
    as_of = parse_instant(AS_OF, "as_of")
    out: dict[str, Any] = {"phase": phase, "rss_idle_mb": idle}
    if phase in ("adbc", "sqlalchemy"):
        _clear_results(target)
        idle = out["rss_idle_mb"] = _rss_mb()
        t = time.perf_counter()
        report = S.recompute(bind, as_of=as_of, io=phase)
        out["total"] = time.perf_counter() - t
        assert report.io == phase and report.errors == (), (report.io, report.errors[:3])
        out.update(read=report.seconds_read, compute=report.seconds_compute,
                   write=report.seconds_write, key_results=report.key_results)
    elif phase == "floor-read":
        # the raw ADBC read: the same columns of the same tables, no ORDER BY, no mapping
        t, cpu = time.perf_counter(), time.process_time()
        conn = C._connect(bind)
        with conn.cursor() as cur:
            for role, names in (("objective", (*rows.OBJECTIVE_COLUMNS, "version")),
                                ("key_result", (*rows.KEY_RESULT_COLUMNS, "version")),
                                ("check_in", rows.CHECK_IN_COLUMNS),
                                ("kr_owner", rows.OWNER_COLUMNS),
                                ("checkpoint", rows.CHECKPOINT_COLUMNS)):
                query = _columns_query(S.REFERENCE.table(role), names, (), raw=_raw)
                C._fetch(cur, bind.dialect, query, names)
        conn.close()
        out["read"], out["read_cpu"] = time.perf_counter() - t, time.process_time() - cpu
    elif phase == "adbc-read":  # --read-only: the read phase of io="adbc" alone
        t, cpu = time.perf_counter(), time.process_time()
        conn = C._connect(bind)
        with conn.cursor() as cur:
            C.read_columns(cur, bind.dialect, S.REFERENCE, lambda *_: None)
        conn.rollback()
        conn.close()
        out["read"], out["read_cpu"] = time.perf_counter() - t, time.process_time() - cpu
    elif phase == "floor-write":
        # the raw ADBC bulk ingest of the same result columns (the job's Arrow tables) into
        # empty tables of the result tables' definition (same columns, keys and indexes)
        from okrcore.batch import evaluate_frame
        from okrcore.evaluate import instant_us

        conn = C._connect(bind)
        with conn.cursor() as cur:
            read = C.read_columns(cur, bind.dialect, S.REFERENCE, lambda *_: None)
        conn.rollback()
        when = instant_us(as_of)
        result = evaluate_frame(read.frame, when, okrcore.Policy())
        masks = (result.kr_error == 0, result.obj_error == 0,
                 result.person_seen & (result.person_error_ref < 0))
        tables = list(C.result_tables(S.REFERENCE, bind.dialect.name, read, result, masks, when))
        seconds = 0.0
        with conn.cursor() as cur:
            for table, _key, _guard, data in tables:
                copy = f"okrcore_floor_{table.name}"
                _empty_copy(cur, bind.dialect.name, table.name, copy)
                t = time.perf_counter()
                cur.adbc_ingest(copy, data, mode="append")
                seconds += time.perf_counter() - t
        conn.rollback()
        conn.close()
        out["write"] = seconds
    out["rss_peak_mb"] = _rss_mb()
    bind.dispose()
    return out


def _empty_copy(cur: Any, dialect: str, table: str, copy: str) -> None:
    """``copy``: an empty table with the columns, keys and indexes of ``table``."""
    if dialect == "postgresql":
        cur.execute(f"CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)")
        return
    cur.execute(f"SELECT type, name, sql FROM sqlite_master WHERE tbl_name = '{table}' "
                "AND sql IS NOT NULL ORDER BY type DESC")
    for _kind, name, sql in cur.fetchall():
        cur.execute(sql.replace(name, f"okrcore_floor_{name}", 1).replace(
            f"ON {table} ", f"ON {copy} ").replace(f'ON "{table}" ', f"ON {copy} "))


def measure(phase: str, target: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter (peak RSS is per process)."""
    done = subprocess.run([sys.executable, __file__, "--worker", phase, target],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{phase} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bulk(kind: str, url: str | None, scratch: Path, size: int, today_size: int,
         repeats: int) -> dict[str, Any]:
    """The bulk phases of one database: floors and jobs alternated, medians of ``repeats``."""
    target = build(kind, url, scratch, size)
    today_target = target if today_size == size else build(kind, url, scratch, today_size)
    runs: dict[str, list[dict[str, Any]]] = {p: [] for p in (
        "floor-read", "adbc", "floor-write", "sqlalchemy")}
    for _ in range(repeats):
        for phase in ("floor-read", "adbc", "floor-write"):
            runs[phase].append(measure(phase, target))
        runs["sqlalchemy"].append(measure("sqlalchemy", today_target))

    def med(phase: str, key: str) -> float:
        return float(statistics.median(r[key] for r in runs[phase]))

    scale = size / today_size
    today_total = med("sqlalchemy", "total") * scale
    rows_out = [
        ("read", med("adbc", "read"), med("floor-read", "read"), 1.5),
        ("write", med("adbc", "write"), med("floor-write", "write"), 1.5),
    ]
    table = [{"phase": p, "seconds": v, "floor": f, "ratio": v / f, "target": f"<= {t}x",
              "met": v / f <= t} for p, v, f, t in rows_out]
    total = med("adbc", "total")
    table.append({"phase": "end to end", "seconds": total, "floor": today_total,
                  "ratio": today_total / total, "target": ">= 5x faster than io=sqlalchemy",
                  "met": today_total / total >= 5})
    peak = med("adbc", "rss_peak_mb")
    table.append({"phase": "peak RSS [MB]", "seconds": peak, "floor": 1024.0,
                  "ratio": peak / 1024, "target": "<= 1 GB", "met": peak <= 1024})
    return {"database": kind, "size": size, "today_size": today_size, "repeats": repeats,
            "rows": table, "runs": runs,
            "bytes_per_kr": {p: (med(p, "rss_peak_mb") - med(p, "rss_idle_mb")) * 2**20
                             / (size if p == "adbc" else today_size)
                             for p in ("adbc", "sqlalchemy")},
            "peak_rss_mb": {p: med(p, "rss_peak_mb") for p in runs}}


def read_only(kind: str, url: str | None, scratch: Path, size: int, repeats: int) -> None:
    """``--read-only``: the read phase of ``io="adbc"`` against its floor, alternated."""
    target = build(kind, url, scratch, size)
    runs: dict[str, list[dict[str, Any]]] = {"floor-read": [], "adbc-read": []}
    for _ in range(repeats):
        for phase in runs:
            runs[phase].append(measure(phase, target))
    read, floor = (statistics.median(r["read"] for r in runs[p])
                   for p in ("adbc-read", "floor-read"))
    cpu, cpu_floor = (statistics.median(r["read_cpu"] for r in runs[p])
                      for p in ("adbc-read", "floor-read"))
    peak = statistics.median(r["rss_peak_mb"] for r in runs["adbc-read"])
    print(f"{kind} {size:,} KRs, medians of {repeats}: read {read:.2f} s, floor {floor:.2f} s, "
          f"ratio {read / floor:.2f} (target <= 1.5); CPU time of this process: read "
          f"{cpu:.2f} s, floor {cpu_floor:.2f} s; peak RSS of the read {peak:,.0f} MB; "
          f"runs read {[round(r['read'], 2) for r in runs['adbc-read']]}, "
          f"floor {[round(r['read'], 2) for r in runs['floor-read']]}")


def print_bulk(result: dict[str, Any]) -> None:
    print(f"\n{result['database']}: full recompute of {result['size']:,} KRs, medians of "
          f"{result['repeats']} alternated runs (io=sqlalchemy measured at "
          f"{result['today_size']:,} KRs and scaled linearly)")
    print(f"{'phase':<15} {'time':>9} {'floor':>9} {'ratio':>7}  {'target':<32} met")
    for row in result["rows"]:
        unit = "" if row["phase"].startswith("peak") else " s"
        print(f"{row['phase']:<15} {row['seconds']:>7.2f}{unit:2} {row['floor']:>7.2f}{unit:2} "
              f"{row['ratio']:>7.2f}  {row['target']:<32} {'yes' if row['met'] else 'NO'}")
    peaks = ", ".join(f"{p} {v:,.0f} MB" for p, v in result["peak_rss_mb"].items())
    per_kr = ", ".join(f"{p} {v:,.0f} B/KR" for p, v in result["bytes_per_kr"].items())
    print(f"peak RSS per path: {peaks}; above the idle interpreter: {per_kr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--today-size", type=int, default=100_000,
                        help="KRs of the io='sqlalchemy' runs (scaled linearly to --size)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-size", type=int, default=20_000)
    parser.add_argument("--orm-baseline", action="store_true",
                        help="also the ORM objects + scalar path comparison of issue 12")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--postgres-url", default=os.environ.get("OKRCORE_TEST_POSTGRES_URL"))
    parser.add_argument("--scratch", default="/tmp/okrcore-bench-orm")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--events", default=None, metavar="SIZES",
                        help="also the per-event path at these sizes (e.g. 10000,100000,1000000):"
                             " benchmarks/bench_events.py on the same databases")
    parser.add_argument("--no-bulk", action="store_true", help="skip the bulk phases")
    parser.add_argument("--read-only", action="store_true",
                        help="only the read phase of io='adbc' against its floor (fast)")
    parser.add_argument("--worker", nargs=2, metavar=("PHASE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    scratch = Path(args.scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"size": args.size, "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                    time.gmtime()),
                           "bulk": [], "runs": []}
    if args.read_only:
        for kind in args.databases:
            read_only(kind, args.postgres_url, scratch, args.size, args.repeats)
        return
    for kind in [] if args.no_bulk else args.databases:
        result = bulk(kind, args.postgres_url, scratch, args.size, args.today_size,
                      args.repeats)
        out["bulk"].append(result)
        print_bulk(result)
    if args.events:
        out["events"] = events(args)
    if args.orm_baseline:
        orm_baseline(args, scratch, out)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


def events(args: Any) -> Any:
    """The per-event path (one check-in, then ``recompute(incremental=True)``) at each size.

    Runs ``benchmarks/bench_events.py`` (which prints its own table: medians and p90 beside the
    check-in's own commit and the version-comparison baseline, same run) on the same databases.
    """
    here = Path(__file__).parent
    scratch = Path(args.scratch) / "events"
    command = [sys.executable, str(here / "bench_events.py"), "--sizes", args.events,
               "--databases", *args.databases, "--scratch", str(scratch),
               "--json", str(scratch / "events.json")]
    if args.postgres_url:
        command += ["--postgres-url", args.postgres_url]
    scratch.mkdir(parents=True, exist_ok=True)
    subprocess.run(command, check=True)
    return json.loads((scratch / "events.json").read_text(encoding="utf-8"))


def orm_baseline(args: Any, scratch: Path, out: dict[str, Any]) -> None:
    """The comparison of issue 12: the job against ORM objects + the scalar path."""
    as_of = parse_instant(AS_OF, "as_of")
    for kind in args.databases:
        bind = fresh(kind, args.postgres_url, scratch)
        t = time.perf_counter()
        counts = load(bind, args.size)
        loaded = time.perf_counter() - t
        report = S.recompute(bind, as_of=as_of)
        assert report.errors == () and report.key_results == args.size, report.errors[:3]
        job = {"read": report.seconds_read, "compute": report.seconds_compute,
               "write": report.seconds_write}
        bind.dispose()
        bind = fresh(kind, args.postgres_url, scratch)
        load(bind, args.baseline_size)
        base = baseline(bind)
        bind.dispose()
        factor = args.size / args.baseline_size
        extrapolated = {k: v * factor for k, v in base.items()}
        out["runs"].append({
            "database": kind, "counts": counts, "load_seconds": loaded,
            "okrcore_sqlalchemy": {k: {"seconds": v, "krs_per_second": args.size / v}
                                   for k, v in job.items()},
            "baseline_measured": {"krs": args.baseline_size, "seconds": base},
            "baseline_extrapolated": {k: {"seconds": v, "krs_per_second": args.size / v}
                                      for k, v in extrapolated.items()},
        })
    print(f"\nrecompute of {args.size:,} key results; ORM + scalar baseline measured on "
          f"{args.baseline_size:,} and extrapolated linearly")
    print(f"{'database':<11} {'path':<22} {'read s':>9} {'compute s':>10} {'write s':>9} "
          f"{'total s':>9} {'read KR/s':>11} {'compute KR/s':>13} {'write KR/s':>11}")
    for run in out["runs"]:
        for label, key in (("okrcore_sqlalchemy", "okrcore_sqlalchemy"),
                           ("ORM + scalar (extrap.)", "baseline_extrapolated")):
            p = run[key]
            total = sum(p[phase]["seconds"] for phase in ("read", "compute", "write"))
            print(f"{run['database']:<11} {label:<22} {p['read']['seconds']:>9.2f} "
                  f"{p['compute']['seconds']:>10.2f} {p['write']['seconds']:>9.2f} "
                  f"{total:>9.2f} {p['read']['krs_per_second']:>11,.0f} "
                  f"{p['compute']['krs_per_second']:>13,.0f} "
                  f"{p['write']['krs_per_second']:>11,.0f}")


if __name__ == "__main__":
    main()
