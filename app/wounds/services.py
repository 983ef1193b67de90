"""Wounds: create, amend, delete, list (per patient and clinic-wide).

Rules a clinician expects (each failure is a 422 naming the field):
- onset_date is not in the future;
- status "healed" needs healed_on, on or after onset_date and not in the future;
- status "open" has no healed_on (a PATCH reopening a wound clears it);
- radiotherapy_course_id names a course of the same patient.

Reopening a healed wound, by a PATCH to status open or by an open measurement
after its healed date (app/assessments/services.py), keeps the healed date in
``closures``: the healing episode it ended stays visible in the trajectory.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core import records
from app.core.access import require, scoped
from app.core.errors import field_error
from app.core.etags import require_if_match
from app.patients.models import Patient
from app.radiotherapy.models import RadiotherapyCourse
from app.wounds import events
from app.wounds.models import Wound
from app.wounds.schemas import WoundSchema

_dump = WoundSchema().dump


def _check_course(session: Session, patient_id: uuid.UUID, course_id: uuid.UUID | None) -> None:
    if course_id is None:
        return
    stmt = scoped(RadiotherapyCourse).where(
        RadiotherapyCourse.id == course_id, RadiotherapyCourse.patient_id == patient_id
    )
    if session.scalars(stmt.with_only_columns(RadiotherapyCourse.id)).first() is None:
        raise field_error(
            "radiotherapy_course_id", "must be a radiotherapy course of the same patient"
        )


def _check_rules(onset: date, status: str, healed_on: date | None) -> None:
    records.not_in_future("onset_date", onset)
    if status == "healed":
        if healed_on is None:
            raise field_error("healed_on", "is required when status is healed")
        if healed_on < onset:
            raise field_error("healed_on", "must be on or after onset_date")
        records.not_in_future("healed_on", healed_on)
    elif healed_on is not None:
        raise field_error("healed_on", "must be empty while the wound is open; set status healed")


def create_wound(session: Session, patient: Patient, data: dict[str, Any]) -> tuple[Wound, bool]:
    """Create a wound (offline-safe client id; patient_id is in the fingerprint)."""
    _check_rules(data["onset_date"], data["status"], data.get("healed_on"))
    _check_course(session, patient.id, data.get("radiotherapy_course_id"))
    return records.create_record(
        session, Wound, data, _dump, clinic_id=patient.clinic_id, patient_id=patient.id
    )


def _closure(
    wound: Wound, reopened_at: datetime, by: str, assessment_id: uuid.UUID | None
) -> list[Any]:
    """The wound's closures with its current healing added (before it is reopened)."""
    assert wound.healed_on is not None  # a healed wound has its date (_check_rules)
    entry = {
        "healed_on": wound.healed_on.isoformat(),
        "reopened_at": reopened_at.astimezone(UTC).isoformat(),
        "reopened_by": by,
        "assessment_id": None if assessment_id is None else str(assessment_id),
    }
    return [*(wound.closures or []), entry]


def reopen_wound(
    session: Session, wound: Wound, *, at: datetime, assessment_id: uuid.UUID
) -> Wound:
    """Reopen a healed wound because the assessment ``assessment_id`` measured an
    open area at ``at``, after its healed date. The healed date moves into
    ``closures``; the change is an amendment like any other (a new version in the
    wound's history, an audit event, a delta-sync update), made by the user who
    recorded the assessment."""
    wound.closures = _closure(wound, at, "assessment", assessment_id)
    wound.status = "open"
    wound.healed_on = None
    session.flush()
    return wound


def update_wound(session: Session, wound: Wound, changes: dict[str, Any]) -> Wound:
    """Amend a wound (If-Match required). Reopening (status open) clears healed_on
    and keeps the healing it ends in ``closures``."""
    require_if_match(wound, _dump)  # a stale client hears 412 before rule checks
    if changes.get("status") == "open" and "healed_on" not in changes:
        changes["healed_on"] = None
    if wound.status == "healed" and changes.get("status") == "open":
        changes["closures"] = _closure(wound, datetime.now(UTC), "amendment", None)
    merged = {
        "onset_date": changes.get("onset_date", wound.onset_date),
        "status": changes.get("status", wound.status),
        "healed_on": changes.get("healed_on", wound.healed_on),
    }
    _check_rules(merged["onset_date"], merged["status"], merged["healed_on"])
    if merged["onset_date"] > wound.onset_date:
        events.onset_moving_later.send(wound, session=session, onset=merged["onset_date"])
    if "radiotherapy_course_id" in changes:
        _check_course(session, wound.patient_id, changes["radiotherapy_course_id"])
    refolded = changes.get("in_skin_fold", wound.in_skin_fold) != wound.in_skin_fold
    relinked = (
        changes.get("radiotherapy_course_id", wound.radiotherapy_course_id)
        != wound.radiotherapy_course_id
    )
    amended: Wound = records.amend(session, wound, changes, _dump)
    if refolded:  # the grades of its assessments read the flag
        events.skin_fold_changed.send(amended, session=session)
    elif relinked:  # their acute/late phase reads the course's dates
        events.course_changed.send(amended, session=session)
    return amended


def delete_wound(session: Session, wound: Wound) -> Wound:
    deleted: Wound = records.soft_delete(session, wound, _dump)
    return deleted


def _filtered(stmt: Any, args: dict[str, Any]) -> Any:
    if "status" in args:
        stmt = stmt.where(Wound.status == args["status"])
    if "etiology" in args:
        stmt = stmt.where(Wound.etiology == args["etiology"])
    return stmt


def list_wounds(session: Session, patient: Patient, args: dict[str, Any]) -> dict[str, Any]:
    stmt = _filtered(
        scoped(Wound, include_deleted=True).where(Wound.patient_id == patient.id), args
    )
    return records.list_page(
        session, stmt, Wound, args, order_by=(Wound.created_at,), parent=patient
    )


def list_clinic_wounds(session: Session, args: dict[str, Any]) -> dict[str, Any]:
    """Wounds across the caller's clinics (or one named clinic), one query per page."""
    stmt = _filtered(scoped(Wound, include_deleted=True), args)
    clinic_id = args.get("clinic_id")
    if clinic_id is not None:
        require("clinical:read", clinic_id)  # a clinic not the caller's: 404
        stmt = stmt.where(Wound.clinic_id == clinic_id)
    if "patient_id" in args:
        stmt = stmt.where(Wound.patient_id == args["patient_id"])
    return records.list_page(session, stmt, Wound, args, order_by=(Wound.created_at,))


def wound_counts(session: Session, patient_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    """Live wounds of each patient by record status ({"open": n, "healed": m}):
    one grouped SELECT for a page of patients (the caller has read them already)."""
    if not patient_ids:
        return {}
    rows = session.execute(
        sa.select(Wound.patient_id, Wound.status, sa.func.count())
        .where(Wound.patient_id.in_(patient_ids), Wound.deleted_at.is_(None))
        .group_by(Wound.patient_id, Wound.status)
    ).all()
    counts: dict[uuid.UUID, dict[str, int]] = {pid: {} for pid in patient_ids}
    for patient_id, status, n in rows:
        counts[patient_id][status] = n
    return counts
