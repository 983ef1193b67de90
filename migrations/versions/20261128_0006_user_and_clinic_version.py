"""Users and clinics carry a version, for ETags and If-Match as clinical records do.

A clinic's settings (PAR threshold, overdue interval, marker size) can now be
changed after it is created, by its clinic_admin.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("version")
