"""Per-event updates on SQLAlchemy: the change log and the incremental recompute it drives.

Every case checks the incremental run against a full recompute of the same database: after the
incremental run, a full recompute at the same instant must change no stored result (the stored
rows are the full recompute's, bit for bit), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orm_support import (  # noqa: F401  (engine_fixture)
    AS_OF,
    engine_fixture,
    hand_document,
)
from sqlalchemy import Engine, create_engine, delete, func, insert, select
from sqlalchemy.orm import Session

import okrcore
import okrcore_sqlalchemy as S
from okrcore.sample import generate_organisation

RESULTS = ("kr_result", "objective_result", "person_result")


def results(bind: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored result row, sorted."""
    with bind.connect() as conn:
        return {role: sorted(tuple(r) for r in conn.execute(select(S.REFERENCE.table(role))))
                for role in RESULTS}


def log(bind: Engine) -> list[tuple[Any, ...]]:
    with bind.connect() as conn:
        return [tuple(r)[1:] for r in conn.execute(select(S.Change).order_by(S.Change.id))]


def progress_of(bind: Engine, table: Any, key: str) -> dict[str, Any]:
    with bind.connect() as conn:
        return dict(conn.execute(select(getattr(table, key), table.progress)).all())


def assert_equals_full(bind: Engine, as_of: datetime = AS_OF, **options: Any) -> None:
    """A full recompute at the same instant changes no stored result, and empties the log."""
    before = results(bind)
    S.recompute(bind, as_of=as_of, **options)
    assert results(bind) == before
    assert log(bind) == []


@pytest.fixture(name="hand")
def hand_fixture(engine: Engine) -> Engine:
    """The hand document stored and fully computed; the change log empty."""
    S.store_document(engine, hand_document())
    S.recompute(engine, as_of=AS_OF)
    assert log(engine) == []
    return engine


def run(bind: Engine, **options: Any) -> S.RecomputeReport:
    report = S.recompute(bind, incremental=True, **options)
    assert log(bind) == []  # consumed
    return report


# --- the change log ------------------------------------------------------------------------------


def test_the_flush_hook_records_each_change_in_the_same_transaction(hand: Engine) -> None:
    with Session(hand) as session:
        S.add_check_in(session, S.CheckIn, "calls", datetime(2026, 2, 1, tzinfo=UTC), 7.0)
        session.flush()
        assert log(hand) == []  # not committed: another connection sees nothing
        session.rollback()
    assert log(hand) == []  # rolled back with the change
    with Session(hand) as session:
        S.add_check_in(session, S.CheckIn, "calls", datetime(2026, 2, 1, tzinfo=UTC), 7.0)
        sales = session.get(S.Objective, "sales")
        assert sales is not None
        sales.owner_id, sales.parent_id = "ann", None
        deal = session.get(S.KeyResult, "deal")
        assert deal is not None
        deal.objective_id = "support"
        session.commit()
    entries = set(log(hand))
    assert entries == {
        ("calls", None, None, False),
        ("deal", None, None, False), (None, "sales", None, False), (None, "support", None, False),
        (None, "company", None, False),  # sales' old parent
        (None, None, "bob", False), (None, None, "ann", False),  # old and new owner
    }


def test_structural_changes_are_flagged(hand: Engine) -> None:
    with Session(hand) as session:
        session.add(S.Objective(id="new", position=7))
        session.commit()
    assert (None, "new", None, True) in set(log(hand))
    with Session(hand) as session:
        calls = session.get(S.KeyResult, "calls")
        assert calls is not None
        calls.unit = "visits"  # a unit: stored unit codes may change
        session.commit()
    assert ("calls", None, None, True) in set(log(hand))


def test_a_schema_without_change_log_records_nothing_and_keeps_versions(engine: Engine) -> None:
    plain = S.Schema(S.Person, S.Objective, S.KeyResult, S.KrOwner, S.Checkpoint, S.CheckIn,
                     S.Snapshot, S.KeyResultResult, S.ObjectiveResult, S.PersonResult)
    assert plain.change is None and S.REFERENCE.change is S.Change
    assert S.Change.__table__ not in plain.tables
    assert [t.name for t in S.REFERENCE.tables][-1] == "okrcore_changes"


# --- hand-written events -------------------------------------------------------------------------


