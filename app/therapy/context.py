"""The therapy read API other features build on (summaries, exports, dashboard).

Names and return shapes are stable. They do NOT check permissions or write
audit events: call them after loading the patient / wound with ``get_record`` (or inside a job that
already scoped its clinic). Every value returned is JSON-ready (dates and
datetimes as ISO 8601 strings, ids as strings).

- ``therapy_context(session, patient_id, start: date, end: date) -> dict``::

      {"window": {"start", "end"},
       "therapies": [{"id", "agent", "agent_code", "anti_angiogenic", "dose_unit",
                      "start_date", "stop_date", "days_on", "days_off",
                      "exposure_days", "bands": [{"start", "end", "dose"}]}],
       "anti_angiogenic_bands": [{"therapy_id", "agent", "start", "end", "dose",
                                  "dose_unit"}],
       "dose_changes": [{"therapy_id", "agent", "effective_on", "kind", "dose",
                         "dose_unit", "reason"}],
       "anti_angiogenic_exposure_days": int}

  Courses overlapping [start, end] (both inclusive); ``bands`` are the on-drug
  bands only (days off are the gaps), clipped to the window.
- ``topicals_for_wound(session, wound_id) -> list[dict]``: the wound's topical
  treatments, oldest first, ``{"id", "category", "product", "start_date",
  "stop_date"}`` (no free-text notes, so exports can use it as is).
- ``lab_grades_before(session, patient_id, at: datetime) -> dict``:
  ``{test: {"id", "value", "unit", "grade", "term", "taken_at"}}`` for the most
  recent result of each test taken at or before ``at`` (value and unit are the
  canonical ones; grade is the CTCAE v5.0 grade 0-4). Tests without a result
  are absent.
- ``anti_angiogenic_exposure_days(session, patient_id, start, end) -> int``:
  calendar days in [start, end] on which the patient took at least one
  anti-angiogenic drug (two agents on one day count once).
- ``worst_lab_grades(session, patient_id, start: datetime, end: datetime) -> dict``:
  ``{test: grade}`` worst CTCAE grade per test among results taken in the window.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clinical import labs as lab_rules
from app.clinical import therapy as sched
from app.core.formats import iso
from app.therapy.models import LabResult, SystemicTherapy, TherapyChange, TopicalTreatment
from app.therapy.schedules import MAX_WINDOW_DAYS


def _reader(session: Session, *models: type) -> sa.Connection:
    """The session's connection for the read helpers' Core SELECTs.

    Core SELECTs of the needed columns skip the ORM's entity loading, which
    costs more than these small queries. A connection does not autoflush: the
    session is flushed first only when it holds unflushed changes to ``models``
    (the rows the helper reads), so an audit event added by the caller's
    read is not written early for nothing; it is flushed with the request."""
    if any(isinstance(obj, models) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.flush()
    return session.connection()


def _param(name: str, column: Any) -> Any:
    return sa.bindparam(name, type_=column.type)


# Built once and reused with parameters: building a SELECT costs more than
# running it on one patient's handful of rows.
# Courses overlapping the window, each with its live changes (NULLs when it has
# none): courses in (start_date, created_at) order, changes by (effective_on,
# created_at) as active_changes orders them.
_COURSES_STMT = (
    sa.select(
        SystemicTherapy.id,
        SystemicTherapy.agent,
        SystemicTherapy.agent_code,
        SystemicTherapy.anti_angiogenic,
        SystemicTherapy.dose,
        SystemicTherapy.dose_unit,
        SystemicTherapy.days_on,
        SystemicTherapy.days_off,
        SystemicTherapy.start_date,
        SystemicTherapy.stop_date,
        TherapyChange.id.label("change_id"),
        TherapyChange.effective_on,
        TherapyChange.kind,
        TherapyChange.dose.label("change_dose"),
        TherapyChange.reason,
    )
    .outerjoin(
        TherapyChange,
        sa.and_(TherapyChange.therapy_id == SystemicTherapy.id, TherapyChange.deleted_at.is_(None)),
    )
    .where(
        SystemicTherapy.patient_id == _param("patient_id", SystemicTherapy.patient_id),
        SystemicTherapy.deleted_at.is_(None),
        SystemicTherapy.start_date <= _param("end", SystemicTherapy.start_date),
        sa.or_(
            SystemicTherapy.stop_date.is_(None),
            SystemicTherapy.stop_date >= _param("start", SystemicTherapy.stop_date),
        ),
    )
    .order_by(
        SystemicTherapy.start_date,
        SystemicTherapy.created_at,
        SystemicTherapy.id,
        TherapyChange.effective_on,
        TherapyChange.created_at,
        TherapyChange.id,
    )
)
_TOPICALS_STMT = (
    sa.select(
        TopicalTreatment.id,
        TopicalTreatment.category,
        TopicalTreatment.product,
        TopicalTreatment.start_date,
        TopicalTreatment.stop_date,
    )
    .where(
        TopicalTreatment.wound_id == _param("wound_id", TopicalTreatment.wound_id),
        TopicalTreatment.deleted_at.is_(None),
    )
    .order_by(TopicalTreatment.start_date, TopicalTreatment.created_at)
)
# Every test's results up to ``at``, newest first: the first row of a test is its latest.
_LABS_BEFORE_STMT = (
    sa.select(
        LabResult.id,
        LabResult.test,
        LabResult.canonical_value,
        LabResult.canonical_unit,
        LabResult.ctcae_grade,
        LabResult.ctcae_term,
        LabResult.taken_at,
    )
    .where(
        LabResult.patient_id == _param("patient_id", LabResult.patient_id),
        LabResult.deleted_at.is_(None),
        LabResult.taken_at <= _param("at", LabResult.taken_at),
    )
    .order_by(LabResult.taken_at.desc(), LabResult.created_at.desc())
)


def _courses_in(
    session: Session, patient_id: uuid.UUID, start: date, end: date
) -> list[tuple[Any, sched.Schedule, list[Any]]]:
    """Live courses overlapping [start, end] (both inclusive), oldest first, as
    (course row, its schedule, its live changes in order): one SELECT."""
    rows = (
        _reader(session, SystemicTherapy, TherapyChange)
        .execute(_COURSES_STMT, {"patient_id": patient_id, "start": start, "end": end})
        .all()  # one fetch (iterating a result fetches row by row)
    )
    grouped: dict[Any, tuple[Any, list[Any]]] = {}
    for row in rows:
        changes = grouped.setdefault(row.id, (row, []))[1]
        if row.change_id is not None:
            changes.append(row)
    return [
        (
            course,
            sched.Schedule(
                start_date=course.start_date,
                stop_date=course.stop_date,
                days_on=course.days_on,
                days_off=course.days_off,
                dose=course.dose,
                changes=tuple(sched.Change(c.effective_on, c.kind, c.change_dose) for c in changes),
            ),
            changes,
        )
        for course, changes in grouped.values()
    ]


def schedules_on(session: Session, patient_id: uuid.UUID, day: date) -> list[tuple[str, Any]]:
    """(agent, schedule) of every live systemic therapy course of the patient
    whose dates include ``day`` (app.clinical.late_effects.radiation_recall
    decides from them): one SELECT."""
    return [(course.agent, s) for course, s, _ in _courses_in(session, patient_id, day, day)]


def _check_window(start: date, end: date) -> None:
    """ValueError for a reversed window or one longer than MAX_WINDOW_DAYS."""
    if end < start:
        raise ValueError("end must not be before start")
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise ValueError(f"window longer than {MAX_WINDOW_DAYS} days")


def therapy_context(
    session: Session, patient_id: uuid.UUID, start: date, end: date
) -> dict[str, Any]:
    """Systemic therapy over [start, end]: per-course on-drug bands, the
    anti-angiogenic bands, dated changes in the window, and anti-angiogenic
    exposure days. Shape in the module docstring. ValueError if end < start or
    the window exceeds MAX_WINDOW_DAYS.

    One SELECT (courses with their changes). Each course's bands come from
    ``schedule_bands`` (app.clinical.therapy's dose_on, asked only where it can
    change); exposure days are counted from those bands, the days with a dose
    being exactly the on_drug days."""
    _check_window(start, end)
    therapies: list[dict[str, Any]] = []
    aa_bands: list[dict[str, Any]] = []
    aa_days: list[tuple[date, date]] = []
    dose_changes: list[dict[str, Any]] = []
    for course, s, changes in _courses_in(session, patient_id, start, end):
        on = [band for band in sched.schedule_bands(s, start, end) if band[2] is not None]
        on_bands = [{"start": iso(b0), "end": iso(b1), "dose": dose} for b0, b1, dose in on]
        course_id = str(course.id)
        therapies.append(
            {
                "id": course_id,
                "agent": course.agent,
                "agent_code": course.agent_code,
                "anti_angiogenic": course.anti_angiogenic,
                "dose_unit": course.dose_unit,
                "start_date": iso(course.start_date),
                "stop_date": iso(course.stop_date),
                "days_on": course.days_on,
                "days_off": course.days_off,
                "exposure_days": sum((b1 - b0).days + 1 for b0, b1, _ in on),
                "bands": on_bands,
            }
        )
        if course.anti_angiogenic:
            aa_bands += [
                {"therapy_id": course_id, "agent": course.agent, "dose_unit": course.dose_unit}
                | band
                for band in on_bands
            ]
            aa_days += [(b0, b1) for b0, b1, _ in on]
        for change in changes:
            if start <= change.effective_on <= end:
                dose_changes.append(
                    {
                        "therapy_id": course_id,
                        "agent": course.agent,
                        "effective_on": iso(change.effective_on),
                        "kind": change.kind,
                        "dose": change.change_dose,
                        "dose_unit": course.dose_unit,
                        "reason": change.reason,
                    }
                )
    aa_bands.sort(key=lambda b: b["start"])
    dose_changes.sort(key=lambda c: c["effective_on"])
    return {
        "window": {"start": iso(start), "end": iso(end)},
        "therapies": therapies,
        "anti_angiogenic_bands": aa_bands,
        "dose_changes": dose_changes,
        "anti_angiogenic_exposure_days": sched.days_covered(aa_days),
    }


def anti_angiogenic_exposure_days(
    session: Session, patient_id: uuid.UUID, start: date, end: date
) -> int:
    """Calendar days in [start, end] (inclusive) on at least one anti-angiogenic
    drug, by the courses' schedules and changes (app.clinical.therapy's
    union_exposure_days: on_drug, through the on-drug bands)."""
    _check_window(start, end)
    courses = _courses_in(session, patient_id, start, end)
    return sched.union_exposure_days(
        (s for course, s, _ in courses if course.anti_angiogenic), start, end
    )


def topicals_for_wound(session: Session, wound_id: uuid.UUID) -> list[dict[str, Any]]:
    """The wound's topical treatments (not deleted), oldest first, without notes."""
    rows = _reader(session, TopicalTreatment).execute(_TOPICALS_STMT, {"wound_id": wound_id}).all()
    return [
        {
            "id": str(t.id),
            "category": t.category,
            "product": t.product,
            "start_date": iso(t.start_date),
            "stop_date": iso(t.stop_date),
        }
        for t in rows
    ]


