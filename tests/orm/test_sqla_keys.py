"""An application's own integer, UUID or string keys on every role (SQLite and PostgreSQL).

The mixins' columns that hold another role's key (``objective_id``, ``kr_id``, ``person_id``,
``owner_id``, ``parent_id``) take the type of that role's ``id``; the result mixins are used as
they are.  A column declared with another type is a loud :class:`KeyTypeError`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from orm_support import AS_OF, engine_fixture, hand_document  # noqa: F401  (engine_fixture)
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, Uuid, select
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column

import okrcore
import okrcore_sqlalchemy as S
from okrcore import Document

KEY_TYPES: dict[str, Any] = {"int": Integer, "uuid": Uuid, "str": String(64)}


def _models(kind: str, prefix: str = "", **extra_columns: dict[str, Any]) -> S.Schema:
    """An application's models with its own key type on every input role."""
    key = KEY_TYPES[kind]
    prefix = prefix or f"okrcore_{kind}key"

    class Base(DeclarativeBase):
        pass

    def keyed(mixin: type, table: str, **extra: Any) -> Any:
        namespace: dict[str, Any] = {"__tablename__": f"{prefix}_{table}",
                                     "__annotations__": {}, **extra,
                                     **extra_columns.get(table, {})}
        if mixin in (S.PersonMixin, S.ObjectiveMixin, S.KeyResultMixin):
            namespace["id"] = mapped_column(key, primary_key=True)
        return type(f"{kind}_{table}", (mixin, Base), namespace)

    kr_table = f"{prefix}_krs"
    roles = dict(
        person=keyed(S.PersonMixin, "people"),
        objective=keyed(S.ObjectiveMixin, "objectives"),
        key_result=keyed(S.KeyResultMixin, "krs", __okrcore_check_ins__=f"{prefix}_check_ins",
                         __okrcore_checkpoints__=f"{prefix}_points"),
        kr_owner=keyed(S.KrOwnerMixin, "owners", __okrcore_key_results__=kr_table),
        checkpoint=keyed(S.CheckpointMixin, "points", __okrcore_key_results__=kr_table),
        check_in=keyed(S.CheckInMixin, "check_ins", __okrcore_key_results__=kr_table),
        snapshot=keyed(S.SnapshotMixin, "snapshots"),
        kr_result=keyed(S.KeyResultResultMixin, "kr_results"),
        objective_result=keyed(S.ObjectiveResultMixin, "objective_results"),
        person_result=keyed(S.PersonResultMixin, "person_results"),
    )
    return S.Schema(**roles)


SCHEMAS = {kind: _models(kind) for kind in KEY_TYPES}
PYTHON = {"int": int, "uuid": uuid.UUID, "str": str}


def _key_text(kind: str, ident: str) -> str:
    names = ["support", "company", "sales", "call-time", "crm", "deal", "calls", "launch",
             "latency", "ann", "bob", "cea", "dan"]
    if kind == "int":
        return str(100 + names.index(ident))
    if kind == "uuid":
        return str(uuid.uuid5(uuid.NAMESPACE_URL, ident))
    return f"{ident}-x"


def keyed_document(kind: str) -> Document:
    """The hand document with every id replaced by a key of the given type (as text)."""
    def k(ident: str) -> str:
        return _key_text(kind, ident)

    def maybe(ident: str | None) -> str | None:
        return None if ident is None else k(ident)
    document = hand_document()
    return attrs.evolve(document, objectives=[
        attrs.evolve(o, id=k(str(o.id)), owner=maybe(o.owner), parent=maybe(o.parent), key_results=[
            attrs.evolve(kr, id=k(str(kr.id)), owners=tuple(k(p) for p in kr.owners))
            for kr in o.key_results])
        for o in document.objectives])


@pytest.mark.parametrize("kind", list(KEY_TYPES))
def test_result_and_reference_columns_take_the_key_type_of_their_table(kind: str) -> None:
    schema = SCHEMAS[kind]
    for role, column in [("objective", "owner_id"), ("objective", "parent_id"),
                         ("key_result", "objective_id"), ("kr_owner", "kr_id"),
                         ("kr_owner", "person_id"), ("checkpoint", "kr_id"),
                         ("check_in", "kr_id"), ("kr_result", "kr_id"),
                         ("objective_result", "objective_id"), ("person_result", "person_id")]:
        assert schema.table(role).c[column].type.python_type is PYTHON[kind], (role, column)
    # the reference models keep their text keys
    assert S.REFERENCE.table("kr_result").c.kr_id.type.python_type is str
    assert S.KeyResultResult.__table__.c.colour.nullable