def test_a_check_in(hand: Engine) -> None:
    with Session(hand) as session:
        S.add_check_in(session, S.CheckIn, "calls", datetime(2026, 2, 1, tzinfo=UTC), 7.0)
        session.commit()
    report = run(hand)
    # calls 7/10; sales mean(deal 1, calls 0.7) = 0.85 = company; bob and cea own them
    assert report.incremental and report.as_of == AS_OF
    assert (report.key_results, report.objectives, report.people) == (1, 2, 2)
    assert progress_of(hand, S.KeyResultResult, "kr_id")["calls"] == pytest.approx(0.7)
    objectives = progress_of(hand, S.ObjectiveResult, "objective_id")
    assert objectives["sales"] == pytest.approx(0.85) and objectives["company"] == 0.85
    assert progress_of(hand, S.PersonResult, "person_id")["bob"] == pytest.approx(0.85)
    assert_equals_full(hand)
    assert S.load_evaluation(hand).to_json() == \
        okrcore.evaluate(S.load_document(hand)).to_json()


def test_nothing_to_do(hand: Engine) -> None:
    before = results(hand)
    report = run(hand)
    assert report.incremental and (report.key_results, report.objectives) == (0, 0)
    assert results(hand) == before


def test_an_edit_of_a_key_result(hand: Engine) -> None:
    with Session(hand) as session:
        deal = session.get(S.KeyResult, "deal")
        assert deal is not None
        deal.current = 0.0  # not done: sales = mean(0, calls 0.4) = 0.2
        session.commit()
    report = run(hand)
    assert (report.key_results, report.objectives) == (1, 2)
    assert progress_of(hand, S.ObjectiveResult, "objective_id")["sales"] == pytest.approx(0.2)
    assert_equals_full(hand)


def test_a_key_result_moved_to_another_objective(hand: Engine) -> None:
    with Session(hand) as session:
        deal = session.get(S.KeyResult, "deal")
        assert deal is not None
        deal.objective_id = "support"
        session.commit()
    report = run(hand)
    assert report.incremental
    objectives = progress_of(hand, S.ObjectiveResult, "objective_id")
    assert objectives["support"] == pytest.approx((0.6 + 0.6 + 1.0) / 3)
    assert objectives["sales"] == pytest.approx(0.4) and objectives["company"] == 0.4
    assert_equals_full(hand)


def test_an_objective_re_parented(hand: Engine) -> None:
    with Session(hand) as session:
        support = session.get(S.Objective, "support")
        assert support is not None
        support.parent_id = "company"
        session.commit()
    report = run(hand)
    assert report.incremental
    objectives = progress_of(hand, S.ObjectiveResult, "objective_id")
    assert objectives["company"] == pytest.approx((0.6 + 0.7) / 2)  # mean of its children
    with hand.connect() as conn:  # the parent's row in the full frame: support, company, sales
        table = S.REFERENCE.table("objective_result")
        assert conn.execute(select(table.c.parent).where(
            table.c.objective_id == "support")).scalar() == 1
    assert_equals_full(hand)


def test_owners_changed(hand: Engine) -> None:
    with Session(hand) as session:
        sales = session.get(S.Objective, "sales")
        owner = session.get(S.KrOwner, ("latency", 0))
        assert sales is not None and owner is not None
        sales.owner_id = "ann"  # ann: support 0.6 and sales 0.7
        owner.person_id = "eve"
        session.commit()
    report = run(hand)
    assert report.incremental
    people = progress_of(hand, S.PersonResult, "person_id")
    assert people["ann"] == pytest.approx(0.65)
    assert people["eve"] == pytest.approx(0.6)  # latency: graded, 320 of 300..350
    assert_equals_full(hand)


def test_a_key_result_deleted(hand: Engine) -> None:
    with Session(hand) as session:
        session.delete(session.get(S.KeyResult, "deal"))
        session.delete(session.get(S.KrOwner, ("latency", 0)))
        session.delete(session.get(S.KeyResult, "latency"))
        session.commit()
    report = run(hand)
    assert report.incremental
    assert set(progress_of(hand, S.KeyResultResult, "kr_id")) == {
        "call-time", "crm", "calls", "launch"}  # deleted results go with their key results
    assert progress_of(hand, S.ObjectiveResult, "objective_id")["sales"] == pytest.approx(0.4)
    assert_equals_full(hand)
    assert S.load_evaluation(hand).to_json() == \
        okrcore.evaluate(S.load_document(hand)).to_json()


