"""Systemic therapy courses and their dated changes: the schedule rules a
course must keep, its create / amend / delete / restore and list, the changes
recorded on it, and its exposure over a window.

The schedule maths is app.clinical.therapy's; this module applies its rules
to stored courses and answers with 422s naming the broken rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clinical import therapy as sched
from app.core import records
from app.core.access import scoped
from app.core.errors import Problem
from app.core.etags import require_if_match
from app.core.history import mark_changed
from app.patients.models import Patient
from app.therapy.models import SystemicTherapy, TherapyChange
from app.therapy.schedules import (
    MAX_WINDOW_DAYS,
    active_changes,
    anti_angiogenic_extra,
    course_fields,
    schedule_of,
    to_schedule,
    today,
)
from app.therapy.schemas import SystemicTherapySchema, TherapyChangeSchema
from app.therapy.writes import lock_on_sqlite, replayed, rule_error

_dump_therapy = SystemicTherapySchema().dump
_dump_change = TherapyChangeSchema().dump


# --- the schedule rules ----------------------------------------------------------


def _check_reductions(start_dose: float, changes: Sequence[Any]) -> Any | None:
    """The first dose_reduced change whose dose is not below the dose in force."""
    dose = start_dose
    for change in changes:
        if change.kind == "dose_reduced" and change.dose is not None and change.dose >= dose:
            return change, dose
        if change.dose is not None and change.kind in ("dose_reduced", "resumed"):
            dose = change.dose
    return None


def _validate_course(fields: dict[str, Any], changes: Sequence[Any], *, new_change: bool) -> None:
    """Apply the schedule rules of app.clinical.therapy.validate_schedule plus
    "a reduction lowers the dose"; raise a 422 naming the field and the rule.

    With ``new_change`` the last of ``changes`` is the one being added, and
    errors about changes point at its fields; otherwise they point at the
    course's start_date / dose (an amendment that contradicts stored changes).
    """
    try:
        sched.validate_schedule(to_schedule(fields, changes))
    except ValueError as exc:
        msg = str(exc)
        if msg.startswith("days_on"):
            raise rule_error("days_on", msg, "days_on_positive") from exc
        if msg.startswith("days_off"):
            raise rule_error("days_off", msg, "days_off_nonneg") from exc
        if msg.startswith("dose must"):
            raise rule_error("dose", msg, "dose_positive") from exc
        if msg.startswith("stop_date"):
            raise rule_error("stop_date", msg, "stop_before_start") from exc
        if "before the start_date" in msg:
            field = "effective_on" if new_change else "start_date"
            raise rule_error(field, msg, "change_before_start") from exc
        if "needs a positive dose" in msg:
            raise rule_error("dose", msg, "dose_reduced_needs_dose") from exc
        field = "kind" if new_change else "start_date"
        raise rule_error(field, msg, "change_sequence") from exc
    bad = _check_reductions(fields["dose"], changes)
    if bad is not None:
        change, in_force = bad
        raise rule_error(
            "dose",
            f"dose_reduced on {change.effective_on.isoformat()} must be lower than the"
            f" dose in force ({in_force:g})",
            "dose_reduced_lower",
        )


def _same_agent(a: SystemicTherapy | dict[str, Any], b: SystemicTherapy) -> bool:
    """Same drug: same agent_code when both have one, else the same generic name
    (first word, case-insensitive: "Anlotinib hydrochloride" is anlotinib)."""
    agent = a["agent"] if isinstance(a, dict) else a.agent
    code = a.get("agent_code") if isinstance(a, dict) else a.agent_code
    if code and b.agent_code:
        return str(code).strip().lower() == b.agent_code.strip().lower()

    def key(name: str) -> str:
        return " ".join(name.lower().split()).split(" ")[0] if name.strip() else ""

    return key(agent) == key(b.agent)


def _check_overlap(
    session: Session,
    patient_id: uuid.UUID,
    fields: dict[str, Any],
    changes: Sequence[Any],
    exclude_id: uuid.UUID | None,
) -> None:
    """Refuse a second course of the same agent overlapping an existing one."""
    stmt = sa.select(SystemicTherapy).where(
        SystemicTherapy.patient_id == patient_id, SystemicTherapy.deleted_at.is_(None)
    )
    if exclude_id is not None:
        stmt = stmt.where(SystemicTherapy.id != exclude_id)
    mine = to_schedule(fields, changes)
    for other in session.scalars(stmt):
        if not _same_agent(fields, other):
            continue
        if sched.find_overlap([mine, schedule_of(other)]) is not None:
            end = other.stop_date.isoformat() if other.stop_date else "open-ended"
            raise rule_error(
                "start_date",
                f"overlaps the {other.agent} course {other.start_date.isoformat()} to {end}"
                f" ({other.id}); record a dose change on that course instead",
                "overlapping_course",
            )


def _as_candidate(therapy: SystemicTherapy) -> dict[str, Any]:
    """The course's schedule fields with its agent: what _check_overlap compares."""
    return {**course_fields(therapy), "agent": therapy.agent, "agent_code": therapy.agent_code}


