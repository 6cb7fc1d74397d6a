"""The Alembic migrations of the reference schema (issue 19), on SQLite and PostgreSQL.

* Upgrade WITH DATA from the schema of before issue 19 (revision 0001, the DDL
  ``create_schema`` made at f7597a1): the organisation is stored and recomputed through the
  reflected old tables (BIGINT µs instants, integer codes: what the job wrote then), the
  database is upgraded to head, and every stored value is checked against the old one mapped
  by hand (code -> name, µs -> timestamp); the stored document and evaluation read back the
  same, and a recompute on the migrated database stores exactly what it stores on a fresh one.
* Downgrade to 0001 gives back the old rows bit for bit; upgrading again gives the head rows.
* Head equals the models: no autogenerate difference, same CHECK constraints and indexes as
  ``create_schema`` (the ``alembic check`` of the reference schema).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attrs
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from orm_support import AS_OF, drop_okrcore_tables, hand_document, postgres_url
from sqlalchemy import Engine, MetaData, create_engine, inspect, text
from sqlalchemy.orm import Session

import okrcore
import okrcore_sqlalchemy as S
from okrcore import codes as C
from okrcore import rows
from okrcore_sqlalchemy import migrations as M

ROLES = {"person": "okrcore_people", "objective": "okrcore_objectives",
         "key_result": "okrcore_key_results", "kr_owner": "okrcore_kr_owners",
         "checkpoint": "okrcore_checkpoints", "check_in": "okrcore_check_ins",
         "snapshot": "okrcore_snapshots", "kr_result": "okrcore_kr_results",
         "objective_result": "okrcore_objective_results",
         "person_result": "okrcore_person_results"}
RESULTS = {"okrcore_snapshots": ("as_of",), "okrcore_kr_results": ("as_of", "kr_id"),
           "okrcore_objective_results": ("as_of", "objective_id"),
           "okrcore_person_results": ("as_of", "person_id")}
INSTANT_COLUMNS = {"as_of", "computed_at", "last_at", "start_at", "due_at", "at"}
LATER = datetime(2026, 3, 1, 12, 30, 15, 123457, tzinfo=UTC)  # µs survive the conversion
BEFORE_1970 = datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)  # negative µs


def document() -> okrcore.Document:
    """The hand document plus instants with µs and one before 1970."""
    base = hand_document()
    precise = okrcore.Objective(
        id="precise", owner="eve", start=BEFORE_1970, due=datetime(2026, 6, 30, 8, 0, 0, 1,
                                                                   tzinfo=UTC),
        key_results=[okrcore.Metric(id="visits", target=100, check_ins=[
            okrcore.CheckIn(at=datetime(2026, 1, 5, 9, 15, 30, 250001, tzinfo=UTC), value=20),
            okrcore.CheckIn(at=datetime(2026, 2, 10, 17, 45, 0, 999999, tzinfo=UTC),
                            value=55)])])
    return attrs.evolve(base, objectives=[*base.objectives, precise])


def old_schema(engine: Engine) -> S.Schema:
    """Revision 0001's tables, reflected: the job reads and writes them as it did before
    issue 19 (BIGINT µs instants, integer codes; ``to_stored`` keeps codes in integer columns).
    """
    metadata = MetaData()
    metadata.reflect(engine, only=list(ROLES.values()))
    return S.Schema(**{role: SimpleNamespace(__table__=metadata.tables[name])
                       for role, name in ROLES.items()})


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every stored result row and snapshot as the driver returns it (no type processing)."""
    out = {}
    with engine.connect() as conn:
        for table, keys in RESULTS.items():
            result = conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {', '.join(keys)}")
            names = list(result.keys())
            out[table] = [dict(zip(names, row, strict=True)) for row in result]
    return out


def _postgres(schema: str) -> Engine:
    """A PostgreSQL engine whose tables live in their own schema (a second, fresh database)."""
    url = postgres_url()
    with create_engine(url).begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return create_engine(url, connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture(name="pair", params=["sqlite", "postgresql"])
def pair_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine,
                                                                                 Engine]]:
    """Two empty databases of one kind: the one migrated, and a fresh one."""
    if request.param == "sqlite":
        engines = (create_engine(f"sqlite:///{tmp_path / 'old.db'}"),
                   create_engine(f"sqlite:///{tmp_path / 'fresh.db'}"))
    else:
        engines = (_postgres("okrcore_migrated"), _postgres("okrcore_fresh"))
        for engine in engines:
            drop_okrcore_tables(engine)
            with engine.begin() as conn:
                conn.execute(text(f"DROP TABLE IF EXISTS {M.VERSION_TABLE}"))
    yield engines
    for engine in engines:
        engine.dispose()