def test_a_structural_row_runs_the_full_path(hand: Engine) -> None:
    with hand.begin() as conn:  # a bulk writer that cannot name what it changed
        conn.execute(S.REFERENCE.table("key_result").update().values(current=None))
        conn.execute(insert(S.Change).values(structural=True))
    report = run(hand)
    assert not report.incremental and report.key_results == 6
    assert progress_of(hand, S.KeyResultResult, "kr_id")["deal"] == 0.0
    assert_equals_full(hand)


def test_an_objective_in_error_and_back(hand: Engine) -> None:
    with Session(hand) as session:
        company = session.get(S.Objective, "company")
        assert company is not None
        company.parent_id = "sales"  # a cycle: company and sales in error
        session.commit()
    run(hand)
    with hand.connect() as conn:
        table = S.REFERENCE.table("objective_result")
        errors = dict(conn.execute(select(table.c.objective_id, table.c.error)).all())
    assert errors["sales"] != 0 and errors["company"] != 0 and errors["support"] == 0
    assert_equals_full(hand)
    with Session(hand) as session:
        company = session.get(S.Objective, "company")
        assert company is not None
        company.parent_id = None
        session.commit()
    run(hand)
    assert progress_of(hand, S.ObjectiveResult, "objective_id")["company"] == 0.7
    assert_equals_full(hand)


def test_no_snapshot_runs_the_full_path(engine: Engine) -> None:
    S.store_document(engine, hand_document())
    report = run(engine)
    assert not report.incremental and report.key_results == 6


# --- concurrency ---------------------------------------------------------------------------------


def _during_compute(bind: Engine, action: Callable[[Engine], None]) -> Callable[..., None]:
    """A progress callback that runs ``action`` on a second engine between read and write."""
    other = create_engine(bind.url)

    def hook(phase: str, done: int, _total: int) -> None:
        if phase == "compute" and done == 1:
            action(other)
            other.dispose()
    return hook


def _check_in(value: float) -> Callable[[Engine], None]:
    def act(bind: Engine) -> None:
        with Session(bind) as session:
            S.add_check_in(session, S.CheckIn, "calls", datetime(2026, 2, 2, tzinfo=UTC), value)
            session.commit()
    return act


def test_a_change_between_read_and_write_is_not_lost(hand: Engine) -> None:
    _check_in(7.0)(hand)
    report = S.recompute(hand, incremental=True, progress=_during_compute(hand, _check_in(9.0)))
    assert report.skipped_newer > 0 and report.key_results == 0  # nothing older written
    assert len(log(hand)) == 2  # both changes stay for the next run
    run(hand)
    assert progress_of(hand, S.KeyResultResult, "kr_id")["calls"] == pytest.approx(0.9)
    assert_equals_full(hand)


def test_an_older_run_never_overwrites_a_newer_one(hand: Engine) -> None:
    _check_in(7.0)(hand)

    def newer_run(bind: Engine) -> None:
        _check_in(9.0)(bind)
        assert S.recompute(bind, incremental=True).key_results == 1

    older = S.recompute(hand, incremental=True, progress=_during_compute(hand, newer_run))
    assert older.key_results == 0 and older.skipped_newer > 0
    assert progress_of(hand, S.KeyResultResult, "kr_id")["calls"] == pytest.approx(0.9)
    assert log(hand) == []
    assert_equals_full(hand)


# --- properties ----------------------------------------------------------------------------------

EDITS = st.lists(st.tuples(st.sampled_from([
    "check_in", "current", "weight", "move", "reparent", "owner", "kr_owner", "delete_kr",
    "position", "new_kr"]), st.integers(0, 10_000), st.floats(0, 2)), min_size=1, max_size=3)


