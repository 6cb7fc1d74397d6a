"""The change log written by Django writes (issue 19), on SQLite and PostgreSQL.

Every expected list of rows is written out by hand from the rules of ``ChangeBase`` (the
same as the SQLAlchemy flush hook's): ``(kr_id, objective_id, person_id, structural)`` in the
order of recording.  The organisation is :func:`orm_support.hand_document`: objectives
``support`` (owner ann), ``company`` (cea) and ``sales`` (bob, parent company); key results
``call-time`` and ``crm`` of support, ``deal``, ``calls``, ``launch`` and ``latency`` (owner
dan) of sales.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, Value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orm_support import AS_OF, hand_document
from test_django_adapter import OKRCORE_MODELS, alias, stored_results

import okrcore
from okrcore_django import job
from okrcore_django.example.models import (
    Change,
    CheckIn,
    Checkpoint,
    KeyResult,
    KeyResultResult,
    KrOwner,
    Objective,
    ObjectiveResult,
    PersonResult,
    Snapshot,
)

__all__ = ["alias"]  # the fixture of test_django_adapter (SQLite and PostgreSQL)

FEB = datetime(2026, 2, 1, tzinfo=UTC)
Row = tuple[str | None, str | None, str | None, bool]


@pytest.fixture
def org(alias: str) -> Iterator[str]:
    """The hand document stored, its structural change row checked and consumed."""
    Change.objects.using(alias).all().delete()
    job.store_document(hand_document(), alias)
    assert _log(alias) == [(None, None, None, True)]  # the organisation was replaced
    Change.objects.using(alias).all().delete()
    yield alias


def _log(alias: str) -> list[Row]:
    return list(Change.objects.using(alias).order_by("id")
                .values_list("kr_id", "objective_id", "person_id", "structural"))


def _logged(alias: str, write: Callable[[], Any]) -> list[Row]:
    """The rows one write records (the log is emptied first)."""
    Change.objects.using(alias).all().delete()
    write()
    return _log(alias)


def _version(alias: str, model: Any, key: str) -> int:
    version: int = model.objects.using(alias).get(id=key).version
    return version


def test_check_in_writes_record_their_key_result(org: str) -> None:
    calls = _version(org, KeyResult, "calls")
    entry = CheckIn(kr_id="calls", seq=5, at=FEB, value=10)
    assert _logged(org, lambda: entry.save(using=org)) == [("calls", None, None, False)]
    entry.value = 11
    assert _logged(org, lambda: entry.save(using=org)) == [("calls", None, None, False)]
    entry.kr_id = "deal"  # moved: the old and the new key result
    assert _logged(org, lambda: entry.save(using=org)) == [("calls", None, None, False),
                                                           ("deal", None, None, False)]
    assert _logged(org, lambda: entry.delete(using=org)) == [("deal", None, None, False)]
    assert _version(org, KeyResult, "calls") == calls + 3
    assert _version(org, KeyResult, "deal") == 3


def test_key_result_writes_record_the_key_result_and_moved_objectives(org: str) -> None:
    assert _logged(org, lambda: KeyResult.objects.using(org).create(
        id="new", objective_id="sales", kind="binary")) == [("new", None, None, False),
                                                            (None, "sales", None, False)]
    calls = KeyResult.objects.using(org).get(id="calls")
    calls.current = 7.0
    assert _logged(org, lambda: calls.save(using=org)) == [("calls", None, None, False)]
    calls.objective_id = "support"  # moved, with a unit: structural
    assert _logged(org, lambda: calls.save(using=org)) == [("calls", None, None, True),
                                                           (None, "sales", None, False),
                                                           (None, "support", None, False)]
    assert calls.version == 3
    assert _logged(org, lambda: calls.delete(using=org)) == [("calls", None, None, True),
                                                             (None, "support", None, True)]
    deal = KeyResult.objects.using(org).get(id="deal")
    deal.position = 9  # no unit: a new position is not structural
    assert _logged(org, lambda: deal.save(using=org)) == [("deal", None, None, False)]
    deal.unit = "deals"
    assert _logged(org, lambda: deal.save(using=org)) == [("deal", None, None, True)]


def test_saving_over_a_stored_key_is_an_update(org: str) -> None:
    # a new instance with a stored key: Django updates the row, so it is a move, and the
    # version goes up instead of back to 1
    again = KeyResult(id="deal", objective_id="support", kind="binary", current=1.0)
    assert _logged(org, lambda: again.save(using=org)) == [("deal", None, None, False),
                                                           (None, "sales", None, False),
                                                           (None, "support", None, False)]
    assert _version(org, KeyResult, "deal") == 2


def test_objective_writes_record_parents_and_owners(org: str) -> None:
    assert _logged(org, lambda: Objective.objects.using(org).create(
        id="ops", owner_id="eve", parent_id="company")) == [
        (None, "ops", None, True), (None, "company", None, False), (None, None, "eve", False)]
    sales = Objective.objects.using(org).get(id="sales")
    sales.name = "Sales"
    assert _logged(org, lambda: sales.save(using=org)) == [(None, "sales", None, False)]
    sales.parent_id = "support"  # the old parent loses a child
    assert _logged(org, lambda: sales.save(using=org)) == [(None, "sales", None, False),
                                                           (None, "company", None, False)]
    sales.owner_id = "ann"
    assert _logged(org, lambda: sales.save(using=org)) == [(None, "sales", None, False),
                                                           (None, None, "bob", False),
                                                           (None, None, "ann", False)]
    sales.parent_id = None  # not in update_fields: not saved, not recorded
    assert _logged(org, lambda: sales.save(using=org, update_fields=["name"])) == [
        (None, "sales", None, False)]
    assert Objective.objects.using(org).get(id="sales").parent_id == "support"
    assert _logged(org, lambda: sales.save(using=org, update_fields=[])) == []  # saves nothing
    assert _version(org, Objective, "sales") == 5
    stored = Objective.objects.using(org).get(id="sales")
    assert _logged(org, lambda: stored.delete(using=org)) == [(None, "sales", None, True),
                                                              (None, "support", None, False),
                                                              (None, None, "ann", False)]
    ops = Objective.objects.using(org).get(id="ops")
    ops.position = 7  # the order of objectives: structural
    assert _logged(org, lambda: ops.save(using=org)) == [(None, "ops", None, True)]
    ops.ps_unit = "EUR"
    assert _logged(org, lambda: ops.save(using=org)) == [(None, "ops", None, True)]


def test_owner_and_checkpoint_writes(org: str) -> None:
    owner = KrOwner.objects.using(org).get(kr_id="latency")
    owner.person_id = "eve"
    assert _logged(org, lambda: owner.save(using=org)) == [("latency", None, "dan", False),
                                                           ("latency", None, "eve", False)]
    owner.position = 3
    assert _logged(org, lambda: owner.save(using=org)) == [("latency", None, "eve", False)]
    assert _logged(org, lambda: KrOwner.objects.using(org).create(
        kr_id="calls", position=0, person_id="ann")) == [("calls", None, "ann", False)]
    assert _logged(org, lambda: owner.delete(using=org)) == [("latency", None, "eve", False)]
    step = Checkpoint.objects.using(org).get(kr_id="launch", position=1)
    step.done = True
    assert _logged(org, lambda: step.save(using=org)) == [("launch", None, None, False)]


def test_queryset_bulk_writes_record_each_row(org: str) -> None:
    krs = KeyResult.objects.using(org)
    assert _logged(org, lambda: krs.filter(objective_id="sales").update(weight=2.0)) == [
        ("calls", None, None, False), ("deal", None, None, False),
        ("latency", None, None, False), ("launch", None, None, False)]
    assert _version(org, KeyResult, "calls") == 2  # update() bumps versions too
    assert _logged(org, lambda: krs.filter(id__in=["deal", "crm"]).update(
        objective_id="company")) == [
        ("crm", None, None, False), (None, "support", None, False),
        (None, "company", None, False), ("deal", None, None, False),
        (None, "sales", None, False)]
    # an expression: the new values are read back
    assert _logged(org, lambda: krs.filter(id="deal").update(objective_id=Value("sales"))) == [
        ("deal", None, None, False), (None, "company", None, False),
        (None, "sales", None, False)]
    goals = Objective.objects.using(org)
    assert _logged(org, lambda: goals.filter(id="sales").update(parent_id=None)) == [
        (None, "sales", None, False), (None, "company", None, False)]
    checks = CheckIn.objects.using(org)
    assert _logged(org, lambda: checks.bulk_create([
        CheckIn(kr_id="calls", seq=7, at=FEB, value=1), CheckIn(kr_id="deal", at=FEB, value=1),
        CheckIn(kr_id="calls", seq=8, at=FEB, value=2)])) == [
        ("calls", None, None, False), ("deal", None, None, False)]
    assert _logged(org, lambda: checks.filter(kr_id="calls").delete()) == [
        ("calls", None, None, False)]
    assert _version(org, KeyResult, "calls") == 4  # bulk_create and delete() bump it
    launch = krs.get(id="launch")
    launch.objective_id, launch.name = "support", "Launch"
    assert _logged(org, lambda: krs.bulk_update([launch], ["name"])) == [
        ("launch", None, None, False)]  # objective_id not among the fields: not saved
    assert _logged(org, lambda: krs.bulk_update([launch], ["objective_id"])) == [
        ("launch", None, None, False), (None, "sales", None, False),
        (None, "support", None, False)]
    assert _version(org, KeyResult, "launch") == 4
    assert _logged(org, lambda: goals.filter(id="company").delete()) == [
        (None, "company", None, True), (None, None, "cea", False)]


def test_bulk_upserts(org: str) -> None:
    krs = KeyResult.objects.using(org)
    moved = KeyResult(id="deal", objective_id="support", kind="binary", current=1.0)
    assert _logged(org, lambda: krs.bulk_create(
        [moved], update_conflicts=True, unique_fields=["id"],
        update_fields=["objective_id"])) == [("deal", None, None, False),
                                             (None, "sales", None, False),
                                             (None, "support", None, False)]
    owner = KrOwner(kr_id="latency", position=0, person_id="eve")
    assert _logged(org, lambda: KrOwner.objects.using(org).bulk_create(
        [owner], update_conflicts=True, unique_fields=["kr_id", "position"],
        update_fields=["person_id"])) == [("latency", None, "eve", False),
                                          (None, None, None, True)]  # the old owner unknown


def test_a_rolled_back_write_records_nothing(org: str) -> None:
    with pytest.raises(RuntimeError), transaction.atomic(using=org):
        CheckIn.objects.using(org).create(kr_id="calls", seq=5, at=FEB, value=10)
        assert _log(org) == [("calls", None, None, False)]
        raise RuntimeError
    assert _log(org) == []
    assert _version(org, KeyResult, "calls") == 1


def test_without_a_change_model_nothing_is_recorded(org: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    unlogged = {role: label for role, label in OKRCORE_MODELS.items() if role != "change"}
    monkeypatch.setattr(CheckIn, "okrcore_models", unlogged)
    monkeypatch.setattr(KeyResult, "okrcore_models", unlogged)
    CheckIn.objects.using(org).create(kr_id="calls", seq=5, at=FEB, value=10)
    KeyResult.objects.using(org).filter(id="deal").update(current=F("current"))
    assert _log(org) == []
    assert _version(org, KeyResult, "calls") == 2 and _version(org, KeyResult, "deal") == 2


# --- end to end: Django writes, then okrcore_recompute --incremental ---------------------------


def _incremental(alias: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("okrcore_recompute", "--incremental", "--no-progress", "--database", alias,
                 stdout=out)
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def _step_writes(alias: str) -> list[tuple[str, Callable[[], Any]]]:
    """Writes of every kind through the Django models, in order."""
    krs, goals = KeyResult.objects.using(alias), Objective.objects.using(alias)

    def move(key: str, objective: str) -> None:
        item = krs.get(id=key)
        item.objective_id = objective
        item.save(using=alias)

    def reparent(key: str, parent: str | None, owner: str | None = None) -> None:
        item = goals.get(id=key)
        item.parent_id = parent
        if owner is not None:
            item.owner_id = owner
        item.save(using=alias)

    def new_owner() -> None:
        owner = KrOwner.objects.using(alias).get(kr_id="latency")
        owner.person_id = "eve"
        owner.save(using=alias)

    def drop(keys: list[str]) -> None:
        with transaction.atomic(using=alias):  # with their rows (no foreign keys cascade)
            for model in (KrOwner, Checkpoint, CheckIn):
                model.objects.using(alias).filter(kr_id__in=keys).delete()
            krs.filter(id__in=keys).delete()

    def tick() -> None:
        step = Checkpoint.objects.using(alias).get(kr_id="launch", position=1)
        step.done = True
        step.save(using=alias)

    return [
        ("check-in", lambda: CheckIn.objects.using(alias).create(
            kr_id="calls", seq=5, at=FEB, value=10)),
        ("move without a unit", lambda: move("crm", "sales")),
        ("owner of a key result", new_owner),
        ("parent", lambda: reparent("support", "company")),
        ("owner of an objective", lambda: reparent("sales", "company", owner="ann")),
        ("checkpoint", tick),
        ("check-ins updated in bulk", lambda: CheckIn.objects.using(alias).filter(
            kr_id="calls").update(value=F("value") - 3)),
        ("key result deleted", lambda: krs.get(id="deal").delete(using=alias)),
        ("move with a unit (structural)", lambda: move("calls", "support")),
        ("objective added (structural)", lambda: goals.create(id="ops", owner_id="bob",
                                                              parent_id="support")),
        ("key result added", lambda: krs.create(id="uptime", objective_id="ops",
                                                kind="metric", target=100, has_history=True)),
        ("check-ins in bulk", lambda: CheckIn.objects.using(alias).bulk_create([
            CheckIn(kr_id="uptime", at=FEB, value=98),
            CheckIn(kr_id="calls", seq=9, at=FEB, value=8)])),
        ("key results deleted in bulk", lambda: drop(list(krs.filter(
            objective_id="sales").values_list("id", flat=True)))),
    ]


def test_incremental_runs_after_django_writes_equal_a_full_recompute(org: str) -> None:
    job.recompute(org, as_of=AS_OF)
    assert not Change.objects.using(org).exists()  # the full run consumed the log
    paths = []
    for what, write in _step_writes(org):
        write()
        assert Change.objects.using(org).exists(), what
        report = _incremental(org)
        assert report["errors"] == [], what
        paths.append(report["incremental"])
        assert not Change.objects.using(org).exists(), what
        stored = job.load_evaluation(org)  # LookupError if a row is missing or left over
        assert stored.to_json() == okrcore.evaluate(job.load_document(org)).to_json(), what
    # the structural changes (a key result with a unit moved, an objective added) ran the
    # full path; every other write the per-event one
    assert paths == [True] * 8 + [False, False] + [True] * 3
    incremental = stored_results(org)
    job.recompute(org, as_of=AS_OF)
    assert stored_results(org) == incremental


# --- the same rows as the SQLAlchemy flush hook ---------------------------------------------


def _sqlalchemy_rows(tmp: Path, write: Callable[[Any, Any], None]) -> list[Row]:
    """The change rows the SQLAlchemy adapter's flush hook records for one ORM write."""
    import sqlalchemy
    from sqlalchemy.orm import Session

    import okrcore_sqlalchemy as osa
    from okrcore_sqlalchemy import schema as ref

    engine = sqlalchemy.create_engine(f"sqlite:///{tmp / 'ref.db'}")
    try:
        osa.store_document(engine, hand_document())
        with engine.begin() as conn:
            conn.execute(sqlalchemy.delete(ref.Change))
        with Session(engine) as session:
            write(session, ref)
            session.commit()
        with engine.connect() as conn:
            log = ref.Change.__table__
            found = conn.execute(sqlalchemy.select(
                log.c.kr_id, log.c.objective_id, log.c.person_id, log.c.structural)
                .order_by(log.c.id)).all()
    finally:
        engine.dispose()
    return [(k, o, p, bool(s)) for k, o, p, s in found]


