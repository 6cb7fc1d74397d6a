"""The application's own types (issue 19): timestamps and readable result codes.

* PostgreSQL: every instant column (objectives ``start_at`` / ``due_at``, key results
  ``due_at``, check-ins ``at``, snapshots ``as_of`` / ``computed_at``, results ``as_of`` and
  ``last_at``) from BIGINT [µs since the Unix epoch, UTC] to ``timestamp with time zone``,
  converting the stored values exactly; the engine's "no instant" (the smallest BIGINT, written
  by early versions) becomes NULL.  SQLite keeps instants as integer µs (no change).
* Both: the coded result columns (colours, trend, stale, mode, rule, error) from integer codes
  to ``VARCHAR(32)`` holding their names, with a ``CHECK`` of the names; "none" codes become
  NULL (SQLite: the table is rebuilt in Alembic's batch mode).

The names are frozen here (a later change of a vocabulary is a later revision).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import sqlalchemy as sa
from alembic import op

from okrcore_sqlalchemy.storage import CodedName

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LENGTH: Final = 32
COLOURS: Final = ("green", "yellow", "red")
NAMES: Final[dict[str, tuple[str, ...]]] = {
    "colour": COLOURS, "pace_colour": COLOURS, "computed_colour": COLOURS,
    "forecast_colour": COLOURS, "range_status": COLOURS, "grade_band": COLOURS,
    "trend": ("progressed", "stalled", "regressed"),
    "stale": ("fresh", "stale"),
    "mode": ("auto", "mean", "sum"),
    "rule": ("explicit", "auto:progress_settings", "auto:same_unit", "auto:mixed", "children",
             "empty"),
    "error": ("none", "load", "duplicate_id", "depends_on_invalid", "invalid_timeline",
              "not_finite", "unknown_parent", "alignment_cycle", "no_contributing_metric",
              "no_sum_unit", "mixed_directions", "degenerate_goal", "field_not_finite",
              "field_negative_weight", "field_degenerate", "field_breakpoints",
              "field_unknown_value", "field_out_of_range", "field_timeline"),
}
"""Names by code (index); the "none" codes (-1; ``error`` 0) are NULL."""
NONE: Final = {"trend": -1, "stale": -1, "error": 0}
"""The integer stored for NULL by revision 0001 in its NOT NULL coded columns."""
CODED: Final = {
    "okrcore_kr_results": ("colour", "error", "pace_colour", "range_status", "trend", "stale",
                           "forecast_colour", "grade_band"),
    "okrcore_objective_results": ("colour", "error", "mode", "rule", "computed_colour", "trend",
                                  "stale", "forecast_colour", "grade_band"),
}
"""The coded columns of each result table, in table order."""
NOT_NULL: Final = frozenset({"mode", "rule"})
"""Coded columns without a "none" (NOT NULL at both revisions)."""
INSTANTS: Final = {
    "okrcore_objectives": ("start_at", "due_at"),
    "okrcore_key_results": ("due_at",),
    "okrcore_check_ins": ("at",),
    "okrcore_snapshots": ("as_of", "computed_at"),
    "okrcore_kr_results": ("as_of", "last_at"),
    "okrcore_objective_results": ("as_of",),
    "okrcore_person_results": ("as_of",),
}
"""The instant columns of each table."""
NO_INSTANT: Final = -(2**63)
SNAPSHOT_SEQUENCE: Final = "okrcore_snapshots_as_of_seq"
"""Revision 0001 made ``okrcore_snapshots.as_of`` a BIGSERIAL on PostgreSQL."""


def _names(column: str) -> dict[int, str]:
    return {code: name for code, name in enumerate(NAMES[column])
            if not (column == "error" and code == 0)}


def _to_names(column: str) -> str:
    whens = " ".join(f"WHEN {code} THEN '{name}'" for code, name in _names(column).items())
    return f'CASE "{column}" {whens} END'


def _to_codes(column: str) -> str:
    whens = " ".join(f"WHEN '{name}' THEN {code}" for code, name in _names(column).items())
    default = NONE.get(column)
    return f'CASE "{column}" {whens} ELSE {"NULL" if default is None else default} END'


def _check(column: str) -> str:
    """The CHECK of :class:`~okrcore_sqlalchemy.storage.CodedName` (an OR of equalities)."""
    return " OR ".join(f"{column} = '{name}'" for name in _names(column).values())


def _coded_type(column: str) -> CodedName:
    return CodedName(*_names(column).values(), native_enum=False, create_constraint=True,
                     length=LENGTH, validate_strings=True)


def _nullable_before(column: str) -> bool:
    return column not in NOT_NULL and column not in NONE


def upgrade() -> None:
    """Convert instants (PostgreSQL) and coded result columns (both) with their data."""
    if op.get_bind().dialect.name == "postgresql":
        _instants_to_timestamps()
        _codes_pg(to_names=True)
    else:
        _codes_sqlite(to_names=True)


def downgrade() -> None:
    """Back to revision 0001: integer codes, BIGINT instants (their values kept)."""
    if op.get_bind().dialect.name == "postgresql":
        _codes_pg(to_names=False)
        _timestamps_to_instants()
    else:
        _codes_sqlite(to_names=False)


def _instants_to_timestamps() -> None:
    op.execute("ALTER TABLE okrcore_snapshots ALTER COLUMN as_of DROP DEFAULT")
    for table, columns in INSTANTS.items():
        for column in columns:
            micros = f'"{column}"'
            op.execute(
                f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE TIMESTAMP WITH TIME ZONE '
                f"USING (CASE WHEN {micros} = {NO_INSTANT} THEN NULL ELSE "
                f"TIMESTAMPTZ 'epoch' + ({micros} / 1000000) * INTERVAL '1 second' "
                f"+ ({micros} % 1000000) * INTERVAL '1 microsecond' END)")
    op.execute(f"DROP SEQUENCE IF EXISTS {SNAPSHOT_SEQUENCE}")


def _timestamps_to_instants() -> None:
    for table, columns in INSTANTS.items():
        for column in columns:
            op.execute(
                f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE BIGINT '
                f'USING CAST(EXTRACT(EPOCH FROM "{column}") * 1000000 AS BIGINT)')
    op.execute(f"CREATE SEQUENCE {SNAPSHOT_SEQUENCE} OWNED BY okrcore_snapshots.as_of")
    op.execute(f"ALTER TABLE okrcore_snapshots ALTER COLUMN as_of "
               f"SET DEFAULT nextval('{SNAPSHOT_SEQUENCE}')")


def _codes_pg(to_names: bool) -> None:
    for table, columns in CODED.items():
        for column in columns:
            check = f"{table}_{column}_check"
            if to_names:
                if column in NONE:
                    op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP NOT NULL')
                op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE '
                           f"VARCHAR({LENGTH}) USING ({_to_names(column)})")
                op.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{check}" '
                           f"CHECK ({_check(column)})")
            else:
                op.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{check}"')
                op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE BIGINT '
                           f"USING ({_to_codes(column)})")
                if column in NONE:
                    op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET NOT NULL')


def _codes_sqlite(to_names: bool) -> None:
    # integers without CHECK and NULL allowed first, then the values, then the final columns
    for table, columns in CODED.items():
        loose = {c: c not in NOT_NULL for c in columns}
        # (SQLite: a VARCHAR takes integers as text, which the final CAST turns back)
        _rebuild(table, columns, {c: sa.BigInteger() if to_names else sa.String(LENGTH)
                                  for c in columns}, loose)
        _update(table, columns, _to_names if to_names else _to_codes)
        if to_names:
            _rebuild(table, columns, {c: _coded_type(c) for c in columns}, loose)
        else:
            _rebuild(table, columns, {c: sa.BigInteger() for c in columns},
                     {c: _nullable_before(c) for c in columns})


def _update(table: str, columns: Sequence[str], convert: Callable[[str], str]) -> None:
    op.execute(f'UPDATE "{table}" SET '
               + ", ".join(f'"{column}" = {convert(column)}' for column in columns))


def _rebuild(table: str, columns: Sequence[str], types: dict[str, sa.types.TypeEngine[Any]],
             nullable: dict[str, bool]) -> None:
    """Rebuild a SQLite table (Alembic's batch mode) with new types and nullability."""
    with op.batch_alter_table(table, recreate="always") as batch:
        for column in columns:
            batch.alter_column(column, type_=types[column], nullable=nullable[column])
