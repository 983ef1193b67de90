"""Alerts and webhooks: listing, acknowledging, endpoints and their deliveries."""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from app.alerts import delivery, outbox
from app.alerts.models import Alert, DigestSubscription, Webhook, WebhookAttempt, WebhookMessage
from app.core import audit
from app.core.access import audit_list, current_user, get_record, require, scoped
from app.core.db import utcnow
from app.core.errors import Problem, field_error
from app.core.pagination import paginate, paginate_args


def list_alerts(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    """Alerts of the caller's clinics (or one), newest first within the page
    order (opened_at, id); filters by status, kind and wound."""
    stmt = scoped(Alert)
    clinic_id = args.get("clinic_id")
    if clinic_id is not None:
        require("clinical:read", clinic_id)
        stmt = stmt.where(Alert.clinic_id == clinic_id)
    for name in ("status", "kind", "wound_id"):
        if name in args:
            stmt = stmt.where(getattr(Alert, name) == args[name])
    page = paginate_args(session, stmt, Alert, args, order_by=(Alert.opened_at,))
    audit_list(session, "alert", clinic_id=clinic_id, count=len(page["items"]))
    return page


def get_alert(session: Session, alert_id: uuid.UUID) -> Alert:
    return get_record(session, Alert, alert_id)


def acknowledge(session: Session, alert_id: uuid.UUID, note: str) -> Alert:
    """open -> acknowledged, with who, when and the note; audited and announced.
    409 when the alert is not open (acknowledged already, or resolved)."""
    user = require("clinical:write")
    alert = get_record(session, Alert, alert_id, "clinical:write")
    if not note.strip():
        raise field_error("note", "must say what was done or decided")
    now = utcnow()
    done = session.execute(
        sa.update(Alert)
        .where(Alert.id == alert.id, Alert.status == "open")
        .values(
            status="acknowledged",
            acknowledged_at=now,
            acknowledged_by=user.id,
            acknowledge_note=note.strip(),
            updated_at=now,
        )
        .execution_options(synchronize_session="fetch")
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Problem(409, "Conflict", f"This alert is {alert.status}, not open.")
    audit.record(session, "acknowledge", "alert", alert.id, clinic_id=alert.clinic_id)
    outbox.announce(session, alert, "alert.acknowledged", now)
    session.flush()
    session.refresh(alert)
    return alert


# --- webhooks -------------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def create_webhook(session: Session, clinic_id: uuid.UUID, data: dict[str, Any]) -> Webhook:
    user = require("clinic:settings", clinic_id)
    try:
        delivery.check_target(data["url"], bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE")))
    except delivery.RefusedTarget as exc:
        raise field_error("url", str(exc)) from exc
    hook = Webhook(
        clinic_id=clinic_id,
        url=data["url"],
        events=sorted(set(data["events"])),
        secret=new_secret(),
        active=True,
        created_by=user.id,
    )
    session.add(hook)
    session.flush()
    return hook


def list_webhooks(session: Session, clinic_id: uuid.UUID) -> list[Webhook]:
    require("clinic:settings", clinic_id)
    return list(
        session.scalars(
            sa.select(Webhook).where(Webhook.clinic_id == clinic_id).order_by(Webhook.created_at)
        )
    )


def get_webhook(session: Session, webhook_id: uuid.UUID) -> Webhook:
    return get_record(session, Webhook, webhook_id, "clinic:settings", audit_read=False)


def disable_webhook(session: Session, webhook_id: uuid.UUID) -> Webhook:
    hook = get_webhook(session, webhook_id)
    if hook.active:
        hook.active = False
        hook.disabled_at = utcnow()
        hook.disabled_reason = "disabled by a clinic administrator"
        session.flush()
    return hook


def list_deliveries(
    session: Session, webhook_id: uuid.UUID, args: dict[str, Any]
) -> dict[str, Any]:
    """Every delivery attempt of the endpoint, oldest first."""
    hook = get_webhook(session, webhook_id)
    stmt = sa.select(WebhookAttempt).where(WebhookAttempt.webhook_id == hook.id)
    return paginate(
        session,
        stmt,
        WebhookAttempt,
        limit=args["limit"],
        cursor=args.get("cursor"),
        order_by=(WebhookAttempt.at,),
    )


def redeliver(session: Session, webhook_id: uuid.UUID, message_id: str) -> WebhookMessage:
    """Queue a message again (manual redelivery), whatever its state."""
    hook = get_webhook(session, webhook_id)
    msg = session.get(WebhookMessage, message_id)
    if msg is None or msg.webhook_id != hook.id:
        raise Problem(404, "Not Found", "No such message for this webhook.")
    if not hook.active:
        raise Problem(409, "Conflict", "The webhook is disabled.")
    msg.status = "pending"
    msg.next_attempt_at = utcnow()
    msg.lease_until = None
    session.info[outbox.PENDING] = True
    session.flush()
    return msg


# --- the e-mail digest ------------------------------------------------------------


def set_digest(session: Session, clinic_id: uuid.UUID, on: bool) -> dict[str, Any]:
    """Subscribe (or not) the caller to the clinic's daily alert digest; the
    subscription row is kept when it ends (``ended_at``)."""
    require("clinical:read", clinic_id)
    user = current_user()
    row = session.scalar(
        sa.select(DigestSubscription).where(
            DigestSubscription.user_id == user.id, DigestSubscription.clinic_id == clinic_id
        )
    )
    # Never deleted: unsubscribing ends the row, subscribing again revives it.
    if on and row is None:
        session.add(DigestSubscription(user_id=user.id, clinic_id=clinic_id))
    elif on and row is not None:
        row.ended_at = None
    elif row is not None and row.ended_at is None:
        row.ended_at = utcnow()
    session.flush()
    return {"clinic_id": clinic_id, "user_id": user.id, "subscribed": on}
