"""The alerts inbox of the clinic, the header badge and a wound's alerts."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.alerts import services as alert_services
from app.alerts.models import ALERT_STATUSES, Alert
from app.clinical.alerts import KINDS
from app.core.access import can, clinic_clause
from app.core.errors import Problem
from app.extensions import db
from app.web.blueprint import bp, form_text


def _open_alert_count() -> int:
    """Open alerts of the signed-in user's clinics (the header badge)."""
    user = getattr(g, "user", None)
    if user is None or not can(user, "clinical:read"):
        return 0
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Alert)
            .where(clinic_clause(Alert, user), Alert.status == "open")
        )
        or 0
    )


def _wound_alerts(wound_id: Any) -> list[Alert]:
    """The wound's alerts not resolved, newest first (the wound page)."""
    user = getattr(g, "user", None)
    if user is None or not can(user, "clinical:read"):
        return []
    return list(
        db.session.scalars(
            sa.select(Alert)
            .where(
                clinic_clause(Alert, user),
                Alert.wound_id == wound_id,
                Alert.resolved_at.is_(None),
            )
            .order_by(Alert.opened_at.desc())
        )
    )


@bp.context_processor
def _alert_globals() -> dict[str, Any]:
    return {"open_alert_count": _open_alert_count, "wound_alerts": _wound_alerts}


def _inbox(message: str | None = None, status: int = 200) -> ResponseReturnValue:
    args: dict[str, Any] = {"limit": 100}
    chosen_status = form_text(request.args.get("status", "open")).strip()
    chosen_kind = form_text(request.args.get("kind")).strip()
    if chosen_status in ALERT_STATUSES:
        args["status"] = chosen_status
    if chosen_kind in KINDS:
        args["kind"] = chosen_kind
    page = alert_services.list_alerts(db.session, args)
    return render_template(
        "alerts.html",
        alerts=page["items"],
        statuses=ALERT_STATUSES,
        kinds=KINDS,
        chosen_status=args.get("status", ""),
        chosen_kind=args.get("kind", ""),
        message=message,
    ), status


@bp.get("/web/alerts")
def alerts_inbox() -> ResponseReturnValue:
    """The clinic's alerts, open first by default; filter by status and kind."""
    return _inbox()


@bp.post("/web/alerts/<uuid:alert_id>/acknowledge")
def alert_acknowledge(alert_id: uuid.UUID) -> ResponseReturnValue:
    """Acknowledge an open alert with a note (the form on the inbox)."""
    note = form_text(request.form.get("note")).strip()
    if not note:
        return _inbox("Write a note saying what was done or decided.", 422)
    try:
        alert_services.acknowledge(db.session, alert_id, note[:2000])
    except Problem as exc:
        if exc.status == 409:
            return _inbox("That alert is no longer open.", 409)
        raise
    return redirect(url_for("web.alerts_inbox"), 303)