def _set(item: Any, **values: Any) -> Any:
    for name, value in values.items():
        setattr(item, name, value)
    return item


SAME_WRITES: dict[str, tuple[Callable[[Any, Any], None], Callable[[str], None]]] = {
    "check-in added": (
        lambda s, ref: s.add(ref.CheckIn(kr_id="calls", seq=5, at=FEB, value=10)),
        lambda a: CheckIn(kr_id="calls", seq=5, at=FEB, value=10).save(using=a)),
    "key result with a unit moved": (
        lambda s, ref: _set(s.get(ref.KeyResult, "calls"), objective_id="support"),
        lambda a: _set(KeyResult.objects.using(a).get(id="calls"),
                       objective_id="support").save(using=a)),
    "key result without a unit deleted": (
        lambda s, ref: s.delete(s.get(ref.KeyResult, "deal")),
        lambda a: KeyResult.objects.using(a).get(id="deal").delete(using=a)),
    "objective re-parented and re-owned": (
        lambda s, ref: _set(s.get(ref.Objective, "sales"), parent_id="support",
                            owner_id="ann"),
        lambda a: _set(Objective.objects.using(a).get(id="sales"), parent_id="support",
                       owner_id="ann").save(using=a)),
    "objective added": (
        lambda s, ref: s.add(ref.Objective(id="ops", owner_id="eve", parent_id="company")),
        lambda a: Objective.objects.using(a).create(id="ops", owner_id="eve",
                                                    parent_id="company")),
    "objective deleted": (
        lambda s, ref: s.delete(s.get(ref.Objective, "sales")),
        lambda a: Objective.objects.using(a).get(id="sales").delete(using=a)),
    "owner of a key result changed": (
        lambda s, ref: _set(s.get(ref.KrOwner, ("latency", 0)), person_id="eve"),
        lambda a: _set(KrOwner.objects.using(a).get(kr_id="latency"),
                       person_id="eve").save(using=a)),
    "checkpoint ticked": (
        lambda s, ref: _set(s.get(ref.Checkpoint, ("launch", 1)), done=True),
        lambda a: _set(Checkpoint.objects.using(a).get(kr_id="launch", position=1),
                       done=True).save(using=a)),
}


