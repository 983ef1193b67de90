"""Clinics and users take a client id: a retried create is a replay.

create_hash fingerprints the create request (for a user, without the
password), so the same id with other content can be told apart (409).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("clinics", "users"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("create_hash", sa.String(length=64), nullable=True))


def downgrade():
    for table in ("users", "clinics"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("create_hash")
