"""okrcore on SQLAlchemy 2: the reference schema as typed declarative mixins, and a bulk job.

The job streams the stored organisation in columns into the batch engine, computes, and writes
the results back in one transaction (:func:`recompute`); :func:`store_document` and
:func:`load_document` map interchange documents to and from the tables.  Nothing here computes
progress itself: the one SQL expression of key result progress (``KeyResultMixin.progress``) is
tested equal to the core, which is the reference.  Install with
``pip install 'okrcore[sqlalchemy]'``; the Alembic migrations of the reference schema are in
:mod:`okrcore_sqlalchemy.migrations` (``pip install 'okrcore[migrations]'``).
"""

from __future__ import annotations

try:
    import sqlalchemy as _sqlalchemy  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "okrcore_sqlalchemy needs SQLAlchemy 2: pip install 'okrcore[sqlalchemy]'") from exc

from okrcore_sqlalchemy.job import (
    RecomputeReport,
    RowError,
    SourceError,
    StoreError,
    create_schema,
    load_document,
    load_evaluation,
    recompute,
    store_document,
)
from okrcore_sqlalchemy.schema import (
    CODED_COLUMNS,
    COLOUR_COLUMNS,
    REFERENCE,
    Base,
    Change,
    ChangeMixin,
    CheckIn,
    CheckInMixin,
    Checkpoint,
    CheckpointMixin,
    Instant,
    KeyResult,
    KeyResultMixin,
    KeyResultResult,
    KeyResultResultMixin,
    KeyTypeError,
    KrOwner,
    KrOwnerMixin,
    Objective,
    ObjectiveMixin,
    ObjectiveResult,
    ObjectiveResultMixin,
    Person,
    PersonMixin,
    PersonResult,
    PersonResultMixin,
    Schema,
    Snapshot,
    SnapshotMixin,
    Timestamp,
    add_check_in,
    key_type_name,
)

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
    "RecomputeReport",
    "RowError",
    "Schema",
    "Snapshot",
    "SnapshotMixin",
    "SourceError",
    "StoreError",
    "Timestamp",
    "add_check_in",
    "create_schema",
    "key_type_name",
    "load_document",
    "load_evaluation",
    "recompute",
    "store_document",
]
