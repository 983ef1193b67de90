"""Assessments carry patient-reported symptoms.

- itch_nrs, burning_nrs: 0-10 numeric rating scales (pain_score already is
  one, and gains the same range check).
- pro_skin_reaction: the PRO-CTCAE "Radiation skin reaction" severity level.

All nullable: existing assessments did not ask, and null means not recorded.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

PRO_LEVELS = ("none", "mild", "moderate", "severe", "very_severe")
NRS_COLUMNS = ("pain_score", "itch_nrs", "burning_nrs")


def upgrade():
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("itch_nrs", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("burning_nrs", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pro_skin_reaction", sa.String(length=20), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_assessments_pro_skin_reaction"),
            sa.column("pro_skin_reaction").in_(PRO_LEVELS),
        )
        for name in NRS_COLUMNS:
            batch_op.create_check_constraint(
                op.f(f"ck_assessments_{name}_range"),
                f"{name} IS NULL OR ({name} >= 0 AND {name} <= 10)",
            )


def downgrade():
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        for name in reversed(NRS_COLUMNS):
            batch_op.drop_constraint(op.f(f"ck_assessments_{name}_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_assessments_pro_skin_reaction"), type_="check")
        batch_op.drop_column("pro_skin_reaction")
        batch_op.drop_column("burning_nrs")
        batch_op.drop_column("itch_nrs")
