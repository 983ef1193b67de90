"""The patient summary (GET /patients/{id}/summary): a patient's wounds with
their statuses, radiotherapy courses with total dose, systemic therapies and a
timeline of what happened when.

``load_patient`` runs the queries (a fixed number of Core SELECTs, whatever the
number of wounds); the section builders below turn its rows into the answer
without touching the database.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.assessments.models import Assessment
from app.clinical.dose import planned_total_dose
from app.clinical.trajectory import TrajectoryRules
from app.clinics.models import Clinic
from app.core import audit
from app.core.access import clinic_clause, not_found, require
from app.core.formats import iso
from app.patients.models import Patient
from app.procedures.models import Procedure
from app.radiotherapy.models import RadiotherapyCourse, RadiotherapyPhase
from app.summaries.statuses import (
    by_wound,
    in_irradiated_field,
    past_closures,
    statuses_for,
    trajectory_rules,
)
from app.therapy.models import SystemicTherapy, TherapyChange
from app.wounds.models import Wound

# Same-day events in causal order (e.g. the last fraction, then the wound opening).
_EVENT_ORDER = {
    "radiotherapy_start": 0,
    "therapy_start": 1,
    "radiotherapy_end": 2,
    "wound_onset": 3,
    "procedure": 4,
}


@dataclass
class PatientRows:
    """Everything a patient summary is built from (Core rows)."""

    patient: Any
    wounds: Sequence[Any]
    assessments: dict[Any, list[Any]]  # by wound id: the rows statuses_for reads
    procedures: Sequence[Any]
    courses: Sequence[Any]
    phases: dict[Any, list[Any]]  # by course id, in position order
    therapies: Sequence[Any]
    changes: Sequence[Any]


# ------------------------------------------------------------------------ loader


def load_patient(session: Session, patient_id: uuid.UUID) -> PatientRows:
    """Load a patient the caller may read (404 otherwise) with their live wounds,
    assessments, procedures, radiotherapy courses and systemic therapies: eight
    SELECTs whatever their number. Audits the read."""
    user = require("clinical:read")
    conn = session.connection()
    patient = conn.execute(
        sa.select(
            Patient.id,
            Patient.clinic_id,
            Patient.mrn,
            Patient.given_name,
            Patient.family_name,
            Patient.birth_date,
            Patient.sex,
            Clinic.par_threshold_pct,
        )
        .join(Clinic, Clinic.id == Patient.clinic_id)
        .where(Patient.id == patient_id, Patient.deleted_at.is_(None), clinic_clause(Patient, user))
    ).first()
    if patient is None:
        raise not_found("patient")
    audit.record(session, "read", "patient", patient_id, clinic_id=patient.clinic_id)
    wound_ids = sa.select(Wound.id).where(
        Wound.patient_id == patient_id, Wound.deleted_at.is_(None)
    )
    return PatientRows(
        patient=patient,
        wounds=_wounds(conn, patient_id),
        assessments=by_wound(_assessments(conn, wound_ids)),
        procedures=_procedures(conn, wound_ids),
        courses=_courses(conn, patient_id),
        phases=_phases(conn, patient_id),
        therapies=_therapies(conn, patient_id),
        changes=_changes(conn, patient_id),
    )


def _wounds(conn: sa.Connection, patient_id: uuid.UUID) -> Sequence[Any]:
    return conn.execute(
        sa.select(
            Wound.id,
            Wound.body_site,
            Wound.laterality,
            Wound.etiology,
            Wound.onset_date,
            Wound.status,
            Wound.healed_on,
            Wound.radiotherapy_course_id,
            Wound.closures,
        )
        .where(Wound.patient_id == patient_id, Wound.deleted_at.is_(None))
        .order_by(Wound.onset_date, Wound.id)
    ).all()


def _assessments(conn: sa.Connection, wound_ids: sa.Select[Any]) -> Sequence[Any]:
    return conn.execute(
        sa.select(
            Assessment.wound_id,
            Assessment.assessed_at,
            Assessment.area_cm2,
            Assessment.closed,
            Assessment.area_method,
            Assessment.traced_area_cm2,
            Assessment.measured_area_cm2,
            Assessment.length_cm,
            Assessment.width_cm,
        )
        .where(Assessment.wound_id.in_(wound_ids), Assessment.deleted_at.is_(None))
        .order_by(Assessment.wound_id, Assessment.assessed_at, Assessment.created_at, Assessment.id)
    ).all()


def _procedures(conn: sa.Connection, wound_ids: sa.Select[Any]) -> Sequence[Any]:
    return conn.execute(
        sa.select(
            Procedure.id,
            Procedure.wound_id,
            Procedure.performed_at,
            Procedure.kind,
            Procedure.debridement_method,
            Procedure.prp_form,
        )
        .where(Procedure.wound_id.in_(wound_ids), Procedure.deleted_at.is_(None))
        .order_by(Procedure.performed_at, Procedure.id)
    ).all()


def _courses(conn: sa.Connection, patient_id: uuid.UUID) -> Sequence[Any]:
    return conn.execute(
        sa.select(
            RadiotherapyCourse.id,
            RadiotherapyCourse.target_site,
            RadiotherapyCourse.start_date,
            RadiotherapyCourse.end_date,
        )
        .where(
            RadiotherapyCourse.patient_id == patient_id,
            RadiotherapyCourse.deleted_at.is_(None),
        )
        .order_by(RadiotherapyCourse.start_date, RadiotherapyCourse.id)
    ).all()


def _phases(conn: sa.Connection, patient_id: uuid.UUID) -> dict[Any, list[Any]]:
    rows = conn.execute(
        sa.select(
            RadiotherapyPhase.course_id,
            RadiotherapyPhase.technique,
            RadiotherapyPhase.dose_per_fraction_cgy,
            RadiotherapyPhase.fractions,
        )
        .join(RadiotherapyCourse, RadiotherapyCourse.id == RadiotherapyPhase.course_id)
        .where(RadiotherapyCourse.patient_id == patient_id)
        .order_by(RadiotherapyPhase.course_id, RadiotherapyPhase.position)
    ).all()
    phases: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        phases[row[0]].append(row)
    return phases


def _therapies(conn: sa.Connection, patient_id: uuid.UUID) -> Sequence[Any]:
    return conn.execute(
        sa.select(
            SystemicTherapy.id,
            SystemicTherapy.agent,
            SystemicTherapy.anti_angiogenic,
            SystemicTherapy.dose,
            SystemicTherapy.dose_unit,
            SystemicTherapy.start_date,
            SystemicTherapy.stop_date,
        ).where(SystemicTherapy.patient_id == patient_id, SystemicTherapy.deleted_at.is_(None))
    ).all()


def _changes(conn: sa.Connection, patient_id: uuid.UUID) -> Sequence[Any]:
    return conn.execute(
        sa.select(
            TherapyChange.therapy_id,
            TherapyChange.effective_on,
            TherapyChange.kind,
            TherapyChange.dose,
            TherapyChange.reason,
            SystemicTherapy.agent,
            SystemicTherapy.dose_unit,
        )
        .join(SystemicTherapy, SystemicTherapy.id == TherapyChange.therapy_id)
        .where(
            SystemicTherapy.patient_id == patient_id,
            SystemicTherapy.deleted_at.is_(None),
            TherapyChange.deleted_at.is_(None),
        )
    ).all()


# -------------------------------------------------------------- section builders


def _patient(p: Any) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "clinic_id": str(p.clinic_id),
        "mrn": p.mrn,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "birth_date": p.birth_date.isoformat(),
        "sex": p.sex,
    }


def _wound(w: Any, assessments: Sequence[Any], rules: TrajectoryRules) -> dict[str, Any]:
    """A wound with its trajectory status (judged only as far as the status needs)."""
    healed_on = w.healed_on if w.status == "healed" else None
    traj = statuses_for(
        assessments,
        rules,
        healed_on,
        past_closures(w.closures),
        in_irradiated_field(w.radiotherapy_course_id, w.etiology),
    )
    return {
        "id": str(w.id),
        "body_site": w.body_site,
        "laterality": w.laterality,
        "etiology": w.etiology,
        "onset_date": w.onset_date.isoformat(),
        "wound_status": w.status,
        "healed_on": iso(w.healed_on),
        "radiotherapy_course_id": (
            str(w.radiotherapy_course_id) if w.radiotherapy_course_id else None
        ),
        "status": traj.status,
        "rule": traj.rule,
        "par_pct": traj.par_pct,
        "episode": traj.episode,
        "assessment_count": len(assessments),
        "latest": traj.latest,
    }


def _wound_events(w: Any) -> list[dict[str, Any]]:
    events = [
        {
            "on": w.onset_date.isoformat(),
            "kind": "wound_onset",
            "wound_id": str(w.id),
            "label": f"{w.body_site} wound opened",
        }
    ]
    # Earlier healings the wound was reopened after, then the current one.
    for closure in w.closures or ():
        events.append(
            {
                "on": closure["healed_on"],
                "kind": "wound_healed",
                "wound_id": str(w.id),
                "label": f"{w.body_site} wound healed",
            }
        )
        events.append(
            {
                "on": closure["reopened_at"][:10],
                "kind": "wound_reopened",
                "wound_id": str(w.id),
                "label": f"{w.body_site} wound reopened",
            }
        )
    if w.healed_on is not None:
        events.append(
            {
                "on": w.healed_on.isoformat(),
                "kind": "wound_healed",
                "wound_id": str(w.id),
                "label": f"{w.body_site} wound healed",
            }
        )
    return events


def _course(c: Any, phases: Sequence[Any]) -> dict[str, Any]:
    """A radiotherapy course with its planned total dose and phases."""
    return {
        "id": str(c.id),
        "target_site": c.target_site,
        "start_date": c.start_date.isoformat(),
        "end_date": iso(c.end_date),
        "total_dose_cgy": planned_total_dose(phases),
        "fractions": sum(p.fractions for p in phases),
        "phases": [
            {
                "technique": p.technique,
                "dose_per_fraction_cgy": p.dose_per_fraction_cgy,
                "fractions": p.fractions,
            }
            for p in phases
        ],
    }


def _course_events(c: Any, phases: Sequence[Any]) -> list[dict[str, Any]]:
    planned = planned_total_dose(phases)
    events = [
        {
            "on": c.start_date.isoformat(),
            "kind": "radiotherapy_start",
            "course_id": str(c.id),
            "label": (f"radiotherapy to {c.target_site} started ({planned:g} cGy planned)"),
        }
    ]
    if c.end_date is not None:
        events.append(
            {
                "on": c.end_date.isoformat(),
                "kind": "radiotherapy_end",
                "course_id": str(c.id),
                "label": f"radiotherapy to {c.target_site} ended",
            }
        )
    return events


def _procedure_event(p: Any) -> dict[str, Any]:
    label = p.kind
    if p.debridement_method:
        label += f" ({p.debridement_method.replace('_', ' ')})"
    if p.prp_form and p.kind != "prp":
        label += f" + PRP {p.prp_form}"
    return {
        "on": p.performed_at.date().isoformat(),
        "at": iso(p.performed_at),
        "kind": "procedure",
        "procedure_kind": p.kind,
        "procedure_id": str(p.id),
        "wound_id": str(p.wound_id),
        "label": label,
    }


def _therapy(t: Any) -> dict[str, Any]:
    return {
        "id": str(t.id),
        "agent": t.agent,
        "anti_angiogenic": t.anti_angiogenic,
        "dose": t.dose,
        "dose_unit": t.dose_unit,
        "start_date": t.start_date.isoformat(),
        "stop_date": iso(t.stop_date),
    }


def _therapy_events(t: Any) -> list[dict[str, Any]]:
    events = [
        {
            "on": t.start_date.isoformat(),
            "kind": "therapy_start",
            "therapy_id": str(t.id),
            "anti_angiogenic": t.anti_angiogenic,
            "label": f"{t.agent} {t.dose:g} {t.dose_unit} started",
        }
    ]
    if t.stop_date is not None:
        events.append(
            {
                "on": t.stop_date.isoformat(),
                "kind": "therapy_stop",
                "therapy_id": str(t.id),
                "anti_angiogenic": t.anti_angiogenic,
                "label": f"{t.agent} stopped",
            }
        )
    return events


def _change_event(ch: Any) -> dict[str, Any]:
    dose = f" to {ch.dose:g} {ch.dose_unit}" if ch.dose is not None else ""
    return {
        "on": ch.effective_on.isoformat(),
        "kind": "therapy_change",
        "therapy_id": str(ch.therapy_id),
        "change": ch.kind,
        "label": f"{ch.agent} {ch.kind.replace('_', ' ')}{dose}",
    }


def _timeline(rows: PatientRows) -> list[dict[str, Any]]:
    """Every dated event, by day (then time, then causal order). The sort is
    stable, so events that tie keep the order they are gathered in here."""
    events = [e for w in rows.wounds for e in _wound_events(w)]
    events += [e for c in rows.courses for e in _course_events(c, rows.phases[c.id])]
    events += [_procedure_event(p) for p in rows.procedures]
    events += [e for t in rows.therapies for e in _therapy_events(t)]
    events += [_change_event(ch) for ch in rows.changes]
    events.sort(key=lambda e: (e["on"], e.get("at") or "", _EVENT_ORDER.get(e["kind"], 5)))
    return events


def patient_summary(session: Session, patient_id: uuid.UUID) -> dict[str, Any]:
    """A patient's wounds with their statuses, radiotherapy courses with total
    dose, and a timeline of procedures, therapy changes and wound events."""
    rows = load_patient(session, patient_id)
    rules = trajectory_rules(rows.patient.par_threshold_pct)
    return {
        "patient": _patient(rows.patient),
        "wounds": [_wound(w, rows.assessments.get(w.id, ()), rules) for w in rows.wounds],
        "radiotherapy_courses": [_course(c, rows.phases[c.id]) for c in rows.courses],
        "systemic_therapies": [_therapy(t) for t in rows.therapies],
        "timeline": _timeline(rows),
    }
