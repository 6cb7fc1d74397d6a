"""The application's own types on SQLAlchemy models (issue 19), on SQLite and PostgreSQL.

* Instants: the reference models' ``Instant`` (``timestamp with time zone`` on PostgreSQL,
  integer µs on SQLite), Django's storage (``Timestamp``) and an application's plain
  ``DateTime(timezone=True)`` columns on every instant of every role: the job stores, reads,
  recomputes (fully and incrementally) and filters on them, and the application sees aware
  datetimes.
* Coded result columns hold the names of :data:`okrcore.codes.RESULT_CODE_NAMES`, read back by
  the ORM as those names.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from orm_support import AS_OF, engine_fixture, hand_document  # noqa: F401  (engine_fixture)
from sqlalchemy import DateTime, Engine, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column

import okrcore
import okrcore_sqlalchemy as S
from okrcore import codes as C
from okrcore import rows
from okrcore_sqlalchemy.schema import progress_expression
from okrcore_sqlalchemy.storage import from_stored, to_stored

INSTANTS = {"objectives": ("start_at", "due_at"), "krs": ("due_at",), "check_ins": ("at",),
            "snapshots": ("as_of", "computed_at"), "kr_results": ("as_of", "last_at"),
            "objective_results": ("as_of",), "person_results": ("as_of",)}
TYPES: dict[str, Any] = {"instant": S.Instant, "timestamp": S.Timestamp,
                         "datetime": lambda: DateTime(timezone=True)}


def _models(kind: str) -> S.Schema:
    """Models whose every instant column has the given type (the reference mixins otherwise)."""
    prefix = f"okrcore_{kind}_t"

    class Base(DeclarativeBase):
        pass

    def model(mixin: type, table: str, **extra: Any) -> Any:
        namespace: dict[str, Any] = {"__tablename__": f"{prefix}_{table}", **extra}
        for name in INSTANTS.get(table, ()):
            namespace[name] = mapped_column(name, TYPES[kind](), primary_key=name == "as_of",
                                            nullable=name in ("start_at", "due_at", "last_at"))
        return type(f"{kind}_{table}", (mixin, Base), namespace)

    krs = f"{prefix}_krs"
    return S.Schema(
        person=model(S.PersonMixin, "people"), objective=model(S.ObjectiveMixin, "objectives"),
        key_result=model(S.KeyResultMixin, "krs", __okrcore_check_ins__=f"{prefix}_check_ins",
                         __okrcore_checkpoints__=f"{prefix}_points"),
        kr_owner=model(S.KrOwnerMixin, "owners", __okrcore_key_results__=krs),
        checkpoint=model(S.CheckpointMixin, "points", __okrcore_key_results__=krs),
        check_in=model(S.CheckInMixin, "check_ins", __okrcore_key_results__=krs),
        snapshot=model(S.SnapshotMixin, "snapshots"),
        kr_result=model(S.KeyResultResultMixin, "kr_results"),
        objective_result=model(S.ObjectiveResultMixin, "objective_results"),
        person_result=model(S.PersonResultMixin, "person_results"))


SCHEMAS = {kind: _models(kind) for kind in TYPES}
SCHEMAS["reference"] = S.REFERENCE
PRECISE = datetime(2026, 2, 14, 23, 59, 59, 999999, tzinfo=UTC)


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_instants_of_every_type_round_trip_and_recompute(engine: Engine, kind: str) -> None:
    schema = SCHEMAS[kind]
    document = hand_document()
    S.store_document(engine, document, schema)
    with Session(engine) as session, session.begin():  # a check-in with µs, through the ORM
        S.add_check_in(session, schema.check_in, "calls", PRECISE, 6)
    document = S.load_document(engine, schema)
    calls: Any = next(k for o in document.objectives for k in o.key_results if k.id == "calls")
    assert calls.check_ins is not None and calls.check_ins[1].at == PRECISE
    report = S.recompute(engine, as_of=AS_OF, schema=schema)
    assert report.errors == () and report.as_of == AS_OF
    expected = okrcore.evaluate(okrcore.Document(as_of=AS_OF, objectives=document.objectives))
    assert S.load_evaluation(engine, AS_OF, schema).to_json() == expected.to_json()
    # aware datetimes for the application (SQLAlchemy's own DateTime gives naive UTC ones on
    # SQLite, which stores no offset: the job reads and writes them as UTC)
    naive = kind == "datetime" and engine.dialect.name == "sqlite"

    def seen(moment: datetime) -> datetime:
        return moment.replace(tzinfo=None) if naive else moment

    with Session(engine) as session:
        stored = session.get(schema.kr_result, (AS_OF, "calls"))
        assert stored is not None and stored.as_of == seen(AS_OF)
        assert stored.last_at == seen(PRECISE)
        assert naive or stored.last_at.utcoffset() == timedelta(0)
        objective = session.get(schema.objective, "support")
        assert objective is not None
        assert objective.start_at == seen(datetime(2026, 1, 1, tzinfo=UTC))
        snapshot = session.scalars(select(schema.snapshot)).one()
        assert snapshot.as_of == seen(AS_OF)
        # the progress expression compares check-ins with an as-of instant of the column type
        before = progress_expression(schema.key_result, as_of=PRECISE - timedelta(microseconds=1))
        at = progress_expression(schema.key_result, as_of=PRECISE)
        got: dict[Any, Any] = dict(session.execute(select(schema.key_result.id, before)).all())
        now: dict[Any, Any] = dict(session.execute(select(schema.key_result.id, at)).all())
        assert (got["calls"], now["calls"]) == (pytest.approx(0.4), pytest.approx(0.6))
    # an incremental run after a later check-in writes only what changed, equal to a full one
    with Session(engine) as session, session.begin():
        S.add_check_in(session, schema.check_in, "calls", PRECISE + timedelta(microseconds=1),
                       8)
    follow = S.recompute(engine, incremental=True, schema=schema)
    # with a change log (the reference models) only the rows that changed: the key result, its
    # objective and the ancestor; without one, every key result of the changed one's objective
    # (sales: 4) and its ancestors
    assert follow.incremental and follow.as_of == AS_OF
    written = (1, 2) if schema.change is not None else (4, 2)
    assert (follow.key_results, follow.objectives) == written
    changed = okrcore.Document(as_of=AS_OF, objectives=S.load_document(engine, schema).objectives)
    assert S.load_evaluation(engine, AS_OF, schema).to_json() == \
        okrcore.evaluate(changed).to_json()


def test_reference_instants_are_timestamps_on_postgresql(engine: Engine) -> None:
    S.create_schema(engine)
    inspector = inspect(engine)
    for table, names in (("okrcore_check_ins", ("at",)), ("okrcore_kr_results",
                                                          ("as_of", "last_at"))):
        types = {c["name"]: str(c["type"]) for c in inspector.get_columns(table)}
        for name in names:
            assert types[name] == ("TIMESTAMP" if engine.dialect.name == "postgresql"
                                   else "BIGINT"), (table, name)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            kind = conn.execute(text(
                "SELECT data_type FROM information_schema.columns WHERE table_name = "
                "'okrcore_kr_results' AND column_name = 'as_of' "
                "AND table_schema = current_schema()")).scalar()
        assert kind == "timestamp with time zone"


def test_coded_results_are_stored_and_read_as_names(engine: Engine) -> None:
    document = hand_document()
    S.store_document(engine, document)
    S.recompute(engine, as_of=AS_OF)
    expected = okrcore.evaluate(document)
    with Session(engine) as session:
        row: Any
        for row in session.scalars(select(S.ObjectiveResult)):
            result = expected.objectives[row.objective_id]
            assert (row.colour, row.computed_colour, row.trend) == (
                result.colour, result.computed_colour, result.trend)
            assert row.mode == result.mode and row.error is None
            assert row.rule == result.explanation.rule
        # 320 between yellow_high 300 and red_high 350: yellow, graded 0.6 (band yellow)
        latency: Any = session.get(S.KeyResultResult, (AS_OF, "latency"))
        assert latency is not None and latency.range_status == "yellow"
        assert latency.grade_band == "yellow" and latency.colour == "yellow"
    with engine.connect() as conn:
        names = conn.execute(text("SELECT DISTINCT stale FROM okrcore_kr_results")).scalars()
        assert set(names) <= {None, *C.STALE_NAMES}


@pytest.mark.parametrize("column", sorted(C.RESULT_CODE_NAMES))
def test_every_code_round_trips_through_the_stored_names(column: str) -> None:
    table = S.REFERENCE.table("objective_result" if column in ("mode", "rule", "computed_colour")
                              else "kr_result")
    codes = np.asarray([*C.RESULT_CODE_NAMES[column], rows._NONE_CODES[column]], np.int64)
    stored = to_stored(table, column, codes)
    assert stored == [*C.RESULT_CODE_NAMES[column].values(), None]
    assert from_stored(table, column, stored) == codes.tolist()
    with pytest.raises(ValueError, match=column):
        to_stored(table, column, np.asarray([99]))
    with pytest.raises(ValueError, match="purple"):
        from_stored(table, column, ["purple"])


def test_a_stored_name_outside_the_vocabulary_is_never_used(tmp_path: Any) -> None:
    """A result row holding a value the CHECK would refuse (written with the checks off) makes
    the snapshot unusable: no evaluation is read from it, and an incremental run recomputes
    everything and writes the names back."""
    import sqlite3

    from sqlalchemy import create_engine

    path = tmp_path / "okr.db"
    engine = create_engine(f"sqlite:///{path}")
    S.store_document(engine, hand_document())
    S.recompute(engine, as_of=AS_OF)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA ignore_check_constraints = 1")
        db.execute("UPDATE okrcore_kr_results SET trend = 'sideways' WHERE kr_id = 'calls'")
    with pytest.raises(LookupError, match="no complete stored snapshot"):
        S.load_evaluation(engine)
    # the per-event run never reads the bad name as a result: it recomputes everything and
    # writes the names back
    with Session(engine) as session, session.begin():
        S.add_check_in(session, S.CheckIn, "calls", AS_OF - timedelta(days=1), 5)
    document = S.load_document(engine)
    report = S.recompute(engine, incremental=True)
    assert not report.incremental and report.key_results == 6
    with engine.connect() as conn:
        trend = conn.execute(text(
            "SELECT trend FROM okrcore_kr_results WHERE kr_id = 'calls'")).scalar()
    assert trend == okrcore.evaluate(document).key_results["calls"].trend
    assert S.load_evaluation(engine).to_json() == okrcore.evaluate(document).to_json()
