"""The Django adapter on SQLite and PostgreSQL: migrations, command, SQL progress, mapping."""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
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

MIGRATION_SCHEMA = "okrcore_migration_test"
"""The PostgreSQL schema of the migration test's database alias ``pg_old``."""


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
        databases["pg_old"] = {**_pg(url),
                               "OPTIONS": {"options": f"-c search_path={MIGRATION_SCHEMA}"}}
    return databases


# The settings pattern of docs/adapters-django.rst: OKRCORE_MODELS names models by label
# (plain strings), so settings never import models.
OKRCORE_MODELS = {
    "person": "okrcore_example.Person", "objective": "okrcore_example.Objective",
    "key_result": "okrcore_example.KeyResult", "kr_owner": "okrcore_example.KrOwner",
    "checkpoint": "okrcore_example.Checkpoint", "check_in": "okrcore_example.CheckIn",
    "snapshot": "okrcore_example.Snapshot", "kr_result": "okrcore_example.KeyResultResult",
    "objective_result": "okrcore_example.ObjectiveResult",
    "person_result": "okrcore_example.PersonResult", "change": "okrcore_example.Change",
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
    Change,
    CheckIn,
    KeyResult,
    KeyResultResult,
    ObjectiveResult,
    PersonResult,
    Snapshot,
)
from okrcore_django.models import KeyResultQuerySet, ResultQuerySet  # noqa: E402

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
    # ...and records it in the change log: the incremental run recomputes what it names and
    # writes only the rows whose stored values changed (calls, sales, company), consuming it
    assert list(Change.objects.using(alias).values_list("kr_id", flat=True)) == ["calls"]
    out = io.StringIO()
    call_command("okrcore_recompute", "--incremental", "--no-progress", "--database", alias,
                 stdout=out)
    report = json.loads(out.getvalue())
    assert report["incremental"] is True and report["as_of"] == "2026-02-15T00:00:00Z"
    assert (report["key_results"], report["objectives"]) == (1, 2)
    assert not Change.objects.using(alias).exists()
    krs = dict(KeyResultResult.objects.using(alias).values_list("kr_id", "progress"))
    assert krs["calls"] == 1.0
    assert ObjectiveResult.objects.using(alias).filter(objective_id="company").values_list(
        "progress", flat=True).get() == 1.0
    incremental = stored_results(alias)
    job.recompute(alias, as_of=AS_OF)  # a full recompute stores exactly the same
    assert stored_results(alias) == incremental


