"""Abstract models of the reference schema (the column names of :mod:`okrcore.rows`).

Subclass them in your app and name the model of each role in the ``OKRCORE_MODELS`` setting
(role -> model label, plain strings: settings never import models), so that SQL progress,
version bumps, the job and :meth:`ResultQuerySet.evaluation` find them; a model may instead
name its siblings in its own ``okrcore_models`` class attribute.  Instants are timezone-aware
``DateTimeField`` columns (``*_at`` fields and ``as_of``); coded columns hold readable names and
have ``choices`` (colours are ``green`` / ``yellow`` / ``red``, NULL for no colour).  Writes
through these models (``save()``, ``delete()`` and the bulk methods of
:class:`RecordingQuerySet`) bump versions and record the change log (:class:`ChangeBase`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias, cast

from django.apps import apps
from django.db import models, router, transaction
from django.db.models import F
from django.db.models.expressions import RawSQL

import okrcore
from okrcore import codes as C
from okrcore import rows
from okrcore.evaluate import instant_us
from okrcore.policy import Policy
from okrcore_django.changes import record_changes
from okrcore_django.conf import models_setting
from okrcore_sqlalchemy.storage import NAME_LENGTH

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
    "ChangeBase",
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
    "RecordingQuerySet",
    "ResultQuerySet",
    "SnapshotBase",
    "models_setting",
    "progress_sql",
    "record_changes",
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
    _BigAuto: TypeAlias = models.BigAutoField[int, int]
    _NBig: TypeAlias = models.BigIntegerField[int | None, int | None]
    _Bool: TypeAlias = models.BooleanField[bool, bool]
    _Text: TypeAlias = models.TextField[str, str]
    _Time: TypeAlias = models.DateTimeField[datetime, datetime]
    _NTime: TypeAlias = models.DateTimeField[datetime | None, datetime | None]
    _Code: TypeAlias = models.SmallIntegerField[int, int]
    _NCode: TypeAlias = models.SmallIntegerField[int | None, int | None]

# Readable values of every coded column: inputs hold their names; result columns hold the
# stored names of okrcore.codes.RESULT_CODE_NAMES (NULL for "none"), labelled for the admin.
KIND_CHOICES: Final = [("metric", "metric"), ("binary", "binary"), ("milestone", "milestone")]
MODE_CHOICES: Final = [("auto", "auto"), ("mean", "mean"), ("sum", "sum")]
AMBITION_CHOICES: Final = [("committed", "committed"), ("aspirational", "aspirational")]
STATUS_CHOICES: Final = [("on_track", "on track"), ("behind", "behind"),
                         ("at_risk", "at risk"), ("off_track", "off track")]
RANGE_MODE_CHOICES: Final = [("band", "band"), ("graded", "graded"), ("linear", "linear")]
def _named(column: str, labels: Sequence[str], none: str | None) -> list[tuple[Any, str]]:
    """Choices of a coded result column: its stored names with a label each (None: NULL)."""
    names = C.RESULT_CODE_NAMES[column]
    first = [] if none is None else [(None, none)]
    return first + [(names[code], label) for code, label in zip(sorted(names), labels,
                                                                 strict=True)]


COLOUR_CHOICES: Final = _named("colour", C.COLOUR_NAMES, "no colour")
"""Stored colours: ``green`` / ``yellow`` / ``red`` (NULL: no colour)."""
TREND_CHOICES: Final = _named("trend", C.TREND_NAMES, "no trend")
STALE_CHOICES: Final = _named("stale", C.STALE_NAMES, "unknown")
RESULT_MODE_CHOICES: Final = _named("mode", C.MODE_NAMES, None)
RULE_CHOICES: Final = _named("rule", (
    "explicit", "progress settings", "same unit", "mixed", "children", "empty"), None)
ERROR_CHOICES: Final = _named("error", (
    "invalid field", "duplicate id", "depends on invalid", "invalid timeline", "not finite",
    "unknown parent", "alignment cycle", "no contributing metric", "no sum unit",
    "mixed directions", "degenerate goal", "not finite field", "negative weight",
    "degenerate metric", "breakpoints out of order", "unknown value", "out of range",
    "invalid timeline field"), "none")
"""Stored errors (NULL: none; rows with an error are never written by the job)."""
_RESULT_CHOICES: Final[dict[str, list[tuple[Any, str]]]] = {
    "error": ERROR_CHOICES, "trend": TREND_CHOICES, "stale": STALE_CHOICES,
    "rule": RULE_CHOICES, "mode": RESULT_MODE_CHOICES, "range_status": COLOUR_CHOICES,
    "colour": COLOUR_CHOICES, "pace_colour": COLOUR_CHOICES, "forecast_colour": COLOUR_CHOICES,
    "computed_colour": COLOUR_CHOICES, "grade_band": COLOUR_CHOICES,
}
"""The choices of every coded result column: the names of
:data:`okrcore.codes.RESULT_CODE_NAMES` (what :mod:`okrcore_sqlalchemy.storage` writes)."""


def _model(owner: Any, role: str) -> Any:
    return apps.get_model((owner.okrcore_models or models_setting())[role])


def _change_model(owner: Any) -> Any:
    """The model of the role ``change`` (``None``: the product keeps no change log)."""
    label = (owner.okrcore_models or models_setting()).get("change")
    return None if label is None else apps.get_model(label)


_Entry: TypeAlias = tuple[Any, Any, Any, bool]
"""A change-log row: ``(kr_id, objective_id, person_id, structural)``."""

_QUIET: Final = ContextVar("okrcore_django_quiet", default=False)
"""Set while ``bulk_update`` runs its own ``update()`` calls (recorded once, by itself)."""

_CHUNK: Final = 500
"""Keys per ``IN (...)`` list (SQLite limits the parameters of one statement)."""


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    return (values[i:i + _CHUNK] for i in range(0, len(values), _CHUNK))


def _values_by_pk(model: Any, using: str, pks: Sequence[Any]) -> dict[Any, dict[str, Any]]:
    """The stored watched values of some rows, by primary key (locked on PostgreSQL)."""
    out: dict[Any, dict[str, Any]] = {}
    for chunk in _chunks(pks):
        query = (model._base_manager.using(using).select_for_update().filter(pk__in=chunk)
                 .order_by("pk"))
        out.update((row["pk"], row) for row in query.values("pk", *model._okrcore_watched))
    return out


def _old_rows(queryset: Any, model: Any) -> list[dict[str, Any]]:
    """The stored watched values of a queryset's rows (locked on PostgreSQL)."""
    query = queryset.order_by("pk").select_for_update()
    return list(query.values("pk", *model._okrcore_watched))