# --- courses -----------------------------------------------------------------------


def create_therapy(
    session: Session, patient: Patient, data: dict[str, Any]
) -> tuple[SystemicTherapy, bool]:
    """Create a course; anti_angiogenic is preset from the agent when not given."""
    if data.get("anti_angiogenic") is None:
        data["anti_angiogenic"] = sched.is_anti_angiogenic(data["agent"], anti_angiogenic_extra())
    if not replayed(session, SystemicTherapy, data):
        _validate_course(data, [], new_change=False)
        _check_overlap(session, patient.id, data, [], data.get("id"))
    return records.create_record(
        session,
        SystemicTherapy,
        data,
        _dump_therapy,
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
    )


def update_therapy(
    session: Session, therapy: SystemicTherapy, changes: dict[str, Any]
) -> SystemicTherapy:
    """Amend a course (If-Match). The result must still satisfy every rule with
    the course's recorded changes."""
    fields = course_fields(therapy)
    merged = {**fields, **{k: v for k, v in changes.items() if k in fields}}
    current = active_changes(therapy)
    _validate_course(merged, current, new_change=False)
    candidate = {
        **merged,
        "agent": changes.get("agent", therapy.agent),
        "agent_code": changes.get("agent_code", therapy.agent_code),
    }
    _check_overlap(session, therapy.patient_id, candidate, current, therapy.id)
    if "agent" in changes and "anti_angiogenic" not in changes:
        # A renamed agent takes its preset again unless the client says otherwise.
        changes["anti_angiogenic"] = sched.is_anti_angiogenic(
            changes["agent"], anti_angiogenic_extra()
        )
    return records.amend(session, therapy, changes, _dump_therapy)


def delete_therapy(session: Session, therapy: SystemicTherapy) -> SystemicTherapy:
    """Soft-delete a course (If-Match)."""
    return records.soft_delete(session, therapy, _dump_therapy)


def restore_therapy(session: Session, therapy_id: uuid.UUID) -> SystemicTherapy:
    """Undo a delete (admin) unless another course of the agent now overlaps it."""
    therapy = records.restore(session, SystemicTherapy, therapy_id)
    _check_overlap(
        session, therapy.patient_id, _as_candidate(therapy), active_changes(therapy), therapy.id
    )
    return therapy


def list_therapies(session: Session, patient: Patient, args: dict[str, Any]) -> dict[str, Any]:
    """A page of the patient's courses (deleted ones as tombstones), by start date."""
    stmt = scoped(SystemicTherapy, include_deleted=True).where(
        SystemicTherapy.patient_id == patient.id
    )
    return records.list_page(
        session,
        stmt,
        SystemicTherapy,
        args,
        order_by=(SystemicTherapy.start_date, SystemicTherapy.created_at),
        parent=patient,
    )


