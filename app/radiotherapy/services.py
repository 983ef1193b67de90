"""Radiotherapy courses: create, amend (phases replaced wholesale), delete, list;
the fraction log; and the cumulative dose on a date.

History of phases: phases are rows of their own table, so the generic history
hook (app/core/history.py), which snapshots a record's own columns, would not
see them. Two pieces close that gap, both here:

- a snapshot extension (``history.snapshot_extension``) adds a ``phases`` key
  to every course snapshot (create, update, delete, restore), read from the
  course as it is written, so each version shows the phases as they stood;
- an amendment of the phases is marked with ``history.mark_changed``, so the
  course gets a new version (ETag, delta sync) whose ``changed_fields`` names
  ``phases`` even when no course column changed.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clinical import dose
from app.core import records
from app.core.access import current_user, scoped
from app.core.errors import Problem, field_error
from app.core.etags import require_if_match
from app.core.history import mark_changed, snapshot_extension, to_jsonable
from app.core.idempotency import create_once
from app.patients.models import Patient
from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse, RadiotherapyPhase
from app.radiotherapy.schemas import CourseSchema, FractionSchema
from app.radiotherapy.timing import timing_changed

_dump_course = CourseSchema().dump
_dump_fraction = FractionSchema().dump


# --- history of phases -----------------------------------------------------


def _phase_snapshot(course: RadiotherapyCourse) -> list[dict[str, Any]]:
    return [
        {
            "technique": p.technique,
            "dose_per_fraction_cgy": p.dose_per_fraction_cgy,
            "fractions": p.fractions,
            "start_date": to_jsonable(p.start_date),
        }
        for p in course.phases
    ]


@snapshot_extension(RadiotherapyCourse.__audit_type__)
def _phases_for_history(course: RadiotherapyCourse) -> dict[str, Any]:
    """Course versions carry their phases (see the module docstring)."""
    return {"phases": _phase_snapshot(course)}


# --- validation ------------------------------------------------------------


def _check_dates(start: date, end: date | None, phases: list[dict[str, Any]] | None) -> None:
    if end is not None and end < start:
        raise field_error("end_date", "must be on or after start_date")
    for i, phase in enumerate(phases or []):
        phase_start = phase.get("start_date")
        if phase_start is None:
            continue
        if phase_start < start:
            raise field_error(f"phases.{i}.start_date", "must be on or after the course start_date")
        if end is not None and phase_start > end:
            raise field_error(f"phases.{i}.start_date", "must be on or before the course end_date")


def _build_phases(phases: list[dict[str, Any]]) -> list[RadiotherapyPhase]:
    return [
        RadiotherapyPhase(
            id=uuid.uuid4(),
            position=i,
            technique=p["technique"],
            dose_per_fraction_cgy=float(p["dose_per_fraction_cgy"]),
            fractions=int(p["fractions"]),
            start_date=p.get("start_date"),
        )
        for i, p in enumerate(phases)
    ]


# --- courses -----------------------------------------------------------------


def with_delivered_counts(
    session: Session, courses: list[RadiotherapyCourse]
) -> list[RadiotherapyCourse]:
    """Set ``fraction_count_delivered`` and ``fraction_doses_delivered`` (the
    logged fractions' doses, cGy, for the delivered BED) on each course with ONE
    query."""
    ids = [c.id for c in courses if c.deleted_at is None]
    doses: dict[uuid.UUID, list[float]] = {}
    if ids:
        rows = session.execute(
            sa.select(FractionDelivery.course_id, FractionDelivery.dose_cgy)
            .where(FractionDelivery.course_id.in_(ids), FractionDelivery.deleted_at.is_(None))
            .order_by(FractionDelivery.course_id, FractionDelivery.delivered_on)
        )
        for course_id, dose_cgy in rows:
            doses.setdefault(course_id, []).append(float(dose_cgy))
    for c in courses:
        logged = doses.get(c.id, [])
        c.fraction_count_delivered = len(logged)  # type: ignore[attr-defined]
        c.fraction_doses_delivered = logged  # type: ignore[attr-defined]
    return courses


def _check_bolus(bolus: bool | None, thickness: float | None) -> None:
    """A bolus thickness belongs to a course with a bolus (422 otherwise)."""
    if thickness is not None and bolus is not True:
        raise field_error("bolus_thickness_cm", "only with bolus: true")


def with_delivered_count(session: Session, course: RadiotherapyCourse) -> RadiotherapyCourse:
    return with_delivered_counts(session, [course])[0]


def create_course(
    session: Session, patient: Patient, data: dict[str, Any]
) -> tuple[RadiotherapyCourse, bool]:
    """Create a course (offline-safe client id). The fingerprint covers the phases."""
    user = current_user()
    _check_dates(data["start_date"], data.get("end_date"), data["phases"])
    _check_bolus(data.get("bolus"), data.get("bolus_thickness_cm"))
    payload = {**data, "patient_id": patient.id}
    fields = {k: v for k, v in data.items() if k not in {"id", "phases"}}

    def build(record_id: uuid.UUID, fp: str) -> RadiotherapyCourse:
        return RadiotherapyCourse(
            id=record_id,
            create_hash=fp,
            created_by=user.id,
            updated_by=user.id,
            clinic_id=patient.clinic_id,
            patient_id=patient.id,
            phases=_build_phases(data["phases"]),
            **fields,
        )

    # patient_id is in the fingerprint: the same id under another patient is a 409.
    course, created = create_once(session, RadiotherapyCourse, payload, build, _dump_course)
    return with_delivered_count(session, course), created


def update_course(
    session: Session, course: RadiotherapyCourse, changes: dict[str, Any]
) -> RadiotherapyCourse:
    """Amend a course (If-Match checked by records.amend). ``phases``, when sent,
    replaces all phases; the version bumps and its snapshot shows the new phases."""
    require_if_match(course, _dump_course)  # a stale client hears 412 before rule checks
    new_phases = changes.pop("phases", None)
    start = changes.get("start_date", course.start_date)
    end = changes.get("end_date", course.end_date)
    _check_dates(start, end, new_phases if new_phases is not None else _phase_dicts(course))
    _check_logged_fractions_fit(session, course, start, end)
    _check_bolus(
        changes.get("bolus", course.bolus),
        changes.get("bolus_thickness_cm", course.bolus_thickness_cm),
    )
    phases_changed = new_phases is not None and _phase_dicts_json(new_phases) != _phase_snapshot(
        course
    )
    if phases_changed:
        changes["phases"] = _build_phases(new_phases or [])
        # Phases live in their own table: mark the course amended so its
        # version, ETag and history move even when no course column changed.
        mark_changed(session, course, "phases")
    records.amend(session, course, changes, _dump_course)
    _timing_changed(session, course.id)
    return with_delivered_count(session, course)


def _timing_changed(session: Session, course_id: uuid.UUID) -> None:
    """Tell the records built on the course's dates (timing.timing_changed)."""
    session.flush()
    timing_changed.send(course_id, session=session)


def _phase_dicts(course: RadiotherapyCourse) -> list[dict[str, Any]]:
    return [
        {
            "technique": p.technique,
            "dose_per_fraction_cgy": p.dose_per_fraction_cgy,
            "fractions": p.fractions,
            "start_date": p.start_date,
        }
        for p in course.phases
    ]


def _phase_dicts_json(phases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "technique": p["technique"],
            "dose_per_fraction_cgy": float(p["dose_per_fraction_cgy"]),
            "fractions": int(p["fractions"]),
            "start_date": to_jsonable(p.get("start_date")),
        }
        for p in phases
    ]