@pytest.mark.parametrize("what", sorted(SAME_WRITES))
def test_django_records_what_the_sqlalchemy_flush_hook_records(
        what: str, org: str, tmp_path: Path) -> None:
    """One write through each adapter, on the same organisation: the same change rows."""
    sqlalchemy_write, django_write = SAME_WRITES[what]
    expected = _sqlalchemy_rows(tmp_path, sqlalchemy_write)
    assert expected  # the hook records something for every one of these writes
    assert _logged(org, lambda: django_write(org)) == expected


# --- property: several writes between runs, in any order -----------------------------------


def _write(alias: str, what: tuple[Any, ...]) -> None:
    """One write of the vocabulary of :func:`writes` through the Django models."""
    kind, *args = what
    krs, goals = KeyResult.objects.using(alias), Objective.objects.using(alias)
    if kind == "check-in":
        last = CheckIn.objects.using(alias).filter(kr_id="calls").order_by("-seq").first()
        CheckIn.objects.using(alias).create(kr_id="calls", seq=(last.seq + 1) if last else 0,
                                            at=FEB, value=args[0])
    elif kind == "current":
        krs.filter(id="call-time").update(current=args[0])
    elif kind == "move":
        _set(krs.get(id=args[0]), objective_id=args[1]).save(using=alias)
    elif kind == "parent":
        _set(goals.get(id="support"), parent_id=args[0]).save(using=alias)
    elif kind == "owner":
        _set(goals.get(id="sales"), owner_id=args[0]).save(using=alias)
    elif kind == "kr owner":
        _set(KrOwner.objects.using(alias).get(kr_id="latency"), person_id=args[0]).save(
            using=alias)
    elif kind == "tick":
        step = Checkpoint.objects.using(alias).get(kr_id="launch", position=1)
        _set(step, done=not step.done).save(using=alias)
    else:
        krs.bulk_update([_set(krs.get(id="deal"), weight=args[0])], ["weight"])