def _old_database(engine: Engine) -> S.Schema:
    """Revision 0001 holding the document and two snapshots, written as before issue 19."""
    M.upgrade(engine, "0001")
    assert M.current(engine) == "0001"
    old = old_schema(engine)
    S.store_document(engine, document(), old)
    for moment in (AS_OF, LATER):
        report = S.recompute(engine, as_of=moment, schema=old)
        assert report.errors == () and report.key_results == 7 and report.objectives == 4
    return old


def _expected(engine: Engine, old_rows: dict[str, list[dict[str, Any]]]
              ) -> dict[str, list[dict[str, Any]]]:
    """Revision 0001's rows as revision 0002 must hold them, mapped by hand."""
    pg = engine.dialect.name == "postgresql"
    out: dict[str, list[dict[str, Any]]] = {}
    for table, rows_ in old_rows.items():
        out[table] = []
        for row in rows_:
            new: dict[str, Any] = {}
            for name, value in row.items():
                if name in C.RESULT_CODE_NAMES and table != "okrcore_person_results":
                    new[name] = C.RESULT_CODE_NAMES[name].get(value)  # -1 / error 0: None
                elif name in INSTANT_COLUMNS and pg and value is not None:
                    new[name] = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)
                else:
                    new[name] = value
            out[table].append(new)
    return out


