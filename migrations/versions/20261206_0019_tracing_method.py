"""A tracing records how its points were made, and the tap that started a proposal.

``tracing_method``: manual, or the outline proposal's method (grabcut,
random_walker) when the nurse accepted one; ``tracing_seed``: [x, y] of the tap.
Older tracings keep null in both: how they were made was not recorded.

Revision ID: 0019
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracing_method", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("tracing_seed", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("tracing_seed")
        batch_op.drop_column("tracing_method")