writes = st.one_of(
    st.tuples(st.just("check-in"), st.sampled_from([2.0, 6.0, 12.0])),
    st.tuples(st.just("current"), st.sampled_from([20.0, 35.0, 50.0])),
    st.tuples(st.just("move"), st.sampled_from(["crm", "deal", "launch", "calls"]),
              st.sampled_from(["support", "sales", "company"])),
    st.tuples(st.just("parent"), st.sampled_from([None, "company", "sales"])),
    st.tuples(st.just("owner"), st.sampled_from(["bob", "ann", "eve"])),
    st.tuples(st.just("kr owner"), st.sampled_from(["dan", "eve", "bob"])),
    st.tuples(st.just("tick")),
    st.tuples(st.just("weight"), st.sampled_from([0.0, 1.0, 3.0])),
)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs=st.lists(st.lists(writes, min_size=1, max_size=4), min_size=1, max_size=2))
def test_incremental_after_any_django_writes_equals_the_core(alias: str,
                                                             runs: list[list[Any]]) -> None:
    # each example from scratch (stored results keep their input versions across documents)
    for model in (Change, KeyResultResult, ObjectiveResult, PersonResult, Snapshot):
        model.objects.using(alias).all().delete()
    job.store_document(hand_document(), alias)
    job.recompute(alias, as_of=AS_OF)
    for run in runs:
        for what in run:
            _write(alias, what)
        report = job.recompute(alias, incremental=True)
        assert report.errors == () and not Change.objects.using(alias).exists()
        stored = job.load_evaluation(alias)
        assert stored.to_json() == okrcore.evaluate(job.load_document(alias)).to_json()


def test_the_command_names_a_missing_table_without_a_traceback(org: str) -> None:
    from django.core.management.base import CommandError
    from django.test import override_settings

    unmigrated = {**OKRCORE_MODELS, "change": "auth.Group"}  # auth is not migrated here
    with override_settings(OKRCORE_MODELS=unmigrated), pytest.raises(
            CommandError, match=r"the table 'auth_group' of the role 'change' \(auth.Group\) "
                                r"does not exist: run migrate"):
        call_command("okrcore_recompute", "--incremental", "--database", org)