def exposure(therapy: SystemicTherapy, start: date | None, end: date | None) -> dict[str, Any]:
    """Days on drug, on/off bands (with the dose) and cycle numbers over a window.

    Defaults: from the course start to its last day (or today for an open course).
    Computed by app.clinical.therapy (schedule_bands, which gives on_off_bands'
    answer; cycles_in).
    """
    s = schedule_of(therapy)
    start = start or s.start_date
    end = end or sched.last_day(s) or max(today(), start)
    if end < start:
        raise rule_error("to", "must not be before from", "window_order")
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise rule_error(
            "to", f"the window is longer than {MAX_WINDOW_DAYS} days", "window_too_long"
        )
    raw = sched.schedule_bands(s, start, end)
    return {
        "therapy_id": therapy.id,
        "from_": start,
        "to": end,
        "days_on_drug": sched.days_covered((b0, b1) for b0, b1, dose in raw if dose is not None),
        "bands": [
            {"start": b0, "end": b1, "on_drug": dose is not None, "dose": dose}
            for b0, b1, dose in raw
        ],
        "cycles": [
            {"number": number, "start": c0, "end": c1}
            for number, c0, c1 in sched.cycles_in(s, start, end)
        ],
    }


# --- changes recorded on a course ------------------------------------------------


def add_change(
    session: Session, therapy: SystemicTherapy, data: dict[str, Any]
) -> tuple[TherapyChange, bool]:
    """Record a dated change (offline-safe) after checking the course stays valid."""
    if not replayed(session, TherapyChange, data):
        if data["kind"] == "dose_reduced" and data.get("dose") is None:
            raise rule_error(
                "dose", "dose_reduced needs the new, lower dose", "dose_reduced_needs_dose"
            )
        new = TherapyChange(
            effective_on=data["effective_on"], kind=data["kind"], dose=data.get("dose")
        )
        existing = active_changes(therapy)
        # Same-day changes apply in recording order, so the new one goes last that day.
        ordered = sorted([*existing, new], key=lambda c: c.effective_on)
        _validate_course(course_fields(therapy), ordered, new_change=True)
    change, created = records.create_record(
        session,
        TherapyChange,
        data,
        _dump_change,
        clinic_id=therapy.clinic_id,
        therapy_id=therapy.id,
    )
    if created:
        # The course's schedule changed: new version (ETag, delta sync) and a
        # history entry naming the change.
        mark_changed(
            session,
            therapy,
            "changes",
            {"effective_on": change.effective_on, "kind": change.kind, "dose": change.dose},
        )
        session.flush()
    session.expire(therapy, ["changes"])
    return change, created


def _course_for_change(session: Session, change: TherapyChange) -> SystemicTherapy:
    """The change's course, locked: the rules below read its sibling changes."""
    therapy = session.get(
        SystemicTherapy, change.therapy_id, with_for_update=True, populate_existing=True
    )
    assert therapy is not None  # a foreign key, and courses are never hard-deleted
    lock_on_sqlite(session, therapy)
    return therapy


def _changes_with(
    therapy: SystemicTherapy, change: TherapyChange, replacement: dict[str, Any] | None
) -> list[sched.Change]:
    """The course's active changes with ``change`` replaced by ``replacement``
    (its effective_on, kind and dose) or, for None, left out; in the order they
    apply (by date, then by recording order, which the replacement keeps)."""
    keyed = [
        ((c.effective_on, c.created_at), sched.Change(c.effective_on, c.kind, c.dose))
        for c in active_changes(therapy)
        if c is not change
    ]
    if replacement is not None:
        keyed.append(
            ((replacement["effective_on"], change.created_at), sched.Change(**replacement))
        )
    return [c for _, c in sorted(keyed, key=lambda item: item[0])]


# The fields of a change a rule can name; other rules (an overlap with another
# course) are about the course as a whole.
_CHANGE_RULE_FIELDS = frozenset({"effective_on", "kind", "dose"})