def _base_update(model: Any, using: str, pks: Sequence[Any], **values: Any) -> None:
    """``UPDATE`` some rows by primary key, without recording (the base manager)."""
    for chunk in _chunks(list(pks)):
        model._base_manager.using(using).filter(pk__in=chunk).update(**values)


def _distinct(values: Iterable[Any]) -> list[Any]:
    return [v for v in dict.fromkeys(values) if v is not None]


def _values_of(item: Any, names: Sequence[str]) -> dict[str, Any]:
    """An instance's watched values as its model field converts them, with ``pk``."""
    meta = type(item)._meta
    return {**{n: cast(Any, meta.get_field(n)).to_python(getattr(item, n)) for n in names},
            "pk": item.pk}


def _written(model: Any, using: str,
             pairs: Sequence[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]],
             structural: bool = False) -> None:
    """After a write of rows from old to new values (None: absent): versions and change log.

    A check-in, owner or checkpoint bumps the version of its key results (old and new); the
    change rows are those of each model's ``_okrcore_changes`` (the rules of the SQLAlchemy
    flush hook), without rows naming nothing, each distinct row once per write.
    """
    entries: dict[_Entry, None] = {}
    for old, new in pairs:
        if old is not None or new is not None:
            for entry in model._okrcore_changes(old, new):
                if entry[3] or any(key is not None for key in entry[:3]):
                    entries.setdefault(entry)
    if structural:
        entries.setdefault((None, None, None, True))
    if issubclass(model, _TouchesKeyResult):
        touched = _distinct(kr for kr, _, _, _ in entries)
        _base_update(_model(model, "key_result"), using, touched, version=F("version") + 1)
    change = _change_model(model)
    if change is not None and entries:
        record_changes(change, using, entries)


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
    # check-in instants are DateTimeFields: compare them with the as-of datetime as a parameter,
    # in UTC (Django stores UTC; SQLite compares the text, which must not carry another offset)
    parts = sql.split(str(marker))
    moment = None if as_of is None else as_of.astimezone(UTC)
    return RawSQL("%s".join(parts), (moment,) * (len(parts) - 1),
                  output_field=models.FloatField())


