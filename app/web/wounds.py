"""The wound page and its printable report, with the healing curve drawn inline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue

from app.core.access import get_record
from app.extensions import db
from app.patients.models import Patient
from app.photos import services as photo_services
from app.summaries import trajectory
from app.web.blueprint import bp, show_times_of
from app.web.chart_svg import healing_chart


def _wound_context(wound_id: uuid.UUID) -> dict[str, Any]:
    data = trajectory.load_wound(db.session, wound_id)
    zone = show_times_of(data.wound["clinic_id"])
    traj = trajectory.build_trajectory(data)
    pat = get_record(db.session, Patient, data.wound["patient_id"])
    listing = photo_services.list_photos(db.session, wound_id, {"limit": 500})
    photos = [p for p in listing["items"] if getattr(p, "deleted_at", None) is None]
    reasons = {
        (str(aid), scale): row
        for aid, by_scale in data.overrides.items()
        for scale, row in by_scale.items()
    }
    return {
        "w": data.wound,
        "t": traj,
        "patient": pat,
        "photos": photos,
        "overrides": reasons,
        "chart": healing_chart(traj, data.wound, zone),
    }


@bp.get("/web/wounds/<uuid:wound_id>")
def wound(wound_id: uuid.UUID) -> ResponseReturnValue:
    """Healing curve, photos, measurements and grades, procedures, status and rule."""
    return render_template("wound.html", **_wound_context(wound_id))


@bp.get("/web/wounds/<uuid:wound_id>/report")
def wound_report(wound_id: uuid.UUID) -> ResponseReturnValue:
    """The wound page laid out for an A4 sheet, to file in the chart."""
    ctx = _wound_context(wound_id)
    return render_template("report.html", printed_at=datetime.now(UTC), **ctx)
