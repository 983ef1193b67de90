"""Unsubscribing from the alert digest keeps the row: ``ended_at`` marks it
ended, and subscribing again clears it (nothing is hard-deleted).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("alert_digest_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # 0015 cannot hold an ended subscription: dropping the column would
    # subscribe those users again without a word, and 0015 knows no other way
    # to end one than deleting the row, so refuse instead.
    ended = (
        op.get_bind()
        .execute(
            sa.text("SELECT count(*) FROM alert_digest_subscriptions WHERE ended_at IS NOT NULL")
        )
        .scalar_one()
    )
    if ended:
        raise RuntimeError(
            f"{ended} ended digest subscription(s) are stored, which revision 0015 cannot"
            " represent; downgrading would subscribe those users again. Stay on 0016."
        )
    with op.batch_alter_table("alert_digest_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("ended_at")
