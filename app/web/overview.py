"""The overview page: open wounds needing attention first, with counts and filters."""

from __future__ import annotations

from typing import Any

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from app.clinics.services import clinic_choices
from app.core.access import can
from app.extensions import db
from app.summaries import dashboard
from app.summaries.schemas import DashboardArgsSchema
from app.web.blueprint import bp, error_page, form_text

PAGE_STATUSES = ("deteriorating", "recurred", "stalled", "on_track", "insufficient_data", "healed")


def _dashboard_args(clinics: list[Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The GET filter form as DashboardArgsSchema input (blank fields dropped)."""
    raw: dict[str, Any] = {}
    for key in ("clinic_id", "grade_min", "site", "etiology", "sort", "cursor"):
        value = form_text(request.args.get(key)).strip()
        if value:
            raw[key] = value
    statuses = [form_text(s) for s in request.args.getlist("status") if s]
    if statuses:
        raw["status"] = statuses
    if "clinic_id" not in raw and clinics:
        raw["clinic_id"] = str(clinics[0].id)
    errors: dict[str, list[str]] = {}
    for _ in range(len(raw) + 1):  # drop each invalid filter, keep the rest
        try:
            return DashboardArgsSchema().load(raw), errors
        except ValidationError as exc:
            bad = {str(k): v for k, v in dict(exc.messages).items()}  # type: ignore[arg-type]
            errors.update({k: [str(m) for m in v] for k, v in bad.items()})
            raw = {k: v for k, v in raw.items() if k not in bad}
    return DashboardArgsSchema().load({}), errors


@bp.get("/web/")
def overview() -> ResponseReturnValue:
    """Open wounds needing attention first, with counts and filters (GET form)."""
    user = g.user
    if not can(user, "clinical:read"):
        return redirect(url_for("web.exports"))
    clinics = clinic_choices(db.session, user)
    if not clinics:
        return error_page(404, "No clinic", "Your account belongs to no clinic yet.")
    args, errors = _dashboard_args(clinics)
    board = dashboard.dashboard(db.session, args)
    filters = {
        "status": request.args.getlist("status"),
        "grade_min": request.args.get("grade_min", ""),
        "site": request.args.get("site", ""),
        "etiology": request.args.get("etiology", ""),
        "sort": request.args.get("sort", "priority"),
    }
    next_args = request.args.to_dict(flat=False) | {"cursor": board["next_cursor"]}
    return render_template(
        "overview.html",
        board=board,
        clinics=clinics,
        clinic_id=board["clinic_id"],
        clinic_name=next((c.name for c in clinics if str(c.id) == board["clinic_id"]), ""),
        filters=filters,
        errors=errors,
        statuses=PAGE_STATUSES[:-1],
        etiologies=("radiation_dermatitis", "radiation_ulcer", "surgical", "pressure", "other"),
        sorts=dashboard.SORTS,
        next_args=next_args,
    )
