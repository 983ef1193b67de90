"""The audit page: the newest audit events of the user's clinics."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import render_template, request
from flask.typing import ResponseReturnValue

from app.auth.models import User
from app.core.access import scoped
from app.core.audit import AuditEvent
from app.extensions import db
from app.web.blueprint import bp, form_text


@bp.get("/web/audit")
def audit_log() -> ResponseReturnValue:
    """The newest audit events of the user's clinics (clinic_admins, admins)."""
    stmt = scoped(AuditEvent, "audit:read")
    action = form_text(request.args.get("action")).strip()[:40]
    record_type = form_text(request.args.get("record_type")).strip()[:40]
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if record_type:
        stmt = stmt.where(AuditEvent.record_type == record_type)
    before = form_text(request.args.get("before"))
    if before:
        try:
            until = datetime.fromisoformat(before)
            until = until.astimezone(UTC) if until.tzinfo else until.replace(tzinfo=UTC)
            stmt = stmt.where(AuditEvent.at < until)
        except (ValueError, OverflowError):  # not a datetime, or none in UTC
            before = ""
    events = list(
        db.session.scalars(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(100))
    )
    ids = {e.user_id for e in events if e.user_id is not None}
    names = (
        dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())
        if ids
        else {}
    )
    older = events[-1].at.isoformat() if len(events) == 100 else None
    return render_template(
        "audit.html",
        events=events,
        names=names,
        action=action,
        record_type=record_type,
        older=older,
    )