def _comparable(data: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Rows without ``computed_at`` (the wall time of the run) and with UTC datetimes."""
    def value(v: Any) -> Any:
        return v.astimezone(UTC) if isinstance(v, datetime) else v
    return {table: [{k: value(v) for k, v in row.items() if k != "computed_at"} for row in rs]
            for table, rs in data.items()}


def test_upgrade_from_the_schema_before_issue_19_with_data(pair: tuple[Engine, Engine]) -> None:
    engine, fresh = pair
    old = _old_database(engine)
    old_rows = dump(engine)
    # what the old job wrote: integer codes, NULL colours, -1 for no trend, µs instants
    calls = next(r for r in old_rows["okrcore_kr_results"] if r["kr_id"] == "calls")
    assert calls["colour"] is None and calls["trend"] == C.TREND_PROGRESSED
    assert calls["last_at"] == rows.to_instant(datetime(2026, 1, 10, tzinfo=UTC))
    deal = next(r for r in old_rows["okrcore_kr_results"] if r["kr_id"] == "deal")
    assert deal["trend"] == C.TREND_NONE and deal["stale"] == C.STALE_NONE
    assert deal["colour"] == C.COLOUR_GREEN and deal["error"] == C.ERR_NONE
    stored_document = okrcore.dumps(S.load_document(engine, old))
    evaluations = {m: S.load_evaluation(engine, m, old).to_json() for m in (AS_OF, LATER)}
    assert evaluations[AS_OF] == okrcore.evaluate(document()).to_json()

    M.upgrade(engine)
    assert M.current(engine) == "0003"
    migrated = dump(engine)
    assert _comparable(migrated) == _comparable(_expected(engine, old_rows))
    deal = next(r for r in migrated["okrcore_kr_results"] if r["kr_id"] == "deal"
                and r["as_of"] in (AS_OF, rows.to_instant(AS_OF)))
    assert (deal["colour"], deal["trend"], deal["stale"], deal["error"]) == (
        "green", None, None, None)
    # the application sees aware datetimes, also for instants before 1970 and with µs
    with Session(engine) as session:
        precise = session.get(S.Objective, "precise")
        assert precise is not None and precise.start_at == BEFORE_1970
        snapshot = session.get(S.Snapshot, LATER)
        assert snapshot is not None and snapshot.as_of == LATER
    assert okrcore.dumps(S.load_document(engine)) == stored_document
    for moment, expected in evaluations.items():
        assert S.load_evaluation(engine, moment).to_json() == expected

    # a recompute on the migrated database stores what it stores on a fresh one
    M.upgrade(fresh)
    S.store_document(fresh, document())
    for bind in (engine, fresh):
        for moment in (AS_OF, LATER):
            S.recompute(bind, as_of=moment)
    assert _comparable(dump(engine)) == _comparable(dump(fresh))
    assert _comparable(dump(engine)) == _comparable(migrated)  # same results as before

    # an incremental run after the migration reads the migrated snapshot
    with Session(engine) as session, session.begin():
        S.add_check_in(session, S.CheckIn, "visits", datetime(2026, 2, 20, tzinfo=UTC), 80)
    report = S.recompute(engine, incremental=True)
    assert report.incremental and report.key_results == 1 and report.as_of == LATER
    changed = attrs.evolve(S.load_document(engine), as_of=LATER)
    assert S.load_evaluation(engine, LATER).to_json() == okrcore.evaluate(changed).to_json()


def test_downgrade_and_upgrade_round_trip(pair: tuple[Engine, Engine]) -> None:
    engine, _ = pair
    old = _old_database(engine)
    old_rows = dump(engine)
    evaluation = S.load_evaluation(engine, AS_OF, old).to_json()
    M.upgrade(engine)
    head_rows = dump(engine)
    M.downgrade(engine, "0001")
    assert M.current(engine) == "0001"
    assert not inspect(engine).has_table("okrcore_changes")
    assert dump(engine) == old_rows  # bit for bit: codes, -1 trends, µs
    assert S.load_evaluation(engine, AS_OF, old_schema(engine)).to_json() == evaluation
    S.recompute(engine, as_of=AS_OF, schema=old_schema(engine))  # the old tables still work
    M.upgrade(engine)
    assert _comparable(dump(engine)) == _comparable(head_rows)
    M.downgrade(engine, "base")
    assert not [t for t in inspect(engine).get_table_names() if t != M.VERSION_TABLE]


def test_a_database_made_by_create_schema_is_stamped_then_upgraded(
        pair: tuple[Engine, Engine]) -> None:
    engine, fresh = pair
    old = _old_database(engine)
    with engine.begin() as conn:  # as if create_schema at f7597a1 had made it: no version
        conn.execute(text(f"DROP TABLE {M.VERSION_TABLE}"))
    assert M.current(engine) is None
    evaluation = S.load_evaluation(engine, AS_OF, old).to_json()
    M.upgrade(engine)
    assert M.current(engine) == "0003"
    assert S.load_evaluation(engine, AS_OF).to_json() == evaluation
    S.create_schema(fresh)  # today's create_schema: stamped at its own revision (no re-create)
    M.upgrade(fresh)
    assert M.current(fresh) == "0003" and inspect(fresh).has_table("okrcore_changes")


def _reference_only(obj: Any, name: str | None, kind: str, reflected: bool,
                    compare_to: Any) -> bool:
    """:func:`migrations.include_object`, without a change log the models do not have yet."""
    if kind == "table" and name == "okrcore_changes" and \
            "okrcore_changes" not in S.Base.metadata.tables:
        return False  # revision 0003 is there for the models' change log (see the report)
    return M.include_object(obj, name, kind, reflected, compare_to)


def _schema_facts(engine: Engine) -> dict[str, Any]:
    """Columns (type, nullability), indexes, primary keys and CHECKs of the reference tables."""
    inspector = inspect(engine)
    facts: dict[str, Any] = {}
    for table in sorted(S.Base.metadata.tables):
        facts[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"])
                        for c in inspector.get_columns(table)],
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in inspector.get_indexes(table)),
            "checks": sorted(" ".join(c["sqltext"].split())
                             for c in inspector.get_check_constraints(table)),
        }
    return facts


def test_head_equals_the_models(pair: tuple[Engine, Engine]) -> None:
    engine, fresh = pair
    M.upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": _reference_only})
        assert compare_metadata(context, S.Base.metadata) == []
    S.create_schema(fresh)
    assert _schema_facts(engine) == _schema_facts(fresh)
    checks = _schema_facts(engine)["okrcore_objective_results"]["checks"]
    assert any("'auto:progress_settings'" in c for c in checks)
