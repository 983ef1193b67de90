"""SMART App Launch consent: the authorization endpoint of app/fhir/oauth.py,
as a clinic page behind the same sign-in (a signed-out user is sent to the
sign-in form and back here).

The page names the app and what it asks for; with a patient/* scope the user
chooses the patient (by MRN, in their clinics) whose record the app may read.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import g, render_template, request
from flask.typing import ResponseReturnValue

from app.core import access, audit
from app.extensions import db
from app.fhir.oauth import server
from app.patients.models import Patient
from app.web.blueprint import bp, error_page, form_text


def _scopes(grant: Any) -> list[str]:
    return (grant.request.scope or "").split()


def _patient_by_mrn(mrn: str) -> Patient | None:
    stmt = access.scoped(Patient).where(Patient.mrn == mrn)
    return db.session.scalars(stmt.order_by(Patient.created_at)).first()


@bp.route("/web/smart/authorize", methods=["GET", "POST"])
def smart_authorize() -> ResponseReturnValue:
    """Ask the signed-in user to allow an app to read FHIR on their behalf."""
    access.require("clinical:read")  # researchers read no identifiable record
    try:
        grant = server.get_consent_grant(end_user=g.user)
    except OAuth2Error as error:
        return error_page(400, "App request refused", error.get_error_description() or error.error)
    scopes = _scopes(grant)
    needs_patient = any(s.startswith("patient/") for s in scopes)
    page = {"client": grant.client, "scopes": scopes, "needs_patient": needs_patient}
    if request.method == "GET":
        return render_template("smart_consent.html", **page)
    if request.form.get("decision") != "allow":
        audit.record(db.session, "smart_consent", "smart_client", grant.client.id, outcome="denied")
        return server.create_authorization_response(grant=grant, grant_user=None)
    if needs_patient:
        mrn = form_text(request.form.get("mrn")).strip()[:64]
        patient = _patient_by_mrn(mrn) if mrn else None
        if patient is None:
            error = "No patient with this MRN in your clinics."
            return render_template("smart_consent.html", error=error, **page), 400
        grant.request.smart_patient_id = patient.id
    details = {"scope": " ".join(scopes)}
    audit.record(db.session, "smart_consent", "smart_client", grant.client.id, details=details)
    return server.create_authorization_response(grant=grant, grant_user=g.user)
