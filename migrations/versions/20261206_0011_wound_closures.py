"""Wounds keep their earlier healings: each ends a healing episode.

When a healed wound is reopened (an open measurement after its healed date,
or an amendment to status open) its healed date moves into ``closures``, so
the trajectory still sees the episode it ended.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("wounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closures", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("wounds", schema=None) as batch_op:
        batch_op.drop_column("closures")
