"""The Django adapter on SQLite and PostgreSQL: migrations, command, SQL progress, mapping."""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import attrs
import django
import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orm_support import AS_OF, POSTGRES_URL_VAR, hand_document, postgres_url, printable
from sqlalchemy.engine import make_url

import okrcore
from okrcore import Document, Objective
from strategies import instants, key_results, policies


MIGRATION_DB_VAR = "OKRCORE_TEST_POSTGRES_MIGRATION_URL"
"""A second PostgreSQL database for the migration test (default: the main one + ``_migration``)."""


def _pg(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    return {
        "ENGINE": "django.db.backends.postgresql", "NAME": parsed.database,
        "USER": parsed.username or "", "PASSWORD": parsed.password or "",
        "HOST": parsed.host or "", "PORT": str(parsed.port or ""),
    }


def _databases() -> dict[str, Any]:
    scratch = tempfile.mkdtemp(prefix="okrcore-django-", dir=os.environ.get("TMPDIR"))
    databases: dict[str, Any] = {
        "default": {"ENGINE": "django.db.backends.sqlite3",
                    "NAME": os.path.join(scratch, "okr.db")},
        "old": {"ENGINE": "django.db.backends.sqlite3",
                "NAME": os.path.join(scratch, "old.db")},
    }
    url = os.environ.get(POSTGRES_URL_VAR)
    if url:
        databases["pg"] = _pg(url)
        databases["pg_old"] = _pg(os.environ.get(MIGRATION_DB_VAR) or url)
    return databases


# The settings pattern of docs/adapters-django.rst: OKRCORE_MODELS names models by label
# (plain strings), so settings never import models.
OKRCORE_MODELS = {
    "person": "okrcore_example.Person", "objective": "okrcore_example.Objective",
    "key_result": "okrcore_example.KeyResult", "kr_owner": "okrcore_example.KrOwner",
    "checkpoint": "okrcore_example.Checkpoint", "check_in": "okrcore_example.CheckIn",
    "snapshot": "okrcore_example.Snapshot", "kr_result": "okrcore_example.KeyResultResult",
    "objective_result": "okrcore_example.ObjectiveResult",
    "person_result": "okrcore_example.PersonResult",
}

if not django_settings.configured:
    django_settings.configure(
        INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth",
                        "django.contrib.contenttypes", "okrcore_django",
                        "okrcore_django.example"],
        DATABASES=_databases(), USE_TZ=True, OKRCORE_MODELS=OKRCORE_MODELS)
    django.setup()

from django.core.management import call_command  # noqa: E402
from django.db.models import F  # noqa: E402

from okrcore_django import job  # noqa: E402
from okrcore_django.example.models import (  # noqa: E402
    CheckIn,
    KeyResult,
    KeyResultResult,
    ObjectiveResult,
    PersonResult,
    Snapshot,
)
from okrcore_django.models import KeyResultQuerySet  # noqa: E402

_MIGRATED: set[str] = set()


def _krs(alias: str) -> KeyResultQuerySet:
    return cast(KeyResultQuerySet, KeyResult.objects.using(alias))


@pytest.fixture(params=["default", "pg"])
def alias(request: pytest.FixtureRequest) -> Iterator[str]:
    name: str = request.param
    if name == "pg":
        postgres_url()  # skips (locally) or fails (CI) without a server
    if name not in _MIGRATED:
        call_command("migrate", "okrcore_example", database=name, verbosity=0)
        _MIGRATED.add(name)
    for model in (KeyResultResult, ObjectiveResult, PersonResult, Snapshot):
        model.objects.using(name).all().delete()
    yield name


def test_migrations_are_up_to_date() -> None:
    # exits with status 1 when a model change has no migration
    call_command("makemigrations", "okrcore_example", "--check", "--dry-run", verbosity=0)


def test_document_round_trips_through_django_models(alias: str) -> None:
    job.store_document(hand_document(), alias)
    assert job.load_document(alias).objectives == hand_document().objectives
    calls = KeyResult.objects.using(alias).get(id="calls")
    assert calls.to_core() == hand_document().objectives[2].key_results[1]


def test_command_full_then_incremental(alias: str) -> None:
    job.store_document(hand_document(), alias)
    out, err = io.StringIO(), io.StringIO()
    call_command("okrcore_recompute", "--as-of", "2026-02-15T00:00:00Z", "--database", alias,
                 stdout=out, stderr=err)
    report = json.loads(out.getvalue())
    assert (report["key_results"], report["objectives"], report["people"]) == (6, 3, 4)
    assert report["errors"] == [] and report["incremental"] is False
    assert "write    [" + "#" * 30 + "] 3/3" in err.getvalue()
    progress = dict(ObjectiveResult.objects.using(alias).values_list("objective_id", "progress"))
    assert progress == pytest.approx({"support": 0.6, "sales": 0.7, "company": 0.7})
    # a check-in saved through the ORM bumps the key result's version...
    before = KeyResult.objects.using(alias).get(id="calls").version
    CheckIn(kr_id="calls", seq=5, at=datetime(2026, 2, 1, tzinfo=UTC), value=10).save(using=alias)
    assert KeyResult.objects.using(alias).get(id="calls").version == before + 1
    # ...and the incremental run recomputes only its objective, the ancestors and the owners
    out = io.StringIO()
    call_command("okrcore_recompute", "--incremental", "--no-progress", "--database", alias,
                 stdout=out)
    report = json.loads(out.getvalue())
    assert report["incremental"] is True and report["as_of"] == "2026-02-15T00:00:00Z"
    assert (report["key_results"], report["objectives"]) == (4, 2)
    krs = dict(KeyResultResult.objects.using(alias).values_list("kr_id", "progress"))
    assert krs["calls"] == 1.0
    assert ObjectiveResult.objects.using(alias).filter(objective_id="company").values_list(
        "progress", flat=True).get() == 1.0


def test_command_rejects_a_bad_instant(alias: str) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="next week"):
        call_command("okrcore_recompute", "--as-of", "next week", "--database", alias)


def test_saving_a_key_result_bumps_its_version(alias: str) -> None:
    job.store_document(hand_document(), alias)
    kr = KeyResult.objects.using(alias).get(id="call-time")
    kr.current = 25.0
    kr.save(using=alias)
    assert kr.version == 2
    assert KeyResult.objects.using(alias).filter(version=F("version")).count() == 6


def test_queryset_filters_and_orders_on_progress_in_sql(alias: str) -> None:
    job.store_document(hand_document(), alias)
    ahead = list(_krs(alias).with_progress()
                 .filter(progress__gte=0.6).order_by("-progress", "id")
                 .values_list("id", flat=True))
    assert ahead == ["deal", "calls", "call-time", "crm", "latency"]
    at = dict(_krs(alias).with_progress(as_of=AS_OF)
              .values_list("id", "progress"))
    assert at["calls"] == pytest.approx(0.4)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(krs=st.lists(key_results(), min_size=1, max_size=6), policy=policies(), when=instants)
def test_annotated_progress_equals_the_core(alias: str, krs: list[Any],
                                            policy: okrcore.Policy, when: datetime) -> None:
    krs = [attrs.evolve(kr, id=f"k{i}", name="") for i, kr in enumerate(krs)]
    document = printable(Document(as_of=when, policy=policy, objectives=[
        Objective(id=f"o{i}", key_results=[kr]) for i, kr in enumerate(krs)]))
    job.store_document(document, alias)
    expected = okrcore.evaluate(document).key_results
    got = dict(_krs(alias).with_progress(policy, when)
               .values_list("id", "progress"))
    assert got == {kid: result.progress for kid, result in expected.items()}
