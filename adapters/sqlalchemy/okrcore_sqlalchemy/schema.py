"""The reference schema as typed declarative mixins, and the concrete reference models.

A product puts the mixins on its own declarative models (any table names; the column names are
fixed) and passes a :class:`Schema` naming its classes to the job; the demo and the tests use
the reference models of this module (tables ``okrcore_*``).  Instants are timezone-aware
datetimes through the :class:`Instant` type (``timestamp with time zone`` on PostgreSQL, integer
µs since the Unix epoch, UTC, on SQLite); coded result columns hold readable names
(:data:`okrcore.codes.RESULT_CODE_NAMES`, a ``VARCHAR`` with a ``CHECK`` of its names).  Foreign
keys are left to the product (the job never relies on them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Final

import attrs
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    Dialect,
    Double,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    event,
    false,
    insert,
    inspect,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    MappedColumn,
    Session,
    mapped_column,
    object_session,
)
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeDecorator

import okrcore
from okrcore import rows
from okrcore.batch.frame import NONE_INSTANT
from okrcore.policy import Policy
from okrcore_sqlalchemy.storage import CODED_COLUMNS, COLOUR_COLUMNS, coded_type

__all__ = [
    "CODED_COLUMNS",
    "COLOUR_COLUMNS",
    "REFERENCE",
    "Base",
    "Change",
    "ChangeMixin",
    "CheckIn",
    "CheckInMixin",
    "Checkpoint",
    "CheckpointMixin",
    "Instant",
    "KeyResult",
    "KeyResultMixin",
    "KeyResultResult",
    "KeyResultResultMixin",
    "KeyTypeError",
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
    "Timestamp",
    "add_check_in",
    "key_type_name",
    "progress_expression",
]

ID = String(200)
"""The default key type of every role (an application's own key type replaces it)."""

_REFERS: Final = "okrcore_refers_to"


def _key(role: str, **kwargs: Any) -> Any:
    """A column holding the key of another role: it takes that role's key type (see Schema)."""
    return mapped_column(ID, info={_REFERS: role}, **kwargs)


class KeyTypeError(TypeError):
    """A column refers to a role whose key has another type (a structured, loud error).

    Parameters
    ----------
    table, column : str
        The referring column.
    refers_to : str
        The role it refers to (``person``, ``objective``, ``key_result``).
    expected : str
        The key type of that role's table (Python type name: ``int``, ``str``, ``UUID``).
    found : str
        The referring column's type.
    """

    def __init__(self, table: str, column: str, refers_to: str, expected: str,
                 found: str) -> None:
        self.table, self.column, self.refers_to = table, column, refers_to
        self.expected, self.found = expected, found
        super().__init__(f"{table}.{column} holds keys of type {found} but refers to the "
                         f"{refers_to} table, whose key type is {expected}: declare it with the "
                         f"same type (or leave the mixin's column as it is to adopt it)")

    def to_json(self) -> dict[str, str]:
        """``{code, table, column, refers_to, expected, found, message}``."""
        return {"code": "key_type_mismatch", "table": self.table, "column": self.column,
                "refers_to": self.refers_to, "expected": self.expected, "found": self.found,
                "message": str(self)}


def key_type_name(column: Any) -> str:
    """The Python type a column's values have (``int``, ``str``, ``UUID``...), by its SQL type."""
    try:
        python_type: type = column.type.python_type
    except NotImplementedError:  # pragma: no cover - exotic types
        return type(column.type).__name__
    return python_type.__name__


def _aware(moment: datetime) -> datetime:
    """A datetime read from a driver as an aware UTC datetime (a naive one is UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class Instant(TypeDecorator[datetime]):
    """An aware datetime: ``timestamp with time zone`` on PostgreSQL, integer µs on SQLite.

    SQLite has no timestamp type: there the instant is stored as an integer [µs since the Unix
    epoch, UTC], exact to the microsecond, sorted and indexed as a number.  Binds a datetime
    (or an integer [µs]); reads an aware UTC datetime on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """``BIGINT`` on SQLite, ``timestamp with time zone`` elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Datetime (or an already converted integer [µs]) to the stored form."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            return value if isinstance(value, int) else rows.to_instant(value)
        moment = rows.from_instant(value) if isinstance(value, int) else value
        assert moment is not None
        if moment.tzinfo is None:
            raise ValueError(f"instant {moment.isoformat()!r} has no timezone: "
                             "pass an aware datetime")
        return moment.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """The stored form to an aware UTC datetime (the engine's "no instant" to None)."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return _aware(value)
        return None if value == NONE_INSTANT else rows.from_instant(value)


def _django_text(moment: datetime) -> str:
    """An instant as Django's SQLite backend stores a datetime (naive UTC, µs only if any)."""
    return str(moment.astimezone(UTC).replace(tzinfo=None))


class Timestamp(TypeDecorator[datetime]):
    """An aware datetime stored as a timestamp: ``timestamptz`` on PostgreSQL, UTC text on SQLite.

    The storage of Django's ``DateTimeField`` (``USE_TZ = True``); binds a datetime or an
    integer [µs since the Unix epoch, UTC].  The bulk job reads and writes such columns as µs.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """Text on SQLite (as Django writes it), ``timestamp with time zone`` elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """µs or a datetime to the stored form."""
        if value is None:
            return None
        moment = rows.from_instant(value) if isinstance(value, int) else value
        assert moment is not None
        return _django_text(moment) if dialect.name == "sqlite" else moment.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """The stored form to an aware UTC datetime."""
        if value is None:
            return None
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return _aware(moment)

    def storage(self, micros: int | None, dialect_name: str) -> str | None:
        """The stored text of an instant [µs] (a driver-level literal; ``None`` kept)."""
        moment = rows.from_instant(micros)
        if moment is None:
            return None
        return _django_text(moment) if dialect_name == "sqlite" else moment.isoformat()


def _micros(value: Any) -> int:
    """A stored instant as read by a driver (µs, an aware datetime or Django's text) to µs."""
    if isinstance(value, str):
        value = _aware(datetime.fromisoformat(value))
    if isinstance(value, datetime):
        return rows.to_instant(_aware(value)) or 0
    return int(value)


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
    owner_id: Mapped[Any] = _key("person", index=True, nullable=True)
    parent_id: Mapped[Any] = _key("objective", index=True, nullable=True)
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
                               None if as_of is None else _AS_OF_MARKER)
    if as_of is None:
        return literal_column(sql, Double())
    # the check-ins' ``at`` is compared with the as-of instant bound in the column's own type
    # (a timestamp on PostgreSQL, µs on SQLite, or an application's own datetime column)
    at_type = cls.__table__.metadata.tables[cls.__okrcore_check_ins__].c["at"].type \
        if cls.__okrcore_check_ins__ in cls.__table__.metadata.tables else Instant()
    return _WithInstant(sql.split(str(_AS_OF_MARKER)), literal(as_of, at_type))


_AS_OF_MARKER: Final = -7_777_777_777_777_777
"""An instant no one stores, replaced by the as-of literal in :func:`progress_expression`."""


class _WithInstant(ColumnElement[float]):
    """SQL text whose gaps are filled with one bound instant (compiled per dialect)."""

    type = Double()
    inherit_cache = False

    def __init__(self, parts: list[str], instant: ColumnElement[Any]) -> None:
        self.parts, self.instant = parts, instant


@compiles(_WithInstant)
def _with_instant(element: _WithInstant, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.instant, **kw)
    return "(" + value.join(element.parts) + ")"


class KeyResultMixin:
    """A key result of any kind (see :data:`okrcore.rows.KEY_RESULT_COLUMNS`).

    ``progress`` is a hybrid property: on an instance it asks the core; in a query it is the
    SQL expression :func:`progress_expression` (all check-ins count), so a query can filter and
    sort on progress in the database.
    """

    __okrcore_check_ins__: ClassVar[str] = "okrcore_check_ins"
    __okrcore_checkpoints__: ClassVar[str] = "okrcore_checkpoints"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    objective_id: Mapped[Any] = _key("objective", index=True)
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
            key = bindparam("i", self.id, type_=self.__table__.c.id.type)  # type: ignore[attr-defined]
            history = [(_micros(r[0]), float(r[1])) for r in session.execute(text(
                f"SELECT {q}at{q}, {q}value{q} FROM {q}{self.__okrcore_check_ins__}{q} "
                f"WHERE kr_id = :i ORDER BY {q}at{q}, seq").bindparams(key))]
            points = [(str(r[0]), bool(r[1])) for r in session.execute(text(
                f"SELECT name, done FROM {q}{self.__okrcore_checkpoints__}{q} "
                "WHERE kr_id = :i ORDER BY position").bindparams(key))]
        row = {c: getattr(self, c) for c in rows.KEY_RESULT_COLUMNS}
        row["due_at"] = rows.to_instant(self.due_at)
        row["id"], row["objective_id"] = str(self.id), str(self.objective_id)  # the core's ids
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

    kr_id: Mapped[Any] = _key("key_result", primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[Any] = _key("person", index=True)


class CheckpointMixin:
    """One named step of a checkpoint milestone."""

    __okrcore_key_results__: ClassVar[str] = "okrcore_key_results"

    kr_id: Mapped[Any] = _key("key_result", primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(400))
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class CheckInMixin:
    """One entry of a key result's history (``seq`` orders entries of one instant)."""

    __okrcore_key_results__: ClassVar[str] = "okrcore_key_results"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    kr_id: Mapped[Any] = _key("key_result", index=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    at: Mapped[datetime] = mapped_column(Instant)
    value: Mapped[float] = mapped_column(Double)


class ChangeMixin:
    """One entry of the change log: what a writer changed, recorded in its own transaction.

    The flush hook writes these rows for ORM changes; writers that bypass the ORM insert them
    themselves (``docs/adapters-sqlalchemy.rst``, "Per-event updates").  The incremental
    recompute reads them, recomputes what they name and deletes exactly the rows it read.

    Columns: ``id`` (the order of recording), ``kr_id`` / ``objective_id`` / ``person_id`` (the
    key of a key result, objective or person whose results may have changed; each nullable, each
    of its role's key type) and ``structural`` (true: the next incremental run recomputes
    everything).
    """

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    kr_id: Mapped[Any] = _key("key_result", nullable=True)
    objective_id: Mapped[Any] = _key("objective", nullable=True)
    person_id: Mapped[Any] = _key("person", nullable=True)
    structural: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                             nullable=False)


class SnapshotMixin:
    """One computed snapshot: the as-of instant and the policy its results were computed for."""

    as_of: Mapped[datetime] = mapped_column(Instant, primary_key=True)
    policy: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(Instant)


def _result_columns(prefix: str, explicit: tuple[str, ...]) -> dict[str, MappedColumn[Any]]:
    """The result columns of :data:`okrcore.rows.RESULT_COLUMNS` not declared explicitly."""
    types: dict[str, Any] = {"float": Double, "int": BigInteger, "bool": Boolean}
    out = {}
    for name, kind in rows.RESULT_COLUMNS[prefix]:
        if name in explicit:
            continue
        if name == "last_at":  # an instant; NULL: no check-in
            out[name] = mapped_column(name, Instant(), nullable=True)
        elif name in CODED_COLUMNS:  # a readable name; NULL: none (no colour, no trend...)
            out[name] = mapped_column(name, coded_type(name),
                                      nullable=name not in ("mode", "rule"))
        else:  # NULL: an absent number
            out[name] = mapped_column(name, types[kind](), nullable=kind == "float")
    return out


class KeyResultResultMixin:
    """The stored result of a key result at one as-of instant (every batch result column)."""

    as_of: Mapped[datetime] = mapped_column(Instant, primary_key=True)
    kr_id: Mapped[Any] = _key("key_result", primary_key=True)
    input_version: Mapped[int] = mapped_column(BigInteger)
    progress: Mapped[float | None] = mapped_column(Double, index=True)
    colour: Mapped[str | None] = mapped_column(coded_type("colour"), nullable=True)
    locals().update(_result_columns("kr", ("progress", "colour")))


class ObjectiveResultMixin:
    """The stored result of an objective at one as-of instant (every batch result column)."""

    as_of: Mapped[datetime] = mapped_column(Instant, primary_key=True)
    objective_id: Mapped[Any] = _key("objective", primary_key=True)
    input_version: Mapped[int] = mapped_column(BigInteger)
    progress: Mapped[float | None] = mapped_column(Double, index=True)
    colour: Mapped[str | None] = mapped_column(coded_type("colour"), nullable=True)
    locals().update(_result_columns("obj", ("progress", "colour")))


class PersonResultMixin:
    """The stored result of a person at one as-of instant."""

    as_of: Mapped[datetime] = mapped_column(Instant, primary_key=True)
    person_id: Mapped[Any] = _key("person", primary_key=True)
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


class Change(ChangeMixin, Base):
    """Reference model of :class:`ChangeMixin`."""

    __tablename__ = "okrcore_changes"


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
    """The mapped classes the job reads and writes (a product passes its own).

    ``change`` is the change log (:class:`ChangeMixin`; ``None``: the product keeps none, and
    ``recompute(incremental=True)`` compares versions instead).  Creating a schema with a change
    log registers its input classes with the flush hook, which from then on records their
    changes in that log.
    """

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
    change: Any = None

    def table(self, name: str) -> Table:
        """The table of one role (``key_result``, ``kr_result``...)."""
        table: Table = getattr(self, name).__table__
        return table

    def __attrs_post_init__(self) -> None:
        """Give every column referring to a role that role's key type.

        A column the mixin declared (and the class left as it is) adopts the type of the
        ``id`` of the table it refers to, so an application's own integer, UUID or string keys
        work on every role without overriding the result mixins.

        Raises
        ------
        KeyTypeError
            A column declared by the application holds another key type than the ``id`` of
            the table it refers to.
        """
        adopt = []
        for (role, name), target in _DECLARED_REFERENCES.items():
            if getattr(self, role) is None:
                continue
            table = self.table(role)
            if name not in table.c:
                continue
            column, key = table.c[name], self.table(target).c["id"]
            if column.info.get(_REFERS) == target and column.type is ID:
                adopt.append((column, key.type))  # the mixin's default: adopt the key type
            elif key_type_name(column) != key_type_name(key):
                raise KeyTypeError(table.name, name, target, key_type_name(key),
                                   key_type_name(column))
        for column, kind in adopt:  # only once every column checked out
            column.type = kind
            column.__dict__.pop("comparator", None)
        if self.change is not None:
            for role in _LOGGED_ROLES:
                cls = getattr(self, role)
                if isinstance(cls, type):
                    _CHANGE_LOGS[cls] = self.table("change")
            if isinstance(self.key_result, type):
                _OWNERS[self.key_result] = self.table("kr_owner")

    @property
    def tables(self) -> list[Table]:
        """Every table, inputs first (the change log last, when there is one)."""
        return [self.table(f.name) for f in attrs.fields(Schema)
                if getattr(self, f.name) is not None]


_DECLARED_REFERENCES: Final = {
    ("objective", "owner_id"): "person", ("objective", "parent_id"): "objective",
    ("key_result", "objective_id"): "objective", ("kr_owner", "kr_id"): "key_result",
    ("kr_owner", "person_id"): "person", ("checkpoint", "kr_id"): "key_result",
    ("check_in", "kr_id"): "key_result", ("kr_result", "kr_id"): "key_result",
    ("objective_result", "objective_id"): "objective", ("person_result", "person_id"): "person",
    ("change", "kr_id"): "key_result", ("change", "objective_id"): "objective",
    ("change", "person_id"): "person",
}
"""Every column of a role that holds the key of another role."""

_LOGGED_ROLES: Final = ("objective", "key_result", "kr_owner", "checkpoint", "check_in")
"""The roles whose changes the flush hook records in the change log."""

_CHANGE_LOGS: dict[type, Table] = {}
"""The change log of each mapped input class (filled by :class:`Schema`)."""

_OWNERS: dict[type, Table] = {}
"""The owner table of each key result class with a change log (filled by :class:`Schema`)."""

REFERENCE = Schema(Person, Objective, KeyResult, KrOwner, Checkpoint, CheckIn, Snapshot,
                   KeyResultResult, ObjectiveResult, PersonResult, Change)
"""The reference models (tables ``okrcore_*``)."""


def add_check_in(session: Session, check_in_class: Any, kr_id: str, at: datetime,
                 value: float) -> Any:
    """Add a check-in to a key result; the flush bumps the key result's ``version``.

    Returns the new (pending) check-in; ``seq`` is set after the KR's existing entries.
    """
    q = '"'
    table = check_in_class.__table__.name
    key = bindparam("k", kr_id, type_=check_in_class.__table__.c.kr_id.type)
    seq = session.execute(text(f"SELECT COALESCE(MAX(seq) + 1, 0) FROM {q}{table}{q} "
                               "WHERE kr_id = :k").bindparams(key)).scalar()
    entry = check_in_class(kr_id=kr_id, seq=int(seq or 0), at=at, value=float(value))
    session.add(entry)
    return entry


@event.listens_for(Session, "before_flush")
def _bump_versions(session: Session, _context: Any, _instances: Any) -> None:
    """Every change of a key result, its check-ins, owners or checkpoints bumps its version.

    Also records the changes of the classes registered with a change log (see
    :class:`ChangeMixin` and :func:`_changes_of`), in the same transaction.
    """
    bumps: dict[str, set[Any]] = {}
    types: dict[str, Any] = {}
    logged: dict[Table, dict[tuple[Any, Any, Any, bool], None]] = {}
    for item in list(session.new) + list(session.deleted) + list(session.dirty):
        log = _change_log(type(item))
        if isinstance(item, CheckInMixin | KrOwnerMixin | CheckpointMixin):
            bumps.setdefault(item.__okrcore_key_results__, set()).add(item.kr_id)
            types[item.__okrcore_key_results__] = item.__table__.c.kr_id.type  # type: ignore
        elif (isinstance(item, KeyResultMixin | ObjectiveMixin) and item in session.dirty
              and session.is_modified(item, include_collections=False)):
            item.version = (item.version or 0) + 1
        if log is not None:
            rows = logged.setdefault(log, {})
            for row in _changes_of(session, item):
                if row[3] or any(key is not None for key in row[:3]):
                    rows.setdefault(row)
    for table, ids in bumps.items():
        session.execute(text(f'UPDATE "{table}" SET version = version + 1 WHERE id = :i')
                        .bindparams(bindparam("i", type_=types[table])),
                        [{"i": i} for i in sorted(ids, key=str)])
    for log, entries in logged.items():
        if entries:
            session.execute(insert(log), [
                {"kr_id": k, "objective_id": o, "person_id": p, "structural": s}
                for k, o, p, s in entries])


def _change_log(cls: type) -> Table | None:
    """The change log a mapped input class records into (``None``: none)."""
    for klass in cls.__mro__:
        log = _CHANGE_LOGS.get(klass)
        if log is not None:
            return log
    return None


def _old_new(item: Any, name: str) -> tuple[Any, Any]:
    """An attribute's committed value and its value now (attribute history)."""
    history = inspect(item).attrs[name].history
    now = getattr(item, name)
    if history.deleted:
        return history.deleted[0], now
    if history.unchanged:
        return history.unchanged[0], now
    return now, now


def _changes_of(session: Session, item: Any) -> list[tuple[Any, Any, Any, bool]]:
    """The change-log rows ``(kr_id, objective_id, person_id, structural)`` of one flushed item.

    The rules of ``docs/adapters-sqlalchemy.rst`` ("Per-event updates"): a key result, or one of
    its check-ins, owners or checkpoints, names the key result; a key result inserted, deleted
    or moved also names its old and new objective; an objective names itself, and its old parent
    when the parent changed; a changed owner names the old and the new owner.  ``structural`` is
    set for what renumbers stored results: an objective inserted, deleted, or given another
    position, key or progress-settings unit; a key result with a unit inserted, deleted, moved
    or given another position; a key result's unit or key changed.
    """
    new, deleted = item in session.new, item in session.deleted
    if isinstance(item, KeyResultMixin):
        (k0, k1), (o0, o1) = _old_new(item, "id"), _old_new(item, "objective_id")
        (u0, u1), (p0, p1) = _old_new(item, "unit"), _old_new(item, "position")
        if new or deleted:
            key, objective, unit = (k1, o1, u1) if new else (k0, o0, u0)
            out = [(key, None, None, bool(unit)), (None, objective, None, bool(unit))]
            owners = next((_OWNERS[k] for k in type(item).__mro__ if k in _OWNERS), None) \
                if deleted else None
            if owners is not None:  # a cascade in the database would delete them unseen
                out += [(None, None, person, False) for person in session.execute(
                    select(owners.c.person_id).where(owners.c.kr_id == key)).scalars()]
            return out
        moved = o0 != o1
        structural = (k0 != k1 or (u0 or "") != (u1 or "")
                      or (bool(u0 or u1) and (moved or p0 != p1)))
        out = [(k1, None, None, structural), (k0, None, None, structural)]
        if moved:
            out += [(None, o0, None, False), (None, o1, None, False)]
        return out
    if isinstance(item, ObjectiveMixin):
        (i0, i1), (parent0, parent1) = _old_new(item, "id"), _old_new(item, "parent_id")
        (w0, w1), (p0, p1) = _old_new(item, "owner_id"), _old_new(item, "position")
        ps0, ps1 = _old_new(item, "ps_unit")
        if new or deleted:
            ident, parent, owner = (i1, parent1, w1) if new else (i0, parent0, w0)
            return [(None, ident, None, True), (None, parent, None, False),
                    (None, None, owner, False)]
        structural = i0 != i1 or p0 != p1 or ps0 != ps1
        out = [(None, i1, None, structural), (None, i0, None, structural)]
        if parent0 != parent1:
            out.append((None, parent0, None, False))
        if w0 != w1:
            out += [(None, None, w0, False), (None, None, w1, False)]
        return out
    if isinstance(item, KrOwnerMixin):
        (k0, k1), (w0, w1) = _old_new(item, "kr_id"), _old_new(item, "person_id")
        if new:
            return [(k1, None, w1, False)]
        return [(k0, None, w0, False), (k1, None, w1, False)]
    if isinstance(item, CheckInMixin | CheckpointMixin):
        k0, k1 = _old_new(item, "kr_id")
        return [(k1, None, None, False)] if new else [(k0, None, None, False),
                                                       (k1, None, None, False)]
    return []
