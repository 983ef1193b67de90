"""Clinical engine v2, grades: findings of the RTOG acute and late scales,
CTCAE Skin ulceration, acute/late phase, a clinic's primary grading scale,
the laboratory's reference range, and a course's skin dose context.

- assessments: the findings erythema_tender, deep_tissue_damage, epilation,
  decreased_sweating, atrophy, telangiectasia, pigmentation_change and
  fibrosis (existing rows: none/false, as an omitted finding means), and the
  derived ctcae_ulcer_grade/_reasons, rt_phase, days_after_rt, rt_phase_note
  and rtog_late_grade/_reasons (empty until an assessment is derived again).
- clinics.primary_grade_scale (ctcae for every existing clinic).
- lab_results.lower_limit_normal / upper_limit_normal.
- radiotherapy_courses.bolus, bolus_thickness_cm, measured_skin_dose_cgy.

Revision ID: 0009
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0013"
branch_labels = None
depends_on = None


def _findings():
    return (
        sa.Column("erythema_tender", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("deep_tissue_damage", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("epilation", sa.String(length=20), server_default="none", nullable=False),
        sa.Column("decreased_sweating", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("atrophy", sa.String(length=20), server_default="none", nullable=False),
        sa.Column("telangiectasia", sa.String(length=20), server_default="none", nullable=False),
        sa.Column("pigmentation_change", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("fibrosis", sa.String(length=20), server_default="none", nullable=False),
    )


def _derived():
    return (
        sa.Column("ctcae_ulcer_grade", sa.Integer(), nullable=True),
        sa.Column("ctcae_ulcer_reasons", sa.JSON(), nullable=True),
        sa.Column("rt_phase", sa.String(length=10), nullable=True),
        sa.Column("days_after_rt", sa.Integer(), nullable=True),
        sa.Column("rt_phase_note", sa.String(length=200), nullable=True),
        sa.Column("rtog_late_grade", sa.Integer(), nullable=True),
        sa.Column("rtog_late_reasons", sa.JSON(), nullable=True),
    )


def _course():
    return (
        sa.Column("bolus", sa.Boolean(), nullable=True),
        sa.Column("bolus_thickness_cm", sa.Double(), nullable=True),
        sa.Column("measured_skin_dose_cgy", sa.Double(), nullable=True),
    )


def _lab():
    return (
        sa.Column("lower_limit_normal", sa.Double(), nullable=True),
        sa.Column("upper_limit_normal", sa.Double(), nullable=True),
    )


def upgrade():
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        for column in (*_findings(), *_derived()):
            batch_op.add_column(column)
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "primary_grade_scale", sa.String(length=10), server_default="ctcae", nullable=False
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_clinics_primary_grade_scale"),
            sa.column("primary_grade_scale").in_(("ctcae", "rtog")),
        )
    with op.batch_alter_table("lab_results", schema=None) as batch_op:
        for column in _lab():
            batch_op.add_column(column)
    with op.batch_alter_table("radiotherapy_courses", schema=None) as batch_op:
        for column in _course():
            batch_op.add_column(column)


def downgrade():
    with op.batch_alter_table("radiotherapy_courses", schema=None) as batch_op:
        for column in reversed(_course()):
            batch_op.drop_column(column.name)
    with op.batch_alter_table("lab_results", schema=None) as batch_op:
        for column in reversed(_lab()):
            batch_op.drop_column(column.name)
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_clinics_primary_grade_scale"), type_="check")
        batch_op.drop_column("primary_grade_scale")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        for column in reversed((*_findings(), *_derived())):
            batch_op.drop_column(column.name)
