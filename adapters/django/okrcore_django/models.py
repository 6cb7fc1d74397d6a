"""Abstract models of the reference schema (the column names of :mod:`okrcore.rows`).

Subclass them in your app; name the sibling models of a key result in
``okrcore_models`` (``{"check_in": "app.CheckIn", "checkpoint": "app.Checkpoint",
"key_result": "app.KeyResult"}``) so that SQL progress and version bumps can find them.
Instants are integers [µs since the Unix epoch, UTC] (``*_at`` fields and ``as_of``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from django.apps import apps
from django.db import models
from django.db.models import F
from django.db.models.expressions import RawSQL

import okrcore
from okrcore import rows
from okrcore.policy import Policy

__all__ = [
    "CheckInBase",
    "CheckpointBase",
    "KeyResultBase",
    "KeyResultQuerySet",
    "KeyResultResultBase",
    "KrOwnerBase",
    "ObjectiveBase",
    "ObjectiveResultBase",
    "PersonBase",
    "PersonResultBase",
    "SnapshotBase",
    "progress_sql",
]

ID_LENGTH = 200

if TYPE_CHECKING:
    _Str: TypeAlias = models.CharField[str, str]
    _NStr: TypeAlias = models.CharField[str | None, str | None]
    _Float: TypeAlias = models.FloatField[float, float]
    _NFloat: TypeAlias = models.FloatField[float | None, float | None]
    _Int: TypeAlias = models.IntegerField[int, int]
    _NInt: TypeAlias = models.IntegerField[int | None, int | None]
    _Big: TypeAlias = models.BigIntegerField[int, int]
    _NBig: TypeAlias = models.BigIntegerField[int | None, int | None]
    _Bool: TypeAlias = models.BooleanField[bool, bool]
    _Text: TypeAlias = models.TextField[str, str]


def _model(owner: Any, role: str) -> Any:
    return apps.get_model(owner.okrcore_models[role])


def progress_sql(model: Any, policy: Policy | None = None,
                 as_of: datetime | None = None) -> RawSQL:
    """The SQL expression of a key result model's clamped progress [fraction].

    Notes
    -----
    :func:`okrcore.rows.kr_progress_sql`, the same text the SQLAlchemy adapter uses; tested
    equal to :func:`okrcore.evaluate`, which is the reference.
    """
    sql = rows.kr_progress_sql(
        model._meta.db_table, _model(model, "check_in")._meta.db_table,
        _model(model, "checkpoint")._meta.db_table, policy,
        None if as_of is None else rows.to_instant(as_of))
    return RawSQL(sql, (), output_field=models.FloatField())


class KeyResultQuerySet(models.QuerySet[Any]):
    """Key results that can carry their progress, computed in the database."""

    def with_progress(self, policy: Policy | None = None, as_of: datetime | None = None,
                      name: str = "progress") -> KeyResultQuerySet:
        """Annotate every key result with its clamped progress [fraction].

        See :func:`progress_sql`; a query can then filter and order on it in the database.
        """
        return self.annotate(**{name: progress_sql(self.model, policy, as_of)})


class PersonBase(models.Model):
    """A person."""

    id: _Str = models.CharField(max_length=ID_LENGTH, primary_key=True)
    name: _Str = models.CharField(max_length=400, default="", blank=True)

    class Meta:
        abstract = True


class _Versioned(models.Model):
    version: _Big = models.BigIntegerField(default=1)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save; an update bumps ``version`` (so a running recompute does not overwrite)."""
        if not self._state.adding:
            self.version = F("version") + 1  # type: ignore[assignment]
        super().save(*args, **kwargs)
        if not isinstance(self.version, int):
            self.refresh_from_db(fields=["version"])


class ObjectiveBase(_Versioned):
    """An objective (columns of :data:`okrcore.rows.OBJECTIVE_COLUMNS`)."""

    id: _Str = models.CharField(max_length=ID_LENGTH, primary_key=True)
    position: _Int = models.IntegerField(default=0, db_index=True)
    name: _Str = models.CharField(max_length=400, default="", blank=True)
    owner_id: _NStr = models.CharField(max_length=ID_LENGTH, null=True, blank=True, db_index=True)
    parent_id: _NStr = models.CharField(max_length=ID_LENGTH, null=True, blank=True, db_index=True)
    weight: _Float = models.FloatField(default=1.0)
    start_at: _NBig = models.BigIntegerField(null=True, blank=True)
    due_at: _NBig = models.BigIntegerField(null=True, blank=True)
    mode: _Str = models.CharField(max_length=20, default="auto")
    ambition: _Str = models.CharField(max_length=20, default="committed")
    status: _NStr = models.CharField(max_length=20, null=True, blank=True)
    include_children: _Bool = models.BooleanField(default=False)
    ps_unit: _NStr = models.CharField(max_length=100, null=True, blank=True)
    ps_target: _NFloat = models.FloatField(null=True, blank=True)
    ps_auto: _Bool = models.BooleanField(default=False)
    ps_start: _NFloat = models.FloatField(null=True, blank=True)

    class Meta:
        abstract = True


