"""Therapy context: systemic courses and their changes, topical treatments,
laboratory results; and the read helpers other features build on.

Functions for other features (summaries, exports, dashboard). Names and return
shapes are stable. They do NOT check permissions or write audit events: call
them after loading the patient / wound with ``get_record`` (or inside a job that
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
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from app.clinical import labs
from app.clinical import therapy as sched
from app.core import records
from app.core.access import scoped
from app.core.errors import Problem, field_error
from app.core.etags import require_if_match
from app.core.history import mark_changed
from app.patients.models import Patient
from app.therapy.models import LabResult, SystemicTherapy, TherapyChange, TopicalTreatment
from app.therapy.schemas import (
    LabResultSchema,
    SystemicTherapySchema,
    TherapyChangeSchema,
    TopicalTreatmentSchema,
)
from app.wounds.models import Wound

_dump_therapy = SystemicTherapySchema().dump
_dump_change = TherapyChangeSchema().dump
_dump_topical = TopicalTreatmentSchema().dump
_dump_lab = LabResultSchema().dump

# Longest window the exposure endpoint walks day by day (about ten years).
MAX_WINDOW_DAYS = 3660


def _rule(message: str, rule: str) -> str:
    return f"{message} (rule: {rule})"


def _today() -> date:
    return datetime.now(UTC).date()


def _replayed(session: Session, model: Any, data: dict[str, Any]) -> bool:
    """Whether this create names a client id already stored (a replay or a 409):
    then the content rules were checked the first time and create_record answers."""
    return data.get("id") is not None and session.get(model, data["id"]) is not None


def lock_on_sqlite(session: Session, record: Any) -> None:
    """Take SQLite's write lock before rules read sibling rows.

    PostgreSQL locks the parent row (SELECT ... FOR UPDATE in get_record). The
    SQLite driver starts a transaction only at the first write, so two requests
    could both read "no overlapping course" and both insert; a no-op UPDATE of the
    parent makes the second wait for the first to commit, then read its row.

    The record was loaded before the lock, with what it loads eagerly (a
    course's changes): the second request re-reads it once it holds the lock,
    or its rules would judge the course as it stood before the first committed.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    model = type(record)
    session.execute(
        sa.update(model).where(model.id == record.id).values(updated_at=model.updated_at),
        execution_options={"synchronize_session": False},
    )
    session.refresh(record)


# --- systemic therapy: schedule rules ----------------------------------------


def anti_angiogenic_extra() -> list[str]:
    """Clinic-configured extra anti-angiogenic agent names (ANTI_ANGIOGENIC_EXTRA)."""
    raw: Any = current_app.config.get("ANTI_ANGIOGENIC_EXTRA", "") if has_app_context() else ""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    return [name.strip() for name in items if name and name.strip()]


def active_changes(therapy: SystemicTherapy) -> list[TherapyChange]:
    """The course's changes that are not deleted, by date then by recording order."""
    return sorted(
        (c for c in therapy.changes if c.deleted_at is None),
        key=lambda c: (c.effective_on, c.created_at),
    )


def _schedule(fields: dict[str, Any], changes: Iterable[Any]) -> sched.Schedule:
    return sched.Schedule(
        start_date=fields["start_date"],
        stop_date=fields.get("stop_date"),
        days_on=fields["days_on"],
        days_off=fields["days_off"],
        dose=fields["dose"],
        changes=tuple(sched.Change(c.effective_on, c.kind, c.dose) for c in changes),
    )


def schedule_of(therapy: SystemicTherapy) -> sched.Schedule:
    """The pure schedule (app.clinical.therapy) of a stored course."""
    return _schedule(_fields(therapy), active_changes(therapy))


def _fields(therapy: SystemicTherapy) -> dict[str, Any]:
    return {
        "start_date": therapy.start_date,
        "stop_date": therapy.stop_date,
        "days_on": therapy.days_on,
        "days_off": therapy.days_off,
        "dose": therapy.dose,
    }


def derived_today(therapy: SystemicTherapy) -> dict[str, Any]:
    """on_drug_today, dose_today, cycle_today (calendar day in UTC)."""
    today = _today()
    try:
        s = schedule_of(therapy)
        return {
            "on_drug_today": sched.on_drug(s, today),
            "dose_today": sched.dose_on(s, today),
            "cycle_today": sched.cycle_number(s, today),
        }
    except ValueError:  # a stored course that breaks a rule: say nothing rather than fail
        return {"on_drug_today": False, "dose_today": None, "cycle_today": None}


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
        sched.validate_schedule(_schedule(fields, changes))
    except ValueError as exc:
        msg = str(exc)
        if msg.startswith("days_on"):
            raise field_error("days_on", _rule(msg, "days_on_positive")) from exc
        if msg.startswith("days_off"):
            raise field_error("days_off", _rule(msg, "days_off_nonneg")) from exc
        if msg.startswith("dose must"):
            raise field_error("dose", _rule(msg, "dose_positive")) from exc
        if msg.startswith("stop_date"):
            raise field_error("stop_date", _rule(msg, "stop_before_start")) from exc
        if "before the start_date" in msg:
            field = "effective_on" if new_change else "start_date"
            raise field_error(field, _rule(msg, "change_before_start")) from exc
        if "needs a positive dose" in msg:
            raise field_error("dose", _rule(msg, "dose_reduced_needs_dose")) from exc
        field = "kind" if new_change else "start_date"
        raise field_error(field, _rule(msg, "change_sequence")) from exc
    bad = _check_reductions(fields["dose"], changes)
    if bad is not None:
        change, in_force = bad
        raise field_error(
            "dose",
            _rule(
                f"dose_reduced on {change.effective_on.isoformat()} must be lower than the"
                f" dose in force ({in_force:g})",
                "dose_reduced_lower",
            ),
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
    mine = _schedule(fields, changes)
    for other in session.scalars(stmt):
        if not _same_agent(fields, other):
            continue
        if sched.find_overlap([mine, schedule_of(other)]) is not None:
            end = other.stop_date.isoformat() if other.stop_date else "open-ended"
            raise field_error(
                "start_date",
                _rule(
                    f"overlaps the {other.agent} course {other.start_date.isoformat()} to {end}"
                    f" ({other.id}); record a dose change on that course instead",
                    "overlapping_course",
                ),
            )


# --- systemic therapy: services ------------------------------------------------


def create_therapy(
    session: Session, patient: Patient, data: dict[str, Any]
) -> tuple[SystemicTherapy, bool]:
    """Create a course; anti_angiogenic is preset from the agent when not given."""
    if data.get("anti_angiogenic") is None:
        data["anti_angiogenic"] = sched.is_anti_angiogenic(data["agent"], anti_angiogenic_extra())
    if not _replayed(session, SystemicTherapy, data):
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
    merged = {**_fields(therapy), **{k: v for k, v in changes.items() if k in _fields(therapy)}}
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
    return records.soft_delete(session, therapy, _dump_therapy)


def restore_therapy(session: Session, therapy_id: uuid.UUID) -> SystemicTherapy:
    """Undo a delete (admin) unless another course of the agent now overlaps it."""
    therapy = records.restore(session, SystemicTherapy, therapy_id)
    _check_overlap(
        session,
        therapy.patient_id,
        {**_fields(therapy), "agent": therapy.agent, "agent_code": therapy.agent_code},
        active_changes(therapy),
        therapy.id,
    )
    return therapy


def list_therapies(session: Session, patient: Patient, args: dict[str, Any]) -> dict[str, Any]:
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


def add_change(
    session: Session, therapy: SystemicTherapy, data: dict[str, Any]
) -> tuple[TherapyChange, bool]:
    """Record a dated change (offline-safe) after checking the course stays valid."""
    if not _replayed(session, TherapyChange, data):
        if data["kind"] == "dose_reduced" and data.get("dose") is None:
            raise field_error(
                "dose", _rule("dose_reduced needs the new, lower dose", "dose_reduced_needs_dose")
            )
        new = TherapyChange(
            effective_on=data["effective_on"], kind=data["kind"], dose=data.get("dose")
        )
        existing = active_changes(therapy)
        # Same-day changes apply in recording order, so the new one goes last that day.
        ordered = sorted([*existing, new], key=lambda c: c.effective_on)
        _validate_course(_fields(therapy), ordered, new_change=True)
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
        _validate_course(_fields(therapy), changes, new_change=True)
        _check_overlap(
            session,
            therapy.patient_id,
            {**_fields(therapy), "agent": therapy.agent, "agent_code": therapy.agent_code},
            changes,
            therapy.id,
        )
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
        raise field_error(
            "dose", _rule("dose_reduced needs the new, lower dose", "dose_reduced_needs_dose")
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
    stmt = scoped(TherapyChange, include_deleted=True).where(TherapyChange.therapy_id == therapy.id)
    return records.list_page(
        session,
        stmt,
        TherapyChange,
        args,
        order_by=(TherapyChange.effective_on, TherapyChange.created_at),
        parent=therapy,
    )


def _last_day(s: sched.Schedule) -> date | None:
    ends = [c.effective_on - timedelta(days=1) for c in s.changes if c.kind == "stopped"]
    if s.stop_date is not None:
        ends.append(s.stop_date)
    return min(ends) if ends else None


def _cycles(s: sched.Schedule, start: date, end: date) -> list[dict[str, Any]]:
    """Cycles of the course touching [start, end], each clipped to the window
    and to the course."""
    last = _last_day(s)
    lo = max(start, s.start_date)
    hi = end if last is None else min(end, last)
    if hi < lo:
        return []
    length = s.days_on + s.days_off
    out = []
    number = (lo - s.start_date).days // length + 1
    while True:
        c_start = s.start_date + timedelta(days=(number - 1) * length)
        if c_start > hi:
            break
        c_end = c_start + timedelta(days=length - 1)
        out.append({"number": number, "start": max(c_start, lo), "end": min(c_end, hi)})
        number += 1
    return out


def exposure(therapy: SystemicTherapy, start: date | None, end: date | None) -> dict[str, Any]:
    """Days on drug, on/off bands (with the dose) and cycle numbers over a window.

    Defaults: from the course start to its last day (or today for an open course).
    Computed by app.clinical.therapy (on_drug, on_off_bands).
    """
    s = schedule_of(therapy)
    start = start or s.start_date
    end = end or _last_day(s) or max(_today(), start)
    if end < start:
        raise field_error("to", _rule("must not be before from", "window_order"))
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise field_error(
            "to", _rule(f"the window is longer than {MAX_WINDOW_DAYS} days", "window_too_long")
        )
    raw = sched.on_off_bands(s, start, end)
    return {
        "therapy_id": therapy.id,
        "from_": start,
        "to": end,
        "days_on_drug": sum((b1 - b0).days + 1 for b0, b1, dose in raw if dose is not None),
        "bands": [
            {"start": b0, "end": b1, "on_drug": dose is not None, "dose": dose}
            for b0, b1, dose in raw
        ],
        "cycles": _cycles(s, start, end),
    }


# --- topical treatments --------------------------------------------------------


def _check_topical_dates(fields: dict[str, Any]) -> None:
    stop = fields.get("stop_date")
    if stop is not None and stop < fields["start_date"]:
        raise field_error("stop_date", _rule("must not be before start_date", "stop_before_start"))


def create_topical(
    session: Session, wound: Wound, data: dict[str, Any]
) -> tuple[TopicalTreatment, bool]:
    _check_topical_dates(data)
    return records.create_record(
        session,
        TopicalTreatment,
        data,
        _dump_topical,
        clinic_id=wound.clinic_id,
        wound_id=wound.id,
    )


def update_topical(
    session: Session, topical: TopicalTreatment, changes: dict[str, Any]
) -> TopicalTreatment:
    _check_topical_dates(
        {
            "start_date": changes.get("start_date", topical.start_date),
            "stop_date": changes.get("stop_date", topical.stop_date),
        }
    )
    return records.amend(session, topical, changes, _dump_topical)


def delete_topical(session: Session, topical: TopicalTreatment) -> TopicalTreatment:
    return records.soft_delete(session, topical, _dump_topical)


def list_topicals(session: Session, wound: Wound, args: dict[str, Any]) -> dict[str, Any]:
    stmt = scoped(TopicalTreatment, include_deleted=True).where(
        TopicalTreatment.wound_id == wound.id
    )
    return records.list_page(
        session,
        stmt,
        TopicalTreatment,
        args,
        order_by=(TopicalTreatment.start_date, TopicalTreatment.created_at),
        parent=wound,
    )


# --- laboratory results ----------------------------------------------------------

# Config keys of the lower limits of normal, with the ReferenceLimits field each sets.
LLN_CONFIG_KEYS: dict[str, str] = {
    "LAB_LLN_HEMOGLOBIN": "hemoglobin_lln_g_dl",
    "LAB_LLN_PLATELETS": "platelets_lln",
    "LAB_LLN_NEUTROPHILS": "neutrophils_lln",
    "LAB_LLN_ALBUMIN": "albumin_lln",
}


def reference_limits() -> labs.ReferenceLimits:
    """The configured lower limits of normal (CTCAE grade 1 is "< LLN")."""
    defaults = labs.ReferenceLimits()
    config = current_app.config if has_app_context() else {}
    return labs.ReferenceLimits(
        **{
            attr: float(config.get(key, getattr(defaults, attr)))
            for key, attr in LLN_CONFIG_KEYS.items()
        }
    )


def _graded(fields: dict[str, Any]) -> dict[str, Any]:
    """Canonical value, unit and CTCAE v5.0 grade (app.clinical.labs) of a result,
    or a 422: unknown unit on ``unit`` (listing the accepted ones), impossible
    magnitude on ``value``."""
    test, value, unit = fields["test"], fields["value"], fields["unit"]
    try:
        # Rounded so float noise of the conversion (70 g/L -> 7.000000000000001) is not shown.
        canonical = round(labs.to_canonical(test, value, unit), 6)
        # Inside the try: a tiny value can round to 0, which the grader refuses.
        grade = labs.grade_lab(test, canonical, reference_limits())
    except labs.UnitError as exc:
        raise field_error("unit", _rule(str(exc), "accepted_unit")) from exc
    except ValueError as exc:
        raise field_error("value", _rule(str(exc), "plausible_range")) from exc
    return {
        "canonical_value": canonical,
        "canonical_unit": labs.CANONICAL_UNITS[test],
        "ctcae_term": grade.term,
        "ctcae_grade": grade.value,
        "ctcae_reasons": list(grade.reasons),
    }


def create_lab(session: Session, patient: Patient, data: dict[str, Any]) -> tuple[LabResult, bool]:
    """Record a result; the grade is taken against the limits configured now
    (a later change of limits does not regrade stored results)."""
    records.not_in_future("taken_at", data["taken_at"])
    data["taken_at"] = data["taken_at"].astimezone(UTC)  # UTC out, also in this response
    derived = _graded(data)
    return records.create_record(
        session,
        LabResult,
        data,
        _dump_lab,
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        **derived,
    )


def update_lab(session: Session, lab: LabResult, changes: dict[str, Any]) -> LabResult:
    """Amend a result (If-Match); canonical value and grade are derived again."""
    records.not_in_future("taken_at", changes.get("taken_at"))
    if changes.get("taken_at") is not None:
        changes["taken_at"] = changes["taken_at"].astimezone(UTC)
    merged = {
        "test": changes.get("test", lab.test),
        "value": changes.get("value", lab.value),
        "unit": changes.get("unit", lab.unit),
    }
    return records.amend(session, lab, {**changes, **_graded(merged)}, _dump_lab)


def delete_lab(session: Session, lab: LabResult) -> LabResult:
    return records.soft_delete(session, lab, _dump_lab)


def list_labs(session: Session, patient: Patient, args: dict[str, Any]) -> dict[str, Any]:
    stmt = scoped(LabResult, include_deleted=True).where(LabResult.patient_id == patient.id)
    if "test" in args:
        stmt = stmt.where(LabResult.test == args["test"])
    return records.list_page(
        session, stmt, LabResult, args, order_by=(LabResult.taken_at,), parent=patient
    )


# --- helpers for other features (see the module docstring) -------------------------


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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


def _check_window(start: date, end: date) -> None:
    if end < start:
        raise ValueError("end must not be before start")
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise ValueError(f"window longer than {MAX_WINDOW_DAYS} days")


def _days_covered(bands: Iterable[tuple[date, date]]) -> int:
    """Calendar days in the union of inclusive (start, end) date bands."""
    days = 0
    last: date | None = None  # the last day already counted
    for b0, b1 in sorted(bands):
        if last is not None and b0 <= last:
            b0 = last + timedelta(days=1)
        if b1 >= b0:
            days += (b1 - b0).days + 1
            last = b1
    return days


def schedule_bands(
    s: sched.Schedule, start: date, end: date
) -> list[tuple[date, date, float | None]]:
    """app.clinical.therapy.on_off_bands(s, start, end), without walking every day.

    dose_on is constant between the days where the schedule can change: the
    course's first day and the day after its last, each cycle's first day and
    first day off, and each change's date. So dose_on is asked only on those
    days (and on ``start``) and each answer covers the days up to the next one:
    the same bands for a fraction of the calls over a healing period of months.
    tests/therapy checks the equality with the day-by-day function on random
    schedules. ValueError as the day-by-day function (invalid schedule, end < start).
    """
    sched.validate_schedule(s)  # before anything else, as the day-by-day function
    if end < start:
        raise ValueError("end must not be before start")
    one = timedelta(days=1)
    edges = {start, s.start_date, *(c.effective_on for c in s.changes)}
    last = _last_day(s)
    if last is not None:
        edges.add(last + one)
    length = s.days_on + s.days_off
    cycle = s.start_date + timedelta(days=max(0, (start - s.start_date).days // length) * length)
    while cycle <= end:
        edges.add(cycle)
        edges.add(cycle + timedelta(days=s.days_on))
        cycle += timedelta(days=length)
    days = sorted(d for d in edges if start <= d <= end)
    bands: list[tuple[date, date, float | None]] = []
    # doses_on checks the schedule once for all the days (dose_on would, per day).
    for i, (day, dose) in enumerate(zip(days, sched.doses_on(s, days), strict=True)):
        until = days[i + 1] - one if i + 1 < len(days) else end
        if bands and bands[-1][2] == dose:
            bands[-1] = (bands[-1][0], until, dose)
        else:
            bands.append((day, until, dose))
    return bands


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
        on = [(b0, b1, dose) for b0, b1, dose in schedule_bands(s, start, end) if dose is not None]
        on_bands = [{"start": _iso(b0), "end": _iso(b1), "dose": dose} for b0, b1, dose in on]
        course_id = str(course.id)
        therapies.append(
            {
                "id": course_id,
                "agent": course.agent,
                "agent_code": course.agent_code,
                "anti_angiogenic": course.anti_angiogenic,
                "dose_unit": course.dose_unit,
                "start_date": _iso(course.start_date),
                "stop_date": _iso(course.stop_date),
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
                        "effective_on": _iso(change.effective_on),
                        "kind": change.kind,
                        "dose": change.change_dose,
                        "dose_unit": course.dose_unit,
                        "reason": change.reason,
                    }
                )
    aa_bands.sort(key=lambda b: b["start"])
    dose_changes.sort(key=lambda c: c["effective_on"])
    return {
        "window": {"start": _iso(start), "end": _iso(end)},
        "therapies": therapies,
        "anti_angiogenic_bands": aa_bands,
        "dose_changes": dose_changes,
        "anti_angiogenic_exposure_days": _days_covered(aa_days),
    }


def anti_angiogenic_exposure_days(
    session: Session, patient_id: uuid.UUID, start: date, end: date
) -> int:
    """Calendar days in [start, end] (inclusive) on at least one anti-angiogenic
    drug, by the courses' schedules and changes (app.clinical.therapy.on_drug,
    through the on-drug bands)."""
    _check_window(start, end)
    return _days_covered(
        (b0, b1)
        for course, s, _ in _courses_in(session, patient_id, start, end)
        if course.anti_angiogenic
        for b0, b1, dose in schedule_bands(s, start, end)
        if dose is not None
    )


def topicals_for_wound(session: Session, wound_id: uuid.UUID) -> list[dict[str, Any]]:
    """The wound's topical treatments (not deleted), oldest first, without notes."""
    rows = _reader(session, TopicalTreatment).execute(_TOPICALS_STMT, {"wound_id": wound_id}).all()
    return [
        {
            "id": str(t.id),
            "category": t.category,
            "product": t.product,
            "start_date": _iso(t.start_date),
            "stop_date": _iso(t.stop_date),
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
            "taken_at": _iso(lab.taken_at),
        }
        for test in labs.TESTS
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
