"""Alerts, the clinic's webhooks, their outbox and delivery log, and digest
subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.clinical.alerts import KINDS
from app.core.db import Base, TimestampMixin, new_id, utcnow

ALERT_STATUSES = ("open", "acknowledged", "resolved")
EVENT_TYPES = ("alert.opened", "alert.acknowledged", "alert.resolved")
MESSAGE_STATUSES = ("pending", "delivered", "failed")

# Not resolved: the one alert of a wound and kind that may exist at a time.
_ACTIVE = sa.text("resolved_at IS NULL")


class Alert(TimestampMixin, Base):
    """A wound that needs attention, by one rule (``kind``).

    At most one alert per wound and kind is not resolved: a unique partial
    index, so two requests or two instances evaluating the same change cannot
    both open one. It resolves by itself when its condition clears;
    acknowledging keeps it in force (the condition still holds) with who, when
    and a note. Written only by app/alerts/evaluate.py and the acknowledge
    service; audited by the flush hook."""

    __tablename__ = "alerts"
    __audit_type__ = "alert"
    __versioned__ = False
    __table_args__ = (
        sa.Index(
            "uq_alerts_wound_kind_active",
            "wound_id",
            "kind",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
        sa.Index("ix_alerts_clinic_status", "clinic_id", "status"),
        sa.Index("ix_alerts_clinic_updated", "clinic_id", "updated_at"),
        sa.CheckConstraint(sa.column("kind").in_(KINDS), name="kind"),
        sa.CheckConstraint(sa.column("status").in_(ALERT_STATUSES), name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    wound_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("wounds.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("patients.id"))
    kind: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    rule: Mapped[str] = mapped_column(sa.Text)
    figures: Mapped[dict[str, Any]]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    acknowledge_note: Mapped[str | None] = mapped_column(sa.Text)
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(sa.String(200))


class Webhook(TimestampMixin, Base):
    """A clinic's endpoint for alert events, signed per Standard Webhooks with
    its own secret (shown once, when it is created)."""

    __tablename__ = "webhooks"
    __audit_type__ = "webhook"
    __versioned__ = False

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    events: Mapped[list[Any]]
    secret: Mapped[str] = mapped_column(sa.String(100))
    active: Mapped[bool] = mapped_column(default=True)
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))


class WebhookMessage(Base):
    """The outbox: one event for one webhook, written in the transaction that
    changed the alert. Its id is the ``webhook-id`` header of every attempt, so
    the receiver can drop a duplicate. A worker claims it with a lease
    (``lease_until``): a worker that dies mid-delivery leaves it to be claimed
    again when the lease runs out."""

    __tablename__ = "webhook_messages"
    __table_args__ = (
        sa.Index("ix_webhook_messages_due", "status", "next_attempt_at"),
        sa.CheckConstraint(sa.column("status").in_(MESSAGE_STATUSES), name="status"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    webhook_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("webhooks.id"), index=True)
    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    event_type: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One delivery attempt of a message: what the endpoint answered."""

    __tablename__ = "webhook_attempts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(sa.ForeignKey("webhook_messages.id"), index=True)
    webhook_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("webhooks.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    attempt: Mapped[int]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.String(200))
    duration_ms: Mapped[int]
    manual: Mapped[bool] = mapped_column(default=False)


class DigestSubscription(Base):
    """A user who gets the e-mail digest of a clinic's open alerts.

    One row per user and clinic, never deleted: unsubscribing sets
    ``ended_at``; subscribing again revives the row (``ended_at`` cleared,
    ``created_at`` kept as when the user first subscribed)."""

    __tablename__ = "alert_digest_subscriptions"
    __table_args__ = (sa.UniqueConstraint("user_id", "clinic_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    clinic_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clinics.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
