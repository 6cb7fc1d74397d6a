"""The reference schema as okrcore made it before issue 19 (``create_schema`` at f7597a1).

Instants as BIGINT [µs since the Unix epoch, UTC], coded result columns as integer codes.  A
database made by ``create_schema`` before issue 19 is at this revision (stamp it, or let
:func:`okrcore_sqlalchemy.migrations.upgrade` do so).

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("okrcore_check_ins", "okrcore_checkpoints", "okrcore_key_results", "okrcore_kr_owners",
          "okrcore_kr_results", "okrcore_objective_results", "okrcore_objectives",
          "okrcore_people", "okrcore_person_results", "okrcore_snapshots")


def upgrade() -> None:
    """Create the tables of the reference schema (as of f7597a1)."""
    op.create_table('okrcore_check_ins',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('kr_id', sa.String(length=200), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('at', sa.BigInteger(), nullable=False),
        sa.Column('value', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_okrcore_check_ins_kr_id'), 'okrcore_check_ins', ['kr_id'])
    op.create_table('okrcore_checkpoints',
        sa.Column('kr_id', sa.String(length=200), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=400), nullable=False),
        sa.Column('done', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('kr_id', 'position')
    )
    op.create_table('okrcore_key_results',
        sa.Column('id', sa.String(length=200), nullable=False),
        sa.Column('objective_id', sa.String(length=200), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=400), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('start', sa.Double(), nullable=False),
        sa.Column('target', sa.Double(), nullable=True),
        sa.Column('current', sa.Double(), nullable=True),
        sa.Column('stages_total', sa.Integer(), nullable=True),
        sa.Column('unit', sa.String(length=100), nullable=False),
        sa.Column('range_mode', sa.String(length=20), nullable=True),
        sa.Column('red_low', sa.Double(), nullable=True),
        sa.Column('yellow_low', sa.Double(), nullable=True),
        sa.Column('yellow_high', sa.Double(), nullable=True),
        sa.Column('red_high', sa.Double(), nullable=True),
        sa.Column('due_at', sa.BigInteger(), nullable=True),
        sa.Column('weight', sa.Double(), nullable=False),
        sa.Column('has_history', sa.Boolean(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_okrcore_key_results_objective_id'), 'okrcore_key_results',
                    ['objective_id'])
    op.create_table('okrcore_kr_owners',
        sa.Column('kr_id', sa.String(length=200), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('kr_id', 'position')
    )
    op.create_index(op.f('ix_okrcore_kr_owners_person_id'), 'okrcore_kr_owners', ['person_id'])
    op.create_table('okrcore_kr_results',
        sa.Column('as_of', sa.BigInteger(), nullable=False),
        sa.Column('kr_id', sa.String(length=200), nullable=False),
        sa.Column('input_version', sa.BigInteger(), nullable=False),
        sa.Column('progress', sa.Double(), nullable=True),
        sa.Column('colour', sa.BigInteger(), nullable=True),
        sa.Column('error', sa.BigInteger(), nullable=False),
        sa.Column('error_ref', sa.BigInteger(), nullable=False),
        sa.Column('value', sa.Double(), nullable=True),
        sa.Column('raw', sa.Double(), nullable=True),
        sa.Column('expected', sa.Double(), nullable=True),
        sa.Column('pace_colour', sa.BigInteger(), nullable=True),
        sa.Column('range_status', sa.BigInteger(), nullable=True),
        sa.Column('contributes', sa.Boolean(), nullable=False),
        sa.Column('trend', sa.BigInteger(), nullable=False),
        sa.Column('stale', sa.BigInteger(), nullable=False),
        sa.Column('last_at', sa.BigInteger(), nullable=True),
        sa.Column('forecast_value', sa.Double(), nullable=True),
        sa.Column('forecast_progress', sa.Double(), nullable=True),
        sa.Column('forecast_colour', sa.BigInteger(), nullable=True),
        sa.Column('grade_score', sa.Double(), nullable=True),
        sa.Column('grade_band', sa.BigInteger(), nullable=True),
        sa.Column('grade_success', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('as_of', 'kr_id')
    )
    op.create_index(op.f('ix_okrcore_kr_results_progress'), 'okrcore_kr_results', ['progress'])
    op.create_table('okrcore_objective_results',
        sa.Column('as_of', sa.BigInteger(), nullable=False),
        sa.Column('objective_id', sa.String(length=200), nullable=False),
        sa.Column('input_version', sa.BigInteger(), nullable=False),
        sa.Column('progress', sa.Double(), nullable=True),
        sa.Column('colour', sa.BigInteger(), nullable=True),
        sa.Column('error', sa.BigInteger(), nullable=False),
        sa.Column('error_ref', sa.BigInteger(), nullable=False),
        sa.Column('mode', sa.BigInteger(), nullable=False),
        sa.Column('rule', sa.BigInteger(), nullable=False),
        sa.Column('raw', sa.Double(), nullable=True),
        sa.Column('expected', sa.Double(), nullable=True),
        sa.Column('computed_colour', sa.BigInteger(), nullable=True),
        sa.Column('trend', sa.BigInteger(), nullable=False),
        sa.Column('stale', sa.BigInteger(), nullable=False),
        sa.Column('forecast_progress', sa.Double(), nullable=True),
        sa.Column('forecast_colour', sa.BigInteger(), nullable=True),
        sa.Column('grade_score', sa.Double(), nullable=True),
        sa.Column('grade_band', sa.BigInteger(), nullable=True),
        sa.Column('grade_success', sa.Boolean(), nullable=False),
        sa.Column('sum_unit', sa.BigInteger(), nullable=False),
        sa.Column('sum_target', sa.Double(), nullable=True),
        sa.Column('sum_start', sa.Double(), nullable=True),
        sa.Column('sum_value', sa.Double(), nullable=True),
        sa.Column('sum_progress', sa.Double(), nullable=True),
        sa.Column('previous', sa.Double(), nullable=True),
        sa.Column('has_history', sa.Boolean(), nullable=False),
        sa.Column('parent', sa.BigInteger(), nullable=False),
        sa.Column('in_cycle', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('as_of', 'objective_id')
    )
    op.create_index(op.f('ix_okrcore_objective_results_progress'), 'okrcore_objective_results',
                    ['progress'])
    op.create_table('okrcore_objectives',
        sa.Column('id', sa.String(length=200), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=400), nullable=False),
        sa.Column('owner_id', sa.String(length=200), nullable=True),
        sa.Column('parent_id', sa.String(length=200), nullable=True),
        sa.Column('weight', sa.Double(), nullable=False),
        sa.Column('start_at', sa.BigInteger(), nullable=True),
        sa.Column('due_at', sa.BigInteger(), nullable=True),
        sa.Column('mode', sa.String(length=20), nullable=False),
        sa.Column('ambition', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=True),
        sa.Column('include_children', sa.Boolean(), nullable=False),
        sa.Column('ps_unit', sa.String(length=100), nullable=True),
        sa.Column('ps_target', sa.Double(), nullable=True),
        sa.Column('ps_auto', sa.Boolean(), nullable=False),
        sa.Column('ps_start', sa.Double(), nullable=True),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_okrcore_objectives_owner_id'), 'okrcore_objectives', ['owner_id'])
    op.create_index(op.f('ix_okrcore_objectives_parent_id'), 'okrcore_objectives', ['parent_id'])
    op.create_index(op.f('ix_okrcore_objectives_position'), 'okrcore_objectives', ['position'])
    op.create_table('okrcore_people',
        sa.Column('id', sa.String(length=200), nullable=False),
        sa.Column('name', sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_table('okrcore_person_results',
        sa.Column('as_of', sa.BigInteger(), nullable=False),
        sa.Column('person_id', sa.String(length=200), nullable=False),
        sa.Column('progress', sa.Double(), nullable=True),
        sa.Column('items', sa.BigInteger(), nullable=False),
        sa.Column('error_ref', sa.BigInteger(), nullable=False),
        sa.Column('seen', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('as_of', 'person_id')
    )
    op.create_table('okrcore_snapshots',
        sa.Column('as_of', sa.BigInteger(), nullable=False),
        sa.Column('policy', sa.Text(), nullable=False),
        sa.Column('computed_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('as_of')
    )


def downgrade() -> None:
    """Drop every table of the reference schema."""
    for table in reversed(TABLES):
        op.drop_table(table)
