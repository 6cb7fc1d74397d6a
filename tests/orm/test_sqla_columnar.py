"""Columnar bulk I/O (ADBC) of the full recompute: the same stored results as the row path.

Every property compares ``recompute(io="adbc")`` with ``recompute(io="sqlalchemy")`` (today's
row path, the reference) on SQLite and PostgreSQL: generated organisations with string,
integer and UUID keys, instants stored as timestamps, orphans and bad values; the write is one
transaction (a failure leaves the stored results as they were) and never replaces a result
computed from a newer input.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orm_support import AS_OF, engine_fixture, printable  # noqa: F401  (engine_fixture)
from sqlalchemy import Engine, create_engine, delete, func, insert, select, update
from sqlalchemy.orm import mapped_column
from test_sqla_keys import SCHEMAS, _models

import okrcore_sqlalchemy as S
from okrcore import Document, Policy, rows
from okrcore import codes as C
from okrcore.batch.frame import NONE_INSTANT
from okrcore_sqlalchemy import columnar, job, storage
from strategies import documents


def _timestamp_schema() -> S.Schema:
    """String keys, every instant stored as a timestamp (Django's storage of datetimes)."""
    def ts(*names: str, key: str = "") -> dict[str, Any]:
        return {n: mapped_column(n, S.Timestamp(), primary_key=n == key,
                                 nullable=n != key) for n in names}
    return _models("str", prefix="okrcore_tstamp", objectives=ts("start_at", "due_at"),
                   krs=ts("due_at"), check_ins=ts("at"),
                   kr_results=ts("as_of", "last_at", key="as_of"),
                   objective_results=ts("as_of", key="as_of"),
                   person_results=ts("as_of", key="as_of"),
                   snapshots=ts("as_of", "computed_at", key="as_of"))


ALL_SCHEMAS = {"str": S.REFERENCE, "int": SCHEMAS["int"], "uuid": SCHEMAS["uuid"],
               "timestamp": _timestamp_schema()}


def rekey(document: Document, kind: str) -> Document:
    """The document with every id (objectives, key results, people) as a key of ``kind``."""
    if kind in ("str", "timestamp"):
        return document
    keys: dict[str, str] = {}

    def k(ident: str | None) -> Any:
        if ident is None:
            return None
        if ident not in keys:
            n = len(keys) + 1
            keys[ident] = str(n) if kind == "int" else str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                         ident))
        return keys[ident]
    return attrs.evolve(document, objectives=[
        attrs.evolve(o, id=k(o.id), owner=k(o.owner), parent=k(o.parent), key_results=[
            attrs.evolve(kr, id=k(kr.id), owners=tuple(k(p) for p in kr.owners))
            for kr in o.key_results])
        for o in document.objectives])


