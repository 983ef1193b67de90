"""Photo colour measures: CIELAB, ITA and erythema index of a treated skin
region against unirradiated skin, measured on a photo, with the calibration
used (a colour card's correction matrix, or none).

Revision ID: 0018
Revises: 0021
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLE = "photo_colour_measures"
FLOATS = (
    "region_l",
    "region_a",
    "region_b",
    "region_erythema_index",
    "reference_l",
    "reference_a",
    "reference_b",
    "reference_erythema_index",
    "delta_a",
    "delta_e2000",
    "delta_erythema_index",
)


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("create_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("wound_id", sa.Uuid(), nullable=False),
        sa.Column("photo_id", sa.Uuid(), nullable=False),
        sa.Column("reference_photo_id", sa.Uuid(), nullable=True),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("region_points", sa.JSON(), nullable=False),
        sa.Column("reference_points", sa.JSON(), nullable=False),
        sa.Column("region_pixels", sa.Integer(), nullable=False),
        sa.Column("reference_pixels", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Double(), nullable=False) for name in FLOATS),
        sa.Column("region_ita", sa.Double(), nullable=True),
        sa.Column("reference_ita", sa.Double(), nullable=True),
        sa.Column("calibration_method", sa.String(length=20), nullable=False),
        sa.Column("calibration", sa.JSON(), nullable=False),
        sa.Column("measured_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "calibration_method IN ('colour_checker', 'uncalibrated')",
            name=op.f("ck_photo_colour_measures_calibration_method"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_photo_colour_measures_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["wound_id"], ["wounds.id"], name=op.f("fk_photo_colour_measures_wound_id_wounds")
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photos.id"], name=op.f("fk_photo_colour_measures_photo_id_photos")
        ),
        sa.ForeignKeyConstraint(
            ["reference_photo_id"],
            ["photos.id"],
            name=op.f("fk_photo_colour_measures_reference_photo_id_photos"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo_colour_measures")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index("ix_photo_colour_measures_photo", ["photo_id", "created_at"])
        batch_op.create_index("ix_photo_colour_measures_wound_time", ["wound_id", "measured_at"])
        batch_op.create_index(
            "ix_photo_colour_measures_clinic_updated", ["clinic_id", "updated_at"]
        )


def downgrade():
    op.drop_table(TABLE)
