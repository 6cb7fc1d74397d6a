"""The columnar (ADBC) full recompute together with the change log of per-event updates.

An ADBC run consumes the change-log rows it read with its input, in its write transaction, so
the next per-event run starts clean; re-running a stored snapshot of a schema with a change log
on ADBC flags kept rows and drops removed items' results as the row path does (decision I2);
and per-event runs after an ADBC run store what a full evaluation of the stored organisation
gives.  SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from orm_support import AS_OF, engine_fixture, hand_document  # noqa: F401  (engine_fixture)
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session
from test_sqla_columnar import failing_writes

import okrcore
import okrcore_sqlalchemy as S
from okrcore_sqlalchemy import columnar


def _log_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(S.Change)).scalar_one())


def _check_in(engine: Engine, kr_id: str, days: int, value: float) -> None:
    with Session(engine) as session, session.begin():
        S.add_check_in(session, S.CheckIn, kr_id, AS_OF - timedelta(days=days), value)


def test_adbc_runs_consume_the_change_log_and_per_event_runs_follow(engine: Engine) -> None:
    S.store_document(engine, hand_document())
    _check_in(engine, "calls", 3, 6)
    assert _log_rows(engine) == 1  # recorded by the flush
    first = S.recompute(engine, as_of=AS_OF, io="adbc")
    assert first.io == "adbc" and first.key_results == 6
    assert _log_rows(engine) == 0  # consumed: the run's input held the check-in
    _check_in(engine, "calls", 2, 9)
    follow = S.recompute(engine, incremental=True)
    assert follow.incremental and follow.as_of == AS_OF and follow.key_results == 1
    assert _log_rows(engine) == 0
    # the stored snapshot equals a full evaluation of the stored organisation
    document = S.load_document(engine)
    assert S.load_evaluation(engine).to_json() == okrcore.evaluate(document).to_json()
    # re-running the stored snapshot on ADBC consumes the log too (kept rows flagged there)
    _check_in(engine, "calls", 1, 10)
    again = S.recompute(engine, as_of=AS_OF, io="adbc")
    assert again.io == "adbc" and _log_rows(engine) == 0
    document = S.load_document(engine)
    assert S.load_evaluation(engine).to_json() == okrcore.evaluate(document).to_json()


def _log_ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(S.Change.id)).scalars())


def test_an_adbc_run_consumes_exactly_the_ids_it_read_in_its_write_transaction(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    S.store_document(engine, hand_document())
    _check_in(engine, "calls", 3, 6)
    read_first = _log_ids(engine)
    assert len(read_first) == 1
    real_read = columnar.read_columns

    def read_then_check_in(*args: Any) -> Any:  # a check-in lands after the job read its ids
        out = real_read(*args)
        _check_in(engine, "deal", 2, 7)
        return out
    monkeypatch.setattr(columnar, "read_columns", read_then_check_in)
    real_write = failing_writes(monkeypatch)
    with pytest.raises(S.StoreError, match="nothing was written"):
        S.recompute(engine, as_of=AS_OF, io="adbc")
    later = _log_ids(engine)
    assert len(later) == 2 and later[0] == read_first[0]  # the failed write consumed nothing
    monkeypatch.setattr(columnar, "_write", real_write)
    monkeypatch.setattr(columnar, "read_columns", real_read)
    _check_in(engine, "calls", 1, 8)
    ids = _log_ids(engine)

    def read_then_again(*args: Any) -> Any:
        out = real_read(*args)
        _check_in(engine, "deal", 1, 9)
        return out
    monkeypatch.setattr(columnar, "read_columns", read_then_again)
    report = S.recompute(engine, as_of=AS_OF + timedelta(hours=1), io="adbc")
    assert report.io == "adbc"
    left = _log_ids(engine)
    assert len(left) == 1 and left[0] not in ids  # only the check-in after the read is left


def _stored_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with engine.connect() as conn:
        for role in ("kr_result", "objective_result", "person_result"):
            table = S.REFERENCE.table(role)
            out[role] = sorted(tuple(map(repr, r)) for r in conn.execute(select(table)).all())
    return out


def test_re_running_a_stored_snapshot_on_adbc_stores_what_the_row_path_stores(
        engine: Engine) -> None:
    """A key result in error keeps its last good result with the error code written into it,
    a removed key result's results are dropped, as on the row path (one write transaction)."""
    dumps: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
    for io in ("sqlalchemy", "adbc"):
        with engine.begin() as conn:
            for role in () if not dumps else (
                    "kr_result", "objective_result", "person_result", "snapshot", "change",
                    "check_in", "checkpoint", "kr_owner", "key_result", "objective", "person"):
                conn.execute(delete(S.REFERENCE.table(role)))
        S.store_document(engine, hand_document())
        assert S.recompute(engine, as_of=AS_OF, io="sqlalchemy").key_results == 6
        krs = S.REFERENCE.table("key_result")
        with engine.begin() as conn:  # call-time becomes degenerate, crm is removed
            conn.execute(update(krs).where(krs.c.id == "call-time").values(
                target=krs.c.start, version=krs.c.version + 1))
            conn.execute(delete(S.REFERENCE.table("kr_owner")).where(
                S.REFERENCE.table("kr_owner").c.kr_id == "crm"))
            conn.execute(delete(krs).where(krs.c.id == "crm"))
        _check_in(engine, "calls", 1, 10)
        again = S.recompute(engine, as_of=AS_OF, io=io)
        assert again.io == io and _log_rows(engine) == 0
        assert ("key_results", "call-time") in [(e.table, e.key) for e in again.errors]
        dumps[io] = _stored_rows(engine)
    assert dumps["adbc"] == dumps["sqlalchemy"]
    kept = [r for r in dumps["adbc"]["kr_result"] if "'call-time'" in r]
    assert len(kept) == 1 and "'field_degenerate'" in kept[0]
    assert not [r for r in dumps["adbc"]["kr_result"] if "'crm'" in r]
