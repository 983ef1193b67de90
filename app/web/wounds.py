"""The wound page, its printable report and its healing-curve chart."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from app.core.access import get_record
from app.extensions import db
from app.patients.models import Patient
from app.photos import services as photo_services
from app.summaries import chart, trajectory
from app.web.blueprint import bp, show_times_of


def _wound_context(wound_id: uuid.UUID) -> dict[str, Any]:
    data = trajectory.load_wound(db.session, wound_id)
    show_times_of(data.wound["clinic_id"])
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


@bp.get("/web/wounds/<uuid:wound_id>/chart.svg")
def wound_chart(wound_id: uuid.UUID) -> ResponseReturnValue:
    """The API's healing-curve chart, for pages (cookie auth)."""
    data = trajectory.load_wound(db.session, wound_id)
    width = _bounded_int("width", 800, chart.MIN_WIDTH, chart.MAX_WIDTH)
    height = _bounded_int("height", 400, chart.MIN_HEIGHT, chart.MAX_HEIGHT)
    etag = trajectory.data_version(data, "svg", width, height)
    headers = {"Cache-Control": "private, no-cache", "ETag": etag}
    if etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
        return Response(status=304, headers=headers)
    body = chart.render(trajectory.build_trajectory(data), "svg", width, height)
    return Response(body, mimetype="image/svg+xml", headers=headers)


def _bounded_int(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        return default
    return min(max(value, low), high)