def dump(bind: Engine, schema: S.Schema) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored result row as the driver returns it (SQLite: with each value's type)."""
    out = {}
    sqlite = bind.dialect.name == "sqlite"
    with bind.connect() as conn:
        for role in ("kr_result", "objective_result", "person_result"):
            table = schema.table(role)
            columns = [c for c in table.c]
            extra = [func.typeof(c) for c in columns] if sqlite else []
            rows = conn.execute(select(*columns, *extra)).all()
            out[role] = sorted(tuple(map(repr, r)) for r in rows)
        snaps = schema.table("snapshot")
        out["snapshot"] = sorted(tuple(r) for r in conn.execute(
            select(snaps.c.as_of, snaps.c.policy)).all())
    return out


def clear(bind: Engine, schema: S.Schema) -> None:
    with bind.begin() as conn:
        for role in ("kr_result", "objective_result", "person_result", "snapshot"):
            conn.execute(delete(schema.table(role)))


def both(bind: Engine, schema: S.Schema, **kwargs: Any) -> tuple[Any, Any]:
    """Recompute on each path from empty results; return (row report, dump), (ADBC ...)."""
    out = []
    for io in ("sqlalchemy", "adbc"):
        clear(bind, schema)
        report = S.recompute(bind, as_of=AS_OF, schema=schema, io=io, **kwargs)
        out.append((report, dump(bind, schema)))
    return out[0], out[1]


def same_report(a: S.RecomputeReport, b: S.RecomputeReport) -> None:
    assert [e.to_json() for e in a.errors] == [e.to_json() for e in b.errors]
    assert (a.key_results, a.objectives, a.people, a.skipped_newer) == \
        (b.key_results, b.objectives, b.people, b.skipped_newer)
    assert a.objective_colours == b.objective_colours


def add_orphans(bind: Engine, schema: S.Schema, document: Document, kind: str,
                suffix: str = "") -> None:
    """A key result naming a missing objective, a check-in and an owner naming a missing KR.

    ``suffix``: another set of them (other keys).
    """
    def key(text: str) -> Any:
        text += suffix
        return {"int": 10**9 + len(suffix),
                "uuid": uuid.uuid5(uuid.NAMESPACE_URL, text)}.get(kind, text)
    owner = next((o.owner for o in document.objectives if o.owner), None)
    with bind.begin() as conn:
        conn.execute(insert(schema.table("key_result")).values(
            id=key("orphan-kr"), objective_id=key("no-such-objective"), kind="binary",
            current=1.0, position=0, version=1))
        conn.execute(insert(schema.table("check_in")).values(
            kr_id=key("no-such-kr"), seq=0, at=AS_OF, value=1.0))
        if owner is not None:
            person = int(owner) if kind == "int" else uuid.UUID(owner) if kind == "uuid" \
                else owner
            conn.execute(insert(schema.table("kr_owner")).values(
                kr_id=key("no-such-kr"), position=0, person_id=person))


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(document=documents(), kind=st.sampled_from(sorted(ALL_SCHEMAS)), orphans=st.booleans())
def test_adbc_stores_exactly_what_the_row_path_stores(engine: Engine, document: Document,
                                                      kind: str, orphans: bool) -> None:
    schema = ALL_SCHEMAS[kind]
    document = rekey(printable(document), kind)
    S.store_document(engine, document, schema)
    if orphans:
        add_orphans(engine, schema, document, kind)
    (row, row_dump), (col, col_dump) = both(engine, schema)
    assert row.io == "sqlalchemy" and col.io == "adbc"
    same_report(row, col)
    assert col_dump == row_dump
    if orphans:
        assert {e.table for e in col.errors} >= {"key_results", "check_ins"}


def restore_shuffled(bind: Engine, schema: S.Schema, rng: Any, ties: bool) -> None:
    """Store every input row again in a random physical order (new check-in ids).

    ``ties``: objectives at two positions only and every key result at position 0, so that the
    selects' ``ORDER BY`` falls back on the ids.
    """
    roles = ("objective", "key_result", "check_in", "kr_owner", "checkpoint")
    with bind.begin() as conn:
        stored = {}
        for role in roles:
            table = schema.table(role)
            names = [c.name for c in table.c if not (role == "check_in" and c.name == "id")]
            stored[role] = [dict(zip(names, r, strict=True))
                            for r in conn.execute(select(*[table.c[n] for n in names])).all()]
        for role in reversed(roles):
            conn.execute(delete(schema.table(role)))
        for role in roles:
            found = stored[role]
            rng.shuffle(found)
            if ties and role in ("objective", "key_result"):
                for row in found:
                    row["position"] = row["position"] % 2 if role == "objective" else 0
            if found:
                conn.execute(insert(schema.table(role)), found)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(document=documents(), kind=st.sampled_from(sorted(ALL_SCHEMAS)), orphans=st.booleans(),
       ties=st.booleans(), rng=st.randoms(use_true_random=False))
def test_adbc_orders_rows_stored_in_any_order_as_the_row_path(
        engine: Engine, document: Document, kind: str, orphans: bool, ties: bool,
        rng: Any) -> None:
    # the columnar read selects without ORDER BY and orders the rows itself (numbers in numpy,
    # ids with Arrow on SQLite; PostgreSQL's collation: the database sorts the ties)
    schema = ALL_SCHEMAS[kind]
    document = rekey(printable(document), kind)
    S.store_document(engine, document, schema)
    if orphans:
        add_orphans(engine, schema, document, kind)
        add_orphans(engine, schema, document, kind, "2")
    restore_shuffled(engine, schema, rng, ties)
    (row, row_dump), (col, col_dump) = both(engine, schema)
    assert row.io == "sqlalchemy" and col.io == "adbc"
    same_report(row, col)
    assert col_dump == row_dump


def test_row_errors_of_rows_stored_in_another_order_are_the_row_paths(engine: Engine) -> None:
    # the row errors read the Arrow columns of the bad items through the read's row order
    import random

    S.store_document(engine, _sample())
    krs, objs = S.REFERENCE.table("key_result"), S.REFERENCE.table("objective")
    with engine.begin() as conn:
        conn.execute(update(krs).where(krs.c.id == "calls").values(kind="bogus"))
        conn.execute(update(objs).where(objs.c.id == "company").values(mode="weird"))
    restore_shuffled(engine, S.REFERENCE, random.Random(3), ties=False)
    (row, row_dump), (col, col_dump) = both(engine, S.REFERENCE)
    assert col.io == "adbc"
    same_report(row, col)
    assert col_dump == row_dump
    assert {"table": "key_results", "key": "calls", "code": "unknown_value", "path": "kind",
            "message": "kind must be metric, binary or milestone, got 'bogus'"} in \
        [e.to_json() for e in col.errors]


@pytest.mark.parametrize(("role", "column", "value"), [
    ("key_result", "target", "ten"), ("key_result", "has_history", 2),
    ("objective", "due_at", "soon"), ("check_in", "value", "x"), ("key_result", "position", 1.5),
])
def test_a_bad_value_is_a_row_error_on_the_row_path(tmp_path: Any, role: str, column: str,
                                                    value: Any, caplog: Any) -> None:
    # SQLite keeps any value in any column: the columnar read finds it in columns and leaves
    # the organisation to the row path, which reports it as a row error (never an abort)
    bind = create_engine(f"sqlite:///{tmp_path / 'bad.db'}")
    S.store_document(bind, rekey(_sample(), "str"))
    table = S.REFERENCE.table(role)
    with bind.begin() as conn:
        conn.exec_driver_sql(f"UPDATE {table.name} SET {column} = ? WHERE rowid = 1", (value,))
    (row, row_dump), (col, col_dump) = both(bind, S.REFERENCE)
    assert col.io == "sqlalchemy"  # fell back
    assert any(e.error.code == "wrong_type" and column in e.error.path for e in col.errors)
    same_report(row, col)
    assert col_dump == row_dump
    with caplog.at_level(logging.INFO, logger="okrcore_sqlalchemy"):
        clear(bind, S.REFERENCE)
        S.recompute(bind, as_of=AS_OF, io="adbc")
    assert "the row path checks it" in caplog.text


def _sample() -> Document:
    from orm_support import hand_document
    return hand_document()


NO_LOG = attrs.evolve(S.REFERENCE, change=None)
"""The reference models without the change log: re-running a stored snapshot of a schema with
one takes the row path (tests/orm/test_sqla_adbc_changes.py), so the tests of ADBC's guarded
upsert into existing rows use a schema without it."""


@pytest.fixture(name="stored")
def stored_fixture(engine: Engine) -> Iterator[Engine]:
    S.store_document(engine, _sample())
    yield engine


def test_a_failing_write_leaves_the_stored_results_as_they_were(
        stored: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import adbc_driver_manager

    S.recompute(stored, as_of=AS_OF, io="adbc", schema=NO_LOG)
    before = dump(stored, S.REFERENCE)
    with stored.begin() as conn:  # new inputs, so that a completed write would change rows
        conn.execute(update(S.REFERENCE.table("key_result")).values(
            current=None, version=S.REFERENCE.table("key_result").c.version + 1))
    real = columnar._write
    calls: list[str] = []

    def failing(cur: Any, dialect: Any, table: Any, *args: Any) -> None:
        calls.append(table.name)
        real(cur, dialect, table, *args)  # the key results are written ...
        if len(calls) == 2:  # ... then the objectives fail
            raise adbc_driver_manager.OperationalError(
                "disk I/O error", status_code=adbc_driver_manager.AdbcStatusCode.IO)
    monkeypatch.setattr(columnar, "_write", failing)
    with pytest.raises(S.StoreError, match=r"disk I/O error.*nothing was written"):
        S.recompute(stored, as_of=AS_OF, io="adbc", policy=Policy.from_preset("workfront"),
                    schema=NO_LOG)
    assert dump(stored, S.REFERENCE) == before
    monkeypatch.undo()
    later = S.recompute(stored, as_of=AS_OF, io="adbc", schema=NO_LOG)
    assert later.io == "adbc" and dump(stored, S.REFERENCE) != before


def test_a_newer_stored_result_is_never_replaced(stored: Engine) -> None:
    S.recompute(stored, as_of=AS_OF, io="adbc", schema=NO_LOG)
    results = S.REFERENCE.table("kr_result")
    with stored.begin() as conn:  # another job stored 'deal' from a newer input ...
        conn.execute(update(results).where(results.c.kr_id == "deal")
                     .values(input_version=7, progress=0.25))
        # ... and 'crm' holds garbage from an older one
        conn.execute(update(results).where(results.c.kr_id == "crm").values(progress=-1.0))
    # rows exist: the guarded upsert
    report = S.recompute(stored, as_of=AS_OF, io="adbc", schema=NO_LOG)
    assert report.io == "adbc"
    with stored.connect() as conn:
        progress = dict(conn.execute(select(results.c.kr_id, results.c.progress)).all())
        version = dict(conn.execute(select(results.c.kr_id, results.c.input_version)).all())
    assert progress["deal"] == 0.25 and version["deal"] == 7
    assert progress["crm"] == pytest.approx(0.6) and version["crm"] == 1


def test_inputs_changed_while_computing_are_skipped_as_on_the_row_path(
        stored: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    krs = S.REFERENCE.table("key_result")

    def bump() -> None:  # a writer changes 'calls' after the job read it
        with stored.begin() as conn:
            conn.execute(update(krs).where(krs.c.id == "calls").values(version=krs.c.version + 1))

    def after(read: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any) -> Any:
            out = read(*args)
            bump()
            return out
        return wrapped
    monkeypatch.setattr(columnar, "read_columns", after(columnar.read_columns))
    monkeypatch.setattr(job, "_read", after(vars(job)["_read"]))
    (row, row_dump), (col, col_dump) = both(stored, S.REFERENCE)
    assert col.io == "adbc"
    same_report(row, col)
    # calls changed: sales and its ancestor company are not written, nor their key results
    # (deal, calls, launch, latency) and owners (bob, cea; dan owns latency)
    assert col.skipped_newer == 4 + 2 + 3
    assert col_dump == row_dump
    written = {r[1] for r in col_dump["kr_result"]}
    assert "'calls'" not in written and "'call-time'" in written


def test_without_the_adbc_extra_the_row_path_runs(stored: Engine, monkeypatch: pytest.MonkeyPatch,
                                                 caplog: Any) -> None:
    real = importlib.import_module

    def missing(name: str, *args: Any) -> Any:
        if name.startswith("adbc_driver"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args)
    monkeypatch.setattr(importlib, "import_module", missing)
    monkeypatch.setattr(columnar, "AUTO_MIN_KEY_RESULTS", 0)
    with caplog.at_level(logging.WARNING, logger="okrcore_sqlalchemy"):
        report = S.recompute(stored, as_of=AS_OF)
    assert report.io == "sqlalchemy" and report.key_results == 6
    assert "pip install 'okrcore[adbc]'" in caplog.text
    with pytest.raises(ImportError, match=r"okrcore\[adbc\]"):
        S.recompute(stored, as_of=AS_OF, io="adbc")


def test_auto_uses_adbc_from_a_size_on(stored: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # 6 key results: small
    assert S.recompute(stored, as_of=AS_OF, schema=NO_LOG).io == "sqlalchemy"
    monkeypatch.setattr(columnar, "AUTO_MIN_KEY_RESULTS", 6)
    assert S.recompute(stored, as_of=AS_OF, schema=NO_LOG).io == "adbc"
    assert S.recompute(stored, as_of=AS_OF, io="sqlalchemy", schema=NO_LOG).io == "sqlalchemy"


def test_which_engines_use_adbc(tmp_path: Any) -> None:
    memory = create_engine("sqlite://")
    S.store_document(memory, _sample())
    assert S.recompute(memory, as_of=AS_OF).io == "sqlalchemy"
    with pytest.raises(ValueError, match="io='adbc' needs a SQLite file or PostgreSQL"):
        S.recompute(memory, as_of=AS_OF, io="adbc")
    with pytest.raises(ValueError, match="io must be one of auto, adbc, sqlalchemy"):
        S.recompute(memory, as_of=AS_OF, io="fast")
    assert columnar.adbc_uri(create_engine(f"sqlite:///{tmp_path / 'x.db'}")) == \
        ("sqlite", str(tmp_path / "x.db"))
    pg = create_engine("postgresql+psycopg://u:p%40ss@db.example:5433/okr?sslmode=require")
    assert columnar.adbc_uri(pg) == ("postgresql",
                                     "postgresql://u:p%40ss@db.example:5433/okr?sslmode=require")


def test_an_unreadable_database_is_a_source_error(tmp_path: Any) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(S.SourceError, match=r"^cannot read the organisation: file is not a "
                                            r"database$"):
        S.recompute(create_engine(f"sqlite:///{path}"), as_of=AS_OF, io="adbc")


def _integer_coded_table() -> Any:
    """A kr_result table whose coded columns are declared as integers (codes kept)."""
    from sqlalchemy import BigInteger, Column, MetaData, Table

    reference = S.REFERENCE.table("kr_result")
    return Table("okrcore_int_coded", MetaData(), *(
        Column(c.name, BigInteger() if c.name in storage.CODED_COLUMNS else c.type)
        for c in reference.c))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), integer=st.booleans())
def test_arrow_columns_hold_exactly_the_stored_values(data: st.DataObject, integer: bool
                                                      ) -> None:
    """``to_stored_arrow`` (the ADBC write) == ``to_stored`` (the row path), every column."""
    pa = importlib.import_module("pyarrow")
    table = _integer_coded_table() if integer else S.REFERENCE.table("kr_result")
    size = data.draw(st.integers(0, 12))
    for name, kind in rows.RESULT_COLUMNS["kr"]:
        if name in storage.CODED_COLUMNS:
            vocabulary = [*C.RESULT_CODE_NAMES[name], rows._NONE_CODES[name]]
            values = np.asarray(data.draw(st.lists(st.sampled_from(vocabulary), min_size=size,
                                                   max_size=size)), np.int64)
        elif name == "last_at":
            values = np.asarray(data.draw(st.lists(st.sampled_from(
                [NONE_INSTANT, 0, 1_700_000_000_000_000]), min_size=size, max_size=size)),
                np.int64)
        elif kind == "float":
            values = np.asarray(data.draw(st.lists(st.floats(allow_infinity=False),
                                                   min_size=size, max_size=size)), np.float64)
        elif kind == "bool":
            values = np.asarray(data.draw(st.lists(st.booleans(), min_size=size,
                                                   max_size=size)), bool)
        else:
            values = np.asarray(data.draw(st.lists(st.integers(-2**40, 2**40), min_size=size,
                                                   max_size=size)), np.int64)
        arrow = storage.to_stored_arrow(pa, table, name, values).to_pylist()
        expected = [None if isinstance(v, float) and np.isnan(v) else v
                    for v in storage.to_stored(table, name, values)]
        assert arrow == expected, name
        assert all(type(a) is type(e) for a, e in zip(arrow, expected, strict=True)), name


def test_an_arrow_column_refuses_a_code_outside_the_vocabulary() -> None:
    pa = importlib.import_module("pyarrow")
    with pytest.raises(ValueError, match="'trend': code 99"):
        storage.to_stored_arrow(pa, S.REFERENCE.table("kr_result"), "trend", np.asarray([0, 99]))


def failing_writes(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make each result table's ADBC write fail after writing; return the real ``_write``."""
    import adbc_driver_manager

    real_write: Callable[..., None] = columnar._write

    def failing(cur: Any, dialect: Any, table: Any, *args: Any) -> None:
        real_write(cur, dialect, table, *args)
        raise adbc_driver_manager.OperationalError(
            "disk I/O error", status_code=adbc_driver_manager.AdbcStatusCode.IO)
    monkeypatch.setattr(columnar, "_write", failing)
    return real_write


def _indexes(bind: Engine) -> list[tuple[Any, ...]]:
    with bind.connect() as conn:
        return sorted(conn.exec_driver_sql(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'").all())


def test_sqlite_indexes_built_after_a_new_snapshot_are_the_declared_ones(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new snapshot appended before its indexes are built leaves the same indexes (and
    a failing write leaves them as they were); with more rows stored than written (two
    snapshots), the rows go into the indexes as they are."""
    bind = create_engine(f"sqlite:///{tmp_path / 'late.db'}")
    S.store_document(bind, _sample())
    declared = _indexes(bind)
    assert any(name == "ix_okrcore_kr_results_progress" for name, _, _ in declared)
    dropped: list[list[str]] = []
    real_late = columnar._late_indexes

    def late(*args: Any) -> list[str]:
        dropped.append(real_late(*args))
        return dropped[-1]
    monkeypatch.setattr(columnar, "_late_indexes", late)
    first = S.recompute(bind, as_of=AS_OF, io="adbc", schema=NO_LOG)
    assert first.io == "adbc" and _indexes(bind) == declared
    assert dropped[0] == [sql for name, table, sql in declared
                          if name == "ix_okrcore_kr_results_progress"]
    real_write = failing_writes(monkeypatch)
    dropped.clear()
    with pytest.raises(S.StoreError):  # fails after the first table's indexes were rebuilt
        S.recompute(bind, as_of=AS_OF + timedelta(days=1), io="adbc", schema=NO_LOG)
    assert dropped[0] and _indexes(bind) == declared
    monkeypatch.setattr(columnar, "_write", real_write)

    def late_then_fail(*args: Any) -> list[str]:
        dropped.append(real_late(*args))
        raise OSError("disk full")
    monkeypatch.setattr(columnar, "_late_indexes", late_then_fail)
    dropped.clear()
    with pytest.raises(OSError, match="disk full"):  # fails with the index dropped
        S.recompute(bind, as_of=AS_OF + timedelta(days=1), io="adbc", schema=NO_LOG)
    assert dropped[0] and _indexes(bind) == declared  # the drop was rolled back
    with bind.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM okrcore_snapshots").scalar() == 1
    monkeypatch.setattr(columnar, "_late_indexes", late)
    dropped.clear()
    S.recompute(bind, as_of=AS_OF + timedelta(days=2), io="adbc", schema=NO_LOG)
    assert dropped[0] and _indexes(bind) == declared  # as many rows stored as written
    dropped.clear()
    third = S.recompute(bind, as_of=AS_OF + timedelta(days=3), io="adbc", schema=NO_LOG)
    assert third.io == "adbc" and dropped[0] == [] and _indexes(bind) == declared
    with bind.connect() as conn:  # the index answers for both snapshots
        rows_ = conn.exec_driver_sql(
            "SELECT count(*) FROM okrcore_kr_results INDEXED BY "
            "ix_okrcore_kr_results_progress WHERE progress >= 0").scalar()
        total = conn.exec_driver_sql(
            "SELECT count(*) FROM okrcore_kr_results WHERE progress >= 0").scalar()
    assert rows_ == total and total == 3 * first.key_results