def lab_grades_before(
    session: Session, patient_id: uuid.UUID, at: datetime
) -> dict[str, dict[str, Any]]:
    """Most recent result of each test taken at or before ``at`` (e.g. the
    platelet count before a PRP session), with its stored CTCAE grade.

    One SELECT of the patient's results up to ``at``, newest first."""
    rows = (
        _reader(session, LabResult)
        .execute(_LABS_BEFORE_STMT, {"patient_id": patient_id, "at": at})
        .all()
    )
    latest: dict[str, Any] = {}
    for lab in rows:
        latest.setdefault(lab.test, lab)
    return {
        test: {
            "id": str(lab.id),
            "value": lab.canonical_value,
            "unit": lab.canonical_unit,
            "grade": lab.ctcae_grade,
            "term": lab.ctcae_term,
            "taken_at": iso(lab.taken_at),
        }
        for test in lab_rules.TESTS
        if (lab := latest.get(test)) is not None
    }


def worst_lab_grades(
    session: Session, patient_id: uuid.UUID, start: datetime, end: datetime
) -> dict[str, int]:
    """Worst (highest) CTCAE grade per test among results taken in [start, end]."""
    rows = session.execute(
        sa.select(LabResult.test, sa.func.max(LabResult.ctcae_grade))
        .where(
            LabResult.patient_id == patient_id,
            LabResult.deleted_at.is_(None),
            LabResult.taken_at >= start,
            LabResult.taken_at <= end,
        )
        .group_by(LabResult.test)
    )
    return {test: grade for test, grade in rows if grade is not None}
