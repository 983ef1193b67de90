"""Wounds keep their earlier healings; assessments are indexed in reading order.

When a healed wound is reopened (an open measurement after its healed date,
or an amendment to status open) its healed date moves into ``closures``, so
the trajectory still sees the episode it ended.

Every trajectory reads a wound's assessments by time, then creation order
(two at one instant), then id: ix_assessments_wound_time gains created_at and
id so that order comes from the index, without a sort.

Revision ID: 0011
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("wounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closures", sa.JSON(), nullable=True))
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_wound_time")
        batch_op.create_index(
            "ix_assessments_wound_time",
            ["wound_id", "assessed_at", "created_at", "id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_wound_time")
        batch_op.create_index(
            "ix_assessments_wound_time", ["wound_id", "assessed_at"], unique=False
        )
    with op.batch_alter_table("wounds", schema=None) as batch_op:
        batch_op.drop_column("closures")
