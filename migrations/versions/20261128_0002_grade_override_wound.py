"""Grade overrides name their assessment's wound (indexed).

Exports and summaries look overrides up by wound; through the assessments
that read every assessment row of the wounds for the few overridden ones.
An assessment never moves to another wound, so the copy cannot go stale.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("grade_overrides", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wound_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE grade_overrides SET wound_id = ("
        "SELECT assessments.wound_id FROM assessments"
        " WHERE assessments.id = grade_overrides.assessment_id)"
    )
    with op.batch_alter_table("grade_overrides", schema=None) as batch_op:
        batch_op.alter_column("wound_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_grade_overrides_wound_id_wounds"), "wounds", ["wound_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_grade_overrides_wound_id"), ["wound_id"], unique=False)


def downgrade():
    with op.batch_alter_table("grade_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grade_overrides_wound_id"))
        batch_op.drop_constraint(batch_op.f("fk_grade_overrides_wound_id_wounds"), type_="foreignkey")
        batch_op.drop_column("wound_id")