def _check_logged_fractions_fit(
    session: Session, course: RadiotherapyCourse, start: date, end: date | None
) -> None:
    """New course dates must still contain every logged fraction."""
    bounds = session.execute(
        sa.select(
            sa.func.min(FractionDelivery.delivered_on), sa.func.max(FractionDelivery.delivered_on)
        ).where(FractionDelivery.course_id == course.id, FractionDelivery.deleted_at.is_(None))
    ).one()
    first, last = bounds
    if first is not None and first < start:
        raise field_error("start_date", f"must be on or before the first logged fraction ({first})")
    if last is not None and end is not None and last > end:
        raise field_error("end_date", f"must be on or after the last logged fraction ({last})")


def delete_course(session: Session, course: RadiotherapyCourse) -> RadiotherapyCourse:
    records.soft_delete(session, course, _dump_course)
    _timing_changed(session, course.id)
    return with_delivered_count(session, course)


def restore_course(session: Session, course_id: uuid.UUID) -> RadiotherapyCourse:
    """Undo a delete (admin); the wounds' assessments read its dates again."""
    course = records.restore(session, RadiotherapyCourse, course_id)
    _timing_changed(session, course.id)
    return course


def list_courses(session: Session, patient: Patient, args: dict[str, Any]) -> dict[str, Any]:
    stmt = scoped(RadiotherapyCourse, include_deleted=True).where(
        RadiotherapyCourse.patient_id == patient.id
    )
    order = (RadiotherapyCourse.start_date, RadiotherapyCourse.created_at)
    page = records.list_page(
        session, stmt, RadiotherapyCourse, args, order_by=order, parent=patient
    )
    with_delivered_counts(session, page["items"])
    return page


# --- fraction log ------------------------------------------------------------


