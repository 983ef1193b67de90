"""The overview page: open wounds needing attention first, with counts and filters."""

from __future__ import annotations

from flask import g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from app.clinical.trajectory import STATUSES
from app.clinics.services import clinic_choices
from app.core.access import can
from app.extensions import db
from app.summaries import dashboard
from app.summaries.schemas import DashboardArgsSchema
from app.web.blueprint import bp, error_page, show_times_of
from app.web.filters import board_context, wound_list_args
from app.wounds.models import ETIOLOGIES

FILTER_KEYS = ("clinic_id", "status", "grade_min", "site", "etiology", "sort", "cursor")


@bp.get("/web/")
def overview() -> ResponseReturnValue:
    """Open wounds needing attention first, with counts and filters (GET form);
    a filter value that is not a choice is shown as an error (422), not ignored."""
    user = g.user
    if not can(user, "clinical:read"):
        return redirect(url_for("web.exports"))
    clinics = clinic_choices(db.session, user)
    if not clinics:
        return error_page(404, "No clinic", "Your account belongs to no clinic yet.")
    args, errors = wound_list_args(clinics, DashboardArgsSchema(), FILTER_KEYS)
    board = dashboard.dashboard(db.session, args)
    show_times_of(board["clinic_id"])
    return render_template(
        "overview.html",
        **board_context(board, clinics, errors, ("status", "grade_min", "site", "etiology")),
        statuses=STATUSES,
        etiologies=ETIOLOGIES,
        sorts=dashboard.SORTS,
        # "grade >= 3" and the grade filter read the clinic's primary scale.
        scale_name=board["primary_grade_scale"].upper(),
    ), (422 if errors else 200)