def stored_results(alias: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored result row, by table, sorted (NaN as None; what a full recompute writes)."""
    out = {}
    for model in (KeyResultResult, ObjectiveResult, PersonResult):
        names = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
        out[model.__name__] = sorted(
            (tuple(v for v in row) for row in model.objects.using(alias).values_list(*names)),
            key=repr)
    return out


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


def test_progress_in_sql_compares_instants_in_utc(alias: str) -> None:
    """An as-of instant with another offset is the same instant: a check-in at 00:00 UTC is
    later than 00:00 at +05:30 (18:30 UTC the day before) and does not count (found by the
    property below: the offset used to reach SQLite's text comparison unconverted)."""
    from datetime import timedelta, timezone

    from okrcore.model import Binary, CheckIn

    done = Binary(id="k0", check_ins=(CheckIn(datetime(2024, 1, 1, tzinfo=UTC), True),))
    when = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    document = Document(as_of=when, objectives=[Objective(id="o0", key_results=[done])])
    job.store_document(document, alias)
    assert okrcore.evaluate(document).key_results["k0"].progress == 0.0
    got = dict(_krs(alias).with_progress(as_of=when).values_list("id", "progress"))
    assert got == {"k0": 0.0}
    later = dict(_krs(alias).with_progress(as_of=when + timedelta(hours=6))
                 .values_list("id", "progress"))
    assert later == {"k0": 1.0}


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


# --- issue 16: datetimes, choices, admin, settings, reading results, the migration ------------


def test_instants_are_timezone_aware_datetimes(alias: str) -> None:
    from django.utils import timezone

    from okrcore_django.example.models import Objective as Goal

    now = timezone.now()
    goal = Goal.objects.using(alias).create(id="g1", start_at=now)  # was a TypeError
    goal.refresh_from_db()
    assert goal.start_at == now and goal.start_at.tzinfo is not None
    moment = datetime(1969, 12, 31, 23, 59, 59, 500001, tzinfo=UTC)
    goal.due_at = moment
    goal.save(using=alias)
    assert Goal.objects.using(alias).get(id="g1").due_at == moment


def test_the_job_reads_and_writes_datetime_columns(alias: str) -> None:
    from okrcore_django.example.models import Objective as Goal

    document = hand_document()
    job.store_document(document, alias)
    support = Goal.objects.using(alias).get(id="support")
    assert support.start_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert support.due_at == datetime(2026, 4, 1, tzinfo=UTC)
    checks = list(CheckIn.objects.using(alias).filter(kr_id="calls").order_by("seq")
                  .values_list("at", flat=True))
    assert checks == [datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 2, 20, tzinfo=UTC)]
    report = job.recompute(alias, as_of=AS_OF)
    assert report.errors == ()
    snapshot = Snapshot.objects.using(alias).get()
    assert snapshot.as_of == AS_OF and snapshot.computed_at.tzinfo is not None
    calls = KeyResultResult.objects.using(alias).get(kr_id="calls")
    assert calls.as_of == AS_OF
    assert calls.last_at == datetime(2026, 1, 10, tzinfo=UTC)  # the Feb 20 entry is later
    deal = KeyResultResult.objects.using(alias).get(kr_id="deal")
    assert deal.last_at is None  # no check-in: NULL
    assert job.load_evaluation(alias).to_json() == okrcore.evaluate(document).to_json()


def test_coded_columns_show_readable_names_and_null_colours_round_trip(alias: str) -> None:
    from django.contrib import admin
    from django.contrib.admin.utils import display_for_field

    from okrcore_django.example.models import Objective as Goal

    job.store_document(hand_document(), alias)
    job.recompute(alias, as_of=AS_OF)
    expected = okrcore.evaluate(hand_document())
    latency = KeyResultResult.objects.using(alias).get(kr_id="latency")
    assert latency.get_range_status_display() == expected.key_results["latency"].range_status
    crm = KeyResultResult.objects.using(alias).get(kr_id="crm")
    assert crm.range_status is None  # no range: NULL, shown as "no colour"
    assert crm.get_range_status_display() == "no colour"
    support = ObjectiveResult.objects.using(alias).get(objective_id="support")
    assert support.get_colour_display() == expected.objectives["support"].colour
    field = cast(Any, ObjectiveResult._meta.get_field("colour"))
    assert display_for_field(support.colour, field, "-") == expected.objectives["support"].colour
    assert cast(Any, Goal._meta.get_field("mode")).choices is not None
    for model in (Goal, KeyResult, ObjectiveResult, KeyResultResult, PersonResult, CheckIn):
        assert admin.site.is_registered(model)
    assert "colour" in admin.site.get_model_admin(ObjectiveResult).list_display
    # a stored NULL colour reads back as no colour
    ObjectiveResult.objects.using(alias).filter(objective_id="company").update(
        forecast_colour=None)
    assert ObjectiveResult.objects.using(alias).get(objective_id="company").forecast_colour is None


def test_stored_results_read_back_as_evaluation_and_querysets(alias: str) -> None:
    job.store_document(hand_document(), alias)
    job.recompute(alias, as_of=AS_OF)
    later = datetime(2026, 3, 1, tzinfo=UTC)
    job.recompute(alias, as_of=later)
    results = cast(ResultQuerySet, ObjectiveResult.objects.using(alias))
    latest = dict(results.latest_snapshot().values_list("objective_id", "progress"))
    assert latest == pytest.approx({"support": 0.6, "sales": 0.95, "company": 0.95})
    at = dict(results.at(AS_OF).values_list("objective_id", "progress"))
    assert at == pytest.approx({"support": 0.6, "sales": 0.7, "company": 0.7})
    evaluation = results.evaluation(AS_OF)
    assert evaluation.to_json() == okrcore.evaluate(hand_document()).to_json()
    assert results.evaluation().as_of == "2026-03-01T00:00:00Z"  # the latest
    kr_results = cast(ResultQuerySet, KeyResultResult.objects.using(alias))
    assert kr_results.latest_snapshot().count() == 6
    PersonResult.objects.using(alias).all().delete()
    assert not cast(ResultQuerySet, PersonResult.objects.using(alias)).latest_snapshot().exists()


DOCS_PROJECT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "django_project"


def test_the_documented_settings_pattern_and_own_app_work(tmp_path: Path) -> None:
    """docs/examples/django_project: OKRCORE_MODELS by label, the app's own model names.

    Before: the documented ``OKRCORE_MODELS = ROLES`` imported models in the settings and
    raised ``AppRegistryNotReady``.  Runs in a new process (its own settings).
    """
    import subprocess
    import sys

    script = (
        "import django; django.setup()\n"
        "import okrcore\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', run_syncdb=True, verbosity=0)\n"
        "from okrcore_django import job\n"
        "from orm_support import hand_document\n"
        "from goals.models import GoalResult, Update\n"
        "job.store_document(hand_document())\n"
        "assert Update.objects.filter(kr_id='calls').count() == 2\n"
        "call_command('okrcore_recompute', '--as-of', '2026-02-15', '--no-progress')\n"
        "stored = GoalResult.objects.evaluation()\n"
        "assert stored.to_json() == okrcore.evaluate(hand_document()).to_json()\n"
        "from goals.models import Measure\n"
        "Update.objects.get(kr_id='calls', seq=0).save()  # siblings found via the setting\n"
        "assert Measure.objects.get(id='calls').version == 2\n"
        "progress = dict(Measure.objects.with_progress().values_list('id', 'progress'))\n"
        "assert progress['calls'] == 0.9, progress\n"
        "print(GoalResult.objects.latest_snapshot().get(objective_id='sales').progress)\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "okr_settings",
           "OKR_DB": str(tmp_path / "goals.db"),
           "PYTHONPATH": os.pathsep.join([str(DOCS_PROJECT), *sys.path])}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0.7"


@pytest.fixture(params=["old", "pg_old"])
def old_alias(request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database (PostgreSQL: an empty schema) for the migration test."""
    from django.db import connections

    name: str = request.param
    connection = connections[name]
    if name == "pg_old":
        postgres_url()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {MIGRATION_SCHEMA} CASCADE")
            cursor.execute(f"CREATE SCHEMA {MIGRATION_SCHEMA}")
    else:
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f'DROP TABLE "{table}"')
    yield name
    connection.close()


def test_migration_0002_converts_the_earlier_layout(old_alias: str) -> None:
    """Apply 0001, store data as the earlier version did (µs, -1 colours), migrate, read."""
    import math

    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    from okrcore.batch import OrgFrame, evaluate_frame
    from okrcore.rows import RESULT_COLUMNS, to_instant
    from okrcore_django.example.models import Objective as Goal
    from okrcore_sqlalchemy._writing import _policy_json

    connection = connections[old_alias]
    executor = MigrationExecutor(connection)
    first = [("okrcore_example", "0001_initial")]
    executor.migrate(first)
    job.forget_schemas()
    old = executor.loader.project_state(first).apps
    document = hand_document()
    before_log = {role: label for role, label in OKRCORE_MODELS.items() if role != "change"}
    # the inputs as µs integers (reflected BIGINTs)
    job.store_document(document, old_alias, before_log)
    when = to_instant(AS_OF)
    assert when is not None
    odd = to_instant(datetime(1969, 12, 31, 23, 59, 59, 500001, tzinfo=UTC))
    old.get_model("okrcore_example", "Snapshot").objects.using(old_alias).create(
        as_of=when, policy=_policy_json(document.policy), computed_at=odd)
    frame = OrgFrame.from_document(document)
    result = evaluate_frame(frame, when, document.policy)
    for model, prefix, key, ids in (("KeyResultResult", "kr", "kr_id", frame.kr_ids),
                                    ("ObjectiveResult", "obj", "objective_id", frame.obj_ids),
                                    ("PersonResult", "person", "person_id",
                                     frame.person_names)):
        rows_of = old.get_model("okrcore_example", model).objects.using(old_alias)
        extra = {} if prefix == "person" else {"input_version": 1}
        for i, ident in enumerate(ids or ()):
            values = {name: getattr(result, f"{prefix}_{name}")[i].item()
                      for name, _ in RESULT_COLUMNS[prefix]}
            rows_of.create(as_of=when, **{key: ident}, **extra, **{
                n: None if isinstance(v, float) and math.isnan(v) else v
                for n, v in values.items()})
    old_crm = old.get_model("okrcore_example", "KeyResultResult").objects.using(
        old_alias).get(kr_id="crm")
    assert old_crm.range_status == -1 and old_crm.last_at == int(okrcore.batch.NONE_INSTANT)

    executor = MigrationExecutor(connection)
    executor.migrate([("okrcore_example", "0002_datetimes_and_choices")])  # no change log yet
    job.forget_schemas()  # the tables changed under the job (migrate would have told it)

    support = Goal.objects.using(old_alias).get(id="support")
    assert support.start_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert support.due_at == datetime(2026, 4, 1, tzinfo=UTC)
    assert list(CheckIn.objects.using(old_alias).filter(kr_id="calls").order_by("seq")
                .values_list("at", flat=True)) == [datetime(2026, 1, 10, tzinfo=UTC),
                                                   datetime(2026, 2, 20, tzinfo=UTC)]
    snapshot = Snapshot.objects.using(old_alias).get()
    assert snapshot.as_of == AS_OF
    assert snapshot.computed_at == datetime(1969, 12, 31, 23, 59, 59, 500001, tzinfo=UTC)
    second = [("okrcore_example", "0002_datetimes_and_choices")]
    mid = executor.loader.project_state(second).apps  # codes are integers until 0004
    crm = mid.get_model("okrcore_example", "KeyResultResult").objects.using(old_alias).get(
        kr_id="crm")
    assert crm.as_of == AS_OF and crm.range_status is None and crm.last_at is None
    calls = mid.get_model("okrcore_example", "KeyResultResult").objects.using(old_alias).get(
        kr_id="calls")
    assert calls.last_at == datetime(2026, 1, 10, tzinfo=UTC)
    expected = okrcore.evaluate(document)
    # "calls" has no timeline, so no pace and no colour (SEMANTICS §11.1): NULL, shown by name
    assert expected.key_results["calls"].colour is None
    assert calls.colour is None and calls.get_colour_display() == "no colour"
    assert crm.colour == 0 and crm.get_colour_display() == expected.key_results["crm"].colour
    # the converted results read back as the core's evaluation, and the job runs on them
    assert job.load_evaluation(old_alias, models=before_log).to_json() == expected.to_json()
    report = job.recompute(old_alias, before_log, as_of=AS_OF, incremental=True)
    assert report.incremental and report.errors == () and report.key_results == 0

    # 0004: the coded result columns become names (NULL for none), and back
    latest = executor.loader.graph.leaf_nodes("okrcore_example")
    MigrationExecutor(connection).migrate(latest)
    job.forget_schemas()
    _assert_readable_codes(old_alias)
    assert job.load_evaluation(old_alias).to_json() == expected.to_json()
    third = [("okrcore_example", "0003_change_log")]
    executor = MigrationExecutor(connection)
    executor.migrate(third)
    job.forget_schemas()
    coded = executor.loader.project_state(third).apps
    krs = coded.get_model("okrcore_example", "KeyResultResult").objects.using(old_alias)
    assert (list(krs.filter(kr_id__in=["calls", "crm"]).order_by("kr_id").values_list(
        "kr_id", "colour", "trend", "stale", "error", "range_status"))
        == [("calls", None, 0, 1, 0, None), ("crm", 0, -1, -1, 0, None)])
    sales = coded.get_model("okrcore_example", "ObjectiveResult").objects.using(old_alias).get(
        objective_id="sales")
    assert (sales.mode, sales.rule, sales.colour, sales.grade_band) == (1, 3, 1, 0)
    MigrationExecutor(connection).migrate(latest)
    job.forget_schemas()
    _assert_readable_codes(old_alias)
    report = job.recompute(old_alias, as_of=AS_OF, incremental=True)
    assert report.incremental and report.errors == () and report.key_results == 0


def _assert_readable_codes(alias: str) -> None:
    """The hand document's results as stored names (okrcore.evaluate gives the same strings)."""
    krs = KeyResultResult.objects.using(alias)
    assert (list(krs.filter(kr_id__in=["calls", "crm", "latency"]).order_by("kr_id")
                 .values_list("kr_id", "colour", "trend", "stale", "error", "range_status"))
            == [("calls", None, "progressed", "stale", None, None),
                ("crm", "green", None, None, None, None),
                ("latency", "yellow", None, None, None, "yellow")])
    sales = ObjectiveResult.objects.using(alias).get(objective_id="sales")
    assert (sales.mode, sales.rule, sales.colour, sales.computed_colour, sales.trend,
            sales.stale, sales.grade_band, sales.error) == (
        "mean", "auto:mixed", "yellow", "yellow", "progressed", "stale", "green", None)
    assert (sales.get_rule_display(), sales.get_stale_display(),
            sales.get_error_display()) == ("mixed", "stale", "none")