def _outside_course(course: RadiotherapyCourse, day: date) -> str | None:
    """Why a fraction on ``day`` falls outside the course's dates, or None."""
    if day < course.start_date:
        return f"must be on or after the course start_date ({course.start_date})"
    if course.end_date is not None and day > course.end_date:
        return f"must be on or before the course end_date ({course.end_date})"
    return None


def _check_delivered_on(course: RadiotherapyCourse, delivered_on: date) -> None:
    """delivered_on falls within the course (an open course ends today) and is
    not in the future; 422 otherwise."""
    records.not_in_future("delivered_on", delivered_on)
    outside = _outside_course(course, delivered_on)
    if outside is not None:
        raise field_error("delivered_on", outside)


def log_fraction(
    session: Session, course: RadiotherapyCourse, data: dict[str, Any]
) -> tuple[FractionDelivery, bool]:
    """Log one delivered fraction (offline-safe client id); its date within the course."""
    _check_delivered_on(course, data["delivered_on"])
    # course_id is in the fingerprint: the same id under another course is a 409.
    fraction, created = records.create_record(
        session,
        FractionDelivery,
        data,
        _dump_fraction,
        clinic_id=course.clinic_id,
        course_id=course.id,
    )
    if created:  # a complete log can end a course without an end date
        _timing_changed(session, course.id)
    return fraction, created


def _course_of(session: Session, fraction: FractionDelivery) -> RadiotherapyCourse:
    course = session.get(RadiotherapyCourse, fraction.course_id)
    assert course is not None  # a foreign key, and courses are never hard-deleted
    return course


def update_fraction(
    session: Session, fraction: FractionDelivery, changes: dict[str, Any]
) -> FractionDelivery:
    """Correct a logged fraction (If-Match required); a new date must still fall
    within the course. The cumulative dose reads the corrected log at once."""
    require_if_match(fraction, _dump_fraction)  # a stale client hears 412 before rule checks
    if "delivered_on" in changes:
        _check_delivered_on(_course_of(session, fraction), changes["delivered_on"])
    amended: FractionDelivery = records.amend(session, fraction, changes, _dump_fraction)
    _timing_changed(session, fraction.course_id)
    return amended


def delete_fraction(session: Session, fraction: FractionDelivery) -> FractionDelivery:
    """Mark a fraction logged by mistake deleted: it leaves the log, the dose and
    the delivered count, and stays in its history and the audit trail."""
    records.soft_delete(session, fraction, _dump_fraction)
    _timing_changed(session, fraction.course_id)
    return fraction


def restore_fraction(session: Session, fraction_id: uuid.UUID) -> FractionDelivery:
    """Undo a delete (admin). Refused (409) when the course's dates were amended
    meanwhile so that the fraction no longer falls within them: only logged
    fractions bound those amendments, so this one was not considered."""
    fraction = records.restore(session, FractionDelivery, fraction_id)
    outside = _outside_course(_course_of(session, fraction), fraction.delivered_on)
    if outside is not None:
        raise Problem(
            409,
            "Conflict",
            f"This fraction lies outside its course as now dated: delivered_on"
            f" ({fraction.delivered_on}) {outside}. Amend the course dates first.",
        )
    _timing_changed(session, fraction.course_id)
    return fraction


def list_fractions(
    session: Session, course: RadiotherapyCourse, args: dict[str, Any]
) -> dict[str, Any]:
    stmt = scoped(FractionDelivery, include_deleted=True).where(
        FractionDelivery.course_id == course.id
    )
    return records.list_page(
        session,
        stmt,
        FractionDelivery,
        args,
        order_by=(FractionDelivery.delivered_on, FractionDelivery.created_at),
        parent=course,
    )


# --- dose ----------------------------------------------------------------------


def dose_on(session: Session, course: RadiotherapyCourse, on: date) -> dict[str, Any]:
    """Cumulative dose delivered by the end of ``on`` (app/clinical/dose.py):
    from the fraction log when it has entries, else the planned weekday schedule."""
    logged = session.scalars(
        sa.select(FractionDelivery).where(
            FractionDelivery.course_id == course.id, FractionDelivery.deleted_at.is_(None)
        )
    ).all()
    phases = [
        dose.Phase(p.technique, p.dose_per_fraction_cgy, p.fractions, p.start_date)
        for p in course.phases
    ]
    try:
        result = dose.cumulative_dose_on(
            on,
            fractions=[dose.Fraction(f.delivered_on, f.dose_cgy) for f in logged],
            phases=phases,
            course_start=course.start_date,
            course_end=course.end_date,
        )
    except ValueError as exc:  # schedule cannot be placed; the course always has a start
        raise Problem(422, "Dose not computable", str(exc)) from exc
    return {
        **result.to_dict(),
        "on": result.on,
        "course_id": course.id,
        "planned_total_cgy": dose.planned_total_dose(phases),
    }
