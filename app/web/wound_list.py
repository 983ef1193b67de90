"""The list of every wound of a clinic, in every state: open and healed
records, each trajectory status (app/clinical/trajectory.py's STATUSES, so a
status added there is listed and filterable here), with filters and paging."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from app.clinical.trajectory import STATUSES
from app.clinics.services import clinic_choices
from app.core.access import require
from app.extensions import db
from app.summaries import dashboard
from app.summaries.schemas import DashboardArgsSchema
from app.web.blueprint import bp, error_page, show_times_of
from app.web.filters import board_context, wound_list_args
from app.wounds.models import ETIOLOGIES, WOUND_STATUSES

FILTER_KEYS = ("clinic_id", "record", "status", "site", "etiology", "sort", "cursor")


@bp.get("/web/wounds")
def wound_list() -> ResponseReturnValue:
    """Every wound of the clinic, open and healed, by record and trajectory
    status (GET form); a filter value that is not a choice is a 422 page."""
    user = require("clinical:read")
    clinics = clinic_choices(db.session, user)
    if not clinics:
        return error_page(404, "No clinic", "Your account belongs to no clinic yet.")
    args, errors = wound_list_args(clinics, DashboardArgsSchema(), FILTER_KEYS)
    records = args.get("record") or list(WOUND_STATUSES)
    board = dashboard.dashboard(db.session, args | {"record": records})
    show_times_of(board["clinic_id"])
    return render_template(
        "wound_list.html",
        **board_context(board, clinics, errors, ("record", "status", "site", "etiology")),
        records=WOUND_STATUSES,
        statuses=STATUSES,
        etiologies=ETIOLOGIES,
        sorts=dashboard.SORTS,
        first_args=(
            {k: v for k, v in request.args.to_dict(flat=False).items() if k != "cursor"}
            if request.args.get("cursor")
            else None
        ),
    ), (422 if errors else 200)
