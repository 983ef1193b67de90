"""A grade override can be withdrawn (a row without a value), and retried.

The latest row of a scale decides the grade in force; one without a value
sends the assessment back to its derived grade, and the withdrawn override
stays on record. create_hash fingerprints the request of an override sent
with a client id, so a retry from a phone is a replay, not a second row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("grade_overrides", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("create_hash", sa.String(length=64), nullable=True))


def downgrade():
    # 0002 cannot hold a withdrawal: dropping the rows would put the withdrawn
    # overrides back in force without a word, so refuse instead.
    withdrawals = (
        op.get_bind()
        .execute(sa.text("SELECT count(*) FROM grade_overrides WHERE value IS NULL"))
        .scalar_one()
    )
    if withdrawals:
        raise RuntimeError(
            f"{withdrawals} grade-override withdrawal(s) are stored, which revision 0002"
            " cannot represent; downgrading would silently reinstate the overrides they"
            " withdrew. Stay on 0003."
        )
    with op.batch_alter_table("grade_overrides", schema=None) as batch_op:
        batch_op.drop_column("create_hash")
        batch_op.alter_column("value", existing_type=sa.Integer(), nullable=False)
