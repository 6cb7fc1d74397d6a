"""The reference schema as typed declarative mixins, and the concrete reference models.

A product puts the mixins on its own declarative models (any table names; the column names are
fixed) and passes a :class:`Schema` naming its classes to the job; the demo and the tests use
the reference models of this module (tables ``okrcore_*``).  Instants are stored as integers
[µs since the Unix epoch, UTC] through the :class:`Instant` type, so the bulk job reads them as
plain integers.  Foreign keys are left to the product (the job never relies on them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import attrs
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Dialect,
    Double,
    Integer,
    String,
    Table,
    Text,
    event,
    literal_column,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    MappedColumn,
    Session,
    mapped_column,
    object_session,
)
from sqlalchemy.types import TypeDecorator

import okrcore
from okrcore import rows
from okrcore.policy import Policy

__all__ = [
    "REFERENCE",
    "Base",
    "CheckIn",
    "CheckInMixin",
    "Checkpoint",
    "CheckpointMixin",
    "Instant",
    "KeyResult",
    "KeyResultMixin",
    "KeyResultResult",
    "KeyResultResultMixin",
    "KrOwner",
    "KrOwnerMixin",
    "Objective",
    "ObjectiveMixin",
    "ObjectiveResult",
    "ObjectiveResultMixin",
    "Person",
    "PersonMixin",
    "PersonResult",
    "PersonResultMixin",
    "Schema",
    "Snapshot",
    "SnapshotMixin",
    "add_check_in",
    "progress_expression",
]

ID = String(200)


class Instant(TypeDecorator[datetime]):
    """An aware datetime stored as BIGINT [µs since the Unix epoch, UTC]."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        """Datetime (or an already converted integer) to µs."""
        if value is None or isinstance(value, int):
            return value
        return rows.to_instant(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """µs to an aware UTC datetime."""
        return rows.from_instant(value)


class Base(DeclarativeBase):
    """The declarative base of the reference models."""


class PersonMixin:
    """A person (owner of objectives and key results)."""

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(400), default="")


class ObjectiveMixin:
    """An objective: owner, parent, timeline, rollup mode and progress settings.

    ``version`` goes up with every change (see :func:`add_check_in` and the flush hook).
    """

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0, index=True)
    name: Mapped[str] = mapped_column(String(400), default="")
    owner_id: Mapped[str | None] = mapped_column(ID, index=True)
    parent_id: Mapped[str | None] = mapped_column(ID, index=True)
    weight: Mapped[float] = mapped_column(Double, default=1.0)
    start_at: Mapped[datetime | None] = mapped_column(Instant)
    due_at: Mapped[datetime | None] = mapped_column(Instant)
    mode: Mapped[str] = mapped_column(String(20), default="auto")
    ambition: Mapped[str] = mapped_column(String(20), default="committed")
    status: Mapped[str | None] = mapped_column(String(20))
    include_children: Mapped[bool] = mapped_column(Boolean, default=False)
    ps_unit: Mapped[str | None] = mapped_column(String(100))
    ps_target: Mapped[float | None] = mapped_column(Double)
    ps_auto: Mapped[bool] = mapped_column(Boolean, default=False)
    ps_start: Mapped[float | None] = mapped_column(Double)
    version: Mapped[int] = mapped_column(BigInteger, default=1)


def progress_expression(cls: Any, policy: Policy | None = None,
                        as_of: datetime | None = None) -> ColumnElement[float]:
    """The SQL expression of a key result model's clamped progress [fraction].

    Parameters
    ----------
    cls : type
        A mapped class with :class:`KeyResultMixin`.
    policy : Policy, optional
        Cap and strict breakpoints (default the ``betterworks`` preset).
    as_of : datetime, optional
        Count only check-ins at or before this instant (default: all).

    Notes
    -----
    :func:`okrcore.rows.kr_progress_sql`; tested equal to :func:`okrcore.evaluate`.
    """
    sql = rows.kr_progress_sql(cls.__table__.name, cls.__okrcore_check_ins__,
                               cls.__okrcore_checkpoints__, policy,
                               None if as_of is None else rows.to_instant(as_of))
    return literal_column(sql, Double())


class KeyResultMixin:
    """A key result of any kind (see :data:`okrcore.rows.KEY_RESULT_COLUMNS`).

    ``progress`` is a hybrid property: on an instance it asks the core; in a query it is the
    SQL expression :func:`progress_expression` (all check-ins count), so a query can filter and
    sort on progress in the database.
    """

    __okrcore_check_ins__: ClassVar[str] = "okrcore_check_ins"
    __okrcore_checkpoints__: ClassVar[str] = "okrcore_checkpoints"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    objective_id: Mapped[str] = mapped_column(ID, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(400), default="")
    kind: Mapped[str] = mapped_column(String(20))
    start: Mapped[float] = mapped_column(Double, default=0.0)
    target: Mapped[float | None] = mapped_column(Double)
    current: Mapped[float | None] = mapped_column(Double)
    stages_total: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(100), default="")
    range_mode: Mapped[str | None] = mapped_column(String(20))
    red_low: Mapped[float | None] = mapped_column(Double)
    yellow_low: Mapped[float | None] = mapped_column(Double)
    yellow_high: Mapped[float | None] = mapped_column(Double)
    red_high: Mapped[float | None] = mapped_column(Double)
    due_at: Mapped[datetime | None] = mapped_column(Instant)
    weight: Mapped[float] = mapped_column(Double, default=1.0)
    has_history: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(BigInteger, default=1)

    def to_core(self, policy: Policy | None = None) -> okrcore.KeyResult:
        """Build the core key result of this row, with its check-ins and checkpoints (no owners).

        Raises
        ------
        OkrValueError
            The row does not make a valid key result.
        """
        session = object_session(self)
        history: list[tuple[int, float]] = []
        owners: list[str] = []
        points: list[tuple[str, bool]] = []
        if session is not None:
            q = '"'
            history = [(int(r[0]), float(r[1])) for r in session.execute(text(
                f"SELECT {q}at{q}, {q}value{q} FROM {q}{self.__okrcore_check_ins__}{q} "
                f"WHERE kr_id = :i ORDER BY {q}at{q}, seq"), {"i": self.id})]
            points = [(str(r[0]), bool(r[1])) for r in session.execute(text(
                f"SELECT name, done FROM {q}{self.__okrcore_checkpoints__}{q} "
                "WHERE kr_id = :i ORDER BY position"), {"i": self.id})]
        row = {c: getattr(self, c) for c in rows.KEY_RESULT_COLUMNS}
        row["due_at"] = rows.to_instant(self.due_at)
        return rows.key_result_from_row(row, history, owners, points)

    @hybrid_property
    def progress(self) -> float | None:
        """Clamped progress [fraction] with every check-in counted (the core computes it)."""
        try:
            kr = self.to_core()
        except okrcore.OkrValueError:
            return None
        instants = [c.at for c in kr.check_ins or ()]
        as_of = max([datetime.now(UTC), *instants])
        document = okrcore.Document(as_of=as_of, objectives=[okrcore.Objective(
            id="_", key_results=[kr])])
        return okrcore.evaluate(document).key_results[kr.id].progress

    @progress.inplace.expression
    @classmethod
    def _progress_expression(cls) -> ColumnElement[float]:
        return progress_expression(cls)


class KrOwnerMixin:
    """One owner of a key result (none: the objective's owner)."""

    __okrcore_key_results__: ClassVar[str] = "okrcore_key_results"

    kr_id: Mapped[str] = mapped_column(ID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, index=True)


class CheckpointMixin:
    """One named step of a checkpoint milestone."""

    __okrcore_key_results__: ClassVar[str] = "okrcore_key_results"

    kr_id: Mapped[str] = mapped_column(ID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(400))
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class CheckInMixin:
    """One entry of a key result's history (``seq`` orders entries of one instant)."""

    __okrcore_key_results__: ClassVar[str] = "okrcore_key_results"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    kr_id: Mapped[str] = mapped_column(ID, index=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    at: Mapped[datetime] = mapped_column(Instant)
    value: Mapped[float] = mapped_column(Double)


class SnapshotMixin:
    """One computed snapshot: the as-of instant and the policy its results were computed for."""

    as_of: Mapped[datetime] = mapped_column(Instant, primary_key=True)
    policy: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(Instant)


def _result_columns(prefix: str, explicit: tuple[str, ...]) -> dict[str, MappedColumn[Any]]:
    """The result columns of :data:`okrcore.rows.RESULT_COLUMNS` not declared explicitly."""
    types = {"float": Double, "int": BigInteger, "bool": Boolean}
    return {name: mapped_column(name, types[kind](), nullable=kind == "float")
            for name, kind in rows.RESULT_COLUMNS[prefix] if name not in explicit}


class KeyResultResultMixin:
    """The stored result of a key result at one as-of instant (every batch result column)."""

    as_of: Mapped[datetime] = mapped_column(Instant, primary_key=True)
    kr_id: Mapped[str] = mapped_column(ID, primary_key=True)
    input_version: Mapped[int] = mapped_column(BigInteger)
    progress: Mapped[float | None] = mapped_column(Double, index=True)
    colour: Mapped[int] = mapped_column(BigInteger)
    locals().update(_result_columns("kr", ("progress", "colour")))


class ObjectiveResultMixin:
    """The stored result of an objective at one as-of instant (every batch result column)."""

    as_of: Mapped[datetime] = mapped_column(Instant, primary_key=True)
    objective_id: Mapped[str] = mapped_column(ID, primary_key=True)
    input_version: Mapped[int] = mapped_column(BigInteger)
    progress: Mapped[float | None] = mapped_column(Double, index=True)
    colour: Mapped[int] = mapped_column(BigInteger)
    locals().update(_result_columns("obj", ("progress", "colour")))


class PersonResultMixin:
    """The stored result of a person at one as-of instant."""

    as_of: Mapped[datetime] = mapped_column(Instant, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, primary_key=True)
    progress: Mapped[float | None] = mapped_column(Double)
    locals().update(_result_columns("person", ("progress",)))


class Person(PersonMixin, Base):
    """Reference model of :class:`PersonMixin`."""

    __tablename__ = "okrcore_people"


class Objective(ObjectiveMixin, Base):
    """Reference model of :class:`ObjectiveMixin`."""

    __tablename__ = "okrcore_objectives"


class KeyResult(KeyResultMixin, Base):
    """Reference model of :class:`KeyResultMixin`."""

    __tablename__ = "okrcore_key_results"


class KrOwner(KrOwnerMixin, Base):
    """Reference model of :class:`KrOwnerMixin`."""

    __tablename__ = "okrcore_kr_owners"


class Checkpoint(CheckpointMixin, Base):
    """Reference model of :class:`CheckpointMixin`."""

    __tablename__ = "okrcore_checkpoints"


class CheckIn(CheckInMixin, Base):
    """Reference model of :class:`CheckInMixin`."""

    __tablename__ = "okrcore_check_ins"


class Snapshot(SnapshotMixin, Base):
    """Reference model of :class:`SnapshotMixin`."""

    __tablename__ = "okrcore_snapshots"


class KeyResultResult(KeyResultResultMixin, Base):
    """Reference model of :class:`KeyResultResultMixin`."""

    __tablename__ = "okrcore_kr_results"


class ObjectiveResult(ObjectiveResultMixin, Base):
    """Reference model of :class:`ObjectiveResultMixin`."""

    __tablename__ = "okrcore_objective_results"


class PersonResult(PersonResultMixin, Base):
    """Reference model of :class:`PersonResultMixin`."""

    __tablename__ = "okrcore_person_results"


@attrs.frozen
class Schema:
    """The mapped classes the job reads and writes (a product passes its own)."""

    person: Any
    objective: Any
    key_result: Any
    kr_owner: Any
    checkpoint: Any
    check_in: Any
    snapshot: Any
    kr_result: Any
    objective_result: Any
    person_result: Any

    def table(self, name: str) -> Table:
        """The table of one role (``key_result``, ``kr_result``...)."""
        table: Table = getattr(self, name).__table__
        return table

    @property
    def tables(self) -> list[Table]:
        """Every table, inputs first."""
        return [self.table(f.name) for f in attrs.fields(Schema)]


REFERENCE = Schema(Person, Objective, KeyResult, KrOwner, Checkpoint, CheckIn, Snapshot,
                   KeyResultResult, ObjectiveResult, PersonResult)
"""The reference models (tables ``okrcore_*``)."""


def add_check_in(session: Session, check_in_class: Any, kr_id: str, at: datetime,
                 value: float) -> Any:
    """Add a check-in to a key result; the flush bumps the key result's ``version``.

    Returns the new (pending) check-in; ``seq`` is set after the KR's existing entries.
    """
    q = '"'
    table = check_in_class.__table__.name
    seq = session.execute(text(f"SELECT COALESCE(MAX(seq) + 1, 0) FROM {q}{table}{q} "
                               "WHERE kr_id = :k"), {"k": kr_id}).scalar()
    entry = check_in_class(kr_id=kr_id, seq=int(seq or 0), at=at, value=float(value))
    session.add(entry)
    return entry


@event.listens_for(Session, "before_flush")
def _bump_versions(session: Session, _context: Any, _instances: Any) -> None:
    """Every change of a key result, its check-ins, owners or checkpoints bumps its version."""
    bumps: dict[str, set[str]] = {}
    for item in list(session.new) + list(session.deleted) + list(session.dirty):
        if isinstance(item, CheckInMixin | KrOwnerMixin | CheckpointMixin):
            bumps.setdefault(item.__okrcore_key_results__, set()).add(item.kr_id)
        elif (isinstance(item, KeyResultMixin | ObjectiveMixin) and item in session.dirty
              and session.is_modified(item, include_collections=False)):
            item.version = (item.version or 0) + 1
    for table, ids in bumps.items():
        session.execute(text(f'UPDATE "{table}" SET version = version + 1 WHERE id = :i'),
                        [{"i": i} for i in sorted(ids)])
