"""Alerts: alert records, clinic webhooks with their outbox and delivery log,
digest subscriptions, the clinic's alert thresholds, and the NERDS/STONEES
signs of infection on assessments.

One alert per wound and kind may be unresolved at a time: a unique partial
index (resolved_at IS NULL), which SQLite and PostgreSQL both enforce.

Revision ID: 0015
Revises: 0009
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0009"
branch_labels = None
depends_on = None

SIGNS = (
    "non_healing",
    "exudate",
    "red_friable",
    "debris",
    "smell",
    "size_bigger",
    "temperature",
    "probes_to_bone",
    "new_breakdown",
    "erythema_edema",
)
CLINIC_SETTINGS = (
    "alert_grade_threshold",
    "alert_lab_grade_threshold",
    "alert_infection_min_signs",
)
KINDS = ("week4_missed", "deteriorating", "recurrence", "grade", "overdue", "lab", "infection")
ACTIVE = sa.text("resolved_at IS NULL")


def _in(column, values):
    return column + " IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade():
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        for name in CLINIC_SETTINGS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        for name in SIGNS:
            batch_op.add_column(sa.Column(f"sign_{name}", sa.Boolean(), nullable=True))

    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("wound_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Uuid(), nullable=True),
        sa.Column("acknowledge_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("kind", KINDS), name=op.f("ck_alerts_kind")),
        sa.CheckConstraint(
            _in("status", ("open", "acknowledged", "resolved")), name=op.f("ck_alerts_status")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_alerts_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["wound_id"], ["wounds.id"], name=op.f("fk_alerts_wound_id_wounds")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_alerts_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["users.id"], name=op.f("fk_alerts_acknowledged_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(
        "uq_alerts_wound_kind_active",
        "alerts",
        ["wound_id", "kind"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
    op.create_index("ix_alerts_clinic_status", "alerts", ["clinic_id", "status"])
    op.create_index("ix_alerts_clinic_updated", "alerts", ["clinic_id", "updated_at"])
    op.create_index(op.f("ix_alerts_wound_id"), "alerts", ["wound_id"])

    op.create_table(
        "webhooks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_webhooks_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_webhooks_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(op.f("ix_webhooks_clinic_id"), "webhooks", ["clinic_id"])

    op.create_table(
        "webhook_messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            _in("status", ("pending", "delivered", "failed")),
            name=op.f("ck_webhook_messages_status"),
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhooks.id"], name=op.f("fk_webhook_messages_webhook_id_webhooks")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_webhook_messages_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_messages")),
    )
    op.create_index("ix_webhook_messages_due", "webhook_messages", ["status", "next_attempt_at"])
    op.create_index(op.f("ix_webhook_messages_webhook_id"), "webhook_messages", ["webhook_id"])

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["webhook_messages.id"],
            name=op.f("fk_webhook_attempts_message_id_webhook_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhooks.id"], name=op.f("fk_webhook_attempts_webhook_id_webhooks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index(op.f("ix_webhook_attempts_message_id"), "webhook_attempts", ["message_id"])
    op.create_index(op.f("ix_webhook_attempts_webhook_id"), "webhook_attempts", ["webhook_id"])

    op.create_table(
        "alert_digest_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_alert_digest_subscriptions_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_alert_digest_subscriptions_clinic_id_clinics"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_digest_subscriptions")),
        sa.UniqueConstraint(
            "user_id", "clinic_id", name=op.f("uq_alert_digest_subscriptions_user_id_clinic_id")
        ),
    )


def downgrade():
    op.drop_table("alert_digest_subscriptions")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_messages")
    op.drop_table("webhooks")
    op.drop_table("alerts")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        for name in SIGNS:
            batch_op.drop_column(f"sign_{name}")
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        for name in CLINIC_SETTINGS:
            batch_op.drop_column(name)