def _check_course_with(
    session: Session, therapy: SystemicTherapy, changes: list[sched.Change], action: str | None
) -> None:
    """The course with ``changes`` must keep every rule and overlap no other
    course of its agent. With ``action`` (a delete or restore, which has no body
    to point at) a broken rule is a 409 saying what the action would break;
    without, a 422 on the change's fields."""
    try:
        _validate_course(course_fields(therapy), changes, new_change=True)
        _check_overlap(session, therapy.patient_id, _as_candidate(therapy), changes, therapy.id)
    except Problem as exc:
        if action is None and exc.errors and set(exc.errors) <= _CHANGE_RULE_FIELDS:
            raise
        reasons = "; ".join(m for messages in (exc.errors or {}).values() for m in messages)
        raise Problem(
            409,
            "Conflict",
            f"{action or 'This correction'} would leave the {therapy.agent} course"
            f" inconsistent: {reasons or exc.detail}",
        ) from exc


def _changed_course(session: Session, therapy: SystemicTherapy, change: TherapyChange) -> None:
    """The course's schedule moved: new course version (ETag, delta sync), and a
    history entry naming the change as it now stands."""
    mark_changed(
        session,
        therapy,
        "changes",
        {
            "id": change.id,
            "effective_on": change.effective_on,
            "kind": change.kind,
            "dose": change.dose,
            "deleted": change.deleted_at is not None,
        },
    )
    session.flush()
    session.expire(therapy, ["changes"])


def update_change(
    session: Session, change: TherapyChange, changes: dict[str, Any]
) -> TherapyChange:
    """Correct a recorded change (If-Match); the course must stay consistent."""
    require_if_match(change, _dump_change)  # a stale client hears 412 before rule checks
    changes = {k: v for k, v in changes.items() if getattr(change, k) != v}
    if not changes:
        return change  # nothing to correct: neither the change nor its course moves
    therapy = _course_for_change(session, change)
    merged = {
        "effective_on": changes.get("effective_on", change.effective_on),
        "kind": changes.get("kind", change.kind),
        "dose": changes.get("dose", change.dose),
    }
    if merged["kind"] == "dose_reduced" and merged["dose"] is None:
        raise rule_error(
            "dose", "dose_reduced needs the new, lower dose", "dose_reduced_needs_dose"
        )
    if changes.keys() != {"reason"}:
        _check_course_with(session, therapy, _changes_with(therapy, change, merged), None)
    records.amend(session, change, changes, _dump_change)
    _changed_course(session, therapy, change)
    return change


def delete_change(session: Session, change: TherapyChange) -> TherapyChange:
    """Withdraw a change recorded by mistake (If-Match). 409 when the course
    would break a rule without it (a resume left without its hold)."""
    require_if_match(change, _dump_change)
    therapy = _course_for_change(session, change)
    _check_course_with(
        session, therapy, _changes_with(therapy, change, None), "Deleting this change"
    )
    records.soft_delete(session, change, _dump_change)
    _changed_course(session, therapy, change)
    return change


def restore_change(session: Session, change_id: uuid.UUID) -> TherapyChange:
    """Undo a delete (admin). 409 when the course as it now stands would break a
    rule with the change back."""
    change = records.restore(session, TherapyChange, change_id)
    therapy = _course_for_change(session, change)
    replacement = {"effective_on": change.effective_on, "kind": change.kind, "dose": change.dose}
    _check_course_with(
        session, therapy, _changes_with(therapy, change, replacement), "Restoring this change"
    )
    _changed_course(session, therapy, change)
    return change


def list_changes(
    session: Session, therapy: SystemicTherapy, args: dict[str, Any]
) -> dict[str, Any]:
    """A page of the course's changes (deleted ones as tombstones), by date."""
    stmt = scoped(TherapyChange, include_deleted=True).where(TherapyChange.therapy_id == therapy.id)
    return records.list_page(
        session,
        stmt,
        TherapyChange,
        args,
        order_by=(TherapyChange.effective_on, TherapyChange.created_at),
        parent=therapy,
    )
