"""The change log ``okrcore_changes`` (issue 19): what a writer changed, for incremental runs.

One row per recorded change, in the order of recording (``id``): the key result, objective
and/or person whose results may change, or ``structural`` for a change that needs a full
recompute.  See ``docs/adapters-sqlalchemy.rst`` for the rules a writer follows.

This table must equal the reference model ``Change`` (``ChangeMixin``): any index or column the
model declares is added here too (``tests/orm/test_sqla_migrations.py::test_head_equals_the_models``
compares the upgraded database with ``create_schema``'s, without autogenerate differences).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``okrcore_changes``."""
    op.create_table(
        "okrcore_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("kr_id", sa.String(length=200), nullable=True),
        sa.Column("objective_id", sa.String(length=200), nullable=True),
        sa.Column("person_id", sa.String(length=200), nullable=True),
        sa.Column("structural", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    """Drop ``okrcore_changes``."""
    op.drop_table("okrcore_changes")