def _edit(session: Session, kind: str, pick: int, x: float) -> None:
    krs = session.scalars(select(S.KeyResult).order_by(S.KeyResult.id)).all()
    objectives = session.scalars(select(S.Objective).order_by(S.Objective.id)).all()
    kr, objective = krs[pick % len(krs)], objectives[pick % len(objectives)]
    other = objectives[(pick // 7) % len(objectives)]
    if kind == "check_in":
        S.add_check_in(session, S.CheckIn, kr.id, AS_OF - timedelta(days=1 + pick % 30),
                       x * 100)
    elif kind == "current":
        kr.current = None if kr.current is None else kr.current * x
    elif kind == "weight":
        kr.weight = round(x, 2)
    elif kind == "move":
        kr.objective_id = other.id
    elif kind == "reparent":
        objective.parent_id = None if other.id == objective.id else other.id
    elif kind == "owner":
        objective.owner_id = f"p{pick % 4}"
    elif kind == "kr_owner":
        session.merge(S.KrOwner(kr_id=kr.id, position=9, person_id=f"p{pick % 4}"))
    elif kind == "delete_kr":  # its owner rows go as a cascade in the database would
        session.delete(kr)
        session.flush()
        session.execute(delete(S.KrOwner).where(S.KrOwner.kr_id == kr.id))
    elif kind == "position":
        objective.position = pick % 20
    elif session.get(S.KeyResult, f"new-{pick}") is None:
        session.add(S.KeyResult(id=f"new-{pick}", objective_id=other.id, kind="binary",
                                current=float(x > 1), position=pick % 5))


ORGANISATION = generate_organisation()


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(EDITS, min_size=1, max_size=3))
def test_incremental_equals_full_after_random_edits(engine: Engine, steps: list[Any]) -> None:
    organisation = ORGANISATION
    S.create_schema(engine)
    with engine.begin() as conn:
        for role in (*RESULTS, "snapshot", "change"):
            conn.execute(delete(S.REFERENCE.table(role)))
    S.store_document(engine, organisation)
    as_of, policy = organisation.as_of, organisation.policy
    S.recompute(engine, as_of=as_of, policy=policy)
    for edits in steps:
        with Session(engine) as session:
            for kind, pick, x in edits:
                _edit(session, kind, pick, x)
                session.flush()
            session.commit()
        report = S.recompute(engine, incremental=True, policy=policy)
        assert report.as_of == as_of
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(S.Change)).scalar() == 0
        assert_equals_full(engine, as_of, policy=policy)


# --- an application's own key types --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["int", "uuid", "str"])
def test_a_check_in_with_application_keys(engine: Engine, kind: str) -> None:
    import attrs
    from test_sqla_keys import PYTHON, _key_text, _models, keyed_document

    plain = _models(kind, prefix=f"okrcore_ev{kind}")
    base = plain.person.__bases__[1]
    change = type(f"ev{kind}_changes", (S.ChangeMixin, base), {
        "__tablename__": f"okrcore_ev{kind}_changes", "__annotations__": {}})
    schema = attrs.evolve(plain, change=change)
    assert schema.table("change").c.kr_id.type.python_type is PYTHON[kind]  # adopted
    S.store_document(engine, keyed_document(kind), schema)
    S.recompute(engine, as_of=AS_OF, schema=schema)
    calls = PYTHON[kind](_key_text(kind, "calls"))
    with Session(engine) as session:
        S.add_check_in(session, schema.check_in, calls, datetime(2026, 2, 1, tzinfo=UTC), 7.0)
        session.commit()
    report = S.recompute(engine, incremental=True, schema=schema)
    assert report.incremental and (report.key_results, report.objectives) == (1, 2)
    evaluation = S.load_evaluation(engine, schema=schema)
    assert evaluation.objectives[_key_text(kind, "company")].progress == pytest.approx(0.85)

    def stored() -> list[Any]:
        with engine.connect() as conn:
            return [sorted(tuple(r) for r in conn.execute(select(schema.table(role))))
                    for role in RESULTS]
    before = stored()
    S.recompute(engine, as_of=AS_OF, schema=schema)
    assert stored() == before


def test_reflected_tables_and_a_writer_that_bypasses_the_orm(hand: Engine) -> None:
    """A schema of reflected tables (as the Django adapter builds) and hand-written SQL."""
    from types import SimpleNamespace

    from sqlalchemy import MetaData, Table, text

    metadata = MetaData()
    roles = {role: SimpleNamespace(__table__=Table(S.REFERENCE.table(role).name, metadata,
                                                   autoload_with=hand))
             for role in ("person", "objective", "key_result", "kr_owner", "checkpoint",
                          "check_in", "snapshot", "kr_result", "objective_result",
                          "person_result", "change")}
    schema = S.Schema(**roles)
    with hand.begin() as conn:
        conn.execute(insert(S.REFERENCE.table("check_in")).values(
            kr_id="calls", seq=9, at=datetime(2026, 2, 1, tzinfo=UTC), value=7.0))
        conn.execute(text("UPDATE okrcore_key_results SET version = version + 1 "
                          "WHERE id = 'calls'"))
        conn.execute(text("INSERT INTO okrcore_changes (kr_id, structural) "
                          "VALUES ('calls', false)"))
    report = S.recompute(hand, incremental=True, schema=schema)
    assert report.incremental and (report.key_results, report.objectives) == (1, 2)
    assert progress_of(hand, S.ObjectiveResult, "objective_id")["sales"] == pytest.approx(0.85)
    assert_equals_full(hand)
