"""Research grants record when they last changed, for delta sync of their list.

Every list takes updated_since; a grant changes when it is revoked, so an
existing row's last change is its revocation, else its granting.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("research_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE research_grants SET updated_at = COALESCE(revoked_at, granted_at)")
    with op.batch_alter_table("research_grants", schema=None) as batch_op:
        batch_op.alter_column("updated_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table("research_grants", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
