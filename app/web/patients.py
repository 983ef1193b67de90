"""The patient page: wounds, radiotherapy courses with the dose so far, the timeline."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue

from app.core.access import get_record
from app.core.errors import Problem
from app.extensions import db
from app.radiotherapy.models import RadiotherapyCourse
from app.radiotherapy.services import dose_on
from app.summaries import patient_summary
from app.web.blueprint import bp, show_times_of


@bp.get("/web/patients/<uuid:patient_id>")
def patient(patient_id: uuid.UUID) -> ResponseReturnValue:
    """Wounds, radiotherapy courses with the dose delivered so far, and the timeline."""
    summary = patient_summary.patient_summary(db.session, patient_id)
    # "Dose so far" counts to the end of the clinic's own today.
    today = datetime.now(show_times_of(summary["patient"]["clinic_id"])).date()
    doses: dict[str, Any] = {}
    for course in summary["radiotherapy_courses"]:
        row = get_record(db.session, RadiotherapyCourse, uuid.UUID(course["id"]))
        try:
            doses[course["id"]] = dose_on(db.session, row, today)
        except Problem:
            doses[course["id"]] = None
    return render_template("patient.html", s=summary, doses=doses, today=today)