class KeyResultBase(_Versioned):
    """A key result of any kind (columns of :data:`okrcore.rows.KEY_RESULT_COLUMNS`)."""

    okrcore_models: ClassVar[dict[str, str]] = {}

    id: _Str = models.CharField(max_length=ID_LENGTH, primary_key=True)
    objective_id: _Str = models.CharField(max_length=ID_LENGTH, db_index=True)
    position: _Int = models.IntegerField(default=0)
    name: _Str = models.CharField(max_length=400, default="", blank=True)
    kind: _Str = models.CharField(max_length=20)
    start: _Float = models.FloatField(default=0.0)
    target: _NFloat = models.FloatField(null=True, blank=True)
    current: _NFloat = models.FloatField(null=True, blank=True)
    stages_total: _NInt = models.IntegerField(null=True, blank=True)
    unit: _Str = models.CharField(max_length=100, default="", blank=True)
    range_mode: _NStr = models.CharField(max_length=20, null=True, blank=True)
    red_low: _NFloat = models.FloatField(null=True, blank=True)
    yellow_low: _NFloat = models.FloatField(null=True, blank=True)
    yellow_high: _NFloat = models.FloatField(null=True, blank=True)
    red_high: _NFloat = models.FloatField(null=True, blank=True)
    due_at: _NBig = models.BigIntegerField(null=True, blank=True)
    weight: _Float = models.FloatField(default=1.0)
    has_history: _Bool = models.BooleanField(default=False)

    objects = KeyResultQuerySet.as_manager()

    class Meta:
        abstract = True

    def to_core(self) -> okrcore.KeyResult:
        """Build the core key result of this row with its check-ins and checkpoints.

        Raises
        ------
        OkrValueError
            The row does not make a valid key result.
        """
        db = self._state.db
        history = list(_model(self, "check_in").objects.using(db).filter(kr_id=self.id)
                       .order_by("at", "seq").values_list("at", "value"))
        points = list(_model(self, "checkpoint").objects.using(db).filter(kr_id=self.id)
                      .order_by("position").values_list("name", "done"))
        row = {c: getattr(self, c) for c in rows.KEY_RESULT_COLUMNS}
        return rows.key_result_from_row(row, history, (), points)


class _TouchesKeyResult(models.Model):
    """A row whose change is a change of its key result (bumps the key result's version)."""

    okrcore_models: ClassVar[dict[str, str]] = {}
    kr_id: _Str = models.CharField(max_length=ID_LENGTH, db_index=True)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save and bump the key result's ``version``."""
        super().save(*args, **kwargs)
        _model(self, "key_result").objects.using(self._state.db).filter(id=self.kr_id).update(
            version=F("version") + 1)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        """Delete and bump the key result's ``version``."""
        db = self._state.db
        out = super().delete(*args, **kwargs)
        _model(self, "key_result").objects.using(db).filter(id=self.kr_id).update(
            version=F("version") + 1)
        return out


class KrOwnerBase(_TouchesKeyResult):
    """One owner of a key result."""

    position: _Int = models.IntegerField(default=0)
    person_id: _Str = models.CharField(max_length=ID_LENGTH, db_index=True)

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["kr_id", "position"],
                                               name="%(app_label)s_%(class)s_key")]


class CheckpointBase(_TouchesKeyResult):
    """One named step of a checkpoint milestone."""

    position: _Int = models.IntegerField(default=0)
    name: _Str = models.CharField(max_length=400)
    done: _Bool = models.BooleanField(default=False)

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["kr_id", "position"],
                                               name="%(app_label)s_%(class)s_key")]


class CheckInBase(_TouchesKeyResult):
    """One entry of a key result's history (``seq`` orders entries of one instant)."""

    seq: _Big = models.BigIntegerField(default=0)
    at: _Big = models.BigIntegerField()
    value: _Float = models.FloatField()

    class Meta:
        abstract = True


class SnapshotBase(models.Model):
    """One computed snapshot: as-of instant [µs] and policy (JSON)."""

    as_of: _Big = models.BigIntegerField(primary_key=True)
    policy: _Text = models.TextField()
    computed_at: _Big = models.BigIntegerField()

    class Meta:
        abstract = True


_FIELDS: dict[str, Callable[[], models.Field[Any, Any]]] = {
    "float": lambda: models.FloatField(null=True, blank=True),
    "int": lambda: models.BigIntegerField(),
    "bool": lambda: models.BooleanField(),
}


def _result_fields(prefix: str) -> dict[str, models.Field[Any, Any]]:
    return {name: _FIELDS[kind]() for name, kind in rows.RESULT_COLUMNS[prefix]}


class KeyResultResultBase(models.Model):
    """The stored result of a key result at one as-of instant (every batch result column)."""

    as_of: _Big = models.BigIntegerField()
    kr_id: _Str = models.CharField(max_length=ID_LENGTH)
    input_version: _Big = models.BigIntegerField()
    locals().update(_result_fields("kr"))

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["as_of", "kr_id"],
                                               name="%(app_label)s_%(class)s_key")]


class ObjectiveResultBase(models.Model):
    """The stored result of an objective at one as-of instant (every batch result column)."""

    as_of: _Big = models.BigIntegerField()
    objective_id: _Str = models.CharField(max_length=ID_LENGTH)
    input_version: _Big = models.BigIntegerField()
    locals().update(_result_fields("obj"))

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["as_of", "objective_id"],
                                               name="%(app_label)s_%(class)s_key")]


class PersonResultBase(models.Model):
    """The stored result of a person at one as-of instant."""

    as_of: _Big = models.BigIntegerField()
    person_id: _Str = models.CharField(max_length=ID_LENGTH)
    locals().update(_result_fields("person"))

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["as_of", "person_id"],
                                               name="%(app_label)s_%(class)s_key")]