class RecordingQuerySet(models.QuerySet[Any]):
    """A queryset of input rows whose bulk writes bump versions and record the change log.

    ``update()``, ``delete()``, ``bulk_create()`` and ``bulk_update()`` do what ``save()`` and
    ``delete()`` of one row do (:class:`ChangeBase`): in the same transaction they read the old
    values of the rows they change, bump the versions and record the change rows.
    """

    def update(self, **kwargs: Any) -> int:
        """``QuerySet.update``; also bumps versions and records the changed rows."""
        model = self.model
        if _QUIET.get():  # the UPDATE of bulk_update, which records for itself
            return models.QuerySet.update(self, **kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            old = _old_rows(self, model)
            if issubclass(model, _Versioned) and "version" not in kwargs:
                kwargs["version"] = F("version") + 1
            count = models.QuerySet.update(self, **kwargs)
            watched = set(model._okrcore_watched)
            if not watched & set(kwargs):
                new = old
            elif any(hasattr(kwargs[n], "resolve_expression") for n in watched & set(kwargs)):
                fresh = _values_by_pk(model, self.db, [row["pk"] for row in old])
                new = [fresh.get(row["pk"], row) for row in old]
            else:
                new = [{**row, **{n: kwargs[n] for n in watched & set(kwargs)}} for row in old]
            _written(model, self.db, list(zip(old, new, strict=True)))
        return count

    def delete(self) -> tuple[int, dict[str, int]]:
        """``QuerySet.delete``; also bumps versions and records the deleted rows."""
        model = self.model
        with transaction.atomic(using=self.db, savepoint=False):
            old = _old_rows(self, model)
            out = models.QuerySet.delete(self)
            _written(model, self.db, [(row, None) for row in old])
        return out

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        """``QuerySet.bulk_create``; also bumps versions and records the inserted rows.

        With ``update_conflicts=True`` a conflicting row is an update whose old values are read
        first when the conflict is on the primary key; on other unique fields, a ``structural``
        row is recorded instead (the next incremental run recomputes everything).
        """
        model = self.model
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            upsert = bool(kwargs.get("update_conflicts"))
            unique = set(kwargs.get("unique_fields") or ())
            on_pk = unique <= {"pk", model._meta.pk.name, model._meta.pk.attname}
            old: dict[Any, dict[str, Any]] = {}
            if upsert and on_pk:
                old = _values_by_pk(model, self.db, [o.pk for o in objs if o.pk is not None])
            created = models.QuerySet.bulk_create(self, objs, *args, **kwargs)
            pairs = [(old.get(o.pk), _values_of(o, model._okrcore_watched)) for o in objs]
            _written(model, self.db, pairs, structural=upsert and not on_pk)
        return created

    def bulk_update(self, objs: Iterable[Any], fields: Iterable[str],
                    batch_size: int | None = None) -> int:
        """``QuerySet.bulk_update``; also bumps versions and records the updated rows."""
        model = self.model
        objs, fields = list(objs), list(fields)
        with transaction.atomic(using=self.db, savepoint=False):
            old = _values_by_pk(model, self.db, [o.pk for o in objs])
            quiet = _QUIET.set(True)
            try:
                count = models.QuerySet.bulk_update(self, objs, fields, batch_size)
            finally:
                _QUIET.reset(quiet)
            named = {cast(Any, model._meta.get_field(f)).attname for f in fields}
            pairs = []
            for o in objs:
                before = old.get(o.pk)
                if before is not None:
                    after = _values_of(o, model._okrcore_watched)
                    pairs.append((before, {n: after[n] if n in named else before[n]
                                           for n in (*model._okrcore_watched, "pk")}))
            if issubclass(model, _Versioned):
                _base_update(model, self.db, list(old), version=F("version") + 1)
            _written(model, self.db, pairs)
        return count


class KeyResultQuerySet(RecordingQuerySet):
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


class ChangeBase(models.Model):
    """One entry of the change log: what a write changed, for ``okrcore_recompute --incremental``.

    Every write through the models of :mod:`okrcore_django.models` (``save()``, ``delete()``
    and the bulk methods of :class:`RecordingQuerySet`) records rows in the same transaction,
    by the rules of the SQLAlchemy adapter's flush hook (``docs/adapters-django.rst``).  A
    writer that cannot name what it changed inserts a row with ``structural=True``: the next
    incremental run then recomputes everything.  Name the concrete model as the role
    ``change`` (``OKRCORE_MODELS`` or ``okrcore_models``); without it nothing is recorded.

    Notes
    -----
    ``kr_id``, ``objective_id`` and ``person_id`` hold keys of the key result, objective and
    person roles (give them the same field type as those models' primary keys); ``id`` orders
    the rows as they were recorded.
    """

    id: _BigAuto = models.BigAutoField(primary_key=True)
    kr_id: _NStr = models.CharField(max_length=ID_LENGTH, null=True, blank=True)
    objective_id: _NStr = models.CharField(max_length=ID_LENGTH, null=True, blank=True)
    person_id: _NStr = models.CharField(max_length=ID_LENGTH, null=True, blank=True)
    structural: _Bool = models.BooleanField(default=False)

    class Meta:
        abstract = True


class _Recorded(models.Model):
    """An input row whose writes bump versions and record the change log."""

    okrcore_models: ClassVar[dict[str, str]] = {}
    _okrcore_watched: ClassVar[tuple[str, ...]] = ()
    """The fields (attnames) whose old values the change rows need."""

    objects = RecordingQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def _okrcore_changes(cls, old: Mapping[str, Any] | None,
                         new: Mapping[str, Any] | None) -> list[_Entry]:
        """The change rows of a write from ``old`` to ``new`` (None: absent), in order.

        Every base of an input role (objective, key result, check-in, owner, checkpoint)
        defines it; Django models cannot take ``abc.ABC``'s metaclass, so a model deriving
        from ``_Recorded`` directly is refused loudly here rather than recording nothing.
        """
        raise TypeError(f"{cls.__name__} records no change rows: derive it from one of "
                        "okrcore_django's input bases (ObjectiveBase, KeyResultBase, ...)")

    def _okrcore_old(self, using: str, force_insert: Any) -> dict[str, Any] | None:
        """The stored row before this write (locked on PostgreSQL); ``None`` for an insert."""
        if self.pk is None or force_insert:
            return None
        return _values_by_pk(type(self), using, [self.pk]).get(self.pk)

    def _okrcore_new(self, old: Mapping[str, Any] | None,
                     update_fields: Iterable[str] | None) -> dict[str, Any]:
        """The watched values as saved (those not in ``update_fields`` stay as stored)."""
        meta = type(self)._meta
        named = (None if update_fields is None or old is None
                 else {cast(Any, meta.get_field(f)).attname for f in update_fields})
        new = {}
        for name in self._okrcore_watched:
            if named is None or name in named:
                new[name] = cast(Any, meta.get_field(name)).to_python(getattr(self, name))
            else:
                assert old is not None
                new[name] = old[name]
        return {**new, "pk": self.pk}

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save; bumps versions and records the change log in the same transaction."""
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = list(kwargs["update_fields"])
            if not kwargs["update_fields"]:  # Django saves nothing
                super().save(*args, **kwargs)
                return
        with transaction.atomic(using=using, savepoint=False):
            old = self._okrcore_old(using, kwargs.get("force_insert"))
            if old is not None:
                self._okrcore_updating(kwargs)
            super().save(*args, **kwargs)
            new = self._okrcore_new(old, kwargs.get("update_fields"))
            _written(type(self), using, [(old, new)])

    def _okrcore_updating(self, kwargs: dict[str, Any]) -> None:
        """Called before ``save()`` updates a stored row (``kwargs``: those of ``save``)."""

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        """Delete; bumps versions and records the change log in the same transaction."""
        using = (kwargs.get("using") or self._state.db
                 or router.db_for_write(type(self), instance=self))
        with transaction.atomic(using=using, savepoint=False):
            old = _values_by_pk(type(self), using, [self.pk]).get(self.pk)
            out = super().delete(*args, **kwargs)
            if old is not None:
                _written(type(self), using, [(old, None)])
        return out


class _Versioned(_Recorded):
    version: _Big = models.BigIntegerField(default=1)

    class Meta:
        abstract = True

    def _okrcore_updating(self, kwargs: dict[str, Any]) -> None:
        """An update bumps ``version`` (so a running recompute does not overwrite)."""
        self.version = F("version") + 1  # type: ignore[assignment]
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "version"}

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save (see :class:`_Recorded`); ``version`` is read back after an update."""
        super().save(*args, **kwargs)
        if not isinstance(self.version, int):
            self.refresh_from_db(fields=["version"])


class ObjectiveBase(_Versioned):
    """An objective (columns of :data:`okrcore.rows.OBJECTIVE_COLUMNS`)."""

    _okrcore_watched: ClassVar[tuple[str, ...]] = ("parent_id", "owner_id", "position",
                                                   "ps_unit")

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

    @classmethod
    def _okrcore_changes(cls, old: Mapping[str, Any] | None,
                         new: Mapping[str, Any] | None) -> list[_Entry]:
        """O (structural when inserted, deleted, moved in order or given another ``ps_unit``).

        Also the parent when inserted or deleted, the old parent when it changed, and the owner
        when inserted or deleted, the old and the new owner when it changed.
        """
        if old is None or new is None:
            row = new if new is not None else old
            assert row is not None
            return [(None, row["pk"], None, True), (None, row["parent_id"], None, False),
                    (None, None, row["owner_id"], False)]
        structural = (old["position"] != new["position"]
                      or old["ps_unit"] != new["ps_unit"])
        out: list[_Entry] = [(None, new["pk"], None, structural)]
        if old["parent_id"] != new["parent_id"]:
            out.append((None, old["parent_id"], None, False))
        if old["owner_id"] != new["owner_id"]:
            out += [(None, None, old["owner_id"], False), (None, None, new["owner_id"], False)]
        return out


class KeyResultBase(_Versioned):
    """A key result of any kind (columns of :data:`okrcore.rows.KEY_RESULT_COLUMNS`)."""

    okrcore_models: ClassVar[dict[str, str]] = {}
    _okrcore_watched: ClassVar[tuple[str, ...]] = ("objective_id", "unit", "position")

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

    @classmethod
    def _okrcore_changes(cls, old: Mapping[str, Any] | None,
                         new: Mapping[str, Any] | None) -> list[_Entry]:
        """K, and its objective when inserted or deleted, the old and new one when moved.

        Structural when a key result with a unit is inserted, deleted, moved or given another
        position, or when its unit changes.
        """
        if old is None or new is None:
            row = new if new is not None else old
            assert row is not None
            unit = bool(row["unit"])
            return [(row["pk"], None, None, unit), (None, row["objective_id"], None, unit)]
        moved = old["objective_id"] != new["objective_id"]
        units = (old["unit"] or "", new["unit"] or "")
        structural = (units[0] != units[1]
                      or (any(units) and (moved or old["position"] != new["position"])))
        out: list[_Entry] = [(new["pk"], None, None, structural)]
        if moved:
            out += [(None, old["objective_id"], None, False),
                    (None, new["objective_id"], None, False)]
        return out


class _TouchesKeyResult(_Recorded):
    """A row whose change is a change of its key result (bumps the key result's version)."""

    _okrcore_watched: ClassVar[tuple[str, ...]] = ("kr_id",)
    kr_id: _Str = models.CharField(max_length=ID_LENGTH, db_index=True)

    class Meta:
        abstract = True

    @classmethod
    def _okrcore_changes(cls, old: Mapping[str, Any] | None,
                         new: Mapping[str, Any] | None) -> list[_Entry]:
        """The old and the new key result."""
        return [(r["kr_id"], None, None, False) for r in (old, new) if r is not None]


class KrOwnerBase(_TouchesKeyResult):
    """One owner of a key result."""

    _okrcore_watched: ClassVar[tuple[str, ...]] = ("kr_id", "person_id")

    position: _Int = models.IntegerField(default=0)
    person_id: _Str = models.CharField(max_length=ID_LENGTH, db_index=True)

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["kr_id", "position"],
                                               name="%(app_label)s_%(class)s_key")]

    @classmethod
    def _okrcore_changes(cls, old: Mapping[str, Any] | None,
                         new: Mapping[str, Any] | None) -> list[_Entry]:
        """The old and the new key result, each with its person."""
        return [(r["kr_id"], None, r["person_id"], False) for r in (old, new) if r is not None]


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
    if choices is not None:  # a readable name; NULL: none (mode and rule always have one)
        if choices[0][0] is None:
            return models.CharField(max_length=NAME_LENGTH, null=True, blank=True,
                                    choices=choices)
        return models.CharField(max_length=NAME_LENGTH, choices=choices)
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
