"""SMART refresh tokens: the refresh token issued with an access token (its
SHA-256) and when it stops working.

Revision ID: 0022
Revises: 0018
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("smart_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refresh_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_smart_tokens_refresh_token_hash"), ["refresh_token_hash"]
        )


def downgrade():
    with op.batch_alter_table("smart_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_smart_tokens_refresh_token_hash"), type_="unique")
        batch_op.drop_column("refresh_expires_at")
        batch_op.drop_column("refresh_token_hash")
