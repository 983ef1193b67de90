"""The patient pages: the list and search of patients, and one patient's page
(wounds, radiotherapy courses with the dose so far, the timeline)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from flask import g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from app.clinics.services import clinic_choices
from app.core.access import get_record
from app.core.errors import Problem
from app.extensions import db
from app.patients import services as patient_services
from app.radiotherapy.models import RadiotherapyCourse
from app.radiotherapy.services import dose_on
from app.summaries import patient_summary
from app.web.blueprint import bp, error_page, form_text, show_times_of
from app.wounds.services import wound_counts

PATIENTS_PER_PAGE = 25


class PatientSearchArgs(Schema):
    """The header's search (``q``: words of a name or MRN) and the page cursor."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=200))
    cursor = fields.String(validate=validate.Length(max=2000))


@bp.get("/web/patients")
def patients() -> ResponseReturnValue:
    """The patients of the user's clinics by name, or those whose name or MRN
    holds every word searched for; 25 a page."""
    raw = {k: form_text(request.args.get(k)).strip() for k in ("q", "cursor")}
    try:
        args = PatientSearchArgs().load({k: v for k, v in raw.items() if v})
    except ValidationError as exc:
        detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.messages.items())  # type: ignore[union-attr]
        return error_page(422, "Search not understood", detail)
    page = patient_services.search_patients(db.session, args | {"limit": PATIENTS_PER_PAGE})
    rows = page["items"]
    clinics = {str(c.id): c.name for c in clinic_choices(db.session, g.user)}
    next_url = (
        url_for("web.patients", q=args["q"] or None, cursor=page["next_cursor"])
        if page["next_cursor"]
        else None
    )
    return render_template(
        "patients.html",
        patients=rows,
        counts=wound_counts(db.session, [p.id for p in rows]),
        q=args["q"],
        clinics=clinics,
        next_url=next_url,
        first_url=url_for("web.patients", q=args["q"] or None) if args.get("cursor") else None,
    )


def course_state(
    course: dict[str, Any], dose: dict[str, Any] | None, today: date
) -> dict[str, Any]:
    """Where a radiotherapy course stands, in words, and how many logged
    fractions go beyond its plan (to flag). From the fraction log when it has
    entries: completed once the last planned fraction is logged. Without a log
    the planned schedule is an estimate, so the course only reads ended (its
    end date has passed), not started, or under way."""
    planned = int(course["fractions"])
    if dose is not None and dose["source"] == "fraction_log":
        logged = int(dose["fraction_number"])
        if planned and logged >= planned:
            return {"state": "completed", "beyond": logged - planned, "logged": logged}
        return {"state": "under way" if logged else "not started", "beyond": 0, "logged": logged}
    start, end = course["start_date"], course["end_date"]
    if end and date.fromisoformat(end) < today:
        state = "ended"
    elif start and date.fromisoformat(start) > today:
        state = "not started"
    else:
        state = "under way"
    return {"state": state, "beyond": 0, "logged": None}


@bp.get("/web/patients/<uuid:patient_id>")
def patient(patient_id: uuid.UUID) -> ResponseReturnValue:
    """Wounds, radiotherapy courses with the dose delivered so far, and the timeline."""
    summary = patient_summary.patient_summary(db.session, patient_id)
    # "Dose so far" counts to the end of the clinic's own today.
    today = datetime.now(show_times_of(summary["patient"]["clinic_id"])).date()
    doses: dict[str, Any] = {}
    states: dict[str, Any] = {}
    for course in summary["radiotherapy_courses"]:
        row = get_record(db.session, RadiotherapyCourse, uuid.UUID(course["id"]))
        try:
            doses[course["id"]] = dose_on(db.session, row, today)
        except Problem:
            doses[course["id"]] = None
        states[course["id"]] = course_state(course, doses[course["id"]], today)
    return render_template("patient.html", s=summary, doses=doses, states=states, today=today)