@pytest.mark.parametrize("kind", list(KEY_TYPES))
def test_recompute_and_read_back_with_application_keys(engine: Engine, kind: str) -> None:
    schema = SCHEMAS[kind]
    document = keyed_document(kind)
    S.store_document(engine, document, schema)
    report = S.recompute(engine, as_of=AS_OF, schema=schema)
    assert report.errors == ()
    assert (report.key_results, report.objectives, report.people) == (6, 3, 4)
    expected = okrcore.evaluate(document)
    assert S.load_evaluation(engine, schema=schema).to_json() == expected.to_json()
    assert S.load_document(engine, schema).objectives == document.objectives
    # the stored results carry the application's keys, typed
    sales = PYTHON[kind](_key_text(kind, "sales"))
    with Session(engine) as session:
        row = session.get(schema.objective_result, (AS_OF, sales))
        assert row is not None and row.progress == pytest.approx(0.7)
        calls = PYTHON[kind](_key_text(kind, "calls"))
        S.add_check_in(session, schema.check_in, calls, datetime(2026, 2, 1, tzinfo=UTC), 10)
        session.commit()
        kr = session.get(schema.key_result, calls)
        assert kr is not None and kr.version == 2 and kr.progress == 0.9  # Feb 20: 9
        assert kr.to_core().id == _key_text(kind, "calls")
    follow = S.recompute(engine, incremental=True, schema=schema)
    assert follow.incremental and (follow.key_results, follow.objectives) == (4, 2)
    evaluation = S.load_evaluation(engine, schema=schema)
    assert evaluation.objectives[_key_text(kind, "company")].progress == 1.0


@pytest.mark.parametrize("kind", ["int", "uuid"])
def test_rows_added_through_the_orm_with_generated_keys(engine: Engine, kind: str) -> None:
    schema = SCHEMAS[kind]
    S.create_schema(engine, schema)
    with Session(engine) as session:
        ident = (lambda: None) if kind == "int" else uuid.uuid4
        person = schema.person(id=ident(), name="Ann")
        session.add(person)
        session.flush()
        goal = schema.objective(id=ident(), owner_id=person.id, name="Grow")
        session.add(goal)
        session.flush()
        measure = schema.key_result(id=ident(), objective_id=goal.id, kind="metric",
                                    start=0.0, target=10.0, current=4.0)
        session.add(measure)
        session.commit()
        goal_id, measure_id = goal.id, measure.id
    report = S.recompute(engine, as_of=AS_OF, schema=schema)
    assert report.errors == () and report.key_results == 1
    evaluation = S.load_evaluation(engine, schema=schema)
    assert evaluation.key_results[str(measure_id)].progress == pytest.approx(0.4)
    assert evaluation.objectives[str(goal_id)].progress == pytest.approx(0.4)


def test_a_declared_key_column_of_another_type_is_a_loud_error() -> None:
    text_key = {"objective_id": mapped_column(String(20), primary_key=True)}
    with pytest.raises(S.KeyTypeError) as caught:
        _models("int", "okrcore_mismatch", objective_results=text_key)
    assert caught.value.to_json() == {
        "code": "key_type_mismatch", "table": "okrcore_mismatch_objective_results",
        "column": "objective_id", "refers_to": "objective", "expected": "int", "found": "str",
        "message": str(caught.value)}


def test_result_tables_created_with_text_keys_fail_loudly_not_silently(engine: Engine) -> None:
    """Before the fix: recompute reported success, load_evaluation found no snapshot."""
    schema = SCHEMAS["int"]
    document = keyed_document("int")
    # the result table as an older version created it: a text key for integer objectives
    old = MetaData()
    table = schema.table("objective_result")
    Table(table.name, old, *[c._copy() if c.name != "objective_id" else
                             Column(c.name, String(200), primary_key=True)
                             for c in table.columns])
    old.create_all(engine)
    S.store_document(engine, document, schema)
    with pytest.raises(S.KeyTypeError, match="objective_id") as caught:
        S.recompute(engine, as_of=AS_OF, schema=schema)
    assert caught.value.table == table.name and caught.value.expected == "int"
    with engine.connect() as conn:  # nothing written: the write transaction rolled back
        assert conn.execute(select(schema.table("kr_result"))).all() == []
