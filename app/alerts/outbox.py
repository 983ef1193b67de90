"""The webhook outbox: an alert event becomes one message per subscribed
endpoint, written in the transaction that changed the alert, so an event is
sent if and only if its change committed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.alerts.models import Webhook, WebhookMessage
from app.core.formats import iso

#: session.info key: messages were written in this transaction (delivery is
#: started after the commit).
PENDING = "alerts.webhook_messages"


def payload(alert: Any, event_type: str, at: datetime) -> dict[str, Any]:
    """A thin event: the type, the ids and the time. No names, MRNs or free
    text; the receiver reads the alert through the API."""
    return {
        "type": event_type,
        "timestamp": iso(at),
        "data": {
            "alert_id": str(alert.id),
            "wound_id": str(alert.wound_id),
            "clinic_id": str(alert.clinic_id),
            "kind": alert.kind,
        },
    }


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def announce(session: Session, alert: Any, event_type: str, at: datetime) -> int:
    """Queue ``event_type`` of ``alert`` (an Alert, or what evaluation holds of
    one: id, clinic_id, wound_id, kind) for each active webhook of its clinic
    that subscribed to it. Returns how many messages were queued."""
    hooks = session.execute(
        sa.select(Webhook.id, Webhook.events).where(
            Webhook.clinic_id == alert.clinic_id, Webhook.active.is_(True)
        )
    ).all()
    body = payload(alert, event_type, at)
    queued = 0
    for hook_id, events in hooks:
        if event_type not in events:
            continue
        session.add(
            WebhookMessage(
                id=new_message_id(),
                webhook_id=hook_id,
                clinic_id=alert.clinic_id,
                event_type=event_type,
                payload=body,
                status="pending",
                attempts=0,
                created_at=at,
                next_attempt_at=at,
            )
        )
        queued += 1
    if queued:
        session.info[PENDING] = True
    return queued
