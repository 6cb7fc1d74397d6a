"""Abstract models of the reference schema (the column names of :mod:`okrcore.rows`).

Subclass them in your app and name the model of each role in the ``OKRCORE_MODELS`` setting
(role -> model label, plain strings: settings never import models), so that SQL progress,
version bumps, the job and :meth:`ResultQuerySet.evaluation` find them; a model may instead
name its siblings in its own ``okrcore_models`` class attribute.  Instants are timezone-aware
``DateTimeField`` columns (``*_at`` fields and ``as_of``); coded columns have ``choices`` (colours
are ``green`` / ``yellow`` / ``red``, NULL for no colour).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias

from django.apps import apps
from django.db import models
from django.db.models import F
from django.db.models.expressions import RawSQL

import okrcore
from okrcore import codes as C
from okrcore import rows
from okrcore.evaluate import instant_us
from okrcore.policy import Policy
from okrcore_django.conf import models_setting

__all__ = [
    "AMBITION_CHOICES",
    "COLOUR_CHOICES",
    "ERROR_CHOICES",
    "KIND_CHOICES",
    "MODE_CHOICES",
    "RANGE_MODE_CHOICES",
    "RULE_CHOICES",
    "STALE_CHOICES",
    "STATUS_CHOICES",
    "TREND_CHOICES",
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
    "ResultQuerySet",
    "SnapshotBase",
    "models_setting",
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
    _Time: TypeAlias = models.DateTimeField[datetime, datetime]
    _NTime: TypeAlias = models.DateTimeField[datetime | None, datetime | None]
    _Code: TypeAlias = models.SmallIntegerField[int, int]
    _NCode: TypeAlias = models.SmallIntegerField[int | None, int | None]

# Readable values of every coded column (the batch engine's codes; fixed here, so that a new
# engine code shows as its number rather than forcing a migration).
KIND_CHOICES: Final = [("metric", "metric"), ("binary", "binary"), ("milestone", "milestone")]
MODE_CHOICES: Final = [("auto", "auto"), ("mean", "mean"), ("sum", "sum")]
AMBITION_CHOICES: Final = [("committed", "committed"), ("aspirational", "aspirational")]
STATUS_CHOICES: Final = [("on_track", "on track"), ("behind", "behind"),
                         ("at_risk", "at risk"), ("off_track", "off track")]
RANGE_MODE_CHOICES: Final = [("band", "band"), ("graded", "graded"), ("linear", "linear")]
COLOUR_CHOICES: Final = [(None, "no colour"), (C.COLOUR_GREEN, "green"),
                         (C.COLOUR_YELLOW, "yellow"), (C.COLOUR_RED, "red")]
"""Stored colours (NULL: no colour)."""
TREND_CHOICES: Final = [(C.TREND_NONE, "no trend"), (C.TREND_PROGRESSED, "progressed"),
                        (C.TREND_STALLED, "stalled"), (C.TREND_REGRESSED, "regressed")]
STALE_CHOICES: Final = [(C.STALE_NONE, "unknown"), (C.STALE_NO, "fresh"), (C.STALE_YES, "stale")]
RESULT_MODE_CHOICES: Final = [(C.MODE_AUTO, "auto"), (C.MODE_MEAN, "mean"), (C.MODE_SUM, "sum")]
RULE_CHOICES: Final = [(C.RULE_EXPLICIT, "explicit"), (C.RULE_SETTINGS, "progress settings"),
                       (C.RULE_SAME_UNIT, "same unit"), (C.RULE_MIXED, "mixed"),
                       (C.RULE_CHILDREN, "children"), (C.RULE_EMPTY, "empty")]
ERROR_CHOICES: Final = [
    (C.ERR_NONE, "none"), (C.ERR_LOAD, "invalid field"), (C.ERR_DUPLICATE_ID, "duplicate id"),
    (C.ERR_DEPENDS_ON_INVALID, "depends on invalid"),
    (C.ERR_INVALID_TIMELINE, "invalid timeline"), (C.ERR_NOT_FINITE, "not finite"),
    (C.ERR_UNKNOWN_PARENT, "unknown parent"), (C.ERR_ALIGNMENT_CYCLE, "alignment cycle"),
    (C.ERR_NO_CONTRIBUTING_METRIC, "no contributing metric"), (C.ERR_NO_SUM_UNIT, "no sum unit"),
    (C.ERR_MIXED_DIRECTIONS, "mixed directions"), (C.ERR_DEGENERATE_GOAL, "degenerate goal"),
    (C.ERR_FIELD_NOT_FINITE, "not finite field"),
    (C.ERR_FIELD_NEGATIVE_WEIGHT, "negative weight"),
    (C.ERR_FIELD_DEGENERATE, "degenerate metric"),
    (C.ERR_FIELD_BREAKPOINTS, "breakpoints out of order"),
    (C.ERR_FIELD_UNKNOWN_VALUE, "unknown value"), (C.ERR_FIELD_OUT_OF_RANGE, "out of range"),
    (C.ERR_FIELD_TIMELINE, "invalid timeline field"),
]
_RESULT_CHOICES: Final[dict[str, list[tuple[Any, str]]]] = {
    "error": ERROR_CHOICES, "trend": TREND_CHOICES, "stale": STALE_CHOICES,
    "rule": RULE_CHOICES, "mode": RESULT_MODE_CHOICES, "range_status": COLOUR_CHOICES,
    "colour": COLOUR_CHOICES, "pace_colour": COLOUR_CHOICES, "forecast_colour": COLOUR_CHOICES,
    "computed_colour": COLOUR_CHOICES, "grade_band": COLOUR_CHOICES,
}


def _model(owner: Any, role: str) -> Any:
    return apps.get_model((owner.okrcore_models or models_setting())[role])


def progress_sql(model: Any, policy: Policy | None = None,
                 as_of: datetime | None = None) -> RawSQL:
    """The SQL expression of a key result model's clamped progress [fraction].

    Notes
    -----
    :func:`okrcore.rows.kr_progress_sql`, the same text the SQLAlchemy adapter uses; tested
    equal to :func:`okrcore.evaluate`, which is the reference.
    """
    marker = -7_777_777_777_777_777  # an instant no one stores, replaced by a parameter
    sql = rows.kr_progress_sql(
        model._meta.db_table, _model(model, "check_in")._meta.db_table,
        _model(model, "checkpoint")._meta.db_table, policy, None if as_of is None else marker)
    assert "%" not in sql
    # check-in instants are DateTimeFields: compare them with the as-of datetime as a parameter
    parts = sql.split(str(marker))
    return RawSQL("%s".join(parts), (as_of,) * (len(parts) - 1),
                  output_field=models.FloatField())


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
    start_at: _NTime = models.DateTimeField(null=True, blank=True)
    due_at: _NTime = models.DateTimeField(null=True, blank=True)
    mode: _Str = models.CharField(max_length=20, default="auto", choices=MODE_CHOICES)
    ambition: _Str = models.CharField(max_length=20, default="committed",
                                      choices=AMBITION_CHOICES)
    status: _NStr = models.CharField(max_length=20, null=True, blank=True,
                                     choices=STATUS_CHOICES)
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
    kind: _Str = models.CharField(max_length=20, choices=KIND_CHOICES)
    start: _Float = models.FloatField(default=0.0)
    target: _NFloat = models.FloatField(null=True, blank=True)
    current: _NFloat = models.FloatField(null=True, blank=True)
    stages_total: _NInt = models.IntegerField(null=True, blank=True)
    unit: _Str = models.CharField(max_length=100, default="", blank=True)
    range_mode: _NStr = models.CharField(max_length=20, null=True, blank=True,
                                         choices=RANGE_MODE_CHOICES)
    red_low: _NFloat = models.FloatField(null=True, blank=True)
    yellow_low: _NFloat = models.FloatField(null=True, blank=True)
    yellow_high: _NFloat = models.FloatField(null=True, blank=True)
    red_high: _NFloat = models.FloatField(null=True, blank=True)
    due_at: _NTime = models.DateTimeField(null=True, blank=True)
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
        history = [(instant_us(at), value) for at, value in
                   _model(self, "check_in").objects.using(db).filter(kr_id=self.id)
                   .order_by("at", "seq").values_list("at", "value")]
        points = list(_model(self, "checkpoint").objects.using(db).filter(kr_id=self.id)
                      .order_by("position").values_list("name", "done"))
        row = {c: getattr(self, c) for c in rows.KEY_RESULT_COLUMNS}
        row["due_at"] = rows.to_instant(self.due_at)
        row["id"], row["objective_id"] = str(self.id), str(self.objective_id)
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
    at: _Time = models.DateTimeField()
    value: _Float = models.FloatField()

    class Meta:
        abstract = True


class SnapshotBase(models.Model):
    """One computed snapshot: as-of instant and policy (JSON)."""

    as_of: _Time = models.DateTimeField(primary_key=True)
    policy: _Text = models.TextField()
    computed_at: _Time = models.DateTimeField()

    class Meta:
        abstract = True


_FIELDS: dict[str, Callable[[], models.Field[Any, Any]]] = {
    "float": lambda: models.FloatField(null=True, blank=True),
    "int": lambda: models.BigIntegerField(),
    "bool": lambda: models.BooleanField(),
}


def _result_field(name: str, kind: str) -> models.Field[Any, Any]:
    if name == "last_at":  # the latest check-in counted; NULL: none
        return models.DateTimeField(null=True, blank=True)
    choices = _RESULT_CHOICES.get(name)
    if choices is COLOUR_CHOICES:
        return models.SmallIntegerField(null=True, blank=True, choices=choices)
    if choices is not None:
        return models.SmallIntegerField(choices=choices)
    return _FIELDS[kind]()


def _result_fields(prefix: str) -> dict[str, models.Field[Any, Any]]:
    return {name: _result_field(name, kind) for name, kind in rows.RESULT_COLUMNS[prefix]}


class ResultQuerySet(models.QuerySet[Any]):
    """Stored results: of the latest snapshot, at an instant, or as an ``okrcore.Evaluation``."""

    def latest_snapshot(self) -> ResultQuerySet:
        """The results of the latest snapshot (none when nothing was computed yet)."""
        latest = self.order_by("-as_of").values_list("as_of", flat=True).first()
        return self.filter(as_of=latest) if latest is not None else self.none()

    def at(self, as_of: datetime) -> ResultQuerySet:
        """The results of the snapshot at ``as_of``."""
        return self.filter(as_of=as_of)

    def evaluation(self, as_of: datetime | None = None) -> okrcore.Evaluation:
        """The stored snapshot (default the latest) as the core's ``okrcore.Evaluation``.

        Reads through :func:`okrcore_django.job.load_evaluation` on this queryset's database.

        Raises
        ------
        LookupError
            No complete snapshot at that instant (or the organisation changed since).
        """
        from okrcore_django import job

        return job.load_evaluation(self.db, as_of)


class KeyResultResultBase(models.Model):
    """The stored result of a key result at one as-of instant (every batch result column)."""

    as_of: _Time = models.DateTimeField()
    kr_id: _Str = models.CharField(max_length=ID_LENGTH)
    input_version: _Big = models.BigIntegerField()
    locals().update(_result_fields("kr"))

    objects = ResultQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["as_of", "kr_id"],
                                               name="%(app_label)s_%(class)s_key")]


class ObjectiveResultBase(models.Model):
    """The stored result of an objective at one as-of instant (every batch result column)."""

    as_of: _Time = models.DateTimeField()
    objective_id: _Str = models.CharField(max_length=ID_LENGTH)
    input_version: _Big = models.BigIntegerField()
    locals().update(_result_fields("obj"))

    objects = ResultQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["as_of", "objective_id"],
                                               name="%(app_label)s_%(class)s_key")]


class PersonResultBase(models.Model):
    """The stored result of a person at one as-of instant."""

    as_of: _Time = models.DateTimeField()
    person_id: _Str = models.CharField(max_length=ID_LENGTH)
    locals().update(_result_fields("person"))

    objects = ResultQuerySet.as_manager()

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["as_of", "person_id"],
                                               name="%(app_label)s_%(class)s_key")]
